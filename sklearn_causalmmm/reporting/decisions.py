"""The decisions of a back-test: what each channel brought, where budget should go.

:func:`decide` runs
:func:`~sklearn_causalmmm.analysis.contributions.channel_contributions`
and :func:`~sklearn_causalmmm.analysis.budget.optimize_budget` on the held-out
channel plan of a back-test
(:class:`~sklearn_causalmmm.reporting.holdout.HoldoutResult`), so the reports of
the command line's ``demo`` and ``fit`` can show the top channels by
contribution and the forecast gain of a reallocated budget.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_causalmmm.analysis.budget import BudgetAllocation, optimize_budget
from sklearn_causalmmm.analysis.contributions import (
    MAX_SHAPLEY_CHANNELS,
    channel_contributions,
    top_channels,
)

__all__ = [
    "BUDGET_BOUNDS",
    "Decisions",
    "decide",
    "decision_figures",
    "plan_decisions",
]

#: Multipliers of a channel's planned spend the reports' budget reallocation
#: allows: far from the spend the model was fitted on, a forecast extrapolates.
BUDGET_BOUNDS = (0.5, 1.5)
#: Exchange rounds of the reports' budget reallocation (each forecasts the
#: plan once per channel, plus once).
BUDGET_ROUNDS = 40


@dataclass
class Decisions:
    """Contributions and a budget reallocation over a channel plan.

    Attributes
    ----------
    spend_columns : list of str
        The advertising channels analysed (funnel nodes stay as planned).
    contributions : DataFrame
        Contributions per shop and channel: Shapley values, or one channel
        off at a time beyond
        :data:`~sklearn_causalmmm.analysis.contributions.MAX_SHAPLEY_CHANNELS`
        channels (see
        :func:`~sklearn_causalmmm.analysis.contributions.channel_contributions`).
    ranking : DataFrame
        Channels by total contribution (see
        :func:`~sklearn_causalmmm.analysis.contributions.top_channels`).
    budget : BudgetAllocation
        Each shop's budget reallocated within ``bounds``.
    bounds : (float, float)
        The multipliers of a channel's planned spend the reallocation allowed.
    period : str
        What the plan covers, for the summary (e.g. "the held-out days").
    costs : dict of str to float or None
        Money per unit of each spend column (None: every column is spend in
        one currency, as assumed when no costs were given).
    target : str
        The forecast target's name, used in every label.
    currency : str or None
        Shown before money (None: plain numbers).
    """

    spend_columns: list
    contributions: pd.DataFrame
    ranking: pd.DataFrame
    budget: BudgetAllocation
    bounds: tuple = BUDGET_BOUNDS
    period: str = "the plan"
    costs: dict | None = None
    target: str = "gmv"
    currency: str | None = None

    def money(self, value: float) -> str:
        """``value`` as money: ``"EUR 1,234"``, or ``"1,234"`` without a currency."""
        return _money(value, self.currency)

    def _cost_of(self, channel) -> float:
        return 1.0 if self.costs is None else float(self.costs[channel])

    def unit_check(self):
        """:func:`~sklearn_causalmmm.analysis.trust.check_units` of the budget."""
        from sklearn_causalmmm.analysis.trust import check_units

        return check_units(
            self.spend_columns,
            self.costs if self.costs is not None else None,
            self.contributions["spend"].unstack("channel"),
        )

    def recommendation(self) -> str:
        """What to do with the budget, in one or two sentences for a reader.

        The reallocation and its forecast gain with its interval, or "no
        change" when the gain lies within the model's uncertainty.
        """
        budget = self.budget
        gain = f"{budget.gain:+,.0f} {self.target} ({budget.uplift:+.1%})"
        interval = ""
        if budget.gain_interval is not None:
            low, high = budget.gain_interval
            interval = f", {budget.coverage:.0%} interval {low:+,.0f} to {high:+,.0f}"
        moves = [
            f"{channel} {_change(change)}"
            for channel, change in self.budget.spend_by_channel()["change"].items()
            if np.isfinite(change) and abs(change) >= 0.005
        ]
        if budget.no_change_recommended:
            return (
                f"No change recommended: the best reallocation of the same budget "
                f"over {self.period} forecasts {gain}{interval}, within the "
                "model's uncertainty."
            )
        if not moves:
            return (
                f"No change recommended: the plan is already the best the model "
                f"finds over {self.period} ({gain})."
            )
        lead = (
            "Reallocate"
            if budget.no_change_recommended is False
            else ("Reallocation (no interval: the model cannot tell its uncertainty)")
        )
        return (
            f"{lead} within each shop's budget over {self.period}: "
            f"{', '.join(moves)}; forecast {gain}{interval}."
        )

    @property
    def method(self) -> str:
        """How the contributions were computed: ``"shapley"`` or ``"removal"``."""
        return self.contributions.attrs["method"]

    def summary_lines(self) -> list[str]:
        """The decisions as plain text lines, for a terminal summary."""
        width = max(len(str(c)) for c in self.ranking.index)
        method = "Shapley" if self.method == "shapley" else "one channel off at a time"
        lines = [
            f"Top channels by contribution over {self.period} ({method}; share "
            f"of forecast {self.target}, {self.target} per unit of "
            f"{'cost' if self.costs else 'spend'}):"
        ]
        for rank, (channel, row) in enumerate(self.ranking.iterrows(), start=1):
            roi = row["roi"] / self._cost_of(channel)
            lines.append(
                f"  {rank}. {channel!s:<{width}}  {row['share']:6.1%}  {_ratio(roi)}"
            )
        lower, upper = self.bounds
        moves = ", ".join(
            f"{channel} {_change(change)}"
            for channel, change in self.budget.spend_by_channel()["change"].items()
        )
        lines.append(
            f"Budget reallocated per shop ({lower:g}x-{upper:g}x per channel, same "
            f"total): forecast {self.target} {self.budget.uplift:+.1%} ({moves})"
        )
        lines.append(self.recommendation())
        return lines

    def ranking_table(self) -> pd.DataFrame:
        """:attr:`ranking` formatted for a report.

        Contributions (total, and ``direct``/``mediated`` when the
        contributions have them) with their interval when the contributions
        carry ``contribution_lower``/``contribution_upper``; ROI per unit of
        cost (of spend without costs).
        """
        target, ranking = self.target, self.ranking
        channels = list(ranking.index)
        sums = self.contributions.groupby(level=1, sort=False).sum(
            numeric_only=True, min_count=1
        )
        table = {"channel": [str(c) for c in channels]}
        cost = np.array([self._cost_of(c) for c in channels])
        money = ranking["spend"].to_numpy() * cost
        if self.costs is not None:
            table["volume"] = [f"{v:,.0f}" for v in ranking["spend"]]
        table["cost" if self.costs is not None else "spend"] = [
            self.money(v) for v in money
        ]
        table[f"contribution ({target})"] = [
            f"{v:,.0f}" for v in ranking["contribution"]
        ]
        bounds = _interval_columns(sums)
        if bounds is not None:
            low, high = (sums.loc[channels, c].to_numpy() for c in bounds)
            table["interval"] = [
                f"{a:,.0f} to {b:,.0f}" for a, b in zip(low, high, strict=True)
            ]
        # the split says something only where effects run through the funnel
        mediated = "mediated" in sums and bool(sums["mediated"].abs().sum() > 0)
        for part in ("direct", "mediated"):
            if mediated:
                table[part] = [f"{v:,.0f}" for v in sums.loc[channels, part]]
        table[f"share of forecast {target}"] = [f"{v:.1%}" for v in ranking["share"]]
        per = "cost" if self.costs is not None else "spend"
        with np.errstate(divide="ignore", invalid="ignore"):
            roi = ranking["contribution"].to_numpy() / money
        table[f"{target} per unit of {per}"] = [_ratio(v) for v in roi]
        if bounds is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                table["ROI interval"] = [
                    f"{_ratio(a / m)} to {_ratio(b / m)}"
                    for a, b, m in zip(low, high, money, strict=True)
                ]
        return pd.DataFrame(table)

    def spend_table(self) -> pd.DataFrame:
        """Planned and reallocated spend per channel, formatted for a report."""
        spend = self.budget.spend_by_channel()
        return pd.DataFrame(
            {
                "channel": [str(c) for c in spend.index],
                "planned spend": [self.money(v) for v in spend["planned_spend"]],
                "reallocated spend": [self.money(v) for v in spend["optimized_spend"]],
                "change": [_change(v) for v in spend["change"]],
            }
        )


def _interval_columns(frame: pd.DataFrame) -> tuple[str, str] | None:
    """The contribution interval's columns, if the contributions have one."""
    for low, high in (
        ("contribution_lower", "contribution_upper"),
        ("lower", "upper"),
    ):
        # a model that cannot sample its forecasts leaves them NaN: no interval
        if low in frame and high in frame and frame[[low, high]].notna().any().all():
            return low, high
    return None


def _ratio(value: float) -> str:
    """A return per unit: two decimals, more below 0.1 (e.g. per impression)."""
    if not np.isfinite(value):
        return "—"
    if value == 0 or abs(value) >= 0.1:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def _money(value: float, currency: str | None) -> str:
    if not np.isfinite(value):
        return "—"
    return f"{currency} {value:,.0f}" if currency else f"{value:,.0f}"


def _change(value: float) -> str:
    """A relative change as ``+12%``; a dash without planned spend."""
    return "—" if not np.isfinite(value) else f"{value:+.0%}"


def decide(
    result,
    spend_columns: Sequence[str] | None = None,
    *,
    costs: Mapping[str, float] | None = None,
    currency: str | None = None,
    max_rounds: int = BUDGET_ROUNDS,
) -> Decisions:
    """Contributions and a budget reallocation over a back-test's held-out plan.

    Parameters
    ----------
    result : HoldoutResult
        A back-test from :func:`~sklearn_causalmmm.reporting.holdout.fit_holdout`.
    spend_columns : sequence of str, default=None
        The advertising channels among ``result.channel_columns``; None takes
        them all. Funnel nodes (page views, clicks) should be left out: they
        are not spend, and keep their observed values in every scenario.
    costs : mapping of str to float, default=None
        Money per unit of each spend column (e.g. the cost per thousand
        impressions / 1000); None treats every spend column as money in one
        currency, and the trust checks warn when the names or scales of the
        columns say otherwise.
    currency : str, default=None
        Shown before money in the report (None: plain numbers).
    max_rounds : int, default=BUDGET_ROUNDS
        Passed to :func:`~sklearn_causalmmm.analysis.budget.optimize_budget`.

    Returns
    -------
    decisions : Decisions
    """
    spend_columns = list(spend_columns or result.channel_columns)
    unknown = [c for c in spend_columns if c not in result.channel_columns]
    if unknown:
        raise ValueError(
            f"spend columns {unknown} are not channel columns of the model "
            f"({', '.join(result.channel_columns)})."
        )
    return plan_decisions(
        result.model,
        result.plan,
        spend_columns,
        costs=costs,
        max_rounds=max_rounds,
        period=f"the held-out {getattr(result, 'time_unit', 'day')}s",
        target=getattr(result, "target", "gmv"),
        currency=currency,
    )


def plan_decisions(
    model,
    X_plan: pd.DataFrame,
    spend_columns: Sequence[str],
    *,
    bounds: tuple[float, float] | None = BUDGET_BOUNDS,
    max_rounds: int = BUDGET_ROUNDS,
    period: str = "the plan",
    costs: Mapping[str, float] | None = None,
    target: str = "gmv",
    currency: str | None = None,
    **constraints,
) -> Decisions:
    """Contributions and a budget reallocation over any channel plan.

    Parameters
    ----------
    model : fitted regressor
        Only ``model.predict`` is called.
    X_plan : DataFrame
        A channel plan ``model.predict`` accepts (long or ``(shop, time)``).
    spend_columns : sequence of str
        The advertising channels of the plan.
    bounds : (float, float), default=BUDGET_BOUNDS
    max_rounds : int, default=BUDGET_ROUNDS
        Passed to :func:`~sklearn_causalmmm.analysis.budget.optimize_budget`.
    period : str, default="the plan"
        How the summary names what the plan covers.
    costs : mapping of str to float, default=None
        Money per unit of each spend column; None: they are money already.
    target : str, default="gmv"
        The target's name, for the labels.
    currency : str, default=None
        Shown before money (None: plain numbers).
    **constraints
        Further keyword arguments of
        :func:`~sklearn_causalmmm.analysis.budget.optimize_budget`
        (``objective``, ``budget``, ``min_spend``, ``max_spend``, ``fixed``,
        ``target``'s forecast goal as ``goal``, ``min_roi``, ...).

    Returns
    -------
    decisions : Decisions
    """
    spend_columns = list(spend_columns)
    # Exact Shapley values cost 2**k forecasts; beyond that, one channel off
    # at a time (k + 1 forecasts).
    method = "shapley" if len(spend_columns) <= MAX_SHAPLEY_CHANNELS else "removal"
    contributions = channel_contributions(model, X_plan, spend_columns, method=method)
    if "goal" in constraints:
        constraints["target"] = constraints.pop("goal")
    # Without costs the spend columns are taken as money; the trust checks
    # (Decisions.unit_check) warn when their names or scales say otherwise.
    budget = optimize_budget(
        model,
        X_plan,
        spend_columns,
        costs=dict(costs) if costs is not None else "money",
        bounds=bounds,
        max_rounds=max_rounds,
        random_state=0,
        **constraints,
    )
    return Decisions(
        spend_columns=spend_columns,
        contributions=contributions,
        ranking=top_channels(contributions),
        budget=budget,
        bounds=(0.0, np.inf) if bounds is None else tuple(float(b) for b in bounds),
        period=period,
        costs=dict(costs) if costs is not None else None,
        target=target,
        currency=currency,
    )


def decision_figures(
    decisions: Decisions,
    output: str | PathLike,
    *,
    held: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
    n_shops: int | None = None,
) -> dict[str, Path]:
    """The contributions and budget figures, as ``{caption: PNG path}``.

    Parameters
    ----------
    decisions : Decisions
    output : str or path-like
        Folder for ``contributions.png`` and ``budget.png``.
    held : sequence of str, default=()
        Model inputs that stay as planned in every scenario (funnel nodes),
        named in the captions.
    aliases : mapping of str to str, default=None
        Short labels of the channels in the figures (see
        :func:`~sklearn_causalmmm.reporting.holdout.figure_aliases`).
    n_shops : int, default=None
        Shops in the data, for the captions' "12 of 40 shops".

    Returns
    -------
    figures : dict of caption to Path
    """
    from dataclasses import replace

    from sklearn_causalmmm.reporting.plots import plot_budget, plot_contributions

    output = Path(output)
    aliases = dict(aliases or {})
    held_note = f" {', '.join(held)} stay at their observed values." if held else ""
    lower, upper = decisions.bounds
    target = decisions.target
    contributions = decisions.contributions
    allocation = decisions.budget.allocation
    if aliases:
        from sklearn_causalmmm.reporting.holdout import _rename_channels

        contributions = _rename_channels(contributions, aliases)
        allocation = _rename_channels(allocation, aliases)
    budget = replace(decisions.budget, allocation=allocation)
    shops = contributions.index.get_level_values(0).nunique()
    n_shops = n_shops or shops
    shown = min(12, shops)
    per = "cost" if decisions.costs else "spend"
    return {
        f"Contributions over {decisions.period}: each shop's forecast {target} "
        f"split into the base (no advertising) and each channel's contribution "
        f"(left, {shown} of {n_shops} shops), and each channel's {target} per "
        f"unit of spend across the {shops} shops (right).{held_note}": (
            plot_contributions(
                contributions, output / "contributions.png", target=target
            )
        ),
        f"Budget reallocation: each shop's {per} over {decisions.period} moved "
        f"between channels ({lower:g}x to {upper:g}x of the plan, same total) "
        f"to raise the forecast {target}; {per} per channel summed over the "
        f"{shops} shops (left) and the gain per shop (right).": plot_budget(
            budget, output / "budget.png", target=target
        ),
    }

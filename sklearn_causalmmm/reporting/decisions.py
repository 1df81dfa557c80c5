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

from collections.abc import Sequence
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
    """

    spend_columns: list
    contributions: pd.DataFrame
    ranking: pd.DataFrame
    budget: BudgetAllocation
    bounds: tuple = BUDGET_BOUNDS
    period: str = "the plan"

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
            "of forecast GMV, GMV per unit of spend):"
        ]
        for rank, (channel, row) in enumerate(self.ranking.iterrows(), start=1):
            lines.append(
                f"  {rank}. {channel!s:<{width}}  {row['share']:6.1%}  {row['roi']:.2f}"
            )
        lower, upper = self.bounds
        moves = ", ".join(
            f"{channel} {_change(change)}"
            for channel, change in self.budget.spend_by_channel()["change"].items()
        )
        lines.append(
            f"Budget reallocated per shop ({lower:g}x-{upper:g}x per channel, same "
            f"total): forecast GMV {self.budget.uplift:+.1%} ({moves})"
        )
        return lines

    def ranking_table(self) -> pd.DataFrame:
        """:attr:`ranking` formatted for a report."""
        return pd.DataFrame(
            {
                "channel": [str(c) for c in self.ranking.index],
                "spend": [f"{v:,.0f}" for v in self.ranking["spend"]],
                "contribution (GMV)": [
                    f"{v:,.0f}" for v in self.ranking["contribution"]
                ],
                "share of forecast GMV": [f"{v:.1%}" for v in self.ranking["share"]],
                "GMV per unit of spend": [f"{v:.2f}" for v in self.ranking["roi"]],
            }
        )

    def spend_table(self) -> pd.DataFrame:
        """Planned and reallocated spend per channel, formatted for a report."""
        spend = self.budget.spend_by_channel()
        return pd.DataFrame(
            {
                "channel": [str(c) for c in spend.index],
                "planned spend": [f"{v:,.0f}" for v in spend["planned_spend"]],
                "reallocated spend": [f"{v:,.0f}" for v in spend["optimized_spend"]],
                "change": [_change(v) for v in spend["change"]],
            }
        )


def _change(value: float) -> str:
    """A relative change as ``+12%``; a dash without planned spend."""
    return "—" if not np.isfinite(value) else f"{value:+.0%}"


def decide(
    result,
    spend_columns: Sequence[str] | None = None,
    *,
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
        max_rounds=max_rounds,
        period="the held-out days",
    )


def plan_decisions(
    model,
    X_plan: pd.DataFrame,
    spend_columns: Sequence[str],
    *,
    bounds: tuple[float, float] = BUDGET_BOUNDS,
    max_rounds: int = BUDGET_ROUNDS,
    period: str = "the plan",
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

    Returns
    -------
    decisions : Decisions
    """
    spend_columns = list(spend_columns)
    # Exact Shapley values cost 2**k forecasts; beyond that, one channel off
    # at a time (k + 1 forecasts).
    method = "shapley" if len(spend_columns) <= MAX_SHAPLEY_CHANNELS else "removal"
    contributions = channel_contributions(model, X_plan, spend_columns, method=method)
    # the columns the command line calls spend are money: they add up
    budget = optimize_budget(
        model,
        X_plan,
        spend_columns,
        costs="money",
        bounds=bounds,
        max_rounds=max_rounds,
    )
    return Decisions(
        spend_columns=spend_columns,
        contributions=contributions,
        ranking=top_channels(contributions),
        budget=budget,
        bounds=tuple(float(b) for b in bounds),
        period=period,
    )


def decision_figures(
    decisions: Decisions, output: str | PathLike, *, held: Sequence[str] = ()
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

    Returns
    -------
    figures : dict of caption to Path
    """
    from sklearn_causalmmm.reporting.plots import plot_budget, plot_contributions

    output = Path(output)
    held_note = f" {', '.join(held)} stay at their observed values." if held else ""
    lower, upper = decisions.bounds
    return {
        "Contributions over the held-out days: each shop's forecast GMV split "
        "into the base (no advertising) and each channel's Shapley contribution "
        "(left), and each channel's return on spend across shops (right)."
        f"{held_note}": plot_contributions(
            decisions.contributions, output / "contributions.png"
        ),
        "Budget reallocation: each shop's spend over the held-out days moved "
        f"between channels ({lower:g}x to {upper:g}x of the plan, same total) "
        "to raise the forecast GMV; spend per channel (left) and the gain per "
        "shop (right).": plot_budget(decisions.budget, output / "budget.png"),
    }

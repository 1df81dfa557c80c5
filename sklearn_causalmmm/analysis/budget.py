"""Budget optimisation: a plan an advertiser can execute, within its constraints.

:func:`optimize_budget` changes a channel plan's spend to get the most out of
the model's forecast, where every constraint of the plan holds exactly:

* **what moves**: each shop's spend per channel over the whole plan (the
  plan's timing kept), or per step, shop and channel (``per_step=True``: a
  period-by-period plan). The forecast continues each shop's fitted history,
  so the carryover that history has built is counted, and a plan that
  spends before a seasonal peak gets the credit the model gives it;
* **budgets**, in money through ``costs``: over all shops, per shop, per
  group of shops, per calendar period; **bounds**: a maximum relative change
  against the plan, minimum and maximum money per channel or per shop and
  channel, fixed channels;
* **objectives**: the largest forecast target for the budgets
  (``"target"``), the cheapest plan whose forecast reaches a target
  (``"cost"``), the largest forecast whose return on spend stays above a
  minimum (``"roi"``).

The solver is an augmented Lagrangian with L-BFGS-B on the model's forecast
(see :mod:`sklearn_causalmmm.analysis._optimizer`), with gradients through the
torch model when the model has ``plan_gradient``
(:meth:`~sklearn_causalmmm.CausalMMMRegressor.plan_gradient`), else by finite
differences batched over shops; a linear programme then puts the plan exactly
on its budgets and bounds. When the model can sample its forecasts, the gain
comes with an interval, and a gain within it is reported as "no change
recommended".
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from sklearn_causalmmm.analysis._gain_interval import gain_interval
from sklearn_causalmmm.analysis._optimizer import (
    LinearRows,
    minimize_augmented,
    nearest_feasible,
)
from sklearn_causalmmm.analysis._spend_plan import SpendPlan, channel_costs

__all__ = ["OBJECTIVES", "BudgetAllocation", "optimize_budget"]

#: What :func:`optimize_budget` can aim for.
OBJECTIVES = ("target", "cost", "roi")

#: Relative slack allowed when checking the returned plan against its
#: constraints: float rounding of sums of money, nothing more.
_CHECK_TOLERANCE = 1e-9
#: Attempts at pushing the plan inside a forecast constraint that the final
#: repair onto the budgets left a hair outside.
_MARGIN_ATTEMPTS = 4


@dataclass
class BudgetAllocation:
    """The result of :func:`optimize_budget`.

    Money is the plan's channel values times their ``costs`` (the values
    themselves for spend columns).

    Attributes
    ----------
    allocation : DataFrame
        Index ``(shop, channel)``; columns ``planned_spend`` and
        ``optimized_spend`` (money over the plan), ``factor`` (their ratio;
        1 for a channel without spend in either, NaN for one that gets
        spend it had not planned) and ``change`` (optimized - planned).
    gmv : DataFrame
        Index: shop; columns ``planned`` and ``optimized`` (total forecast
        target over the plan) and ``uplift`` (optimized / planned - 1).
    optimized_plan : DataFrame
        ``X_plan`` with the optimized spend, in its layout and units, ready
        for ``model.predict``.
    n_rounds : int
        Solver rounds run.
    converged : bool
        Whether the solver met its tolerance within ``max_rounds`` (the
        constraints hold either way).
    schedule : DataFrame or None
        Index ``(shop, step, channel)``; ``planned_spend`` and
        ``optimized_spend`` per step.
    constraints : DataFrame or None
        One row per budget (and per forecast constraint): ``lower``,
        ``upper``, and the ``planned`` and ``optimized`` values.
    objective : str
        ``"target"``, ``"cost"`` or ``"roi"``.
    gain_interval : (float, float) or None
        Interval of :attr:`gain` at ``coverage``; None when the model cannot
        tell its uncertainty (``interval_method`` None).
    interval_method : {"samples", "bands"} or None
        ``"samples"``: paired forecast draws of both plans (exact);
        ``"bands"``: from the forecast bands of each plan (conservative).
    coverage : float or None
    """

    allocation: pd.DataFrame
    gmv: pd.DataFrame
    optimized_plan: pd.DataFrame
    n_rounds: int
    converged: bool
    schedule: pd.DataFrame | None = None
    constraints: pd.DataFrame | None = None
    objective: str = "target"
    gain_interval: tuple[float, float] | None = None
    interval_method: str | None = None
    coverage: float | None = None

    def spend_by_channel(self) -> pd.DataFrame:
        """Planned and optimized spend per channel summed over shops, and the change.

        ``change`` is optimized / planned - 1 (NaN for a channel without
        planned spend).
        """
        return _with_change(
            self.allocation.groupby(level=1, sort=False)[
                ["planned_spend", "optimized_spend"]
            ].sum(),
            "channel",
        )

    def spend_by_step(self) -> pd.DataFrame:
        """Planned and optimized spend per step and channel, summed over shops.

        Index ``(step, channel)``; columns as :meth:`spend_by_channel`.
        """
        if self.schedule is None:
            raise ValueError("this allocation has no schedule (spend per step).")
        spend = self.schedule.groupby(level=["step", "channel"], sort=False)[
            ["planned_spend", "optimized_spend"]
        ].sum()
        return _with_change(spend, ["step", "channel"])

    @property
    def gain(self) -> float:
        """Total forecast target of the optimized plan minus the plan's."""
        return float(self.gmv["optimized"].sum() - self.gmv["planned"].sum())

    @property
    def uplift(self) -> float:
        """Total optimized / planned forecast target over all shops, minus 1."""
        return float(self.gmv["optimized"].sum() / self.gmv["planned"].sum() - 1.0)

    @property
    def no_change_recommended(self) -> bool | None:
        """Whether the gain is within the model's uncertainty (its interval holds 0).

        None without an interval, and for ``objective="cost"``, whose point
        is to spend less for the same forecast, not to forecast more.
        """
        if self.gain_interval is None or self.objective == "cost":
            return None
        return bool(self.gain_interval[0] <= 0.0)

    @property
    def recommendation(self) -> str:
        """One sentence for a report: what to do, and how sure the model is."""
        spend = self.allocation[["planned_spend", "optimized_spend"]].sum()
        money = spend["optimized_spend"] - spend["planned_spend"]
        if abs(money) <= 1e-9 * max(abs(spend["planned_spend"]), 1.0):
            money = 0.0  # the same total, give or take the sum's last bits
        what = (
            f"forecast {self.gain:+,.4g} ({self.uplift:+.1%}) for {money:+,.4g} spend"
        )
        if self.gain_interval is None:
            return (
                f"Optimized plan: {what}; the model cannot sample its forecasts, "
                "so the gain has no interval."
            )
        low, high = self.gain_interval
        band = f"{self.coverage:.0%} interval of the gain {low:+,.4g} to {high:+,.4g}"
        if self.no_change_recommended:
            return (
                f"No change recommended: {what}, within the model's uncertainty "
                f"({band})."
            )
        return f"Change recommended: {what} ({band})."


def _with_change(spend: pd.DataFrame, names) -> pd.DataFrame:
    spend.index.names = names if isinstance(names, list) else [names]
    with np.errstate(divide="ignore", invalid="ignore"):
        spend["change"] = spend["optimized_spend"] / spend["planned_spend"] - 1.0
    return spend


def optimize_budget(
    model,
    X_plan: pd.DataFrame,
    channels: Sequence[str],
    *,
    objective: str = "target",
    budget: float | None = None,
    shop_budgets: Mapping[Hashable, float] | str | None = None,
    groups: Mapping[Hashable, Hashable] | None = None,
    group_budgets: Mapping[Hashable, float] | None = None,
    periods: str | int | Sequence | None = None,
    period_budgets: Mapping[Hashable, float] | None = None,
    costs: Mapping[str, float] | str | None = None,
    bounds: tuple[float, float] | None = (0.5, 1.5),
    min_spend: Mapping | None = None,
    max_spend: Mapping | None = None,
    fixed: Sequence = (),
    per_step: bool = False,
    keep_flighting: bool = True,
    target: float | None = None,
    min_roi: float | None = None,
    coverage: float = 0.8,
    n_samples: int = 200,
    max_rounds: int = 50,
    random_state=None,
) -> BudgetAllocation:
    """Optimise a channel plan's spend for the model's forecast, within constraints.

    Parameters
    ----------
    model : fitted regressor
        Any regressor of the package's forecasting contract (e.g.
        :class:`~sklearn_causalmmm.CausalMMMRegressor`) fitted on the plan's
        shops. Its ``predict`` forecasts each candidate plan;
        ``plan_gradient``, ``predict_samples`` and ``predict_interval`` are
        used when it has them.
    X_plan : DataFrame
        The planned spend, in a layout ``model.predict`` accepts (long with
        the shop column ``model.shop_column``, or a ``(shop, time)``
        MultiIndex). A plan that starts right after the fitted history
        continues it, carryover included. Never modified; columns not in
        ``channels`` (funnel nodes, controls) keep their planned values.
    channels : sequence of str
        The channel columns whose spend may move.
    objective : {"target", "cost", "roi"}, default="target"
        ``"target"``: the largest total forecast, each budget spent exactly.
        ``"cost"``: the least money whose total forecast reaches ``target``;
        budgets are caps. ``"roi"``: the largest total forecast whose return
        on spend, (forecast - forecast with ``channels`` off) / money, is at
        least ``min_roi``; budgets are caps.
    budget : float, default=None
        Money over all shops and the whole plan.
    shop_budgets : mapping of shop to float, or "plan", default=None
        Money per shop; ``"plan"``: each shop's planned money. With no budget
        of any kind and ``objective="target"``, each shop keeps its planned
        money (``"plan"``).
    groups : mapping of shop to group, default=None
        Each shop's group (region, brand, ...) for ``group_budgets``; shops
        left out belong to no group.
    group_budgets : mapping of group to float, default=None
        Money per group of shops.
    periods : str, int or sequence, default=None
        Calendar periods of the plan's steps for ``period_budgets``: a pandas
        period frequency (``"M"`` for months, ``"W"``, ``"Q"``) applied to the
        plan's dates; an int, blocks of that many steps (labelled 0, 1, ...);
        or one label per step.
    period_budgets : mapping of period to float, default=None
        Money per period over all shops; keys as the labels of ``periods``
        (for months, ``"2024-03"`` or ``pd.Period("2024-03")``). Without
        ``per_step`` the plan's timing is kept, so a period budget only limits
        how much the channels that spend in it can grow.
    costs : mapping of str to float, or "money", default=None
        Money per unit of each channel's column: 1.0 for spend, the cost per
        thousand / 1000 for impressions. ``"money"``: every column is spend in
        one currency. Required with more than one channel: budgets, costs and
        returns add channels up, and columns of different units must not be
        summed.
    bounds : (float, float) or None, default=(0.5, 1.5)
        Lowest and highest multiple of the planned spend of each thing that
        moves (a shop's channel over the plan, or with ``per_step`` one step
        of it): far from the spend the model was fitted on, its forecast is
        an extrapolation. None: no relative limit.
    min_spend, max_spend : mapping, default=None
        Money over the plan, per channel (key: the channel) or per shop and
        channel (key: ``(shop, channel)``, which wins over the channel's).
    fixed : sequence, default=()
        Channels (or ``(shop, channel)`` pairs) kept exactly as planned,
        whatever ``bounds``, ``min_spend`` and ``max_spend`` say. Their spend
        still counts in the budgets.
    per_step : bool, default=False
        Choose spend per step, shop and channel (a period-by-period plan)
        instead of scaling each shop's channel over the whole plan.
    keep_flighting : bool, default=True
        A channel off in the plan (no spend in a step with ``per_step``, or
        over the whole plan) stays off. False lets the optimiser switch it on
        (with ``per_step=False``, new spend is spread evenly over the steps).
        Flighting is not chosen on/off by the optimiser itself: a channel's
        spend in a step is continuous, and may be driven to its lower bound.
    target : float, default=None
        With ``objective="cost"``: the total forecast to reach over all shops
        and steps; None: the plan's own forecast (the same result for less).
    min_roi : float, default=None
        With ``objective="roi"``: the least forecast target per unit of money.
    coverage : float, default=0.8
        Coverage of the gain's interval.
    n_samples : int, default=200
        Forecast draws for the interval (models with ``predict_samples``).
    max_rounds : int, default=50
        Most solver rounds (each one L-BFGS-B run on the forecast).
    random_state : int, RandomState instance or None, default=None
        Seeds the forecast draws of the interval (the optimisation itself is
        deterministic).

    Returns
    -------
    result : BudgetAllocation
        Every budget and bound holds in ``result.optimized_plan`` to float
        rounding, and so does a forecast constraint (``target``,
        ``min_roi``) by the model's own forecast. When the plan itself meets
        every constraint, the result is never worse than it (per shop when no
        budget spans several shops).

    Raises
    ------
    ValueError
        On unknown channels, shops, groups or periods; channels of unknown
        units without ``costs``; budgets and bounds that cannot all hold (the
        message names the first one that cannot); a ``target`` or
        ``min_roi`` that no plan within them reaches; bad settings.

    See Also
    --------
    sklearn_causalmmm.analysis.contributions.channel_contributions :
        What each channel's plan brings.
    sklearn_causalmmm.analysis.response.response_curves :
        The forecast as one channel's spend is scaled.

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.analysis.budget import optimize_budget
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> frame = make_causal_mmm(
    ...     n_shops=3, n_steps=40, as_frame=True, random_state=0).frame
    >>> past = frame[frame["date"] < "2024-02-03"]
    >>> plan = frame[frame["date"] >= "2024-02-03"].drop(columns="gmv")
    >>> model = CausalMMMRegressor(
    ...     hidden=4, max_epochs=1, context_columns=["context_0", "context_1"],
    ...     random_state=0).fit(past.drop(columns="gmv"), past["gmv"])
    >>> channels = ["search", "display", "brand"]
    >>> total = float(plan[channels].sum().sum())
    >>> result = optimize_budget(
    ...     model, plan, channels, costs="money", budget=total, per_step=True)
    >>> bool(abs(result.allocation["optimized_spend"].sum() - total) < 1e-6 * total)
    True
    >>> bool(result.gain >= 0.0)
    True
    """
    _check_settings(objective, target, min_roi, coverage, n_samples, max_rounds)
    space = SpendPlan(model, X_plan, channels, channel_costs(channels, costs), per_step)
    lower, upper = _variable_bounds(
        space, bounds, keep_flighting, fixed, min_spend, max_spend
    )
    if (
        objective == "target"
        and budget is None
        and shop_budgets is None
        and group_budgets is None
        and period_budgets is None
    ):
        shop_budgets = "plan"
    rows, names = _budget_rows(
        space,
        exact=objective == "target",
        budget=budget,
        shop_budgets=shop_budgets,
        groups=groups,
        group_budgets=group_budgets,
        periods=periods,
        period_budgets=period_budgets,
        money_bounds=_money_bounds(space, min_spend, max_spend) if per_step else {},
    )
    _check_row_ranges(rows, names, lower, upper)
    planned = space.planned_x
    x_scale = np.where(planned > 0, planned, _typical(planned, upper))
    start = nearest_feasible(planned, lower, upper, rows, x_scale)
    if start is None:
        raise ValueError(
            "the budgets and bounds cannot all hold at once ("
            + ", ".join(names)
            + "): loosen a budget, bounds, min_spend or max_spend."
        )

    problem = _Problem(space, start, lower, upper, rows, objective, target, min_roi)
    solution, n_rounds, converged = problem.solve(max_rounds)
    planned_totals = space.forecast(space.planned_x)
    x, totals = problem.never_worse(solution, planned_totals)
    optimized_plan = space.plan(x)
    interval = gain_interval(
        model,
        X_plan,
        optimized_plan,
        coverage=coverage,
        n_samples=n_samples,
        random_state=random_state,
    )
    return BudgetAllocation(
        allocation=_allocation_table(space, x, bounds),
        gmv=_target_table(space, planned_totals, totals),
        optimized_plan=optimized_plan,
        n_rounds=n_rounds,
        converged=converged,
        schedule=_schedule_table(space, x),
        constraints=problem.constraint_table(names, x, planned_totals, totals),
        objective=objective,
        gain_interval=None if interval is None else (interval.lower, interval.upper),
        interval_method=None if interval is None else interval.method,
        coverage=None if interval is None else float(coverage),
    )


# -- settings -------------------------------------------------------------------------


def _check_settings(objective, target, min_roi, coverage, n_samples, max_rounds):
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}.")
    if target is not None and objective != "cost":
        raise ValueError(
            f"target={target!r} is the forecast to reach with objective='cost'; "
            f"objective is {objective!r}."
        )
    if target is not None and not np.isfinite(target):
        raise ValueError(f"target must be finite, got {target!r}.")
    if objective == "roi":
        if min_roi is None or not np.isfinite(min_roi) or min_roi < 0:
            raise ValueError(
                "objective='roi' needs min_roi, the least forecast target per unit "
                f"of money (finite, >= 0); got {min_roi!r}."
            )
    elif min_roi is not None:
        raise ValueError(
            f"min_roi={min_roi!r} goes with objective='roi'; objective is "
            f"{objective!r}."
        )
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be in (0, 1), got {coverage!r}.")
    for name, value, least in (
        ("n_samples", n_samples, 2),
        ("max_rounds", max_rounds, 1),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < least
        ):
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}.")


def _money(value, what: str) -> float:
    try:
        money = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number (money), got {value!r}.") from None
    if not np.isfinite(money) or money < 0:
        raise ValueError(f"{what} must be finite and >= 0, got {value!r}.")
    return money


def _shop_channel_keys(space: SpendPlan, keys, what: str) -> list[tuple[int, int]]:
    """``(shop, channel)`` positions of channel or ``(shop, channel)`` keys."""
    shops = {shop: s for s, shop in enumerate(space.shops)}
    channels = {c: k for k, c in enumerate(space.channels)}
    out = []
    for key in keys:
        if isinstance(key, tuple) and len(key) == 2 and key[1] in channels:
            if key[0] not in shops:
                raise ValueError(
                    f"{what} names shop {key[0]!r}, which is not in X_plan."
                )
            out.append((shops[key[0]], channels[key[1]]))
        elif not isinstance(key, tuple) and key in channels:
            out.extend((s, channels[key]) for s in range(len(space.shops)))
        else:
            raise ValueError(
                f"{what} key {key!r} is neither a channel of {space.channels} nor a "
                "(shop, channel) pair."
            )
    return out


def _money_bounds(space, min_spend, max_spend) -> dict[tuple[int, int], list]:
    """``{(shop, channel): [least, most]}`` money over the plan, pairs over channels."""
    found: dict[tuple[int, int], list] = {}
    for side, given in ((0, min_spend), (1, max_spend)):
        name = ("min_spend", "max_spend")[side]
        given = {} if given is None else given
        if not isinstance(given, Mapping):
            raise TypeError(f"{name} must be a mapping, got {type(given).__name__}.")
        # channel keys first, so that a (shop, channel) key wins
        for key in sorted(given, key=lambda key: isinstance(key, tuple)):
            value = _money(given[key], f"{name}[{key!r}]")
            for pair in _shop_channel_keys(space, [key], name):
                found.setdefault(pair, [0.0, np.inf])[side] = value
    for (s, k), (least, most) in found.items():
        if least > most:
            raise ValueError(
                f"min_spend ({least:,.6g}) exceeds max_spend ({most:,.6g}) for shop "
                f"{space.shops[s]!r}, channel {space.channels[k]!r}."
            )
    return found


def _variable_bounds(space, bounds, keep_flighting, fixed, min_spend, max_spend):
    planned = space.planned_x
    if bounds is None:
        lower, upper = np.zeros(space.n_vars), np.full(space.n_vars, np.inf)
    else:
        low, high = (float(b) for b in bounds)
        if not 0.0 <= low <= high < np.inf:
            raise ValueError(
                f"bounds must satisfy 0 <= lower <= upper < inf, got {bounds}; "
                "None removes the relative limit."
            )
        lower, upper = low * planned, high * planned
    why = np.full(space.n_vars, "bounds" if bounds is not None else "", dtype=object)
    if keep_flighting:
        off = planned == 0
        upper[off] = 0.0
        why[off] = "keep_flighting"
    if not space.per_step:
        for (s, k), (least, most) in _money_bounds(space, min_spend, max_spend).items():
            v = s * len(space.channels) + k
            if least > upper[v] or most < lower[v]:
                raise ValueError(
                    f"shop {space.shops[s]!r}, channel {space.channels[k]!r}: "
                    f"min_spend/max_spend ({least:,.6g} to {most:,.6g}) cannot hold "
                    f"with {why[v]} (planned {planned[v]:,.6g}, allowed "
                    f"{lower[v]:,.6g} to {upper[v]:,.6g})"
                    + (
                        ": pass keep_flighting=False to give it spend."
                        if why[v] == "keep_flighting"
                        else "."
                    )
                )
            lower[v], upper[v] = max(lower[v], least), min(upper[v], most)
    if isinstance(fixed, str):
        fixed = [fixed]
    for s, k in _shop_channel_keys(space, fixed, "fixed"):
        held = (space.var_shop == s) & (space.var_channel == k)
        lower[held] = upper[held] = planned[held]
    return lower, upper


# -- budgets ---------------------------------------------------------------------------


def _family(space: SpendPlan, labels: np.ndarray, n_rows: int) -> sparse.csr_array:
    """Budget rows over the cells labelled ``0..n_rows-1`` (-1: in no row)."""
    labels = np.broadcast_to(labels, space.weight.shape)
    inside = labels >= 0
    return sparse.csr_array(
        (space.weight[inside], (labels[inside], space.var_of_cell[inside])),
        shape=(n_rows, space.n_vars),
    )


def _keyed(given, known, what: str, describe: str) -> dict:
    """``given`` (a mapping) checked against ``known`` labels; amounts as money."""
    if not isinstance(given, Mapping):
        raise TypeError(f"{what} must be a mapping, got {type(given).__name__}.")
    by_text = {str(label): label for label in known}
    out = {}
    for key, value in given.items():
        label = key if key in known else by_text.get(str(key), None)
        if label is None:
            raise ValueError(
                f"{what} names {key!r}, which is not {describe}: "
                f"{list(known)[:8]}{' ...' if len(known) > 8 else ''}."
            )
        out[label] = _money(value, f"{what}[{key!r}]")
    return out


def _period_labels(space: SpendPlan, periods) -> np.ndarray:
    n_steps = len(space.steps)
    if isinstance(periods, str):
        try:
            dates = pd.DatetimeIndex(space.steps)
        except (TypeError, ValueError):
            raise ValueError(
                f"periods={periods!r} needs dates in the plan's time column; its "
                "steps are not dates: pass an int (blocks of steps) or one label "
                "per step."
            ) from None
        return np.asarray(dates.to_period(periods).astype(str))
    if isinstance(periods, numbers.Integral) and not isinstance(periods, bool):
        if periods < 1:
            raise ValueError(f"periods must be >= 1 steps, got {periods}.")
        return np.arange(n_steps) // int(periods)
    labels = np.asarray(list(periods), dtype=object)
    if labels.shape != (n_steps,):
        raise ValueError(
            f"periods has {labels.size} labels; the plan has {n_steps} steps "
            "(one label per step)."
        )
    return labels


def _budget_rows(
    space,
    *,
    exact,
    budget,
    shop_budgets,
    groups,
    group_budgets,
    periods,
    period_budgets,
    money_bounds,
):
    """The linear budgets: a sparse matrix over the variables, and their names."""
    blocks, lows, highs, names = [], [], [], []

    def add(matrix, amounts, labels, least=None):
        blocks.append(matrix)
        amounts = np.asarray(amounts, dtype=np.float64)
        highs.append(amounts)
        if least is not None:
            lows.append(np.asarray(least, dtype=np.float64))
        else:
            lows.append(amounts if exact else np.full(amounts.size, -np.inf))
        names.extend(labels)

    if budget is not None:
        add(
            _family(space, np.zeros((1, 1), int), 1),
            [_money(budget, "budget")],
            ["budget (all shops)"],
        )
    if isinstance(shop_budgets, str):
        if shop_budgets != "plan":
            raise ValueError(
                f"shop_budgets={shop_budgets!r}: pass 'plan' or a mapping of shop "
                "to money."
            )
        planned = space.per_shop(space.planned.sum(axis=1))
        shop_budgets = dict(zip(space.shops, planned, strict=True))
    if shop_budgets is not None:
        amounts = _keyed(
            shop_budgets, list(space.shops), "shop_budgets", "a shop of X_plan"
        )
        position = pd.Index(list(amounts)).get_indexer(space.shops)
        add(
            _family(space, position[space.row_shop][:, None], len(amounts)),
            list(amounts.values()),
            [f"shop {shop!r}" for shop in amounts],
        )
    if (groups is None) != (group_budgets is None):
        raise ValueError("groups and group_budgets go together: pass both or neither.")
    if groups is not None:
        if not isinstance(groups, Mapping):
            raise TypeError(f"groups must be a mapping, got {type(groups).__name__}.")
        known = list(
            dict.fromkeys(groups.get(shop) for shop in space.shops if shop in groups)
        )
        amounts = _keyed(
            group_budgets, known, "group_budgets", "a group of X_plan's shops"
        )
        position = {group: g for g, group in enumerate(amounts)}
        shop_row = np.array(
            [position.get(groups.get(shop), -1) for shop in space.shops]
        )
        add(
            _family(space, shop_row[space.row_shop][:, None], len(amounts)),
            list(amounts.values()),
            [f"group {group!r}" for group in amounts],
        )
    if (periods is None) != (period_budgets is None):
        raise ValueError(
            "periods and period_budgets go together: pass both or neither."
        )
    if periods is not None:
        step_label = _period_labels(space, periods)
        known = list(pd.unique(step_label))
        amounts = _keyed(
            period_budgets, known, "period_budgets", "a period of the plan"
        )
        position = {label: p for p, label in enumerate(amounts)}
        step_row = np.array([position.get(label, -1) for label in step_label])
        add(
            _family(space, step_row[space.row_step][:, None], len(amounts)),
            list(amounts.values()),
            [f"period {label!s}" for label in amounts],
        )
    if money_bounds:
        pairs = list(money_bounds)
        cell_row = np.full((len(space.shops), len(space.channels)), -1)
        for r, (s, k) in enumerate(pairs):
            cell_row[s, k] = r
        add(
            _family(space, cell_row[space.row_shop], len(pairs)),
            [money_bounds[p][1] for p in pairs],
            [
                f"spend of {space.channels[k]!r} in shop {space.shops[s]!r}"
                for s, k in pairs
            ],
            least=[money_bounds[p][0] for p in pairs],
        )
    if not blocks:
        return LinearRows.empty(space.n_vars), []
    return (
        LinearRows(
            sparse.csr_array(sparse.vstack(blocks)),
            np.concatenate(lows),
            np.concatenate(highs),
        ),
        names,
    )


def _check_row_ranges(rows: LinearRows, names, lower, upper) -> None:
    """Refuse a budget that the bounds of its own channels already rule out."""
    if len(rows) == 0:
        return
    least = rows.matrix @ lower
    with np.errstate(invalid="ignore"):
        most = rows.matrix @ np.where(np.isinf(upper), 1e300, upper)
    for r, name in enumerate(names):
        if least[r] > rows.upper[r] * (1 + _CHECK_TOLERANCE) + _CHECK_TOLERANCE:
            raise ValueError(
                f"{name}: at most {rows.upper[r]:,.6g}, but the bounds of its channels "
                f"need at least {least[r]:,.6g} (bounds, min_spend, fixed): loosen "
                "one of them."
            )
        if most[r] < rows.lower[r] * (1 - _CHECK_TOLERANCE) - _CHECK_TOLERANCE:
            raise ValueError(
                f"{name}: {rows.lower[r]:,.6g} must be spent, but the bounds of its "
                f"channels allow at most {most[r]:,.6g} (bounds, max_spend, fixed, "
                "keep_flighting): loosen one of them."
            )


# -- the optimisation ------------------------------------------------------------------


class _Problem:
    """The objective and forecast constraint over the variables that can move."""

    def __init__(self, space, start, lower, upper, rows, objective, target, min_roi):
        self.space = space
        self.objective = objective
        self.rows = rows
        self.lower, self.upper = lower, upper
        self.free = lower < upper
        self.start = start
        self._cache: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self.min_roi = min_roi
        self.bound = None  # the forecast constraint's right-hand side
        # by predict, which has the last word on whether it holds
        if objective == "cost":
            self.bound = (
                float(space.forecast(space.planned_x).sum())
                if target is None
                else float(target)
            )
        elif objective == "roi":
            self.bound = float(space.forecast(np.zeros(space.n_vars)).sum())

    def full(self, x_free: np.ndarray) -> np.ndarray:
        x = self.start.copy()
        x[self.free] = x_free
        return x

    def forecast(self, x_free):
        """Total forecast and its gradient over the free variables (cached)."""
        key = x_free.tobytes()
        if self._cache is None or self._cache[0] != key:
            totals, grad = self.space.forecast_and_gradient(
                self.full(x_free), self.free
            )
            self._cache = (key, totals, grad[self.free])
        return self._cache[1].sum(), self._cache[2]

    def objective_value(self, x_free):
        if self.objective == "cost":
            return float(x_free.sum()), np.ones_like(x_free)
        total, grad = self.forecast(x_free)
        return -total, -grad

    def constraint_value(self, x_free, margin=0.0):
        """The forecast constraint, feasible where >= 0 (in the target's units)."""
        total, grad = self.forecast(x_free)
        if self.objective == "cost":
            return total - self.bound - margin, grad
        money = self.full(x_free).sum()
        return (
            total - self.bound - self.min_roi * money - margin,
            grad - self.min_roi,
        )

    def solve(self, max_rounds: int):
        free = self.free
        if not free.any():
            return self.start.copy(), 0, True
        rows = self.rows.restricted(free, self.start)
        lower, upper = self.lower[free], self.upper[free]
        planned = self.space.planned_x[free]
        x_scale = np.where(planned > 0, planned, _typical(planned, upper))
        x = self.start[free]
        margin, n_rounds = 0.0, 0
        for _ in range(_MARGIN_ATTEMPTS):
            constraint = None
            if self.objective != "target":
                constraint = lambda z, m=margin: self.constraint_value(z, m)  # noqa: E731
            result = minimize_augmented(
                self.objective_value,
                x,
                lower,
                upper,
                rows,
                constraint=constraint,
                x_scale=x_scale,
                max_rounds=max_rounds,
            )
            n_rounds += result.n_rounds
            x = nearest_feasible(result.x, lower, upper, rows, x_scale)
            if constraint is None:
                return self.full(x), n_rounds, result.converged
            # the model's predict has the last word on the forecast constraint
            shortfall = self.shortfall(self.full(x))
            if shortfall <= 0:
                return self.full(x), n_rounds, result.converged
            # the repair onto the budgets, or the rounding of predict against
            # the gradient's forecast, left it a hair outside: aim inside
            margin = 2.0 * (margin + shortfall)
        return self._feasible_fallback(self.full(x)), n_rounds, False

    def shortfall(self, x: np.ndarray) -> float:
        """How far ``x``'s forecast (by ``predict``) misses the forecast constraint."""
        total = self.space.forecast(x).sum()
        if self.objective == "cost":
            return self.bound - total
        return self.min_roi * x.sum() - (total - self.bound)

    def _feasible_fallback(self, x: np.ndarray) -> np.ndarray:
        """The best of ``x``, the plan and the least spend that meets everything.

        The forecast constraint can leave no room inside it (with ``min_roi``,
        often only no spend at all), where aiming inside fails.
        """
        least = nearest_feasible(self.lower, self.lower, self.upper, self.rows)
        candidates = [x, self.space.planned_x, self.start, least]
        met = [
            c
            for c in candidates
            if c is not None and self.meets(c, self.space.forecast(c))
        ]
        if not met:
            self._refuse(x)
        if self.objective == "cost":
            return min(met, key=lambda c: c.sum())
        return max(met, key=lambda c: self.space.forecast(c).sum())

    def _refuse(self, x: np.ndarray) -> None:
        total = self.space.forecast(x).sum()
        if self.objective == "cost":
            raise ValueError(
                f"no plan within the budgets and bounds reaches target="
                f"{self.bound:,.6g}: the closest found forecasts {total:,.6g}. Lower "
                "the target, or loosen the budgets or bounds."
            )
        money = x.sum()
        roi = (total - self.bound) / money if money > 0 else np.nan
        raise ValueError(
            f"no plan within the budgets and bounds returns min_roi={self.min_roi:g}: "
            f"the closest found returns {roi:.4g} per unit of money. Lower min_roi, "
            "or loosen the bounds (a minimum spend may force a low return)."
        )

    def meets(self, x: np.ndarray, totals: np.ndarray) -> bool:
        """Whether ``x`` meets every bound, budget and forecast constraint."""
        scale = np.maximum(np.abs(x), 1.0) * _CHECK_TOLERANCE
        if np.any(x < self.lower - scale) or np.any(x > self.upper + scale):
            return False
        if len(self.rows) and self.rows.violation(x).max() > _CHECK_TOLERANCE:
            return False
        if self.objective == "cost":
            return totals.sum() >= self.bound
        if self.objective == "roi":
            return totals.sum() - self.bound >= self.min_roi * x.sum()
        return True

    def never_worse(self, x, planned_totals):
        """``x`` and its per-shop forecast, or the plan's where the plan does better."""
        space = self.space
        planned = space.planned_x
        totals = space.forecast(x)
        self._assert_holds(x, totals)
        if not self.meets(planned, planned_totals):
            return x, totals
        if self.objective == "cost":
            better = x.sum() <= planned.sum()
        else:
            better = totals.sum() >= planned_totals.sum()
        if better and self.objective == "target" and self._shop_separable():
            # budgets per shop only: a shop the optimiser made worse keeps its plan
            worse = totals < planned_totals
            if worse.any():
                x = np.where(worse[space.var_shop], planned, x)
                totals = np.where(worse, planned_totals, totals)
            return x, totals
        return (x, totals) if better else (planned.copy(), planned_totals)

    def _shop_separable(self) -> bool:
        if len(self.rows) == 0:
            return True
        matrix = sparse.csr_array(self.rows.matrix)
        shops = self.space.var_shop[matrix.indices]
        starts = matrix.indptr[:-1]
        nonempty = np.diff(matrix.indptr) > 0
        first = np.repeat(shops[starts[nonempty]], np.diff(matrix.indptr)[nonempty])
        return bool(np.all(shops == first))

    def _assert_holds(self, x, totals) -> None:
        if not self.meets(x, totals):
            raise RuntimeError(
                "the optimised plan breaks a constraint it was repaired onto; "
                "please report this with the plan and settings."
            )

    def constraint_table(self, names, x, planned_totals, totals) -> pd.DataFrame:
        planned = self.space.planned_x
        table = pd.DataFrame(
            {
                "lower": self.rows.lower,
                "upper": self.rows.upper,
                "planned": self.rows.matrix @ planned if len(self.rows) else [],
                "optimized": self.rows.matrix @ x if len(self.rows) else [],
            },
            index=pd.Index(names, name="constraint", dtype=object),
        )
        if self.objective == "cost":
            table.loc["forecast target"] = [
                self.bound,
                np.inf,
                planned_totals.sum(),
                totals.sum(),
            ]
        elif self.objective == "roi":
            with np.errstate(divide="ignore", invalid="ignore"):
                table.loc["return on spend"] = [
                    self.min_roi,
                    np.inf,
                    (planned_totals.sum() - self.bound) / planned.sum(),
                    (totals.sum() - self.bound) / x.sum(),
                ]
        return table


def _typical(planned: np.ndarray, upper: np.ndarray) -> float:
    positive = planned[planned > 0]
    if positive.size:
        return float(positive.mean())
    finite = upper[np.isfinite(upper) & (upper > 0)]
    return float(finite.mean()) if finite.size else 1.0


# -- result tables ---------------------------------------------------------------------


def _allocation_table(space: SpendPlan, x: np.ndarray, bounds) -> pd.DataFrame:
    k = len(space.channels)
    planned = np.zeros((len(space.shops), k))
    optimized = np.zeros_like(planned)
    np.add.at(planned, (space.row_shop,), space.planned)
    np.add.at(optimized, (space.row_shop,), space.cells(x))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where((planned == 0) & (optimized == 0), 1.0, optimized / planned)
    factor[(planned == 0) & (optimized > 0)] = np.nan
    # spend on a bound is summed over steps in money: report the bound itself,
    # not the bound give or take the last bit of that sum
    for bound in () if bounds is None else bounds:
        factor[np.isclose(factor, bound, rtol=1e-12, atol=0.0)] = bound
    index = pd.MultiIndex.from_product(
        [space.shops, space.channels], names=["shop", "channel"]
    )
    return pd.DataFrame(
        {
            "planned_spend": planned.ravel(),
            "optimized_spend": optimized.ravel(),
            "factor": factor.ravel(),
            "change": (optimized - planned).ravel(),
        },
        index=index,
    )


def _target_table(space: SpendPlan, planned: np.ndarray, optimized: np.ndarray):
    with np.errstate(divide="ignore", invalid="ignore"):
        uplift = optimized / planned - 1.0
    return pd.DataFrame(
        {"planned": planned, "optimized": optimized, "uplift": uplift},
        index=pd.Index(space.shops, name="shop"),
    )


def _schedule_table(space: SpendPlan, x: np.ndarray) -> pd.DataFrame:
    k = len(space.channels)
    index = pd.MultiIndex.from_arrays(
        [
            np.repeat(space.shops[space.row_shop], k),
            np.repeat(space.steps[space.row_step], k),
            np.tile(space.channels, len(space.row_shop)),
        ],
        names=["shop", "step", "channel"],
    )
    return pd.DataFrame(
        {
            "planned_spend": space.planned.ravel(),
            "optimized_spend": space.cells(x).ravel(),
        },
        index=index,
    )

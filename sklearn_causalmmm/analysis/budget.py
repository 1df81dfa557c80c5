"""Budget reallocation: the same spend per shop, moved to where GMV responds.

:func:`optimize_budget` searches, for every shop, the channel multipliers
``f[c]`` that maximise the model's total forecast GMV over the plan under

* the same budget: ``sum_c f[c] * spend[c] = sum_c spend[c]``;
* bounded changes: ``lower <= f[c] <= upper`` (a forecast far from the spend
  the model was fitted on is an extrapolation);
* the plan's timing: a channel's daily spend is scaled as a whole, so its
  flighting (which days it runs) is kept, and a channel without planned spend
  stays without.

The search is a greedy exchange between channels, the textbook rule of
equalising marginal returns: each round estimates every channel's marginal
return (forecast GMV per extra unit of spend, by a forward difference), moves
a step of budget from the channel that returns least to the one that returns
most, and keeps the move only if the forecast GMV grows; a shop whose move
failed halves its step. Every shop is optimised at once (one forecast per
channel and round), since a shop's forecast depends only on its own plan.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklearn_causalmmm.analysis._scenarios import ScenarioPlan

__all__ = ["BudgetAllocation", "optimize_budget"]

_AT_BOUND = 1e-9


@dataclass
class BudgetAllocation:
    """The result of :func:`optimize_budget`.

    Attributes
    ----------
    allocation : DataFrame
        Index ``(shop, channel)``; columns ``planned_spend``,
        ``optimized_spend`` (summed over the plan), ``factor`` (their ratio,
        the multiplier of the channel's daily spend) and ``change``
        (optimized - planned).
    gmv : DataFrame
        Index: shop; columns ``planned`` and ``optimized`` (total forecast
        GMV over the plan) and ``uplift`` (optimized / planned - 1).
    optimized_plan : DataFrame
        ``X_plan`` with the optimized spend, ready for ``model.predict``.
    n_rounds : int
        Exchange rounds run.
    converged : bool
        Whether every shop stopped improving before ``max_rounds``.
    """

    allocation: pd.DataFrame
    gmv: pd.DataFrame
    optimized_plan: pd.DataFrame
    n_rounds: int
    converged: bool

    def spend_by_channel(self) -> pd.DataFrame:
        """Planned and optimized spend per channel summed over shops, and the change.

        ``change`` is optimized / planned - 1 (NaN for a channel without
        planned spend).
        """
        spend = self.allocation.groupby(level=1, sort=False)[
            ["planned_spend", "optimized_spend"]
        ].sum()
        spend.index.name = "channel"
        with np.errstate(divide="ignore", invalid="ignore"):
            spend["change"] = spend["optimized_spend"] / spend["planned_spend"] - 1.0
        return spend

    @property
    def uplift(self) -> float:
        """Total optimized / planned forecast GMV over all shops, minus 1."""
        return float(self.gmv["optimized"].sum() / self.gmv["planned"].sum() - 1.0)


def optimize_budget(
    model,
    X_plan: pd.DataFrame,
    channels: Sequence[str],
    *,
    bounds: tuple[float, float] = (0.5, 1.5),
    step: float = 0.1,
    min_step: float = 1e-3,
    max_rounds: int = 100,
) -> BudgetAllocation:
    """Reallocate each shop's planned budget across channels to raise forecast GMV.

    Parameters
    ----------
    model : fitted regressor
        Any regressor of the package's forecasting contract (e.g.
        :class:`~sklearn_causalmmm.CausalMMMRegressor`) fitted on the plan's
        shops; only its ``predict`` is called.
    X_plan : DataFrame
        The planned spend, in a layout ``model.predict`` accepts (long with
        the shop column ``model.shop_column``, or a ``(shop, time)``
        MultiIndex). Never modified; other columns (funnel nodes, channels
        not in ``channels``) keep their planned values.
    channels : sequence of str
        The channels whose spend may move; the budget of a shop is their
        planned spend summed over the plan.
    bounds : (float, float), default=(0.5, 1.5)
        Lowest and highest multiplier of a channel's planned spend; must
        contain 1 (the plan itself is allowed).
    step : float, default=0.1
        First move, as a fraction of the planned spend of the smaller of the
        two channels exchanging budget (so a small channel moves in small
        steps too).
    min_step : float, default=1e-3
        A shop stops when its step falls below this fraction.
    max_rounds : int, default=100
        Each round forecasts the plan ``len(channels) + 1`` times.

    Returns
    -------
    result : BudgetAllocation
        Never worse than the plan: a shop's allocation changes only when its
        forecast GMV grows.

    Raises
    ------
    ValueError
        On unknown channels, bounds that exclude 1 or are negative, a step
        outside (0, 1], a ``min_step`` outside (0, step], or ``max_rounds``
        below 1.

    See Also
    --------
    sklearn_causalmmm.analysis.contributions.channel_contributions :
        What each channel's plan brings.

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
    >>> result = optimize_budget(model, plan, ["search", "display", "brand"])
    >>> spend = result.allocation.groupby(level="shop")[
    ...     ["planned_spend", "optimized_spend"]].sum()
    >>> bool(abs(spend["planned_spend"] - spend["optimized_spend"]).max() < 1e-6)
    True
    >>> bool((result.gmv["optimized"] >= result.gmv["planned"]).all())
    True
    """
    lower, upper = (float(b) for b in bounds)
    if not (0.0 <= lower <= 1.0 <= upper and np.isfinite(upper)):
        raise ValueError(
            f"bounds must satisfy 0 <= lower <= 1 <= upper < inf, got {bounds}."
        )
    if not 0.0 < step <= 1.0:
        raise ValueError(f"step must be in (0, 1], got {step}.")
    if not 0.0 < min_step <= step:
        raise ValueError(f"min_step must be in (0, step], got {min_step}.")
    if max_rounds < 1:
        raise ValueError(f"max_rounds must be at least 1, got {max_rounds}.")
    scenarios = ScenarioPlan(model, X_plan, channels)
    spend = scenarios.spend
    budget = spend.sum(axis=1)
    n_shops, k = spend.shape
    rows = np.arange(n_shops)
    movable = spend > 0
    # Forward-difference size: 1 % of the shop's budget, but at most 10 % of
    # the channel's own spend, so a small channel is not measured far beyond
    # any spend it could be given.
    probe = np.minimum(0.01 * budget[:, None], 0.1 * spend)

    factors = np.ones((n_shops, k))
    gmv = planned_gmv = scenarios.total_gmv(factors)
    steps = np.where(budget > 0, step, 0.0)
    n_rounds = 0
    while n_rounds < max_rounds and np.any(steps >= min_step):
        n_rounds += 1
        marginal = np.full((n_shops, k), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            for c in range(k):
                trial = factors.copy()
                trial[:, c] += np.where(movable[:, c], probe[:, c] / spend[:, c], 0.0)
                gain = scenarios.total_gmv(trial) - gmv
                marginal[:, c] = np.where(movable[:, c], gain / probe[:, c], np.nan)
        # a factor within rounding of a bound is at it: a move of a hair
        # cannot raise the forecast, and would only halve the step
        can_give = movable & (factors > lower + _AT_BOUND)
        can_take = movable & (factors < upper - _AT_BOUND)
        giver = np.nanargmin(np.where(can_give, marginal, np.inf), axis=1)
        taker = np.nanargmax(np.where(can_take, marginal, -np.inf), axis=1)
        worth_moving = (
            can_give.any(axis=1)
            & can_take.any(axis=1)
            & (giver != taker)
            & (marginal[rows, taker] > marginal[rows, giver])
            & (steps >= min_step)
        )
        # converged shops stop; the others try to move a step of the smaller
        # channel's spend
        steps = np.where(worth_moving, steps, 0.0)
        if not worth_moving.any():
            break
        room = np.minimum(
            (factors[rows, giver] - lower) * spend[rows, giver],
            (upper - factors[rows, taker]) * spend[rows, taker],
        )
        smaller = np.minimum(spend[rows, giver], spend[rows, taker])
        amount = np.where(worth_moving, np.minimum(steps * smaller, room), 0.0)
        moving = amount > 0
        candidate = factors.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            candidate[rows, giver] -= np.where(moving, amount / spend[rows, giver], 0.0)
            candidate[rows, taker] += np.where(moving, amount / spend[rows, taker], 0.0)
        # moves that fill a channel's room land exactly on the bound
        candidate = np.clip(candidate, lower, upper)
        candidate[np.abs(candidate - lower) <= _AT_BOUND] = lower
        candidate[np.abs(candidate - upper) <= _AT_BOUND] = upper
        candidate_gmv = scenarios.total_gmv(candidate)
        better = moving & (candidate_gmv > gmv)
        factors[better] = candidate[better]
        gmv = np.where(better, candidate_gmv, gmv)
        steps = np.where(better | ~moving, steps, steps / 2)

    optimized = factors * spend
    index = pd.MultiIndex.from_product(
        [scenarios.shops, scenarios.channels], names=["shop", "channel"]
    )
    allocation = pd.DataFrame(
        {
            "planned_spend": spend.ravel(),
            "optimized_spend": optimized.ravel(),
            "factor": factors.ravel(),
            "change": (optimized - spend).ravel(),
        },
        index=index,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        uplift = gmv / planned_gmv - 1.0
    gmv_table = pd.DataFrame(
        {"planned": planned_gmv, "optimized": gmv, "uplift": uplift},
        index=pd.Index(scenarios.shops, name="shop"),
    )
    return BudgetAllocation(
        allocation=allocation,
        gmv=gmv_table,
        optimized_plan=scenarios.scaled(factors),
        n_rounds=n_rounds,
        converged=not np.any(steps >= min_step),
    )

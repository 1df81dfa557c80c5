"""A channel plan as money per decision variable, and its forecast.

:class:`SpendPlan` turns a plan (a DataFrame ``model.predict`` accepts) into
*cells*, the money of each row (a shop's step) and channel (the column's
value times the channel's cost per unit), and *variables*, what a budget
optimiser may change:

* per shop and channel (``per_step=False``): the money over the whole plan;
  a cell gets the variable times the cell's share of it in the plan, so the
  plan's timing (its flighting) is kept. A channel without planned spend
  spreads new spend evenly over the shop's steps.
* per shop, step and channel (``per_step=True``): each cell is a variable.

It forecasts the plan for any value of the variables through ``model.predict``
and gives the gradient of every shop's total forecast with respect to the
variables: from ``model.plan_gradient`` when the model has it (one forecast
and its backward pass), else by finite differences batched over shops, as a
shop's forecast depends on its own plan only: one forecast changes the same
variable of every shop at once.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sklearn_causalmmm.analysis._scenarios import ScenarioPlan, shop_of_rows

__all__ = ["SpendPlan", "channel_costs"]

#: Finite-difference step, relative to a variable's planned money: large
#: enough for forecasts computed in float32, small against a response curve's
#: bend.
_FD_STEP = 1e-3


def channel_costs(
    channels: Sequence[str], costs: Mapping[str, float] | str | None
) -> np.ndarray:
    """Cost per unit of each channel's column; refuse to add unknown units."""
    channels = list(channels)
    if isinstance(costs, str):
        if costs != "money":
            raise ValueError(
                f"costs={costs!r}: pass 'money' (every channel column is already "
                "spend in one currency) or a mapping of channel to its cost per "
                "unit."
            )
        return np.ones(len(channels))
    if costs is None:
        if len(channels) > 1:
            example = ", ".join(f"{c!r}: 1.0" for c in channels[:3])
            raise ValueError(
                f"channels {channels} would be added up in one budget, but their "
                "units are not known (spend, impressions, clicks?). Pass "
                f"costs={{{example}, ...}} (each channel's cost per unit of its "
                "column: 1.0 for spend, the cost per thousand / 1000 for "
                "impressions), or costs='money' if every column is spend in "
                "the same currency."
            )
        return np.ones(len(channels))
    if not isinstance(costs, Mapping):
        raise TypeError(
            f"costs must be a mapping of channel to cost per unit, 'money' or None, "
            f"got {type(costs).__name__}."
        )
    missing = [c for c in channels if c not in costs]
    if missing:
        raise ValueError(
            f"costs has no entry for channel(s) {missing}: give every channel's "
            "cost per unit of its column (1.0 for spend)."
        )
    unknown = [c for c in costs if c not in channels]
    if unknown:
        raise ValueError(f"costs names channel(s) {unknown} that are not in channels.")
    values = np.array([costs[c] for c in channels], dtype=np.float64)
    bad = [
        c for c, v in zip(channels, values, strict=True) if not np.isfinite(v) or v <= 0
    ]
    if bad:
        raise ValueError(f"costs of {bad} must be finite and > 0.")
    return values


class SpendPlan:
    """A plan's channel spend as cells and decision variables.

    Parameters
    ----------
    model : fitted regressor
        ``model.predict`` forecasts a plan; ``model.plan_gradient``, if
        present, also returns the gradient of the forecast total.
    X_plan : DataFrame
        The plan (long layout with ``model.shop_column``, or a ``(shop, time)``
        MultiIndex). Never modified.
    channels : sequence of str
    costs : ndarray of shape (n_channels,)
        Money per unit of each channel's column.
    per_step : bool
        One variable per shop, step and channel instead of per shop and
        channel.

    Attributes
    ----------
    shops : ndarray
    steps : pandas.Index
        The plan's steps (its time values, or positions within each shop).
    row_shop, row_step : ndarray of int
        Each row's shop and step.
    planned : ndarray of shape (n_rows, n_channels)
        The plan's money per cell.
    var_shop, var_channel : ndarray of int
        Each variable's shop and channel.
    var_of_cell, weight : ndarray of shape (n_rows, n_channels)
        The variable of each cell, and the cell's share of it: a cell's money
        is ``weight * x[var_of_cell]``.
    planned_x : ndarray of shape (n_vars,)
    n_forecasts : int
        Forecasts of the plan made so far.
    """

    def __init__(self, model, X_plan, channels, costs: np.ndarray, per_step: bool):
        scenarios = ScenarioPlan(model, X_plan, channels)  # validates the plan
        self.model = model
        self.channels = scenarios.channels
        self.shops = scenarios.shops
        self.costs = np.asarray(costs, dtype=np.float64)
        self.per_step = per_step
        self._plan = X_plan
        self.row_shop = pd.Index(self.shops).get_indexer(shop_of_rows(model, X_plan))
        self.steps, self.row_step = _steps(model, X_plan, self.row_shop)
        units = X_plan[self.channels].to_numpy(dtype=np.float64)
        _check_spend(units, X_plan, self.channels, self.row_shop, self.shops)
        self._units = units
        self.planned = units * self.costs
        self.n_forecasts = 0
        self._layout_variables()

    def _layout_variables(self) -> None:
        n_rows, k = self.planned.shape
        channel = np.broadcast_to(np.arange(k), (n_rows, k))
        if self.per_step:
            self.var_of_cell = np.arange(n_rows * k).reshape(n_rows, k)
            self.weight = np.ones((n_rows, k))
            self.var_shop = np.repeat(self.row_shop, k)
            self.var_channel = channel.ravel().copy()
        else:
            n_shops = len(self.shops)
            self.var_of_cell = self.row_shop[:, None] * k + channel
            totals = np.zeros(n_shops * k)
            np.add.at(totals, self.var_of_cell.ravel(), self.planned.ravel())
            rows_per_shop = np.bincount(self.row_shop, minlength=n_shops)
            even = 1.0 / rows_per_shop[self.row_shop][:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                share = self.planned / totals[self.var_of_cell]
            self.weight = np.where(totals[self.var_of_cell] > 0, share, even)
            self.var_shop = np.repeat(np.arange(n_shops), k)
            self.var_channel = np.tile(np.arange(k), n_shops)
        self.n_vars = self.var_shop.size
        self.planned_x = self.to_variables(self.planned)

    def to_variables(self, cell_values: np.ndarray) -> np.ndarray:
        """Sum per-cell values (money, or gradients times weights) per variable."""
        return np.bincount(
            self.var_of_cell.ravel(), weights=cell_values.ravel(), minlength=self.n_vars
        )

    def cells(self, x: np.ndarray) -> np.ndarray:
        """Money per cell ``(n_rows, n_channels)`` of the variables ``x``."""
        return self.weight * x[self.var_of_cell]

    def plan(self, x: np.ndarray) -> pd.DataFrame:
        """A copy of the plan with the channel columns set from ``x``."""
        plan = self._plan.copy()
        # what is left as planned keeps the plan's values to the last bit
        unchanged = (x == self.planned_x)[self.var_of_cell]
        plan[self.channels] = np.where(
            unchanged, self._units, self.cells(x) / self.costs
        )
        return plan

    def per_shop(self, row_values: np.ndarray) -> np.ndarray:
        return np.bincount(self.row_shop, weights=row_values, minlength=len(self.shops))

    def forecast(self, x: np.ndarray) -> np.ndarray:
        """Total forecast of each shop over the plan, shape ``(n_shops,)``."""
        forecast = np.asarray(self.model.predict(self.plan(x)), dtype=np.float64)
        self.n_forecasts += 1
        return self.per_shop(forecast.reshape(-1))

    def forecast_and_gradient(
        self, x: np.ndarray, free: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-shop totals and d(total forecast) / d(x) (zero outside ``free``)."""
        if hasattr(self.model, "plan_gradient"):
            forecast, gradient = self.model.plan_gradient(self.plan(x))
            self.n_forecasts += 1
            rows = np.asarray(forecast, dtype=np.float64).reshape(-1)
            per_unit = np.asarray(gradient[self.channels], dtype=np.float64)
            grad = self.to_variables(self.weight * per_unit / self.costs)
            return self.per_shop(rows), np.where(free, grad, 0.0)
        return self._finite_differences(x, free)

    def _finite_differences(self, x, free):
        base = self.forecast(x)
        grad = np.zeros(self.n_vars)
        scale = np.where(self.planned_x > 0, self.planned_x, _typical(self.planned_x))
        step = _FD_STEP * scale
        variables = np.flatnonzero(free)
        # the i-th free variable of every shop moves in the same forecast
        order = np.argsort(self.var_shop[variables], kind="stable")
        variables = variables[order]
        shops = self.var_shop[variables]
        first = np.searchsorted(shops, shops)
        slot = np.arange(variables.size) - first
        for j in range(slot.max(initial=-1) + 1):
            moved = variables[slot == j]
            h = step[moved]
            up = x.copy()
            up[moved] += h
            upper = self.forecast(up)
            # central differences where spend can go down by a step
            both = x[moved] >= h
            lower = base
            if both.any():
                down = x.copy()
                down[moved[both]] -= h[both]
                lower = self.forecast(down)
            shop = self.var_shop[moved]
            grad[moved] = np.where(
                both,
                (upper[shop] - lower[shop]) / (2 * h),
                (upper[shop] - base[shop]) / h,
            )
        return base, grad


def _typical(values: np.ndarray) -> float:
    positive = values[values > 0]
    return float(positive.mean()) if positive.size else 1.0


def _steps(model, X_plan: pd.DataFrame, row_shop: np.ndarray):
    """The plan's steps and each row's step; refuse a step given twice."""
    time_column = getattr(model, "time_column", "date")
    shop_column = getattr(model, "shop_column", "shop_id")
    if time_column in X_plan.columns and time_column != shop_column:
        times = X_plan[time_column]
    elif isinstance(X_plan.index, pd.MultiIndex):
        times = pd.Series(X_plan.index.get_level_values(1))
    else:
        # no dates: a shop's rows are its steps, in order
        times = pd.Series(row_shop).groupby(row_shop).cumcount()
    steps = pd.Index(pd.unique(times.to_numpy())).sort_values()
    row_step = steps.get_indexer(times.to_numpy())
    cell = row_shop.astype(np.int64) * len(steps) + row_step
    repeated = pd.Index(cell).duplicated()
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        raise ValueError(
            f"X_plan gives step {steps[row_step[row]]!r} of a shop twice (row "
            f"{X_plan.index[row]!r}): one row per shop and step."
        )
    return steps, row_step


def _check_spend(units, X_plan, channels, row_shop, shops) -> None:
    bad = ~np.isfinite(units) | (units < 0)
    if bad.any():
        row, column = (int(v[0]) for v in np.nonzero(bad))
        raise ValueError(
            f"X_plan[{channels[column]!r}] is {units[row, column]:g} at row "
            f"{X_plan.index[row]!r} (shop {shops[row_shop[row]]!r}): planned spend "
            "must be finite and >= 0."
        )

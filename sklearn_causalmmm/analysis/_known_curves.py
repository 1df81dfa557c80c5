"""Shops whose response to spend is known exactly, to check budget optimisers.

:class:`KnownCurves` follows the package's forecasting contract (``predict`` on
a long DataFrame plan, ``shop_column`` and ``time_column``) with a forecast
that is a closed-form function of the plan: per shop ``s`` and channel ``c``,
geometric carryover from the stock the history left,

.. math::

    A_{s,c,t} = \\lambda_{s,c} A_{s,c,t-1} + x_{s,c,t},
    \\qquad A_{s,c,-1} = \\text{stock}_{s,c},

and a concave response with diminishing returns, scaled by seasonality,

.. math::

    y_{s,t} = \\text{season}_{s,t} \\Bigl(\\text{base}_s + \\sum_c a_{s,c}
        \\log\\bigl(1 + A_{s,c,t-\\ell} / h_{s,c}\\bigr)\\Bigr),

where the lag :math:`\\ell` is 0 (spend works the same step) or 1 (the next
step). Its gradient is exact (``plan_gradient``), and without carryover and
lag, :func:`water_filling` gives the optimal allocation of a budget.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["KnownCurves", "water_filling"]


class KnownCurves:
    """A 'fitted regressor' with known response curves per shop and channel.

    Parameters
    ----------
    shops : sequence
        Shop labels.
    channels : sequence of str
    gain, half : array-like of shape (n_shops, n_channels)
        ``a`` and ``h`` of the curve ``a * log(1 + A / h)``.
    carryover : array-like of shape (n_shops, n_channels), default=0
        ``lambda`` in [0, 1).
    stock : array-like of shape (n_shops, n_channels), default=0
        Carryover stock the history leaves before the plan's first step.
    season : array-like of shape (n_shops, n_steps) or (n_steps,), default=None
        Multiplier of each plan step (1 throughout when None).
    base : array-like of shape (n_shops,), default=0
        Demand without advertising, per step.
    lag : {0, 1}, default=0
    """

    shop_column = "shop_id"
    time_column = "date"

    def __init__(
        self,
        shops,
        channels,
        gain,
        half,
        carryover=0.0,
        stock=0.0,
        season=None,
        base=0.0,
        lag: int = 0,
    ):
        self.shops = list(shops)
        self.channels = list(channels)
        shape = (len(self.shops), len(self.channels))
        self.gain = np.broadcast_to(np.asarray(gain, float), shape)
        self.half = np.broadcast_to(np.asarray(half, float), shape)
        self.carryover = np.broadcast_to(np.asarray(carryover, float), shape)
        self.stock = np.broadcast_to(np.asarray(stock, float), shape)
        self.season = None if season is None else np.asarray(season, float)
        self.base = np.broadcast_to(np.asarray(base, float), (len(self.shops),))
        self.lag = lag
        self.n_predictions = 0

    def _cube(self, X: pd.DataFrame):
        """Rows of ``X`` as (shop, step) positions and spend ``(S, T, k)``."""
        shop = pd.Index(self.shops).get_indexer(X[self.shop_column])
        if self.time_column in X.columns:
            times = X[self.time_column].to_numpy()
            step = pd.Index(np.unique(times)).get_indexer(times)
        else:
            step = pd.Series(shop).groupby(shop).cumcount().to_numpy()
        spend = np.zeros((len(self.shops), step.max() + 1, len(self.channels)))
        spend[shop, step] = X[self.channels].to_numpy(dtype=float)
        return shop, step, spend

    def _season(self, n_steps: int) -> np.ndarray:
        if self.season is None:
            return np.ones((len(self.shops), n_steps))
        return np.broadcast_to(self.season[..., :n_steps], (len(self.shops), n_steps))

    def _stock(self, spend: np.ndarray) -> np.ndarray:
        """Carryover stock acting on each step ``(S, T, k)`` (after the lag)."""
        stock = np.empty_like(spend)
        level = self.stock
        for t in range(spend.shape[1]):
            level = self.carryover * level + spend[:, t]
            stock[:, t] = level
        if self.lag:
            before = np.broadcast_to(self.stock, spend[:, 0].shape)[:, None]
            stock = np.concatenate([before, stock[:, :-1]], axis=1)
        return stock

    def forecast(self, spend: np.ndarray) -> np.ndarray:
        """Forecast ``(S, T)`` of spend ``(S, T, k)``."""
        media = self.gain[:, None] * np.log1p(self._stock(spend) / self.half[:, None])
        return self._season(spend.shape[1]) * (self.base[:, None] + media.sum(-1))

    def gradient(self, spend: np.ndarray) -> np.ndarray:
        """d(sum of the forecast) / d(spend), shape ``(S, T, k)``."""
        n_steps = spend.shape[1]
        season = self._season(n_steps)[..., None]
        # the marginal return of the stock that acts on step t
        stock = self._stock(spend)
        marginal = season * self.gain[:, None] / (self.half[:, None] + stock)
        if self.lag:  # spend in step t acts from step t + 1
            marginal = np.concatenate(
                [marginal[:, 1:], np.zeros_like(marginal[:, :1])], axis=1
            )
        gradient = np.empty_like(spend)
        carried = np.zeros_like(spend[:, 0])
        for t in range(n_steps - 1, -1, -1):
            carried = marginal[:, t] + self.carryover * carried
            gradient[:, t] = carried
        return gradient

    def optimum(self, spend, budget, lower=0.0, upper=np.inf, per_step=False):
        """The best spend ``(S, T, k)`` for ``budget``, by water filling.

        Without carryover or lag each cell's return is its own curve
        ``season * a * log(1 + x / h)``. With ``per_step`` every cell moves
        (``lower`` and ``upper`` per cell); without, each shop's channel is
        scaled over a plan ``spend`` that is the same every step, so its total
        ``m`` returns ``sum(season) * a * log(1 + m / (T h))`` (``lower`` and
        ``upper`` per shop and channel total).
        """
        if np.any(self.carryover) or self.lag:
            raise ValueError("water filling needs no carryover and no lag.")
        spend = np.asarray(spend, float)
        n_steps = spend.shape[1]
        season = self._season(n_steps)[..., None]
        if per_step:
            gain = season * self.gain[:, None]
            half = np.broadcast_to(self.half[:, None], gain.shape)
            return water_filling(gain, half, lower, upper, budget).reshape(gain.shape)
        if not np.allclose(spend, spend[:, :1]):
            raise ValueError("a whole-plan optimum needs the same spend every step.")
        gain = season.sum(axis=1) * self.gain
        totals = water_filling(gain, n_steps * self.half, lower, upper, budget)
        return np.repeat(totals.reshape(gain.shape)[:, None] / n_steps, n_steps, 1)

    def roi_budget(self, spend, min_roi, upper) -> float:
        """The most money whose best plan returns ``min_roi`` per unit (bisection).

        The return of the best plan, (forecast - forecast without spend) /
        money, falls as money grows (concave curves), so the best plan whose
        return is at least ``min_roi`` spends this much, allocated by
        :meth:`optimum` (whole-plan variables between 0 and ``upper``).
        """
        spend = np.asarray(spend, float)
        base = self.forecast(0.0 * spend).sum()
        low, high = 0.0, float(np.sum(upper))
        for _ in range(100):
            middle = 0.5 * (low + high)
            best = self.optimum(spend, middle, 0.0, upper)
            if self.forecast(best).sum() - base >= min_roi * middle:
                low = middle
            else:
                high = middle
        return low

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Forecast of each row of the plan ``X``."""
        self.n_predictions += 1
        shop, step, spend = self._cube(X)
        return pd.Series(self.forecast(spend)[shop, step], index=X.index, name="gmv")

    def plan_gradient(self, X: pd.DataFrame):
        """Forecast of ``X`` and d(total forecast)/d(each channel value)."""
        self.n_predictions += 1
        shop, step, spend = self._cube(X)
        gradient = pd.DataFrame(
            self.gradient(spend)[shop, step], index=X.index, columns=self.channels
        )
        forecast = pd.Series(self.forecast(spend)[shop, step], index=X.index)
        return forecast, gradient


def water_filling(gain, half, lower, upper, budget: float) -> np.ndarray:
    """Spend maximising ``sum gain * log(1 + x / half)`` with ``sum x = budget``.

    At the optimum every variable strictly within its bounds has the same
    marginal return ``gain / (half + x) = nu``, so ``x = clip(gain / nu - half,
    lower, upper)``, and ``nu`` is found by bisection (the spend falls as
    ``nu`` grows).
    """
    shape = np.shape(gain)
    gain, half, lower, upper = (
        np.broadcast_to(np.asarray(v, float), shape).ravel()
        for v in (gain, half, lower, upper)
    )
    if not lower.sum() <= budget <= upper.sum():
        raise ValueError("budget outside what the bounds allow.")
    low, high = 1e-12, float(np.max(gain / half)) * 2 + 1e-12
    for _ in range(200):
        nu = 0.5 * (low + high)
        if np.clip(gain / nu - half, lower, upper).sum() > budget:
            low = nu
        else:
            high = nu
    x = np.clip(gain / high - half, lower, upper)
    # put the bisection's last crumb on a variable with room
    room = np.flatnonzero((x < upper) & (x > lower))
    if room.size:
        x[room[0]] += budget - x.sum()
    return x

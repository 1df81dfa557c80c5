"""The baseline component: what the target does without media, from the calendar.

:class:`Baseline` is the component ``CausalMMMRegressor(baseline=...)`` takes.
It turns a time grid into the features of the target's baseline (a trend with
changepoints, yearly seasonality for weekly and daily data, day-of-week for
daily data) and says whether steps get a shock shared by every shop. The
coefficients, a shop's level and its deviations from the shared ones are
learned with the network (:class:`~sklearn_causalmmm.nn.TargetBaseline`);
controls (holidays, prices, ...) add their effects beside it.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from sklearn_causalmmm.panel import time_unit
from sklearn_causalmmm.utils.validation import Interval, Options, validate_params

__all__ = ["Baseline", "extend_grid"]

#: Days in a year, for yearly seasonality.
_YEAR_DAYS = 365.25
#: Shops needed before a step's shock shared by all of them is estimated.
_MIN_SHOPS_FOR_SHOCKS = 5
#: Changepoints are spread over this share of the fitted span: a slope change
#: in the last steps has too few steps to be told from noise.
_CHANGEPOINT_RANGE = 0.8


class Baseline(BaseEstimator):
    """Level, trend, seasonality and shared shocks of the target.

    Parameters
    ----------
    trend : {"linear"} or None, default="linear"
        A linear trend over the fitted span, shared by every shop, each shop
        deviating from it under a prior; or none.
    n_changepoints : int, default=0
        Changes of slope, spread evenly over the first 80 % of the fitted
        span. A forecast extrapolates the last slope: on the public panels of
        the benchmarks, 3 changepoints raised the 8-week error (0.138 to
        0.143 on Robyn's, 0.062 to 0.071 on PyMC-Marketing's example).
    yearly_seasonality : "auto", int or None, default="auto"
        Order of the yearly Fourier series (sine and cosine pairs). "auto" is 3
        when the time grid has dates and the fitted span covers at least a
        year, else none.
    weekly_seasonality : "auto", int or None, default="auto"
        Order of the day-of-week Fourier series; "auto" is 3 for daily data,
        else none.
    shocks : "auto" or bool, default="auto"
        A shock per fitted step shared by every shop (a national time effect,
        estimated from the cross-section; 0 beyond the fitted steps). "auto"
        estimates them with at least 5 shops.

    Attributes
    ----------
    feature_names_ : list of str
    shocks_ : bool
        Whether shared shocks are estimated.
    time_unit_ : str
        "day", "week", ... or "step".

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm import Baseline
    >>> weeks = pd.date_range("2022-01-03", periods=104, freq="W-MON")
    >>> baseline = Baseline(n_changepoints=1).fit(weeks, n_shops=1)
    >>> baseline.feature_names_[:3]
    ['trend', 'trend_change_1', 'yearly_sin_1']
    >>> baseline.transform(weeks).shape
    (8, 104)
    """

    _parameter_constraints: dict = {
        "trend": [Options(str, {"linear"}), None],
        "n_changepoints": [Interval(numbers.Integral, 0, None)],
        "yearly_seasonality": [
            Options(str, {"auto"}),
            Interval(numbers.Integral, 0, None),
            None,
        ],
        "weekly_seasonality": [
            Options(str, {"auto"}),
            Interval(numbers.Integral, 0, None),
            None,
        ],
        "shocks": [Options(str, {"auto"}), "boolean"],
    }

    def __init__(
        self,
        trend: str | None = "linear",
        n_changepoints: int = 0,
        yearly_seasonality: str | int | None = "auto",
        weekly_seasonality: str | int | None = "auto",
        shocks: str | bool = "auto",
    ) -> None:
        self.trend = trend
        self.n_changepoints = n_changepoints
        self.yearly_seasonality = yearly_seasonality
        self.weekly_seasonality = weekly_seasonality
        self.shocks = shocks

    def fit(self, time_index: pd.Index, n_shops: int) -> Baseline:
        """Fix the features from the fitted time grid.

        Parameters
        ----------
        time_index : pandas.Index
            The fitted grid (dates, periods or integers).
        n_shops : int

        Returns
        -------
        self
        """
        validate_params(self)
        times = _as_datetimes(time_index)
        self.time_unit_ = time_unit(time_index)
        self._origin = _position(time_index, time_index[0])
        self._span = max(_position(time_index, time_index[-1]) - self._origin, 1.0)
        self._dates = times is not None
        if self._dates:
            years = (times[-1] - times[0]) / pd.Timedelta(days=_YEAR_DAYS)
        else:
            years = 0.0
        self._yearly = _order(self.yearly_seasonality, 3 if years >= 1.0 else 0)
        self._weekly = _order(
            self.weekly_seasonality, 3 if self.time_unit_ == "day" else 0
        )
        if not self._dates:
            self._yearly = self._weekly = 0
        self.shocks_ = (
            n_shops >= _MIN_SHOPS_FOR_SHOCKS
            if self.shocks == "auto"
            else bool(self.shocks)
        )
        names = []
        if self.trend == "linear":
            names.append("trend")
            names += [f"trend_change_{k + 1}" for k in range(self.n_changepoints)]
        for period, order in (("yearly", self._yearly), ("weekday", self._weekly)):
            for k in range(1, order + 1):
                names += [f"{period}_sin_{k}", f"{period}_cos_{k}"]
        self.feature_names_ = names
        return self

    def transform(self, time_index: pd.Index) -> np.ndarray:
        """Features ``(n_features, n_steps)`` of a time grid (float32).

        The trend is 0 at the first fitted step and 1 at the last, and keeps
        its slope beyond.
        """
        columns = []
        if self.trend == "linear":
            position = np.array(
                [_position(time_index, t) for t in time_index], dtype=np.float64
            )
            trend = (position - self._origin) / self._span
            columns.append(trend)
            for k in range(self.n_changepoints):
                change = _CHANGEPOINT_RANGE * (k + 1) / (self.n_changepoints + 1)
                columns.append(np.maximum(trend - change, 0.0))
        times = _as_datetimes(time_index)
        if self._yearly:
            day = (times - pd.Timestamp("2000-01-01")) / pd.Timedelta(days=1)
            columns += _fourier(np.asarray(day, np.float64) / _YEAR_DAYS, self._yearly)
        if self._weekly:
            columns += _fourier(
                np.asarray(times.dayofweek, np.float64) / 7.0, self._weekly
            )
        if not columns:
            return np.zeros((0, len(time_index)), dtype=np.float32)
        return np.stack(columns).astype(np.float32)


def _order(value, auto: int) -> int:
    if value == "auto":
        return auto
    return 0 if value is None else int(value)


def _fourier(cycles: np.ndarray, order: int) -> list[np.ndarray]:
    angles = 2.0 * np.pi * cycles
    out = []
    for k in range(1, order + 1):
        out += [np.sin(k * angles), np.cos(k * angles)]
    return out


def _as_datetimes(time_index: pd.Index) -> pd.DatetimeIndex | None:
    if isinstance(time_index, pd.DatetimeIndex):
        return time_index.tz_localize(None) if time_index.tz else time_index
    if isinstance(time_index, pd.PeriodIndex):
        return time_index.to_timestamp()
    return None


def _position(time_index: pd.Index, value) -> float:
    """A time as a number: days for dates and periods, the value for integers."""
    if isinstance(time_index, pd.DatetimeIndex):
        return pd.Timestamp(value).value / 86400e9
    if isinstance(time_index, pd.PeriodIndex):
        return value.to_timestamp().value / 86400e9
    return float(value)


def extend_grid(grid: pd.Index, n_steps: int) -> pd.Index:
    """The first ``n_steps`` steps of ``grid`` continued at its frequency.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm._causalmmm.baseline import extend_grid
    >>> list(extend_grid(pd.RangeIndex(3), 5))
    [0, 1, 2, 3, 4]
    >>> extend_grid(pd.date_range("2024-01-01", periods=2, freq="W-MON"), 3)[-1]
    Timestamp('2024-01-15 00:00:00')
    """
    if n_steps <= len(grid):
        return grid[:n_steps]
    if isinstance(grid, pd.PeriodIndex):
        return pd.period_range(grid[0], periods=n_steps, freq=grid.freq)
    if isinstance(grid, pd.DatetimeIndex):
        freq = grid.freq or (pd.infer_freq(grid) if len(grid) > 2 else None)
        if freq is not None:
            return pd.date_range(grid[0], periods=n_steps, freq=freq, name=grid.name)
        step = grid[-1] - grid[-2]
        return grid.append(grid[-1] + step * np.arange(1, n_steps - len(grid) + 1))
    values = np.asarray(grid)
    step = values[-1] - values[-2] if len(values) > 1 else 1
    extra = values[-1] + step * np.arange(1, n_steps - len(values) + 1)
    return pd.Index(np.concatenate([values, extra]), name=grid.name)

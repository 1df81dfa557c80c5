"""Seasonal naive GMV forecasts: the yardstick every model must beat.

The forecast ignores the channel plan: it repeats the last observed GMV, the
last observed season, or the mean of the observed history.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from sklearn_causalmmm.base import PanelForecasterMixin
from sklearn_causalmmm.panel import Panel
from sklearn_causalmmm.utils.validation import Interval, Options, validate_params

__all__ = ["SeasonalNaiveRegressor"]


class SeasonalNaiveRegressor(PanelForecasterMixin, RegressorMixin, BaseEstimator):
    """Forecast GMV by repeating the past, ignoring the channels.

    Parameters
    ----------
    season_length : int, default=7
        Period used by ``strategy="seasonal"``.
    strategy : {"last", "seasonal", "mean"}, default="last"
        ``"last"`` repeats the last observed GMV before the forecast;
        ``"seasonal"`` repeats, for every step, the last observed GMV on the
        same phase of the season (``t - k * season_length``); ``"mean"``
        predicts the mean observed GMV before the forecast.
    context_columns : str or list of str, default=None
        Context columns of a DataFrame X (not used).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of the long layout.

    Attributes
    ----------
    panel_ : Panel
        The fitted panel (the history forecasts continue from).
    n_features_in_ : int
        Number of nodes of X.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
    >>> X = np.arange(13.0).reshape(1, 1, 13)  # channel spend: ignored
    >>> y = np.array([[1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 5.0]])
    >>> SeasonalNaiveRegressor().fit(X[..., :9], y).predict(X[..., 9:11])
    array([[5., 5.]])
    >>> naive = SeasonalNaiveRegressor(season_length=3, strategy="seasonal")
    >>> naive.fit(X[..., :9], y).predict(X[..., 9:])
    array([[1., 2., 5., 1.]])
    """

    _parameter_constraints: dict = {
        "season_length": [Interval(numbers.Integral, 1, None, closed="left")],
        "strategy": [Options(str, {"last", "seasonal", "mean"})],
        "context_columns": [str, list, tuple, None],
        "shop_column": [str],
        "time_column": [str],
    }

    def __init__(
        self,
        season_length: int = 7,
        strategy: str = "last",
        context_columns=None,
        shop_column: str = "shop_id",
        time_column: str = "date",
    ) -> None:
        self.season_length = season_length
        self.strategy = strategy
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column

    def _fit_panel(self, panel: Panel, rng) -> None:
        validate_params(self)

    def _forecast(self, history: Panel, plan: Panel, start: int) -> np.ndarray:
        gmv = history.values[:, -1, :start].astype(np.float64)
        observed = history.mask[:, :start]
        needed = self.season_length if self.strategy == "seasonal" else 1
        counts = observed.sum(axis=1)
        short = np.flatnonzero(counts < needed)
        if len(short):
            s = short[0]
            raise ValueError(
                f"shop {history.shop_ids[s]!r} has {counts[s]} observed GMV step(s) "
                f"before the forecast start; strategy={self.strategy!r} needs "
                f"{needed}."
            )
        n_steps = plan.n_steps
        if self.strategy == "mean":
            mean = (gmv * observed).sum(axis=1) / counts
            return np.repeat(mean[:, None], n_steps, axis=1)
        # Most recent observed step of every shop (ragged shops may end early).
        positions = np.arange(start)
        last_seen = np.where(observed, positions, -1)
        if self.strategy == "last":
            last = last_seen.max(axis=1)
            value = gmv[np.arange(len(gmv)), last]
            return np.repeat(value[:, None], n_steps, axis=1)
        # "seasonal": the latest observed step on the same phase. A shop's
        # observed steps are contiguous, so its last season_length steps hold
        # every phase.
        latest = last_seen.max(axis=1)[:, None]
        target = start + np.arange(n_steps)[None, :]
        source = latest - (latest - target) % self.season_length
        return np.take_along_axis(gmv, source, axis=1)

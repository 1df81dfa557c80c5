"""Classic marketing mix model: geometric adstock, Hill saturation, ridge.

Every input node (channel spend, funnel node) is carried over in time with a
truncated geometric adstock and bent by a Hill curve; GMV is a ridge regression
on the transformed inputs plus an intercept, weekly dummies and an optional
linear trend. The adstock decays and Hill parameters are found by bounded
L-BFGS-B on the mean squared error, with the ridge coefficients solved in
closed form for every candidate (a "variable projection": the optimiser only
sees the non-linear parameters).

The numpy :func:`geometric_adstock` and :func:`hill` defined here are the
transforms the other forecasting baselines reuse.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, RegressorMixin
from threadpoolctl import threadpool_limits

from sklearn_causalmmm.base import PanelForecasterMixin
from sklearn_causalmmm.panel import Panel
from sklearn_causalmmm.utils.validation import Interval, Options, validate_params

__all__ = ["AdstockHillRegressor", "geometric_adstock", "hill"]

# Search box of the non-linear parameters. Hill half-saturations live on the
# shop-scaled (mean 1) adstocked input, so 0.05-5 spans "saturated at a
# twentieth of the usual level" to "linear over anything seen".
_DECAY_BOUNDS = (0.0, 0.95)
_ALPHA_BOUNDS = (0.5, 5.0)
_HALF_SATURATION_BOUNDS = (0.05, 5.0)
_START = (0.5, 1.5, 1.0)  # decay, Hill shape, half-saturation of the first start


def geometric_adstock(
    x: np.ndarray, decay, max_lag: int, *, normalize: bool = True
) -> np.ndarray:
    """Truncated geometric adstock along the last axis.

    ``a_t = sum_{l=0}^{max_lag} w_l x_{t-l}`` with ``w_l = decay**l`` (divided
    by their sum when ``normalize``, so a constant input keeps its level);
    values before the first step count as 0.

    Parameters
    ----------
    x : array-like of shape (..., n_steps)
    decay : float or array-like broadcastable to ``x.shape[:-1]``
        Carryover per step, in [0, 1).
    max_lag : int
        Longest carryover in steps (0 returns ``x``).
    normalize : bool, default=True

    Returns
    -------
    ndarray of shape ``x.shape`` (float64)

    Examples
    --------
    >>> geometric_adstock([1.0, 0.0, 0.0, 0.0], 0.5, 2, normalize=False)
    array([1.  , 0.5 , 0.25, 0.  ])
    """
    decay = np.asarray(decay, dtype=np.float64)
    if np.any(decay < 0) or np.any(decay >= 1):
        raise ValueError(f"decay must be in [0, 1); got {decay}")
    weights, _ = _adstock_weights(decay, max_lag, normalize)
    return (_lag_windows(x, max_lag) * weights[..., None, :]).sum(axis=-1)


def _lag_windows(x, max_lag: int) -> np.ndarray:
    """``windows[..., t, l] = x[..., t - l]`` (0 before the first step)."""
    x = np.asarray(x, dtype=np.float64)
    padded = np.concatenate([np.zeros(x.shape[:-1] + (max_lag,)), x], axis=-1)
    return sliding_window_view(padded, max_lag + 1, axis=-1)[..., ::-1]


def _adstock_weights(decay: np.ndarray, max_lag: int, normalize: bool = True):
    """Lag weights ``(..., max_lag + 1)`` and their derivative in ``decay``."""
    lags = np.arange(max_lag + 1)
    decay = np.asarray(decay, dtype=np.float64)[..., None]
    power = decay**lags
    # d(decay**l)/d(decay) = l * decay**(l - 1), written so that 0**0 is 1
    # and l = 0 contributes nothing.
    d_power = lags * np.where(lags > 0, decay ** np.maximum(lags - 1, 0), 0.0)
    if not normalize:
        return power, d_power
    total = power.sum(axis=-1, keepdims=True)
    d_total = d_power.sum(axis=-1, keepdims=True)
    return power / total, (d_power * total - power * d_total) / total**2


def hill(x, alpha, half_saturation) -> np.ndarray:
    """Hill curve ``x**alpha / (x**alpha + g**alpha)`` for non-negative ``x``.

    The numpy twin of :func:`sklearn_causalmmm.nn.saturation.hill`, written
    the same way (a logistic in ``log x``, finite for any shape), with
    ``x = 0`` mapped to exactly 0.

    Parameters
    ----------
    x : array-like
        Non-negative input (e.g. adstocked spend).
    alpha : float or array-like
        Shape; broadcast against ``x``.
    half_saturation : float or array-like
        Input giving half the maximum response; broadcast against ``x``.

    Returns
    -------
    ndarray
        Values in [0, 1), float64.

    Examples
    --------
    >>> hill([0.0, 1.0, 3.0], 2.0, 1.0)
    array([0. , 0.5, 0.9])
    """
    x = np.asarray(x, dtype=np.float64)
    log_x = np.log(np.maximum(x, 1e-12))
    return np.where(
        x > 0, expit(np.asarray(alpha) * (log_x - np.log(half_saturation))), 0.0
    )


def fitted_rows(fitted: Panel, history: Panel) -> np.ndarray:
    """Rows of ``fitted`` holding the shops of ``history``.

    ``_forecast`` receives the history of the plan's shops only; per-shop
    parameters are looked up with these rows.
    """
    positions = {shop: row for row, shop in enumerate(fitted.shop_ids)}
    return np.array([positions[shop] for shop in history.shop_ids], dtype=np.intp)


def _season_dummies(positions: np.ndarray, season_length: int | None) -> np.ndarray:
    """One column per season phase except phase 0 (the intercept carries it)."""
    if season_length is None or season_length < 2:
        return np.zeros((len(positions), 0))
    phase = positions % season_length
    return (phase[:, None] == np.arange(1, season_length)).astype(np.float64)


class AdstockHillRegressor(PanelForecasterMixin, RegressorMixin, BaseEstimator):
    """Adstock + Hill + ridge marketing mix model, per shop or pooled.

    For shop ``s`` (all series divided by the shop's mean level)::

        gmv_t = b0 + sum_c beta_c * hill(adstock(x_c)_t; alpha_c, g_c)
                + season_{t mod L} + trend * t / T + noise

    Parameters
    ----------
    adstock_max_lag : int, default=6
        Longest carryover in steps of the geometric adstock (normalised
        weights ``decay**l``, ``l = 0..adstock_max_lag``).
    pooling : {"shop", "pooled"}, default="shop"
        ``"shop"`` fits every shop on its own; ``"pooled"`` fits one model
        (decays, Hill curves, coefficients) on all shops' scaled series.
    alpha : float, default=1.0
        Ridge penalty on every coefficient except the intercept.
    season_length : int or None, default=7
        Period of the seasonal dummies (None or 1: no seasonality).
    trend : bool, default=False
        Add a linear trend in time, extrapolated into the forecast.
    n_init : int, default=3
        Starts of L-BFGS-B: one at the centre of the search box, the others
        drawn at random in it; the best fit is kept.
    max_iter : int, default=200
        L-BFGS-B iterations per start.
    random_state : int, RandomState instance or None, default=None
        Draws the random starts.
    context_columns : str or list of str, default=None
        Context columns of a DataFrame X (not used by the model).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of the long layout.

    Attributes
    ----------
    decay_ : ndarray of shape (n_shops, n_features_in_)
        Geometric adstock decay of every input of every shop.
    hill_alpha_ : ndarray of shape (n_shops, n_features_in_)
        Hill shape.
    hill_half_saturation_ : ndarray of shape (n_shops, n_features_in_)
        Hill half-saturation, in units of the shop's mean input.
    coef_ : ndarray of shape (n_shops, n_features_in_)
        GMV (raw units) an input adds per step when fully saturated.
    intercept_ : ndarray of shape (n_shops,)
        Baseline GMV (raw units) on season phase 0.
    mse_ : ndarray of shape (n_shops,)
        Training MSE on the scaled GMV (pooled fits repeat the pooled value).
    panel_ : Panel
        The fitted panel.
    n_features_in_ : int
        Number of inputs (nodes of X).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.adstock_hill import AdstockHillRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 2, size=(2, 1, 60))
    >>> y = 5 + 3 * X[:, 0] + rng.normal(0, 0.1, size=(2, 60))
    >>> model = AdstockHillRegressor(adstock_max_lag=2, random_state=0)
    >>> model.fit(X[..., :53], y[..., :53]).predict(X[..., 53:]).shape
    (2, 7)
    >>> model.decay_.shape
    (2, 1)
    """

    _parameter_constraints: dict = {
        "adstock_max_lag": [Interval(numbers.Integral, 0, None, closed="left")],
        "pooling": [Options(str, {"shop", "pooled"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "season_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "trend": ["boolean"],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "context_columns": [str, list, tuple, None],
        "shop_column": [str],
        "time_column": [str],
    }

    def __init__(
        self,
        adstock_max_lag: int = 6,
        pooling: str = "shop",
        alpha: float = 1.0,
        season_length: int | None = 7,
        trend: bool = False,
        n_init: int = 3,
        max_iter: int = 200,
        random_state=None,
        context_columns=None,
        shop_column: str = "shop_id",
        time_column: str = "date",
    ) -> None:
        self.adstock_max_lag = adstock_max_lag
        self.pooling = pooling
        self.alpha = alpha
        self.season_length = season_length
        self.trend = trend
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column

    # ------------------------------------------------------------------ design
    def _fixed_columns(self, n_steps: int) -> np.ndarray:
        """Intercept, season dummies and trend ``(n_steps, n_fixed)`` from step 0."""
        positions = np.arange(n_steps)
        columns = [
            np.ones((n_steps, 1)),
            _season_dummies(positions, self.season_length),
        ]
        if self.trend:
            columns.append((positions / self._trend_span)[:, None])
        return np.hstack(columns)

    def _design(self, inputs: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Regressors ``(n_shops, n_steps, n_features)`` from scaled inputs.

        ``inputs`` is ``(n_shops, n_channels, n_steps)`` starting on grid step
        0, so season phases and the trend line up with the fitted grid.
        ``params`` is ``(n_shops, 3, n_channels)``: decay, Hill shape, half-sat.
        """
        n_shops, _, n_steps = inputs.shape
        adstocked = geometric_adstock(inputs, params[:, 0], self.adstock_max_lag)
        media = hill(adstocked, params[:, 1, :, None], params[:, 2, :, None])
        fixed = self._fixed_columns(n_steps)
        fixed = np.broadcast_to(fixed, (n_shops, *fixed.shape))
        return np.concatenate([media.transpose(0, 2, 1), fixed], axis=-1)

    def _fit_group(
        self, inputs, target, mask, rng
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Fit one parameter set shared by the shops of ``inputs``.

        Returns the non-linear parameters ``(3, n_channels)``, the ridge
        coefficients and the training MSE.
        """
        n_shops, n_channels, n_steps = inputs.shape
        windows = _lag_windows(inputs, self.adstock_max_lag)  # (S, C, T, L + 1)
        rows = mask.reshape(-1)
        fixed = np.tile(self._fixed_columns(n_steps), (n_shops, 1))[rows]
        y = target.reshape(-1)[rows]
        penalty = np.full(n_channels + fixed.shape[1], float(self.alpha))
        penalty[n_channels] = 0.0  # the intercept is not shrunk
        n_rows = len(y)

        def objective(theta, with_grad=True):
            decay, shape, half = theta.reshape(3, n_channels)[..., None]
            weights, d_weights = _adstock_weights(decay[:, 0], self.adstock_max_lag)
            adstocked = (windows * weights[:, None, :]).sum(axis=-1)  # (S, C, T)
            media = hill(adstocked, shape, half)
            columns = media.transpose(0, 2, 1).reshape(-1, n_channels)[rows]
            design = np.hstack([columns, fixed])
            gram = design.T @ design + np.diag(penalty)
            beta = np.linalg.solve(gram + 1e-9 * np.eye(len(gram)), design.T @ y)
            resid = y - design @ beta
            loss = (resid @ resid + beta @ (penalty * beta)) / n_rows
            if not with_grad:
                return beta, resid @ resid / n_rows
            # beta minimises the penalised loss, so (envelope theorem) the
            # gradient only needs the derivative of the media columns.
            log_ratio = np.log(np.maximum(adstocked, 1e-12)) - np.log(half)
            slope = media * (1.0 - media)
            d_adstock = (windows * d_weights[:, None, :]).sum(axis=-1)
            d_media = np.stack(
                [
                    slope * shape / np.maximum(adstocked, 1e-12) * d_adstock,
                    slope * log_ratio,
                    -slope * shape / half,
                ]
            )  # (3, S, C, T)
            d_columns = d_media.transpose(0, 1, 3, 2).reshape(3, -1, n_channels)[
                :, rows
            ]
            grad = -2.0 / n_rows * beta[:n_channels] * (resid @ d_columns)
            return loss, grad.reshape(-1)

        bounds = (
            [_DECAY_BOUNDS] * n_channels
            + [_ALPHA_BOUNDS] * n_channels
            + [_HALF_SATURATION_BOUNDS] * n_channels
        )
        low, high = np.array(bounds).T
        starts = [np.repeat(_START, n_channels)]
        starts += [rng.uniform(low, high) for _ in range(self.n_init - 1)]
        best = None
        for start in starts:
            result = minimize(
                objective,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter},
            )
            if best is None or result.fun < best.fun:
                best = result
        beta, mse = objective(best.x, with_grad=False)
        return best.x.reshape(3, n_channels), beta, float(mse)

    # ------------------------------------------------------------------ hooks
    def _fit_panel(self, panel: Panel, rng) -> None:
        validate_params(self)
        scaled = panel.scaled().astype(np.float64)
        inputs, target, mask = scaled[:, :-1], scaled[:, -1], panel.mask
        n_shops, n_channels, n_steps = inputs.shape
        self._trend_span = float(n_steps)
        if self.pooling == "pooled":
            groups = [slice(None)]
        else:
            groups = [slice(s, s + 1) for s in range(n_shops)]
        # The problems are tiny, so a multi-threaded BLAS only adds overhead:
        # on a busy machine L-BFGS-B's BLAS calls then run ~15x slower.
        with threadpool_limits(limits=1, user_api="blas"):
            fits = [self._fit_group(inputs[g], target[g], mask[g], rng) for g in groups]
        repeat = n_shops if self.pooling == "pooled" else 1
        params = np.repeat(np.stack([f[0] for f in fits]), repeat, axis=0)
        coef = np.repeat(np.stack([f[1] for f in fits]), repeat, axis=0)
        self._params = params
        self._coef_scaled = coef
        gmv_scale = panel.scale[:, -1].astype(np.float64)
        self.decay_ = params[:, 0].copy()
        self.hill_alpha_ = params[:, 1].copy()
        self.hill_half_saturation_ = params[:, 2].copy()
        self.coef_ = coef[:, :n_channels] * gmv_scale[:, None]
        self.intercept_ = coef[:, n_channels] * gmv_scale
        self.mse_ = np.repeat([f[2] for f in fits], repeat)

    def _forecast(self, history: Panel, plan: Panel, start: int) -> np.ndarray:
        rows = fitted_rows(self.panel_, history)
        scale = history.scale.astype(np.float64)
        # Adstock runs over history + plan so that spend before the plan keeps
        # acting on its first steps.
        raw = np.concatenate([history.values[:, :-1, :start], plan.values], axis=-1)
        inputs = raw / scale[:, :-1, None]
        design = self._design(inputs, self._params[rows])[:, start:]
        forecast = np.einsum("stf,sf->st", design, self._coef_scaled[rows])
        return forecast * scale[:, -1, None]

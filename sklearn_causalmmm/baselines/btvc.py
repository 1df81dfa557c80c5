"""Bayesian time-varying coefficients (BTVC), the kernel-knot regression of Orbit's KTR.

For every shop, on its scaled series (each node divided by its mean level)::

    gmv_t = level_t + season_t + sum_c beta_{c,t} * m_{c,t} + noise_t

where ``m_c`` is input ``c`` after fixed media transforms (geometric adstock,
then a Hill curve): KTR regresses on media the user has transformed, and fixed
transforms keep the model linear in its weights while bounding the effect of
spend far above anything seen in the fit.

The level and every coefficient path are smooth blends of a few *knot* values
spread evenly over the fitted period, ``beta_{c,t} = sum_k K(t, k) b_{c,k}``
with a Gaussian kernel ``K`` normalised over knots; consecutive knots follow a
Gaussian random walk, so a coefficient can drift but not jump. Seasonality is
a Fourier series with fixed weights. A mean-field Gaussian posterior over all
knot and season weights is fitted by maximising a reparameterised Monte-Carlo
ELBO with Adam, for all shops at once (each shop keeps its own posterior); the
noise scale of each shop is a point estimate fitted jointly.

Forecasts hold the level and the coefficients of the last step before the
forecast (at the end of the fitted period that is essentially the last knot)
and add the plan's inputs times those coefficients plus the seasonality.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from sklearn_causalmmm.base import PanelForecasterMixin, forecast_origin
from sklearn_causalmmm.baselines.adstock_hill import (
    fitted_rows,
    geometric_adstock,
    hill,
)
from sklearn_causalmmm.panel import Panel
from sklearn_causalmmm.utils.optim import minimise
from sklearn_causalmmm.utils.validation import Interval, validate_params

__all__ = ["BTVCRegressor", "knot_kernel"]

# Gaussian kernel width in units of the knot distance: at a knot the
# neighbouring knots weigh exp(-2) ~ 0.14, so paths are smooth yet still
# follow their knots.
_BANDWIDTH = 0.5
# Prior scale of the Fourier weights on the scaled GMV (mean level 1).
_SEASON_PRIOR_SCALE = 1.0
# Initial posterior standard deviation: small, so the first Adam steps see an
# almost deterministic regression.
_INIT_STD = 0.01


def knot_kernel(n_steps: int, knot_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Knot positions and the normalised Gaussian kernel that blends them.

    Knots are spread evenly from the first to the last step, about
    ``knot_distance`` steps apart (at least two knots).

    Returns
    -------
    knots : ndarray of shape (n_knots,)
        Knot positions on the time grid.
    kernel : ndarray of shape (n_steps, n_knots)
        Rows sum to 1; ``path = kernel @ knot_values``.

    Examples
    --------
    >>> knots, kernel = knot_kernel(5, 2)
    >>> knots
    array([0., 2., 4.])
    >>> kernel.sum(axis=1)
    array([1., 1., 1., 1., 1.])
    """
    n_knots = max(2, math.ceil((n_steps - 1) / knot_distance) + 1)
    knots = np.linspace(0.0, n_steps - 1, n_knots)
    width = _BANDWIDTH * max((n_steps - 1) / (n_knots - 1), 1.0)
    distance = (np.arange(n_steps)[:, None] - knots[None, :]) / width
    kernel = np.exp(-0.5 * distance**2)
    return knots, kernel / kernel.sum(axis=1, keepdims=True)


def _fourier(positions: np.ndarray, period: int | None, order: int) -> np.ndarray:
    """Sine and cosine columns ``(len(positions), 2 * order')`` of the season."""
    if period is None or period < 2 or order == 0:
        return np.zeros((len(positions), 0))
    order = min(order, period // 2)
    angle = 2 * np.pi * positions[:, None] * np.arange(1, order + 1) / period
    return np.hstack([np.sin(angle), np.cos(angle)])


class BTVCRegressor(PanelForecasterMixin, RegressorMixin, BaseEstimator):
    """Bayesian time-varying-coefficient regression of GMV (kernel knots, VI).

    Parameters
    ----------
    coef_knot_distance : float, default=14
        Approximate steps between coefficient knots (fewer knots: smoother
        coefficient paths).
    level_knot_distance : float, default=14
        Approximate steps between level knots.
    coef_prior_scale : float, default=1.0
        Prior standard deviation of the first coefficient knot (on scaled data,
        where every input and GMV have mean level 1).
    coef_random_walk_scale : float, default=0.1
        Prior standard deviation of the change between consecutive
        coefficient knots.
    level_random_walk_scale : float, default=0.1
        Same for the level knots.
    season_length : int or None, default=7
        Period of the Fourier seasonality (None or 1: none).
    fourier_order : int, default=2
        Number of sine/cosine pairs (at most ``season_length // 2``).
    adstock_decay : float or None, default=0.5
        Decay of the fixed geometric adstock applied to every scaled input
        (None: no carryover).
    adstock_max_lag : int, default=6
        Longest carryover of that adstock.
    half_saturation : float or None, default=1.0
        Half-saturation of the fixed Hill curve (shape 1) applied after the
        adstock, in units of the shop's mean input (None: no saturation, the
        model is linear in the inputs).
    lr : float, default=0.05
        Adam learning rate.
    max_iter : int, default=600
        Adam steps (full batch over all shops).
    n_mc_samples : int, default=4
        Posterior draws per ELBO estimate.
    random_state : int, RandomState instance or None, default=None
        Seeds the Monte-Carlo draws (fits on one machine are bit-identical for
        a fixed seed and number of torch threads, and leave torch's global RNG
        untouched).
    context_columns : str or list of str, default=None
        Context columns of a DataFrame X (not used by the model).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of the long layout.

    Attributes
    ----------
    coef_ : ndarray of shape (n_shops, n_features_in_, n_steps)
        Posterior mean coefficient of every input at every fitted step, as raw
        GMV per unit of the transformed input: per unit of the Hill output
        (0 to 1) when ``half_saturation`` is set, else per raw unit of the
        (adstocked) input.
    coef_knots_ : ndarray of shape (n_shops, n_features_in_, n_knots)
        Posterior mean of the coefficient knots (raw units).
    coef_knots_std_ : ndarray of shape (n_shops, n_features_in_, n_knots)
        Posterior standard deviation of the knots (raw units).
    knot_positions_ : ndarray of shape (n_knots,)
        Positions of the coefficient knots on the fitted time grid.
    level_ : ndarray of shape (n_shops, n_steps)
        Posterior mean level (raw GMV).
    noise_scale_ : ndarray of shape (n_shops,)
        Fitted noise standard deviation (raw GMV).
    elbo_ : ndarray of shape (max_iter,)
        ELBO per observed step along training (a Monte-Carlo estimate, up to
        an additive constant).
    panel_ : Panel
        The fitted panel.
    n_features_in_ : int
        Number of inputs (nodes of X).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.btvc import BTVCRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 2, size=(2, 1, 60))
    >>> y = 5 + np.linspace(1, 3, 60) * X[:, 0] + rng.normal(0, 0.1, (2, 60))
    >>> model = BTVCRegressor(max_iter=100, random_state=0)
    >>> model.fit(X[..., :53], y[..., :53]).predict(X[..., 53:]).shape
    (2, 7)
    >>> model.coef_.shape
    (2, 1, 53)
    """

    _parameter_constraints: dict = {
        "coef_knot_distance": [Interval(numbers.Real, 1, None, closed="left")],
        "level_knot_distance": [Interval(numbers.Real, 1, None, closed="left")],
        "coef_prior_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "coef_random_walk_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "level_random_walk_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "season_length": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "fourier_order": [Interval(numbers.Integral, 0, None, closed="left")],
        "adstock_decay": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "adstock_max_lag": [Interval(numbers.Integral, 0, None, closed="left")],
        "half_saturation": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_mc_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "context_columns": [str, list, tuple, None],
        "shop_column": [str],
        "time_column": [str],
    }

    def __init__(
        self,
        coef_knot_distance: float = 14,
        level_knot_distance: float = 14,
        coef_prior_scale: float = 1.0,
        coef_random_walk_scale: float = 0.1,
        level_random_walk_scale: float = 0.1,
        season_length: int | None = 7,
        fourier_order: int = 2,
        adstock_decay: float | None = 0.5,
        adstock_max_lag: int = 6,
        half_saturation: float | None = 1.0,
        lr: float = 0.05,
        max_iter: int = 600,
        n_mc_samples: int = 4,
        random_state=None,
        context_columns=None,
        shop_column: str = "shop_id",
        time_column: str = "date",
    ) -> None:
        self.coef_knot_distance = coef_knot_distance
        self.level_knot_distance = level_knot_distance
        self.coef_prior_scale = coef_prior_scale
        self.coef_random_walk_scale = coef_random_walk_scale
        self.level_random_walk_scale = level_random_walk_scale
        self.season_length = season_length
        self.fourier_order = fourier_order
        self.adstock_decay = adstock_decay
        self.adstock_max_lag = adstock_max_lag
        self.half_saturation = half_saturation
        self.lr = lr
        self.max_iter = max_iter
        self.n_mc_samples = n_mc_samples
        self.random_state = random_state
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column

    # ------------------------------------------------------------------ model
    def _inputs(self, raw: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Regressors: scaled inputs, adstocked and saturated when asked."""
        inputs = raw / scale[..., None]
        if self.adstock_decay is not None:
            inputs = geometric_adstock(inputs, self.adstock_decay, self.adstock_max_lag)
        if self.half_saturation is not None:
            inputs = hill(inputs, 1.0, self.half_saturation)
        return inputs

    def _prior_root(self) -> np.ndarray:
        """Matrix ``R`` with ``log p(z) = -0.5 ||R (z - z0)||^2 + const``.

        Its rows are the prior's independent normal terms, each divided by
        its scale: the first level knot, the level steps, the first
        coefficient knot of every input, the coefficient steps and the
        Fourier weights. ``z0`` is the shop's mean GMV on every level knot.
        """
        n_level, n_knots = self._n_level, self._n_coef_knots
        n_inputs = self.n_features_in_
        n_season = self._season(np.arange(1)).shape[1]

        def walk(n: int, first_scale: float, step_scale: float) -> np.ndarray:
            rows = np.eye(n) - np.eye(n, k=-1)
            rows[0] /= first_scale
            rows[1:] /= step_scale
            return rows

        blocks = [walk(n_level, 1.0, self.level_random_walk_scale)]
        coef_walk = walk(n_knots, self.coef_prior_scale, self.coef_random_walk_scale)
        blocks += [coef_walk] * n_inputs
        blocks.append(np.eye(n_season) / _SEASON_PRIOR_SCALE)
        root = np.zeros((sum(len(b) for b in blocks),) * 2)
        offset = 0
        for block in blocks:
            root[offset : offset + len(block), offset : offset + len(block)] = block
            offset += len(block)
        return root

    def _fit_panel(self, panel: Panel, rng) -> None:
        validate_params(self)
        scale = panel.scale.astype(np.float64)
        inputs = self._inputs(panel.values[:, :-1].astype(np.float64), scale[:, :-1])
        target = panel.scaled()[:, -1].astype(np.float64)
        mask = panel.mask.astype(np.float64)
        n_shops, n_inputs, n_steps = inputs.shape

        self._level_kernel = knot_kernel(n_steps, self.level_knot_distance)[1]
        knots, self._coef_kernel = knot_kernel(n_steps, self.coef_knot_distance)
        self._n_level = self._level_kernel.shape[1]
        self._n_coef_knots = len(knots)
        # Linear design per shop: gmv = design @ z with z = [level knots,
        # coefficient knots (input-major), Fourier weights].
        season = self._season(np.arange(n_steps))
        coef_columns = inputs[..., None] * self._coef_kernel  # (S, C, T, K)
        design = np.concatenate(
            [
                np.broadcast_to(
                    self._level_kernel, (n_shops, *self._level_kernel.shape)
                ),
                coef_columns.transpose(0, 2, 1, 3).reshape(n_shops, n_steps, -1),
                np.broadcast_to(season, (n_shops, *season.shape)),
            ],
            axis=-1,
        )
        observed = np.maximum(mask.sum(axis=1), 1.0)
        level_mean = (target * mask).sum(axis=1) / observed
        spread = np.sqrt(((target - level_mean[:, None]) ** 2 * mask).sum(1) / observed)

        seed = int(rng.randint(np.iinfo(np.int32).max))
        # Tensors are tiny: extra threads only add synchronisation (4x slower
        # on a busy 2-core machine).
        with torch.random.fork_rng(devices=[]), threadpool_limits(limits=1):
            torch.manual_seed(seed)
            mean, std, log_noise, elbo = self._variational_fit(
                torch.as_tensor(design),
                torch.as_tensor(target),
                torch.as_tensor(mask),
                torch.as_tensor(level_mean),
                torch.as_tensor(self._prior_root()),
                torch.as_tensor(np.log(np.maximum(spread, 1e-3))),
            )
        self._posterior_mean, self._posterior_std = mean, std
        self._noise = np.exp(log_noise)
        self.elbo_ = elbo
        self._describe(panel)

    def _variational_fit(
        self, design, target, mask, level_mean, prior_root, log_noise_init
    ):
        n_shops, _, n_latent = design.shape
        mean = torch.zeros(n_shops, n_latent, dtype=torch.float64)
        mean[:, : self._n_level] = level_mean[:, None]
        mean.requires_grad_(True)
        raw_std = torch.full(
            (n_shops, n_latent), math.log(math.expm1(_INIT_STD)), dtype=torch.float64
        ).requires_grad_(True)
        log_noise = log_noise_init.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([mean, raw_std, log_noise], lr=self.lr)
        prior_mean = torch.zeros_like(mean)
        prior_mean[:, : self._n_level] = level_mean[:, None]
        n_observed = mask.sum()

        def negative_elbo() -> torch.Tensor:
            std = torch.nn.functional.softplus(raw_std)
            noise = torch.randn(
                self.n_mc_samples, n_shops, n_latent, dtype=torch.float64
            )
            z = mean + std * noise  # reparameterised draws
            prediction = torch.einsum("std,nsd->nst", design, z)
            resid = (target - prediction) / log_noise.exp()[:, None]
            log_lik = (-0.5 * resid**2 - log_noise[:, None]) * mask
            log_prior = -0.5 * ((z - prior_mean) @ prior_root.T).pow(2).sum(-1)
            expected = (log_lik.sum(-1) + log_prior).mean(0)
            return -(expected.sum() + torch.log(std).sum()) / n_observed

        trace = -np.asarray(minimise(negative_elbo, optimizer, self.max_iter))
        std = torch.nn.functional.softplus(raw_std)
        return (
            mean.detach().numpy().copy(),
            std.detach().numpy().copy(),
            log_noise.detach().numpy().copy(),
            trace,
        )

    def _season(self, positions: np.ndarray) -> np.ndarray:
        return _fourier(positions, self.season_length, self.fourier_order)

    def _split(self, z: np.ndarray):
        """Level knots, coefficient knots ``(..., n_inputs, n_knots)``, seasonality."""
        n_level, n_knots = self._n_level, self._n_coef_knots
        stop = n_level + self.n_features_in_ * n_knots
        coefs = z[..., n_level:stop].reshape(
            *z.shape[:-1], self.n_features_in_, n_knots
        )
        return z[..., :n_level], coefs, z[..., stop:]

    def _describe(self, panel: Panel) -> None:
        """Public attributes in raw units from the scaled posterior."""
        gmv_scale = panel.scale[:, -1].astype(np.float64)
        # A Hill output has no unit; otherwise the regressor is the input over
        # its scale (the adstock is linear).
        input_scale = panel.scale[:, :-1].astype(np.float64)
        if self.half_saturation is not None:
            input_scale = np.ones_like(input_scale)
        per_unit = gmv_scale[:, None] / input_scale
        level, coefs, _ = self._split(self._posterior_mean)
        _, coef_std, _ = self._split(self._posterior_std)
        self.coef_knots_ = coefs * per_unit[..., None]
        self.coef_knots_std_ = coef_std * per_unit[..., None]
        self.coef_ = self.coef_knots_ @ self._coef_kernel.T
        self.knot_positions_ = knot_kernel(panel.n_steps, self.coef_knot_distance)[0]
        self.level_ = (level @ self._level_kernel.T) * gmv_scale[:, None]
        self.noise_scale_ = self._noise * gmv_scale

    # ------------------------------------------------------------------ forecast
    def _paths(
        self, z: np.ndarray, history: Panel, plan: Panel, start: int
    ) -> np.ndarray:
        """Scaled GMV ``(..., n_shops, n_plan)`` for draws ``z (..., n_shops, D)``."""
        if start < 1:
            raise ValueError(
                "the channel plan starts on the first fitted step; BTVC needs at "
                "least one fitted step before the forecast."
            )
        scale = history.scale.astype(np.float64)
        raw = np.concatenate([history.values[:, :-1, :start], plan.values], axis=-1)
        inputs = self._inputs(raw, scale[:, :-1])[..., start:]
        level, coefs, season = self._split(z)
        # Hold the level and the coefficients of the step before the forecast.
        hold = min(start, self.panel_.n_steps) - 1
        level_now = level @ self._level_kernel[hold]
        coef_now = coefs @ self._coef_kernel[hold]  # (..., n_shops, n_inputs)
        seasonal = season @ self._season(start + np.arange(plan.n_steps)).T
        media = np.einsum("...sc,sct->...st", coef_now, inputs)
        return level_now[..., None] + seasonal + media

    def _forecast(self, history: Panel, plan: Panel, start: int) -> np.ndarray:
        rows = fitted_rows(self.panel_, history)
        gmv_scale = history.scale[:, -1].astype(np.float64)
        return (
            self._paths(self._posterior_mean[rows], history, plan, start)
            * gmv_scale[:, None]
        )

    def predict_interval(
        self, X, coverage: float = 0.9, n_draws: int = 200, context=None
    ):
        """Central posterior predictive interval of GMV over the plan ``X``.

        Draws the knot and season weights from the fitted posterior, adds
        Gaussian noise of the fitted scale, and returns the
        ``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` quantiles. Like the
        mean forecast, draws hold the coefficients of the step before the
        plan (no random-walk drift beyond it), so the interval reflects
        posterior and noise uncertainty only. The draws are seeded by
        ``random_state`` when it is an int (else by 0), so repeated calls
        agree.

        Parameters
        ----------
        X : array-like or DataFrame
            Channel plan, as for :meth:`predict`.
        coverage : float, default=0.9
            In (0, 1).
        n_draws : int, default=200
        context : array-like, default=None
            Ignored (accepted for symmetry with :meth:`predict`).

        Returns
        -------
        lower, upper : ndarray or Series
            In the layout of :meth:`predict`.
        """
        check_is_fitted(self, "panel_")
        if not 0 < coverage < 1:
            raise ValueError(f"coverage must be in (0, 1); got {coverage!r}")
        if (
            isinstance(n_draws, bool)
            or not isinstance(n_draws, numbers.Integral)
            or n_draws < 2
        ):
            raise ValueError(f"n_draws must be an integer >= 2; got {n_draws!r}")
        # Same plan handling as PanelForecasterMixin.predict.
        plan = self._convert(X, None, context, min_steps=1)
        if plan.n_nodes != self.n_features_in_:
            raise ValueError(
                f"X has {plan.n_nodes} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        shop_rows, start = forecast_origin(self.panel_, plan)
        history = self.panel_.subset(shop_rows)
        seed = (
            self.random_state if isinstance(self.random_state, numbers.Integral) else 0
        )
        rng = np.random.default_rng(seed)
        mean = self._posterior_mean[shop_rows]
        std = self._posterior_std[shop_rows]
        z = mean + std * rng.standard_normal((n_draws, *mean.shape))
        paths = self._paths(z, history, plan, start)
        paths = paths + self._noise[shop_rows, None] * rng.standard_normal(paths.shape)
        paths = paths * history.scale[:, -1, None].astype(np.float64)
        lower, upper = np.quantile(
            paths, [(1 - coverage) / 2, (1 + coverage) / 2], axis=0
        )
        return plan.target_to_layout(lower), plan.target_to_layout(upper)

"""Sliding-window training and rolling forecasts shared by the neural baselines.

A sample is one (shop, step ``t``) pair of the scaled panel: the last
``window`` steps of every node (inputs and GMV) before ``t``, the known inputs
at ``t`` and the shop's context; the target is GMV at ``t``. One torch module
(LSTM, Wide & Deep, ...) is trained on the samples of all shops through a
skorch :class:`~skorch.NeuralNetRegressor` built inside ``fit``. Validation,
when asked for, uses the samples whose target lies in the last steps of the
fitted period (never a random or leading subset, which would leak the future
into training). Forecasts roll forward one step at a time, feeding the
model's own GMV predictions back as lagged GMV.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from skorch import NeuralNetRegressor
from skorch.callbacks import EarlyStopping
from threadpoolctl import threadpool_limits
from torch.utils.data import Subset

from sklearn_causalmmm.panel import Panel
from sklearn_causalmmm.utils.validation import Interval, Options, validate_params

__all__ = [
    "WINDOWED_CONSTRAINTS",
    "TailIndexSplit",
    "WindowedForecasterMixin",
    "make_windows",
    "roll_forecast",
]

# Parameter constraints every windowed regressor shares.
WINDOWED_CONSTRAINTS: dict = {
    "window": [Interval(numbers.Integral, 1, None, closed="left")],
    "lr": [Interval(numbers.Real, 0, None, closed="neither")],
    "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    "batch_size": [
        Interval(numbers.Integral, 1, None, closed="left"),
        Options(numbers.Integral, {-1}),
    ],
    "validation_fraction": [Interval(numbers.Real, 0, 0.5, closed="left")],
    "patience": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
    "device": [str, None],
    "verbose": ["verbose"],
    "context_columns": [str, list, tuple, None],
    "shop_column": [str],
    "time_column": [str],
}


def make_windows(
    scaled: np.ndarray, mask: np.ndarray, context: np.ndarray, window: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Every fully observed (shop, step) sample of a scaled panel.

    Parameters
    ----------
    scaled : ndarray of shape (n_shops, n_nodes, n_steps)
        Scaled values; the target is the last node.
    mask : ndarray of shape (n_shops, n_steps), bool
    context : ndarray of shape (n_shops, n_context)
    window : int
        Number of past steps a sample sees.

    Returns
    -------
    inputs : dict
        ``"past"`` ``(n_samples, n_nodes, window)``, ``"known"``
        ``(n_samples, n_nodes - 1)`` (inputs at the target step) and
        ``"context"`` ``(n_samples, n_context)``, all float32.
    target : ndarray of shape (n_samples, 1), float32
    step : ndarray of shape (n_samples,)
        Grid position of each sample's target.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.arange(12.0).reshape(1, 2, 6)  # 1 shop, input then GMV
    >>> inputs, target, step = make_windows(
    ...     values, np.ones((1, 6), bool), np.zeros((1, 0)), window=2)
    >>> inputs["past"][0]
    array([[0., 1.], [6., 7.]], dtype=float32)
    >>> inputs["known"][0], target[0], step.tolist()
    (array([2.], dtype=float32), array([8.], dtype=float32), [2, 3, 4, 5])
    """
    n_shops, n_nodes, n_steps = scaled.shape
    # blocks[s, j, i, k] = scaled[s, j, i + k]: window + 1 consecutive steps.
    blocks = sliding_window_view(scaled, window + 1, axis=-1)
    complete = sliding_window_view(mask, window + 1, axis=-1).all(axis=-1)
    shop, start = np.nonzero(complete)
    chosen = blocks[shop, :, start]  # (n_samples, n_nodes, window + 1)
    inputs = {
        "past": np.ascontiguousarray(chosen[..., :window], dtype=np.float32),
        "known": np.ascontiguousarray(chosen[:, :-1, window], dtype=np.float32),
        "context": np.ascontiguousarray(context[shop], dtype=np.float32),
    }
    target = np.ascontiguousarray(chosen[:, -1, window, None], dtype=np.float32)
    return inputs, target, start + window


def roll_forecast(
    predict_step, past: np.ndarray, plan: np.ndarray, context: np.ndarray
) -> np.ndarray:
    """Multi-step forecast by feeding each predicted GMV back as the newest lag.

    Parameters
    ----------
    predict_step : callable
        ``predict_step(inputs) -> (n_shops,)`` scaled GMV for the dict of
        :func:`make_windows`.
    past : ndarray of shape (n_shops, n_nodes, window)
        Scaled values of the steps just before the forecast.
    plan : ndarray of shape (n_shops, n_nodes - 1, n_plan)
        Scaled known inputs of the forecast steps.
    context : ndarray of shape (n_shops, n_context)

    Returns
    -------
    ndarray of shape (n_shops, n_plan)
        Scaled GMV.
    """
    past = np.asarray(past, dtype=np.float32).copy()
    context = np.asarray(context, dtype=np.float32)
    out = np.empty((past.shape[0], plan.shape[-1]))
    for h in range(plan.shape[-1]):
        known = np.asarray(plan[..., h], dtype=np.float32)
        gmv = np.asarray(
            predict_step({"past": past, "known": known, "context": context})
        )
        out[:, h] = gmv.reshape(-1)
        newest = np.concatenate([known, out[:, h, None].astype(np.float32)], axis=1)
        past = np.concatenate([past[..., 1:], newest[..., None]], axis=-1)
    return out


class TailIndexSplit:
    """skorch ``train_split`` validating on a fixed set of sample positions.

    Built by :class:`WindowedForecasterMixin` with the samples whose target
    lies in the last steps of the fitted period.

    Parameters
    ----------
    valid : ndarray of bool
        True for validation samples, one entry per sample of the dataset.

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> split = TailIndexSplit(np.array([False, False, True]))
    >>> train, valid = split(Dataset(np.zeros((3, 1)), np.zeros(3)))
    >>> train.indices.tolist(), valid.indices.tolist()
    ([0, 1], [2])
    """

    def __init__(self, valid: np.ndarray):
        self.valid = valid

    def __call__(self, dataset, y=None, **fit_params):
        if len(dataset) != len(self.valid):
            raise ValueError(
                f"the dataset has {len(dataset)} samples but the split was "
                f"built for {len(self.valid)}."
            )
        return (
            Subset(dataset, np.flatnonzero(~self.valid)),
            Subset(dataset, np.flatnonzero(self.valid)),
        )


def _silent(*args, **kwargs) -> None:
    return None


class WindowedForecasterMixin:
    """Fit/forecast hooks of a window-based torch regressor trained through skorch.

    Subclasses list it left of :class:`PanelForecasterMixin`, define the
    shared parameters (``window``, ``lr``, ``max_epochs``, ``batch_size``,
    ``validation_fraction``, ``patience``, ``random_state``, ``device``,
    ``verbose``) and implement ``_module(n_nodes, n_context) -> (module class,
    module keyword arguments)``.
    """

    @property
    def _min_fit_steps(self) -> int:
        # One sample needs window + 1 steps; anything invalid is reported by
        # parameter validation in _fit_panel.
        window = getattr(self, "window", None)
        valid = isinstance(window, numbers.Integral) and not isinstance(window, bool)
        return max(int(window) + 1, 2) if valid and window >= 1 else 2

    def _fit_panel(self, panel: Panel, rng) -> None:
        validate_params(self)
        inputs, target, step = make_windows(
            panel.scaled(), panel.mask, panel.context, self.window
        )
        if len(target) == 0:
            raise ValueError(
                f"no shop has window + 1 = {self.window + 1} consecutive observed "
                "steps; lower window or pass longer series."
            )
        n_valid = 0
        if self.validation_fraction > 0:
            n_valid = max(1, round(panel.n_steps * self.validation_fraction))
        valid = step >= panel.n_steps - n_valid
        if n_valid and (valid.all() or not valid.any()):
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves "
                f"{int((~valid).sum())} training and {int(valid.sum())} validation "
                "windows; both must be non-empty."
            )
        seed = int(rng.randint(np.iinfo(np.int32).max))
        module, module_kwargs = self._module(panel.n_nodes, panel.context.shape[1])
        callbacks = []
        if n_valid and self.patience is not None:
            callbacks.append(
                EarlyStopping(
                    patience=self.patience,
                    load_best=True,
                    sink=print if self.verbose else _silent,
                )
            )
        net = NeuralNetRegressor(
            module,
            criterion=torch.nn.MSELoss,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=TailIndexSplit(valid) if n_valid else None,
            callbacks=callbacks,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            device=self.device,
            verbose=self.verbose,
            **{f"module__{key}": value for key, value in module_kwargs.items()},
        )
        # The nets are small: one thread avoids the synchronisation cost that
        # made training ~5x slower on a busy 2-core machine.
        with torch.random.fork_rng(devices=[]), threadpool_limits(limits=1):
            torch.manual_seed(seed)
            net.fit(inputs, target)
        self.net_ = net
        self.n_windows_ = len(target)

    def _forecast(self, history: Panel, plan: Panel, start: int) -> np.ndarray:
        if start < self.window:
            raise ValueError(
                f"the forecast starts at step {start} of the fitted period but "
                f"the model needs window={self.window} steps of history."
            )
        lacking = ~history.mask[:, start - self.window : start].all(axis=1)
        if lacking.any():
            shop = history.shop_ids[int(np.flatnonzero(lacking)[0])]
            raise ValueError(
                f"shop {shop!r} is not observed on all {self.window} steps before "
                "the forecast start; it cannot be forecast from there."
            )
        scale = history.scale.astype(np.float64)
        past = history.scaled()[..., start - self.window : start]
        planned = plan.values / scale[:, :-1, None]

        def predict_step(inputs):
            return self.net_.predict(inputs)[:, 0]

        with threadpool_limits(limits=1):
            scaled = roll_forecast(predict_step, past, planned, history.context)
        return scaled * scale[:, -1, None]

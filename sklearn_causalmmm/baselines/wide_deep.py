"""Wide & Deep GMV forecaster: a linear model plus an MLP on lagged inputs.

One model is trained on sliding windows of all shops (see
:mod:`sklearn_causalmmm.baselines._windowed`). The *wide* part is linear in
the lagged series (last ``window`` steps of every node) and the next step's
known inputs, so it memorises carryover directly; the *deep* part is an MLP on
the same features plus the shop's context, for interactions and saturation.
Their outputs are summed.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import torch
from sklearn.base import BaseEstimator, RegressorMixin
from torch import nn

from sklearn_causalmmm.base import PanelForecasterMixin
from sklearn_causalmmm.baselines._windowed import (
    WINDOWED_CONSTRAINTS,
    WindowedForecasterMixin,
)
from sklearn_causalmmm.utils.validation import Interval

__all__ = ["WideDeepModule", "WideDeepRegressor"]


class WideDeepModule(nn.Module):
    """Sum of a linear ("wide") and an MLP ("deep") model of next-step GMV.

    Parameters
    ----------
    n_nodes : int
        Inputs plus GMV (the last node).
    n_context : int
    window : int
    hidden_layer_sizes : tuple of int
        Widths of the deep part's hidden layers.
    dropout : float
        After every hidden layer of the deep part.

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.baselines.wide_deep import WideDeepModule
    >>> module = WideDeepModule(n_nodes=3, n_context=1, window=7,
    ...                         hidden_layer_sizes=(8,), dropout=0.0)
    >>> past, known, context = torch.ones(5, 3, 7), torch.ones(5, 2), torch.ones(5, 1)
    >>> module(past, known, context).shape
    torch.Size([5, 1])
    >>> module.wide.in_features  # 3 nodes x 7 lags + 2 known inputs
    23
    """

    def __init__(
        self,
        n_nodes: int,
        n_context: int,
        window: int,
        hidden_layer_sizes: tuple[int, ...],
        dropout: float,
    ) -> None:
        super().__init__()
        n_lagged = n_nodes * window + n_nodes - 1
        self.wide = nn.Linear(n_lagged, 1)
        layers: list[nn.Module] = []
        width = n_lagged + n_context
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.deep = nn.Sequential(*layers)

    def forward(
        self, past: torch.Tensor, known: torch.Tensor, context: torch.Tensor
    ) -> torch.Tensor:
        """``past (batch, n_nodes, window)`` -> next-step GMV ``(batch, 1)``."""
        lagged = torch.cat([past.flatten(1), known], dim=-1)
        return self.wide(lagged) + self.deep(torch.cat([lagged, context], dim=-1))


class WideDeepRegressor(
    WindowedForecasterMixin, PanelForecasterMixin, RegressorMixin, BaseEstimator
):
    """Wide & Deep forecaster of GMV from lagged series and the channel plan.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(32, 32)
        Hidden layers of the deep part.
    dropout : float, default=0.0
        Dropout after every hidden layer of the deep part.
    window : int, default=14
        Past steps of every node both parts read.
    lr : float, default=1e-2
        Adam learning rate.
    max_epochs : int, default=50
    batch_size : int, default=64
        Windows per batch (-1: all).
    validation_fraction : float, default=0.1
        Share of the final steps whose windows are held out for validation
        (and early stopping); 0 trains on every window.
    patience : int or None, default=10
        Early-stopping patience in epochs on the validation loss (the best
        weights are restored); None or ``validation_fraction=0`` disables it.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and batch order (bit-identical fits on CPU
        on one machine with the same number of torch threads; torch's global RNG is left
        untouched).
    device : str, default="cpu"
    verbose : int, default=0
        skorch's per-epoch log when positive.
    context_columns : str or list of str, default=None
        Context columns of a DataFrame X (fed to the deep part).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of the long layout.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The trained net (its ``history`` holds the training log).
    n_windows_ : int
        Number of training and validation windows.
    panel_ : Panel
        The fitted panel (forecasts continue its history).
    n_features_in_ : int
        Number of inputs (nodes of X).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.wide_deep import WideDeepRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 2, size=(2, 1, 40))
    >>> y = 5 + 3 * X[:, 0] + rng.normal(0, 0.1, size=(2, 40))
    >>> model = WideDeepRegressor(hidden_layer_sizes=(8,), window=5, max_epochs=2,
    ...                           random_state=0)
    >>> model.fit(X[..., :33], y[..., :33]).predict(X[..., 33:]).shape
    (2, 7)
    """

    _parameter_constraints: dict = {
        **WINDOWED_CONSTRAINTS,
        "hidden_layer_sizes": [tuple, list],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (32, 32),
        dropout: float = 0.0,
        window: int = 14,
        lr: float = 1e-2,
        max_epochs: int = 50,
        batch_size: int = 64,
        validation_fraction: float = 0.1,
        patience: int | None = 10,
        random_state=None,
        device: str = "cpu",
        verbose: int = 0,
        context_columns=None,
        shop_column: str = "shop_id",
        time_column: str = "date",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.window = window
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column

    def _module(self, n_nodes: int, n_context: int):
        sizes = tuple(self.hidden_layer_sizes)
        bad = [
            s
            for s in sizes
            if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
        ]
        if bad:
            raise ValueError(
                "hidden_layer_sizes must hold positive integers; got "
                f"{self.hidden_layer_sizes!r}"
            )
        return WideDeepModule, {
            "n_nodes": n_nodes,
            "n_context": n_context,
            "window": self.window,
            "hidden_layer_sizes": sizes,
            "dropout": self.dropout,
        }

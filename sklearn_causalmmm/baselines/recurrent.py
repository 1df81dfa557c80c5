"""LSTM GMV forecaster: a recurrent network over the last steps of every node.

One model is trained on sliding windows of all shops (see
:mod:`sklearn_causalmmm.baselines._windowed`): an LSTM reads the last
``window`` steps of the inputs and GMV, and a small head maps its final state,
the next step's known inputs and the shop's context to next-step GMV.
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

__all__ = ["LSTMModule", "LSTMRegressor"]


class LSTMModule(nn.Module):
    """LSTM over past steps; an MLP head adds the known inputs and context.

    The output is a correction to the last observed GMV (a residual
    connection), so an untrained network already forecasts "no change".

    Parameters
    ----------
    n_nodes : int
        Inputs plus GMV (the last node).
    n_context : int
    hidden : int
    n_layers : int
    dropout : float
        Between LSTM layers (only with ``n_layers > 1``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.baselines.recurrent import LSTMModule
    >>> module = LSTMModule(n_nodes=3, n_context=1, hidden=4, n_layers=1, dropout=0.0)
    >>> past, known, context = torch.ones(5, 3, 7), torch.ones(5, 2), torch.ones(5, 1)
    >>> module(past, known, context).shape
    torch.Size([5, 1])
    """

    def __init__(
        self, n_nodes: int, n_context: int, hidden: int, n_layers: int, dropout: float
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            n_nodes,
            hidden,
            num_layers=n_layers,
            batch_first=True,
            dropout=dropout if n_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(
            nn.Linear(hidden + n_nodes - 1 + n_context, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(
        self, past: torch.Tensor, known: torch.Tensor, context: torch.Tensor
    ) -> torch.Tensor:
        """``past (batch, n_nodes, window)`` -> next-step GMV ``(batch, 1)``."""
        states, _ = self.lstm(past.transpose(1, 2))
        features = torch.cat([states[:, -1], known, context], dim=-1)
        return past[:, -1, -1:] + self.head(features)


class LSTMRegressor(
    WindowedForecasterMixin, PanelForecasterMixin, RegressorMixin, BaseEstimator
):
    """LSTM forecaster of GMV from lagged series and the channel plan.

    Parameters
    ----------
    hidden : int, default=32
        LSTM state size (also the width of the head).
    n_layers : int, default=1
        Stacked LSTM layers.
    dropout : float, default=0.0
        Dropout between LSTM layers.
    window : int, default=14
        Past steps of every node the network reads.
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
        Context columns of a DataFrame X (fed to the head).
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
    >>> from sklearn_causalmmm.baselines.recurrent import LSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 2, size=(2, 1, 40))
    >>> y = 5 + 3 * X[:, 0] + rng.normal(0, 0.1, size=(2, 40))
    >>> model = LSTMRegressor(hidden=8, window=5, max_epochs=2, random_state=0)
    >>> model.fit(X[..., :33], y[..., :33]).predict(X[..., 33:]).shape
    (2, 7)
    """

    _parameter_constraints: dict = {
        **WINDOWED_CONSTRAINTS,
        "hidden": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden: int = 32,
        n_layers: int = 1,
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
        self.hidden = hidden
        self.n_layers = n_layers
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
        return LSTMModule, {
            "n_nodes": n_nodes,
            "n_context": n_context,
            "hidden": self.hidden,
            "n_layers": self.n_layers,
            "dropout": self.dropout,
        }

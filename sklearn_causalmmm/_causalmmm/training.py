"""The skorch net that trains :mod:`sklearn_causalmmm.nn` models on a panel.

Shared by every neural estimator of the package. Shops are the samples of a
batch; every shop is one window on the panel's time grid. Validation is on the
*time tail*: the model reads each shop's history and is scored on forecasting
the last ``n_valid`` steps, never on a random subset of rows.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from torch import nn

from sklearn_causalmmm.nn import edge_kl, gaussian_nll, log_edge_prior
from sklearn_causalmmm.utils.lags import edge_lag_features, lag_feature_kinds

#: A discoverer counts the KL of a longer shop's graph once per this many of
#: its observed steps (see ``PanelNet``'s ``kl_reference_steps``).
KL_REFERENCE_STEPS = 100

#: Learning rate of each shop's own parameters (its edge gains) relative to the
#: shared ones (see ``build_net``).
SHOP_PARAMETER_LR_FACTOR = 20

__all__ = [
    "KL_REFERENCE_STEPS",
    "SHOP_CHUNK",
    "SHOP_PARAMETER_LR_FACTOR",
    "DecoderWarmup",
    "EncoderLagFeatures",
    "PanelDataset",
    "PanelNet",
    "TimeTailSplit",
    "build_net",
]


class EncoderLagFeatures:
    """The Granger statistics of every pair that the encoder reads, per shop.

    They are a function of the window the encoder reads (the last
    ``n_history`` steps of what it is given), so they are computed once per
    window with :func:`~sklearn_causalmmm.utils.lags.edge_lag_features` and
    handed to the model beside the series, not recomputed for every batch.

    Parameters
    ----------
    n_history : int
        Steps the encoder reads.
    n_lags : int
    lag_features : str or sequence of str
        Which statistics (see
        :func:`~sklearn_causalmmm.utils.lags.lag_feature_kinds`).
    """

    def __init__(
        self, n_history: int, n_lags: int, lag_features: str | Sequence[str]
    ) -> None:
        self.n_history = n_history
        self.n_lags = n_lags
        self.lag_features = lag_features
        self.n_features = n_lags * len(lag_feature_kinds(lag_features))

    def __call__(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Features ``(n_shops, d, d, n_features)`` float32 of the last window.

        ``values`` ``(n_shops, d, n_steps)`` and ``mask`` ``(n_shops,
        n_steps)`` end where the encoder's window ends.
        """
        window = slice(values.shape[-1] - self.n_history, None)
        features = edge_lag_features(
            values[..., window], mask[:, window], self.n_lags, self.lag_features
        )
        return features.astype(np.float32)


#: Shops read at once where a whole panel is read (pair features, forward
#: passes of predict and predict_graph): a rollout's activations (shops x
#: steps x node pairs x hidden) and the inputs must not grow with the panel.
SHOP_CHUNK = 64


class PanelDataset(torch.utils.data.Dataset):
    """The shops of a panel as skorch's samples, each built when it is read.

    A shop's scaled series and loss mask are made from the stored panel when
    its batch is read, so no float32 copy of the whole panel is held beside
    it; only the encoder's pair features, a compact ``(n_shops, d, d,
    n_features)``, are computed once (chunk by chunk of shops) for the window
    the encoder reads.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
        Raw values (not copied).
    scale : ndarray of shape (n_shops, n_nodes)
        Each shop's and node's scale: a shop reads ``values / scale``.
    mask : ndarray of shape (n_shops, n_steps), bool
    context : ndarray of shape (n_shops, n_context)
    n_teacher : int
        Steps fed as observed values before the decoder rolls out.
    n_steps : int, default=None
        Steps of the window, from the first (None: all).
    loss_start : int, default=0
        Targets before this step are left out of the loss (validation scores
        only the forecast tail).
    pair_features : EncoderLagFeatures or None, default=None
        Computes the encoder's pair features from the teacher-forced steps,
        where the encoder's window ends.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.arange(12, dtype=np.float32).reshape(1, 2, 6)
    >>> scale = np.array([[1.0, 2.0]], dtype=np.float32)
    >>> data = PanelDataset(values, scale, np.ones((1, 6), bool), np.zeros((1, 0)), 4)
    >>> shop, _ = data[0]
    >>> shop["values"][1].tolist(), int(shop["n_teacher"])
    ([3.0, 3.5, 4.0, 4.5, 5.0, 5.5], 4)
    """

    def __init__(
        self,
        values: np.ndarray,
        scale: np.ndarray,
        mask: np.ndarray,
        context: np.ndarray,
        n_teacher: int,
        *,
        n_steps: int | None = None,
        loss_start: int = 0,
        pair_features: Callable | None = None,
    ) -> None:
        self.values = values
        self.scale = np.asarray(scale, dtype=np.float32)[..., None]
        self.mask = np.asarray(mask, dtype=bool)
        self.context = np.ascontiguousarray(context, dtype=np.float32)
        self.n_teacher = int(n_teacher)
        self.n_steps = values.shape[-1] if n_steps is None else int(n_steps)
        self.loss_start = int(loss_start)
        self.pair_features = pair_features
        self.features = None
        if pair_features is not None:
            self.features = np.concatenate(
                [
                    pair_features(
                        self.scaled(rows)[..., : self.n_teacher],
                        self.mask[rows, : self.n_teacher],
                    )
                    for rows in self._chunks()
                ]
            )

    def _chunks(self):
        n_shops = len(self.values)
        return [
            slice(start, min(start + SHOP_CHUNK, n_shops))
            for start in range(0, n_shops, SHOP_CHUNK)
        ]

    def scaled(self, rows) -> np.ndarray:
        """The scaled window of the shops ``rows`` (float32)."""
        values = self.values[rows, :, : self.n_steps] / self.scale[rows]
        return values.astype(np.float32, copy=False)

    def window(self, n_steps: int, n_teacher: int, loss_start: int = 0) -> PanelDataset:
        """The same shops over another window (the arrays are shared)."""
        return PanelDataset(
            self.values,
            self.scale[..., 0],
            self.mask,
            self.context,
            n_teacher,
            n_steps=n_steps,
            loss_start=loss_start,
            pair_features=self.pair_features,
        )

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i):
        mask = self.mask[i, : self.n_steps].astype(np.float32)
        mask[: self.loss_start] = 0.0
        shop = {
            "values": self.scaled(i),
            "mask": mask,
            "context": self.context[i],
            "n_teacher": np.int64(self.n_teacher),
            # each row's shop, which selects its own parameters (edge gains)
            "shops": np.int64(i),
        }
        if self.features is not None:
            shop["pair_features"] = self.features[i]
        # skorch's placeholder of a missing target
        return shop, torch.zeros(1)


class TimeTailSplit:
    """skorch ``train_split`` holding out the last ``n_valid`` steps of every shop.

    The training set is each shop's series without its tail; the validation
    set is the whole series, teacher-forced up to the tail and scored on
    forecasting it.

    Parameters
    ----------
    n_valid : int
        Number of held-out final steps.
    """

    def __init__(self, n_valid: int):
        self.n_valid = n_valid

    def __call__(self, dataset: PanelDataset, y=None, **fit_params):
        n_steps = dataset.n_steps
        cut = n_steps - self.n_valid
        train_horizon = n_steps - dataset.n_teacher
        train = dataset.window(cut, cut - train_horizon)
        valid = dataset.window(n_steps, cut, loss_start=cut)
        return train, valid


class PanelModule(nn.Module):
    """Adapts a model's ``forward`` to the dict batches skorch passes."""

    def __init__(self, model: nn.Module, known_nodes: torch.Tensor | None = None):
        super().__init__()
        self.model = model
        if known_nodes is not None:
            self.register_buffer("known_nodes", known_nodes)
        else:
            self.known_nodes = None

    def forward(self, values, mask, context, n_teacher, shops, pair_features=None):
        return self.model(
            values,
            context,
            int(n_teacher[0]),
            self.known_nodes,
            shops=shops,
            pair_features=pair_features,
        )


class PanelNet(NeuralNet):
    """skorch net minimising the negative ELBO of a CausalMMM-style model.

    Parameters (beyond :class:`skorch.NeuralNet`)
    ---------------------------------------------
    kl_weight : float
    kl_reference_steps : int or None
        When given, the KL term of a shop with more observed steps than this
        counts once per this many steps, instead of once per shop. The
        likelihood sums over steps while a shop has one graph: with a fixed
        weight the prior's pull fades as series lengthen, and on 720-step
        Sim-1-like shops every edge probability of the discoverer saturated
        at 1 (edge AUROC 0.51, against 0.98 on another seed). Shorter shops
        keep the weight the defaults were tuned at.
    edge_prior : float or None
        ``P(edge)`` of a sparse prior; None is the uniform prior.
    nll_variance : float or "learned"
    node_weights : ndarray of shape (n_nodes,) or None
    scored_nodes : bool ndarray of shape (n_nodes,) or None
        When given, the validation loss is the mean squared error of these
        nodes' forecasts (scaled units) instead of the negative ELBO.
    """

    def __init__(
        self,
        *args,
        kl_weight=1.0,
        kl_reference_steps=None,
        edge_prior=None,
        nll_variance=1.0,
        node_weights=None,
        scored_nodes=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.kl_weight = kl_weight
        self.kl_reference_steps = kl_reference_steps
        self.edge_prior = edge_prior
        self.nll_variance = nll_variance
        self.node_weights = node_weights
        self.scored_nodes = scored_nodes

    def get_loss(self, y_pred, y_true, X=None, training=False):
        prediction, logits = y_pred
        values = X["values"]
        if not training and self.scored_nodes is not None:
            return self._forecast_error(prediction, values, X["mask"])
        weights = None
        if self.node_weights is not None:
            weights = torch.as_tensor(self.node_weights, device=values.device)
        variance = self.nll_variance
        if variance == "learned":
            variance = self.module_.model.log_variance.exp()
        nll = gaussian_nll(
            prediction, values[..., 1:], X["mask"][:, 1:], variance, weights
        )
        n_types = logits.shape[-1]
        kl = edge_kl(logits, log_edge_prior(n_types, self.edge_prior))
        if self.kl_reference_steps is not None:
            observed_steps = (X["mask"][:, 1:] > 0).sum(dim=-1).to(kl.dtype)
            kl = kl * (observed_steps / self.kl_reference_steps).clamp_min(1.0)
        loss = nll + self.kl_weight * kl
        if "shops" in X:
            loss = loss + self.module_.model.edge_gain_penalty(X["shops"])
        return loss.mean()

    def _forecast_error(self, prediction, values, mask):
        # A forecaster is judged on the nodes it forecasts: the one-step
        # errors of the channels it is given would dominate the ELBO and stop
        # training when the channels stop improving.
        nodes = torch.as_tensor(self.scored_nodes, device=values.device)
        error = (prediction - values[..., 1:])[:, nodes] ** 2
        weight = mask[:, None, 1:].expand_as(error)
        return (error * weight).sum() / weight.sum().clamp_min(1.0)


class DecoderWarmup(Callback):
    """Train the decoder alone on random graphs for the first epochs.

    Parameters
    ----------
    n_epochs : int
        Epochs during which edges come from the uniform prior and the encoder
        receives no gradient.
    """

    def __init__(self, n_epochs: int):
        self.n_epochs = n_epochs

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history)  # the current epoch is already recorded
        net.module_.model.warming_up = epoch <= self.n_epochs

    def on_train_end(self, net, **kwargs):
        net.module_.model.warming_up = False


def build_net(
    module: nn.Module,
    *,
    lr: float,
    max_epochs: int,
    batch_size: int,
    n_valid: int,
    patience: int,
    lr_schedule: str | None,
    seed: int,
    device: str,
    verbose: int,
    kl_weight: float,
    edge_prior: float | None,
    nll_variance: float,
    kl_reference_steps: int | None = None,
    node_weights: np.ndarray | None = None,
    scored_nodes: np.ndarray | None = None,
    gradient_clip: float | None = 10.0,
    warmup_epochs: int = 0,
) -> PanelNet:
    """Configure the one skorch net used by every neural estimator.

    It trains on a :class:`PanelDataset`; with ``n_valid`` the time tail is
    held out (see :class:`TimeTailSplit`).
    """
    callbacks = [DecoderWarmup(warmup_epochs)] if warmup_epochs else []
    monitor = "valid_loss" if n_valid else "train_loss"
    if lr_schedule == "plateau":
        callbacks.append(
            LRScheduler(
                policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                monitor=monitor,
                patience=max(1, patience // 2),
                factor=0.5,
            )
        )
    elif lr_schedule is not None:
        raise ValueError(f"lr_schedule must be 'plateau' or None, got {lr_schedule!r}.")
    if gradient_clip is not None:
        from skorch.callbacks import GradientNormClipping

        callbacks.append(GradientNormClipping(gradient_clip))
    if verbose:
        callbacks.append(FitProgress(max_epochs))
    if n_valid and patience:
        # Last: EarlyStopping interrupts the epoch, skipping later callbacks.
        callbacks.append(
            EarlyStopping(
                monitor=monitor, patience=patience, load_best=True, sink=_silent
            )
        )
    # under torchrun the same net trains data-parallel (see distributed.py)
    from sklearn_causalmmm._causalmmm import distributed

    net_class, parallel = PanelNet, {}
    if distributed.data_parallel_world() is not None:
        net_class = distributed.DataParallelPanelNet
        parallel = {"shard_seed": seed}
    return net_class(
        module,
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        # A shop's own parameters get one update per epoch, when its batch
        # comes, and Adam's step is about ``lr`` whatever the gradient: at the
        # shared rate, a fit moved the demo's log edge gains by 0.03.
        optimizer__param_groups=[
            ("model.shop_log_gains", {"lr": lr * SHOP_PARAMETER_LR_FACTOR})
        ],
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=TimeTailSplit(n_valid) if n_valid else None,
        callbacks=callbacks,
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(seed),
        device=device,
        # the epoch table only on request: the progress bar is the summary
        verbose=int(verbose >= 2),
        **({"callbacks__print_log__sink": _plain_print} if verbose >= 2 else {}),
        kl_weight=kl_weight,
        kl_reference_steps=kl_reference_steps,
        edge_prior=edge_prior,
        nll_variance=nll_variance,
        node_weights=node_weights,
        scored_nodes=scored_nodes,
        **parallel,
    )


class FitProgress(Callback):
    """One progress bar for the whole fit: epochs, time left, the last losses.

    Parameters
    ----------
    total : int
        The most epochs the fit may run (early stopping may end it sooner).
    """

    def __init__(self, total: int):
        self.total = total

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, unit="epoch", desc="fit", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = {
            key.split("_")[0]: f"{row[key]:.4g}"
            for key in ("train_loss", "valid_loss")
            if key in row
        }
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        # the bar holds the terminal's stream: dropped, so the fitted net pickles
        bar = self.__dict__.pop("bar_", None)
        if bar is not None:
            bar.close()


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _plain_print(text: str) -> None:
    """Print skorch's epoch table, without colour codes off a terminal."""
    if not sys.stdout.isatty():
        text = _ANSI.sub("", text)
    print(text)


def _silent(*args, **kwargs) -> None:
    return None

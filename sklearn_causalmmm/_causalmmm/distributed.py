"""Data-parallel training of one network with ``DistributedDataParallel``.

When the user's script has joined a process group of more than one process
(``torch.distributed.init_process_group("gloo")`` under ``torchrun``), every
estimator of the package trains its network data-parallel: each process
(rank) runs the same fit on the whole panel, but the mini-batch loop of the
network is split. Every optimiser step takes one mini-batch of ``batch_size``
shops, the same one a single-process fit would take; each rank forwards and
back-propagates its own share of those shops, and
:class:`torch.nn.parallel.DistributedDataParallel` averages the gradients.
The loss of a rank's share is weighted so that this average is the gradient
of the mean loss over the whole mini-batch: the same update as one process
taking that mini-batch.

What is not split: the panel's conversion and scaling, the baseline, the
target head's least squares, the evidence and the graph inference run on
every rank, on the full panel, with the same result on each (they are
deterministic and see the same network weights). The validation tail is
scored on every rank on every shop, with identical weights, so early
stopping and the learning-rate schedule take the same decision everywhere
without communication; the training loss is averaged across ranks at the end
of each epoch, so that a schedule that monitors it agrees too.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import torch
import torch.distributed as dist
from skorch.callbacks import Callback
from skorch.dataset import get_len
from skorch.utils import to_tensor
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from sklearn_causalmmm._causalmmm.training import PanelDataset, PanelNet

__all__ = [
    "DataParallelPanelNet",
    "ShardBatchSampler",
    "data_parallel_world",
]


def data_parallel_world() -> tuple[int, int] | None:
    """``(rank, world_size)`` of the process group, or None to train alone.

    A group of one process trains as if there were none, so that its fit is
    the ordinary one, bit for bit.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return None
    world_size = dist.get_world_size()
    if world_size < 2:
        return None
    return dist.get_rank(), world_size


class ShardBatchSampler:
    """Each rank's share of the mini-batches of one shuffled pass over the shops.

    Every rank draws the same permutation of the shops per epoch (from the
    same seeded generator, so no communication is needed), cuts it into
    mini-batches of ``batch_size`` shops as a single process would, and takes
    its contiguous part of each mini-batch (the parts differ by at most one
    shop). Every rank thus takes the same number of steps, as
    ``DistributedDataParallel`` requires, and the union of the ranks' parts at
    each step is one whole mini-batch. A last mini-batch of fewer shops than
    ranks joins the one before it, so that no rank gets an empty part.

    Parameters
    ----------
    n_shops : int
    batch_size : int
        Shops per optimiser step, over all ranks.
    rank, world_size : int
    generator : torch.Generator
        Draws one permutation per pass (per call of ``iter``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm._causalmmm.distributed import ShardBatchSampler
    >>> parts = [
    ...     list(ShardBatchSampler(10, 4, rank, 2, torch.Generator().manual_seed(0)))
    ...     for rank in (0, 1)
    ... ]
    >>> [len(batch) for batch in parts[0]], [len(batch) for batch in parts[1]]
    ([2, 2, 1], [2, 2, 1])
    >>> sorted(sum(parts[0] + parts[1], []))
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """

    def __init__(
        self,
        n_shops: int,
        batch_size: int,
        rank: int,
        world_size: int,
        generator: torch.Generator,
    ) -> None:
        if n_shops < world_size:
            raise ValueError(
                f"the panel has {n_shops} shops for {world_size} processes: each "
                "process trains on its own shops, so launch at most "
                f"{n_shops} processes (torchrun --nproc_per_node)."
            )
        if batch_size < world_size:
            raise ValueError(
                f"batch_size={batch_size} is the number of shops per step over "
                f"all {world_size} processes, so each needs at least one: set "
                f"batch_size to at least {world_size}."
            )
        self.n_shops = n_shops
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.generator = generator

    def _bounds(self) -> list[int]:
        bounds = list(range(0, self.n_shops, self.batch_size)) + [self.n_shops]
        if len(bounds) > 2 and bounds[-1] - bounds[-2] < self.world_size:
            del bounds[-2]
        return bounds

    def __len__(self) -> int:
        return len(self._bounds()) - 1

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.n_shops, generator=self.generator).numpy()
        bounds = self._bounds()
        for start, stop in zip(bounds[:-1], bounds[1:], strict=False):
            part = np.array_split(order[start:stop], self.world_size)[self.rank]
            yield part.tolist()


class _SyncTrainLoss(Callback):
    """Replace each rank's epoch training loss by the mean over the ranks.

    Every rank's loss is its (weighted) share of the mini-batch losses, so
    with equal shares their mean is the loss of a single-process epoch.
    """

    def on_epoch_end(self, net, **kwargs):
        if "train_loss" not in net.history[-1]:
            return
        # on the net's device: NCCL reduces only CUDA tensors
        loss = torch.tensor(
            [net.history[-1, "train_loss"]], dtype=torch.float64, device=net.device
        )
        dist.all_reduce(loss)
        net.history.record("train_loss", float(loss) / dist.get_world_size())


class _Replica(nn.Module):
    """The module ``DistributedDataParallel`` wraps: the network and its loss terms.

    With ``find_unused_parameters``, ``DistributedDataParallel`` takes a
    parameter it does not find in the graph of ``forward``'s outputs as
    unused, and a gradient that reaches it later fails the step. The loss
    also reads some parameters directly (a learned noise variance, the shops'
    edge gains in their prior), so ``forward`` also returns a scalar read
    from each of those, unused by the loss, to mark them.
    """

    def __init__(self, panel_module: nn.Module, learned_variance: bool) -> None:
        super().__init__()
        self.panel_module = panel_module
        self.learned_variance = learned_variance

    def forward(self, **inputs):
        outputs = self.panel_module(**inputs)
        model = self.panel_module.model
        read = [model.shop_log_gains] if model.shop_log_gains is not None else []
        if self.learned_variance:
            read.append(model.log_variance)
        return outputs, [p.reshape(-1)[0] * 1.0 for p in read]


def _check_same_fit(net, X, epochs) -> None:
    """Raise on every rank if the ranks were not given the same fit.

    A rank that read only its own shops, or got another ``random_state`` or
    ``batch_size``, would otherwise train on overlapping, wrongly weighted
    mini-batches without any error.
    """
    facts = {"shops": get_len(X)}
    values = None
    if isinstance(X, PanelDataset):  # the estimators' shops, scaled when read
        values = (X.scaled(shop) for shop in range(len(X)))
        shape, mask = (len(X), X.values.shape[1], X.n_steps), X.mask[:, : X.n_steps]
    elif isinstance(X, Mapping) and "values" in X:
        values, mask = X["values"], X["mask"]
        shape = values.shape
    if values is not None:
        facts["nodes"], facts["steps"] = shape[1], shape[2]
        # shop by shop: no float64 copy of the whole panel
        facts["sum of the scaled values"] = sum(
            float(np.nansum(shop, dtype=np.float64)) for shop in values
        )
        facts["observed steps"] = float(np.sum(mask))
    facts["seed drawn from random_state"] = net.shard_seed
    facts["batch_size"] = net.batch_size
    facts["max_epochs"] = net.max_epochs if epochs is None else epochs
    device = getattr(net, "device", "cpu")
    mine = torch.tensor(list(facts.values()), dtype=torch.float64, device=device)
    low, high = mine.clone(), mine.clone()
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    differ = [
        f"{name} ({lo:g} to {hi:g})"
        for name, lo, hi in zip(facts, low.tolist(), high.tolist(), strict=True)
        if lo != hi
    ]
    if differ:
        raise ValueError(
            f"the {dist.get_world_size()} processes of the data-parallel fit were "
            f"given different fits: {', '.join(differ)} differ. Every process "
            "must fit the whole panel with the same parameters (random_state "
            "included); each trains on its own share of every mini-batch."
        )


class DataParallelPanelNet(PanelNet):
    """:class:`PanelNet` training with ``DistributedDataParallel`` on its rank's shops.

    Used by :func:`~sklearn_causalmmm._causalmmm.training.build_net` when the
    process has joined a process group of several processes (see this
    module's description). The wrapper exists only during ``fit``: the fitted
    net holds the plain module, so it pickles and predicts in any process.

    Parameters (beyond :class:`PanelNet`)
    -------------------------------------
    shard_seed : int
        Seeds the shops' order (the same on every rank) and, offset by the
        rank, the rank's random draws (Gumbel noise, dropout).
    """

    def __init__(self, *args, shard_seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.shard_seed = shard_seed

    def get_default_callbacks(self):
        return [*super().get_default_callbacks(), ("sync_train_loss", _SyncTrainLoss())]

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        world = data_parallel_world()
        if world is None:
            raise RuntimeError(
                "DataParallelPanelNet trains in a process group of several "
                "processes; call torch.distributed.init_process_group first."
            )
        rank, world_size = world
        _check_same_fit(self, X, epochs)
        self._parallel = {
            "rank": rank,
            "world_size": world_size,
            "replica": DistributedDataParallel(
                _Replica(self.module_, self.nll_variance == "learned"),
                # an encoder trained on random graphs first, or a graph that
                # is all known, leaves parameters without a gradient
                find_unused_parameters=True,
            ),
            "order": torch.Generator().manual_seed(self.shard_seed),
        }
        # The ranks' random draws must differ, or the shops of one step
        # would share their Gumbel noise; the caller's state is restored by
        # the estimator's ``seeded``.
        torch.manual_seed(self.shard_seed + rank)
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            del self._parallel

    def get_iterator(self, dataset, training=False):
        if not training or not hasattr(self, "_parallel"):
            return super().get_iterator(dataset, training=training)
        parallel = self._parallel
        sampler = ShardBatchSampler(
            len(dataset),
            self.batch_size,
            parallel["rank"],
            parallel["world_size"],
            parallel["order"],
        )
        # with its own generator, the loader leaves the global one (the
        # Gumbel noise) alone
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            generator=torch.Generator().manual_seed(self.shard_seed),
        )

    def infer(self, x, **fit_params):
        if not (self.module_.training and hasattr(self, "_parallel")):
            return super().infer(x, **fit_params)
        x = self._merge_x_and_fit_params(to_tensor(x, device=self.device), fit_params)
        outputs, _ = self._parallel["replica"](**x)
        return outputs

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if not (training and hasattr(self, "_parallel")):
            return loss
        # DistributedDataParallel averages the ranks' gradients; weighting
        # each rank's mean by its share of the step's shops makes the average
        # the gradient of the mean over all of them, even when shares differ.
        n_rank = torch.tensor(
            [len(X["shops"])], dtype=torch.float64, device=loss.device
        )
        n_step = n_rank.clone()
        dist.all_reduce(n_step)
        weight = self._parallel["world_size"] * n_rank / n_step
        return loss * weight.to(loss.dtype)

"""Causal Relational Encoder: series of every node -> logits over edge types.

Pair tensors are dense ``(n_shops, n_nodes, n_nodes, ...)`` with ``[s, i, j]`` the
edge ``i -> j`` (sender ``i``, receiver ``j``), the orientation of every public
graph in the package. Diagonal entries are computed but never used.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CausalRelationalEncoder", "off_diagonal_mask"]


def off_diagonal_mask(n_nodes: int, device=None) -> torch.Tensor:
    """Float mask ``(n_nodes, n_nodes)``: 1 off the diagonal, 0 on it."""
    return 1.0 - torch.eye(n_nodes, device=device)


class _MLP(nn.Module):
    """Two ELU layers then a normalisation, as in the authors' encoder blocks."""

    def __init__(self, n_in: int, hidden: int, norm: str | None, dropout: float):
        super().__init__()
        self.first = nn.Linear(n_in, hidden)
        self.second = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.norm = _make_norm(norm, hidden)

    def forward_hidden(self, pre: torch.Tensor) -> torch.Tensor:
        """Everything after the first linear layer (so callers may split it)."""
        out = nn.functional.elu(self.second(self.dropout(nn.functional.elu(pre))))
        return self.norm(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_hidden(self.first(x))


class _PairMLP(_MLP):
    """Edge MLP on ``[receiver, sender, pair features]``.

    The first layer is applied per node and broadcast to pairs, which is the
    same function as applying it to the concatenation but ``n_nodes`` times
    cheaper.
    """

    def __init__(self, n_node: int, n_pair: int, hidden, norm, dropout):
        super().__init__(2 * n_node + n_pair, hidden, norm, dropout)
        self.n_node = n_node

    def forward(self, node: torch.Tensor, pair: torch.Tensor | None = None):
        weight = self.first.weight
        receiver = node @ weight[:, : self.n_node].T
        sender = node @ weight[:, self.n_node : 2 * self.n_node].T
        pre = sender[:, :, None, :] + receiver[:, None, :, :] + self.first.bias
        if pair is not None:
            pre = pre + pair @ weight[:, 2 * self.n_node :].T
        return self.forward_hidden(pre)


class CausalRelationalEncoder(nn.Module):
    """Amortised graph posterior ``q(z | series)`` for each shop.

    node MLP -> edge MLP on [receiver, sender] -> mean of incoming edges ->
    node MLP -> edge MLP with a skip from the first edge layer -> logits over
    edge types (type 0 = no edge).

    Parameters
    ----------
    n_nodes : int
    n_inputs : int
        Length of the window each node's series is embedded from.
    hidden : int
    n_edge_types : int, default=2
    n_pair_features : int, default=0
        Features of every pair (sender, receiver) read beside the node
        embeddings by the first edge MLP, e.g. Granger statistics of the pair
        over a few lags. They are computed outside the network, once per
        window (the package's estimators use
        :func:`sklearn_causalmmm.utils.lags.edge_lag_features`), and passed to
        :meth:`forward`.
    norm : {"batch", "layer", None}, default="layer"
        Normalisation closing every MLP. ``"batch"`` is the authors' choice but
        makes a shop's graph depend on the other shops in its batch during
        training.
    dropout : float, default=0.0
    """

    def __init__(
        self,
        n_nodes: int,
        n_inputs: int,
        hidden: int,
        n_edge_types: int = 2,
        n_pair_features: int = 0,
        norm: str | None = "layer",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.n_nodes = n_nodes
        self.n_inputs = n_inputs
        self.n_pair_features = n_pair_features
        self.node_embedding = _MLP(n_inputs, hidden, norm, dropout)
        self.edge_embedding = _PairMLP(hidden, n_pair_features, hidden, norm, dropout)
        self.node_update = _MLP(hidden, hidden, norm, dropout)
        self.edge_update = _PairMLP(hidden, hidden, hidden, norm, dropout)
        self.edge_logits = nn.Linear(hidden, n_edge_types)
        self.apply(_init_weights)

    def forward(
        self, x: torch.Tensor, pair_features: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return edge-type logits of shape ``(n_shops, n_nodes, n_nodes, n_types)``.

        ``x`` has shape ``(n_shops, n_nodes, n_inputs)``; ``pair_features``,
        needed when ``n_pair_features > 0``, ``(n_shops, n_nodes, n_nodes,
        n_pair_features)`` with ``[s, i, j]`` the edge ``i -> j``.
        """
        pair = None
        if self.n_pair_features:
            expected = (*x.shape[:2], self.n_nodes, self.n_pair_features)
            if pair_features is None or tuple(pair_features.shape) != expected:
                got = None if pair_features is None else tuple(pair_features.shape)
                raise ValueError(
                    f"the encoder reads {self.n_pair_features} features of every "
                    f"pair: pair_features must have shape {expected}, got {got}."
                )
            pair = pair_features.to(x.dtype)
        node = self.node_embedding(x)
        edge = self.edge_embedding(node, pair)
        skip = edge
        incoming = off_diagonal_mask(self.n_nodes, x.device)[None, :, :, None]
        node = self.node_update((edge * incoming).sum(1) / self.n_nodes)
        edge = self.edge_update(node, skip)
        return self.edge_logits(edge)


class _ChannelNorm(nn.Module):
    """BatchNorm1d over the last (feature) axis of any-rank input."""

    def __init__(self, n_features: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.reshape(-1, x.shape[-1])).view_as(x)


def _make_norm(norm: str | None, n_features: int) -> nn.Module:
    if norm is None:
        return nn.Identity()
    if norm == "layer":
        return nn.LayerNorm(n_features)
    if norm == "batch":
        return _ChannelNorm(n_features)
    raise ValueError(f"norm must be 'batch', 'layer' or None, got {norm!r}.")


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.xavier_normal_(module.weight)
        nn.init.constant_(module.bias, 0.1)

"""Causal Relational Encoder: series of every node -> logits over edge types.

Pair tensors are dense ``(n_shops, n_nodes, n_nodes, ...)`` with ``[s, i, j]`` the
edge ``i -> j`` (sender ``i``, receiver ``j``), the orientation of every public
graph in the package. Diagonal entries are computed but never used.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "LAG_FEATURES",
    "CausalRelationalEncoder",
    "conditional_lag_coefficients",
    "edge_lag_features",
    "lag_feature_kinds",
    "lagged_edge_features",
    "off_diagonal_mask",
    "summed_lag_coefficients",
]


def off_diagonal_mask(n_nodes: int, device=None) -> torch.Tensor:
    """Float mask ``(n_nodes, n_nodes)``: 1 off the diagonal, 0 on it."""
    return 1.0 - torch.eye(n_nodes, device=device)


#: Lag statistics the encoder can read (see :class:`CausalRelationalEncoder`).
LAG_FEATURES = ("bivariate", "conditional", "summed")
#: Names for several statistics read side by side.
_LAG_FEATURE_SETS = {"both": ("bivariate", "conditional"), "all": LAG_FEATURES}
#: Ridge penalty per step of the conditional and summed regressions: on
#: 100-step shops with 20 nodes and 5 lags the conditional one has 100
#: coefficients and 95 equations.
_LAG_RIDGE = 0.1


def _standardised_lags(x: torch.Tensor, n_lags: int):
    """Standardised targets ``(B, d, T')`` and their lags ``(B, d, T', n_lags)``."""
    n_steps = x.shape[-1]
    if n_steps <= 2 * n_lags:
        raise ValueError(
            f"lagged edge features need more than {2 * n_lags} steps, got {n_steps}."
        )
    z = (x - x.mean(-1, keepdim=True)) / x.std(-1, keepdim=True).clamp_min(1e-6)
    lags = torch.stack(
        [z[..., n_lags - lag : n_steps - lag] for lag in range(1, n_lags + 1)], dim=-1
    )
    return z[..., n_lags:], lags


def lagged_edge_features(x: torch.Tensor, n_lags: int) -> torch.Tensor:
    """Lagged partial correlations, a cheap bivariate Granger statistic for every pair.

    Each node is standardised and regressed on its own ``n_lags`` lags (ridge);
    feature ``[s, i, j, l - 1]`` is the correlation between the sender ``i``
    lagged by ``l`` and the receiver ``j``'s residual. Only the past of ``i``
    enters, so the features respect the Granger (no instantaneous) direction.

    Parameters
    ----------
    x : Tensor of shape (n_shops, n_nodes, n_steps)
    n_lags : int

    Returns
    -------
    Tensor of shape (n_shops, n_nodes, n_nodes, n_lags)
    """
    return _bivariate(*_standardised_lags(x, n_lags))


def _bivariate(target: torch.Tensor, lags: torch.Tensor) -> torch.Tensor:
    n_lags = lags.shape[-1]
    gram = lags.transpose(-1, -2) @ lags
    eye = torch.eye(n_lags, dtype=lags.dtype, device=lags.device)
    ridge = 1e-2 * target.shape[-1] * eye
    coef = torch.linalg.solve(gram + ridge, lags.transpose(-1, -2) @ target[..., None])
    residual = target - (lags @ coef)[..., 0]
    residual = residual / residual.std(-1, keepdim=True).clamp_min(1e-6)
    return torch.einsum("bjt,bitl->bijl", residual, lags) / target.shape[-1]


def conditional_lag_coefficients(x: torch.Tensor, n_lags: int) -> torch.Tensor:
    """Ridge VAR coefficients, a conditional Granger statistic for every pair.

    Each node is standardised and regressed jointly on the ``n_lags`` lags of
    every node (its own included), with a ridge penalty of 0.1 per step;
    feature ``[s, i, j, l - 1]`` is the coefficient of the sender ``i`` lagged
    by ``l`` in the receiver ``j``'s regression. Unlike the bivariate
    :func:`lagged_edge_features`, a sender that reaches ``j`` only through
    another node is explained away by that node's lags.

    Parameters
    ----------
    x : Tensor of shape (n_shops, n_nodes, n_steps)
    n_lags : int

    Returns
    -------
    Tensor of shape (n_shops, n_nodes, n_nodes, n_lags)

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.nn import conditional_lag_coefficients
    >>> x = torch.randn(1, 3, 400, generator=torch.Generator().manual_seed(0))
    >>> x[:, 2, 1:] += 0.9 * x[:, 0, :-1]  # node 0 drives node 2 one step later
    >>> coefficients = conditional_lag_coefficients(x, n_lags=2)
    >>> int(coefficients[0, :, 2, 0].abs().argmax())  # the lag-1 sender of node 2
    0
    """
    return _conditional(*_standardised_lags(x, n_lags))


def _ridge(design: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Ridge coefficients ``(..., n_features, n_targets)``, penalty per step.

    ``design`` is ``(..., n_steps, n_features)``, ``target`` ``(..., n_steps,
    n_targets)``.
    """
    n_steps, n_features = design.shape[-2:]
    gram = design.transpose(-1, -2) @ design
    eye = torch.eye(n_features, dtype=design.dtype, device=design.device)
    gram = gram + _LAG_RIDGE * n_steps * eye
    return torch.linalg.solve(gram, design.transpose(-1, -2) @ target)


def _conditional(target: torch.Tensor, lags: torch.Tensor) -> torch.Tensor:
    n_shops, n_nodes, n_steps, n_lags = lags.shape
    design = lags.transpose(1, 2).reshape(n_shops, n_steps, n_nodes * n_lags)
    coef = _ridge(design, target.transpose(-1, -2))
    # rows of coef run over (sender, lag); columns over receivers
    return coef.reshape(n_shops, n_nodes, n_lags, n_nodes).transpose(-1, -2)


def summed_lag_coefficients(x: torch.Tensor, n_lags: int) -> torch.Tensor:
    """Ridge coefficients of summed lags, a well-conditioned conditional statistic.

    For each window ``w`` in ``1..n_lags``, every node's standardised lags
    ``1..w`` are summed (a flat carryover kernel) and scaled to unit standard
    deviation, and each standardised node is regressed on the sums of every
    node at once (its own included), with a ridge penalty of 0.1 per step;
    feature ``[s, i, j, w - 1]`` is the coefficient of the sender ``i``'s sum
    in the receiver ``j``'s regression. Like
    :func:`conditional_lag_coefficients` it holds a sender that reaches ``j``
    only through another node below its bivariate correlation, though not at
    zero when the window is longer than the path's delay (the sum of the node
    in between then mixes lags that carry the sender's effect with lags that
    do not). It has one coefficient per node instead of ``n_lags``: 20 nodes
    and 5 lags make 20 unknowns per window instead of 100, which 95 steps pin
    down.

    Parameters
    ----------
    x : Tensor of shape (n_shops, n_nodes, n_steps)
    n_lags : int

    Returns
    -------
    Tensor of shape (n_shops, n_nodes, n_nodes, n_lags)

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.nn import summed_lag_coefficients
    >>> x = torch.randn(1, 3, 400, generator=torch.Generator().manual_seed(0))
    >>> x[:, 2, 2:] += 0.6 * x[:, 0, 1:-1] + 0.3 * x[:, 0, :-2]  # carryover
    >>> coefficients = summed_lag_coefficients(x, n_lags=2)
    >>> int(coefficients[0, :, 2, 1].abs().argmax())  # node 2's sender, window 2
    0
    """
    return _summed(*_standardised_lags(x, n_lags))


def _summed(target: torch.Tensor, lags: torch.Tensor) -> torch.Tensor:
    sums = lags.cumsum(-1)
    sums = sums / sums.std(2, keepdim=True).clamp_min(1e-6)
    # one design per window: (shops, windows, steps, nodes)
    coef = _ridge(sums.permute(0, 3, 2, 1), target.transpose(1, 2)[:, None])
    # rows of coef run over senders, columns over receivers
    return coef.permute(0, 2, 3, 1)


_STATISTICS = {
    "bivariate": _bivariate,
    "conditional": _conditional,
    "summed": _summed,
}


def lag_feature_kinds(lag_features: str | Sequence[str]) -> tuple[str, ...]:
    """The statistics a ``lag_features`` value names, in the order they are read.

    Parameters
    ----------
    lag_features : str or sequence of str
        A name of :data:`LAG_FEATURES`, ``"both"`` (bivariate and
        conditional), ``"all"`` (the three) or a sequence (list or tuple) of
        distinct names; unordered collections such as sets are refused, since
        the order fixes the encoder's input columns.

    Returns
    -------
    tuple of str
        Names of :data:`LAG_FEATURES`.

    Raises
    ------
    ValueError
        If ``lag_features`` names anything else, repeats a name or is empty.

    Examples
    --------
    >>> from sklearn_causalmmm.nn import lag_feature_kinds
    >>> lag_feature_kinds("both")
    ('bivariate', 'conditional')
    >>> lag_feature_kinds(["bivariate", "summed"])
    ('bivariate', 'summed')
    """
    if isinstance(lag_features, str):
        kinds = _LAG_FEATURE_SETS.get(lag_features, (lag_features,))
    elif isinstance(lag_features, list | tuple):
        kinds = tuple(lag_features)
    else:
        kinds = ()
    unknown = [kind for kind in kinds if kind not in LAG_FEATURES]
    if unknown or not kinds or len(set(kinds)) != len(kinds):
        raise ValueError(
            f"lag_features must be one of {LAG_FEATURES}, 'both', 'all', or a "
            f"sequence of distinct names among them, got {lag_features!r}."
        )
    return kinds


def edge_lag_features(
    x: torch.Tensor, n_lags: int, lag_features: str | Sequence[str]
) -> torch.Tensor:
    """The encoder's pair features: the statistics ``lag_features`` names, side by side.

    The series are standardised and lagged once, whichever statistics are read.
    """
    target, lags = _standardised_lags(x, n_lags)
    kinds = lag_feature_kinds(lag_features)
    return torch.cat([_STATISTICS[name](target, lags) for name in kinds], -1)


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
    n_lags : int, default=0
        When positive, lag features of every pair over this many lags are fed
        to the first edge MLP beside the node embeddings.
    lag_features : str or sequence of str, default="bivariate"
        Which statistics, side by side (see :func:`lag_feature_kinds`):
        :func:`lagged_edge_features` (``"bivariate"``: each sender against the
        receiver alone), :func:`conditional_lag_coefficients`
        (``"conditional"``: every sender's lags at once, so indirect senders
        are explained away), :func:`summed_lag_coefficients` (``"summed"``:
        the same with each sender's lags summed, far fewer unknowns);
        ``"both"`` is the first two, ``"all"`` the three.
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
        n_lags: int = 0,
        norm: str | None = "layer",
        dropout: float = 0.0,
        lag_features: str | Sequence[str] = "bivariate",
    ) -> None:
        super().__init__()
        self._lag_kinds = lag_feature_kinds(lag_features)
        self.n_nodes = n_nodes
        self.n_inputs = n_inputs
        self.n_lags = n_lags
        self.lag_features = lag_features
        n_pair = len(self._lag_kinds) * n_lags
        self.node_embedding = _MLP(n_inputs, hidden, norm, dropout)
        self.edge_embedding = _PairMLP(hidden, n_pair, hidden, norm, dropout)
        self.node_update = _MLP(hidden, hidden, norm, dropout)
        self.edge_update = _PairMLP(hidden, hidden, hidden, norm, dropout)
        self.edge_logits = nn.Linear(hidden, n_edge_types)
        self.apply(_init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return edge-type logits of shape ``(n_shops, n_nodes, n_nodes, n_types)``.

        ``x`` has shape ``(n_shops, n_nodes, n_inputs)``.
        """
        pair = None
        if self.n_lags:
            pair = edge_lag_features(x, self.n_lags, self._lag_kinds)
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

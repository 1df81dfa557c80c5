"""Terms of the evidence lower bound minimised during training."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math

import torch

__all__ = ["gaussian_nll", "edge_kl", "log_edge_prior"]


def gaussian_nll(
    prediction: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    variance: float | torch.Tensor,
    node_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Gaussian negative log-likelihood per shop, without the constant.

    ``sum_t,j mask * [(prediction - target)**2 / (2 * var_j) + log(var_j) / 2]``
    summed over steps and averaged over nodes (the authors' normalisation, so
    that ``kl_weight`` keeps its meaning). A fixed float variance drops the
    log term, which is then constant.

    Parameters
    ----------
    prediction, target : Tensor of shape (B, d, T)
    mask : Tensor of shape (B, T) or (B, d, T)
        1 where the target is observed.
    variance : float or Tensor of shape (d,)
        A fixed variance, or one (learned) variance per node.
    node_weights : Tensor of shape (d,), default=None
        Relative weight of each node's error (mean 1 keeps the scale).

    Returns
    -------
    Tensor of shape (B,)
    """
    if mask.dim() == 2:
        mask = mask[:, None, :]
    mask = mask.expand_as(prediction)
    if isinstance(variance, torch.Tensor):
        variance = variance.view(1, -1, 1)
        terms = (prediction - target) ** 2 / (2.0 * variance) + 0.5 * variance.log()
    else:
        terms = (prediction - target) ** 2 / (2.0 * variance)
    terms = terms * mask
    if node_weights is not None:
        terms = terms * node_weights[None, :, None]
    return terms.sum(dim=(1, 2)) / prediction.shape[1]


def log_edge_prior(n_edge_types: int, edge_prior: float | None) -> torch.Tensor:
    """Log prior over edge types: uniform (None) or sparse ``P(edge) = edge_prior``."""
    if edge_prior is None:
        return torch.full((n_edge_types,), -math.log(n_edge_types))
    if not 0.0 < edge_prior < 1.0:
        raise ValueError(f"edge_prior must lie in (0, 1), got {edge_prior}.")
    prior = torch.full((n_edge_types,), edge_prior / (n_edge_types - 1))
    prior[0] = 1.0 - edge_prior
    return prior.log()


def edge_kl(logits: torch.Tensor, log_prior: torch.Tensor) -> torch.Tensor:
    """KL(q(edge types) || prior) summed over off-diagonal edges, per shop / n_nodes.

    Parameters
    ----------
    logits : Tensor of shape (B, d, d, n_edge_types)
    log_prior : Tensor of shape (n_edge_types,)

    Returns
    -------
    Tensor of shape (B,)
    """
    n_nodes = logits.shape[1]
    log_q = torch.log_softmax(logits, dim=-1)
    kl = (log_q.exp() * (log_q - log_prior.to(logits))).sum(-1)
    kl = kl * (1.0 - torch.eye(n_nodes, device=logits.device))
    return kl.sum(dim=(1, 2)) / n_nodes

"""Gumbel-Softmax edge sampling and edge probabilities."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import torch

__all__ = ["sample_edges", "edge_probability"]


def sample_edges(
    logits: torch.Tensor, tau: float, *, hard: bool = False, eps: float = 1e-10
) -> torch.Tensor:
    """Draw relaxed (or straight-through hard) one-hot edge-type samples.

    Parameters
    ----------
    logits : Tensor of shape (..., n_edge_types)
    tau : float
        Temperature; as ``tau -> 0`` soft samples approach one-hot vectors.
    hard : bool, default=False
        Return exact one-hot samples in the forward pass while keeping the
        soft sample's gradient (straight-through estimator).

    Returns
    -------
    Tensor of the same shape as ``logits``, summing to 1 over the last axis.
    """
    uniform = torch.rand_like(logits)
    gumbel = -torch.log(eps - torch.log(uniform + eps))
    soft = torch.softmax((logits + gumbel) / tau, dim=-1)
    if not hard:
        return soft
    one_hot = torch.zeros_like(soft).scatter_(-1, soft.argmax(-1, keepdim=True), 1.0)
    return one_hot - soft.detach() + soft


def edge_probability(logits: torch.Tensor) -> torch.Tensor:
    """Posterior probability that an edge exists: ``1 - P(type 0 = no edge)``."""
    return 1.0 - torch.softmax(logits, dim=-1)[..., 0]

"""Saturation module: a Hill curve whose shape comes from the shop's context."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["hill", "ContextHill"]


def hill(
    x: torch.Tensor, alpha: torch.Tensor, half_saturation: torch.Tensor
) -> torch.Tensor:
    """Hill curve ``x**alpha / (x**alpha + g**alpha)`` for non-negative ``x``.

    Written as ``sigmoid(alpha * (log x - log g))``, which is the same function
    but stays finite (and differentiable in ``alpha``) at ``x = 0``.
    """
    log_x = torch.log(x.clamp_min(1e-12))
    return torch.sigmoid(alpha * (log_x - torch.log(half_saturation)))


class ContextHill(nn.Module):
    """Per-shop, per-node Hill curves with context-dependent shape.

    ``alpha = softplus(W_a c + b_a)`` and ``g = softplus(W_g c + b_g)`` are positive by
    construction. Without context (``n_context = 0``) each node has one learned
    ``alpha`` and ``g`` shared by all shops.

    Parameters
    ----------
    n_nodes : int
    n_context : int
    init_alpha, init_half_saturation : float
        Values of ``alpha`` and ``g`` at initialisation (context weights start at 0).
    """

    def __init__(
        self,
        n_nodes: int,
        n_context: int,
        init_alpha: float = 1.0,
        init_half_saturation: float = 1.0,
    ) -> None:
        super().__init__()
        self.n_nodes = n_nodes
        self.n_context = n_context
        self.context_map = nn.Linear(max(n_context, 1), 2 * n_nodes)
        nn.init.zeros_(self.context_map.weight)
        with torch.no_grad():
            bias = self.context_map.bias.view(2, n_nodes)
            bias[0].fill_(_inverse_softplus(init_alpha))
            bias[1].fill_(_inverse_softplus(init_half_saturation))

    def parameters_for(
        self, context: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``alpha`` and ``g`` of shape ``(n_shops, n_nodes)``."""
        if self.n_context == 0:
            context = context.new_zeros(context.shape[0], 1)
        raw = nn.functional.softplus(self.context_map(context)).view(
            -1, 2, self.n_nodes
        )
        return raw[:, 0] + 1e-3, raw[:, 1] + 1e-3

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Saturate ``x`` of shape ``(n_shops, n_nodes, ...)``."""
        alpha, half_saturation = self.parameters_for(context)
        extra = (1,) * (x.dim() - 2)
        return hill(
            x,
            alpha.view(*alpha.shape, *extra),
            half_saturation.view(*half_saturation.shape, *extra),
        )


def _inverse_softplus(value: float) -> float:
    return value + math.log(-math.expm1(-value))

"""CausalMMM: encoder and decoder trained end to end as a variational autoencoder."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sklearn_causalmmm.nn.decoder import MarketingResponseDecoder
from sklearn_causalmmm.nn.encoder import CausalRelationalEncoder, off_diagonal_mask
from sklearn_causalmmm.nn.gumbel import sample_edges

__all__ = ["CausalMMM"]


class CausalMMM(nn.Module):
    """Graph posterior from the history window, decoder rolled over the whole window.

    Parameters
    ----------
    n_nodes : int
    n_history : int
        Steps the encoder reads (the history before the trained horizon). The
        encoder never sees the horizon it is asked to forecast.
    n_context : int
    hidden : int
    tau : float
        Gumbel-Softmax temperature.
    hard : bool
        Straight-through one-hot edge samples instead of soft ones.
    n_edge_types : int
    n_pair_features : int
        Features of every pair the encoder reads beside the series (0: none),
        passed to :meth:`forward` (see :class:`CausalRelationalEncoder`).
    encoder_norm : {"batch", "layer", None}
    dropout : float
    graph : {"learned", "full"}
        ``"full"`` skips the encoder and uses every edge (the "CM-full"
        ablation).
    saturation, recurrent, residual : bool
    messages : {"sender", "pair"}
        Passed to :class:`MarketingResponseDecoder`.
    roles : sequence of str, default=None
        Every node's role (see :class:`MarketingResponseDecoder`).
    known_edges : array-like of shape (n_nodes, n_nodes), default=None
        Edges known before training: 1 (present), 0 (absent) or NaN (to
        learn). A known edge has probability exactly 1 or 0 in every shop,
        in training as in prediction (its logits are fixed, so the encoder
        learns nothing about it).
    n_shops : int, default=0
        Shops that get their own edge gains (rows of ``shops`` in
        :meth:`forward`); 0 shares every decoder weight across shops.
    edge_gain_scale : float, default=1.0
        Prior standard deviation of the log edge gains (see
        :meth:`edge_gains`).
    """

    def __init__(
        self,
        n_nodes: int,
        n_history: int,
        n_context: int,
        hidden: int = 64,
        tau: float = 0.5,
        hard: bool = False,
        n_edge_types: int = 2,
        n_pair_features: int = 0,
        encoder_norm: str | None = "layer",
        dropout: float = 0.0,
        graph: str = "learned",
        saturation: bool = True,
        recurrent: bool = True,
        residual: bool = True,
        messages: str = "sender",
        n_shops: int = 0,
        edge_gain_scale: float = 1.0,
        roles: Sequence[str] | None = None,
        known_edges=None,
    ) -> None:
        super().__init__()
        if graph not in ("learned", "full"):
            raise ValueError(f"graph must be 'learned' or 'full', got {graph!r}.")
        self.n_nodes = n_nodes
        self.n_history = n_history
        self.n_edge_types = n_edge_types
        self.tau = tau
        self.hard = hard
        self.graph = graph
        self.encoder = CausalRelationalEncoder(
            n_nodes,
            n_history,
            hidden,
            n_edge_types,
            n_pair_features,
            encoder_norm,
            dropout,
        )
        self.decoder = MarketingResponseDecoder(
            n_nodes,
            hidden,
            n_context,
            n_edge_types,
            saturation,
            recurrent,
            residual,
            messages,
            roles=roles,
        )
        # Per-node noise variance of the likelihood, used when it is learned:
        # bursty spend is far noisier than GMV, and a shared variance would let
        # spend errors drown the evidence about edges into GMV.
        self.log_variance = nn.Parameter(torch.zeros(n_nodes))
        # While True, edges are drawn from the uniform prior instead of the
        # encoder (see the trainer's decoder warm-up).
        self.warming_up = False
        self.edge_gain_scale = edge_gain_scale
        self.shop_log_gains = (
            nn.Parameter(torch.zeros(n_shops, n_nodes, n_nodes)) if n_shops else None
        )
        self.register_buffer(
            "off_diagonal", off_diagonal_mask(n_nodes), persistent=False
        )
        if known_edges is None:
            known_edges = torch.full((n_nodes, n_nodes), float("nan"))
        self.register_buffer(
            "known_edges", torch.as_tensor(known_edges, dtype=torch.float32)
        )

    def edge_gains(self, shops: torch.Tensor | None) -> torch.Tensor | None:
        """Edge gains ``exp(g[s, i, j])`` of the given shops, ``(B, d, d)``.

        Shops whose graphs match may still differ in how strongly a parent
        drives a child; a shared decoder can only average them. Each fitted
        shop ``s`` therefore scales the message of its edge ``i -> j`` by
        ``exp(g[s, i, j])``, with the log gains learned with the network
        under a ``N(0, edge_gain_scale**2)`` prior (the shop-level
        coefficients of a hierarchical marketing mix model). None when the
        model has no gains or ``shops`` is None (e.g. a shop not fitted).
        """
        if self.shop_log_gains is None or shops is None:
            return None
        return torch.exp(self.shop_log_gains[shops] * self.off_diagonal)

    def edge_gain_penalty(self, shops: torch.Tensor) -> torch.Tensor:
        """Negative log prior of the shops' log gains, ``(B,)``, without constant."""
        if self.shop_log_gains is None:
            return torch.zeros(len(shops), device=self.off_diagonal.device)
        log_gains = self.shop_log_gains[shops] * self.off_diagonal
        return log_gains.square().sum(dim=(1, 2)) / (2.0 * self.edge_gain_scale**2)

    def edge_logits(
        self, x: torch.Tensor, pair_features: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Edge-type logits ``(B, d, d, K)`` from the last ``n_history`` steps.

        ``pair_features`` are the encoder's features of every pair, read from
        those same steps.
        """
        if self.graph == "full":
            logits = x.new_zeros(x.shape[0], self.n_nodes, self.n_nodes, 2)
            logits[..., 1] = 30.0
        else:
            logits = self.encoder(x[..., -self.n_history :], pair_features)
        known = self.known_edges
        if torch.isnan(known).all():
            return logits
        # a known edge's logits are fixed far apart: probability 1 or 0, and
        # the same in a Gumbel sample at any temperature
        fixed = torch.stack(
            [30.0 * (1.0 - 2.0 * known), 30.0 * (2.0 * known - 1.0)], -1
        )
        return torch.where(torch.isnan(known)[..., None], logits, fixed.to(logits))

    def edges(self, logits: torch.Tensor) -> torch.Tensor:
        """Gumbel samples when training; deterministic weights otherwise.

        Outside training the edge weights are the tempered posterior
        ``softmax(logits / tau)`` (soft edges) or its arg-max (hard edges), so
        predictions are repeatable.
        """
        if self.training:
            return sample_edges(logits, self.tau, hard=self.hard)
        soft = torch.softmax(logits / self.tau, dim=-1)
        if not self.hard:
            return soft
        return torch.zeros_like(soft).scatter_(-1, soft.argmax(-1, keepdim=True), 1.0)

    def forward(
        self,
        values: torch.Tensor,
        context: torch.Tensor,
        n_teacher: int,
        known_nodes: torch.Tensor | None = None,
        encoder_values: torch.Tensor | None = None,
        edge_probabilities: torch.Tensor | None = None,
        shops: torch.Tensor | None = None,
        edge_gains: torch.Tensor | None = None,
        pair_features: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(prediction of values[..., 1:], edge logits)``.

        ``encoder_values`` (default: ``values[..., :n_teacher]``) is what the
        encoder reads; by default it excludes the rolled-out horizon.
        ``edge_probabilities`` of shape ``(B, d, d)``, if given, replace the
        encoder's posterior edge probabilities (a graph-swap or edge-cut
        experiment) and are tempered or hardened like them; the encoder's
        logits are still returned. ``shops`` (rows among the ``n_shops``)
        selects the :meth:`edge_gains`; ``edge_gains`` of shape ``(B, d, d)``,
        if given, replace them (e.g. another shop's). ``pair_features`` are
        the encoder's (see :meth:`edge_logits`), read from the encoder's
        window.
        """
        if encoder_values is None:
            encoder_values = values[..., :n_teacher]
        logits = self.edge_logits(encoder_values, pair_features)
        if self.warming_up and self.training:
            # The decoder first learns to use messages on random graphs; an
            # encoder trained against a decoder that ignores messages only
            # learns which senders are noisiest, and switches those edges off.
            edges = self.edges(torch.zeros_like(logits))
            logits = logits.detach()
        elif edge_probabilities is not None:
            if self.n_edge_types != 2:
                raise ValueError(
                    "edge_probabilities replace the graph of a model with one edge "
                    f"type (n_edge_types=2), not {self.n_edge_types}."
                )
            # As logits, so the override is tempered (or hardened) exactly as
            # the encoder's posterior is: its own graph reproduces predict.
            edges = self.edges(
                torch.log(
                    torch.stack([1.0 - edge_probabilities, edge_probabilities], -1)
                )
            )
        else:
            edges = self.edges(logits)
        if edge_gains is None:
            edge_gains = self.edge_gains(shops)
        prediction = self.decoder(
            values, edges, context, n_teacher, known_nodes, edge_gains
        )
        return prediction, logits

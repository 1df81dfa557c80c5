"""Marketing Response Decoder: recurrent message passing along sampled edges.

Temporal module (carryover): every node keeps a GRU-style state updated from its
own (saturated) input and from the messages that arrive along the sampled edges
``i -> j``. Saturation module: non-target inputs pass through a context-shaped
Hill curve before they enter the recurrence, so a channel's influence on every
child is a saturating function of its spend.

A node whose incoming edges are all absent receives an exact zero message and
evolves from its own history only: that is what makes the graph Granger-causal.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sklearn_causalmmm.nn.saturation import ContextHill

__all__ = ["MarketingResponseDecoder"]


class MarketingResponseDecoder(nn.Module):
    """Predict every node's next value from the past and the sampled graph.

    Parameters
    ----------
    n_nodes : int
    hidden : int
    n_context : int
    n_edge_types : int, default=2
        Type 0 means "no edge" and carries no message.
    saturation : bool, default=True
        Pass non-target inputs through :class:`ContextHill` (False is the
        paper's "CM-rw" ablation).
    recurrent : bool, default=True
        Keep a recurrent state (False is the "CM-markov" ablation: the state is
        rebuilt from the current input at every step, so memory spans one step).
    residual : bool, default=True
        Predict the change from the current value rather than the value.
    n_own_lags : int, default=7
        Own past values each node reads at every step (input and a linear
        autoregressive term of the readout).
    roles : sequence of str, default=None
        Every node's role: ``"media"``, ``"funnel"``, ``"control"`` or
        ``"target"``; None makes the last node the target and the others
        media. Media and funnel inputs pass through the Hill curves.
    messages : {"sender", "pair"}, default="sender"
        ``"sender"``: an edge ``i -> j`` carries a function of ``i``'s state
        only, so an edge helps only when ``i``'s past informs ``j`` (Granger).
        ``"pair"`` (the authors' decoder) computes it from ``[h_i, h_j]``,
        which also hands ``j`` an extra transform of its own state through
        every incoming edge and so rewards edges whatever their sender; a
        self-message that is always on removes that reward.
    """

    def __init__(
        self,
        n_nodes: int,
        hidden: int,
        n_context: int,
        n_edge_types: int = 2,
        saturation: bool = True,
        recurrent: bool = True,
        residual: bool = True,
        messages: str = "sender",
        n_own_lags: int = 7,
        roles: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        if messages not in ("sender", "pair"):
            raise ValueError(f"messages must be 'sender' or 'pair', got {messages!r}.")
        self.n_nodes = n_nodes
        self.hidden = hidden
        self.recurrent = recurrent
        self.residual = residual
        self.pair_messages = messages == "pair"
        message_inputs = 2 * hidden if self.pair_messages else hidden
        self.message_first = nn.ModuleList(
            nn.Linear(message_inputs, hidden) for _ in range(n_edge_types - 1)
        )
        # The sender's current input joins its message: the state alone lags
        # one step, and lag-1 effects (x_i(t) -> x_j(t + 1)) would be lost.
        self.message_input = nn.ModuleList(
            nn.Linear(1, hidden, bias=False) for _ in range(n_edge_types - 1)
        )
        self.message_second = nn.ModuleList(
            nn.Linear(hidden, hidden) for _ in range(n_edge_types - 1)
        )
        # Every node sees its own last n_own_lags values (a Granger test
        # conditions on the target's own lags): otherwise a child's state, a
        # smoothed memory of its parent's past, helps predict the parent and
        # the model learns edges backwards.
        self.n_own_lags = max(1, n_own_lags)
        self.input_gates = nn.Linear(1 + self.n_own_lags, 3 * hidden)
        self.autoregression = nn.Linear(self.n_own_lags, 1, bias=False)
        nn.init.zeros_(self.autoregression.weight)
        self.message_gates = nn.Linear(hidden, 3 * hidden, bias=False)
        self.readout = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )
        self.saturation = ContextHill(n_nodes, n_context) if saturation else None
        self.markov_state = None if recurrent else nn.Linear(1, hidden)
        if roles is None:
            roles = ("media",) * (n_nodes - 1) + ("target",)
        if len(roles) != n_nodes:
            raise ValueError(f"roles has {len(roles)} entries for {n_nodes} nodes.")
        # Media and funnel inputs saturate; signed controls and the target
        # (whose own level drives it) do not.
        saturating = torch.tensor([role in ("media", "funnel") for role in roles])
        self.register_buffer("saturating", saturating, persistent=False)

    def saturate(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Apply the Hill curves to non-target nodes of ``x`` ``(B, d, ...)``."""
        if self.saturation is None:
            return x
        mask = self.saturating.view(1, -1, *([1] * (x.dim() - 2)))
        return torch.where(mask, self.saturation(x.clamp_min(0.0), context), x)

    def messages(
        self,
        state: torch.Tensor,
        weights: torch.Tensor,
        inputs: torch.Tensor,
        pair_weights: list | None = None,
    ) -> torch.Tensor:
        """Aggregate messages ``(B, d, H)`` arriving at each receiver.

        ``state`` is every node's state before this step, ``inputs`` its
        current (saturated) input ``(B, d)`` and ``weights`` comes from
        :meth:`edge_weights`: the ``[b, i, j]`` weights of the message-carrying
        edge types, ``(B, d, d, n_edge_types - 1)``. ``pair_weights`` is
        :meth:`split_pair_weights`, passed by a caller that loops over steps.
        """
        if self.pair_messages and pair_weights is None:
            pair_weights = self.split_pair_weights()
        total = state.new_zeros(state.shape)
        layers = zip(
            self.message_first, self.message_second, self.message_input, strict=True
        )
        for k, (first, second, current) in enumerate(layers):
            news = current(inputs[..., None])
            if self.pair_messages:
                to_sender, to_receiver = pair_weights[k]
                # first([sender, receiver]) split per node: d times fewer FLOPs.
                sender = state @ to_sender + news
                receiver = state @ to_receiver + first.bias
                pair = torch.tanh(sender[:, :, None] + receiver[:, None])
                outgoing = torch.tanh(second(pair))  # (B, i, j, H)
                total = total + (weights[..., k, None] * outgoing).sum(1)
                continue
            # One message per sender, shared by its receivers: d, not d**2, MLPs.
            outgoing = torch.tanh(second(torch.tanh(first(state) + news)))
            total = total + torch.einsum("bij,bih->bjh", weights[..., k], outgoing)
        return total / self.n_nodes

    def split_pair_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Sender and receiver halves of each pair message's first layer.

        Split once per window rather than once per step: every slice of a
        weight costs a full-size gradient buffer in the backward pass.
        """
        return [
            (first.weight[:, : self.hidden].T, first.weight[:, self.hidden :].T)
            for first in self.message_first
        ]

    def edge_weights(self, edges: torch.Tensor) -> torch.Tensor:
        """Message weights ``[b, i, j, k]`` from sampled edge types ``(B, d, d, K)``.

        The diagonal is zero for sender messages and one for pair messages:
        their self-message is always on, since otherwise any incoming edge
        would hand the receiver an extra transform of its own state, edges
        would pay off whatever the sender, and the learned graph would be
        dense.
        """
        eye = torch.eye(self.n_nodes, device=edges.device)[None, :, :, None]
        carrying = edges[..., 1:] * (1.0 - eye)
        return carrying + eye if self.pair_messages else carrying

    def forward(
        self,
        x: torch.Tensor,
        edges: torch.Tensor,
        context: torch.Tensor,
        n_teacher: int,
        known_nodes: torch.Tensor | None = None,
        edge_gains: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Roll the decoder over a window.

        Parameters
        ----------
        x : Tensor of shape (B, d, T)
            Scaled series; ``x[..., t]`` is the input at step ``t``.
        edges : Tensor of shape (B, d, d, n_edge_types)
            Sampled edge-type weights (``[b, i, j]`` = edge ``i -> j``).
        context : Tensor of shape (B, n_context)
        n_teacher : int
            Inputs ``0 .. n_teacher - 1`` are the observed values (teacher
            forcing); from step ``n_teacher`` on, nodes not in ``known_nodes``
            read the decoder's own previous prediction.
        known_nodes : bool Tensor of shape (d,) or (B, d, T), default=None
            Nodes whose observed values stay the inputs during the rollout
            (a channel plan), for every step or step by step. None means no
            node is known.
        edge_gains : Tensor of shape (B, d, d), default=None
            Positive factor on the message of each edge ``[b, i, j]``: how
            strongly ``i`` drives ``j`` in this shop. An absent edge stays
            silent whatever its gain. None means 1 everywhere.

        Returns
        -------
        Tensor of shape (B, d, T - 1): the prediction of ``x[..., 1:]``.
        """
        n_shops, n_nodes, n_steps = x.shape
        n_teacher = max(1, min(n_teacher, n_steps - 1))
        weights = self.edge_weights(edges)
        if edge_gains is not None:
            weights = weights * edge_gains[..., None]
        pair_weights = self.split_pair_weights() if self.pair_messages else None
        saturated = self.saturate(x[..., :n_teacher], context)
        lags = self._own_lags(x[..., :n_teacher])
        teacher_features = torch.cat([saturated[..., None], lags], dim=-1)
        # unbind once: indexing a step per iteration would make autograd build a
        # zero tensor of the whole window for every step in the backward pass.
        teacher_gates = self.input_gates(teacher_features).unbind(2)
        teacher_inputs = saturated.unbind(2)
        teacher_lags = lags.unbind(2)
        observed = x.unbind(2)
        state = x.new_zeros(n_shops, n_nodes, self.hidden)
        states, rolled = [], []
        prediction = window = None
        for step in range(n_steps - 1):
            if step < n_teacher:
                current = observed[step]
                gates_in = teacher_gates[step]
                inputs = teacher_inputs[step]
                window = teacher_lags[step]
            else:
                current = prediction
                if known_nodes is not None:
                    known = known_nodes
                    if known.dim() > 1:  # step by step
                        known = known[..., step]
                    current = torch.where(known, observed[step], prediction)
                inputs = self.saturate(current, context)
                window = torch.cat([current[..., None], window[..., :-1]], dim=-1)
                features = torch.cat([inputs[..., None], window], dim=-1)
                gates_in = self.input_gates(features)
            if not self.recurrent:
                state = torch.tanh(self.markov_state(inputs[..., None]))
            message = self.messages(state, weights, inputs, pair_weights)
            state = self._update(state, gates_in, message)
            if step >= n_teacher - 1:
                prediction = self._read(state, current, window)
                rolled.append(prediction)
            else:
                states.append(state)
        outputs = []
        if states:
            count = len(states)
            outputs.append(
                self._read(
                    torch.stack(states, dim=2), x[..., :count], lags[:, :, :count]
                )
            )
        outputs.append(torch.stack(rolled, dim=2))
        return torch.cat(outputs, dim=2)

    def _own_lags(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, d, T, n_own_lags)``: ``[..., t, k] = x[..., t - k]``, 0 before 0."""
        padded = nn.functional.pad(x, (self.n_own_lags - 1, 0))
        return padded.unfold(-1, self.n_own_lags, 1).flip(-1)

    def _update(self, state, gates_in, message):
        gates_msg = self.message_gates(message)
        in_r, in_i, in_n = gates_in.chunk(3, dim=-1)
        msg_r, msg_i, msg_n = gates_msg.chunk(3, dim=-1)
        reset = torch.sigmoid(in_r + msg_r)
        keep = torch.sigmoid(in_i + msg_i)
        candidate = torch.tanh(in_n + reset * msg_n)
        return (1.0 - keep) * candidate + keep * state

    def _read(self, state, current, lags) -> torch.Tensor:
        out = self.readout(state)[..., 0] + self.autoregression(lags)[..., 0]
        return out + current if self.residual else out

"""Neural Granger causality (Tank et al., TPAMI 2021): component-wise MLPs and LSTMs.

Every shop gets one small network per target node that predicts the node from
the last ``max_lag`` steps of all nodes. A group lasso on each input series'
first-layer weights, applied with proximal gradient steps (ISTA), drives whole
input series exactly to zero: input ``i`` Granger-causes target ``j`` when its
group survives. All shops and targets train together as one batch of
independent networks (batched ``einsum``), so a panel of hundreds of shops is a
single tensor program rather than a Python loop.

This module also holds the lagged-window and standardisation helpers that
:mod:`sklearn_causalmmm.baselines.gvar` reuses.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import torch
from torch import nn

from sklearn_causalmmm.base import BaseDiscoverer
from sklearn_causalmmm.panel import Panel
from sklearn_causalmmm.utils.lags import lag_windows, valid_windows
from sklearn_causalmmm.utils.random import seeded
from sklearn_causalmmm.utils.series import weighted_moments

__all__ = ["NeuralGrangerDiscoverer"]

# Fewest complete lag windows a shop needs: with one window a network can fit
# it exactly and the group norms say nothing.
_MIN_WINDOWS = 2


# ---------------------------------------------------------------------------
# Helpers shared with gvar.py
# ---------------------------------------------------------------------------


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")
    return int(value)


def _check_real(value, name: str, low: float = 0.0, *, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < low or (strict and value == low):
        bound = f"> {low}" if strict else f">= {low}"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}.")
    return value


def _check_choice(value, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}.")
    return value


def _standardize(panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score each shop's scaled series per node over its observed steps.

    Returns ``(z, mean, std)`` with ``z`` of shape ``(n_shops, n_nodes,
    n_steps)`` (0 on masked steps) and ``mean``/``std`` of shape ``(n_shops,
    n_nodes)`` in scaled units. The coefficient networks of GVAR have no
    intercept and the group norms of NGC compare input series, so both need
    centred series on a common scale (the per-replicate standardisation of
    the reference experiments).
    """
    scaled = panel.scaled().astype(np.float64)
    weights = panel.mask[:, None, :].astype(np.float64)
    mean, std = (moment[..., 0] for moment in weighted_moments(scaled, weights))
    # A node constant within one shop carries no information there; std 1
    # keeps it at 0 instead of dividing by zero.
    std = np.where(std > 1e-8 * np.maximum(np.abs(mean), 1.0), std, 1.0)
    z = ((scaled - mean[..., None]) * weights / std[..., None]).astype(np.float32)
    return z, mean, std


def _lagged_windows(
    series: np.ndarray, mask: np.ndarray, max_lag: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cut every shop's series into (last ``max_lag`` steps, next step) pairs.

    Parameters
    ----------
    series : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
    max_lag : int

    Returns
    -------
    past : Tensor of shape (n_shops, n_windows, max_lag, n_nodes)
        ``past[s, n, k - 1]`` is the value ``k`` steps before target ``n``
        (lag 1 first), with ``n_windows = n_steps - max_lag``.
    target : Tensor of shape (n_shops, n_windows, n_nodes)
        The value at step ``n + max_lag``.
    valid : Tensor of shape (n_shops, n_windows), float
        1 where every step of the window is observed (ragged shops), else 0.
    """
    target, lags = lag_windows(np.asarray(series, dtype=np.float32), max_lag)
    past = torch.as_tensor(lags.transpose(0, 2, 3, 1).copy())
    target = torch.as_tensor(target.transpose(0, 2, 1).copy())
    valid = torch.as_tensor(valid_windows(np.asarray(mask, dtype=bool), max_lag))
    return past, target, valid


def _check_windows(panel: Panel, valid: torch.Tensor, max_lag: int) -> None:
    """Raise naming the shops with too few complete lag windows."""
    counts = valid.sum(dim=1).numpy()
    short = np.flatnonzero(counts < _MIN_WINDOWS)
    if short.size:
        shops = [panel.shop_ids[s] for s in short[:5]]
        more = f" and {short.size - 5} more" if short.size > 5 else ""
        raise ValueError(
            f"shop(s) {shops}{more} have fewer than {_MIN_WINDOWS} windows of "
            f"max_lag + 1 = {max_lag + 1} consecutive observed steps; lower "
            "max_lag or drop these shops."
        )


def _seed(rng: np.random.RandomState) -> int:
    return int(rng.randint(np.iinfo(np.int32).max))


def _uniform(shape: tuple, fan_in: int) -> nn.Parameter:
    """``nn.Linear``'s default initialisation for a batch of layers.

    Draws from torch's global generator: callers run under ``seeded``.
    """
    bound = 1.0 / math.sqrt(fan_in)
    data = (torch.rand(shape) * 2.0 - 1.0) * bound
    return nn.Parameter(data)


def _weighted_mse(
    pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """Mean squared error over each shop's valid windows, per network.

    ``pred``/``target`` are ``(S, ..., N)`` with windows last; returns the
    ``(S, ...)`` errors, one per independent network.
    """
    weight = valid / valid.sum(dim=1, keepdim=True).clamp(min=1.0)
    shape = (weight.shape[0],) + (1,) * (pred.dim() - 2) + (weight.shape[1],)
    return (((pred - target) ** 2) * weight.reshape(shape)).sum(dim=-1)


# ---------------------------------------------------------------------------
# Batched component-wise networks
# ---------------------------------------------------------------------------


class _CMLP(nn.Module):
    """One single-hidden-layer MLP per (shop, target), all evaluated at once.

    ``first`` has shape ``(S, d_target, hidden, d_input, max_lag)``: the
    weights of input series ``i`` in target ``j``'s network are
    ``first[s, j, :, i, :]``, the group the penalty acts on.
    """

    def __init__(self, n_shops: int, n_nodes: int, max_lag: int, hidden: int):
        super().__init__()
        fan_in = n_nodes * max_lag
        shape = (n_shops, n_nodes, hidden)
        self.first = _uniform(shape + (n_nodes, max_lag), fan_in)
        self.first_bias = _uniform(shape, fan_in)
        self.out = _uniform(shape, hidden)
        self.out_bias = _uniform((n_shops, n_nodes), hidden)

    def forward(self, past: torch.Tensor) -> torch.Tensor:
        """``past`` (S, N, K, d) -> predictions (S, d_target, N)."""
        h = torch.einsum("snki,sjhik->sjnh", past, self.first)
        h = torch.relu(h + self.first_bias[:, :, None, :])
        return torch.einsum("sjnh,sjh->sjn", h, self.out) + self.out_bias[..., None]

    def groups(self) -> torch.Tensor:
        """First-layer weights as ``(S, d_target, d_input, hidden, max_lag)``."""
        return self.first.permute(0, 1, 3, 2, 4)

    def ridge(self) -> torch.Tensor:
        """Squared weights after the first layer, per network ``(S, d)``."""
        return (self.out**2).sum(dim=-1)


class _CLSTM(nn.Module):
    """One LSTM per (shop, target), run over the whole series.

    ``input_weight`` has shape ``(S, d_target, 4 * hidden, d_input)``; column
    ``i`` is input series ``i``'s group. Like the cLSTM of Tank et al., the
    network needs no lag: its memory is the recurrent state. It predicts the
    same steps as the cMLP (``max_lag`` onwards), so the first ``max_lag``
    steps only warm the state up.
    """

    def __init__(self, n_shops: int, n_nodes: int, hidden: int):
        super().__init__()
        shape = (n_shops, n_nodes, 4 * hidden)
        self.hidden = hidden
        self.input_weight = _uniform(shape + (n_nodes,), hidden)
        self.hidden_weight = _uniform(shape + (hidden,), hidden)
        self.bias = _uniform(shape, hidden)
        self.out = _uniform((n_shops, n_nodes, hidden), hidden)
        self.out_bias = _uniform((n_shops, n_nodes), hidden)

    def forward(self, series: torch.Tensor, n_windows: int) -> torch.Tensor:
        """``series`` (S, T, d) -> predictions (S, d, N) of the last N steps."""
        n_shops, n_steps, _ = series.shape
        # Input projections of every step at once; only the recurrence loops.
        projected = torch.einsum("sti,sjgi->tsjg", series[:, :-1], self.input_weight)
        projected = (projected + self.bias).unbind(0)
        h = series.new_zeros(n_shops, self.out.shape[1], self.hidden)
        c = torch.zeros_like(h)
        states = []
        for t in range(n_steps - 1):
            # Broadcast-and-sum rather than a batched matmul: thousands of
            # 1 x hidden products per step are slower through BLAS, whose
            # threads must wake for each of them.
            recurrent = (h[..., None, :] * self.hidden_weight).sum(dim=-1)
            gates = projected[t] + recurrent
            # Gate order (input, forget, output, cell): one sigmoid for three.
            i, f, o = torch.sigmoid(gates[..., : 3 * self.hidden]).chunk(3, dim=-1)
            c = f * c + i * torch.tanh(gates[..., 3 * self.hidden :])
            h = o * torch.tanh(c)
            if t >= n_steps - 1 - n_windows:
                states.append(h)
        h = torch.stack(states, dim=2)  # (S, d, N, hidden)
        return torch.einsum("sjnh,sjh->sjn", h, self.out) + self.out_bias[..., None]

    def groups(self) -> torch.Tensor:
        """Input weights as ``(S, d_target, d_input, 4 * hidden)``."""
        return self.input_weight.permute(0, 1, 3, 2)

    def ridge(self) -> torch.Tensor:
        """Squared recurrent and output weights, per network ``(S, d)``."""
        return (self.hidden_weight**2).sum(dim=(-2, -1)) + (self.out**2).sum(dim=-1)


def _group_norms(model: nn.Module) -> torch.Tensor:
    """``(S, d_target, d_input)`` norm of each input series' group."""
    groups = model.groups()
    return groups.reshape(*groups.shape[:3], -1).norm(dim=-1)


@torch.no_grad()
def _prox(model: nn.Module, threshold: torch.Tensor, hierarchical: bool) -> None:
    """Group soft-thresholding of the first-layer weights, in place.

    ``threshold`` is ``(S, d_target)``: step size times penalty weight of
    every network. The hierarchical penalty nests, for every input series,
    the groups "lags k..K" for k = K, ..., 1; its proximal operator applies
    the group operators from the smallest group (the longest lag alone) to
    the whole series (Jenatton et al., 2011), so long lags die first.
    """
    weight = model.groups()  # a view: writing it updates the parameter
    threshold = threshold[..., None]  # one per group of a network

    def shrink(block: torch.Tensor) -> None:
        norm = block.reshape(*block.shape[:3], -1).norm(dim=-1)
        factor = (1.0 - threshold / norm.clamp(min=1e-30)).clamp(min=0.0)
        block.mul_(factor.reshape(*factor.shape, *(1,) * (block.dim() - 3)))

    if not hierarchical:
        shrink(weight)
        return
    for first_lag in range(weight.shape[-1] - 1, -1, -1):
        shrink(weight[..., first_lag:])


def _train_ista(
    model: nn.Module,
    inputs: tuple,
    target: torch.Tensor,
    valid: torch.Tensor,
    *,
    lam: float,
    lam_ridge: float,
    step: torch.Tensor,
    n_iter: int,
    hierarchical: bool,
) -> torch.Tensor:
    """Proximal gradient descent: a step on MSE + ridge, then the group prox.

    ``model(*inputs)`` returns predictions ``(S, d, N)`` of ``target``
    ``(S, N, d)``. ``step`` holds one step size per network ``(S, d)``. A
    fixed step can overshoot for a few of thousands of networks (a badly
    scaled shop, an unlucky initialisation) and diverge to NaN; so a network
    whose objective rises is put back where it was and its step halved, the
    others carry on. Returns the step sizes, to warm-start a penalty path.
    """
    target = target.permute(0, 2, 1)  # the networks' output layout
    params = list(model.parameters())
    step = step.clone()
    previous = backup = None
    for _ in range(n_iter):
        smooth = _weighted_mse(model(*inputs), target, valid)
        smooth = smooth + lam_ridge * model.ridge()
        grads = torch.autograd.grad(smooth.sum(), params)
        with torch.no_grad():
            objective = smooth + lam * _group_norms(model).sum(dim=-1)
            rose = torch.zeros_like(step, dtype=torch.bool)
            if previous is not None:
                # NaN compares False: a diverged network counts as risen.
                rose = ~(objective <= previous * (1.0 + 1e-5))
                step = torch.where(rose, step / 2.0, step)
                for param, old in zip(params, backup, strict=True):
                    param.copy_(torch.where(_per_network(rose, param), old, param))
                objective = torch.where(rose, previous, objective)
            previous = objective
            backup = [param.clone() for param in params]
            # A risen network waits one iteration for the gradient at its
            # restored weights.
            moving = torch.where(rose, 0.0, step)
            for param, grad in zip(params, grads, strict=True):
                param.sub_(_per_network(moving, param) * grad)
        _prox(model, moving * lam, hierarchical)
    return step


def _per_network(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Broadcast ``(S, d)`` values against a parameter ``(S, d, ...)``."""
    return values.reshape(*values.shape, *(1,) * (like.dim() - 2))


# ---------------------------------------------------------------------------
# Estimator
# ---------------------------------------------------------------------------


class NeuralGrangerDiscoverer(BaseDiscoverer):
    """Neural Granger causality per shop: cMLP or cLSTM with a group lasso.

    For every shop and every target node ``j``, a network predicts ``j`` from
    the last ``max_lag`` steps of all nodes (Tank et al., 2021). The
    first-layer weights of each input series ``i`` form one group, penalised
    by ``lam`` times its Euclidean norm; training is proximal gradient descent
    (ISTA): a gradient step on the mean squared error plus a ridge penalty on
    the other layers, then group soft-thresholding, which sets whole groups
    exactly to zero. Input ``i`` Granger-causes ``j`` when its group survives.

    Every shop is fitted on its own series, scaled by the panel and
    z-scored per node. Shops and targets are independent networks trained
    together as one batch.

    Parameters
    ----------
    model : {"mlp", "lstm"}, default="mlp"
        ``"mlp"``: cMLP, one hidden layer on the last ``max_lag`` steps.
        ``"lstm"``: cLSTM, an LSTM run over each shop's whole series; its
        groups are the input-to-hidden weights of each input series. As in
        Tank et al. its memory is its recurrent state, not a lag window; it
        is trained on the same steps as the cMLP (``max_lag`` onwards), the
        first ones only warm its state up. Masked steps of ragged shops are
        read as the shop's mean. About 20 times slower than the cMLP (17
        minutes against 1 for 300 shops, 8 nodes and 100 steps on one core).
    max_lag : int, default=5
        Steps of history each cMLP prediction sees (the project-wide lag
        budget); the cLSTM skips the loss on the first ``max_lag`` steps.
    hidden : int, default=16
        Hidden units of each network.
    penalty : {"group", "hierarchical"}, default="group"
        ``"group"``: group lasso over all lags of a series. ``"hierarchical"``
        (cMLP only): nested groups over lags ``k..max_lag`` for every ``k``,
        which also selects each edge's lag.
    lam : float, default=0.3
        Weight of the group penalty (ignored when ``penalty_path`` is given).
    lam_ridge : float, default=0.01
        Ridge penalty on the weights after the first layer.
    lr : float, default=0.05
        Initial ISTA step size. The step of a network whose objective rises
        is halved (the step is undone), which keeps every network's objective
        non-increasing.
    max_iter : int, default=500
        ISTA iterations (per value of ``penalty_path``).
    penalty_path : sequence of float or None, default=None
        Penalty weights to fit in increasing order, each warm-started from the
        previous solution. The score of an edge is then its persistence along
        the path: ``(m + 1) / len(path)`` where ``m`` is the position (in the
        sorted path) of the largest ``lam`` at which its group is non-zero,
        and 0 for a group that is zero all along. Raw group norms are not
        comparable between target networks; persistence is (Tank et al.
        trace their ROC curves along a penalty path for the same reason).
    context_columns : list of str, default=None
        DataFrame columns holding shop context (not graph nodes).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of a long DataFrame.
    random_state : int, RandomState or None, default=None
        Fixes the initialisation; CPU fits on one machine with the same number of torch
        threads are bit-identical.

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = score of ``i -> j`` in shop ``s`` (group norm of input
        ``i`` in target ``j``'s network, or its persistence along
        ``penalty_path``); zero diagonal (a node's own lags are inputs, not
        edges). Not probabilities: only the order within a shop is meaningful.
    group_norms_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        Group norms at the end of the fit (the last ``lam`` of the path),
        same orientation, diagonal included.
    penalty_path_ : ndarray or None
        The sorted path that was fitted.
    node_names_ : list of str
    shop_ids_ : list
    n_features_in_ : int

    See Also
    --------
    GVARDiscoverer : self-explaining neural Granger causality with signs.

    References
    ----------
    A. Tank, I. Covert, N. Foti, A. Shojaie and E. Fox, "Neural Granger
    causality", IEEE TPAMI 44(8), 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.neural_granger import NeuralGrangerDiscoverer
    >>> rng = np.random.default_rng(0)
    >>> a = 5 + rng.normal(size=(3, 120))
    >>> b = 5 + 0.8 * np.roll(a - 5, 1, axis=1) + 0.3 * rng.normal(size=(3, 120))
    >>> X = np.stack([a, b], axis=1)  # (n_shops, n_nodes, n_steps); a drives b
    >>> ngc = NeuralGrangerDiscoverer(max_iter=200, random_state=0).fit(X)
    >>> ngc.edge_probabilities_.shape
    (3, 2, 2)
    >>> scores = ngc.edge_probabilities_
    >>> bool((scores[:, 0, 1] > scores[:, 1, 0]).all())
    True
    """

    def __init__(
        self,
        *,
        model: str = "mlp",
        max_lag: int = 5,
        hidden: int = 16,
        penalty: str = "group",
        lam: float = 0.3,
        lam_ridge: float = 0.01,
        lr: float = 0.05,
        max_iter: int = 500,
        penalty_path: Sequence[float] | None = None,
        context_columns: list[str] | None = None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        random_state=None,
    ) -> None:
        self.model = model
        self.max_lag = max_lag
        self.hidden = hidden
        self.penalty = penalty
        self.lam = lam
        self.lam_ridge = lam_ridge
        self.lr = lr
        self.max_iter = max_iter
        self.penalty_path = penalty_path
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column
        self.random_state = random_state

    def _check_params(self) -> np.ndarray | None:
        _check_choice(self.model, "model", ("mlp", "lstm"))
        _check_choice(self.penalty, "penalty", ("group", "hierarchical"))
        if self.model == "lstm" and self.penalty == "hierarchical":
            raise ValueError(
                "penalty='hierarchical' needs lag-indexed weights; use it with "
                "model='mlp' (the cLSTM has only the group penalty)."
            )
        _check_int(self.max_lag, "max_lag", 1)
        _check_int(self.hidden, "hidden", 1)
        _check_int(self.max_iter, "max_iter", 1)
        _check_real(self.lam, "lam")
        _check_real(self.lam_ridge, "lam_ridge")
        _check_real(self.lr, "lr", strict=True)
        if self.penalty_path is None:
            return None
        try:
            path = np.array(self.penalty_path, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(
                "penalty_path must be a sequence of numbers, got "
                f"{self.penalty_path!r}."
            ) from None
        if path.size == 0 or not np.isfinite(path).all() or (path < 0).any():
            raise ValueError(
                "penalty_path must hold at least one finite number >= 0, got "
                f"{self.penalty_path!r}."
            )
        return np.unique(path)  # sorted, duplicates fitted once

    def _score_graphs(self, panel: Panel, rng) -> np.ndarray:
        path = self._check_params()
        z, _, _ = _standardize(panel)
        past, target, valid = _lagged_windows(z, panel.mask, self.max_lag)
        _check_windows(panel, valid, self.max_lag)
        lams = [float(self.lam)] if path is None else list(path)
        last_nonzero = np.full((panel.n_shops, panel.n_nodes, panel.n_nodes), -1)

        def fit() -> torch.Tensor:
            n_shops, n_nodes = panel.n_shops, panel.n_nodes
            if self.model == "mlp":
                net = _CMLP(n_shops, n_nodes, self.max_lag, self.hidden)
                inputs = (past,)
            else:
                net = _CLSTM(n_shops, n_nodes, self.hidden)
                inputs = (torch.as_tensor(z).permute(0, 2, 1), target.shape[1])
            step = torch.full((n_shops, n_nodes), float(self.lr))
            for position, lam in enumerate(lams):
                step = _train_ista(
                    net,
                    inputs,
                    target,
                    valid,
                    lam=lam,
                    lam_ridge=self.lam_ridge,
                    step=step,
                    n_iter=self.max_iter,
                    hierarchical=self.penalty == "hierarchical",
                )
                norms = _group_norms(net).detach()
                last_nonzero[(norms > 0).numpy()] = position
            return norms

        norms = seeded(_seed(rng), fit).numpy().astype(np.float64)
        # Networks are indexed [target, input]; edges are [cause, effect].
        self.group_norms_ = norms.transpose(0, 2, 1).copy()
        self.penalty_path_ = path
        if path is None:
            scores = self.group_norms_.copy()
        else:
            scores = (last_nonzero.transpose(0, 2, 1) + 1.0) / len(path)
        scores[:, np.arange(panel.n_nodes), np.arange(panel.n_nodes)] = 0.0
        return scores

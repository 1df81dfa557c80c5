"""GVAR: generalised vector autoregression with self-explaining networks.

Marcinkevičs & Vogt (ICLR 2021) model a multivariate series as

    x_t = sum_{k=1..K} Psi_k(x_{t-k}) x_{t-k} + eps_t,

where every ``Psi_k`` is a small MLP that outputs a full ``d x d`` coefficient
matrix for the input it reads, so the coefficients vary over time. Sparsity
(elastic-net over lags) and smoothness (change of the coefficients between
consecutive steps) penalties keep them interpretable; the strength of
``i -> j`` is ``max_k median_t |Psi_k(x_{t-k})[j, i]|`` (row = effect in the
paper; this module transposes to the package's row = cause).

:class:`GVARDiscoverer` scores graphs, optionally with the paper's
time-reversal stability check; :class:`GVARRegressor` forecasts GMV by rolling
the fitted model forward over a channel plan. All shops train together as a
batch of independent models.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, RegressorMixin
from torch import nn

from sklearn_causalmmm.base import BaseDiscoverer, PanelForecasterMixin
from sklearn_causalmmm.baselines.neural_granger import (
    _check_int,
    _check_real,
    _check_windows,
    _lagged_windows,
    _seed,
    _standardize,
    _uniform,
    _weighted_mse,
)
from sklearn_causalmmm.panel import Panel
from sklearn_causalmmm.utils.optim import minimise
from sklearn_causalmmm.utils.random import seeded

__all__ = ["GVARDiscoverer", "GVARRegressor"]

# Quantile levels tried by the time-reversal stability selection (the paper's Q).
_N_QUANTILES = 20
# Keeps the norms differentiable at 0 (a zero coefficient is the sparse optimum).
_NORM_EPS = 1e-12


# ---------------------------------------------------------------------------
# Model and training
# ---------------------------------------------------------------------------


class _GVARNet(nn.Module):
    """``max_lag`` coefficient MLPs per shop, evaluated for all shops at once.

    Layer ``l`` has weight ``(S, K, out, in)``: one independent network per
    shop and lag.
    """

    def __init__(
        self,
        n_shops: int,
        n_nodes: int,
        max_lag: int,
        hidden: int,
        n_hidden_layers: int,
    ):
        super().__init__()
        sizes = [n_nodes] + [hidden] * n_hidden_layers + [n_nodes * n_nodes]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            self.weights.append(_uniform((n_shops, max_lag, n_out, n_in), n_in))
            self.biases.append(_uniform((n_shops, max_lag, n_out), n_in))
        self.n_nodes = n_nodes

    def forward(
        self, past: torch.Tensor, rows: np.ndarray | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``past`` (S, N, K, d) -> prediction (S, N, d), coefficients (S, N, K, d, d).

        ``coefficients[s, n, k - 1, j, i]`` multiplies input ``i`` at lag ``k``
        in the equation of node ``j`` (row = effect). ``rows`` selects the
        shops' models when ``past`` holds only some of the fitted shops.
        """
        h = past
        last = len(self.weights) - 1
        layers = zip(self.weights, self.biases, strict=True)
        for layer, (weight, bias) in enumerate(layers):
            if rows is not None:
                weight, bias = weight[rows], bias[rows]
            h = torch.einsum("snki,skoi->snko", h, weight) + bias[:, None]
            if layer < last:
                h = torch.relu(h)
        coefficients = h.reshape(*h.shape[:3], self.n_nodes, self.n_nodes)
        prediction = torch.einsum("snkji,snki->snj", coefficients, past)
        return prediction, coefficients


def _penalties(
    coefficients: torch.Tensor, valid: torch.Tensor, l1_ratio: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sparsity and smoothness penalties, each a sum over shops of per-shop means.

    Sparsity: for every step and (effect, cause) pair, ``(1 - l1_ratio)`` times
    the Euclidean norm over lags plus ``l1_ratio`` times the L1 norm over lags,
    averaged over observed steps and pairs (the reference implementation's
    elastic net). Smoothness: the Frobenius norm of ``Psi_{t+1} - Psi_t``,
    averaged over pairs of consecutive observed steps.
    """
    squares = coefficients**2
    l2 = torch.sqrt(squares.sum(dim=2) + _NORM_EPS)  # (S, N, d, d)
    l1 = coefficients.abs().sum(dim=2)
    sparsity = ((1.0 - l1_ratio) * l2 + l1_ratio * l1).mean(dim=(2, 3))  # (S, N)
    weight = valid / valid.sum(dim=1, keepdim=True).clamp(min=1.0)
    sparsity = (sparsity * weight).sum()
    diff = coefficients[:, 1:] - coefficients[:, :-1]
    change = torch.sqrt((diff**2).sum(dim=(2, 3, 4)) + _NORM_EPS)  # (S, N - 1)
    pairs = valid[:, 1:] * valid[:, :-1]
    pair_weight = pairs / pairs.sum(dim=1, keepdim=True).clamp(min=1.0)
    return sparsity, (change * pair_weight).sum()


def _fit_gvar(
    est, past: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, seed: int
) -> _GVARNet:
    """Train one GVAR per shop on lag windows with ``est``'s parameters.

    Full-batch Adam over every shop's windows; the loss is a sum over shops of
    per-shop objectives and Adam is elementwise, so each shop's model trains
    exactly as if alone.
    """

    def train() -> _GVARNet:
        n_shops, _, _, n_nodes = past.shape
        net = _GVARNet(n_shops, n_nodes, est.max_lag, est.hidden, est.n_hidden_layers)
        target_t = target.permute(0, 2, 1)

        def loss() -> torch.Tensor:
            prediction, coefficients = net(past)
            mse = _weighted_mse(prediction.permute(0, 2, 1), target_t, valid)
            mse = mse.sum() / n_nodes
            sparsity, smoothness = _penalties(coefficients, valid, est.l1_ratio)
            return mse + est.lam * sparsity + est.gamma * smoothness

        optimizer = torch.optim.Adam(net.parameters(), lr=est.lr, foreach=True)
        minimise(loss, optimizer, est.max_epochs)
        return net.requires_grad_(False)

    return seeded(seed, train)


def _gvar_scores(net: _GVARNet, past: torch.Tensor, valid: torch.Tensor) -> np.ndarray:
    """``max_k median_t |Psi_k|`` per shop, transposed to ``[cause, effect]``."""
    with torch.no_grad():
        _, coefficients = net(past)
    observed = valid[..., None, None, None] > 0
    magnitude = coefficients.abs().masked_fill(~observed, np.nan)
    strength = magnitude.nanmedian(dim=1).values.amax(dim=1)  # (S, effect, cause)
    return strength.numpy().astype(np.float64).transpose(0, 2, 1).copy()


def _check_gvar_params(est) -> None:
    _check_int(est.max_lag, "max_lag", 1)
    _check_int(est.hidden, "hidden", 1)
    _check_int(est.n_hidden_layers, "n_hidden_layers", 1)
    _check_int(est.max_epochs, "max_epochs", 1)
    _check_real(est.lam, "lam")
    _check_real(est.gamma, "gamma")
    _check_real(est.lr, "lr", strict=True)
    l1_ratio = _check_real(est.l1_ratio, "l1_ratio")
    if l1_ratio > 1:
        raise ValueError(f"l1_ratio must be in [0, 1], got {est.l1_ratio!r}.")


# ---------------------------------------------------------------------------
# Time-reversal stability
# ---------------------------------------------------------------------------


def _stability(
    forward: np.ndarray, reversed_: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agreement of forward and time-reversed scores, per shop.

    Parameters
    ----------
    forward, reversed_ : ndarray of shape (n_shops, d, d)
        ``[cause, effect]`` scores fitted on the series and on the series read
        backwards, the latter already transposed (a true ``i -> j`` shows as
        ``j -> i`` in reversed time).

    Returns
    -------
    combined : ndarray (n_shops, d, d)
        ``min(F(forward), F(reversed_))`` where ``F`` is the empirical CDF of
        a shop's off-diagonal scores: the fraction of quantile thresholds at
        which the edge is in both binary graphs.
    adjacency : ndarray (n_shops, d, d) of {0, 1}
        ``forward >= its q*-quantile``, with ``q*`` the most stable level.
    levels : ndarray (n_shops,)
        ``q*`` per shop.
    """
    n_shops, d, _ = forward.shape
    off = ~np.eye(d, dtype=bool)
    f, r = forward[:, off], reversed_[:, off]  # (S, m)
    m = f.shape[1]
    combined = np.zeros_like(forward)
    combined[:, off] = np.minimum(rankdata(f, axis=1), rankdata(r, axis=1)) / m

    levels = np.linspace(0.0, 1.0, _N_QUANTILES)
    # Binary graphs at every level: (S, Q, m)
    a_f = f[:, None, :] >= np.quantile(f, levels, axis=1).T[..., None]
    a_r = r[:, None, :] >= np.quantile(r, levels, axis=1).T[..., None]
    agreement = (_balanced_accuracy(a_r, a_f) + _balanced_accuracy(a_f, a_r)) / 2
    # An empty or complete graph agrees trivially; the paper scores it 0.
    for a in (a_f, a_r):
        n_edges = a.sum(axis=-1)
        agreement[(n_edges == 0) | (n_edges == m)] = 0.0
    best = agreement.argmax(axis=1)
    adjacency = np.zeros_like(forward)
    adjacency[:, off] = a_f[np.arange(n_shops), best]
    return combined, adjacency, levels[best]


def _balanced_accuracy(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Mean of the true positive and true negative rates along the last axis."""
    pos = true.sum(axis=-1)
    neg = true.shape[-1] - pos
    tpr = (true & pred).sum(axis=-1) / np.maximum(pos, 1)
    tnr = (~true & ~pred).sum(axis=-1) / np.maximum(neg, 1)
    return (tpr + tnr) / 2


# ---------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------


class GVARDiscoverer(BaseDiscoverer):
    """Granger-causal graphs per shop from self-explaining networks (GVAR).

    Every shop gets its own GVAR of order ``max_lag`` (see the module
    docstring), fitted on its scaled series z-scored per node. The score of
    ``i -> j`` is ``max_k median_t |Psi_k(x_{t-k})[j, i]|`` over the shop's
    observed steps, transposed from the coefficients' ``[effect, cause]``
    orientation to ``[cause, effect]``.

    Parameters
    ----------
    max_lag : int, default=5
        Order ``K``: lags each prediction reads (the project-wide lag budget).
    hidden : int, default=16
        Units of each hidden layer of the coefficient networks.
    n_hidden_layers : int, default=1
    lam : float, default=0.5
        Weight of the sparsity penalty: for every step and (effect, cause)
        pair, ``(1 - l1_ratio)`` times the Euclidean norm of its coefficients
        over lags plus ``l1_ratio`` times their L1 norm, averaged over steps
        and pairs.
    gamma : float, default=0.3
        Weight of the smoothness penalty: the Frobenius norm of the change of
        all coefficients between consecutive steps, averaged over steps.
    l1_ratio : float, default=0.5
        Elastic-net mixing of the sparsity penalty (the paper's alpha).
    lr : float, default=0.005
        Adam learning rate.
    max_epochs : int, default=300
        Full-batch Adam steps.
    stability : bool, default=False
        The paper's time-reversal stability selection. Also fit every shop's
        series read backwards in time, where a true ``i -> j`` reads ``j -> i``
        (time-reversed Granger causality), and keep the edges whose scores
        agree. With ``F`` the empirical CDF of a shop's off-diagonal forward
        scores ``S`` and ``F_r`` that of the (transposed) reversed scores ``R``,
        the score becomes ``min(F(S[i, j]), F_r(R[i, j]))``: the share of the
        paper's quantile thresholds at which the edge is in both thresholded
        graphs. The paper's binary graph is stored in ``adjacency_``: ``S``
        thresholded at the quantile level, among ``linspace(0, 1, 20)``, that
        maximises the symmetric balanced accuracy between the two thresholded
        graphs (levels giving an empty or complete graph excluded). Doubles the
        cost. Off by default: on marketing panels the reversed fit is the weaker
        one, so the combined score ranks edges worse than ``forward_scores_``
        (AUROC 0.91 against 0.95 on the 300-shop ``"sim1"`` panel); turn it on
        for the binary ``adjacency_``.
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
        ``[s, i, j]`` = score of ``i -> j`` in shop ``s`` (see ``stability``);
        zero diagonal. Scores, not probabilities.
    forward_scores_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``max_k median_t |Psi|`` on the series as given, ``[cause, effect]``,
        diagonal (self-dependence) included.
    reversed_scores_ : ndarray or None
        The same on the time-reversed series, transposed back so that it is
        comparable with ``forward_scores_`` (``stability=True`` only).
    adjacency_ : ndarray or None
        Binary graph from the stability selection (``stability=True`` only).
    stability_level_ : ndarray of shape (n_shops,) or None
        Selected quantile level per shop (``stability=True`` only).
    node_names_ : list of str
    shop_ids_ : list
    n_features_in_ : int

    See Also
    --------
    GVARRegressor : the same model as a GMV forecaster.
    NeuralGrangerDiscoverer : cMLP / cLSTM neural Granger causality.

    References
    ----------
    R. Marcinkevičs and J. E. Vogt, "Interpretable models for Granger
    causality using self-explaining neural networks", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.gvar import GVARDiscoverer
    >>> rng = np.random.default_rng(0)
    >>> a = 5 + rng.normal(size=(3, 120))
    >>> b = 5 + 0.8 * np.roll(a - 5, 1, axis=1) + 0.3 * rng.normal(size=(3, 120))
    >>> X = np.stack([a, b], axis=1)  # (n_shops, n_nodes, n_steps); a drives b
    >>> gvar = GVARDiscoverer(max_epochs=100, random_state=0).fit(X)
    >>> gvar.edge_probabilities_.shape
    (3, 2, 2)
    >>> bool((gvar.forward_scores_[:, 0, 1] > gvar.forward_scores_[:, 1, 0]).all())
    True
    """

    def __init__(
        self,
        *,
        max_lag: int = 5,
        hidden: int = 16,
        n_hidden_layers: int = 1,
        lam: float = 0.5,
        gamma: float = 0.3,
        l1_ratio: float = 0.5,
        lr: float = 0.005,
        max_epochs: int = 300,
        stability: bool = False,
        context_columns: list[str] | None = None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        random_state=None,
    ) -> None:
        self.max_lag = max_lag
        self.hidden = hidden
        self.n_hidden_layers = n_hidden_layers
        self.lam = lam
        self.gamma = gamma
        self.l1_ratio = l1_ratio
        self.lr = lr
        self.max_epochs = max_epochs
        self.stability = stability
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column
        self.random_state = random_state

    def _score_graphs(self, panel: Panel, rng) -> np.ndarray:
        _check_gvar_params(self)
        if not isinstance(self.stability, bool | np.bool_):
            raise ValueError(
                f"stability must be True or False, got {self.stability!r}."
            )
        z, _, _ = _standardize(panel)
        mask = panel.mask
        if self.stability:
            # Reversed copies train as extra shops of the same batch.
            z = np.concatenate([z, z[..., ::-1]])
            mask = np.concatenate([mask, mask[:, ::-1]])
        past, target, valid = _lagged_windows(z, mask, self.max_lag)
        _check_windows(panel, valid[: panel.n_shops], self.max_lag)
        net = _fit_gvar(self, past, target, valid, _seed(rng))
        scores = _gvar_scores(net, past, valid)
        n = panel.n_shops
        self.forward_scores_ = scores[:n]
        self.reversed_scores_ = self.adjacency_ = self.stability_level_ = None
        diagonal = np.arange(panel.n_nodes)
        if not self.stability:
            result = scores[:n].copy()
        else:
            self.reversed_scores_ = scores[n:].transpose(0, 2, 1).copy()
            result, self.adjacency_, self.stability_level_ = _stability(
                self.forward_scores_, self.reversed_scores_
            )
        result[:, diagonal, diagonal] = 0.0
        return result


class GVARRegressor(PanelForecasterMixin, RegressorMixin, BaseEstimator):
    """GVAR as a GMV forecaster: roll each shop's fitted model over a channel plan.

    ``fit(X, y)`` trains one GVAR per shop on its channels (and funnel nodes)
    followed by GMV, scaled by the panel and z-scored per node, exactly as
    :class:`GVARDiscoverer` does without the stability check. ``predict(X)``
    starts from the ``max_lag`` steps of each shop's history before the
    plan's first step and predicts one step at a time: the planned values of
    every X node are fed in as known, the predicted GMV is fed back. Planned
    values are scaled with the fitted panel's per-shop scale and the fitted
    per-shop mean and standard deviation. Each predicted step is clipped to
    the range of the shop's past GMV (see ``clip``) before it is fed back.
    See :mod:`sklearn_causalmmm.base` for where a plan starts.

    Parameters
    ----------
    max_lag : int, default=5
        Order ``K``: lags each prediction reads (the project-wide lag budget).
    hidden : int, default=16
        Units of each hidden layer of the coefficient networks.
    n_hidden_layers : int, default=1
    lam : float, default=0.5
        Weight of the sparsity penalty on the coefficients.
    gamma : float, default=0.3
        Weight of the smoothness penalty.
    l1_ratio : float, default=0.5
        Elastic-net mixing of the sparsity penalty (the paper's alpha).
    lr : float, default=0.005
        Adam learning rate.
    max_epochs : int, default=300
        Full-batch Adam steps.
    clip : bool, default=True
        Keep every predicted GMV step within the range the shop's GMV took
        in its history before the plan. The coefficients are functions of the
        fed-back predictions, so a fitted model can be unstable when rolled
        out: on the 300-shop ``"sim1"`` panel a handful of shops explode
        within 7 steps without it (relative MSE 6e7), while clipped forecasts
        beat the last value by a factor of 2.8. Otherwise GMV is only kept
        non-negative.
    context_columns : list of str, default=None
        DataFrame columns holding shop context (unused by the model).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of a long DataFrame.
    target_name : str, default="gmv"
    random_state : int, RandomState or None, default=None
        Fixes the initialisation; CPU fits on one machine with the same number of torch
        threads are bit-identical.

    Attributes
    ----------
    model_ : torch.nn.Module
        The coefficient networks of every fitted shop.
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        GVAR edge scores ``[s, i, j]`` of ``i -> j`` over X's nodes followed
        by GMV, as :class:`GVARDiscoverer` with ``stability=False`` computes
        them; zero diagonal.
    mean_, std_ : ndarray of shape (n_shops, n_nodes)
        Per-shop, per-node mean and standard deviation of the scaled series.
    panel_ : Panel
        The fitted history (needed to continue each shop's series).
    n_features_in_ : int
        Number of X nodes (GMV excluded).
    node_names_ : list of str

    See Also
    --------
    GVARDiscoverer : the same model scoring causal graphs.

    Examples
    --------
    >>> from sklearn_causalmmm.baselines.gvar import GVARRegressor
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=4, n_steps=67, random_state=0)
    >>> past, plan = data.X[..., :60], data.X[..., 60:]
    >>> model = GVARRegressor(max_epochs=20, random_state=0)
    >>> model.fit(past, data.y[:, :60]).predict(plan).shape
    (4, 7)
    """

    def __init__(
        self,
        *,
        max_lag: int = 5,
        hidden: int = 16,
        n_hidden_layers: int = 1,
        lam: float = 0.5,
        gamma: float = 0.3,
        l1_ratio: float = 0.5,
        lr: float = 0.005,
        max_epochs: int = 300,
        clip: bool = True,
        context_columns: list[str] | None = None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        target_name: str = "gmv",
        random_state=None,
    ) -> None:
        self.max_lag = max_lag
        self.hidden = hidden
        self.n_hidden_layers = n_hidden_layers
        self.lam = lam
        self.gamma = gamma
        self.l1_ratio = l1_ratio
        self.lr = lr
        self.max_epochs = max_epochs
        self.clip = clip
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column
        self.target_name = target_name
        self.random_state = random_state

    def _fit_panel(self, panel: Panel, rng) -> None:
        _check_gvar_params(self)
        if not isinstance(self.clip, bool | np.bool_):
            raise ValueError(f"clip must be True or False, got {self.clip!r}.")
        z, self.mean_, self.std_ = _standardize(panel)
        past, target, valid = _lagged_windows(z, panel.mask, self.max_lag)
        _check_windows(panel, valid, self.max_lag)
        self.model_ = _fit_gvar(self, past, target, valid, _seed(rng))
        scores = _gvar_scores(self.model_, past, valid)
        diagonal = np.arange(panel.n_nodes)
        scores[:, diagonal, diagonal] = 0.0
        self.edge_probabilities_ = scores

    def _forecast(self, history: Panel, plan: Panel, start: int) -> np.ndarray:
        n_lags = self.max_lag
        if start < n_lags:
            raise ValueError(
                f"X starts at step {start} of the fitted period, but the forecast "
                f"needs the max_lag={n_lags} steps before its first step."
            )
        position = {shop: row for row, shop in enumerate(self.panel_.shop_ids)}
        rows = np.array([position[shop] for shop in history.shop_ids])
        scale = history.scale.astype(np.float64)[..., None]
        mean, std = self.mean_[rows][..., None], self.std_[rows][..., None]
        n_x = plan.n_nodes  # every X node is planned; only GMV is predicted

        def standardize(raw: np.ndarray, nodes: slice) -> torch.Tensor:
            z = (raw / scale[:, nodes] - mean[:, nodes]) / std[:, nodes]
            return torch.as_tensor(z.astype(np.float32))

        recent = standardize(history.values[..., start - n_lags : start], slice(None))
        planned = standardize(plan.values, slice(0, n_x))
        low, high = -np.inf, np.inf
        if self.clip:
            observed = history.mask[:, :start]
            past_gmv = history.values[:, -1, :start]
            low = np.where(observed, past_gmv, np.inf).min(axis=1)
            high = np.where(observed, past_gmv, -np.inf).max(axis=1)
            unknown = low > high  # no observed step before the plan: no bounds
            bounds = np.where(unknown[:, None], [-np.inf, np.inf], np.c_[low, high])
            bounds = standardize(bounds[:, None], slice(n_x, None))  # (S, 1, 2)
            low, high = bounds[:, 0, 0], bounds[:, 0, 1]
        window = list(recent.unbind(-1))  # oldest first, (S, d) each
        gmv = []
        with torch.no_grad():
            for step in range(plan.n_steps):
                # (S, 1, K, d), lag 1 first
                past = torch.stack(window[::-1], dim=1)[:, None]
                prediction, _ = self.model_(past, rows)
                gmv.append(prediction[:, 0, -1].clamp(low, high))
                known = torch.cat([planned[..., step], gmv[-1][:, None]], dim=1)
                window = window[1:] + [known]
        gmv_z = torch.stack(gmv, dim=1).numpy().astype(np.float64)
        raw = (gmv_z * std[:, -1] + mean[:, -1]) * scale[:, -1]
        return np.clip(raw, 0.0, None)

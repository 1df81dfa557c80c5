"""Granger evidence beside the encoder, and the choice of the reported graph.

The encoder and its graph-type pooling encode assumptions of the project's
simulator (a few sparse graph types, effects one step later). On panels that
break them, plain Granger statistics of the shops' series can rank edges
better: per shop when every shop has its own graph, averaged over the shops
when they share one. :class:`GrangerEvidence` computes, in every fit, three
Granger estimates from one lag design (:mod:`sklearn_causalmmm.utils.lags`):

``"shop_granger"``
    Each shop's Wald statistic ``W[s, i, j]`` of sender ``i``'s lags in the
    regression of receiver ``j`` on the lags of every node (one VAR per shop,
    on the shop's z-scored series).
``"pooled_granger"``
    The statistic averaged over the shops, ``mean_s W[s, i, j]``: the same
    graph for every shop.
``"partial_granger"``
    Each shop's statistic shrunk toward that mean by how much the shops
    disagree on the edge, measured on the square-root scale, where a
    statistic's sampling variance hardly depends on its size: if every shop
    had the same non-centrality ``lambda`` for the edge, ``W[s]`` would be
    non-central chi-square with ``L`` degrees of freedom, and ``sqrt(W[s])``
    would have the variance ``s2`` of :func:`sqrt_statistic_variance`. The
    between-shop variance beyond it, ``tau2 = max(0, var_s sqrt(W[s]) -
    s2)`` (DerSimonian and Laird's estimate with one sampling variance for
    all shops), gives the weight of the shop's own statistic,
    ``I2 = tau2 / (tau2 + s2)`` (the share of the spread that is
    heterogeneity, as in meta-analysis): ``I2 W[s] + (1 - I2) mean W``.
    Shops consistent with one graph are pooled, shops with graphs of their
    own are not, and edges in between are partly pooled. On the raw scale
    the variance of ``W`` grows with its size, and a few shops with very
    large statistics (a misspecified VAR) would read as heterogeneity.

Every statistic becomes an edge probability through Schwarz's approximation of
the log Bayes factor, ``W / 2 - (L / 2) log n`` (``n`` the shop's regression
rows), under the discoverer's prior edge probability.

:func:`choose_graph_source` picks, among these and the encoder's graph, the
one whose ranking of each shop's edges best predicts held-out blocks of the
shop's steps: the truth is not needed (see its docstring).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import logging

import numpy as np
from scipy.special import expit, gammaln, logit

from sklearn_causalmmm.utils.lags import (
    lag_design,
    normal_equations,
    valid_windows,
)
from sklearn_causalmmm.utils.series import standardise_observed

logger = logging.getLogger(__name__)

__all__ = [
    "GRANGER_SOURCES",
    "GrangerEvidence",
    "choose_graph_source",
    "time_blocks",
    "shop_wald_statistics",
    "sqrt_statistic_variance",
]

#: The Granger estimates :class:`GrangerEvidence` computes.
GRANGER_SOURCES = ("shop_granger", "pooled_granger", "partial_granger")
# Ridge on the per-shop normal equations relative to the rows, only to keep
# collinear lags (a node constant in a shop) solvable.
_RELATIVE_RIDGE = 1e-6
# Per-shop VARs need more rows than unknowns: at least this many rows per
# coefficient of a receiver's equation, else the shop's lag order is lowered.
_ROWS_PER_COEFFICIENT = 2
_RSS_FLOOR = 1e-12


def _normal_equations_per_shop(z, rows, n_lags):
    """Per-shop ``gram (S, p, p)``, ``cross (S, p, d)``, ``squares (S, d)``."""
    target, design, senders = lag_design(z, n_lags)
    gram, cross, squares = normal_equations(design, target, rows)
    return gram, cross, squares, senders


def shop_wald_statistics(
    values: np.ndarray, mask: np.ndarray, n_lags: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each shop's Granger Wald statistics, one VAR(``n_lags``) per shop.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
        Observed steps; a lag window counts only if all its steps are.
    n_lags : int

    Returns
    -------
    statistics : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]``: the Wald statistic of sender ``i``'s lags in receiver
        ``j``'s regression of shop ``s`` (chi-square with ``n_lags`` degrees
        of freedom without the edge); 0 on the diagonal, NaN for a shop whose
        rows do not exceed the unknowns.
    n_rows : ndarray of shape (n_shops,)
        Regression rows of each shop.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.selection import shop_wald_statistics
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(3, 2, 200)
    >>> x[:, 1, 1:] += 0.5 * x[:, 0, :-1]  # node 0 drives node 1 in every shop
    >>> statistics, n_rows = shop_wald_statistics(x, np.ones((3, 200), bool), 2)
    >>> bool((statistics[:, 0, 1] > 30).all()), bool((statistics[:, 1, 0] < 15).all())
    (True, True)
    """
    n_shops, n_nodes, _ = values.shape
    z = standardise_observed(np.asarray(values, dtype=np.float64), mask, np.float64)
    rows = valid_windows(mask, n_lags).astype(np.float64)
    gram, cross, squares, senders = _normal_equations_per_shop(z, rows, n_lags)
    n_rows = rows.sum(axis=1)
    n_columns = gram.shape[-1]
    eye = np.eye(n_columns)
    inverse = np.linalg.inv(
        gram + _RELATIVE_RIDGE * np.maximum(n_rows, 1.0)[:, None, None] * eye
    )
    coefficients = inverse @ cross  # (S, p, d)
    residual = squares - np.einsum("spj,spj->sj", coefficients, cross)
    dof = np.maximum(n_rows - n_columns, 1.0)
    variance = np.maximum(residual, _RSS_FLOOR) / dof[:, None]
    statistics = np.zeros((n_shops, n_nodes, n_nodes))
    for sender in range(n_nodes):
        block = np.flatnonzero(senders == sender)
        precision = np.linalg.inv(inverse[:, block][:, :, block])  # (S, L, L)
        own = coefficients[:, block]  # (S, L, d)
        statistics[:, sender] = np.einsum("slj,slm,smj->sj", own, precision, own)
    statistics /= variance[:, None, :]
    statistics[:, np.arange(n_nodes), np.arange(n_nodes)] = 0.0
    statistics[n_rows <= n_columns + 1] = np.nan
    return statistics, n_rows


def shop_lag_order(mask: np.ndarray, n_nodes: int, n_lags: int) -> int:
    """The per-shop VAR order: ``n_lags``, lowered until a typical shop pays for it.

    A receiver's equation has ``n_nodes * L`` unknowns; the median shop must
    have :data:`_ROWS_PER_COEFFICIENT` rows per unknown (at least 1 lag).
    """
    observed = np.median(np.asarray(mask).sum(axis=1))
    for order in range(int(n_lags), 1, -1):
        if observed - order >= _ROWS_PER_COEFFICIENT * n_nodes * order:
            return order
    return 1


def sqrt_statistic_variance(
    mean: np.ndarray | float, n_lags: int, dof: float = np.inf
) -> np.ndarray:
    """Variance of ``sqrt(W)`` for a Wald statistic ``W`` of mean ``mean``.

    ``W`` is taken as non-central chi-square with ``n_lags`` degrees of
    freedom and non-centrality ``lambda = max(mean - n_lags, 0)``, which
    Patnaik's approximation replaces by ``g`` times a central chi-square with
    ``h`` degrees of freedom (``g = (L + 2 lambda) / (L + lambda)``,
    ``h = (L + lambda)**2 / (L + 2 lambda)``: the same mean and variance);
    the square root of a chi-square with ``h`` degrees of freedom has the
    variance ``h - 2 (Gamma((h + 1) / 2) / Gamma(h / 2))**2``. The residual
    variance in ``W``'s denominator, estimated on ``dof`` degrees of freedom,
    adds ``mean / (2 dof)``. The variance stays between 0.36 (no edge, one
    lag) and about 1 however strong the edge: on this scale the shops'
    spread is compared with one sampling variance.

    Parameters
    ----------
    mean : float or ndarray
        Mean statistic of the edge (for example over the shops).
    n_lags : int
        Degrees of freedom of the statistic.
    dof : float, default=inf
        Residual degrees of freedom of the regression.

    Returns
    -------
    variance : ndarray of the shape of ``mean``

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.selection import sqrt_statistic_variance
    >>> # no edge, one lag: sqrt(W) = |z|, of variance 1 - 2 / pi
    >>> bool(np.isclose(sqrt_statistic_variance(1.0, 1), 1 - 2 / np.pi))
    True
    >>> # a strong edge: sqrt(W) is close to sqrt(lambda) + z, of variance 1
    >>> round(float(sqrt_statistic_variance(1e4, 1)), 3)
    1.0
    """
    mean = np.asarray(mean, dtype=np.float64)
    lam = np.maximum(mean - n_lags, 0.0)
    scale = (n_lags + 2.0 * lam) / (n_lags + lam)
    shape = (n_lags + lam) ** 2 / (n_lags + 2.0 * lam)
    ratio = np.exp(2.0 * (gammaln((shape + 1.0) / 2.0) - gammaln(shape / 2.0)))
    return scale * (shape - 2.0 * ratio) + np.maximum(mean, 0.0) / (2.0 * dof)


class GrangerEvidence:
    """Per-shop, pooled and partially pooled Granger graphs of a panel.

    Parameters
    ----------
    n_lags : int
        Lags of every node in the per-shop VARs (lowered by
        :func:`shop_lag_order` when the shops are too short for it).
    prior_edge_probability : float, default=0.2
        Prior of an edge, turning Bayes factors into probabilities.

    Attributes
    ----------
    n_lags_ : int
        The VAR order used.
    mean_statistics_ : ndarray of shape (n_nodes, n_nodes)
        Wald statistic of every edge averaged over the fitted shops.
    heterogeneity_ : ndarray of shape (n_nodes, n_nodes)
        ``I2`` of every edge: the share of the spread of the square roots of
        the shops' statistics beyond what one common edge strength explains
        (0: the shops agree).
    n_rows_ : float
        Median regression rows of a fitted shop.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.selection import GrangerEvidence
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(30, 3, 80)
    >>> x[:15, 1, 1:] += 0.6 * x[:15, 0, :-1]  # 0 -> 1 in half of the shops
    >>> x[:, 2, 1:] += 0.6 * x[:, 1, :-1]      # 1 -> 2 in every shop
    >>> evidence = GrangerEvidence(n_lags=1).fit(x, np.ones((30, 80), bool))
    >>> share = evidence.heterogeneity_
    >>> bool(share[0, 1] > 0.5), bool(share[1, 2] < 0.5)
    (True, True)
    >>> graphs = evidence.graphs(x, np.ones((30, 80), bool), "partial_granger")
    >>> bool((graphs[:15, 0, 1] > graphs[15:, 0, 1].max()).all())
    True
    """

    def __init__(self, n_lags: int, prior_edge_probability: float = 0.2) -> None:
        self.n_lags = n_lags
        self.prior_edge_probability = prior_edge_probability

    def fit(self, values: np.ndarray, mask: np.ndarray) -> GrangerEvidence:
        """Fit the pooled statistics and their heterogeneity to the shops."""
        self.n_lags_ = shop_lag_order(mask, values.shape[1], self.n_lags)
        statistics, n_rows = shop_wald_statistics(values, mask, self.n_lags_)
        usable = ~np.isnan(statistics[:, 0, 0])
        if not usable.any():
            raise ValueError(
                f"no shop has enough observed steps for a VAR({self.n_lags_}) "
                f"of {values.shape[1]} nodes."
            )
        statistics = statistics[usable]
        self.n_rows_ = float(np.median(n_rows[usable]))
        mean = statistics.mean(axis=0)
        self.mean_statistics_ = mean
        # on the square-root scale one sampling variance serves every shop,
        # so I2 = 1 - s2 / var = tau2 / (tau2 + s2) with DerSimonian and
        # Laird's tau2 = var - s2
        dof = max(self.n_rows_ - values.shape[1] * self.n_lags_, 1.0)
        expected = sqrt_statistic_variance(mean, self.n_lags_, dof)
        if len(statistics) > 1:
            observed = np.sqrt(np.maximum(statistics, 0.0)).var(axis=0, ddof=1)
        else:
            observed = expected
        with np.errstate(divide="ignore", invalid="ignore"):
            share = 1.0 - expected / observed
        self.heterogeneity_ = np.clip(np.nan_to_num(share, nan=0.0), 0.0, 1.0)
        np.fill_diagonal(self.heterogeneity_, 0.0)
        return self

    def statistics(self, values: np.ndarray, mask: np.ndarray, source: str):
        """Wald statistics ``(n_shops, d, d)`` of ``source`` and each shop's rows."""
        n_shops = len(values)
        if source == "pooled_granger":
            shape = (n_shops, *self.mean_statistics_.shape)
            return np.broadcast_to(self.mean_statistics_, shape), np.full(
                n_shops, self.n_rows_
            )
        own, n_rows = shop_wald_statistics(values, mask, self.n_lags_)
        short = np.isnan(own[:, 0, 0])
        # a shop too short for its own VAR gets the panel's statistics
        own[short] = self.mean_statistics_
        n_rows = np.where(short, self.n_rows_, n_rows)
        if source == "shop_granger":
            return own, n_rows
        if source == "partial_granger":
            weight = self.heterogeneity_
            return weight * own + (1.0 - weight) * self.mean_statistics_, n_rows
        raise ValueError(f"source must be one of {GRANGER_SOURCES}, got {source!r}.")

    def graphs(self, values: np.ndarray, mask: np.ndarray, source: str) -> np.ndarray:
        """Edge probabilities ``(n_shops, d, d)`` of ``source`` for these shops."""
        statistics, n_rows = self.statistics(values, mask, source)
        log_bayes_factor = (
            0.5 * statistics
            - 0.5 * self.n_lags_ * np.log(np.maximum(n_rows, 2.0))[:, None, None]
        )
        graphs = expit(logit(self.prior_edge_probability) + log_bayes_factor)
        n_nodes = graphs.shape[-1]
        graphs[:, np.arange(n_nodes), np.arange(n_nodes)] = 0.0
        return graphs


def time_blocks(mask: np.ndarray, n_blocks: int) -> list:
    """Every shop's observed steps cut into ``n_blocks`` contiguous blocks.

    Returns a list of ``n_blocks`` boolean masks of the shape of ``mask``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.selection import time_blocks
    >>> mask = np.array([[False, True, True, True, True]])
    >>> [block.astype(int).tolist() for block in time_blocks(mask, 2)]
    [[[0, 1, 1, 0, 0]], [[0, 0, 0, 1, 1]]]
    """
    mask = np.asarray(mask, dtype=bool)
    position = np.cumsum(mask, axis=1) - 1
    block = position * n_blocks // np.maximum(mask.sum(axis=1, keepdims=True), 1)
    return [mask & (block == b) for b in range(n_blocks)]


def choose_graph_source(
    values: np.ndarray,
    mask: np.ndarray,
    candidates: dict,
    n_lags: int,
    n_blocks: int = 5,
    max_senders: int | None = None,
    default: str | None = None,
    n_standard_errors: float = 2.0,
) -> tuple[str, dict, dict]:
    """The candidate graph whose edge ranking best predicts held-out steps of the shops.

    Every shop's observed steps are cut into ``n_blocks`` contiguous blocks.
    For each block, a candidate's edges of each shop are added one at a time,
    strongest first over the whole shop (not receiver by receiver); after each
    addition every receiver ``j`` is predicted one step ahead by a ridge
    regression on its own lags and the lags of its senders so far, fitted to
    the shop's windows outside the block and scored by its squared error on
    the block. A candidate's error is the sum over blocks, shops, receivers and
    additions: the area under the curve of held-out error against the number
    of edges. It judges the candidate's ranking of every edge of a shop against
    every other, as the per-shop edge AUROC does, and not a threshold, so a
    candidate's calibration does not matter; a graph that orders each
    receiver's senders well but ranks weak edges into one receiver above
    strong edges into another pays for it. The truth is not needed. A
    candidate given as a function is re-estimated without each block; one
    given as an array (a graph that was fitted to every step) is not.

    With a ``default``, another candidate replaces it only if its error is
    lower by more than ``n_standard_errors`` standard errors of the paired
    per-shop difference: a candidate that saw the held-out blocks when it was
    fitted (an encoder trained on every step) has an optimistic error, and
    differences within the noise should not switch the graph.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
    candidates : dict of str to ndarray or callable
        Edge scores ``(n_shops, n_nodes, n_nodes)`` of every candidate (only
        their order within a shop and receiver matters), or a function of a
        training mask returning them.
    n_lags : int
        Lags of each regressor.
    n_blocks : int, default=5
    max_senders : int, default=None
        The most senders a receiver's regression takes (None: ``n_nodes - 1``);
        further edges into it leave its error unchanged.
    default : str, default=None
        The candidate kept unless another is clearly better (None: the
        smallest error wins).
    n_standard_errors : float, default=2.0

    Returns
    -------
    source : str
        The key of the candidate with the smallest error.
    errors : dict of str to float
        Each candidate's mean squared held-out error (z-scored units) over
        held-out rows, receivers and edge additions.
    shop_errors : dict of str to ndarray of shape (n_shops,)
        Each shop's share of it (they sum to ``errors``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.selection import choose_graph_source
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(10, 3, 100)
    >>> x[:, 2, 1:] += 0.8 * x[:, 0, :-1]  # 0 -> 2
    >>> right = np.zeros((10, 3, 3)); right[:, 0, 2] = 1
    >>> wrong = np.zeros((10, 3, 3)); wrong[:, 1, 2] = 1
    >>> mask = np.ones((10, 100), bool)
    >>> choose_graph_source(x, mask, {"right": right, "wrong": wrong}, 1)[0]
    'right'
    """
    n_shops, n_nodes, _ = values.shape
    z = standardise_observed(np.asarray(values, dtype=np.float64), mask, np.float64)
    target, design, _ = lag_design(z, n_lags)
    rows = valid_windows(mask, n_lags).astype(np.float64)
    columns = np.arange(n_nodes * n_lags).reshape(n_nodes, n_lags)
    shops = np.arange(n_shops)[:, None]
    largest = min(n_nodes - 1, max_senders or n_nodes)
    totals = {name: np.zeros(n_shops) for name in candidates}
    n_test = 0.0
    for block in time_blocks(mask, n_blocks):
        train_mask = mask & ~block
        train = valid_windows(train_mask, n_lags).astype(np.float64)
        test = rows * block[:, n_lags:]
        n_test += test.sum()
        gram, cross, _ = normal_equations(design, target, train)
        gram_test, cross_test, squares_test = normal_equations(design, target, test)
        n_train = np.maximum(train.sum(axis=1), 1.0)
        for name, candidate in candidates.items():
            scores = candidate(train_mask) if callable(candidate) else candidate
            scores = np.asarray(scores, dtype=np.float64)
            # sse[s, j, k]: receiver j's held-out error with its k strongest senders
            sse = np.zeros((n_shops, n_nodes, largest + 1))
            for receiver in range(n_nodes):
                others = np.delete(np.arange(n_nodes), receiver)
                # each shop's senders of this receiver, strongest first
                order = others[
                    np.argsort(-scores[:, others, receiver], axis=1, kind="stable")
                ]
                for k in range(largest + 1):
                    chosen = np.concatenate(
                        [np.full((n_shops, 1), receiver), order[:, :k]], axis=1
                    )
                    index = columns[chosen].reshape(n_shops, -1)  # (S, m)
                    pairs = (shops[:, :, None], index[:, :, None], index[:, None, :])
                    # a light ridge, relative to each shop's rows, for collinear lags
                    penalty = 1e-3 * n_train[:, None, None] * np.eye(index.shape[1])
                    b = np.linalg.solve(
                        gram[pairs] + penalty, cross[shops, index, receiver][..., None]
                    )[..., 0]
                    sse[:, receiver, k] = (
                        squares_test[:, receiver]
                        - 2.0
                        * np.einsum("sm,sm->s", b, cross_test[shops, index, receiver])
                        + np.einsum("sm,smn,sn->s", b, gram_test[pairs], b)
                    )
            # how many of the shop's edge additions leave receiver j at k senders
            weights = _senders_after_each_edge(scores, largest)
            totals[name] += np.einsum("sjk,sjk->s", weights, sse)
    # the mean over held-out rows, receivers and edge additions
    scale = max(n_test, 1.0) * n_nodes * n_nodes * (n_nodes - 1)
    errors = {name: float(total.sum() / scale) for name, total in totals.items()}
    shop_errors = {name: total / scale for name, total in totals.items()}
    source = min(errors, key=errors.get)
    if default is not None:
        better = [
            name
            for name in candidates
            if name != default
            and _paired_z(shop_errors[name], shop_errors[default]) < -n_standard_errors
        ]
        source = min(better, key=errors.get) if better else default
    return source, errors, shop_errors


def _senders_after_each_edge(scores: np.ndarray, largest: int) -> np.ndarray:
    """``weights[s, j, k]``: of the additions of shop ``s``'s edges, strongest
    first, after how many receiver ``j`` has ``k`` senders (capped at
    ``largest``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.selection import _senders_after_each_edge
    >>> scores = np.array([[[0, 3, 2], [1, 0, 0], [0, 0, 0]]], float)
    >>> # edges by strength: 0->1, 0->2, 1->0, then the ties in index order
    >>> # (1->2, 2->0, 2->1); receiver 0 has 0 senders after the first two
    >>> _senders_after_each_edge(scores, 2)[0].astype(int).tolist()
    [[2, 2, 2], [0, 5, 1], [1, 2, 3]]
    """
    n_shops, n_nodes, _ = scores.shape
    off = ~np.eye(n_nodes, dtype=bool)
    receiver = np.broadcast_to(np.arange(n_nodes), (n_nodes, n_nodes))[off]
    order = np.argsort(-scores[:, off], axis=1, kind="stable")  # (S, E)
    added = receiver[order][..., None] == np.arange(n_nodes)  # (S, E, d)
    counts = np.minimum(np.cumsum(added, axis=1), largest)  # (S, E, d)
    return (counts[..., None] == np.arange(largest + 1)).sum(axis=1).astype(float)


def _paired_z(errors: np.ndarray, reference: np.ndarray) -> float:
    """Summed per-shop difference over its standard error (negative: lower)."""
    difference = errors - reference
    if len(difference) < 2:
        return 0.0
    spread = difference.std(ddof=1) * np.sqrt(len(difference))
    return float(difference.sum() / spread) if spread > 0 else 0.0

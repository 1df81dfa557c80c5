"""Metrics for per-shop causal graphs and multi-horizon forecasts.

Graph metrics follow scikit-learn's argument order ``(true_adjacency, scores)``.
Both arguments are arrays of shape ``(n_shops, d, d)`` (a single ``(d, d)``
graph is read as one shop) where entry ``[s, i, j]`` describes the directed edge
``i -> j`` of shop ``s``: ``1``/``0`` for the truth, a real score (higher means
"more likely an edge") for the prediction. This is the layout of
``CausalGraphDiscoverer.edge_probabilities_``.

Self loops are never scored: the diagonal entries ``[s, i, i]`` are ignored
whatever they hold (they may be NaN), so every shop has ``d * (d - 1)``
candidate edges.

Functions named ``*_auroc``, ``*_auprc`` and ``f1_*`` return a value to
maximize; :func:`structural_hamming_distance` and :func:`mse_at_horizon` return
values to minimize.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score

__all__ = [
    "edge_auroc",
    "pooled_edge_auroc",
    "edge_auprc",
    "edge_density",
    "heterogeneity_auroc",
    "structural_hamming_distance",
    "f1_edges",
    "mse_at_horizon",
    "edge_auroc_scorer",
]


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------


def _as_float_array(array: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return a float64 copy of ``array``; never a view on the caller's data."""
    try:
        out = np.array(array, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be an array of real numbers; it could not be converted "
            f"to float ({exc})."
        ) from exc
    return out


def _check_graph_array(
    array: ArrayLike, name: str, *, binary: bool
) -> NDArray[np.float64]:
    """Validate one graph argument and return it as ``(n_shops, d, d)`` floats.

    Only off-diagonal entries are checked: they must be finite, and in
    ``{0, 1}`` when ``binary`` is true. The diagonal is ignored.
    """
    out = _as_float_array(array, name)
    shape = out.shape
    if out.ndim not in (2, 3) or shape[-1] != shape[-2]:
        raise ValueError(
            f"{name} must have shape (d, d) or (n_shops, d, d), got shape {shape}."
        )
    if out.ndim == 2:
        out = out[np.newaxis]
    n_shops, d, _ = out.shape
    if n_shops < 1:
        raise ValueError(f"{name} must hold at least one shop, got shape {shape}.")
    if d < 2:
        raise ValueError(
            f"{name} must have at least 2 nodes (a graph on 1 node has no edge "
            f"besides the ignored self loop), got shape {shape}."
        )
    off = _off_diagonal_mask(d)
    bad = ~np.isfinite(out) & off
    if bad.any():
        s, i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must be finite off the diagonal; found {out[s, i, j]} at "
            f"shop {s}, edge {i} -> {j}."
        )
    if binary:
        bad = (out != 0) & (out != 1) & off
        if bad.any():
            s, i, j = np.argwhere(bad)[0]
            raise ValueError(
                f"{name} must be binary (0 or 1) off the diagonal; found "
                f"{out[s, i, j]} at shop {s}, edge {i} -> {j}."
            )
    return out


def _check_graph_pair(
    true_adjacency: ArrayLike,
    other: ArrayLike,
    other_name: str,
    *,
    other_binary: bool,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Validate truth and scores/prediction; return their off-diagonal entries.

    Returns arrays of shape ``(n_shops, d * (d - 1))``, the edges ``i -> j`` in
    row-major order of ``(i, j)``.
    """
    truth = _check_graph_array(true_adjacency, "true_adjacency", binary=True)
    values = _check_graph_array(other, other_name, binary=other_binary)
    if truth.shape != values.shape:
        raise ValueError(
            f"true_adjacency and {other_name} must have the same shape, got "
            f"{np.shape(true_adjacency)} and {np.shape(other)}."
        )
    off = _off_diagonal_mask(truth.shape[-1])
    return truth[:, off] == 1, values[:, off]


def _off_diagonal_mask(d: int) -> NDArray[np.bool_]:
    return ~np.eye(d, dtype=bool)


def _check_average(average: bool) -> None:
    if not isinstance(average, bool | np.bool_):
        raise TypeError(f"average must be a bool, got {average!r}.")


def _binary_auc(y_true: NDArray[np.bool_], y_score: NDArray) -> NDArray[np.float64]:
    """ROC AUC along the last axis, NaN where only one class is present.

    Uses the Mann-Whitney form: the fraction of (positive, negative) pairs in
    which the positive has the higher score, ties counting one half. This is
    the area under the (trapezoidal) ROC curve, i.e. the value
    :func:`sklearn.metrics.roc_auc_score` returns, computed for all rows at
    once. Average ranks keep the result exact for ties: all-tied scores give
    exactly 0.5.
    """
    ranks = rankdata(y_score, method="average", axis=-1)
    n = y_true.shape[-1]
    n_pos = y_true.sum(axis=-1).astype(np.float64)
    n_neg = n - n_pos
    u = np.where(y_true, ranks, 0.0).sum(axis=-1) - n_pos * (n_pos + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = u / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def _mean_or_raise(values: NDArray[np.float64], message: str) -> float:
    defined = ~np.isnan(values)
    if not defined.any():
        raise ValueError(message)
    return float(values[defined].mean())


# ---------------------------------------------------------------------------
# Edge ranking metrics
# ---------------------------------------------------------------------------


def edge_auroc(
    true_adjacency: ArrayLike, scores: ArrayLike, *, average: bool = True
) -> float | NDArray[np.float64]:
    """Per-shop area under the ROC curve of edge scores, averaged over shops.

    For every shop ``s``, the ``d * (d - 1)`` off-diagonal entries
    ``true_adjacency[s, i, j]`` (``i != j``) are the labels and
    ``scores[s, i, j]`` the scores, and the shop's AUROC is
    ``roc_auc_score(labels, scores)``: the probability that a randomly drawn
    true edge scores higher than a randomly drawn non-edge of the same shop,
    ties counting one half. This is the metric of the CausalMMM paper.

    A shop whose off-diagonal truth is all 0 (no edge) or all 1 (complete
    graph) has no AUROC. Such *undefined* shops are skipped: the average is the
    mean over the shops whose truth contains both an edge and a non-edge.

    Parameters
    ----------
    true_adjacency : array-like of shape (n_shops, d, d) or (d, d)
        True graphs; ``true_adjacency[s, i, j] == 1`` iff shop ``s`` has the
        edge ``i -> j``. Off-diagonal entries must be 0 or 1; the diagonal is
        ignored.
    scores : array-like of the same shape as ``true_adjacency``
        Edge scores, e.g. edge probabilities; ``scores[s, i, j]`` scores
        ``i -> j``. Off-diagonal entries must be finite; the diagonal is
        ignored.
    average : bool, default=True
        If True, return the mean over defined shops. If False, return the
        per-shop AUROCs, NaN for undefined shops.

    Returns
    -------
    auroc : float or ndarray of shape (n_shops,)
        Mean AUROC over defined shops, or the per-shop vector.

    Raises
    ------
    ValueError
        If the inputs are malformed, or if ``average=True`` and every shop is
        undefined.

    See Also
    --------
    pooled_edge_auroc : One AUROC over the edges of all shops pooled.
    heterogeneity_auroc : AUROC across shops, edge slot by edge slot.
    edge_auprc : Per-shop average precision.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import edge_auroc
    >>> truth = np.array([[0, 1, 0],
    ...                   [0, 0, 1],
    ...                   [0, 0, 0]])
    >>> scores = np.array([[0.0, 0.9, 0.1],
    ...                    [0.35, 0.0, 0.3],
    ...                    [0.4, 0.1, 0.0]])
    >>> edge_auroc(truth, scores)
    0.75
    >>> edge_auroc(np.stack([truth, np.zeros((3, 3))]),
    ...            np.stack([scores, scores]), average=False)
    array([0.75,  nan])
    """
    _check_average(average)
    y_true, y_score = _check_graph_pair(
        true_adjacency, scores, "scores", other_binary=False
    )
    per_shop = _binary_auc(y_true, y_score)
    if not average:
        return per_shop
    return _mean_or_raise(
        per_shop,
        "edge_auroc is undefined for every shop: each shop's true graph has "
        "either no edge or every possible edge off the diagonal.",
    )


def pooled_edge_auroc(true_adjacency: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve of the edges of all shops pooled together.

    The ``n_shops * d * (d - 1)`` off-diagonal entries of all shops form one
    set of labels and scores, and the result is ``roc_auc_score`` on that set:
    the probability that a randomly drawn true edge of any shop scores higher
    than a randomly drawn non-edge of any shop, ties counting one half.

    Unlike :func:`edge_auroc`, this compares scores across shops, so it also
    rewards scores that are calibrated from shop to shop, and it is defined as
    soon as the pooled truth holds both an edge and a non-edge.

    Parameters
    ----------
    true_adjacency : array-like of shape (n_shops, d, d) or (d, d)
        True graphs; ``true_adjacency[s, i, j] == 1`` iff shop ``s`` has the
        edge ``i -> j``. Off-diagonal entries must be 0 or 1; the diagonal is
        ignored.
    scores : array-like of the same shape as ``true_adjacency``
        Edge scores; ``scores[s, i, j]`` scores ``i -> j``. Off-diagonal
        entries must be finite; the diagonal is ignored.

    Returns
    -------
    auroc : float
        Pooled AUROC.

    Raises
    ------
    ValueError
        If the inputs are malformed, or if the pooled off-diagonal truth is all
        0 or all 1.

    See Also
    --------
    edge_auroc : Per-shop AUROC averaged over shops.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import edge_auroc, pooled_edge_auroc
    >>> truth = np.array([[[0, 1], [0, 0]],
    ...                   [[0, 1], [0, 0]]])
    >>> scores = np.array([[[0, 0.9], [0.8, 0]],
    ...                    [[0, 0.3], [0.2, 0]]])
    >>> edge_auroc(truth, scores)
    1.0
    >>> pooled_edge_auroc(truth, scores)
    0.75
    """
    y_true, y_score = _check_graph_pair(
        true_adjacency, scores, "scores", other_binary=False
    )
    auc = _binary_auc(y_true.ravel(), y_score.ravel())
    if np.isnan(auc):
        raise ValueError(
            "pooled_edge_auroc is undefined: the pooled true graphs have either "
            "no edge or every possible edge off the diagonal."
        )
    return float(auc)


def edge_auprc(
    true_adjacency: ArrayLike, scores: ArrayLike, *, average: bool = True
) -> float | NDArray[np.float64]:
    """Per-shop average precision of edge scores, averaged over shops.

    For every shop ``s``, with the off-diagonal entries as labels and scores,
    the shop's value is :func:`sklearn.metrics.average_precision_score`:

    ``AP = sum_n (R_n - R_{n-1}) P_n``

    where ``P_n`` and ``R_n`` are the precision and recall of the edges whose
    score is at least the ``n``-th threshold (distinct score values, from the
    highest down). It summarizes the precision-recall curve without
    interpolation.

    A shop without any true edge has no AP (recall is 0/0); such shops are
    skipped and the average is the mean over shops with at least one true
    edge.

    Unlike AUROC (chance level 0.5), the chance level of AP is the edge
    density: a scorer that gives every edge the same score gets exactly the
    shop's off-diagonal density of true edges, so the chance level of the
    average is :func:`edge_density` ``(true_adjacency)``. Compare AUPRCs to it,
    not to 0.5.

    Parameters
    ----------
    true_adjacency : array-like of shape (n_shops, d, d) or (d, d)
        True graphs; ``true_adjacency[s, i, j] == 1`` iff shop ``s`` has the
        edge ``i -> j``. Off-diagonal entries must be 0 or 1; the diagonal is
        ignored.
    scores : array-like of the same shape as ``true_adjacency``
        Edge scores; ``scores[s, i, j]`` scores ``i -> j``. Off-diagonal
        entries must be finite; the diagonal is ignored.
    average : bool, default=True
        If True, return the mean over shops with at least one true edge. If
        False, return the per-shop values, NaN for shops without a true edge.

    Returns
    -------
    auprc : float or ndarray of shape (n_shops,)
        Mean average precision, or the per-shop vector.

    Raises
    ------
    ValueError
        If the inputs are malformed, or if ``average=True`` and no shop has a
        true edge.

    See Also
    --------
    edge_density : The chance level of this metric.
    edge_auroc : Per-shop AUROC.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import edge_auprc, edge_density
    >>> truth = np.array([[0, 1, 0],
    ...                   [0, 0, 1],
    ...                   [0, 0, 0]])
    >>> scores = np.array([[0.0, 0.9, 0.1],
    ...                    [0.35, 0.0, 0.3],
    ...                    [0.4, 0.1, 0.0]])
    >>> edge_auprc(truth, scores)
    0.75
    >>> edge_density(truth)  # chance level
    0.333...
    """
    _check_average(average)
    y_true, y_score = _check_graph_pair(
        true_adjacency, scores, "scores", other_binary=False
    )
    per_shop = np.full(y_true.shape[0], np.nan)
    for s in np.flatnonzero(y_true.any(axis=1)):
        per_shop[s] = average_precision_score(y_true[s], y_score[s])
    if not average:
        return per_shop
    return _mean_or_raise(
        per_shop,
        "edge_auprc is undefined for every shop: no shop's true graph has an "
        "edge off the diagonal.",
    )


def edge_density(true_adjacency: ArrayLike) -> float:
    """Mean off-diagonal edge density: the chance level of :func:`edge_auprc`.

    The density of shop ``s`` is its number of true edges divided by the
    ``d * (d - 1)`` possible edges off the diagonal. The result is the mean
    density over the shops that :func:`edge_auprc` averages, i.e. the shops
    with at least one true edge; it is exactly the :func:`edge_auprc` of a
    scorer that gives every edge the same score.

    Parameters
    ----------
    true_adjacency : array-like of shape (n_shops, d, d) or (d, d)
        True graphs; ``true_adjacency[s, i, j] == 1`` iff shop ``s`` has the
        edge ``i -> j``. Off-diagonal entries must be 0 or 1; the diagonal is
        ignored.

    Returns
    -------
    density : float
        Mean off-diagonal density over shops with at least one true edge.

    Raises
    ------
    ValueError
        If the input is malformed or no shop has a true edge.

    See Also
    --------
    edge_auprc : Per-shop average precision.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import edge_density
    >>> truth = np.zeros((2, 3, 3))
    >>> truth[0, 0, 1] = 1
    >>> truth[1, 0, 1] = truth[1, 1, 2] = truth[1, 0, 2] = 1
    >>> edge_density(truth)  # (1/6 + 3/6) / 2
    0.333...
    """
    truth = _check_graph_array(true_adjacency, "true_adjacency", binary=True)
    y_true = truth[:, _off_diagonal_mask(truth.shape[-1])] == 1
    has_edge = y_true.any(axis=1)
    if not has_edge.any():
        raise ValueError(
            "edge_density is undefined: no shop's true graph has an edge off the "
            "diagonal (edge_auprc skips such shops)."
        )
    return float(y_true[has_edge].mean(axis=1).mean())


def heterogeneity_auroc(true_adjacency: ArrayLike, scores: ArrayLike) -> float:
    """AUROC across shops, slot by slot: are per-shop graphs really per shop?

    An edge slot is an ordered pair ``(i, j)`` with ``i != j``. A slot is
    *heterogeneous* when its truth varies across shops, i.e.
    ``true_adjacency[:, i, j]`` holds both 0 and 1. For each heterogeneous
    slot, the labels ``true_adjacency[:, i, j]`` and scores
    ``scores[:, i, j]`` (one entry per shop) give a ROC AUC: the probability
    that a randomly drawn shop having the edge ``i -> j`` scores it higher than
    a randomly drawn shop lacking it, ties counting one half. The result is
    the mean of these AUCs over heterogeneous slots; homogeneous slots are
    skipped.

    A shop-agnostic scorer, one that gives all shops the same score in a slot,
    ties every pair of shops and gets exactly 0.5, however good its ranking of
    slots is (which :func:`edge_auroc` rewards). Values above 0.5 mean the
    scorer tells shops apart in the direction of the truth; 1.0 means that, in
    every heterogeneous slot, every shop with the edge outscores every shop
    without it.

    Parameters
    ----------
    true_adjacency : array-like of shape (n_shops, d, d)
        True graphs; ``true_adjacency[s, i, j] == 1`` iff shop ``s`` has the
        edge ``i -> j``. Off-diagonal entries must be 0 or 1; the diagonal is
        ignored. A single ``(d, d)`` graph is accepted as one shop, but one
        shop has no heterogeneous slot.
    scores : array-like of the same shape as ``true_adjacency``
        Edge scores; ``scores[s, i, j]`` scores ``i -> j``. Off-diagonal
        entries must be finite; the diagonal is ignored.

    Returns
    -------
    auroc : float
        Mean across-shop AUROC over heterogeneous slots.

    Raises
    ------
    ValueError
        If the inputs are malformed, or if no slot's truth varies across shops.

    See Also
    --------
    edge_auroc : Per-shop AUROC averaged over shops.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import heterogeneity_auroc
    >>> truth = np.zeros((3, 2, 2))
    >>> truth[:, 0, 1] = [1, 1, 0]
    >>> heterogeneity_auroc(truth, truth)
    1.0
    >>> shop_agnostic = np.broadcast_to(truth.mean(axis=0), truth.shape)
    >>> heterogeneity_auroc(truth, shop_agnostic)
    0.5
    >>> scores = np.zeros((3, 2, 2))
    >>> scores[:, 0, 1] = [0.9, 0.2, 0.5]
    >>> heterogeneity_auroc(truth, scores)
    0.5
    """
    y_true, y_score = _check_graph_pair(
        true_adjacency, scores, "scores", other_binary=False
    )
    # One row per edge slot, one column per shop.
    per_slot = _binary_auc(y_true.T, y_score.T)
    return _mean_or_raise(
        per_slot,
        "heterogeneity_auroc is undefined: no edge slot's truth varies across "
        f"the {y_true.shape[0]} shop(s), so there is no heterogeneity to score.",
    )


# ---------------------------------------------------------------------------
# Binary graph metrics
# ---------------------------------------------------------------------------


def structural_hamming_distance(
    true_adjacency: ArrayLike,
    predicted_adjacency: ArrayLike,
    *,
    average: bool = True,
) -> float | NDArray[np.float64]:
    """Structural Hamming distance between binary directed graphs, per shop.

    For a shop, the SHD is the number of unordered node pairs ``{i, j}``
    (``i < j``) whose edges differ: the pair counts 1 when
    ``(true[i, j], true[j, i]) != (pred[i, j], pred[j, i])`` and 0 otherwise.
    So a missing edge, an extra edge and a reversed edge each count once
    (a reversal is not a deletion plus an insertion). Self loops are ignored.
    The result ranges from 0 (identical graphs) to ``d * (d - 1) / 2``.

    Parameters
    ----------
    true_adjacency : array-like of shape (n_shops, d, d) or (d, d)
        True graphs; ``true_adjacency[s, i, j] == 1`` iff shop ``s`` has the
        edge ``i -> j``. Off-diagonal entries must be 0 or 1; the diagonal is
        ignored.
    predicted_adjacency : array-like of the same shape as ``true_adjacency``
        Predicted graphs, binary like ``true_adjacency``, e.g. thresholded edge
        probabilities.
    average : bool, default=True
        If True, return the mean SHD over shops; if False, the per-shop SHDs.

    Returns
    -------
    shd : float or ndarray of shape (n_shops,)
        Mean SHD over shops, or the per-shop vector.

    See Also
    --------
    f1_edges : Per-shop F1 score of the predicted edges.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import structural_hamming_distance
    >>> truth = np.array([[0, 1, 0],
    ...                   [0, 0, 1],
    ...                   [0, 0, 0]])
    >>> pred = np.array([[0, 0, 1],    # 0 -> 1 missing, 0 -> 2 extra
    ...                  [0, 0, 0],
    ...                  [0, 1, 0]])   # 1 -> 2 reversed
    >>> structural_hamming_distance(truth, pred)
    3.0
    """
    _check_average(average)
    truth = _check_graph_array(true_adjacency, "true_adjacency", binary=True)
    pred = _check_graph_array(predicted_adjacency, "predicted_adjacency", binary=True)
    if truth.shape != pred.shape:
        raise ValueError(
            "true_adjacency and predicted_adjacency must have the same shape, got "
            f"{np.shape(true_adjacency)} and {np.shape(predicted_adjacency)}."
        )
    differs = truth != pred
    pair_differs = differs | differs.transpose(0, 2, 1)
    upper = np.triu_indices(truth.shape[-1], k=1)
    per_shop = pair_differs[:, upper[0], upper[1]].sum(axis=1).astype(np.float64)
    if not average:
        return per_shop
    return float(per_shop.mean())


def f1_edges(
    true_adjacency: ArrayLike,
    predicted_adjacency: ArrayLike,
    *,
    average: bool = True,
) -> float | NDArray[np.float64]:
    """F1 score of predicted directed edges, per shop, averaged over shops.

    For a shop, with ``TP``, ``FP`` and ``FN`` counted over the off-diagonal
    entries (``i -> j`` and ``j -> i`` are different edges, so a reversed edge
    is one false positive and one false negative),

    ``F1 = 2 * TP / (2 * TP + FP + FN)``,

    the harmonic mean of edge precision and recall. A shop with no true and no
    predicted edge has ``0 / 0``: it is undefined and skipped, and the average
    is the mean over the other shops.

    Parameters
    ----------
    true_adjacency : array-like of shape (n_shops, d, d) or (d, d)
        True graphs; ``true_adjacency[s, i, j] == 1`` iff shop ``s`` has the
        edge ``i -> j``. Off-diagonal entries must be 0 or 1; the diagonal is
        ignored.
    predicted_adjacency : array-like of the same shape as ``true_adjacency``
        Predicted graphs, binary like ``true_adjacency``.
    average : bool, default=True
        If True, return the mean over defined shops; if False, the per-shop
        values, NaN for undefined shops.

    Returns
    -------
    f1 : float or ndarray of shape (n_shops,)
        Mean F1 over defined shops, or the per-shop vector.

    Raises
    ------
    ValueError
        If the inputs are malformed, or if ``average=True`` and every shop is
        undefined.

    See Also
    --------
    structural_hamming_distance : Per-shop count of differing node pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import f1_edges
    >>> truth = np.array([[0, 1, 0],
    ...                   [0, 0, 1],
    ...                   [0, 0, 0]])
    >>> pred = np.array([[0, 1, 1],    # TP = 1, FP = 1
    ...                  [0, 0, 0],    # FN = 1
    ...                  [0, 0, 0]])
    >>> f1_edges(truth, pred)  # 2 / (2 + 1 + 1)
    0.5
    """
    _check_average(average)
    y_true, y_pred = _check_graph_pair(
        true_adjacency, predicted_adjacency, "predicted_adjacency", other_binary=True
    )
    y_pred = y_pred == 1
    tp = (y_true & y_pred).sum(axis=1)
    fp = (~y_true & y_pred).sum(axis=1)
    fn = (y_true & ~y_pred).sum(axis=1)
    denominator = 2 * tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        per_shop = np.where(denominator > 0, 2 * tp / denominator, np.nan)
    if not average:
        return per_shop
    return _mean_or_raise(
        per_shop,
        "f1_edges is undefined for every shop: no shop has a true or a "
        "predicted edge off the diagonal.",
    )


# ---------------------------------------------------------------------------
# Forecasting
# ---------------------------------------------------------------------------


def mse_at_horizon(
    y_true: ArrayLike, y_pred: ArrayLike, horizon: int | None = None
) -> float | NDArray[np.float64]:
    """Mean squared error of multi-step forecasts, horizon by horizon.

    Column ``h - 1`` of the last axis holds the ``h``-step-ahead forecasts
    (``h = 1, ..., n_horizons``). Leading axes are flattened, so
    ``(n_shops, n_origins, n_horizons)`` arrays (one forecast per shop and
    forecast origin) are read as ``(n_shops * n_origins, n_horizons)``. The
    MSE at horizon ``h`` is

    ``MSE_h = mean over forecasts f with y_true[f, h-1] not NaN of
    (y_true[f, h-1] - y_pred[f, h-1]) ** 2``.

    NaN in ``y_true`` marks a missing target (e.g. a step a shop lacks); that
    entry is ignored, whatever ``y_pred`` holds there.

    Parameters
    ----------
    y_true : array-like of shape (n_forecasts, n_horizons) or \
            (n_shops, n_origins, n_horizons)
        Observed values; NaN marks a missing target. Infinite values are
        rejected.
    y_pred : array-like of the same shape as ``y_true``
        Forecasts; must be finite wherever ``y_true`` is not NaN.
    horizon : int, default=None
        The 1-based horizon ``h`` to score. If None, score every horizon.

    Returns
    -------
    mse : float or ndarray of shape (n_horizons,)
        ``MSE_h`` at ``horizon``, or ``[MSE_1, ..., MSE_n_horizons]`` when
        ``horizon`` is None.

    Raises
    ------
    ValueError
        If the shapes are wrong or differ, if ``horizon`` is out of range, or
        if a scored horizon has no target (every ``y_true`` in its column is
        NaN); the message names the horizon.
    TypeError
        If ``horizon`` is neither None nor an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.metrics import mse_at_horizon
    >>> y_true = np.array([[1.0, 2.0],
    ...                    [3.0, np.nan]])
    >>> y_pred = np.array([[1.0, 4.0],
    ...                    [2.0, 9.0]])
    >>> mse_at_horizon(y_true, y_pred)  # [(0 + 1) / 2, 4 / 1]
    array([0.5, 4. ])
    >>> mse_at_horizon(y_true, y_pred, horizon=2)
    4.0
    """
    true = _as_float_array(y_true, "y_true")
    pred = _as_float_array(y_pred, "y_pred")
    for name, array in (("y_true", true), ("y_pred", pred)):
        if array.ndim not in (2, 3):
            raise ValueError(
                f"{name} must have shape (n_forecasts, n_horizons) or "
                f"(n_shops, n_origins, n_horizons), got shape {array.shape}."
            )
    if true.shape != pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {true.shape} and "
            f"{pred.shape}."
        )
    n_horizons = true.shape[-1]
    if n_horizons < 1:
        raise ValueError(f"y_true must hold at least one horizon, got {true.shape}.")
    if horizon is not None:
        if isinstance(horizon, bool | np.bool_) or not isinstance(horizon, Integral):
            raise TypeError(f"horizon must be an int or None, got {horizon!r}.")
        if not 1 <= horizon <= n_horizons:
            raise ValueError(
                f"horizon must be in [1, {n_horizons}] (1-based, one per column of "
                f"y_true), got {horizon}."
            )
    true = true.reshape(-1, n_horizons)
    pred = pred.reshape(-1, n_horizons)
    if np.isinf(true).any():
        raise ValueError("y_true must not contain infinity (NaN marks missing).")
    observed = ~np.isnan(true)
    bad = observed & ~np.isfinite(pred)
    if bad.any():
        f, h = np.argwhere(bad)[0]
        raise ValueError(
            f"y_pred must be finite where y_true is observed; found {pred[f, h]} "
            f"at horizon {h + 1} (flattened forecast {f})."
        )
    columns = range(n_horizons) if horizon is None else [horizon - 1]
    mse = np.empty(len(columns))
    for k, h in enumerate(columns):
        mask = observed[:, h]
        if not mask.any():
            raise ValueError(
                f"horizon {h + 1} has no target: every y_true value in its column "
                "is NaN."
            )
        mse[k] = np.mean((true[mask, h] - pred[mask, h]) ** 2)
    if horizon is None:
        return mse
    return float(mse[0])


# ---------------------------------------------------------------------------
# Scorers for model selection
# ---------------------------------------------------------------------------


def edge_auroc_scorer(estimator, X, true_adjacency: ArrayLike) -> float:
    """Scorer tuning a graph discoverer against known graphs (simulations).

    Use as ``GridSearchCV(discoverer, grid, scoring=edge_auroc_scorer)`` with
    ``X`` a panel whose first axis is the shop (e.g. ``(n_shops, d, T)``) and
    ``y`` the true graphs ``(n_shops, d, d)``: cross-validation then splits
    shops, discoverers ignore ``y`` in ``fit``, and each held-out fold is
    scored by :func:`edge_auroc` of ``estimator.predict_graph(X)``. Inductive
    discoverers score the new shops with the fitted model; the others refit
    on them.

    Parameters
    ----------
    estimator : fitted discoverer
        Anything with ``predict_graph(X)`` returning ``(n_shops, d, d)``.
    X : array-like
        The held-out shops.
    true_adjacency : array-like of shape (n_shops, d, d)
        Their true graphs, ``[s, i, j] = 1`` for ``i -> j``.

    Returns
    -------
    score : float
        Mean per-shop edge AUROC (greater is better).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_causalmmm.baselines import LinearGrangerDiscoverer
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=6, n_steps=80, random_state=0)
    >>> X = np.concatenate([data.X, data.y[:, None]], axis=1)
    >>> search = GridSearchCV(
    ...     LinearGrangerDiscoverer(), {"max_lag": [1, 3]}, cv=2,
    ...     scoring=edge_auroc_scorer,
    ... ).fit(X, data.adjacency)
    >>> search.best_params_["max_lag"] in (1, 3)
    True
    """
    return float(edge_auroc(true_adjacency, estimator.predict_graph(X)))

"""Tests for sklearn_causalmmm.metrics."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from sklearn_causalmmm.metrics import (
    edge_auprc,
    edge_auroc,
    edge_density,
    f1_edges,
    heterogeneity_auroc,
    mse_at_horizon,
    pooled_edge_auroc,
    structural_hamming_distance,
)

# Chain 0 -> 1 -> 2; [i, j] = 1 means i -> j.
CHAIN = np.array(
    [
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 0],
    ]
)
# Off-diagonal entries in row-major order:
#   0->1: 0.9 (edge)   0->2: 0.1   1->0: 0.35   1->2: 0.3 (edge)   2->0: 0.4   2->1: 0.1
# Edge 0.9 beats all 4 non-edges; edge 0.3 beats 0.1 and 0.1 only: AUROC = 6 / 8.
# Ranked: 0.9 (edge), 0.4, 0.35, 0.3 (edge): AP = 1/2 * 1 + 1/2 * 2/4 = 0.75.
CHAIN_SCORES = np.array(
    [
        [0.0, 0.9, 0.1],
        [0.35, 0.0, 0.3],
        [0.4, 0.1, 0.0],
    ]
)
OFF = ~np.eye(3, dtype=bool)


def _random_panel(seed, n_shops=6, d=4, n_levels=3):
    """Random binary truth and integer scores (many ties) with both classes."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, size=(n_shops, d, d))  # random diagonal: ignored
    truth[:, 0, 1] = 1  # every shop has an edge
    truth[:, 1, 0] = 0  # and a non-edge
    scores = rng.integers(0, n_levels, size=(n_shops, d, d)).astype(float)
    return truth, scores


# ---------------------------------------------------------------------------
# edge_auroc
# ---------------------------------------------------------------------------


def test_edge_auroc_hand_computed():
    assert edge_auroc(CHAIN, CHAIN_SCORES) == pytest.approx(6 / 8)
    # the paper's definition: roc_auc_score over the off-diagonal entries
    assert edge_auroc(CHAIN, CHAIN_SCORES) == pytest.approx(
        roc_auc_score(CHAIN[OFF], CHAIN_SCORES[OFF])
    )


def test_edge_auroc_ties_count_half():
    truth = np.array([[0, 1], [0, 0]])
    assert edge_auroc(truth, np.array([[0, 0.5], [0.5, 0]])) == 0.5
    # 3 nodes, edges 0->1, 1->2: edge scores 1, 0; non-edges 0, 0, 0, 0.
    # edge 1 beats 4; edge 0 ties 4 -> (4 + 2) / 8
    scores = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    assert edge_auroc(CHAIN, scores) == pytest.approx(6 / 8)


def test_edge_auroc_orientation_row_is_source():
    # [s, i, j] scores i -> j: the truth itself is perfect, its transpose is not.
    assert edge_auroc(CHAIN, CHAIN) == 1.0
    # transposed: edges 0->1 and 1->2 get 0; non-edges 1->0, 2->1 get 1 and
    # 0->2, 2->0 get 0. Each edge: 2 ties, 2 losses -> 1 / 4.
    assert edge_auroc(CHAIN, CHAIN.T) == pytest.approx(0.25)
    # transposed hand example: edges score 0.35, 0.1; non-edges 0.4, 0.9, 0.1, 0.3
    # 0.35 beats 0.1, 0.3; 0.1 ties 0.1 -> 2.5 / 8
    assert edge_auroc(CHAIN, CHAIN_SCORES.T) == pytest.approx(2.5 / 8)


def test_edge_auroc_ignores_diagonal():
    truth = CHAIN.astype(float)
    scores = CHAIN_SCORES.copy()
    np.fill_diagonal(truth, 1)
    np.fill_diagonal(scores, np.nan)
    assert edge_auroc(truth, scores) == pytest.approx(6 / 8)
    np.fill_diagonal(scores, 1e9)
    assert edge_auroc(truth, scores) == pytest.approx(6 / 8)


def test_edge_auroc_skips_undefined_shops():
    complete = np.ones((3, 3))
    np.fill_diagonal(complete, 0)
    truth = np.stack([CHAIN, np.zeros((3, 3)), complete, CHAIN])
    scores = np.stack([CHAIN_SCORES, CHAIN_SCORES, CHAIN_SCORES, CHAIN])
    per_shop = edge_auroc(truth, scores, average=False)
    assert per_shop.shape == (4,)
    np.testing.assert_allclose(per_shop, [0.75, np.nan, np.nan, 1.0])
    # mean over the defined shops only, not (0.75 + 1) / 4
    assert edge_auroc(truth, scores) == pytest.approx((0.75 + 1.0) / 2)


def test_edge_auroc_all_shops_undefined_raises():
    complete = np.ones((3, 3))
    truth = np.stack([np.zeros((3, 3)), complete])
    scores = np.stack([CHAIN_SCORES, CHAIN_SCORES])
    with pytest.raises(ValueError, match="undefined for every shop"):
        edge_auroc(truth, scores)
    per_shop = edge_auroc(truth, scores, average=False)
    assert np.isnan(per_shop).all()


def test_edge_auroc_single_graph_is_one_shop():
    per_shop = edge_auroc(CHAIN, CHAIN_SCORES, average=False)
    assert per_shop.shape == (1,)
    assert edge_auroc(CHAIN[None], CHAIN_SCORES[None]) == edge_auroc(
        CHAIN, CHAIN_SCORES
    )


@pytest.mark.parametrize("seed", range(5))
def test_edge_auroc_matches_roc_auc_score_per_shop(seed):
    truth, scores = _random_panel(seed)
    off = ~np.eye(truth.shape[-1], dtype=bool)
    expected = [
        roc_auc_score(t[off], s[off]) for t, s in zip(truth, scores, strict=True)
    ]
    np.testing.assert_allclose(edge_auroc(truth, scores, average=False), expected)
    assert edge_auroc(truth, scores) == pytest.approx(np.mean(expected))


# ---------------------------------------------------------------------------
# pooled_edge_auroc
# ---------------------------------------------------------------------------


def test_pooled_differs_from_per_shop():
    # Each shop ranks its edge first (per-shop AUROC 1), but shop 1's edge
    # scores below shop 0's non-edge: pooled pairs 0.9>0.8, 0.9>0.2, 0.3<0.8,
    # 0.3>0.2 -> 3 / 4.
    truth = np.array([[[0, 1], [0, 0]], [[0, 1], [0, 0]]])
    scores = np.array([[[0, 0.9], [0.8, 0]], [[0, 0.3], [0.2, 0]]])
    assert edge_auroc(truth, scores) == 1.0
    assert pooled_edge_auroc(truth, scores) == pytest.approx(0.75)


def test_pooled_defined_when_shops_are_not():
    # shop 0 has no edge, shop 1 only edges: every shop undefined, pool defined
    truth = np.array([[[0, 0], [0, 0]], [[0, 1], [1, 0]]])
    scores = np.array([[[0, 0.1], [0.6, 0]], [[0, 0.5], [0.7, 0]]])
    # edges 0.5, 0.7 vs non-edges 0.1, 0.6: 0.5 beats 1, 0.7 beats 2 -> 3 / 4
    assert pooled_edge_auroc(truth, scores) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="undefined"):
        edge_auroc(truth, scores)


def test_pooled_single_class_raises():
    with pytest.raises(ValueError, match="pooled_edge_auroc is undefined"):
        pooled_edge_auroc(np.zeros((2, 3, 3)), np.ones((2, 3, 3)))


def test_pooled_matches_roc_auc_score():
    truth, scores = _random_panel(0)
    off = ~np.eye(truth.shape[-1], dtype=bool)
    expected = roc_auc_score(truth[:, off].ravel(), scores[:, off].ravel())
    assert pooled_edge_auroc(truth, scores) == pytest.approx(expected)


# ---------------------------------------------------------------------------
# edge_auprc and edge_density
# ---------------------------------------------------------------------------


def test_edge_auprc_hand_computed():
    assert edge_auprc(CHAIN, CHAIN_SCORES) == pytest.approx(0.75)
    assert edge_auprc(CHAIN, CHAIN_SCORES) == pytest.approx(
        average_precision_score(CHAIN[OFF], CHAIN_SCORES[OFF])
    )
    # transposed scores ranked: 0.9, 0.4, 0.35 (edge), 0.3, 0.1 (edge), 0.1 -> the
    # tied 0.1 pair has precision 2 / 6 at recall 1: AP = 1/2 * 1/3 + 1/2 * 2/6
    assert edge_auprc(CHAIN, CHAIN_SCORES.T) == pytest.approx(1 / 3)


def test_edge_auprc_skips_shops_without_edges():
    complete = np.ones((3, 3))
    truth = np.stack([CHAIN, np.zeros((3, 3)), complete])
    scores = np.stack([CHAIN_SCORES] * 3)
    # a complete graph has AP 1 whatever the scores; an empty one is undefined
    np.testing.assert_allclose(
        edge_auprc(truth, scores, average=False), [0.75, np.nan, 1.0]
    )
    assert edge_auprc(truth, scores) == pytest.approx((0.75 + 1.0) / 2)
    with pytest.raises(ValueError, match="edge_auprc is undefined"):
        edge_auprc(np.zeros((2, 3, 3)), scores[:2])


def test_edge_density_hand_computed():
    truth = np.zeros((3, 3, 3))
    truth[0, 0, 1] = 1  # 1 / 6
    truth[1, 0, 1] = truth[1, 1, 2] = truth[1, 2, 0] = 1  # 3 / 6
    # shop 2 has no edge: skipped, as in edge_auprc
    assert edge_density(truth) == pytest.approx((1 / 6 + 3 / 6) / 2)
    assert edge_density(CHAIN) == pytest.approx(2 / 6)
    # the diagonal does not count
    with_loops = CHAIN.copy()
    np.fill_diagonal(with_loops, 1)
    assert edge_density(with_loops) == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="no shop"):
        edge_density(np.zeros((2, 3, 3)))


@pytest.mark.parametrize("seed", range(3))
def test_edge_density_is_auprc_of_constant_scorer(seed):
    truth, _ = _random_panel(seed)
    truth[0] = 0  # a shop without edges is skipped by both
    constant = np.full(truth.shape, 0.3)
    assert edge_auprc(truth, constant) == pytest.approx(edge_density(truth), abs=1e-15)


# ---------------------------------------------------------------------------
# heterogeneity_auroc
# ---------------------------------------------------------------------------


def _heterogeneous_truth(seed=0, n_shops=8, d=4):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, size=(n_shops, d, d))
    truth[:, 0, 1] = 1  # a homogeneous slot
    truth[:, 2, 3] = [1, 0] * (n_shops // 2)  # surely one heterogeneous slot
    return truth


def test_heterogeneity_truth_is_one_and_inverted_truth_is_zero():
    truth = _heterogeneous_truth()
    assert heterogeneity_auroc(truth, truth) == 1.0
    assert heterogeneity_auroc(truth, 1 - truth) == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_heterogeneity_shop_agnostic_is_exactly_half(seed):
    truth = _heterogeneous_truth(seed)
    rng = np.random.default_rng(seed)
    # any slot ranking, identical for every shop (here: the marginal frequency,
    # which is a strong per-shop edge_auroc scorer, plus noise)
    slot_scores = truth.mean(axis=0) + 0.01 * rng.random(truth.shape[1:])
    agnostic = np.broadcast_to(slot_scores, truth.shape)
    assert heterogeneity_auroc(truth, agnostic) == 0.5
    assert edge_auroc(truth, agnostic) > 0.5


def test_heterogeneity_hand_computed():
    truth = np.zeros((4, 3, 3))
    scores = np.zeros((4, 3, 3))
    truth[:, 0, 1] = [1, 1, 0, 0]
    scores[:, 0, 1] = [0.9, 0.4, 0.5, 0.1]  # 0.9 > both, 0.4 > 0.1 only -> 3 / 4
    truth[:, 1, 2] = [1, 0, 0, 0]
    scores[:, 1, 2] = [0.2, 0.3, 0.2, 0.1]  # 0.2: win, tie, loss -> 1.5 / 3
    truth[:, 2, 0] = 1  # homogeneous slot: skipped, whatever its scores
    scores[:, 2, 0] = [0.0, 5.0, -3.0, 1.0]
    expected = (3 / 4 + 1.5 / 3) / 2
    assert heterogeneity_auroc(truth, scores) == pytest.approx(expected)
    # orientation: slot (0, 1) is 0 -> 1; moving its scores to (1, 0) changes it
    swapped = scores.copy()
    swapped[:, 1, 0], swapped[:, 0, 1] = scores[:, 0, 1], 0.0
    assert heterogeneity_auroc(truth, swapped) == pytest.approx((0.5 + 0.5) / 2)
    # diagonal ignored even when it varies across shops
    truth[:, 0, 0] = [1, 0, 1, 0]
    scores[:, 0, 0] = [np.nan, 0, 0, 0]
    assert heterogeneity_auroc(truth, scores) == pytest.approx(expected)


def test_heterogeneity_matches_roc_auc_score_per_slot():
    truth = _heterogeneous_truth(3)
    scores = np.random.default_rng(3).integers(0, 3, size=truth.shape).astype(float)
    d = truth.shape[-1]
    expected = [
        roc_auc_score(truth[:, i, j], scores[:, i, j])
        for i in range(d)
        for j in range(d)
        if i != j and 0 < truth[:, i, j].sum() < truth.shape[0]
    ]
    assert heterogeneity_auroc(truth, scores) == pytest.approx(np.mean(expected))


def test_heterogeneity_no_varying_slot_raises():
    same = np.broadcast_to(CHAIN, (5, 3, 3))
    with pytest.raises(ValueError, match="no edge slot"):
        heterogeneity_auroc(same, np.random.default_rng(0).random((5, 3, 3)))
    with pytest.raises(ValueError, match="1 shop"):
        heterogeneity_auroc(CHAIN, CHAIN_SCORES)


# ---------------------------------------------------------------------------
# structural_hamming_distance and f1_edges
# ---------------------------------------------------------------------------


def test_shd_hand_computed():
    pred = np.array(
        [
            [0, 0, 1],  # 0->1 missing, 0->2 extra
            [0, 0, 0],
            [0, 1, 0],  # 1->2 reversed: counts once
        ]
    )
    assert structural_hamming_distance(CHAIN, pred) == 3.0
    assert structural_hamming_distance(CHAIN, CHAIN) == 0.0
    # the reverse of a 2-edge chain: 2 reversals, not 4 errors
    assert structural_hamming_distance(CHAIN, CHAIN.T) == 2.0


def test_shd_two_cycle_and_per_shop():
    two_cycle = np.array([[0, 1], [1, 0]])
    one_edge = np.array([[0, 1], [0, 0]])
    empty = np.zeros((2, 2))
    truth = np.stack([two_cycle, one_edge, one_edge])
    pred = np.stack([one_edge, one_edge, empty])
    np.testing.assert_array_equal(
        structural_hamming_distance(truth, pred, average=False), [1.0, 0.0, 1.0]
    )
    assert structural_hamming_distance(truth, pred) == pytest.approx(2 / 3)


def test_shd_ignores_diagonal_and_is_bounded():
    truth = CHAIN.copy()
    np.fill_diagonal(truth, 1)
    assert structural_hamming_distance(truth, CHAIN) == 0.0
    complete = 1 - np.eye(4)
    assert structural_hamming_distance(complete, np.zeros((4, 4))) == 6.0


def test_shd_requires_binary_prediction():
    with pytest.raises(ValueError, match="predicted_adjacency must be binary"):
        structural_hamming_distance(CHAIN, CHAIN_SCORES)


def test_f1_edges_hand_computed():
    pred = np.array(
        [
            [0, 1, 1],  # TP 0->1, FP 0->2
            [0, 0, 0],  # FN 1->2
            [0, 0, 0],
        ]
    )
    assert f1_edges(CHAIN, pred) == pytest.approx(2 / 4)
    assert f1_edges(CHAIN, CHAIN) == 1.0
    # a reversed edge is a false positive and a false negative
    assert f1_edges(CHAIN, CHAIN.T) == 0.0


def test_f1_edges_skips_undefined_shops():
    empty = np.zeros((3, 3))
    truth = np.stack([CHAIN, empty, empty])
    pred = np.stack([CHAIN, empty, CHAIN])
    # shop 1: no true and no predicted edge -> undefined; shop 2: F1 = 0
    np.testing.assert_allclose(f1_edges(truth, pred, average=False), [1, np.nan, 0])
    assert f1_edges(truth, pred) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="f1_edges is undefined"):
        f1_edges(np.stack([empty, empty]), np.stack([empty, empty]))


# ---------------------------------------------------------------------------
# mse_at_horizon
# ---------------------------------------------------------------------------

Y_TRUE = np.array(
    [
        [1.0, 2.0, 3.0],
        [2.0, np.nan, 1.0],
        [0.0, 4.0, np.nan],
    ]
)
Y_PRED = np.array(
    [
        [2.0, 2.0, 0.0],  # errors 1, 0, 3
        [0.0, 100.0, 1.0],  # errors 2, -, 0
        [0.0, 1.0, np.nan],  # errors 0, 3, -
    ]
)
# h=1: (1 + 4 + 0) / 3; h=2: (0 + 9) / 2; h=3: (9 + 0) / 2
MSE_EXPECTED = [5 / 3, 4.5, 4.5]


def test_mse_at_horizon_hand_computed_with_nan():
    np.testing.assert_allclose(mse_at_horizon(Y_TRUE, Y_PRED), MSE_EXPECTED)
    for h in (1, 2, 3):
        result = mse_at_horizon(Y_TRUE, Y_PRED, horizon=h)
        assert isinstance(result, float)
        assert result == pytest.approx(MSE_EXPECTED[h - 1])
    assert mse_at_horizon(Y_TRUE, Y_PRED, np.int64(2)) == pytest.approx(4.5)


def test_mse_at_horizon_3d_is_flattened():
    y_true = np.concatenate([Y_TRUE, Y_TRUE[:1]]).reshape(2, 2, 3)
    y_pred = np.concatenate([Y_PRED, Y_PRED[:1]]).reshape(2, 2, 3)
    # h=1: (1 + 4 + 0 + 1) / 4; h=2: (0 + 9 + 0) / 3; h=3: (9 + 0 + 9) / 3
    np.testing.assert_allclose(mse_at_horizon(y_true, y_pred), [1.5, 3.0, 6.0])


def test_mse_at_horizon_bad_horizon():
    with pytest.raises(ValueError, match=r"horizon must be in \[1, 3\].*got 0"):
        mse_at_horizon(Y_TRUE, Y_PRED, horizon=0)
    with pytest.raises(ValueError, match="got 4"):
        mse_at_horizon(Y_TRUE, Y_PRED, horizon=4)
    for bad in (1.0, True, "1"):
        with pytest.raises(TypeError, match="horizon must be an int"):
            mse_at_horizon(Y_TRUE, Y_PRED, horizon=bad)


def test_mse_at_horizon_empty_horizon_raises():
    y_true = Y_TRUE.copy()
    y_true[:, 1] = np.nan
    with pytest.raises(ValueError, match="horizon 2 has no target"):
        mse_at_horizon(y_true, Y_PRED)
    with pytest.raises(ValueError, match="horizon 2 has no target"):
        mse_at_horizon(y_true, Y_PRED, horizon=2)
    assert mse_at_horizon(y_true, Y_PRED, horizon=1) == pytest.approx(5 / 3)


def test_mse_at_horizon_input_errors():
    with pytest.raises(ValueError, match=r"same shape.*\(3, 3\) and \(3, 2\)"):
        mse_at_horizon(Y_TRUE, Y_PRED[:, :2])
    with pytest.raises(ValueError, match=r"y_true must have shape.*\(3,\)"):
        mse_at_horizon(Y_TRUE[0], Y_PRED[0])
    y_pred = Y_PRED.copy()
    y_pred[0, 1] = np.nan  # y_true observed there
    with pytest.raises(ValueError, match="y_pred must be finite.*horizon 2"):
        mse_at_horizon(Y_TRUE, y_pred)
    y_true = Y_TRUE.copy()
    y_true[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        mse_at_horizon(y_true, Y_PRED)


# ---------------------------------------------------------------------------
# Validation shared by the graph metrics
# ---------------------------------------------------------------------------

SCORE_METRICS = [edge_auroc, pooled_edge_auroc, edge_auprc, heterogeneity_auroc]
BINARY_METRICS = [structural_hamming_distance, f1_edges]


@pytest.mark.parametrize("metric", SCORE_METRICS + BINARY_METRICS)
def test_shape_errors_name_argument_and_shape(metric):
    truth = np.stack([CHAIN, 1 - CHAIN])
    other = truth.copy()
    other_name = "scores" if metric in SCORE_METRICS else "predicted_adjacency"
    with pytest.raises(ValueError, match=r"true_adjacency must have shape.*\(3,\)"):
        metric(CHAIN[0], other)
    with pytest.raises(ValueError, match=rf"{other_name} must have shape.*\(2, 3, 2\)"):
        metric(truth, other[:, :, :2])
    with pytest.raises(ValueError, match=r"got shape \(1, 2, 3, 3\)"):
        metric(truth[None], other)
    with pytest.raises(
        ValueError,
        match=rf"true_adjacency and {other_name} must have the same shape, "
        r"got \(2, 3, 3\) and \(1, 3, 3\)",
    ):
        metric(truth, other[:1])
    with pytest.raises(ValueError, match="at least 2 nodes"):
        metric(np.ones((2, 1, 1)), np.ones((2, 1, 1)))


@pytest.mark.parametrize("metric", SCORE_METRICS + BINARY_METRICS)
def test_truth_must_be_binary(metric):
    truth = np.stack([CHAIN, 1 - CHAIN]).astype(float)
    truth[1, 2, 0] = 0.5
    with pytest.raises(
        ValueError,
        match=r"true_adjacency must be binary.*0\.5 at shop 1, edge 2 -> 0",
    ):
        metric(truth, np.stack([CHAIN, CHAIN]))


@pytest.mark.parametrize("metric", SCORE_METRICS + BINARY_METRICS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_off_diagonal_must_be_finite(metric, bad):
    truth = np.stack([CHAIN, 1 - CHAIN]).astype(float)
    other = np.stack([CHAIN, CHAIN]).astype(float)
    other[0, 1, 2] = bad
    other_name = "scores" if metric in SCORE_METRICS else "predicted_adjacency"
    with pytest.raises(
        ValueError, match=rf"{other_name} must be finite.*shop 0, edge 1 -> 2"
    ):
        metric(truth, other)
    with pytest.raises(ValueError, match="true_adjacency must be finite"):
        metric(other, truth)


@pytest.mark.parametrize("metric", SCORE_METRICS + BINARY_METRICS)
def test_non_numeric_input_raises(metric):
    with pytest.raises(ValueError, match="true_adjacency must be an array of real"):
        metric([["a", "b"], ["c", "d"]], np.zeros((2, 2)))


@pytest.mark.parametrize("metric", [edge_auroc, edge_auprc, f1_edges])
def test_average_must_be_bool(metric):
    with pytest.raises(TypeError, match="average must be a bool"):
        metric(CHAIN, CHAIN, average="yes")


@pytest.mark.parametrize(
    "metric, other",
    [(m, "scores") for m in SCORE_METRICS] + [(m, "binary") for m in BINARY_METRICS],
)
def test_inputs_not_modified_and_lists_accepted(metric, other):
    truth = _heterogeneous_truth(1).astype(float)
    np.fill_diagonal(truth[0], np.nan)  # diagonal NaN is allowed and left alone
    if other == "scores":
        values = np.random.default_rng(1).random(truth.shape)
    else:
        values = np.random.default_rng(1).integers(0, 2, truth.shape).astype(float)
    truth_copy, values_copy = truth.copy(), values.copy()
    truth.flags.writeable = False
    values.flags.writeable = False
    result = metric(truth, values)
    np.testing.assert_array_equal(truth, truth_copy)
    np.testing.assert_array_equal(values, values_copy)
    assert metric(truth.tolist(), values.tolist()) == pytest.approx(result, nan_ok=True)


def test_mse_inputs_not_modified():
    y_true, y_pred = Y_TRUE.copy(), Y_PRED.copy()
    y_true.flags.writeable = False
    y_pred.flags.writeable = False
    mse_at_horizon(y_true, y_pred)
    np.testing.assert_array_equal(y_true, Y_TRUE)
    np.testing.assert_array_equal(y_pred, Y_PRED)

import logging

import numpy as np
import pytest

from sklearn_causalmmm import CausalGraphDiscoverer
from sklearn_causalmmm._causalmmm.selection import (
    GrangerEvidence,
    choose_graph_source,
    shop_lag_order,
    shop_wald_statistics,
    sqrt_statistic_variance,
    time_blocks,
)
from sklearn_causalmmm.baselines import LinearGrangerDiscoverer
from sklearn_causalmmm.datasets import make_discovery_zoo
from sklearn_causalmmm.metrics import edge_auroc


def _chain(n_shops, n_steps, seed, strength=0.6):
    """Node 0 -> 1 in every shop; node 1 -> 2 only in the first half of them."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n_shops, 3, n_steps)
    for t in range(1, n_steps):
        x[:, 1, t] += strength * x[:, 0, t - 1]
        x[: n_shops // 2, 2, t] += strength * x[: n_shops // 2, 1, t - 1]
    return x


def test_shop_wald_statistic_is_the_drop_in_residual_sum_of_squares():
    x = _chain(2, 120, 0)
    mask = np.ones((2, 120), dtype=bool)
    statistics, n_rows = shop_wald_statistics(x, mask, 2)
    np.testing.assert_array_equal(n_rows, [118, 118])
    # by hand, shop 1, edge 0 -> 1: z-score, regress node 1 on the 2 lags of
    # every node with and without node 0's lags
    z = (x[1] - x[1].mean(axis=1, keepdims=True)) / x[1].std(axis=1, keepdims=True)
    lags = {i: np.column_stack([z[i, 1:-1], z[i, :-2]]) for i in range(3)}
    target = z[1, 2:]

    def rss(design):
        coefficients = np.linalg.lstsq(design, target, rcond=None)[0]
        return ((target - design @ coefficients) ** 2).sum()

    full = rss(np.column_stack([lags[0], lags[1], lags[2]]))
    restricted = rss(np.column_stack([lags[1], lags[2]]))
    expected = (restricted - full) / (full / (118 - 6))
    np.testing.assert_allclose(statistics[1, 0, 1], expected, rtol=1e-4)
    assert (np.diagonal(statistics, axis1=1, axis2=2) == 0).all()


def test_shop_too_short_for_its_var_gets_nan():
    x = _chain(2, 40, 0)
    mask = np.ones((2, 40), dtype=bool)
    mask[1, 5:] = False  # 5 observed steps: 3 rows for 6 unknowns
    statistics, _ = shop_wald_statistics(x, mask, 2)
    assert np.isfinite(statistics[0]).all() and np.isnan(statistics[1]).all()


def test_shop_lag_order_is_lowered_for_short_shops():
    mask = np.ones((4, 100), dtype=bool)
    # 8 nodes: L lags need 100 - L >= 2 * 8 * L, so at most 5
    assert shop_lag_order(mask, 8, 10) == 5
    assert shop_lag_order(mask, 8, 3) == 3
    assert shop_lag_order(mask[:, :10], 8, 3) == 1


def test_heterogeneity_separates_shared_from_shop_specific_edges():
    x = _chain(40, 150, 1)
    evidence = GrangerEvidence(n_lags=1).fit(x, np.ones((40, 150), dtype=bool))
    share = evidence.heterogeneity_
    assert share[1, 2] > 0.8  # in half of the shops only
    assert share[0, 1] < 0.5  # in every shop, one strength
    assert share[2, 0] < 0.3  # in no shop
    np.testing.assert_array_equal(np.diagonal(share), 0.0)


def test_sqrt_statistic_variance_by_hand_and_by_simulation():
    # no edge: sqrt(chi2_1) = |z|, variance 1 - 2 / pi; sqrt(chi2_2) is
    # Rayleigh, variance 2 - pi / 2; a strong edge: sqrt(lambda) + z, 1
    np.testing.assert_allclose(sqrt_statistic_variance(1.0, 1), 1 - 2 / np.pi)
    np.testing.assert_allclose(sqrt_statistic_variance(2.0, 2), 2 - np.pi / 2)
    np.testing.assert_allclose(sqrt_statistic_variance(1e5, 1), 1.0, atol=1e-3)
    # a mean below the degrees of freedom is read as no edge
    np.testing.assert_allclose(sqrt_statistic_variance(0.5, 1), 1 - 2 / np.pi)
    # the estimated residual variance adds mean / (2 dof)
    np.testing.assert_allclose(
        sqrt_statistic_variance(np.array([3.0, 40.0]), 2, 50.0)
        - sqrt_statistic_variance(np.array([3.0, 40.0]), 2),
        [3.0 / 100.0, 40.0 / 100.0],
    )
    # Patnaik's approximation against non-central chi-square draws
    rng = np.random.RandomState(0)
    for n_lags, centrality in [(1, 4.0), (3, 10.0), (5, 50.0)]:
        draws = rng.noncentral_chisquare(n_lags, centrality, 100_000)
        np.testing.assert_allclose(
            np.sqrt(draws).var(),
            sqrt_statistic_variance(n_lags + centrality, n_lags),
            rtol=0.2,
        )


@pytest.mark.parametrize(
    ("family", "n_lags", "follows"),
    [
        # one network for every subject; the VAR misses the haemodynamic
        # blur, and non-edges get large statistics in a few subjects
        ("netsim", 3, "pooled_granger"),
        # every shop its own graph
        ("own_graph", 1, "shop_granger"),
    ],
)
def test_partial_pooling_follows_the_better_of_shop_and_panel(family, n_lags, follows):
    data = make_discovery_zoo(family, n_shops=20, random_state=0)
    x, truth = data.X, data.adjacency
    mask = np.ones((x.shape[0], x.shape[-1]), dtype=bool)
    evidence = GrangerEvidence(n_lags=n_lags).fit(x, mask)
    auroc = {
        source: edge_auroc(truth, evidence.graphs(x, mask, source))
        for source in ("shop_granger", "pooled_granger", "partial_granger")
    }
    other = ({"shop_granger", "pooled_granger"} - {follows}).pop()
    assert auroc[follows] > auroc[other] + 0.2
    # the partial pooling is nearer the better estimate than the worse one
    partial = auroc["partial_granger"]
    assert partial - auroc[other] > abs(auroc[follows] - partial)


def test_partial_pooling_is_the_heterogeneity_weighted_mean_of_shop_and_panel():
    x = _chain(20, 100, 2)
    mask = np.ones((20, 100), dtype=bool)
    evidence = GrangerEvidence(n_lags=1).fit(x, mask)
    own, _ = evidence.statistics(x, mask, "shop_granger")
    pooled, _ = evidence.statistics(x, mask, "pooled_granger")
    partial, _ = evidence.statistics(x, mask, "partial_granger")
    share = evidence.heterogeneity_
    np.testing.assert_allclose(partial, share * own + (1 - share) * pooled)
    np.testing.assert_allclose(pooled[3], own.mean(axis=0))
    # Schwarz: W / 2 - (L / 2) log n on the prior's log odds
    graphs = evidence.graphs(x, mask, "shop_granger")
    expected = 1 / (1 + 4 * np.exp(-(own[0, 0, 1] / 2 - 0.5 * np.log(99))))
    np.testing.assert_allclose(graphs[0, 0, 1], expected)
    with pytest.raises(ValueError, match="source must be one of"):
        evidence.statistics(x, mask, "encoder")


def test_time_blocks_cut_each_shops_observed_steps():
    mask = np.ones((2, 10), dtype=bool)
    mask[1, :5] = False
    blocks = time_blocks(mask, 2)
    assert blocks[0][0].tolist() == [True] * 5 + [False] * 5
    assert blocks[1][1].tolist() == [False] * 8 + [True] * 2
    np.testing.assert_array_equal(blocks[0] | blocks[1], mask)
    assert not (blocks[0] & blocks[1]).any()


@pytest.mark.parametrize(
    ("family", "better", "worse"),
    [
        # one network for every subject: averaging over shops wins
        ("netsim", "pooled_granger", "shop_granger"),
        # every shop its own graph: each shop's own statistics win
        ("dense", "shop_granger", "pooled_granger"),
    ],
)
def test_held_out_error_picks_the_better_granger_estimate(family, better, worse):
    data = make_discovery_zoo(family, n_shops=20, random_state=0)
    x, truth = data.X, data.adjacency
    mask = np.ones((x.shape[0], x.shape[-1]), dtype=bool)

    def estimate(source):
        def graphs(train_mask):
            evidence = GrangerEvidence(n_lags=2).fit(x, train_mask)
            return evidence.graphs(x, train_mask, source)

        return graphs

    candidates = {s: estimate(s) for s in (better, worse)}
    source, errors, per_shop = choose_graph_source(x, mask, candidates, 2)
    assert source == better
    assert errors[better] < errors[worse]
    np.testing.assert_allclose(per_shop[better].sum(), errors[better])
    full = GrangerEvidence(n_lags=2).fit(x, mask)
    assert edge_auroc(truth, full.graphs(x, mask, better)) > edge_auroc(
        truth, full.graphs(x, mask, worse)
    )


def test_held_out_error_prefers_the_true_graph_to_a_wrong_one():
    rng = np.random.RandomState(0)
    x = rng.randn(10, 4, 100)
    x[:, 3, 1:] += 0.5 * x[:, 0, :-1]
    truth = np.zeros((10, 4, 4))
    truth[:, 0, 3] = 1
    wrong = np.zeros((10, 4, 4))
    wrong[:, 1, 3] = 1
    mask = np.ones((10, 100), dtype=bool)
    source, errors, _ = choose_graph_source(
        x, mask, {"wrong": wrong, "truth": truth}, 1, max_senders=1
    )
    assert source == "truth"
    # a default is replaced only by a clearly better candidate...
    chosen, _, per_shop = choose_graph_source(
        x, mask, {"wrong": wrong, "truth": truth}, 1, max_senders=1, default="wrong"
    )
    difference = per_shop["truth"] - per_shop["wrong"]
    z = difference.sum() / (difference.std(ddof=1) * np.sqrt(10))
    assert chosen == "truth" and z < -2
    # ...and not by one within the noise: here, a copy of itself
    chosen, errors, _ = choose_graph_source(
        x, mask, {"truth": truth, "copy": truth + 0}, 1, default="copy"
    )
    assert chosen == "copy" and errors["truth"] == errors["copy"]
    # with every sender in the regression, the order no longer matters
    _, errors, _ = choose_graph_source(
        x, mask, {"wrong": wrong, "truth": truth}, 1, n_blocks=2
    )
    assert errors["truth"] < errors["wrong"]


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        # one network for every subject: the graph-type test pools the
        # subjects' series, and the pooled encoder ranks edges far better
        ("netsim", "encoder+partial_granger"),
        # every shop its own graph: the graph types do not hold
        ("dense", "partial_granger"),
    ],
)
def test_discoverer_reports_the_graph_that_ranks_edges_better_on_held_out_steps(
    caplog, family, expected
):
    # an encoder trained for one epoch: its own posteriors are poor, so the
    # choice is between what the pooling and the Granger statistics make of it
    data = make_discovery_zoo(family, n_shops=16, random_state=0)
    discoverer = CausalGraphDiscoverer(hidden=8, max_epochs=1, random_state=0)
    with caplog.at_level(logging.INFO, logger="sklearn_causalmmm.estimators"):
        discoverer.fit(data.X)
    assert discoverer.graph_source_ == expected
    assert "graph source: " in caplog.text
    truth = data.adjacency
    panel = discoverer._to_panel(data.X, None, None)
    granger_graph = discoverer.granger_evidence_.graphs(
        panel.values, panel.mask, "partial_granger"
    )
    pooled_encoder = discoverer._pooled(discoverer.encoder_edge_probabilities_)
    candidates = [edge_auroc(truth, granger_graph), edge_auroc(truth, pooled_encoder)]
    ours = edge_auroc(truth, discoverer.edge_probabilities_)
    # the chosen graph ranks edges better than the one left out (measured:
    # netsim 0.921 against 0.776, dense 0.880 against 0.471)
    assert ours > min(candidates) + 0.1
    assert ours > edge_auroc(truth, discoverer.encoder_edge_probabilities_) + 0.2
    granger = LinearGrangerDiscoverer().fit(data.X).edge_probabilities_
    assert ours >= edge_auroc(truth, granger)
    # new shops get their graph from the same evidence: a round trip
    np.testing.assert_allclose(
        discoverer.predict_graph(data.X), discoverer.edge_probabilities_
    )
    # pooling=None is the encoder alone, with no choice made
    alone = CausalGraphDiscoverer(
        hidden=8, max_epochs=1, pooling=None, random_state=0
    ).fit(data.X)
    assert alone.graph_source_ == "encoder"
    np.testing.assert_array_equal(
        alone.edge_probabilities_, alone.encoder_edge_probabilities_
    )


def test_held_out_error_judges_the_ranking_across_receivers():
    # 0 -> 1 and 2 -> 3 in every shop; nodes 0 and 2 have no sender
    rng = np.random.RandomState(0)
    x = rng.randn(12, 4, 120)
    x[:, 1, 1:] += 0.7 * x[:, 0, :-1]
    x[:, 3, 1:] += 0.7 * x[:, 2, :-1]
    mask = np.ones((12, 120), dtype=bool)
    truth = np.zeros((12, 4, 4))
    truth[:, 0, 1] = truth[:, 2, 3] = 1
    # both put the true sender first for every receiver; "within" also ranks
    # every non-edge into nodes 0 and 2 above the true edges
    right = 0.1 + 0.8 * truth
    within = right.copy()
    within[:, :, [0, 2]] = 0.95
    within[:, [0, 2], [0, 2]] = 0.0
    assert edge_auroc(truth, right) == 1.0
    assert edge_auroc(truth, within) == pytest.approx(0.4)
    chosen, errors, per_shop = choose_graph_source(
        x, mask, {"within": within, "right": right}, 1, default="within"
    )
    assert chosen == "right" and errors["right"] < errors["within"]
    # a receiver's error is the same whichever order its non-senders come in,
    # so the difference is that of the strong edges added late
    np.testing.assert_array_less(per_shop["right"], per_shop["within"])

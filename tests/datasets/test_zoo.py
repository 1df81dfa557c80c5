"""Tests for the discovery zoo, make_discovery_zoo."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kurtosis
from sklearn.metrics import roc_auc_score

from sklearn_causalmmm.datasets import ZOO_FAMILIES, make_discovery_zoo

ROLES = {"media", "funnel", "control", "signed", "target"}
LINEAR = (
    "signed",
    "long_lags",
    "dense",
    "own_graph",
    "one_graph",
    "cycles",
    "contemporaneous",
    "near_deterministic",
    "identical_roots",
    "heavy_tailed",
    "shared_seasonal",
    "released_arrays",
)


def _small(family: str, **kwargs):
    return make_discovery_zoo(
        family, **{"n_shops": 9, "n_steps": 60, "random_state": 0, **kwargs}
    )


def _has_cycle(adjacency: np.ndarray) -> bool:
    reach = adjacency.astype(bool)
    for _ in range(adjacency.shape[0]):
        reach = reach | ((reach.astype(int) @ adjacency.astype(int)) > 0)
    return bool(np.diag(reach).any())


def _lag_design(series: list[np.ndarray], n_lags: int, powers=(1,)) -> np.ndarray:
    n_time = series[0].size
    return np.column_stack(
        [
            s[n_lags - lag : n_time - lag] ** p
            for s in series
            for lag in range(1, n_lags + 1)
            for p in powers
        ]
    )


def _granger_f(
    X: np.ndarray, n_lags: int, powers=(1,), extra: np.ndarray | None = None
) -> np.ndarray:
    """Per-shop OLS Granger F statistic of i -> j given the lags of every node."""
    d, n_time = X.shape
    blocks = [_lag_design([X[i]], n_lags, powers) for i in range(d)]
    base = [np.ones((n_time - n_lags, 1))]
    if extra is not None:
        base.append(extra[n_lags:])
    full = np.column_stack(base + blocks)
    n, p = full.shape
    stat = np.zeros((d, d))
    for j in range(d):
        target = X[j, n_lags:]
        rss = np.sum((target - full @ np.linalg.lstsq(full, target)[0]) ** 2)
        for i in range(d):
            if i == j:
                continue
            reduced = np.column_stack(base + blocks[:i] + blocks[i + 1 :])
            fit = np.linalg.lstsq(reduced, target)[0]
            rss_i = np.sum((target - reduced @ fit) ** 2)
            q = blocks[i].shape[1]
            stat[i, j] = ((rss_i - rss) / q) / (rss / (n - p))
    return stat


def _auroc(stats: np.ndarray, adjacency: np.ndarray) -> float:
    """Edge AUROC over all shops' off-diagonal pairs."""
    off = ~np.eye(adjacency.shape[-1], dtype=bool)
    return roc_auc_score(adjacency[:, off].ravel(), stats[:, off].ravel())


# ----------------------------------------------------------------------------
# Every family
# ----------------------------------------------------------------------------


def test_the_required_families_are_there():
    others = {"non_monotone", "weekly_mmm", "netsim", "netsim_cycles"}
    assert set(ZOO_FAMILIES) == set(LINEAR) | others
    assert len(ZOO_FAMILIES) == len(LINEAR) + len(others)


@pytest.mark.parametrize("family", ZOO_FAMILIES)
def test_layout_of_every_family(family):
    data = _small(family)
    n_shops, d, n_steps = data.X.shape
    assert (n_shops, n_steps) == (9, 60)
    assert data.X.dtype == np.float64 and np.isfinite(data.X).all()
    assert data.adjacency.shape == (9, d, d) and data.adjacency.dtype == np.int64
    assert set(np.unique(data.adjacency)) <= {0, 1}
    assert not data.adjacency[:, np.arange(d), np.arange(d)].any()
    assert data.adjacency.any()
    assert len(data.node_names) == len(set(data.node_names)) == d
    assert len(data.roles) == d and set(data.roles) <= ROLES
    assert data.roles.count("target") <= 1
    if "target" in data.roles:
        assert data.roles[-1] == "target"
    # Media nodes are non-negative and nothing drives them.
    media = [k for k, role in enumerate(data.roles) if role == "media"]
    assert (data.X[:, media] >= 0).all()
    assert not data.adjacency[:, :, media].any()
    # Shops of one graph type share their graph.
    for r in np.unique(data.graph_type):
        graphs = data.adjacency[data.graph_type == r]
        assert (graphs == graphs[0]).all()
    assert data.family == family and len(data.description) > 80
    if "var_coef" in data:
        lags = data.var_coef.shape[1]
        assert lags <= data.max_lag
        acts = (data.var_coef != 0).any(axis=1)
        acts[:, np.arange(d), np.arange(d)] = False
        if family != "contemporaneous":  # its truth is derived below
            np.testing.assert_array_equal(acts, data.adjacency.astype(bool))


@pytest.mark.parametrize("family", ZOO_FAMILIES)
def test_every_family_is_reproducible_and_seeded(family):
    a = _small(family, n_shops=4)
    b = _small(family, n_shops=4)
    c = _small(family, n_shops=4, random_state=1)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.adjacency, b.adjacency)
    assert not np.array_equal(a.X, c.X)


def test_one_seed_gives_independent_families():
    a = make_discovery_zoo("one_graph", n_shops=3, n_steps=40, random_state=0)
    b = make_discovery_zoo("signed", n_shops=3, n_steps=40, random_state=0)
    assert abs(np.corrcoef(a.X.ravel(), b.X.ravel())[0, 1]) < 0.2


@pytest.mark.parametrize(
    "family, n_nodes", [("signed", 5), ("dense", 9), ("netsim", 15), ("weekly_mmm", 12)]
)
def test_n_nodes_sets_the_number_of_nodes(family, n_nodes):
    data = make_discovery_zoo(
        family, n_shops=3, n_nodes=n_nodes, n_steps=40, random_state=0
    )
    assert data.X.shape[1] == n_nodes == data.adjacency.shape[1]


def test_default_sizes():
    data = make_discovery_zoo("netsim_cycles", n_shops=2, random_state=0)
    assert data.X.shape == (2, 5, 500)
    data = make_discovery_zoo("released_arrays", n_steps=20, random_state=0)
    assert data.X.shape == (300, 8, 20)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"family": "sim1"}, "family must be one of"),
        ({"family": "released_arrays", "n_nodes": 9}, "has 8 nodes"),
        ({"family": "signed", "n_nodes": 2}, "n_nodes"),
        ({"family": "signed", "n_shops": 0}, "n_shops"),
        ({"family": "signed", "n_steps": 1}, "n_steps"),
        ({"family": "signed", "random_state": "x"}, "random_state"),
    ],
)
def test_bad_arguments_raise_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_discovery_zoo(**kwargs)


# ----------------------------------------------------------------------------
# What each family stresses
# ----------------------------------------------------------------------------


def test_signed_series_are_standardised_and_half_negative():
    X = _small("signed").X
    np.testing.assert_allclose(X.mean(axis=2), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=2), 1.0, rtol=1e-12)
    assert 0.4 < (X < 0).mean() < 0.6


def test_long_lags_act_beyond_lag_five_with_mixed_signs():
    data = _small("long_lags", n_shops=30)
    coef = data.var_coef
    assert coef.shape[1] == data.max_lag == 10
    d = coef.shape[-1]
    off = ~np.eye(d, dtype=bool)
    edges = data.adjacency.astype(bool) & off
    late_only, mixed = 0, 0
    for s, i, j in np.argwhere(edges):
        lags = coef[s, :, i, j]
        late_only += not lags[:5].any()
        mixed += (lags > 0).any() and (lags < 0).any()
    assert late_only > 0.2 * edges.sum()
    assert mixed == edges.sum()


def test_dense_graphs_have_over_half_the_edges():
    adjacency = _small("dense").adjacency
    d = adjacency.shape[-1]
    density = adjacency.sum(axis=(1, 2)) / (d * (d - 1))
    assert (density > 0.5).all()


def test_own_graph_gives_mostly_distinct_graphs_and_one_graph_a_single_one():
    own = _small("own_graph", n_shops=40).adjacency
    assert len({g.tobytes() for g in own}) > 0.9 * 40
    one = _small("one_graph", n_shops=40)
    assert (one.adjacency == one.adjacency[0]).all()
    assert (one.graph_type == 0).all()
    # Coefficients still differ between shops.
    assert not np.allclose(one.var_coef[0], one.var_coef[1])


@pytest.mark.parametrize("family", ["cycles", "netsim_cycles"])
def test_cycle_families_have_a_directed_cycle_in_every_shop(family):
    adjacency = _small(family).adjacency
    assert all(_has_cycle(g) for g in adjacency)


def test_contemporaneous_truth_is_the_lagged_part_through_same_step_paths():
    data = _small("contemporaneous", n_shops=30)
    same, lagged = data.contemporaneous_adjacency, data.lagged_adjacency
    assert same.any()
    for s in range(30):
        reach = np.eye(same.shape[-1], dtype=int) + same[s]
        for _ in range(same.shape[-1]):
            reach = (reach @ (np.eye(same.shape[-1], dtype=int) + same[s])) > 0
            reach = reach.astype(int)
        expected = (lagged[s] @ reach) > 0
        np.fill_diagonal(expected, False)
        np.testing.assert_array_equal(data.adjacency[s], expected)
        # The truth equals where the reduced-form coefficients are non-zero.
        acts = data.var_coef[s, 0] != 0
        np.fill_diagonal(acts, False)
        np.testing.assert_array_equal(acts, expected)
    # Same-step edges alone are not Granger edges.
    only_same = same.astype(bool) & ~data.adjacency.astype(bool)
    assert only_same.any()


def test_near_deterministic_children_follow_their_parents_almost_exactly():
    data = _small("near_deterministic", n_steps=200)
    X, adjacency = data.X, data.adjacency
    checked = 0
    for s in range(3):
        for j in np.flatnonzero(adjacency[s].any(axis=0)):
            parents = [X[s, i] for i in np.flatnonzero(adjacency[s, :, j])]
            design = _lag_design(parents, data.max_lag)
            target = X[s, j, data.max_lag :]
            resid = target - design @ np.linalg.lstsq(design, target)[0]
            assert 1 - resid.var() / target.var() > 0.99
            checked += 1
    assert checked >= 3


def test_identical_roots_are_the_same_national_campaigns_in_every_shop():
    data = _small("identical_roots")
    roots = [k for k, role in enumerate(data.roles) if role == "media"]
    assert len(roots) == 3
    assert (data.X[:, roots] == data.X[:1, roots]).all()
    assert (data.X[:, roots] >= 0).all()
    others = [k for k in range(data.X.shape[1]) if k not in roots]
    assert not (data.X[:, others] == data.X[:1, others]).all()


def test_heavy_tailed_series_have_kurtosis_well_above_normal():
    X = make_discovery_zoo("heavy_tailed", n_shops=20, random_state=0).X
    k = kurtosis(X, axis=2, fisher=False)
    assert np.median(k) > 5.0
    light = make_discovery_zoo("signed", n_shops=20, random_state=0).X
    assert np.median(kurtosis(light, axis=2, fisher=False)) < 3.5


def test_non_monotone_edges_escape_linear_tests_but_not_cubic_ones():
    data = make_discovery_zoo("non_monotone", n_shops=6, n_steps=600, random_state=0)
    linear = np.stack([_granger_f(x, 1) for x in data.X])
    cubic = np.stack([_granger_f(x, 1, powers=(1, 2, 3)) for x in data.X])
    assert _auroc(cubic, data.adjacency) > 0.9
    assert _auroc(linear, data.adjacency) < _auroc(cubic, data.adjacency) - 0.2
    kinds = data.response_kind[data.adjacency.astype(bool)]
    assert set(kinds) == {0, 1, 2}


def test_shared_seasonal_component_is_common_to_all_nodes():
    data = _small("shared_seasonal", n_shops=40, n_steps=70)
    period = data.seasonal_period
    mean = data.X.mean(axis=0)  # average over shops: the shared component
    phase = mean.reshape(mean.shape[0], -1, period).mean(axis=1)
    corr = np.corrcoef(phase)
    assert corr[np.triu_indices_from(corr, k=1)].min() > 0.9


def test_weekly_mmm_family_is_the_weekly_simulator():
    data = _small("weekly_mmm")
    assert data.roles == ["media"] * 5 + ["funnel"] * 2 + ["control"] * 2 + ["target"]
    np.testing.assert_array_equal(data.X[:, :-1], data.mmm.X)
    np.testing.assert_array_equal(data.X[:, -1], data.mmm.y)
    np.testing.assert_array_equal(data.adjacency, data.mmm.adjacency)
    assert data.node_names[-1] == "revenue"


def test_released_arrays_look_like_the_authors_file():
    data = make_discovery_zoo("released_arrays", n_shops=30, random_state=0)
    assert data.X.shape == (30, 8, 100)
    assert sorted(g.sum() for g in data.graph_types) == [10, 13, 14]
    assert np.bincount(data.graph_type).tolist() == [10, 10, 10]
    assert not data.adjacency[:, :, :5].any()  # nodes 0-4 are roots
    assert not data.adjacency[:, 7].any()  # GMV drives nothing
    assert data.roles[-1] == "target" and data.node_names[-1] == "gmv"
    assert (data.X[:, :5] == data.X[:1, :5]).all()
    np.testing.assert_allclose(data.X.mean(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X.std(axis=(0, 2)), 1.0, rtol=1e-12)
    # Children: a linear fit on 8 lags of the true parents plus 2 own lags
    # explains most of their variance; non-parents do much worse.
    for s in range(3):
        x, adjacency = data.X[s], data.adjacency[s]
        for j in (5, 6):
            parents = list(np.flatnonzero(adjacency[:, j]))
            others = [i for i in range(7) if i not in parents and i != j][:3]
            target = x[j, 8:]

            def r2(sources, target=target, x=x, j=j):
                design = np.column_stack(
                    [
                        _lag_design([x[i] for i in sources], 8),
                        _lag_design([x[j]], 8)[:, :2],
                    ]
                )
                resid = target - design @ np.linalg.lstsq(design, target)[0]
                return 1 - resid.var() / target.var()

            assert r2(parents) > 0.9
            assert r2(others) < r2(parents) - 0.1


def test_netsim_shares_one_smoothed_network():
    data = make_discovery_zoo("netsim", n_shops=6, random_state=0)
    assert data.X.shape == (6, 5, 200)
    expected = np.zeros((5, 5), dtype=int)
    expected[[0, 1, 2, 3, 0], [1, 2, 3, 4, 4]] = 1
    assert (data.adjacency == expected).all()
    x = data.X
    lag1 = (x[:, :, 1:] * x[:, :, :-1]).mean(axis=2)
    assert np.median(lag1) > 0.5  # haemodynamic smoothing
    np.testing.assert_allclose(x.std(axis=2), 1.0, rtol=1e-12)


# ----------------------------------------------------------------------------
# The truth is the Granger truth
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("family", LINEAR)
def test_granger_f_test_separates_edges_from_non_edges_with_long_series(family):
    data = make_discovery_zoo(family, n_shops=6, n_steps=600, random_state=1)
    extra = None
    if family == "shared_seasonal":
        period = data.seasonal_period
        extra = np.eye(period)[np.arange(600) % period][:, 1:]
    stats = np.stack([_granger_f(x, data.max_lag, extra=extra) for x in data.X])
    assert _auroc(stats, data.adjacency) > 0.9


def test_long_lags_need_the_long_lag_order():
    data = make_discovery_zoo("long_lags", n_shops=6, n_steps=600, random_state=1)
    short = np.stack([_granger_f(x, 2) for x in data.X])
    full = np.stack([_granger_f(x, 10) for x in data.X])
    assert _auroc(short, data.adjacency) < _auroc(full, data.adjacency) - 0.1


def test_netsim_edges_emerge_when_subjects_are_pooled():
    data = make_discovery_zoo("netsim", random_state=0)
    stats = np.stack([_granger_f(x, 2) for x in data.X])
    pooled = np.broadcast_to(stats.mean(axis=0), stats.shape)
    assert _auroc(pooled, data.adjacency) > 0.8
    assert _auroc(stats, data.adjacency) < _auroc(pooled, data.adjacency)

"""Tests for the daily simulator, make_causal_mmm."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from sklearn_causalmmm.datasets import SIMULATION_SETTINGS, make_causal_mmm

ARRAY_KEYS = (
    "X",
    "y",
    "context",
    "adjacency",
    "graph_type",
    "graph_types",
    "contributions",
    "hill_alpha",
    "hill_half_saturation",
    "decay",
    "adstock_kernel",
    "edge_weight",
    "baseline",
)


def _nodes(data) -> np.ndarray:
    """All node series, GMV last: (n_shops, d, n_steps)."""
    return np.concatenate([data.X, data.y[:, None]], axis=1)


def _reach(adjacency: np.ndarray) -> np.ndarray:
    """reach[i, j]: a directed path (length >= 1) leads i -> j."""
    d = adjacency.shape[0]
    reach = adjacency.astype(bool)
    for _ in range(d):
        reach = reach | ((reach.astype(int) @ adjacency.astype(int)) > 0)
    return reach


def _lagged_r2(target: np.ndarray, predictors: list, n_lags: int = 3) -> float:
    """R^2 of a least-squares fit of target[t] on lags 1..n_lags of all series."""
    n = target.size
    columns = [np.ones(n - n_lags)]
    for series in [target, *predictors]:
        for lag in range(1, n_lags + 1):
            columns.append(series[n_lags - lag : n - lag])
    design = np.column_stack(columns)
    coef, *_ = np.linalg.lstsq(design, target[n_lags:], rcond=None)
    resid = target[n_lags:] - design @ coef
    return 1.0 - resid.var() / target[n_lags:].var()


def _hill_effect(data, s: int, i: int, j: int, parent: np.ndarray, mean: float):
    """Documented edge response w * u^a / (u^a + g^a), u = adstock / shop mean."""
    kernel = data.adstock_kernel[s, i, j]
    u = np.zeros_like(parent)
    for lag in range(1, kernel.size + 1):
        u[lag:] += kernel[lag - 1] * parent[:-lag] / mean
    a, g = data.hill_alpha[s, i, j], data.hill_half_saturation[s, i, j]
    return data.edge_weight[s, i, j] * u**a / (u**a + g**a)


# ----------------------------------------------------------------------------
# make_causal_mmm: layout
# ----------------------------------------------------------------------------


def test_shapes_dtypes_and_names():
    data = make_causal_mmm(
        n_shops=12, n_channels=5, n_funnel=2, n_steps=30, n_context=3, random_state=0
    )
    d = 8
    assert data.X.shape == (12, 7, 30) and data.X.dtype == np.float64
    assert data.y.shape == (12, 30) and data.y.dtype == np.float64
    assert data.context.shape == (12, 3)
    assert ((data.context >= 0) & (data.context <= 1)).all()
    assert data.adjacency.shape == (12, d, d)
    assert np.issubdtype(data.adjacency.dtype, np.integer)
    assert set(np.unique(data.adjacency)) <= {0, 1}
    assert data.graph_type.shape == (12,)
    assert data.graph_types.shape == (3, d, d)
    assert data.contributions.shape == (12, 5, 30)
    for key in ("hill_alpha", "hill_half_saturation", "decay", "edge_weight"):
        assert data[key].shape == (12, d, d)
    assert data.adstock_kernel.shape == (12, d, d, 3)
    assert data.hill_alpha_weights.shape == (d, d, 3)
    assert data.node_names == [
        "brand",
        "display",
        "video",
        "feed",
        "search",
        "pv",
        "clicks",
        "gmv",
    ]
    assert data.channel_names == data.node_names[:5]
    assert data.funnel_names == ["pv", "clicks"]
    assert data.feature_names == data.node_names[:-1]
    assert data.context_names == ["context_0", "context_1", "context_2"]
    assert "frame" not in data
    assert "12 shops" in data.DESCR and "3 causal graph types" in data.DESCR


def test_names_fall_back_beyond_known_ones():
    data = make_causal_mmm(
        n_shops=2,
        n_channels=8,
        n_funnel=5,
        n_steps=5,
        n_graph_types=1,
        random_state=0,
    )
    assert data.channel_names == [
        "brand",
        "display",
        "video",
        "live",
        "feed",
        "search",
        "channel_6",
        "channel_7",
    ]
    assert data.funnel_names == ["pv", "clicks", "add_to_cart", "orders", "funnel_4"]
    assert data.node_names[-1] == "gmv"
    assert len(set(data.node_names)) == 14


def test_edge_parameters_are_nan_exactly_where_there_is_no_edge():
    data = make_causal_mmm(n_shops=20, n_steps=10, random_state=3)
    edge = data.adjacency.astype(bool)
    for key in ("hill_alpha", "hill_half_saturation", "decay", "edge_weight"):
        assert np.array_equal(np.isnan(data[key]), ~edge), key
    assert np.array_equal(np.isnan(data.adstock_kernel).all(-1), ~edge)
    assert np.isnan(data.weibull_shape).all()  # geometric adstock
    # Decay in the documented range; kernels are the normalised geometric decay.
    assert (data.decay[edge] >= 0.2).all() and (data.decay[edge] <= 0.8).all()
    decay = data.decay[edge][:, None]
    expected = decay ** np.arange(3) / (decay ** np.arange(3)).sum(1, keepdims=True)
    np.testing.assert_allclose(data.adstock_kernel[edge], expected, rtol=1e-12)
    # Incoming weights of a node sum to 3 * effect_strength.
    totals = np.nansum(data.edge_weight, axis=1)
    has_parent = edge.any(axis=1)
    np.testing.assert_allclose(totals[has_parent], 3.0, rtol=1e-12)


def test_weibull_kernels_follow_the_documented_density():
    data = make_causal_mmm(
        n_shops=10, n_steps=10, max_lag=5, adstock="weibull", random_state=0
    )
    edge = data.adjacency.astype(bool)
    assert np.isnan(data.decay).all()
    k, lam = data.weibull_shape[edge][:, None], data.weibull_scale[edge][:, None]
    assert ((k >= 1.5) & (k <= 3.0)).all() and ((lam >= 1.0) & (lam <= 5.0)).all()
    lags = np.arange(1, 6)
    density = k / lam * (lags / lam) ** (k - 1) * np.exp(-((lags / lam) ** k))
    expected = density / density.sum(1, keepdims=True)
    np.testing.assert_allclose(data.adstock_kernel[edge], expected, rtol=1e-12)
    # "Delayed": for some edges the heaviest lag is not lag 1.
    assert (expected.argmax(1) > 0).any()


def test_values_are_non_negative_and_spend_is_bursty():
    data = make_causal_mmm(n_shops=30, n_steps=200, noise_scale=0.3, random_state=1)
    assert (data.X >= 0).all() and (data.y >= 0).all()
    assert np.isfinite(data.X).all() and np.isfinite(data.y).all()
    assert (data.contributions >= 0).all()
    # Channels without channel parents carry only their own campaigns: on/off
    # flights make them persistent (high lag-1 autocorrelation) and far from
    # flat (large spread between flight days and base days).
    n_channels = len(data.channel_names)
    undriven = ~data.adjacency[:, :n_channels, :n_channels].any(axis=1)
    spend = data.X[:, :n_channels][undriven]
    assert spend.shape[0] > 50
    centred = spend - spend.mean(axis=1, keepdims=True)
    autocorr = (centred[:, 1:] * centred[:, :-1]).sum(1) / (centred**2).sum(1)
    assert np.median(autocorr) > 0.6
    spread = np.quantile(spend, 0.9, axis=1) / np.quantile(spend, 0.1, axis=1)
    assert np.median(spread) > 5


# Digests of every array and of the long frame, computed with the simulator as
# it was before the datasets module became a package and gained the weekly
# mode: the daily output (bundled demo, benchmarks) must not move by one bit.
FROZEN_OUTPUT = {
    "default": (dict(n_shops=12, n_steps=40, random_state=0), "881aee13a8eae62e"),
    "sim1": (
        dict(SIMULATION_SETTINGS["sim1"], n_shops=20, random_state=1),
        "e3e68f607cdecbe1",
    ),
    "sim2": (
        dict(SIMULATION_SETTINGS["sim2"], n_shops=20, random_state=2),
        "6172867e918a192f",
    ),
    "every_parameter": (
        dict(
            n_shops=9,
            n_channels=7,
            n_funnel=3,
            n_steps=30,
            n_graph_types=2,
            edge_density=0.5,
            channel_edge_density=0.4,
            shop_deviation=0.1,
            n_context=3,
            noise_scale=0.3,
            noise_autocorrelation=0.6,
            effect_strength=1.3,
            max_lag=4,
            adstock="weibull",
            seasonality=0.2,
            random_state=3,
        ),
        "43eed871e12a0189",
    ),
}


def _digest(data) -> str:
    digest = hashlib.sha256()
    for key in sorted(data):
        value = data[key]
        if isinstance(value, np.ndarray):
            digest.update(key.encode())
            digest.update(str(value.dtype).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    digest.update(data.frame.to_csv(index=False).encode())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("case", FROZEN_OUTPUT)
def test_daily_output_is_bit_identical_to_the_frozen_digest(case):
    kwargs, expected = FROZEN_OUTPUT[case]
    assert _digest(make_causal_mmm(**kwargs, as_frame=True)) == expected


def test_random_state_reproduces_exactly_and_seeds_differ():
    kwargs = {"n_shops": 10, "n_steps": 40, "shop_deviation": 0.1}
    a = make_causal_mmm(**kwargs, random_state=7)
    b = make_causal_mmm(**kwargs, random_state=np.random.RandomState(7))
    c = make_causal_mmm(**kwargs, random_state=8)
    for key in ARRAY_KEYS:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not np.array_equal(a.X, c.X)
    assert not np.array_equal(a.context, c.context)


def test_noise_level_leaves_graphs_context_and_campaigns_unchanged():
    # Independent random streams: only the noise-dependent series move.
    a = make_causal_mmm(n_shops=8, n_steps=30, noise_scale=0.1, random_state=4)
    b = make_causal_mmm(n_shops=8, n_steps=30, noise_scale=0.3, random_state=4)
    np.testing.assert_array_equal(a.adjacency, b.adjacency)
    np.testing.assert_array_equal(a.context, b.context)
    n_channels = len(a.channel_names)
    undriven = ~a.adjacency[:, :n_channels, :n_channels].any(axis=1)
    np.testing.assert_array_equal(
        a.X[:, :n_channels][undriven], b.X[:, :n_channels][undriven]
    )
    assert not np.array_equal(a.y, b.y)


# ----------------------------------------------------------------------------
# Graphs
# ----------------------------------------------------------------------------


def test_one_graph_type_gives_one_graph_for_all_shops():
    data = make_causal_mmm(n_shops=15, n_steps=5, n_graph_types=1, random_state=0)
    assert (data.graph_type == 0).all()
    assert (data.adjacency == data.graph_types[0]).all()


@pytest.mark.parametrize("n_graph_types", [3, 10])
def test_graph_types_are_distinct_balanced_and_assigned(n_graph_types):
    data = make_causal_mmm(
        n_shops=4 * n_graph_types,
        n_steps=5,
        n_graph_types=n_graph_types,
        random_state=0,
    )
    flat = data.graph_types.reshape(n_graph_types, -1)
    assert len({row.tobytes() for row in flat}) == n_graph_types
    np.testing.assert_array_equal(np.bincount(data.graph_type), [4] * n_graph_types)
    np.testing.assert_array_equal(data.adjacency, data.graph_types[data.graph_type])
    # Shuffled, not in blocks of consecutive shops.
    assert not np.array_equal(data.graph_type, np.sort(data.graph_type))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_channels": 5, "n_funnel": 2, "edge_density": 0.3},
        {"n_channels": 4, "n_funnel": 3, "edge_density": 0.8, "shop_deviation": 0.3},
        {"n_channels": 3, "n_funnel": 0, "edge_density": 0.1, "shop_deviation": 0.5},
        {"n_channels": 10, "n_funnel": 9, "edge_density": 0.2, "n_graph_types": 10},
    ],
)
def test_graphs_respect_the_funnel_order(kwargs):
    data = make_causal_mmm(n_shops=40, n_steps=5, random_state=0, **kwargs)
    adj = data.adjacency.astype(bool)
    d = adj.shape[1]
    n_channels = kwargs["n_channels"]
    # Every edge goes forward in the node order (channels, funnel, GMV): this
    # makes every graph acyclic, keeps the diagonal zero and leaves GMV
    # without children.
    assert not np.tril(np.ones((d, d), dtype=bool)).__and__(adj).any()
    assert not adj[:, -1].any()
    assert not adj[:, np.arange(d), np.arange(d)].any()
    # Funnel nodes and GMV always have a cause; channels may have none.
    assert adj[:, :, n_channels:].any(axis=1).all()
    for graph in adj[:5]:
        assert not (_reach(graph) & np.eye(d, dtype=bool)).any()


def test_shop_deviation_flips_edges_of_the_type_graph():
    base = make_causal_mmm(n_shops=200, n_steps=5, random_state=0)
    moved = make_causal_mmm(n_shops=200, n_steps=5, shop_deviation=0.1, random_state=0)
    np.testing.assert_array_equal(base.graph_types, moved.graph_types)
    np.testing.assert_array_equal(base.graph_type, moved.graph_type)
    diff = moved.adjacency != moved.graph_types[moved.graph_type]
    d = 8
    n_allowed = d * (d - 1) // 2
    # About 10 % of the allowed pairs flip (a few more where a parent is added).
    rate = diff.sum() / (200 * n_allowed)
    assert 0.07 < rate < 0.14
    assert diff.any(axis=(1, 2)).mean() > 0.8


def test_channel_edge_density_zero_means_channels_are_exogenous():
    data = make_causal_mmm(
        n_shops=30,
        n_steps=5,
        channel_edge_density=0.0,
        shop_deviation=0.2,
        random_state=0,
    )
    assert not data.adjacency[:, :5, :5].any()


# ----------------------------------------------------------------------------
# Mechanism
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("adstock", ["geometric", "weibull"])
def test_node_values_follow_the_documented_equation(adstock):
    # Without noise and seasonality: x_j(t) = B_j * (1 + sum_i w * Hill(u_ij)),
    # with u the lag-1..L adstock of the parent over its shop mean.
    data = make_causal_mmm(
        n_shops=6,
        n_steps=60,
        noise_scale=0.0,
        seasonality=0.0,
        adstock=adstock,
        random_state=2,
    )
    nodes = _nodes(data)
    n_channels, d = len(data.channel_names), nodes.shape[1]
    checked = 0
    for s in range(6):
        for j in range(n_channels, d):
            effect = np.zeros(60)
            for i in np.flatnonzero(data.adjacency[s, :, j]):
                parent = nodes[s, i]
                effect += _hill_effect(data, s, i, j, parent, parent.mean())
            expected = data.baseline[s, j] * (1.0 + effect)
            np.testing.assert_allclose(nodes[s, j, 3:], expected[3:], rtol=1e-10)
            checked += 1
    assert checked == 6 * 3


def test_parents_explain_a_node_better_than_non_parents():
    # Lagged least squares (lags 1..3 and own lags 1..3): the true parents
    # explain funnel nodes and GMV clearly better than as many unrelated nodes
    # (neither ancestors nor descendants, so they carry no information).
    data = make_causal_mmm(n_shops=40, n_steps=200, random_state=0)
    nodes = _nodes(data)
    n_channels, d = len(data.channel_names), nodes.shape[1]
    gains = []
    for s in range(40):
        reach = _reach(data.adjacency[s])
        for j in range(n_channels, d):
            parents = np.flatnonzero(data.adjacency[s, :, j])
            related = reach[:, j] | reach[j, :]
            related[j] = True
            others = np.flatnonzero(~related)
            if parents.size == 0 or others.size < parents.size:
                continue
            r2_parents = _lagged_r2(nodes[s, j], list(nodes[s, parents]))
            r2_others = _lagged_r2(nodes[s, j], list(nodes[s, others[: parents.size]]))
            gains.append(r2_parents - r2_others)
    gains = np.array(gains)
    assert gains.size >= 40
    assert gains.mean() > 0.08
    assert (gains > 0).mean() > 0.95


# ----------------------------------------------------------------------------
# Contributions
# ----------------------------------------------------------------------------


def test_contribution_is_zero_without_a_path_and_positive_with_one():
    data = make_causal_mmm(n_shops=30, n_steps=50, random_state=0)
    n_channels = len(data.channel_names)
    with_path = without_path = 0
    for s in range(30):
        reach = _reach(data.adjacency[s])
        for c in range(n_channels):
            if reach[c, -1]:
                assert data.contributions[s, c].sum() > 0
                assert (data.contributions[s, c] > 0).all()
                with_path += 1
            else:
                np.testing.assert_array_equal(data.contributions[s, c], 0.0)
                without_path += 1
    assert with_path > 20 and without_path > 20


def test_contributions_match_a_counterfactual_simulation_from_the_equations():
    # Re-simulate GMV with one channel zeroed, node by node, from the
    # documented equations (noise off, so a channel's own campaigns are the
    # spend not explained by its channel parents). Propagation goes through
    # channels driven by channels and through funnel nodes.
    data = make_causal_mmm(
        n_shops=12,
        n_steps=80,
        noise_scale=0.0,
        seasonality=0.0,
        channel_edge_density=0.5,
        random_state=11,
    )
    nodes = _nodes(data)
    n_channels, d = len(data.channel_names), nodes.shape[1]
    start = (d - 1) * 3  # values from here on depend only on in-window history
    checked = 0
    for s in range(12):
        adj = data.adjacency[s]
        means = nodes[s].mean(axis=1)
        reach = _reach(adj)
        for c in range(n_channels):
            if not reach[c, -1]:
                continue
            world = nodes[s].copy()
            world[c] = 0.0
            for j in range(c + 1, d):
                if not reach[c, j]:
                    continue
                new = np.zeros(80)
                old = np.zeros(80)
                for i in np.flatnonzero(adj[:, j]):
                    new += _hill_effect(data, s, i, j, world[i], means[i])
                    old += _hill_effect(data, s, i, j, nodes[s, i], means[i])
                if j < n_channels:
                    own = nodes[s, j] - data.baseline[s, j] * old
                    world[j] = own + data.baseline[s, j] * new
                else:
                    world[j] = data.baseline[s, j] * (1.0 + new)
            expected = nodes[s, -1] - world[-1]
            np.testing.assert_allclose(
                data.contributions[s, c, start:],
                expected[start:],
                rtol=1e-8,
                atol=1e-8 * nodes[s, -1].max(),
            )
            checked += 1
    assert checked >= 10


def test_no_effects_means_no_contributions():
    data = make_causal_mmm(n_shops=5, n_steps=20, effect_strength=0.0, random_state=0)
    np.testing.assert_array_equal(data.contributions, 0.0)
    off = make_causal_mmm(
        n_shops=5, n_steps=20, compute_contributions=False, random_state=0
    )
    assert off.contributions is None


# ----------------------------------------------------------------------------
# Saturation depends on context
# ----------------------------------------------------------------------------


def test_hill_parameters_follow_the_documented_context_map():
    data = make_causal_mmm(n_shops=50, n_steps=5, n_graph_types=1, random_state=0)
    centred = data.context - 0.5
    s = 17
    edge = data.adjacency[s].astype(bool)
    alpha = 1.0 + 1.5 * expit(data.hill_alpha_weights @ centred[s])
    half = 0.5 + expit(data.hill_half_saturation_weights @ centred[s])
    np.testing.assert_allclose(data.hill_alpha[s][edge], alpha[edge], rtol=1e-12)
    np.testing.assert_allclose(
        data.hill_half_saturation[s][edge], half[edge], rtol=1e-12
    )
    # Same graph in every shop, different context: the parameters of one edge
    # differ across shops and stay in the documented ranges.
    i, j = np.argwhere(edge)[0]
    a, g = data.hill_alpha[:, i, j], data.hill_half_saturation[:, i, j]
    assert a.std() > 0.05 and g.std() > 0.05
    assert ((a > 1.0) & (a < 2.5)).all() and ((g > 0.5) & (g < 1.5)).all()
    # They are a monotone function of the linear context score w . c.
    score = data.context @ data.hill_alpha_weights[i, j]
    np.testing.assert_array_equal(np.argsort(score), np.argsort(a))


# ----------------------------------------------------------------------------
# Paper settings and presets
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "d", "n_steps", "n_types"),
    [
        (
            {"n_channels": 5, "n_funnel": 2, "n_steps": 100, "n_graph_types": 3},
            8,
            100,
            3,
        ),
        (
            {"n_channels": 5, "n_funnel": 2, "n_steps": 100, "n_graph_types": 10},
            8,
            100,
            10,
        ),
        ({"n_channels": 10, "n_funnel": 9, "n_steps": 100}, 20, 100, 3),
        ({"n_channels": 5, "n_funnel": 2, "n_steps": 720}, 8, 720, 3),
    ],
)
def test_paper_settings_run(kwargs, d, n_steps, n_types):
    data = make_causal_mmm(n_shops=20, random_state=0, **kwargs)
    assert data.X.shape == (20, d - 1, n_steps)
    assert data.y.shape == (20, n_steps)
    assert data.adjacency.shape == (20, d, d)
    assert data.graph_types.shape == (n_types, d, d)
    assert len({g.tobytes() for g in data.graph_types}) == n_types
    assert len(data.node_names) == d


def test_presets():
    assert set(SIMULATION_SETTINGS) == {"sim1", "sim2"}
    sim1, sim2 = SIMULATION_SETTINGS["sim1"], SIMULATION_SETTINGS["sim2"]
    assert sim1["n_channels"] + sim1["n_funnel"] + 1 == 8
    assert sim1["n_steps"] == 100 and sim1["n_graph_types"] == 3
    assert sim2["n_graph_types"] > sim1["n_graph_types"]
    assert sim2["noise_scale"] > sim1["noise_scale"]
    assert sim2["effect_strength"] < sim1["effect_strength"]
    assert sim2["shop_deviation"] > 0 == sim1["shop_deviation"]
    for preset in (sim1, sim2):
        data = make_causal_mmm(**{**preset, "n_shops": 25, "random_state": 0})
        assert data.X.shape == (25, 7, 100)
        assert data.graph_types.shape[0] == preset["n_graph_types"]


# ----------------------------------------------------------------------------
# DataFrame output
# ----------------------------------------------------------------------------


def test_as_frame_gives_the_long_layout_of_real_exports():
    data = make_causal_mmm(
        n_shops=3, n_channels=2, n_funnel=1, n_steps=10, random_state=0, as_frame=True
    )
    frame = data.frame
    assert list(frame.columns) == [
        "shop_id",
        "date",
        "context_0",
        "context_1",
        "display",
        "search",
        "pv",
        "gmv",
    ]
    assert frame.shape == (30, 8)
    assert pd.api.types.is_string_dtype(frame["shop_id"])
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["shop_id"].unique().tolist() == ["shop_000", "shop_001", "shop_002"]
    assert frame["date"].iloc[0] == pd.Timestamp("2024-01-01")
    assert frame["date"].iloc[9] == pd.Timestamp("2024-01-10")
    shop1 = frame[frame["shop_id"] == "shop_001"]
    np.testing.assert_array_equal(shop1["search"], data.X[1, 1])
    np.testing.assert_array_equal(shop1["pv"], data.X[1, 2])
    np.testing.assert_array_equal(shop1["gmv"], data.y[1])
    np.testing.assert_array_equal(shop1["context_1"], data.context[1, 1])


# ----------------------------------------------------------------------------
# Argument validation
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_shops": 0}, "n_shops"),
        ({"n_shops": 2.5}, "n_shops"),
        ({"n_channels": 0}, "n_channels"),
        ({"n_funnel": -1}, "n_funnel"),
        ({"n_steps": True}, "n_steps"),
        ({"n_graph_types": 0}, "n_graph_types"),
        ({"edge_density": 0.0}, "edge_density"),
        ({"edge_density": 1.5}, "edge_density"),
        ({"channel_edge_density": -0.1}, "channel_edge_density"),
        ({"shop_deviation": 1.0}, "shop_deviation"),
        ({"n_context": -1}, "n_context"),
        ({"noise_scale": -0.1}, "noise_scale"),
        ({"noise_scale": float("nan")}, "noise_scale"),
        ({"noise_autocorrelation": 1.0}, "noise_autocorrelation"),
        ({"effect_strength": -1}, "effect_strength"),
        ({"max_lag": 0}, "max_lag"),
        ({"adstock": "hill"}, "adstock"),
        ({"seasonality": 1.0}, "seasonality"),
        ({"as_frame": "yes"}, "as_frame"),
        ({"random_state": "seed"}, "random_state"),
        ({"n_channels": 1, "n_funnel": 0, "n_graph_types": 2}, "n_graph_types"),
    ],
)
def test_bad_arguments_raise_a_value_error_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_causal_mmm(**{"n_shops": 4, "n_steps": 5, **kwargs})

"""Tests for sklearn_causalmmm.baselines.neural_granger."""

# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sklearn_causalmmm.baselines.neural_granger import (
    _CMLP,
    NeuralGrangerDiscoverer,
    _lagged_windows,
    _prox,
    _standardize,
)
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.metrics import edge_auroc
from sklearn_causalmmm.panel import to_panel


def two_node_panel(n_shops=3, n_steps=100, seed=0):
    """A drives B with one step of delay: B_t = 0.8 A_{t-1} + noise (offset > 0)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n_shops, n_steps))
    b = 0.8 * np.roll(a, 1, axis=1) + 0.3 * rng.normal(size=(n_shops, n_steps))
    b[:, 0] = rng.normal(size=n_shops)  # no wrap-around from the last step
    return np.stack([a, b], axis=1) + 5.0  # spend-like: positive


def simulated_panel(n_shops=6, n_steps=150, seed=0):
    data = make_causal_mmm(
        n_shops=n_shops, n_channels=5, n_funnel=1, n_steps=n_steps, random_state=seed
    )
    return np.concatenate([data.X, data.y[:, None]], axis=1), data.adjacency


@pytest.fixture(scope="module")
def simulated():
    return simulated_panel()


@pytest.fixture(scope="module")
def fitted_mlp(simulated):
    X, _ = simulated
    return NeuralGrangerDiscoverer(max_iter=150, random_state=0).fit(X)


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def test_lagged_windows_lag_one_first_and_mask():
    series = np.arange(2 * 2 * 6, dtype=np.float32).reshape(2, 2, 6)
    mask = np.ones((2, 6), dtype=bool)
    mask[1, 3] = False  # shop 1 misses step 3
    past, target, valid = _lagged_windows(series, mask, max_lag=2)
    assert past.shape == (2, 4, 2, 2) and target.shape == (2, 4, 2)
    # window n predicts step n + 2 from steps n + 1 (lag 1) and n (lag 2)
    np.testing.assert_array_equal(past[0, 1, 0], series[0, :, 2])
    np.testing.assert_array_equal(past[0, 1, 1], series[0, :, 1])
    np.testing.assert_array_equal(target[0, 1], series[0, :, 3])
    np.testing.assert_array_equal(valid[0], [1, 1, 1, 1])
    # every window touching step 3 is invalid: targets 3, 4 and 5
    np.testing.assert_array_equal(valid[1], [1, 0, 0, 0])


def test_standardize_per_shop_and_node_ignores_masked_steps():
    X = np.array([[[1.0, 2.0, 3.0, 100.0]], [[2.0, 2.0, 2.0, 2.0]]])
    panel = to_panel(X)
    panel = dataclasses.replace(panel, mask=np.array([[1, 1, 1, 0]] * 2, dtype=bool))
    z, mean, std = _standardize(panel)
    np.testing.assert_allclose(z[0, 0, :3], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    assert z[0, 0, 3] == 0.0  # masked step
    np.testing.assert_array_equal(z[1], 0.0)  # constant shop: no division by 0
    assert std[1, 0] == 1.0


def test_group_prox_hand_computed():
    torch.manual_seed(0)
    net = _CMLP(1, 2, 3, 4)
    with torch.no_grad():
        net.first.zero_()
        net.first[0, 0, :, 0, :] = 0.5  # 12 weights of 0.5: norm sqrt(3)
        net.first[0, 0, 0, 1, 0] = 0.2  # norm 0.2
    _prox(net, threshold=torch.full((1, 2), 0.5), hierarchical=False)
    factor = 1 - 0.5 / np.sqrt(3)
    first = net.first.detach().numpy()
    np.testing.assert_allclose(first[0, 0, :, 0, :], 0.5 * factor, rtol=1e-6)
    assert np.abs(first[0, 0, :, 1, :]).max() == 0  # below threshold: zero


def test_hierarchical_prox_removes_long_lags_first():
    torch.manual_seed(0)
    net = _CMLP(1, 1, 3, 1)
    with torch.no_grad():
        net.first[0, 0, 0, 0] = torch.tensor([1.0, 1.0, 0.3])  # lags 1, 2, 3
    _prox(net, threshold=torch.full((1, 1), 0.4), hierarchical=True)
    w = net.first[0, 0, 0, 0].detach().numpy()
    # {lag 3} (norm 0.3 < 0.4) dies; {lags 2-3} = (1, 0) shrinks by 1 - 0.4;
    # {lags 1-3} = (1, 0.6, 0) by 1 - 0.4 / sqrt(1.36): long lags shrink most
    whole = 1 - 0.4 / np.sqrt(1.36)
    np.testing.assert_allclose(w, [whole, 0.6 * whole, 0.0], rtol=1e-6)


@pytest.mark.parametrize("model", ["mlp", "lstm"])
def test_too_large_step_is_halved_instead_of_diverging(model):
    X = two_node_panel(n_shops=2, n_steps=40)
    # a step of 100 sends plain ISTA to inf/NaN within a few iterations
    est = NeuralGrangerDiscoverer(model=model, lr=100.0, max_iter=30, random_state=0)
    assert np.isfinite(est.fit(X).group_norms_).all()


# ---------------------------------------------------------------------------
# Graph recovery
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"model": "mlp", "max_iter": 150},
        {"model": "mlp", "penalty": "hierarchical", "max_iter": 50},
        {"model": "lstm", "max_iter": 60, "lam": 0.1, "lr": 0.1},
    ],
)
def test_orientation_cause_row_effect_column(params):
    X = two_node_panel(n_shops=2, n_steps=60)
    scores = (
        NeuralGrangerDiscoverer(random_state=0, **params).fit(X).edge_probabilities_
    )
    # [s, i, j] = i -> j: A (node 0) -> B (node 1), never the reverse
    assert (scores[:, 0, 1] > scores[:, 1, 0]).all()
    np.testing.assert_array_equal(scores[:, [0, 1], [0, 1]], 0.0)


def test_cmlp_recovers_simulated_graphs(simulated, fitted_mlp):
    _, adjacency = simulated
    # measured 0.97 (6 shops, 5 channels, 1 funnel node, T=150); chance is 0.5
    assert edge_auroc(adjacency, fitted_mlp.edge_probabilities_) > 0.85
    # the group lasso zeroes whole input series
    assert (fitted_mlp.group_norms_ == 0).mean() > 0.2


def test_clstm_recovers_simulated_graphs():
    X, adjacency = simulated_panel(n_shops=3, n_steps=100, seed=1)
    est = NeuralGrangerDiscoverer(
        model="lstm", lam=0.1, lr=0.1, max_iter=50, random_state=0
    )
    # measured 0.96 with these settings; chance is 0.5
    assert edge_auroc(adjacency, est.fit(X).edge_probabilities_) > 0.75


def test_penalty_path_persistence(simulated):
    X, adjacency = simulated
    path = [0.1, 0.3, 0.9]
    est = NeuralGrangerDiscoverer(penalty_path=path[::-1], max_iter=60, random_state=0)
    scores = est.fit(X).edge_probabilities_
    np.testing.assert_array_equal(est.penalty_path_, path)  # sorted
    assert scores.min() >= 0.0 and scores.max() <= 1.0
    # scores are persistence levels k / len(path)
    np.testing.assert_allclose(scores * len(path), np.round(scores * len(path)))
    assert len(np.unique(scores)) > 2
    # measured 0.91; chance is 0.5
    assert edge_auroc(adjacency, scores) > 0.8
    # at the last (largest) lam, score 1 <=> the group is still non-zero
    off = ~np.eye(X.shape[1], dtype=bool)
    np.testing.assert_array_equal(
        (scores == 1.0)[:, off], (est.group_norms_ > 0)[:, off]
    )


def test_single_value_path_is_support_of_plain_fit(simulated):
    X, _ = simulated
    X = X[:3]
    plain = NeuralGrangerDiscoverer(lam=0.3, max_iter=50, random_state=0).fit(X)
    path = NeuralGrangerDiscoverer(penalty_path=[0.3], max_iter=50, random_state=0)
    scores = path.fit(X).edge_probabilities_
    np.testing.assert_array_equal(scores, plain.edge_probabilities_ > 0)


# ---------------------------------------------------------------------------
# Estimator contract
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["mlp", "lstm"])
def test_deterministic_and_leaves_global_rng_alone(model):
    X = two_node_panel(n_steps=30)
    first = NeuralGrangerDiscoverer(model=model, max_iter=10, random_state=0).fit(X)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    again = NeuralGrangerDiscoverer(model=model, max_iter=10, random_state=0).fit(X)
    np.testing.assert_array_equal(torch.rand(3), expected)
    np.testing.assert_array_equal(again.group_norms_, first.group_norms_)
    other = NeuralGrangerDiscoverer(model=model, max_iter=10, random_state=1).fit(X)
    assert not np.array_equal(other.group_norms_, first.group_norms_)


def test_clone_and_pickle(fitted_mlp):
    params = fitted_mlp.get_params()
    cloned = clone(fitted_mlp)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "edge_probabilities_")
    restored = pickle.loads(pickle.dumps(fitted_mlp))
    np.testing.assert_array_equal(
        restored.edge_probabilities_, fitted_mlp.edge_probabilities_
    )
    assert restored.get_params() == params


def test_transform_and_does_not_mutate_input():
    X = two_node_panel(n_shops=2, n_steps=40)
    before = X.copy()
    est = NeuralGrangerDiscoverer(max_lag=2, max_iter=5, random_state=0)
    assert est.fit_transform(X).shape == (2, 2)
    np.testing.assert_array_equal(X, before)


def test_long_dataframe_input():
    X = two_node_panel(n_shops=2, n_steps=40)
    frame = pd.DataFrame(
        {
            "store": np.repeat(["a", "b"], 40),
            "day": np.tile(pd.date_range("2024-01-01", periods=40), 2),
            "ads": X[:, 0].ravel(),
            "gmv": X[:, 1].ravel(),
        }
    )
    est = NeuralGrangerDiscoverer(
        max_lag=2, max_iter=5, shop_column="store", time_column="day", random_state=0
    ).fit(frame)
    assert est.shop_ids_ == ["a", "b"] and est.node_names_ == ["ads", "gmv"]


@pytest.mark.parametrize(
    ("params", "culprit"),
    [
        ({"model": "gru"}, "model"),
        ({"penalty": "l1"}, "penalty"),
        ({"max_lag": 0}, "max_lag"),
        ({"hidden": 2.5}, "hidden"),
        ({"max_iter": 0}, "max_iter"),
        ({"lam": -0.1}, "lam"),
        ({"lam_ridge": float("nan")}, "lam_ridge"),
        ({"lr": 0.0}, "lr"),
        ({"penalty_path": []}, "penalty_path"),
        ({"penalty_path": [0.1, -1.0]}, "penalty_path"),
        ({"penalty_path": ["a"]}, "penalty_path"),
        ({"model": "lstm", "penalty": "hierarchical"}, "hierarchical"),
    ],
)
def test_bad_parameters_raise_naming_them(params, culprit):
    X = two_node_panel(n_shops=1, n_steps=30)
    with pytest.raises(ValueError, match=culprit):
        NeuralGrangerDiscoverer(**params).fit(X)


def test_too_short_shop_is_named():
    X = two_node_panel(n_shops=2, n_steps=30)
    with pytest.raises(ValueError, match=r"shop\(s\) \[0, 1\].*max_lag"):
        NeuralGrangerDiscoverer(max_lag=29).fit(X)

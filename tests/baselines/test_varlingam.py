"""Tests for sklearn_causalmmm.baselines.varlingam (needs the optional lingam)."""

# SPDX-License-Identifier: BSD-3-Clause

import pickle
import sys

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.base import clone

from sklearn_causalmmm.base import flatten_off_diagonal
from sklearn_causalmmm.baselines.varlingam import (
    VARLiNGAMDiscoverer,
    lingam_to_cause_effect,
)
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.metrics import edge_auroc

REASON = "lingam is an optional extra: pip install sklearn-causalmmm[causal]"

# Measured edge_auroc of VARLiNGAMDiscoverer(max_lag=3) on the panel of
# `simulated` below: 0.967 for random_state=0, 0.943-0.996 over seeds 0-4.
# Only 6 shops because VARLiNGAM costs about a second per shop (the default,
# max_lag=5, reaches 0.982 on 20 shops of seed 0). Chance is 0.5; the
# threshold leaves a margin of ~0.09 below the worst seed.
VARLINGAM_MIN_AUROC = 0.85


@pytest.fixture
def lingam():
    return pytest.importorskip("lingam", reason=REASON)


def one_edge_panel(n_shops=2, n_steps=150, seed=0):
    """A is white noise, B_t = 0.8 A_{t-1} + noise: the only edge is A -> B.

    Uniform noise is non-Gaussian, as LiNGAM assumes.
    """
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.0, 1.0, size=(n_shops, n_steps))
    b = np.zeros_like(a)
    b[:, 1:] = 0.8 * a[:, :-1]
    b += 0.5 * rng.uniform(-1.0, 1.0, size=a.shape)
    return np.stack([a + 10.0, b + 10.0], axis=1)


def _nodes(data):
    """Channels, funnel and GMV: discoverers read the target as X's last node."""
    return np.concatenate([data.X, data.y[:, None, :]], axis=1)


@pytest.fixture(scope="module")
def simulated():
    return make_causal_mmm(
        n_shops=6,
        n_channels=5,
        n_funnel=1,
        n_steps=200,
        n_graph_types=3,
        compute_contributions=False,
        random_state=0,
    )


def test_lingam_to_cause_effect_transposes():
    B = np.zeros((3, 3, 3))  # (lag, effect, cause)
    B[0, 2, 0] = 0.3  # x0(t) -> x2(t)
    B[2, 1, 0] = -0.9  # x0(t-2) -> x1(t)
    B[1, 1, 0] = 0.5  # x0(t-1) -> x1(t): weaker than lag 2
    B[1, 0, 0] = 0.7  # self lag: ignored
    expected = np.zeros((3, 3))
    expected[0, 2] = 0.3
    expected[0, 1] = 0.9
    np.testing.assert_array_equal(lingam_to_cause_effect(B), expected)


def test_orientation_one_edge(lingam):
    X = one_edge_panel()
    scores = VARLiNGAMDiscoverer(max_lag=2, random_state=0).fit(X).edge_probabilities_
    assert scores.shape == (2, 2, 2)
    # The z-scored lag-1 coefficient of A on B is about 0.8 / sqrt(0.8^2 + 0.5^2).
    assert (scores[:, 0, 1] > 0.6).all()
    assert (scores[:, 1, 0] < 0.15).all()
    assert (np.diagonal(scores, axis1=1, axis2=2) == 0).all()

    # lingam itself puts the effect in the row: B_1[B, A] is the large entry.
    model = lingam.VARLiNGAM(lags=2, random_state=0).fit(X[0].T - 10.0)
    assert abs(model.adjacency_matrices_[1][1, 0]) > 0.5
    assert abs(model.adjacency_matrices_[1][0, 1]) < 0.15


def test_recovers_simulated_graphs(lingam, simulated):
    est = VARLiNGAMDiscoverer(max_lag=3, random_state=0)
    scores = est.fit(_nodes(simulated)).edge_probabilities_
    assert scores.shape == (6, 7, 7)
    assert edge_auroc(simulated.adjacency, scores) >= VARLINGAM_MIN_AUROC


def test_default_max_lag_is_the_shared_budget():
    est = VARLiNGAMDiscoverer()
    assert est.max_lag == 5
    assert est.criterion == "bic" and est.prune is True


def test_constant_node_in_one_shop_scores_zero(lingam):
    X = one_edge_panel()
    rng = np.random.default_rng(1)
    X = np.concatenate([X, 5.0 + rng.uniform(size=(2, 1, X.shape[-1]))], axis=1)
    X[1, 1] = 7.0  # node B is constant in shop 1 only
    scores = VARLiNGAMDiscoverer(max_lag=2, random_state=0).fit(X).edge_probabilities_
    assert np.isfinite(scores).all()
    assert (scores[1, 1, :] == 0).all() and (scores[1, :, 1] == 0).all()
    assert scores[0, 0, 1] > 0.6


def test_determinism_clone_and_pickle(lingam):
    X = one_edge_panel(n_shops=3, n_steps=100)
    est = VARLiNGAMDiscoverer(max_lag=2, random_state=0).fit(X)
    again = VARLiNGAMDiscoverer(max_lag=2, random_state=0).fit(X)
    np.testing.assert_array_equal(est.edge_probabilities_, again.edge_probabilities_)

    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "edge_probabilities_")

    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.edge_probabilities_, est.edge_probabilities_)
    np.testing.assert_array_equal(restored.transform(X[:1]), est.transform(X[:1]))


def test_predict_graph_on_new_shops_equals_fresh_fit(lingam):
    X = one_edge_panel(n_shops=4, n_steps=100)
    est = VARLiNGAMDiscoverer(max_lag=2, random_state=0).fit(X[:2])
    new = est.predict_graph(X[2:])
    fresh = VARLiNGAMDiscoverer(max_lag=2, random_state=0).fit(X[2:])
    np.testing.assert_array_equal(new, fresh.edge_probabilities_)


def test_transform_shape(lingam):
    X = one_edge_panel(n_shops=3, n_steps=100)
    rng = np.random.default_rng(2)
    X = np.concatenate([X, 5.0 + rng.uniform(size=(3, 1, 100))], axis=1)
    est = VARLiNGAMDiscoverer(max_lag=2, random_state=0)
    out = est.fit_transform(X)
    assert out.shape == (3, 3 * 2)
    np.testing.assert_array_equal(out, flatten_off_diagonal(est.edge_probabilities_))


def test_n_jobs_gives_the_same_scores(lingam):
    X = one_edge_panel(n_shops=2, n_steps=100)
    serial = VARLiNGAMDiscoverer(max_lag=2, random_state=0).fit(X)
    with parallel_backend("threading"):
        parallel = VARLiNGAMDiscoverer(max_lag=2, n_jobs=2, random_state=0).fit(X)
    np.testing.assert_array_equal(
        serial.edge_probabilities_, parallel.edge_probabilities_
    )


def test_fixed_order_and_no_pruning(lingam):
    X = one_edge_panel(n_shops=1)
    est = VARLiNGAMDiscoverer(max_lag=2, criterion=None, prune=False, random_state=0)
    scores = est.fit(X).edge_probabilities_
    # Without pruning no coefficient is exactly 0, but the edge still dominates.
    assert scores[0, 1, 0] > 0
    assert scores[0, 0, 1] > 5 * scores[0, 1, 0]


def test_max_lag_too_large_for_the_series(lingam):
    X = one_edge_panel(n_steps=30)
    with pytest.raises(ValueError, match=r"max_lag=10 is too large.*shop 0"):
        VARLiNGAMDiscoverer(max_lag=10).fit(X)


def test_lag_order_selection_needs_a_full_rank_residual_covariance(lingam):
    # 20 nodes, 100 steps: a VAR(4) passes the plain VAR bound (86 steps) but
    # leaves 96 - 81 = 15 residual degrees of freedom for a 20 x 20 covariance,
    # which statsmodels' criterion cannot factor; (20 + 1) * (4 + 1) = 105.
    rng = np.random.default_rng(0)
    X = 10.0 + rng.normal(size=(2, 20, 100))
    with pytest.raises(ValueError, match=r"max_lag=4 .*shop 0.*at least 105"):
        VARLiNGAMDiscoverer(max_lag=4).fit(X)
    scores = VARLiNGAMDiscoverer(max_lag=3, random_state=0).fit(X).edge_probabilities_
    assert scores.shape == (2, 20, 20)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"max_lag": 0}, "max_lag"),
        ({"max_lag": "2"}, "max_lag"),
        ({"criterion": "aicc"}, "criterion"),
        ({"prune": "yes"}, "prune"),
    ],
)
def test_invalid_parameters(lingam, params, name):
    with pytest.raises(ValueError, match=name):
        VARLiNGAMDiscoverer(**params).fit(one_edge_panel())


def test_missing_lingam_raises_import_error_naming_the_extra(monkeypatch):
    for module in [m for m in sys.modules if m.split(".")[0] == "lingam"]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, "lingam", None)
    with pytest.raises(ImportError, match=r"sklearn-causalmmm\[causal\]"):
        VARLiNGAMDiscoverer(max_lag=2).fit(one_edge_panel())

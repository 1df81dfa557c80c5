"""Tests for sklearn_causalmmm.baselines.linear_granger."""

# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from statsmodels.tsa.vector_ar.var_model import VAR

from sklearn_causalmmm.base import flatten_off_diagonal
from sklearn_causalmmm.baselines._timeseries import shop_series
from sklearn_causalmmm.baselines.linear_granger import (
    LinearGrangerDiscoverer,
    granger_f_test,
)
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.metrics import edge_auroc
from sklearn_causalmmm.panel import to_panel

# Measured edge_auroc of LinearGrangerDiscoverer() (max_lag=5) on the panel of
# `simulated` below: 0.993 for random_state=0, 0.967-0.993 over seeds 0-4.
# Chance is 0.5; the threshold leaves a margin of ~0.1 below the worst seed.
GRANGER_MIN_AUROC = 0.85


def _nodes(X, y):
    """GMV as the last node: discoverers read the target from X."""
    return np.concatenate([X, y[:, None]], axis=1)


def one_edge_panel(n_shops=3, n_steps=200, seed=0):
    """A is white noise, B_t = 0.8 A_{t-1} + noise: the only edge is A -> B.

    Offsets keep both series positive (the panel rejects negative spend); they
    do not change a test with an intercept.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n_shops, n_steps))
    b = np.zeros_like(a)
    b[:, 1:] = 0.8 * a[:, :-1]
    b += 0.5 * rng.normal(size=a.shape)
    return np.stack([a + 10.0, b + 10.0], axis=1)


@pytest.fixture(scope="module")
def simulated():
    return make_causal_mmm(
        n_shops=20,
        n_channels=5,
        n_funnel=1,
        n_steps=200,
        n_graph_types=3,
        compute_contributions=False,
        random_state=0,
    )


def test_orientation_one_edge():
    scores = LinearGrangerDiscoverer().fit(one_edge_panel()).edge_probabilities_
    assert scores.shape == (3, 2, 2)
    # A -> B: overwhelming evidence; B -> A: none (p > 0.01).
    assert (scores[:, 0, 1] > 20).all()
    assert (scores[:, 1, 0] < 2).all()
    assert (np.diagonal(scores, axis1=1, axis2=2) == 0).all()


def test_matches_statsmodels_test_causality(simulated):
    series = shop_series(to_panel(_nodes(simulated.X, simulated.y)))[0]
    f_stat, p_value = granger_f_test(series, max_lag=5)
    result = VAR(series).fit(5)
    n_nodes = series.shape[1]
    for cause in range(n_nodes):
        for effect in range(n_nodes):
            if cause == effect:
                continue
            test = result.test_causality(effect, cause, kind="f")
            assert f_stat[cause, effect] == pytest.approx(test.test_statistic, rel=1e-8)
            assert p_value[cause, effect] == pytest.approx(
                test.pvalue, rel=1e-6, abs=1e-300
            )
    # The scores are -log10 of those p-values.
    scores = LinearGrangerDiscoverer().fit(_nodes(simulated.X, simulated.y))
    off = ~np.eye(n_nodes, dtype=bool)
    np.testing.assert_allclose(
        scores.edge_probabilities_[0][off],
        -np.log10(np.clip(p_value[off], 1e-300, 1.0)),
    )


def test_recovers_simulated_graphs(simulated):
    est = LinearGrangerDiscoverer().fit(_nodes(simulated.X, simulated.y))
    assert est.edge_probabilities_.shape == (20, 7, 7)
    assert edge_auroc(simulated.adjacency, est.edge_probabilities_) >= GRANGER_MIN_AUROC


def test_default_max_lag_is_the_shared_budget():
    assert LinearGrangerDiscoverer().max_lag == 5


def test_constant_node_in_one_shop_scores_zero():
    X = one_edge_panel(n_shops=2)
    rng = np.random.default_rng(1)
    third = 5.0 + rng.normal(size=(2, 1, X.shape[-1]))
    X = np.concatenate([X, third], axis=1)
    X[1, 1] = 7.0  # node B is constant in shop 1 only
    with np.errstate(all="raise"):
        scores = LinearGrangerDiscoverer(max_lag=2).fit(X).edge_probabilities_
    assert np.isfinite(scores).all()
    assert (scores[1, 1, :] == 0).all() and (scores[1, :, 1] == 0).all()
    # The other edges of that shop are those of the VAR without the constant node.
    series = shop_series(to_panel(X))[1]
    _, p_value = granger_f_test(series[:, [0, 2]], max_lag=2)
    np.testing.assert_allclose(scores[1][np.ix_([0, 2], [0, 2])], -np.log10(p_value))
    assert scores[0, 0, 1] > 20  # shop 0 is unaffected


def test_determinism_clone_and_pickle(simulated):
    est = LinearGrangerDiscoverer(max_lag=3).fit(_nodes(simulated.X, simulated.y))
    again = LinearGrangerDiscoverer(max_lag=3).fit(_nodes(simulated.X, simulated.y))
    np.testing.assert_array_equal(est.edge_probabilities_, again.edge_probabilities_)

    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "edge_probabilities_")

    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.edge_probabilities_, est.edge_probabilities_)
    np.testing.assert_array_equal(
        restored.transform(_nodes(simulated.X[:3], simulated.y[:3])),
        est.transform(_nodes(simulated.X[:3], simulated.y[:3])),
    )


def test_predict_graph_on_new_shops_equals_fresh_fit(simulated):
    est = LinearGrangerDiscoverer(max_lag=3).fit(
        _nodes(simulated.X[:10], simulated.y[:10])
    )
    fitted = est.edge_probabilities_.copy()
    new = est.predict_graph(_nodes(simulated.X[10:], simulated.y[10:]))
    fresh = LinearGrangerDiscoverer(max_lag=3).fit(
        _nodes(simulated.X[10:], simulated.y[10:])
    )
    np.testing.assert_array_equal(new, fresh.edge_probabilities_)
    np.testing.assert_array_equal(est.edge_probabilities_, fitted)  # unchanged


def test_transform_shape(simulated):
    est = LinearGrangerDiscoverer(max_lag=3)
    out = est.fit_transform(_nodes(simulated.X, simulated.y))
    assert out.shape == (20, 7 * 6)
    np.testing.assert_array_equal(out, flatten_off_diagonal(est.edge_probabilities_))
    np.testing.assert_array_equal(est.transform(_nodes(simulated.X, simulated.y)), out)


def test_long_frame_and_ragged_shop_use_the_observed_span():
    data = make_causal_mmm(
        n_shops=3,
        n_steps=120,
        as_frame=True,
        compute_contributions=False,
        random_state=3,
    )
    frame = data.frame
    est = LinearGrangerDiscoverer(max_lag=2, context_columns=data.context_names)
    np.testing.assert_allclose(
        est.fit(frame).edge_probabilities_,
        LinearGrangerDiscoverer(max_lag=2)
        .fit(_nodes(data.X, data.y))
        .edge_probabilities_,
    )
    # Shop 1 starts 30 days late: its scores are those of its own span alone.
    late = frame["date"] < frame["date"].min() + pd.Timedelta(days=30)
    ragged = frame[~(late & (frame["shop_id"] == data.frame["shop_id"].unique()[1]))]
    scores = est.fit(ragged).edge_probabilities_
    alone = LinearGrangerDiscoverer(max_lag=2).fit(
        _nodes(data.X[1:2, :, 30:], data.y[1:2, 30:])
    )
    np.testing.assert_allclose(scores[1], alone.edge_probabilities_[0])


@pytest.mark.parametrize("max_lag", [0, -1, 2.5, "3", True])
def test_invalid_max_lag(max_lag):
    with pytest.raises(ValueError, match="max_lag"):
        LinearGrangerDiscoverer(max_lag=max_lag).fit(one_edge_panel())


def test_max_lag_too_large_for_the_series():
    X = one_edge_panel(n_steps=30)
    # 2 nodes: a VAR(9) needs (2 + 1) * 9 + 2 = 29 steps, a VAR(10) needs 32.
    LinearGrangerDiscoverer(max_lag=9).fit(X)
    with pytest.raises(ValueError, match=r"max_lag=10 is too large.*shop 0"):
        LinearGrangerDiscoverer(max_lag=10).fit(X)

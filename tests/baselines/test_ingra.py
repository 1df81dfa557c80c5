"""Tests of the InGRA baseline (prototypical Granger causal attention)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sklearn_causalmmm.baselines.ingra import InGRADiscoverer
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.metrics import edge_auroc, heterogeneity_auroc

# Thresholds measured on this panel (45 training shops, 15 held out, 40 epochs):
# over simulator seeds 0-5 (model seed 0) the fit scored edge AUROC 0.93-1.00 on
# training shops and 0.92-0.98 on held-out shops, heterogeneity AUROC 0.87-1.00;
# over model seeds 0-3 (simulator seed 0) the worst run scored 0.877 / 0.835 /
# 0.753. A one-prototype (shop-agnostic) model scores about 0.84 and exactly 0.5
# heterogeneity, so the bounds need per-shop graphs and fail for a transposed
# scorer, while leaving room for platform differences.
EDGE_AUROC_MIN = 0.85
HELD_OUT_AUROC_MIN = 0.75
HETEROGENEITY_MIN = 0.70
N_TRAIN = 45


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    # The models here are tiny: on a shared 2-core machine intra-op threads
    # cost more than they save (about 3x the CPU time). Restored afterwards.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def _small(**kwargs) -> InGRADiscoverer:
    params = dict(n_prototypes=2, max_lag=2, hidden=8, max_epochs=15, random_state=0)
    params.update(kwargs)
    return InGRADiscoverer(**params)


def _two_node_panel(n_shops: int = 12, n_steps: int = 80, seed: int = 0):
    """Node 0 (A) drives node 1 (B) at lag 1; B never feeds back."""
    rng = np.random.default_rng(seed)
    a = rng.gamma(2.0, 1.0, size=(n_shops, n_steps))
    b = 1.0 + 0.3 * rng.gamma(2.0, 1.0, size=(n_shops, n_steps))
    b[:, 1:] += 1.5 * a[:, :-1]
    return np.stack([a, b], axis=1)


@pytest.fixture(scope="module")
def simulated():
    data = make_causal_mmm(
        n_shops=60,
        n_channels=5,
        n_funnel=1,
        n_steps=150,
        n_graph_types=3,
        random_state=0,
    )
    # Discoverers read GMV as X's last node, the order of the true adjacency.
    panel = np.concatenate([data.X, data.y[:, None, :]], axis=1)
    est = InGRADiscoverer(n_prototypes=5, max_epochs=40, random_state=0)
    est.fit(panel[:N_TRAIN])
    return data, panel, est


@pytest.fixture(scope="module")
def two_node():
    X = _two_node_panel()
    return X, _small(max_epochs=40, batch_size=4).fit(X)


def test_orientation_two_nodes(two_node):
    _, est = two_node
    scores = est.edge_probabilities_
    # Row = cause: A -> B is [s, 0, 1] and must beat B -> A in every shop.
    assert np.all(scores[:, 0, 1] > scores[:, 1, 0])
    assert scores[:, 0, 1].mean() > scores[:, 1, 0].mean() + 0.2


def test_output_shapes_and_ranges(two_node):
    X, est = two_node
    n_shops, n_nodes, _ = X.shape
    assert est.edge_probabilities_.shape == (n_shops, n_nodes, n_nodes)
    assert est.edge_probabilities_.dtype == np.float64
    assert np.all(np.diag(est.edge_probabilities_[0]) == 0)
    assert np.all((est.edge_probabilities_ >= 0) & (est.edge_probabilities_ <= 1))
    # Attention columns are distributions over the inputs of each target.
    np.testing.assert_allclose(est.attention_.sum(axis=1), 1.0, atol=1e-5)
    assert est.prototypes_.shape == (2, n_nodes, n_nodes)
    np.testing.assert_allclose(est.prototype_weights_.sum(axis=1), 1.0, atol=1e-5)
    assert len(est.loss_curve_) == 40
    assert est.transform(X).shape == (n_shops, n_nodes * (n_nodes - 1))
    assert est.node_names_ == ["x0", "x1"]


def test_simulated_panel_edge_and_heterogeneity_auroc(simulated):
    data, _, est = simulated
    truth = data.adjacency[:N_TRAIN]
    assert edge_auroc(truth, est.edge_probabilities_) > EDGE_AUROC_MIN
    assert heterogeneity_auroc(truth, est.edge_probabilities_) > HETEROGENEITY_MIN


def test_predict_graph_on_held_out_shops(simulated):
    data, panel, est = simulated
    before = est.edge_probabilities_.copy()
    state = {k: v.clone() for k, v in est.module_.state_dict().items()}
    params = est.get_params()

    scores = est.predict_graph(panel[N_TRAIN:])

    truth = data.adjacency[N_TRAIN:]
    assert scores.shape == truth.shape
    assert edge_auroc(truth, scores) > HELD_OUT_AUROC_MIN
    assert heterogeneity_auroc(truth, scores) > HETEROGENEITY_MIN
    # Scoring new shops leaves the fitted estimator as it was.
    np.testing.assert_array_equal(est.edge_probabilities_, before)
    for key, value in est.module_.state_dict().items():
        assert torch.equal(value, state[key])
    assert est.get_params() == params
    assert len(est.shop_ids_) == N_TRAIN


def test_predict_graph_on_training_shops_matches_fit(two_node):
    X, est = two_node
    np.testing.assert_allclose(est.predict_graph(X), est.edge_probabilities_)


def test_fit_is_deterministic_and_leaves_global_rng_alone():
    X = _two_node_panel(n_shops=6, n_steps=40)
    torch_state = torch.random.get_rng_state()
    first = _small(max_epochs=5).fit(X)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    second = _small(max_epochs=5).fit(X)
    np.testing.assert_array_equal(first.edge_probabilities_, second.edge_probabilities_)
    assert first.loss_curve_ == second.loss_curve_
    other = _small(max_epochs=5, random_state=1).fit(X)
    assert not np.array_equal(first.edge_probabilities_, other.edge_probabilities_)


def test_clone_and_params():
    est = _small(lam_sparsity=0.3)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert copy.get_params()["lam_sparsity"] == 0.3
    copy.set_params(n_prototypes=4)
    assert copy.n_prototypes == 4 and est.n_prototypes == 2
    fitted = _small(max_epochs=2).fit(_two_node_panel(n_shops=4, n_steps=30))
    assert not hasattr(clone(fitted), "module_")


def test_pickle_round_trip(two_node):
    X, est = two_node
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.edge_probabilities_, est.edge_probabilities_)
    np.testing.assert_array_equal(loaded.predict_graph(X[:3]), est.predict_graph(X[:3]))


def test_caller_data_not_modified():
    X = _two_node_panel(n_shops=4, n_steps=30)
    original = X.copy()
    est = _small(max_epochs=2).fit(X)
    est.predict_graph(X)
    np.testing.assert_array_equal(X, original)


def test_ragged_long_frame():
    X = _two_node_panel(n_shops=4, n_steps=40)
    rows = []
    for shop in range(4):
        start = 10 if shop == 0 else 0  # shop 0 starts late
        for t in range(start, 40):
            rows.append(
                {"shop_id": shop, "date": t, "a": X[shop, 0, t], "b": X[shop, 1, t]}
            )
    frame = pd.DataFrame(rows)
    est = _small(max_epochs=3).fit(frame)
    assert est.edge_probabilities_.shape == (4, 2, 2)
    assert np.isfinite(est.edge_probabilities_).all()
    assert est.node_names_ == ["a", "b"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("n_prototypes", 0),
        ("max_lag", 0),
        ("max_lag", 2.5),
        ("hidden", 0),
        ("lam_sparsity", -0.1),
        ("lam_prototype", float("nan")),
        ("lr", 0.0),
        ("max_epochs", 0),
        ("batch_size", True),
        ("verbose", -1),
    ],
)
def test_bad_parameters_raise(param, value):
    X = _two_node_panel(n_shops=3, n_steps=30)
    with pytest.raises(ValueError, match=param):
        _small(**{param: value}).fit(X)


def test_too_short_series_raise():
    X = _two_node_panel(n_shops=3, n_steps=5)
    with pytest.raises(ValueError, match="shop"):
        _small(max_lag=5).fit(X)


def test_predict_graph_wrong_number_of_nodes(two_node):
    _, est = two_node
    X3 = np.abs(np.random.default_rng(0).normal(size=(2, 3, 30))) + 1
    with pytest.raises(ValueError, match="X has 3"):
        est.predict_graph(X3)


def test_verbose_prints(capsys):
    _small(max_epochs=2, verbose=1).fit(_two_node_panel(n_shops=3, n_steps=30))
    assert "epoch    2" in capsys.readouterr().out

"""Tests of the influence of each node's past on the rollout."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis.influence import influence_agreement, influence_graph
from sklearn_causalmmm.datasets import make_causal_mmm


@pytest.fixture(scope="module")
def fitted():
    data = make_causal_mmm(n_shops=4, n_channels=3, n_steps=47, random_state=0)
    names = [f"x{k}" for k in range(data.X.shape[1])] + ["gmv"]
    # only x0 drives the target, and nothing drives x0: another node's past
    # can reach the target's forecast through no edge
    forbidden = [(n, "gmv") for n in names[1:-1]] + [("*", "x0")]
    model = CausalMMMRegressor(
        hidden=8,
        max_epochs=2,
        required_edges=[("x0", "gmv")],
        forbidden_edges=forbidden,
        random_state=0,
    ).fit(data.X[..., :40], data.y[:, :40])
    return model, data


def test_the_target_moves_only_with_the_past_of_its_parent(fitted):
    model, data = fitted
    influence = influence_graph(model, data.X[..., 40:])
    assert influence.shape == model.edge_probabilities_.shape
    np.testing.assert_array_equal(influence.diagonal(axis1=1, axis2=2), 0.0)
    # x0 -> gmv is the target's only edge: its past moves the forecast
    assert (influence[:, 0, -1] > 1e-4).all()
    np.testing.assert_array_equal(influence[:, 1:-1, -1], 0.0)
    # nothing drives x0, whose forecast depends on its own past only
    np.testing.assert_array_equal(influence[:, 1:, 0], 0.0)


def test_agreement_by_hand():
    graph = np.array([[0, 0.9, 0.2], [0.1, 0, 0.8], [0.3, 0.4, 0]])
    # the two learned edges (0 -> 1, 1 -> 2) score above the four others
    influence = np.array([[0, 3.0, 0.5], [0.4, 0, 2.0], [0.1, 0.0, 0]])
    assert influence_agreement(influence[None], graph[None]) == 1.0
    # one non-edge above one edge: 7 of the 8 pairs in order
    influence[0, 2] = 2.5
    assert influence_agreement(influence[None], graph[None]) == pytest.approx(7 / 8)
    assert np.isnan(influence_agreement(influence[None], np.zeros((1, 3, 3))))
    with pytest.raises(ValueError, match="same shops and nodes"):
        influence_agreement(influence[None], np.zeros((2, 3, 3)))


def test_errors_name_the_problem(fitted):
    model, data = fitted
    with pytest.raises(ValueError, match="n_steps_past"):
        influence_graph(model, data.X[..., 40:], n_steps_past=0)
    with pytest.raises(ValueError, match="size"):
        influence_graph(model, data.X[..., 40:], size=-1.0)
    with pytest.raises(TypeError, match="fitted CausalMMMRegressor"):
        influence_graph(object(), data.X[..., 40:])

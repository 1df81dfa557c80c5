"""Tests of the graph-swap check."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis.graph_check import (
    SCENARIOS,
    _derangement,
    graph_reliance,
)
from sklearn_causalmmm.datasets import make_causal_mmm


class ParentSum:
    """GMV = sum over channels of P(channel -> GMV) * the channel's plan.

    Three shops, two channels and GMV; shop s is driven by channel s % 2.
    """

    def __init__(self, reads_graph=True):
        graphs = np.zeros((3, 3, 3))
        for shop in range(3):
            graphs[shop, shop % 2, 2] = 1.0
        self.edge_probabilities_ = graphs
        self.reads_graph = reads_graph

    def predict(self, X, edge_probabilities=None):
        graphs = self.edge_probabilities_
        if edge_probabilities is not None and self.reads_graph:
            graphs = edge_probabilities
        return np.einsum("sc,sct->st", graphs[:, :2, 2], X)


class GainedParentSum:
    """GMV = sum over channels of P(channel -> GMV) * gain * the channel's plan.

    Every shop has both edges; only their gains tell the shops apart.
    """

    def __init__(self):
        self.edge_probabilities_ = np.zeros((3, 3, 3))
        self.edge_probabilities_[:, :2, 2] = 1.0
        self.edge_gains_ = np.ones((3, 3, 3))
        self.edge_gains_[:, 0, 2] = [1.0, 2.0, 3.0]

    def predict(self, X, edge_probabilities=None, edge_gains=None):
        graphs = (
            self.edge_probabilities_
            if edge_probabilities is None
            else edge_probabilities
        )
        gains = self.edge_gains_ if edge_gains is None else edge_gains
        return np.einsum("sc,sct->st", (graphs * gains)[:, :2, 2], X)


@pytest.fixture
def plan():
    # shop, channel, step
    return np.array(
        [
            [[1.0, 1.0], [3.0, 3.0]],
            [[2.0, 2.0], [4.0, 4.0]],
            [[5.0, 5.0], [0.0, 0.0]],
        ]
    )


def test_scores_by_hand(plan):
    model = ParentSum()
    # forecasts with the learned graphs: shop 0 [1, 1], shop 1 [4, 4], shop 2 [5, 5]
    truth = model.predict(plan) + 1.0
    reliance = graph_reliance(model, plan, truth, n_swaps=3, random_state=0)
    assert tuple(reliance.index) == SCENARIOS
    assert reliance.loc["learned"].tolist() == [0.0, 1.0, 1.0]
    # no edges: the forecast is 0; mean |forecast| is 10 / 3
    assert reliance.loc["no edges", "forecast_change"] == pytest.approx(1.0)
    assert reliance.loc["no edges", "mse"] == pytest.approx((4 + 25 + 36) / 3)
    # all edges: shops forecast [4, 4], [6, 6], [5, 5]
    assert reliance.loc["all edges", "forecast_change"] == pytest.approx(0.5)
    assert reliance.loc["all edges", "mse"] == pytest.approx(2.0)
    assert reliance.loc["all edges", "mse_ratio"] == pytest.approx(2.0)
    # a derangement of 3 shops is a 3-cycle: one shop keeps a graph like its
    # own (shops 0 and 2 share theirs), the two others get the wrong channel
    assert reliance.loc["other shops' graphs", "mse_ratio"] > 1.0


def test_a_perfect_forecast_gives_infinite_ratios(plan):
    model = ParentSum()
    reliance = graph_reliance(model, plan, model.predict(plan))
    assert reliance.loc["learned", "mse"] == 0.0
    assert np.isinf(reliance.loc["no edges", "mse_ratio"])


def test_a_model_that_ignores_its_graph_does_not_change(plan):
    model = ParentSum(reads_graph=False)
    truth = model.predict(plan) + 1.0
    reliance = graph_reliance(model, plan, truth)
    np.testing.assert_allclose(reliance["forecast_change"], 0.0)
    np.testing.assert_allclose(reliance["mse_ratio"], 1.0)


def test_bad_input_is_refused(plan):
    model = ParentSum()
    with pytest.raises(ValueError, match="n_swaps"):
        graph_reliance(model, plan, n_swaps=0)
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\)"):
        graph_reliance(model, plan, np.zeros(3))
    model.edge_probabilities_ = model.edge_probabilities_[:1]
    with pytest.raises(ValueError, match=">= 2"):
        graph_reliance(model, plan[:1])


def test_another_shops_graph_comes_with_its_edge_gains(plan):
    model = GainedParentSum()
    truth = model.predict(plan)
    reliance = graph_reliance(model, plan, truth, n_swaps=1, random_state=0)
    # the graphs are alike, so only the gains can move the swapped forecasts
    order = _derangement(3, np.random.RandomState(0))
    swapped_gains = model.edge_gains_[:, 0, 2][order]
    expected = np.einsum("s,st->st", swapped_gains, plan[:, 0]) + plan[:, 1]
    assert reliance.loc["other shops' graphs", "mse"] == pytest.approx(
        np.mean((expected - truth) ** 2)
    )
    assert reliance.loc["other shops' graphs", "mse_ratio"] == np.inf


@pytest.mark.parametrize("n", [2, 3, 10])
def test_derangements_move_every_shop(n):
    rng = np.random.RandomState(0)
    for _ in range(20):
        order = _derangement(n, rng)
        assert sorted(order) == list(range(n))
        assert not np.any(order == np.arange(n))


def test_swaps_are_reproducible(plan):
    first = graph_reliance(ParentSum(), plan, random_state=3)
    again = graph_reliance(ParentSum(), plan, random_state=3)
    assert first.equals(again)
    without_truth = graph_reliance(ParentSum(), plan)
    assert list(without_truth.columns) == ["forecast_change"]


def test_causal_mmm_forecasts_rely_on_their_graph():
    # GMV driven by the channels through the simulator's graphs
    data = make_causal_mmm(n_shops=40, n_steps=60, random_state=0)
    model = CausalMMMRegressor(hidden=16, max_epochs=15, random_state=0)
    model.fit(data.X[..., :53], data.y[:, :53], context=data.context)
    plan, truth = data.X[..., 53:], data.y[:, 53:]
    reliance = graph_reliance(model, plan, truth)
    assert reliance.loc["learned", "mse"] == pytest.approx(
        np.mean((model.predict(plan) - truth) ** 2)
    )
    # cutting every edge costs accuracy: the graph carries the channels' effect
    assert reliance.loc["no edges", "mse_ratio"] > 1.05
    assert reliance.loc["no edges", "forecast_change"] > 0.01

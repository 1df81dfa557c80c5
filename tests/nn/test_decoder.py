import pytest
import torch

from sklearn_causalmmm.nn.decoder import MarketingResponseDecoder


def _edges(adjacency: torch.Tensor) -> torch.Tensor:
    return torch.stack([1 - adjacency, adjacency], dim=-1)[None]


@pytest.fixture(params=["sender", "pair"])
def messages(request):
    return request.param


def _decoder(**kwargs):
    torch.manual_seed(0)
    return MarketingResponseDecoder(n_nodes=3, hidden=16, n_context=1, **kwargs).eval()


def test_node_without_incoming_edges_receives_no_message(messages):
    decoder = _decoder(messages=messages)
    adjacency = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    x = torch.rand(1, 3, 20)
    context = torch.rand(1, 1)
    base = decoder(x, _edges(adjacency), context, n_teacher=20)
    perturbed = x.clone()
    perturbed[:, 0] = 0.0  # node 0 drives node 1 only
    out = decoder(perturbed, _edges(adjacency), context, n_teacher=20)
    # node 2 has no parent: its predictions ignore node 0 exactly (Granger)
    torch.testing.assert_close(out[:, 2], base[:, 2], rtol=0, atol=0)
    assert (out[:, 1] - base[:, 1]).abs().max() > 1e-5
    # what arrives at a node without parents ignores every other node's state
    state = torch.randn(1, 3, 16)
    weights = decoder.edge_weights(_edges(adjacency))
    inputs = torch.rand(1, 3)
    message = decoder.messages(state, weights, inputs)
    moved = state.clone()
    moved[:, 0] += 1.0
    moved_message = decoder.messages(moved, weights, inputs)
    torch.testing.assert_close(moved_message[:, 2], message[:, 2], rtol=0, atol=0)
    assert (moved_message[:, 1] - message[:, 1]).abs().max() > 0


def test_prediction_is_causal_in_time():
    decoder = _decoder()
    x = torch.rand(2, 3, 15)
    edges = _edges(torch.ones(3, 3) - torch.eye(3)).expand(2, -1, -1, -1)
    base = decoder(x, edges, torch.rand(2, 1), n_teacher=15)
    assert base.shape == (2, 3, 14)
    later = x.clone()
    later[..., 10:] += 1.0
    out = decoder(later, edges, torch.zeros(2, 1) + 0.0, n_teacher=15)
    ref = decoder(x, edges, torch.zeros(2, 1), n_teacher=15)
    # predictions of steps 1..10 only use inputs 0..9 (lag-1 effects included)
    torch.testing.assert_close(out[..., :10], ref[..., :10], rtol=0, atol=0)


def test_rollout_uses_own_predictions_for_unknown_nodes_only():
    decoder = _decoder()
    x = torch.rand(1, 3, 12)
    edges = _edges(torch.ones(3, 3) - torch.eye(3))
    known = torch.tensor([True, True, False])
    context = torch.rand(1, 1)
    base = decoder(x, edges, context, n_teacher=8, known_nodes=known)
    unknown_changed = x.clone()
    unknown_changed[:, 2, 8:] += 3.0  # after the teacher window, node 2 is predicted
    out = decoder(unknown_changed, edges, context, n_teacher=8, known_nodes=known)
    torch.testing.assert_close(out, base, rtol=0, atol=0)
    plan_changed = x.clone()
    plan_changed[:, 0, 9] = 0.0  # a known (planned) channel still drives the rollout
    out = decoder(plan_changed, edges, context, n_teacher=8, known_nodes=known)
    assert (out[:, 2, 9:] - base[:, 2, 9:]).abs().max() > 0


def test_markov_decoder_forgets_beyond_one_step():
    decoder = _decoder(recurrent=False, n_own_lags=1)
    x = torch.rand(1, 3, 10)
    edges = _edges(torch.ones(3, 3) - torch.eye(3))
    context = torch.rand(1, 1)
    base = decoder(x, edges, context, n_teacher=10)
    changed = x.clone()
    changed[..., 2] += 1.0
    out = decoder(changed, edges, context, n_teacher=10)
    # input at step 2 affects the prediction of step 3 only
    torch.testing.assert_close(out[..., 3:], base[..., 3:], rtol=0, atol=0)
    assert (out[..., 2] - base[..., 2]).abs().max() > 1e-4


def test_saturation_leaves_target_untouched():
    decoder = _decoder()
    x = torch.rand(2, 3, 5) * 4
    out = decoder.saturate(x, torch.rand(2, 1))
    torch.testing.assert_close(out[:, -1], x[:, -1])
    assert (out[:, :-1] < 1).all()


def test_own_lags_reach_back_exactly_n_steps():
    decoder = _decoder(recurrent=False, n_own_lags=3)
    x = torch.rand(1, 3, 12)
    edges = _edges(torch.zeros(3, 3))
    context = torch.rand(1, 1)
    base = decoder(x, edges, context, n_teacher=12)
    changed = x.clone()
    changed[:, 0, 4] += 1.0
    out = decoder(changed, edges, context, n_teacher=12)
    # the input at step 4 informs the predictions made at steps 4, 5 and 6 only
    moved = (out - base).abs()[0, 0] > 0
    assert moved.nonzero().flatten().tolist() == [4, 5, 6]


def test_edge_gains_scale_messages_and_leave_absent_edges_silent(messages):
    decoder = _decoder(messages=messages)
    adjacency = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    edges = _edges(adjacency)
    x = torch.rand(1, 3, 15)
    context = torch.rand(1, 1)
    base = decoder(x, edges, context, n_teacher=10)
    ones = decoder(x, edges, context, n_teacher=10, edge_gains=torch.ones(1, 3, 3))
    torch.testing.assert_close(ones, base, rtol=0, atol=0)
    # a gain on an absent edge changes nothing; on the edge 0 -> 1 it does
    gains = torch.ones(1, 3, 3)
    gains[0, 0, 2] = 5.0
    absent = decoder(x, edges, context, n_teacher=10, edge_gains=gains)
    torch.testing.assert_close(absent, base, rtol=0, atol=0)
    gains[0, 0, 1] = 3.0
    stronger = decoder(x, edges, context, n_teacher=10, edge_gains=gains)
    assert (stronger[:, 1] - base[:, 1]).abs().max() > 1e-5
    torch.testing.assert_close(stronger[:, [0, 2]], base[:, [0, 2]], rtol=0, atol=0)
    # a zero gain cuts the edge (self-messages of pair decoders aside)
    if messages == "sender":
        gains[0, 0, 1] = 0.0
        cut = decoder(x, edges, context, n_teacher=10, edge_gains=gains)
        empty = decoder(x, _edges(torch.zeros(3, 3)), context, n_teacher=10)
        torch.testing.assert_close(cut, empty, rtol=0, atol=0)

import pytest
import torch

from sklearn_causalmmm.nn.model import CausalMMM


def test_forward_shapes_and_encoder_never_reads_the_horizon():
    torch.manual_seed(0)
    model = CausalMMM(
        n_nodes=3, n_history=20, n_context=2, hidden=8, n_pair_features=2
    ).eval()
    x = torch.rand(4, 3, 25)
    context = torch.rand(4, 2)
    pair = torch.randn(4, 3, 3, 2)
    prediction, logits = model(x, context, n_teacher=20, pair_features=pair)
    assert prediction.shape == (4, 3, 24) and logits.shape == (4, 3, 3, 2)
    changed = x.clone()
    changed[..., 20:] += 10.0
    _, logits_changed = model(changed, context, n_teacher=20, pair_features=pair)
    torch.testing.assert_close(logits_changed, logits, rtol=0, atol=0)
    # the pair features reach the encoder
    _, other = model(x, context, n_teacher=20, pair_features=pair + 1.0)
    assert not torch.allclose(other, logits)
    torch.testing.assert_close(model.edge_logits(x[..., :20], pair), logits)


def test_eval_edges_are_deterministic_and_training_edges_random():
    torch.manual_seed(0)
    model = CausalMMM(n_nodes=3, n_history=10, n_context=0, hidden=8, hard=True)
    logits = torch.randn(2, 3, 3, 2)
    model.eval()
    assert torch.equal(model.edges(logits), model.edges(logits))
    assert set(model.edges(logits).unique().tolist()) == {0.0, 1.0}
    model.train()
    draws = torch.stack([model.edges(logits) for _ in range(20)])
    assert draws.std(0).max() > 0


def test_full_graph_ablation_uses_every_edge():
    model = CausalMMM(
        n_nodes=3, n_history=10, n_context=0, hidden=8, graph="full"
    ).eval()
    edges = model.edges(model.edge_logits(torch.rand(1, 3, 10)))
    torch.testing.assert_close(edges[..., 1], torch.ones(1, 3, 3))
    with pytest.raises(ValueError, match="graph"):
        CausalMMM(n_nodes=3, n_history=10, n_context=0, graph="empty")


def test_edge_probabilities_replace_the_encoders_graph():
    torch.manual_seed(0)
    model = CausalMMM(n_nodes=3, n_history=10, n_context=0, hidden=8, tau=0.5).eval()
    x = torch.rand(2, 3, 12)
    context = torch.zeros(2, 0)
    prediction, logits = model(x, context, n_teacher=10)
    own = 1.0 - torch.softmax(logits, -1)[..., 0]  # the posterior P(edge)
    replayed, replayed_logits = model(x, context, 10, edge_probabilities=own)
    torch.testing.assert_close(replayed, prediction)
    torch.testing.assert_close(replayed_logits, logits)  # the encoder still reads
    # a graph without edges: only the self-messages remain
    empty, _ = model(x, context, 10, edge_probabilities=torch.zeros_like(own))
    assert not torch.allclose(empty, prediction)
    two_types = CausalMMM(n_nodes=3, n_history=10, n_context=0, n_edge_types=3).eval()
    with pytest.raises(ValueError, match="n_edge_types=2"):
        two_types(x, context, 10, edge_probabilities=own)


def test_shop_edge_gains_are_selected_by_row_and_penalised_off_diagonal():
    torch.manual_seed(0)
    model = CausalMMM(
        n_nodes=3, n_history=10, n_context=0, hidden=8, n_shops=4, edge_gain_scale=0.5
    ).eval()
    with torch.no_grad():
        model.shop_log_gains[2] = torch.tensor(
            [[7.0, 0.2, -0.4], [0.1, 7.0, 0.0], [0.0, 0.3, 7.0]]
        )
    gains = model.edge_gains(torch.tensor([0, 2]))
    torch.testing.assert_close(gains[0], torch.ones(3, 3))
    expected = torch.tensor([[1.0, 0.2, -0.4], [0.1, 1.0, 0.0], [0.0, 0.3, 1.0]])
    expected = torch.where(torch.eye(3, dtype=bool), 1.0, expected.exp())
    torch.testing.assert_close(gains[1], expected)
    # (0.04 + 0.16 + 0.01 + 0.09) / (2 * 0.25); the diagonal is not a gain
    penalty = model.edge_gain_penalty(torch.tensor([2, 0]))
    torch.testing.assert_close(penalty, torch.tensor([0.6, 0.0]))
    # the shop's gains reach the decoder; without rows the shared decoder runs
    x, context = torch.rand(2, 3, 12), torch.zeros(2, 0)
    shared, _ = model(x, context, 10)
    own, _ = model(x, context, 10, shops=torch.tensor([0, 2]))
    torch.testing.assert_close(own[0], shared[0], rtol=0, atol=0)
    assert not torch.allclose(own[1], shared[1])


def test_model_without_shops_has_no_gains():
    model = CausalMMM(n_nodes=3, n_history=10, n_context=0, hidden=8)
    assert model.shop_log_gains is None
    assert model.edge_gains(torch.tensor([0])) is None
    torch.testing.assert_close(
        model.edge_gain_penalty(torch.tensor([0, 1])), torch.zeros(2)
    )

import pytest
import torch

from sklearn_causalmmm.nn.model import CausalMMM


def test_forward_shapes_and_encoder_never_reads_the_horizon():
    torch.manual_seed(0)
    model = CausalMMM(n_nodes=3, n_history=20, n_context=2, hidden=8, n_lags=2).eval()
    x = torch.rand(4, 3, 25)
    context = torch.rand(4, 2)
    prediction, logits = model(x, context, n_teacher=20)
    assert prediction.shape == (4, 3, 24) and logits.shape == (4, 3, 3, 2)
    changed = x.clone()
    changed[..., 20:] += 10.0
    _, logits_changed = model(changed, context, n_teacher=20)
    torch.testing.assert_close(logits_changed, logits, rtol=0, atol=0)


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

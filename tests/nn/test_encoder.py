import pytest
import torch

from sklearn_causalmmm.nn.encoder import CausalRelationalEncoder


def test_logit_shape_and_batch_independence_with_layer_norm():
    torch.manual_seed(0)
    encoder = CausalRelationalEncoder(
        n_nodes=4, n_inputs=30, hidden=8, n_pair_features=2
    )
    x, pair = torch.rand(5, 4, 30), torch.randn(5, 4, 4, 2)
    logits = encoder(x, pair)
    assert logits.shape == (5, 4, 4, 2)
    # layer norm: a shop's graph does not depend on the other shops in the batch
    torch.testing.assert_close(encoder(x[:1], pair[:1]), logits[:1])


def test_unknown_norm():
    with pytest.raises(ValueError, match="norm"):
        CausalRelationalEncoder(3, 10, 8, norm="group")


@pytest.mark.parametrize("n_pair", [0, 3, 9])
def test_pair_features_enter_the_first_edge_mlp(n_pair):
    torch.manual_seed(0)
    encoder = CausalRelationalEncoder(4, 30, 8, n_pair_features=n_pair)
    assert encoder.edge_embedding.first.in_features == 2 * 8 + n_pair
    x = torch.rand(2, 4, 30)
    pair = torch.randn(2, 4, 4, n_pair) if n_pair else None
    logits = encoder(x, pair)
    assert logits.shape == (2, 4, 4, 2)
    if n_pair:
        # the logits of an edge move with that edge's features
        moved = pair.clone()
        moved[0, 1, 2] += 1.0
        assert not torch.allclose(encoder(x, moved)[0], logits[0])
        torch.testing.assert_close(encoder(x, moved)[1], logits[1])


def test_missing_or_misshapen_pair_features_are_named():
    encoder = CausalRelationalEncoder(3, 10, 8, n_pair_features=2)
    x = torch.rand(2, 3, 10)
    with pytest.raises(ValueError, match=r"2 features of every pair.*\(2, 3, 3, 2\)"):
        encoder(x)
    with pytest.raises(ValueError, match=r"got \(2, 3, 3, 4\)"):
        encoder(x, torch.zeros(2, 3, 3, 4))

import pytest
import torch

from sklearn_causalmmm.nn.encoder import CausalRelationalEncoder, lagged_edge_features


def test_logit_shape_and_batch_independence_with_layer_norm():
    torch.manual_seed(0)
    encoder = CausalRelationalEncoder(n_nodes=4, n_inputs=30, hidden=8, n_lags=2)
    x = torch.rand(5, 4, 30)
    logits = encoder(x)
    assert logits.shape == (5, 4, 4, 2)
    # layer norm: a shop's graph does not depend on the other shops in the batch
    torch.testing.assert_close(encoder(x[:1]), logits[:1])


def test_lagged_features_point_from_cause_to_effect():
    torch.manual_seed(0)
    cause = torch.randn(1, 400)
    effect = torch.zeros(1, 400)
    effect[:, 1:] = 0.9 * cause[:, :-1]
    effect = effect + 0.3 * torch.randn(1, 400)
    features = lagged_edge_features(torch.stack([cause, effect], 1), n_lags=3)
    assert features.shape == (1, 2, 2, 3)
    assert features[0, 0, 1, 0] > 0.8  # cause at lag 1 -> effect
    assert features[0, 1, 0].abs().max() < 0.15  # effect's past says nothing of cause


def test_lagged_features_need_enough_steps():
    with pytest.raises(ValueError, match="more than 10 steps"):
        lagged_edge_features(torch.rand(1, 2, 8), n_lags=5)


def test_unknown_norm():
    with pytest.raises(ValueError, match="norm"):
        CausalRelationalEncoder(3, 10, 8, norm="group")

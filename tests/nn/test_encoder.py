import numpy as np
import pytest
import torch

from sklearn_causalmmm.nn.encoder import (
    CausalRelationalEncoder,
    conditional_lag_coefficients,
    edge_lag_features,
    lag_feature_kinds,
    lagged_edge_features,
    summed_lag_coefficients,
)


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


def _chain(n_steps: int = 600) -> torch.Tensor:
    """``a -> b -> c``, one step per link: ``a`` reaches ``c`` two steps later."""
    generator = torch.Generator().manual_seed(0)
    a, b, c = torch.randn(3, n_steps, generator=generator)
    b[1:] += 0.9 * a[:-1]
    c[1:] += 0.9 * b[:-1]
    return torch.stack([a, b, c])[None]


def test_conditional_coefficients_explain_away_an_indirect_sender():
    x = _chain()
    bivariate = lagged_edge_features(x, n_lags=2)
    conditional = conditional_lag_coefficients(x, n_lags=2)
    assert conditional.shape == (1, 3, 3, 2)
    # a -> c at lag 2 is there pairwise, but b's lags explain it away
    assert bivariate[0, 0, 2, 1] > 0.3
    assert conditional[0, 0, 2].abs().max() < 0.1
    assert conditional[0, 1, 2, 0] > 0.4  # the direct sender b, lag 1
    assert conditional[0, 0, 1, 0] > 0.4  # a -> b, lag 1


def _standardised(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(1, keepdims=True)) / values.std(1, ddof=1)[:, None]


def test_conditional_coefficients_are_a_ridge_regression_on_all_lags():
    x = torch.randn(2, 3, 40, generator=torch.Generator().manual_seed(1))
    n_lags = 2
    coefficients = conditional_lag_coefficients(x, n_lags).numpy()
    for shop in range(2):
        z = _standardised(x[shop].numpy().astype(np.float64))
        n_rows = 40 - n_lags
        # columns ordered (sender, lag): z[i, t - lag]
        design = np.stack(
            [z[i, n_lags - lag : 40 - lag] for i in range(3) for lag in (1, 2)], 1
        )
        penalty = 0.1 * n_rows * np.eye(3 * n_lags)
        for receiver in range(3):
            expected = np.linalg.solve(
                design.T @ design + penalty, design.T @ z[receiver, n_lags:]
            ).reshape(3, n_lags)
            np.testing.assert_allclose(
                coefficients[shop, :, receiver], expected, rtol=1e-4, atol=1e-5
            )


def test_summed_coefficients_partly_explain_away_an_indirect_sender():
    x = _chain()
    bivariate = lagged_edge_features(x, n_lags=2)
    summed = summed_lag_coefficients(x, n_lags=2)
    assert summed.shape == (1, 3, 3, 2)
    # a reaches c two steps later, through b: pairwise a's lag 2 correlates
    # with c (about 0.5), but in window 2 b's sum takes most of it (about 0.13)
    assert bivariate[0, 0, 2, 1] > 0.4
    assert summed[0, 0, 2, 1] < 0.4 * bivariate[0, 0, 2, 1]
    assert summed[0, 1, 2].min() > 0.4 and summed[0, 0, 1].min() > 0.4  # direct
    assert summed[0, 2, :2].abs().max() < 0.15  # c drives nothing


def test_summed_coefficients_are_a_ridge_regression_on_lag_sums():
    x = torch.randn(2, 3, 40, generator=torch.Generator().manual_seed(1))
    n_lags = 3
    coefficients = summed_lag_coefficients(x, n_lags).numpy()
    n_rows = 40 - n_lags
    for shop in range(2):
        z = _standardised(x[shop].numpy().astype(np.float64))
        for window in (1, 2, 3):
            sums = sum(z[:, n_lags - lag : 40 - lag] for lag in range(1, window + 1))
            design = (sums / sums.std(1, ddof=1)[:, None]).T  # (rows, senders)
            gram = design.T @ design + 0.1 * n_rows * np.eye(3)
            expected = np.linalg.solve(gram, design.T @ z[:, n_lags:].T)
            np.testing.assert_allclose(
                coefficients[shop, :, :, window - 1], expected, rtol=1e-4, atol=1e-5
            )


def test_lag_feature_kinds_read_names_aliases_and_sequences():
    assert lag_feature_kinds("summed") == ("summed",)
    assert lag_feature_kinds("both") == ("bivariate", "conditional")
    assert lag_feature_kinds("all") == ("bivariate", "conditional", "summed")
    assert lag_feature_kinds(("summed", "bivariate")) == ("summed", "bivariate")
    x = torch.randn(2, 3, 30, generator=torch.Generator().manual_seed(2))
    together = edge_lag_features(x, 2, ["bivariate", "summed"])
    torch.testing.assert_close(together[..., :2], lagged_edge_features(x, 2))
    torch.testing.assert_close(together[..., 2:], summed_lag_coefficients(x, 2))
    # a set has no order to fix the encoder's input columns by
    bad_values = ("partial", (), ("summed", "summed"), ["bivariate", "both"])
    for bad in (*bad_values, None, 3, {"summed"}):
        with pytest.raises(ValueError, match="lag_features"):
            lag_feature_kinds(bad)


@pytest.mark.parametrize(
    "kind, n_pair",
    [
        ("conditional", 3),
        ("both", 6),
        ("summed", 3),
        (("bivariate", "conditional", "summed"), 9),
    ],
)
def test_encoder_reads_the_chosen_lag_features(kind, n_pair):
    torch.manual_seed(0)
    encoder = CausalRelationalEncoder(4, 30, 8, n_lags=3, lag_features=kind)
    assert encoder.edge_embedding.first.in_features == 2 * 8 + n_pair
    assert encoder(torch.rand(2, 4, 30)).shape == (2, 4, 4, 2)


def test_unknown_lag_features():
    with pytest.raises(ValueError, match="lag_features must be one of.*'partial'"):
        CausalRelationalEncoder(3, 10, 8, n_lags=2, lag_features="partial")

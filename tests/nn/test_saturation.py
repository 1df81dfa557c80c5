import torch

from sklearn_causalmmm.nn.saturation import ContextHill, hill


def test_hill_matches_hand_computation():
    x = torch.tensor([0.0, 1.0, 2.0, 3.0])
    alpha = torch.tensor(2.0)
    g = torch.tensor(1.0)
    # x^2 / (x^2 + 1): 0, 1/2, 4/5, 9/10
    torch.testing.assert_close(hill(x, alpha, g), torch.tensor([0.0, 0.5, 0.8, 0.9]))
    # half saturation: hill(g) = 1/2 whatever alpha
    torch.testing.assert_close(
        hill(torch.tensor(2.5), torch.tensor(0.7), torch.tensor(2.5)), torch.tensor(0.5)
    )


def test_hill_is_monotone_and_bounded():
    x = torch.linspace(0, 50, 200)
    y = hill(x, torch.tensor(1.3), torch.tensor(4.0))
    assert torch.all(y[1:] >= y[:-1])
    assert y.min() >= 0 and y.max() < 1


def test_context_hill_parameters_positive_and_start_at_init():
    module = ContextHill(
        n_nodes=3, n_context=2, init_alpha=1.5, init_half_saturation=0.7
    )
    alpha, g = module.parameters_for(torch.rand(5, 2))
    torch.testing.assert_close(alpha, torch.full((5, 3), 1.5 + 1e-3))
    torch.testing.assert_close(g, torch.full((5, 3), 0.7 + 1e-3))
    with torch.no_grad():
        module.context_map.weight.normal_(0, 10)
    alpha, g = module.parameters_for(torch.randn(50, 2) * 10)
    assert (alpha > 0).all() and (g > 0).all()
    assert alpha.std(0).min() > 0  # shape now varies with context


def test_context_hill_without_context_and_broadcasting():
    module = ContextHill(n_nodes=2, n_context=0)
    x = torch.rand(3, 2, 10) * 3
    out = module(x, torch.zeros(3, 0))
    torch.testing.assert_close(
        out, hill(x, torch.tensor(1.0 + 1e-3), torch.tensor(1.0 + 1e-3))
    )

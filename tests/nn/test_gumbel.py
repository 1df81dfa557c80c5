import torch

from sklearn_causalmmm.nn.gumbel import edge_probability, sample_edges


def test_hard_samples_are_one_hot_with_soft_gradient():
    torch.manual_seed(0)
    logits = torch.randn(4, 3, 3, 2, requires_grad=True)
    sample = sample_edges(logits, tau=0.5, hard=True)
    assert set(sample.detach().unique().tolist()) == {0.0, 1.0}
    assert torch.equal(sample.detach().sum(-1), torch.ones(4, 3, 3))
    (sample[..., 1] * torch.arange(9.0).view(3, 3)).sum().backward()
    assert logits.grad.abs().sum() > 0


def test_soft_samples_sum_to_one_and_sharpen_as_tau_falls():
    torch.manual_seed(0)
    logits = torch.randn(2000, 2)
    sharpness = []
    for tau in (5.0, 1.0, 0.1):
        torch.manual_seed(1)
        sample = sample_edges(logits, tau=tau)
        torch.testing.assert_close(sample.sum(-1), torch.ones(2000))
        sharpness.append(sample.max(-1).values.mean().item())
    assert sharpness[0] < sharpness[1] < sharpness[2]
    assert sharpness[2] > 0.95


def test_soft_sample_frequencies_follow_the_posterior():
    torch.manual_seed(0)
    logits = torch.log(torch.tensor([[0.8, 0.2]])).expand(20000, 2)
    hard = sample_edges(logits, tau=1.0, hard=True)
    assert abs(hard[:, 1].mean().item() - 0.2) < 0.02


def test_edge_probability_is_one_minus_no_edge():
    logits = torch.log(torch.tensor([[0.7, 0.3], [0.1, 0.9]]))
    torch.testing.assert_close(edge_probability(logits), torch.tensor([0.3, 0.9]))

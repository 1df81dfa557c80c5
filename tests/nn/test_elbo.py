import math

import pytest
import torch

from sklearn_causalmmm.nn.elbo import edge_kl, gaussian_nll, log_edge_prior


def test_gaussian_nll_hand_computed_and_masked():
    prediction = torch.zeros(1, 2, 3)
    target = torch.tensor([[[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    # observed squared errors: 1 + 4 + 0 + 1 = 6; / (2 * 0.5) / 2 nodes = 3
    torch.testing.assert_close(
        gaussian_nll(prediction, target, mask, 0.5), torch.tensor([3.0])
    )


def test_learned_variance_adds_the_log_term():
    prediction = torch.zeros(1, 2, 1)
    target = torch.tensor([[[2.0], [1.0]]])
    variance = torch.tensor([4.0, 1.0])
    # (4 / 8 + log(4) / 2 + 1 / 2 + 0) / 2 nodes
    expected = (0.5 + 0.5 * math.log(4.0) + 0.5) / 2
    got = gaussian_nll(prediction, target, torch.ones(1, 1), variance)
    torch.testing.assert_close(got, torch.tensor([expected]))


def test_kl_zero_at_the_prior_positive_elsewhere():
    prior = log_edge_prior(2, 0.2)
    torch.testing.assert_close(prior.exp(), torch.tensor([0.8, 0.2]))
    at_prior = prior.expand(1, 3, 3, 2).clone()
    torch.testing.assert_close(
        edge_kl(at_prior, prior), torch.zeros(1), atol=1e-6, rtol=0
    )
    dense = torch.tensor([0.0, 3.0]).expand(1, 3, 3, 2)
    assert edge_kl(dense, prior).item() > 0


def test_uniform_prior_kl_hand_computed():
    prior = log_edge_prior(2, None)
    logits = torch.log(torch.tensor([0.9, 0.1])).expand(1, 2, 2, 2)
    per_edge = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    # two off-diagonal edges, divided by 2 nodes; the diagonal is ignored
    torch.testing.assert_close(edge_kl(logits, prior), torch.tensor([per_edge]))


def test_bad_prior():
    with pytest.raises(ValueError, match="edge_prior"):
        log_edge_prior(2, 1.5)

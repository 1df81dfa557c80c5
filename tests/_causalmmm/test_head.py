"""The target head's bounded least squares."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.optimize import lsq_linear

from sklearn_causalmmm._causalmmm import head as head_module
from sklearn_causalmmm._causalmmm.head import (
    TargetHead,
    response_features,
    solve_nonnegative,
)


@pytest.mark.parametrize("seed", range(5))
def test_pivoting_reaches_the_bounded_least_squares_optimum(seed):
    rng = np.random.RandomState(seed)
    n_rows, n_columns = 300, 40
    A = sp.random(n_rows, n_columns, density=0.3, random_state=rng, format="csr")
    # a ridge on every column, as the head's penalties give
    A = sp.vstack([A, sp.identity(n_columns) * 0.1]).tocsr()
    b = np.concatenate([rng.randn(n_rows) * 3, np.zeros(n_columns)])
    bounded = rng.rand(n_columns) < 0.6
    lower = np.where(bounded, 0.0, -np.inf)
    x = solve_nonnegative((A.T @ A).tocsc(), A.T @ b, bounded)
    reference = lsq_linear(A, b, bounds=(lower, np.inf), tol=1e-12).x
    assert np.all(x[bounded] >= 0.0)
    assert (x[bounded] == 0.0).any()  # the bounds bind: the test tests them
    np.testing.assert_allclose(x, reference, atol=1e-6)
    # the optimality conditions, exactly: no gradient at a free column, and
    # none asking a column at its bound to grow
    gradient = A.T @ (b - A @ x)
    free = ~bounded | (x > 0)
    np.testing.assert_allclose(gradient[free], 0.0, atol=1e-8)
    assert np.all(gradient[~free] <= 1e-8)


def _whole_design(head, values, features, shocks, gates):
    """The head's design over every (shop, step) row, dense, as one matrix."""
    n_shops, _, n_steps = values.shape
    n_features = features.shape[0]
    n_shocks = int(shocks.max()) + 1
    rows = []
    responses = response_features(values, head.known, head.kernels)
    for s in range(n_shops):
        for t in range(n_steps):
            level = np.eye(n_shops)[s]
            own = np.zeros(n_shops * n_features)
            own[s * n_features : (s + 1) * n_features] = features[:, t]
            shock = np.zeros(n_shocks)
            if shocks[t] >= 0:
                shock[shocks[t]] = 1.0
            controls = values[s, head.controls, t]
            gated = (
                responses[s, head.responders, :, t] * gates[s, head.responders, None]
            )
            rows.append(
                np.concatenate(
                    [level, features[:, t], own, shock, controls, gated.ravel()]
                )
            )
    return np.array(rows)


@pytest.mark.parametrize("chunk_elements", [50, 2**22])
def test_head_fit_by_chunks_of_shops_is_the_whole_least_squares(
    chunk_elements, monkeypatch
):
    # the head eliminates each shop's own coefficients chunk by chunk; the
    # result must be the bounded penalised least squares over every row
    monkeypatch.setattr(head_module, "_CHUNK_ELEMENTS", chunk_elements)
    rng = np.random.RandomState(0)
    n_shops, n_steps, n_features = 5, 24, 3
    roles = ["media", "funnel", "control", "target"]
    values = rng.gamma(2.0, 1.0, size=(n_shops, 4, n_steps))
    values[:, 2] = rng.randn(n_shops, n_steps)
    values[:, -1] = 1.0 + 0.6 * values[:, 0] - 0.4 * values[:, 1] + 0.2 * values[:, 2]
    values[:, -1] += 0.1 * rng.randn(n_shops, n_steps)
    mask = rng.rand(n_shops, n_steps) > 0.15
    features = rng.randn(n_features, n_steps)
    shocks = np.where(np.arange(n_steps) % 5 == 2, np.arange(n_steps) // 5, -1)
    gates = rng.rand(n_shops, 4)
    head = TargetHead(roles, with_responses=True, shop_scale=0.1)
    head.fit(values, mask, features, shocks, gates)

    design = _whole_design(head, values, features, shocks, gates)[mask.ravel()]
    target = values[:, -1][mask]
    blocks = head.design_.blocks
    # the noise that sets the penalties: levels and shared time features alone
    levels_and_time = design[:, : blocks["time"].stop]
    coef, *_ = np.linalg.lstsq(levels_and_time, target, rcond=None)
    noise = np.mean((target - levels_and_time @ coef) ** 2)
    np.testing.assert_allclose(head.noise_, noise, rtol=1e-9)
    penalty = np.zeros(design.shape[1])
    penalty[blocks["time"]] = head.noise_ / 1.0
    penalty[blocks["time_shop"]] = head.noise_ / 0.1**2
    penalty[blocks["shock"]] = head.noise_ / (0.1 * np.std(target)) ** 2
    penalty[blocks["control"]] = head.noise_
    penalty[blocks["response"]] = head.noise_
    augmented = np.vstack([design, np.diag(np.sqrt(penalty))])
    rhs = np.concatenate([target, np.zeros(len(penalty))])
    lower = np.full(design.shape[1], -np.inf)
    lower[blocks["response"]] = 0.0
    reference = lsq_linear(augmented, rhs, bounds=(lower, np.inf), tol=1e-12).x
    assert (reference[blocks["response"]] < 1e-9).any()  # a bound binds
    np.testing.assert_allclose(head.coef_, reference, atol=1e-6)
    residual = target - design @ head.coef_
    np.testing.assert_allclose(head._residual_variance, np.mean(residual**2))
    # the shared coefficients' covariance is that block of the whole inverse
    gram = design.T @ design + np.diag(penalty)
    response = np.arange(blocks["response"].start, blocks["response"].stop)
    covariance = np.linalg.inv(gram)[np.ix_(response, response)]
    np.testing.assert_allclose(
        head._covariance(response), covariance * head._residual_variance, rtol=1e-8
    )


def test_head_predicts_chunk_by_chunk_of_shops(monkeypatch):
    rng = np.random.RandomState(1)
    roles = ["media", "control", "target"]
    values = rng.gamma(2.0, 1.0, size=(7, 3, 16))
    values[:, -1] += values[:, 0]
    features = rng.randn(2, 16)
    shocks = np.full(16, -1)
    gates = rng.rand(7, 3)
    head = TargetHead(roles, with_responses=True).fit(
        values, np.ones((7, 16), bool), features, shocks, gates
    )
    rows = np.array([6, 0, 3, 2, 5])
    whole = head.predict(values[rows], features, shocks, gates[rows], rows)
    # 2 shops a chunk (3 nodes x 7 kernels x 16 steps each)
    monkeypatch.setattr(head_module, "_CHUNK_ELEMENTS", 2 * 3 * 7 * 16)
    chunked = head.predict(values[rows], features, shocks, gates[rows], rows)
    for part, expected in zip(chunked, whole, strict=True):
        assert isinstance(part, np.ndarray) and part.shape == (5, 16)
        np.testing.assert_allclose(part, expected, rtol=1e-12)
    # a Tensor window stays differentiable through the chunks
    x = torch.tensor(values[rows], requires_grad=True)
    base, responses = head.predict(x, features, shocks, gates[rows], rows)
    (base + responses).sum().backward()
    assert x.grad is not None and x.grad[:, 0].abs().sum() > 0


def test_head_without_shared_columns_fits_each_shops_level():
    # no time features, shocks, controls nor responses: each shop's level is
    # its mean over the fitted steps
    rng = np.random.RandomState(2)
    values = rng.rand(3, 2, 10)
    mask = np.ones((3, 10), bool)
    mask[1, :4] = False
    head = TargetHead(["funnel", "target"], with_responses=False)
    head.fit(values, mask, np.zeros((0, 10)), np.full(10, -1))
    means = [values[s, -1][mask[s]].mean() for s in range(3)]
    np.testing.assert_allclose(head.coef_, means, rtol=1e-12)

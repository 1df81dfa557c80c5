"""The target head's bounded least squares."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.optimize import lsq_linear

from sklearn_causalmmm._causalmmm import head as head_module
from sklearn_causalmmm._causalmmm.head import (
    ScaledValues,
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
    # each shop's level then gives back the mean response its multipliers add
    weights = reference[blocks["response"]].reshape(2, -1)
    responses = response_features(values, head.known, head.kernels)[:, [0, 1]]
    responses = np.einsum("sjkt,jk,sj->stj", responses, weights, gates[:, [0, 1]])
    mean = [responses[s][mask[s]].mean(0) for s in range(n_shops)]
    levels = reference[blocks["level"]] - ((head.shop_response_ - 1) * mean).sum(1)
    np.testing.assert_allclose(head.coef_[blocks["level"]], levels, atol=1e-6)
    rest = np.arange(blocks["level"].stop, len(reference))
    np.testing.assert_allclose(head.coef_[rest], reference[rest], atol=1e-6)
    residual = target - design @ reference
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


def test_scaled_values_read_by_shops_equal_the_whole_division():
    rng = np.random.RandomState(3)
    values = rng.gamma(2.0, 1.0, size=(5, 4, 9)).astype(np.float32)
    scale = rng.uniform(0.5, 3.0, size=(5, 4))
    whole = values / scale[..., None]
    x = ScaledValues(values, scale)
    assert x.shape == (5, 4, 9) and len(x) == 5
    rows = np.array([4, 1, 2])
    for got, expected in [
        (x[:], whole),
        (x[rows], whole[rows]),
        (x[1:3, -1], whole[1:3, -1]),
        (x[:, -1, -3:], whole[:, -1, -3:]),
        (x[:, 1], whole[:, 1]),
        (x[2], whole[2]),
        (x[rows, :2, 4:], whole[rows, :2, 4:]),
    ]:
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)  # bit for bit
    # a funnel node read as the target: the copy with its row in the last one
    funnel = whole.copy()
    funnel[:, -1] = whole[:, 1]
    y = x.with_target(1)
    np.testing.assert_array_equal(y[:], funnel)
    np.testing.assert_array_equal(y[rows], funnel[rows])
    np.testing.assert_array_equal(y[1:4, -1], funnel[1:4, -1])
    np.testing.assert_array_equal(y[:, 0], funnel[:, 0])
    # reads never write into the panel
    np.testing.assert_array_equal(x[:], whole)


def test_head_on_scaled_values_equals_the_head_on_the_scaled_copy(monkeypatch):
    rng = np.random.RandomState(4)
    roles = ["media", "funnel", "control", "target"]
    raw = rng.gamma(2.0, 1.0, size=(9, 4, 20)).astype(np.float32)
    raw[:, -1] += raw[:, 0] + raw[:, 1]
    scale = rng.uniform(0.5, 2.0, size=(9, 4))
    features, shocks = rng.randn(2, 20), np.full(20, -1)
    shocks[5] = 0
    gates = rng.rand(9, 4)
    mask = rng.rand(9, 20) > 0.1
    # chunks of 2 shops in the fit and the predictions
    monkeypatch.setattr(head_module, "_CHUNK_ELEMENTS", 2 * 4 * 9 * 20)
    for target in (-1, 1):
        copy = raw / scale[..., None]
        copy[:, -1] = copy[:, target]
        lazy = ScaledValues(raw, scale).with_target(target)
        heads = [
            TargetHead(roles, with_responses=True).fit(x, mask, features, shocks, gates)
            for x in (copy, lazy)
        ]
        np.testing.assert_array_equal(heads[0].coef_, heads[1].coef_)
        np.testing.assert_array_equal(heads[0].shop_response_, heads[1].shop_response_)
        for part, expected in zip(
            heads[1].predict(lazy, features, shocks, gates),
            heads[0].predict(copy, features, shocks, gates),
            strict=True,
        ):
            np.testing.assert_array_equal(part, expected)


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


def _head_panel(effect, n_steps=120, seed=0, funnel=False):
    """Scaled values ``(n_shops, nodes, n_steps)``: a media node whose
    response (no carryover, half-saturation 1, same step) moves the target by
    ``effect[s]`` in shop ``s``; with ``funnel``, the media drive a funnel node
    and only the funnel node (same step) drives the target."""
    rng = np.random.RandomState(seed)
    n_shops = len(effect)
    media = rng.gamma(4.0, 0.25, size=(n_shops, n_steps))
    response = media / (media + 1.0)
    noise = 0.02 * rng.randn(n_shops, n_steps)
    if funnel:
        pages = 1.0 + 2.0 * response + 0.05 * rng.randn(n_shops, n_steps)
        target = 1.0 + np.asarray(effect)[:, None] * pages + noise
        return np.stack([media, pages, target], 1), ("media", "funnel", "target")
    target = 1.0 + np.asarray(effect)[:, None] * response + noise
    return np.stack([media, target], 1), ("media", "target")


def _fit(values, roles):
    n_steps = values.shape[-1]
    head = TargetHead(roles, with_responses=True)
    features, shocks = np.linspace(-1.0, 1.0, n_steps)[None], np.full(n_steps, -1)
    mask = np.ones(values[:, 0].shape, dtype=bool)
    return head.fit(values, mask, features, shocks), features, shocks


def test_shops_keep_their_own_response_and_shared_ones_are_pooled():
    # half the shops respond three times as strongly as the other half
    effect = np.repeat([0.5, 1.5], 6)
    values, roles = _head_panel(effect)
    head, features, shocks = _fit(values, roles)
    _, responses = head.predict(values, features, shocks)
    media = values[:, 0] / (values[:, 0] + 1.0)
    slope = (responses * media).sum(1) / (media**2).sum(1)  # per-shop effect
    np.testing.assert_allclose(slope, effect, rtol=0.1)
    # one shared effect: the between-shop variance is estimated near 0 and
    # every shop keeps the shared response
    values, roles = _head_panel(np.full(12, 1.0))
    head, *_ = _fit(values, roles)
    np.testing.assert_allclose(head.shop_response_, 1.0, atol=0.05)


def test_a_same_step_funnel_node_takes_the_credit_of_the_media_it_carries():
    values, roles = _head_panel(np.full(8, 1.0), funnel=True)
    head, features, shocks = _fit(values, roles)
    # the target moves with its funnel node in the same step: the media's own
    # edge gets (almost) nothing, the funnel node all of the effect
    _, responses = head.predict(values, features, shocks)
    zero_media = values.copy()
    zero_media[:, 0] = 0.0
    _, without_media = head.predict(zero_media, features, shocks)
    direct = (responses - without_media).sum()
    assert abs(direct) < 0.1 * responses.sum()  # 0.97 when read a step later


def test_drawn_shifts_of_a_driver_are_its_shifted_responses():
    values, roles = _head_panel(np.full(6, 1.0), funnel=True)
    head, *_ = _fit(values, roles)
    n_samples = 5
    shift = np.zeros(values[:, 1].shape)
    shift[:, 60:] = 0.3
    probabilities = np.full(values.shape[:2], 0.7)
    gains = np.ones(values.shape[:2])
    shifted = values.copy()
    shifted[:, 1] += shift
    expected = head.sample_responses(
        shifted, probabilities, gains, n_samples, np.random.RandomState(0)
    )
    drawn = head.sample_responses(
        values,
        probabilities,
        gains,
        n_samples,
        np.random.RandomState(0),
        shifts={1: np.repeat(shift[None], n_samples, 0)},
    )
    np.testing.assert_allclose(drawn, expected, rtol=1e-10, atol=1e-12)
    assert not np.allclose(
        drawn,
        head.sample_responses(
            values, probabilities, gains, n_samples, np.random.RandomState(0)
        ),
    )

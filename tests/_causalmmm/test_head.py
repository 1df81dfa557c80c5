"""The target head's bounded least squares."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import lsq_linear

from sklearn_causalmmm._causalmmm.head import TargetHead, solve_nonnegative


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

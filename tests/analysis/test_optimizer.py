"""Tests of the constrained solver behind the budget optimiser."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize

from sklearn_causalmmm.analysis._optimizer import (
    LinearRows,
    minimize_augmented,
    nearest_feasible,
)


def rows(matrix, lower, upper):
    return LinearRows(
        sparse.csr_array(np.asarray(matrix, float)),
        np.asarray(lower, float),
        np.asarray(upper, float),
    )


def test_nearest_feasible_moves_the_least_and_lands_on_every_row():
    x = np.array([1.0, 1.0, 1.0, 1.0])
    lower, upper = np.zeros(4), np.array([1.2, 5.0, 5.0, 5.0])
    budget = rows(
        [[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], [3.0, -np.inf, 0.0], [3.0, 1.5, 4.5]
    )
    y = nearest_feasible(x, lower, upper, budget, x_scale=np.full(4, 2.0))
    values = budget.matrix @ y
    assert values[0] == pytest.approx(3.0, abs=1e-12)
    assert values[1] <= 1.5 + 1e-12 and values[2] <= 4.5 + 1e-12
    assert np.all(y >= lower) and np.all(y <= upper)
    # the first row needs +1 and the second -0.5: no point moves less
    assert np.abs(y - x).sum() == pytest.approx(1.5, abs=1e-9)


def test_nearest_feasible_says_when_nothing_fits():
    budget = rows([[1, 1]], [3.0], [3.0])
    assert nearest_feasible(np.ones(2), np.zeros(2), np.ones(2), budget) is None


def test_augmented_lagrangian_finds_what_slsqp_finds():
    rng = np.random.default_rng(0)
    n = 8
    gain, half = rng.uniform(1, 5, n), rng.uniform(0.5, 2, n)

    def negative_curve(x):
        return -np.sum(gain * np.log1p(x / half)), -gain / (half + x)

    def floor(x):  # a nonlinear constraint: the curve reaches at least 6
        return -negative_curve(x)[0] - 6.0, -negative_curve(x)[1]

    matrix = np.zeros((3, n))
    matrix[0, :4] = 1.0  # an exact budget
    matrix[1, 4:] = 1.0  # a cap
    matrix[2, ::2] = 2.0  # a range
    lower, upper = np.array([4.0, -np.inf, 3.0]), np.array([4.0, 3.0, 9.0])
    box = (np.full(n, 0.1), np.full(n, 2.5))
    x0 = np.full(n, 0.8)

    def spend(x):
        return x.sum(), np.ones(n)

    found = minimize_augmented(
        spend, x0, *box, rows(matrix, lower, upper), constraint=floor
    )
    reference = minimize(
        lambda x: spend(x)[0],
        x0,
        jac=lambda x: spend(x)[1],
        method="SLSQP",
        bounds=list(zip(*box, strict=True)),
        constraints=[
            LinearConstraint(matrix[:1], lower[:1], upper[:1]),
            LinearConstraint(matrix[1:], lower[1:], upper[1:]),
            NonlinearConstraint(lambda x: floor(x)[0], 0.0, np.inf),
        ],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert reference.success and found.converged
    assert found.x.sum() == pytest.approx(reference.fun, rel=1e-5)
    np.testing.assert_allclose(found.x, reference.x, atol=1e-3)


def test_rows_over_free_variables_carry_the_fixed_ones():
    budget = rows([[1, 2, 3]], [10.0], [12.0])
    free = np.array([True, False, True])
    restricted = budget.restricted(free, np.array([0.0, 2.0, 0.0]))
    np.testing.assert_array_equal(restricted.matrix.toarray(), [[1.0, 3.0]])
    np.testing.assert_array_equal([restricted.lower, restricted.upper], [[6.0], [8.0]])
    np.testing.assert_allclose(
        budget.violation(np.array([1.0, 2.0, 3.0])), [(14.0 - 12.0) / 12.0]
    )

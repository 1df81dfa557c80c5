"""The target head's bounded least squares."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import lsq_linear

from sklearn_causalmmm._causalmmm.head import solve_nonnegative


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

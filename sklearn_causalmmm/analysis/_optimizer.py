"""Smooth optimisation under bounds, linear budgets and one forecast constraint.

:func:`minimize_augmented` minimises a smooth function ``f(x)`` (value and
gradient) subject to

* box bounds ``lower <= x <= upper``;
* linear rows ``row_lower <= A @ x <= row_upper`` (budgets: equalities when
  both sides agree);
* optionally one smooth constraint ``c(x) >= 0`` (a forecast target, a
  minimum return on spend).

It is an augmented Lagrangian method (Powell-Hestenes-Rockafellar, in the
form of Conn, Gould and Toint's LANCELOT and Birgin and Martinez's ALGENCAN):
each round minimises ``f`` plus a quadratic penalty on the rows' and the
constraint's distance to their ranges, shifted by their multipliers, with
L-BFGS-B, which keeps the box bounds exactly and needs memory linear in the
number of variables. SLSQP would solve the same problem but stores dense
matrices of the size of the number of variables squared, too much for a plan
of 100 shops x 10 channels x 13 weeks (13,000 variables).

The rounds end within a small tolerance of the rows; :func:`nearest_feasible`
then moves the point the least (in the L1 norm, a linear programme solved by
HiGHS) so that every row and bound holds to float rounding.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, linprog, minimize
from scipy.sparse.linalg import lsqr

__all__ = ["LinearRows", "SolverResult", "minimize_augmented", "nearest_feasible"]

ValueAndGradient = Callable[[np.ndarray], tuple[float, np.ndarray]]

#: Largest penalty weight; beyond it L-BFGS-B works on a badly scaled problem.
_MAX_PENALTY = 1e10
#: HiGHS's feasibility tolerances for the repair, on rows of unit norm over
#: variables of order 1.
_LP_TOLERANCE = 1e-10


@dataclass
class LinearRows:
    """Rows ``lower <= matrix @ x <= upper``; ``lower == upper`` is an equality."""

    matrix: sparse.csr_array
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def empty(cls, n_vars: int) -> LinearRows:
        return cls(sparse.csr_array((0, n_vars)), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def violation(self, x: np.ndarray) -> np.ndarray:
        """How far each row lies outside its range, relative to the range's size."""
        values = self.matrix @ x
        size = np.maximum.reduce(
            [np.ones_like(values), _finite_abs(self.lower), _finite_abs(self.upper)]
        )
        return np.abs(values - np.clip(values, self.lower, self.upper)) / size

    def restricted(self, free: np.ndarray, x_fixed: np.ndarray) -> LinearRows:
        """The rows over the ``free`` variables, the others held at ``x_fixed``."""
        constant = self.matrix @ np.where(free, 0.0, x_fixed)
        return LinearRows(
            sparse.csr_array(self.matrix[:, free]),
            self.lower - constant,
            self.upper - constant,
        )

    def scaled(self, x_scale: np.ndarray) -> LinearRows:
        """The rows over ``x / x_scale``, each divided by its norm."""
        matrix = sparse.csr_array(self.matrix @ sparse.diags_array(x_scale))
        largest = np.ones(len(self))
        if matrix.nnz:
            largest = np.sqrt(matrix.multiply(matrix).sum(axis=1))
            largest = np.where(largest > 0, largest, 1.0)
        inverse = sparse.diags_array(1.0 / largest)
        return LinearRows(
            sparse.csr_array(inverse @ matrix),
            self.lower / largest,
            self.upper / largest,
        )


def _finite_abs(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), np.abs(values), 0.0)


@dataclass
class SolverResult:
    x: np.ndarray
    n_rounds: int
    converged: bool


def nearest_feasible(
    x: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    rows: LinearRows,
    x_scale: np.ndarray | None = None,
) -> np.ndarray | None:
    """The point within bounds and rows nearest ``x`` in the L1 norm, or None.

    ``x`` is first clipped to the bounds; the move is ``p - q`` with
    ``p, q >= 0`` (in units of ``x_scale``), a linear programme in ``2 n``
    variables. None when no point satisfies the bounds and the rows together.
    """
    x = np.clip(x, lower, upper)
    if len(rows) == 0:
        return x
    d = np.ones_like(x) if x_scale is None else np.asarray(x_scale, float)
    z, z_lower, z_upper = x / d, lower / d, upper / d
    scaled = rows.scaled(d)
    n = x.size
    matrix = sparse.csr_array(sparse.hstack([scaled.matrix, -scaled.matrix]))
    residual = scaled.matrix @ z
    equal = scaled.lower == scaled.upper
    a_eq = b_eq = a_ub = b_ub = None
    if equal.any():
        a_eq, b_eq = matrix[equal], (scaled.lower - residual)[equal]
    blocks, limits = [], []
    for sign, bound in ((1.0, scaled.upper), (-1.0, scaled.lower)):
        keep = ~equal & np.isfinite(bound)
        if keep.any():
            blocks.append(sign * matrix[keep])
            limits.append(sign * (bound - residual)[keep])
    if blocks:
        a_ub, b_ub = sparse.csr_array(sparse.vstack(blocks)), np.concatenate(limits)
    move_bounds = np.concatenate(
        [
            np.stack([np.zeros(n), z_upper - z], axis=1),
            np.stack([np.zeros(n), z - z_lower], axis=1),
        ]
    )
    result = linprog(
        np.ones(2 * n),
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=move_bounds,
        method="highs",
        options={
            # presolve looks for parallel columns, and every p has its -q:
            # with a budget over all variables it takes seconds, the solve ms
            "presolve": False,
            "primal_feasibility_tolerance": _LP_TOLERANCE,
            "dual_feasibility_tolerance": _LP_TOLERANCE,
        },
    )
    if result.status != 0:
        return None
    return np.clip((z + result.x[:n] - result.x[n:]) * d, lower, upper)


def minimize_augmented(
    fun: ValueAndGradient,
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    rows: LinearRows,
    *,
    constraint: ValueAndGradient | None = None,
    x_scale: np.ndarray | None = None,
    max_rounds: int = 50,
    max_inner: int = 300,
    tol: float = 1e-6,
) -> SolverResult:
    """Minimise ``fun`` within bounds, rows and ``constraint(x) >= 0``.

    Parameters
    ----------
    fun : callable
        ``x -> (value, gradient)``.
    x0 : ndarray
        Starting point within the bounds (ideally within the rows too).
    lower, upper : ndarray
        Box bounds (``upper`` may be ``inf``).
    rows : LinearRows
    constraint : callable, default=None
        ``x -> (value, gradient)``, feasible where the value is ``>= 0``.
    x_scale : ndarray, default=None
        Typical size of each variable; the solver works on ``x / x_scale``.
    max_rounds : int, default=50
        Augmented Lagrangian rounds (each one L-BFGS-B run).
    max_inner : int, default=300
        L-BFGS-B iterations per round.
    tol : float, default=1e-6
        Relative violation of the rows and the constraint at which the rounds
        stop (with the objective moving by less than a tenth of it): the
        repair then moves the point by about as much.

    Returns
    -------
    SolverResult
        ``x`` within the bounds (not yet repaired onto the rows).
    """
    d = np.ones_like(x0) if x_scale is None else np.asarray(x_scale, float)
    z = np.clip(x0, lower, upper) / d
    z_lower, z_upper = lower / d, upper / d
    box = Bounds(z_lower, z_upper)
    linear = rows.scaled(d)
    # Objective and constraint measured so that their steepest slope at the
    # start is 1, like the rows': one penalty weight then suits all of them.
    f_scale = _slope(fun, z * d, d)
    # measured from the start, so that L-BFGS-B's relative tolerance is one
    # of the gain, not of a total that a large base makes huge
    f_start = fun(z * d)[0]
    c_scale = _slope(constraint, z * d, d) if constraint is not None else 1.0

    n_rows = len(linear)
    penalty = 1.0
    range_lower = np.append(linear.lower, 0.0) if constraint else linear.lower
    range_upper = np.append(linear.upper, np.inf) if constraint else linear.upper
    size = np.maximum.reduce(
        [np.ones(len(range_lower)), _finite_abs(range_lower), _finite_abs(range_upper)]
    )

    def residuals(z):
        values = linear.matrix @ z
        gradient_of = None
        if constraint is not None:
            c, c_grad = constraint(z * d)
            values = np.append(values, c / c_scale)
            gradient_of = c_grad * d / c_scale
        return values, gradient_of

    def lagrangian(z):
        value, gradient = fun(z * d)
        value, gradient = (value - f_start) / f_scale, gradient * d / f_scale
        values, c_gradient = residuals(z)
        shifted = values + multipliers / penalty
        excess = shifted - np.clip(shifted, range_lower, range_upper)
        value += 0.5 * penalty * excess @ excess
        gradient = gradient + penalty * (linear.matrix.T @ excess[:n_rows])
        if constraint is not None:
            gradient = gradient + penalty * excess[-1] * c_gradient
        return value, gradient

    multipliers = _first_order_multipliers(
        fun(z * d)[1] * d / f_scale,
        residuals(z)[1],
        linear.matrix,
        (z > z_lower) & (z < z_upper),
        range_lower,
        range_upper,
    )
    previous_violation, previous_value = np.inf, np.inf
    converged = False
    n_rounds = 0
    for n_rounds in range(1, max_rounds + 1):  # noqa: B007 - reported below
        result = minimize(
            lagrangian,
            z,
            jac=True,
            method="L-BFGS-B",
            bounds=box,
            options={"maxiter": max_inner, "ftol": 1e-5, "gtol": 1e-6},
        )
        z = np.clip(result.x, z_lower, z_upper)
        values, _ = residuals(z)
        violation = (
            np.max(np.abs(values - np.clip(values, range_lower, range_upper)) / size)
            if values.size
            else 0.0
        )
        shifted = values + multipliers / penalty
        multipliers = penalty * (shifted - np.clip(shifted, range_lower, range_upper))
        value = (fun(z * d)[0] - f_start) / f_scale
        # a round that moved nothing cannot be bettered by another one: the
        # objective is flat to its own rounding there (float32 forecasts)
        stalled = result.nit <= 1 or abs(value - previous_value) <= tol * 0.1 * max(
            1.0, abs(value)
        )
        if violation <= tol and (stalled or values.size == 0):
            converged = True
            break
        if violation > 0.25 * previous_violation:
            penalty = min(10.0 * penalty, _MAX_PENALTY)
        previous_violation, previous_value = violation, value
    return SolverResult(x=z * d, n_rounds=n_rounds, converged=converged)


def _slope(fun: ValueAndGradient | None, x: np.ndarray, d: np.ndarray) -> float:
    """Largest ``|d fun / d (x / d)|`` at ``x``; 1 when flat."""
    if fun is None:
        return 1.0
    slope = float(np.max(np.abs(fun(x)[1] * d), initial=0.0))
    return slope if np.isfinite(slope) and slope > 0 else 1.0


def _first_order_multipliers(
    gradient, c_gradient, matrix, inside, range_lower, range_upper
) -> np.ndarray:
    """Multipliers that best balance the objective's slope off the bounds.

    The least-squares solution of ``gradient + J^T mu = 0`` over the variables
    strictly within their bounds, ``J`` the rows (and the constraint's
    gradient): the first round then starts near the budgets' marginal
    returns instead of at zero, which saves most of a round.
    """
    jacobian = matrix
    if c_gradient is not None:
        jacobian = sparse.vstack([jacobian, sparse.csr_array(c_gradient[None, :])])
    jacobian = sparse.csr_array(jacobian)[:, inside]
    if jacobian.shape[0] == 0 or jacobian.nnz == 0:
        return np.zeros(jacobian.shape[0])
    mu = lsqr(jacobian.T, -gradient[inside], atol=1e-10, btol=1e-10)[0]
    # an upper side can only push down (mu >= 0), a lower side only up
    mu = np.where(np.isfinite(range_upper), mu, np.minimum(mu, 0.0))
    return np.where(np.isfinite(range_lower), mu, np.maximum(mu, 0.0))

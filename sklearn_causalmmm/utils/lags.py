"""Lag windows of a panel and the Granger statistics built on them (numpy).

Every Granger statistic of the package reads the same construction of lagged
series, :func:`lag_windows`: the encoder's pair features
(:func:`edge_lag_features`), the pooled test of each graph type and the
per-shop F-tests of the linear Granger baseline (both through
:func:`lag_design` and :func:`wald_statistics`), and the lag windows the neural
baselines train on.

Layout: a panel's ``values`` are ``(..., n_nodes, n_steps)``; window ``w``
predicts step ``w + n_lags`` from the ``n_lags`` steps before it, lag 1 first.
A window counts only if all its steps are observed (:func:`valid_windows`), so
the steps a ragged shop lacks never enter a statistic.

Lag orders: :func:`lag_design` and :func:`wald_statistics` take one lag order
per node (a sender's block is the columns of its lags, whatever their number),
so a lag order chosen per node from the data fits in without changing them;
an int is the same order for every node.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sklearn_causalmmm.utils.series import (
    STD_FLOOR,
    standardise_observed,
    weighted_moments,
)

__all__ = [
    "LAG_FEATURES",
    "edge_lag_features",
    "lag_design",
    "lag_feature_kinds",
    "lag_orders",
    "lag_windows",
    "MAX_AUTO_LAGS",
    "normal_equations",
    "ridge_solve",
    "select_lag_order",
    "valid_windows",
    "wald_statistics",
]

#: Lag statistics the encoder can read (see :func:`edge_lag_features`).
LAG_FEATURES = ("bivariate", "conditional", "summed")
#: Names for several statistics read side by side.
_LAG_FEATURE_SETS = {"both": ("bivariate", "conditional"), "all": LAG_FEATURES}
#: Ridge penalty per step of each node's regression on its own lags in the
#: bivariate statistic.
_OWN_LAG_RIDGE = 1e-2
#: Ridge penalty per step of the conditional and summed regressions: on
#: 100-step shops with 20 nodes and 5 lags the conditional one has 100
#: coefficients and 95 equations.
_LAG_RIDGE = 0.1
#: The pair features scale by sample standard deviations, as the encoder's
#: statistics were defined when its defaults were tuned. (The type test's Wald
#: statistic does not depend on the scale.)
_DDOF = 1
#: The largest lag order ``n_lags="auto"`` considers: distributed lags of
#: daily media reach about ten days (and weekly carryover eight weeks).
MAX_AUTO_LAGS = 10
#: A residual sum of squares is floored here before it divides: a receiver its
#: regression fits exactly must not turn every sender's statistic into inf.
_RSS_FLOOR = 1e-12


def lag_orders(n_lags: int | Sequence[int], n_nodes: int) -> np.ndarray:
    """Every node's lag order, ``(n_nodes,)`` ints >= 1.

    Parameters
    ----------
    n_lags : int or sequence of int
        One order for every node, or one per node.
    n_nodes : int

    Returns
    -------
    ndarray of shape (n_nodes,)

    Raises
    ------
    ValueError
        If an order is not an integer >= 1 or there is not one per node.

    Examples
    --------
    >>> from sklearn_causalmmm.utils.lags import lag_orders
    >>> lag_orders(3, 2).tolist(), lag_orders([1, 4], 2).tolist()
    ([3, 3], [1, 4])
    """
    orders = np.asarray(n_lags)
    if orders.ndim == 0:
        orders = np.full(n_nodes, orders)
    # bools are refused although numpy counts them as integers
    integral = orders.dtype.kind in "iu"
    if orders.shape != (n_nodes,) or not integral or (orders < 1).any():
        raise ValueError(
            f"n_lags must be an integer >= 1 or one such integer per node "
            f"({n_nodes} nodes), got {n_lags!r}."
        )
    return orders.astype(np.int64)


def lag_windows(values: np.ndarray, n_lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets and their lags: the one construction of lagged series.

    Parameters
    ----------
    values : ndarray of shape (..., n_nodes, n_steps)
    n_lags : int
        Lags of every window, ``1 <= n_lags < n_steps``.

    Returns
    -------
    target : ndarray of shape (..., n_nodes, n_windows)
        ``values[..., n_lags:]``, with ``n_windows = n_steps - n_lags``.
    lags : ndarray of shape (..., n_nodes, n_windows, n_lags)
        ``lags[..., w, l - 1]`` is the node ``l`` steps before ``target[..., w]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import lag_windows
    >>> target, lags = lag_windows(np.arange(5.0)[None], n_lags=2)
    >>> target.tolist(), lags[0].tolist()
    ([[2.0, 3.0, 4.0]], [[1.0, 0.0], [2.0, 1.0], [3.0, 2.0]])
    """
    n_steps = values.shape[-1]
    if not 1 <= n_lags < n_steps:
        raise ValueError(
            f"n_lags must be between 1 and the {n_steps} steps minus one, got {n_lags}."
        )
    lags = np.stack(
        [values[..., n_lags - lag : n_steps - lag] for lag in range(1, n_lags + 1)],
        axis=-1,
    )
    return values[..., n_lags:], lags


def valid_windows(mask: np.ndarray, n_lags: int) -> np.ndarray:
    """``(n_shops, n_steps - n_lags)`` float32: 1 where a lag window is usable.

    Window ``w`` reads steps ``w .. w + n_lags - 1`` and predicts step
    ``w + n_lags``; it counts only if all of them are observed, so the steps a
    ragged shop lacks never enter a fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import valid_windows
    >>> valid_windows(np.array([[True, True, False, True, True, True]]), 2)
    array([[0., 0., 0., 1.]], dtype=float32)
    """
    n_windows = mask.shape[-1] - n_lags
    observed = np.stack(
        [mask[:, lag : lag + n_windows] for lag in range(n_lags + 1)], -1
    )
    return observed.all(axis=-1).astype(np.float32)


def lag_design(
    values: np.ndarray, n_lags: int | Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regression layout of :func:`lag_windows`: one row per window.

    Parameters
    ----------
    values : ndarray of shape (..., n_nodes, n_steps)
    n_lags : int or sequence of int
        Lag order of every node, or one per node (see :func:`lag_orders`);
        the windows are those of the largest.

    Returns
    -------
    target : ndarray of shape (..., n_windows, n_nodes)
    design : ndarray of shape (..., n_windows, n_columns)
        Sender-major columns: the lags ``1..L_i`` of node 0, then of node 1...
    senders : ndarray of shape (n_columns,)
        The node of each column (the blocks :func:`wald_statistics` tests).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import lag_design
    >>> values = np.array([[0.0, 1, 2, 3], [10, 11, 12, 13]])
    >>> target, design, senders = lag_design(values, [1, 2])
    >>> design.tolist(), senders.tolist()
    ([[1.0, 11.0, 10.0], [2.0, 12.0, 11.0]], [0, 1, 1])
    """
    orders = lag_orders(n_lags, values.shape[-2])
    target, lags = lag_windows(values, int(orders.max()))
    keep = np.arange(lags.shape[-1]) < orders[:, None]
    if keep.all():
        design = _sender_major(lags)
    else:
        design = np.moveaxis(lags, -3, -2)[..., keep]
    senders = np.repeat(np.arange(len(orders)), orders)
    return np.swapaxes(target, -1, -2), design, senders


def _sender_major(lags: np.ndarray) -> np.ndarray:
    """Lags ``(..., d, W, L)`` as rows of windows ``(..., W, d * L)``, sender-major."""
    by_window = np.moveaxis(lags, -3, -2)
    return by_window.reshape(*by_window.shape[:-2], -1)


def normal_equations(
    design: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted sums of products of a least-squares problem, over its rows.

    Parameters
    ----------
    design : ndarray of shape (..., n_rows, n_columns)
    target : ndarray of shape (..., n_rows, n_targets)
    weights : ndarray of shape (..., n_rows), default=None
        Weight of each row (a mask of usable rows); None weighs every row 1.

    Returns
    -------
    gram : ndarray of shape (..., n_columns, n_columns)
    cross : ndarray of shape (..., n_columns, n_targets)
    squares : ndarray of shape (..., n_targets)
        Weighted sums of ``design^T design``, ``design^T target`` and
        ``target ** 2``: sums over several blocks of rows add up.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import normal_equations
    >>> design = np.array([[1.0], [2.0], [3.0]])
    >>> target = np.array([[2.0], [4.0], [0.0]])
    >>> gram, cross, squares = normal_equations(design, target, np.array([1, 1, 0]))
    >>> gram.tolist(), cross.tolist(), squares.tolist()
    ([[5.0]], [[10.0]], [20.0])
    """
    weighted = design if weights is None else weights[..., None] * design
    row_weights = np.ones(target.shape[:-1]) if weights is None else weights
    gram = np.swapaxes(weighted, -1, -2) @ design
    cross = np.swapaxes(weighted, -1, -2) @ target
    squares = (row_weights[..., None, :] @ target**2)[..., 0, :]
    return gram, cross, squares


def ridge_solve(gram: np.ndarray, cross: np.ndarray, penalty) -> np.ndarray:
    """Ridge coefficients ``(gram + penalty I)^-1 cross``, batched.

    ``penalty`` is a number or an array of the batch shape of ``gram``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import ridge_solve
    >>> ridge_solve(np.array([[5.0]]), np.array([[10.0]]), penalty=5.0).tolist()
    [[1.0]]
    """
    eye = np.eye(gram.shape[-1])
    penalty = np.asarray(penalty, dtype=np.float64)[..., None, None]
    return np.linalg.solve(gram + penalty * eye, cross)


def wald_statistics(
    gram: np.ndarray,
    cross: np.ndarray,
    squares: np.ndarray,
    n_rows: float,
    senders: np.ndarray,
    *,
    ridge: float = 0.0,
) -> np.ndarray:
    """Wald statistic of every sender's lags in every receiver's regression.

    For each receiver (a column of ``cross``), the least-squares regression on
    every column of the design is fitted once, and the statistic of the block
    of sender ``i``'s columns ``b`` is ``b^T (V_bb)^-1 b / s^2``, with ``V``
    the inverse of ``gram`` and ``s^2`` the residual variance. In ordinary
    least squares that is the drop in the residual sum of squares when the
    block is left out, over ``s^2``: the F statistic of the Granger test times
    the block's size.

    Parameters
    ----------
    gram, cross, squares : ndarray
        :func:`normal_equations` of one problem: ``(p, p)``, ``(p, d)``,
        ``(d,)``.
    n_rows : float
        (Weighted) number of rows; ``n_rows - p`` are the residual's degrees
        of freedom.
    senders : ndarray of shape (p,)
        The sender of each column, ``0 .. d - 1``; columns marked -1 (an
        intercept) are fitted but not tested.
    ridge : float, default=0.0
        Added to the diagonal of ``gram``, per row: keeps collinear columns
        solvable at the cost of a slight shrinkage.

    Returns
    -------
    ndarray of shape (d, d)
        ``[i, j]``: the statistic of sender ``i``'s block in receiver ``j``'s
        regression (0 for a node without columns). The residual sum of
        squares is floored at 1e-12, so series are expected on a unit scale.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import (
    ...     lag_design, normal_equations, wald_statistics)
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(2, 300)
    >>> x[1, 1:] += 0.5 * x[0, :-1]  # node 0 drives node 1
    >>> target, design, senders = lag_design(x, 2)
    >>> gram, cross, squares = normal_equations(design, target)
    >>> statistic = wald_statistics(gram, cross, squares, len(target), senders)
    >>> bool(statistic[0, 1] > 50), bool(statistic[1, 0] < 10)
    (True, True)
    """
    n_columns, n_nodes = cross.shape
    inverse = np.linalg.inv(gram + ridge * n_rows * np.eye(n_columns))
    coefficients = inverse @ cross  # (p, d)
    residual = squares - np.einsum("pj,pj->j", coefficients, cross)
    variance = np.maximum(residual, _RSS_FLOOR) / (n_rows - n_columns)
    statistic = np.zeros((n_nodes, n_nodes))
    for sender in np.unique(senders[senders >= 0]):
        block = np.flatnonzero(senders == sender)
        precision = np.linalg.inv(inverse[np.ix_(block, block)])
        own = coefficients[block]  # (L, d)
        statistic[sender] = np.einsum("lj,lm,mj->j", own, precision, own) / variance
    return statistic


# ---------------------------------------------------------------------------
# The encoder's pair features
# ---------------------------------------------------------------------------


def lag_feature_kinds(lag_features: str | Sequence[str]) -> tuple[str, ...]:
    """The statistics a ``lag_features`` value names, in the order they are read.

    Parameters
    ----------
    lag_features : str or sequence of str
        A name of :data:`LAG_FEATURES`, ``"both"`` (bivariate and
        conditional), ``"all"`` (the three) or a sequence (list or tuple) of
        distinct names; unordered collections such as sets are refused, since
        the order fixes the encoder's input columns.

    Returns
    -------
    tuple of str
        Names of :data:`LAG_FEATURES`.

    Raises
    ------
    ValueError
        If ``lag_features`` names anything else, repeats a name or is empty.

    Examples
    --------
    >>> from sklearn_causalmmm.utils.lags import lag_feature_kinds
    >>> lag_feature_kinds("both")
    ('bivariate', 'conditional')
    >>> lag_feature_kinds(["bivariate", "summed"])
    ('bivariate', 'summed')
    """
    if isinstance(lag_features, str):
        kinds = _LAG_FEATURE_SETS.get(lag_features, (lag_features,))
    elif isinstance(lag_features, list | tuple):
        kinds = tuple(lag_features)
    else:
        kinds = ()
    unknown = [kind for kind in kinds if kind not in LAG_FEATURES]
    if unknown or not kinds or len(set(kinds)) != len(kinds):
        raise ValueError(
            f"lag_features must be one of {LAG_FEATURES}, 'both', 'all', or a "
            f"sequence of distinct names among them, got {lag_features!r}."
        )
    return kinds


def edge_lag_features(
    values: np.ndarray,
    mask: np.ndarray,
    n_lags: int,
    lag_features: str | Sequence[str] = "all",
) -> np.ndarray:
    """Granger statistics of every pair of every shop, side by side.

    Each node is z-scored over the shop's observed steps (sample moments) and
    lagged once (:func:`lag_windows`); every regression below runs over the
    windows whose steps are all observed, with ridge penalties per such window:

    - ``"bivariate"``: each node is regressed on its own ``n_lags`` lags
      (penalty 0.01); feature ``[s, i, j, l - 1]`` is the correlation between
      the sender ``i`` lagged by ``l`` and the receiver ``j``'s residual. A
      sender that reaches ``j`` only through another node correlates with it
      too.
    - ``"conditional"``: each node is regressed on the lags of every node at
      once, its own included (penalty 0.1); feature ``[s, i, j, l - 1]`` is
      the coefficient of ``i`` lagged by ``l`` in ``j``'s regression, where a
      sender that reaches ``j`` only through another node is explained away
      by that node's lags.
    - ``"summed"``: for each window ``w`` in ``1..n_lags``, every node's lags
      ``1..w`` are summed (a flat carryover kernel) and scaled to unit
      sample standard deviation, and each node is regressed on the sums of every
      node (penalty 0.1); feature ``[s, i, j, w - 1]`` is ``i``'s
      coefficient. It holds an indirect sender below its bivariate
      correlation, though not at zero when the window outlasts the path's
      delay, with one unknown per node instead of ``n_lags``.

    Only the past of a sender enters, so every feature respects the Granger
    (no instantaneous) direction.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
        Observed steps.
    n_lags : int
    lag_features : str or sequence of str, default="all"
        Which statistics, in which order (see :func:`lag_feature_kinds`).

    Returns
    -------
    ndarray of shape (n_shops, n_nodes, n_nodes, n_kinds * n_lags)
        float64; ``[s, i, j]`` is the edge ``i -> j``. A shop without a usable
        window gets zeros.

    Raises
    ------
    ValueError
        If there are ``2 * n_lags`` steps or fewer, or ``lag_features`` names
        an unknown statistic.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import edge_lag_features
    >>> x = np.random.RandomState(0).randn(1, 3, 400)
    >>> x[:, 2, 1:] += 0.9 * x[:, 0, :-1]  # node 0 drives node 2 one step later
    >>> features = edge_lag_features(x, np.ones((1, 400), bool), 2, "conditional")
    >>> features.shape
    (1, 3, 3, 2)
    >>> int(np.abs(features[0, :, 2, 0]).argmax())  # the lag-1 sender of node 2
    0
    """
    kinds = lag_feature_kinds(lag_features)
    n_steps = values.shape[-1]
    if n_steps <= 2 * n_lags:
        raise ValueError(
            f"lagged edge features need more than {2 * n_lags} steps, got {n_steps}."
        )
    z = standardise_observed(
        np.asarray(values, dtype=np.float64), mask, np.float64, ddof=_DDOF
    )
    target, lags = lag_windows(z, n_lags)
    rows = valid_windows(mask, n_lags).astype(np.float64)
    statistics = [_STATISTICS[kind](target, lags, rows) for kind in kinds]
    return np.concatenate(statistics, axis=-1)


def _scale(x: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """``x`` over its weighted standard deviation along ``axis`` (not centred)."""
    _, std = weighted_moments(x, weights, axis, ddof=_DDOF)
    return x / np.maximum(std, STD_FLOOR)


def _bivariate(target, lags, rows) -> np.ndarray:
    n_rows = rows.sum(-1)  # (S,)
    own_gram, own_cross, _ = normal_equations(lags, target[..., None], rows[:, None, :])
    penalty = _OWN_LAG_RIDGE * np.maximum(n_rows, 1.0)[:, None]
    coefficients = ridge_solve(own_gram, own_cross, penalty)  # (S, d, L, 1)
    residual = target - (lags @ coefficients)[..., 0]
    residual = _scale(residual, rows[:, None, :], axis=-1) * rows[:, None, :]
    correlation = np.einsum("sjt,sitl->sijl", residual, lags)
    return correlation / np.maximum(n_rows, 1.0)[:, None, None, None]


def _conditional(target, lags, rows) -> np.ndarray:
    n_shops, n_nodes, _, n_lags = lags.shape
    gram, cross, _ = normal_equations(
        _sender_major(lags), np.swapaxes(target, 1, 2), rows
    )
    penalty = _LAG_RIDGE * np.maximum(rows.sum(-1), 1.0)
    coefficients = ridge_solve(gram, cross, penalty)
    # rows of the coefficients run over (sender, lag); columns over receivers
    return coefficients.reshape(n_shops, n_nodes, n_lags, n_nodes).swapaxes(-1, -2)


def _summed(target, lags, rows) -> np.ndarray:
    sums = _scale(lags.cumsum(-1), rows[:, None, :, None], axis=2)
    # one design per window: (shops, windows, steps, nodes)
    design = sums.transpose(0, 3, 2, 1)
    gram, cross, _ = normal_equations(
        design, np.swapaxes(target, 1, 2)[:, None], rows[:, None, :]
    )
    penalty = _LAG_RIDGE * np.maximum(rows.sum(-1), 1.0)[:, None]
    coefficients = ridge_solve(gram, cross, penalty)  # (S, windows, senders, d)
    return coefficients.transpose(0, 2, 3, 1)


_STATISTICS = {
    "bivariate": _bivariate,
    "conditional": _conditional,
    "summed": _summed,
}


# ---------------------------------------------------------------------------
# Lag order chosen from the data
# ---------------------------------------------------------------------------


def select_lag_order(
    values: np.ndarray, mask: np.ndarray, max_lags: int = MAX_AUTO_LAGS
) -> tuple[int, np.ndarray]:
    """The lag order of the panel by BIC of one VAR pooled over its shops.

    For every order ``L`` in ``1..max_lags``, every node (z-scored per shop,
    over its observed steps) is regressed on the lags ``1..L`` of every node,
    one least-squares fit over the windows of all shops; the order kept
    minimises Schwarz's criterion summed over the receivers,
    ``n log(RSS_j / n) + d L log n``, with ``n`` the pooled windows. Every
    order is fitted to the same targets (those that the largest order can
    predict). Pooling matters: a shop's own 100 steps cannot pay for ``d L``
    unknowns per node, while the panel shows which lags act in it (the
    coefficients may differ between shops; only the order is shared).

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
        Observed steps; a window counts only if all its steps are.
    max_lags : int, default=MAX_AUTO_LAGS
        The largest order considered; lowered so that at least ``2 * L + 1``
        steps remain.

    Returns
    -------
    n_lags : int
    criterion : ndarray of shape (max_lags,)
        BIC of every order (inf for orders the series are too short for).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.lags import select_lag_order
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(20, 2, 100)
    >>> x[:, 1, 4:] += 0.8 * x[:, 0, :-4]  # node 0 acts 4 steps later
    >>> n_lags, criterion = select_lag_order(x, np.ones((20, 100), bool), 6)
    >>> n_lags, bool(criterion[3] < criterion[2])
    (4, True)
    """
    values = np.asarray(values, dtype=np.float64)
    n_shops, n_nodes, n_steps = values.shape
    criterion = np.full(max_lags, np.inf)
    largest = min(max_lags, (n_steps - 1) // 2)
    if largest < 1:
        return 1, criterion
    z = standardise_observed(values, mask, np.float64, ddof=_DDOF)
    # windows of the largest order: every order predicts the same targets
    rows = valid_windows(mask, largest).reshape(-1).astype(np.float64)
    n_rows = rows.sum()
    for n_lags in range(1, largest + 1):
        skip = largest - n_lags
        target, design, _ = lag_design(z[..., skip:], n_lags)
        design = design.reshape(-1, design.shape[-1])
        gram, cross, squares = normal_equations(
            design, target.reshape(-1, n_nodes), rows
        )
        n_columns = gram.shape[0]
        if n_rows <= n_columns + 1:
            break
        ridge = _RSS_FLOOR * n_rows * np.eye(n_columns)  # only for collinear lags
        coefficients = np.linalg.solve(gram + ridge, cross)
        residual = squares - np.einsum("pj,pj->j", coefficients, cross)
        log_variance = np.log(np.maximum(residual, _RSS_FLOOR) / n_rows)
        criterion[n_lags - 1] = n_rows * log_variance.sum() + (
            n_nodes * n_columns * np.log(n_rows)
        )
    if not np.isfinite(criterion).any():
        return 1, criterion
    return int(np.argmin(criterion)) + 1, criterion

"""Per-shop moments and standardisation of a masked panel (numpy)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

__all__ = ["STD_FLOOR", "standardise_observed", "weighted_moments"]

# Floor of a node's standard deviation inside one shop: a node that is constant
# in a shop carries no Granger information there and must not blow up to inf.
STD_FLOOR = 1e-6


def weighted_moments(
    values: np.ndarray, weights: np.ndarray, axis: int = -1, ddof: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and standard deviation along ``axis`` (dimensions kept).

    Parameters
    ----------
    values : ndarray
    weights : ndarray
        Broadcastable to ``values``; a mask as 0/1 counts only the observed
        entries, whatever the others hold (as long as it is finite).
    axis : int, default=-1
    ddof : int, default=0
        The variance divides by the total weight minus ``ddof`` (at least 1):
        0 gives population moments, 1 sample moments.

    Returns
    -------
    mean, std : ndarray
        ``axis`` is kept with length 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.utils.series import weighted_moments
    >>> mean, std = weighted_moments(np.array([1.0, 3.0, 99.0]), np.array([1, 1, 0]))
    >>> float(mean[0]), float(std[0])
    (2.0, 1.0)
    """
    total = weights.sum(axis=axis, keepdims=True)
    count = np.maximum(total, 1.0)
    mean = (values * weights).sum(axis=axis, keepdims=True) / count
    centred = (values - mean) * weights
    spread = (centred**2).sum(axis=axis, keepdims=True)
    return mean, np.sqrt(spread / np.maximum(total - ddof, 1.0))


def standardise_observed(
    values: np.ndarray, mask: np.ndarray, dtype=np.float32, ddof: int = 0
) -> np.ndarray:
    """Z-score every node within every shop over the shop's observed steps.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
        True where a step is observed.
    dtype : numpy dtype, default=np.float32
        Of the result; the moments are computed in float64 either way.
    ddof : int, default=0
        Of the standard deviation (see :func:`weighted_moments`).

    Returns
    -------
    z : ndarray of shape (n_shops, n_nodes, n_steps)
        A new array; masked steps are 0 (the shop's mean).
    """
    weights = mask[:, None, :].astype(np.float64)
    mean, std = weighted_moments(values, weights, ddof=ddof)
    centred = (values - mean) * weights
    return (centred / np.maximum(std, STD_FLOOR)).astype(dtype)

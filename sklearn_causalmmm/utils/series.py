"""Per-shop standardisation and lag windows of a masked panel (numpy)."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

__all__ = ["standardise_observed", "valid_windows"]

# Floor of a node's standard deviation inside one shop: a node that is constant
# in a shop carries no Granger information there and must not blow up to inf.
STD_FLOOR = 1e-6


def standardise_observed(
    values: np.ndarray, mask: np.ndarray, dtype=np.float32
) -> np.ndarray:
    """Z-score every node within every shop over the shop's observed steps.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
        True where a step is observed.
    dtype : numpy dtype, default=np.float32
        Of the result; the moments are computed in float64 either way.

    Returns
    -------
    z : ndarray of shape (n_shops, n_nodes, n_steps)
        A new array; masked steps are 0 (the shop's mean).
    """
    weights = mask[:, None, :].astype(np.float64)
    count = np.maximum(weights.sum(axis=-1, keepdims=True), 1.0)
    mean = (values * weights).sum(axis=-1, keepdims=True) / count
    centred = (values - mean) * weights
    std = np.sqrt((centred**2).sum(axis=-1, keepdims=True) / count)
    return (centred / np.maximum(std, STD_FLOOR)).astype(dtype)


def valid_windows(mask: np.ndarray, n_lags: int) -> np.ndarray:
    """``(n_shops, n_steps - n_lags)`` float32: 1 where a lag window is usable.

    Window ``w`` reads steps ``w .. w + n_lags - 1`` and predicts step
    ``w + n_lags``; it counts only if all of them are observed, so the steps a
    ragged shop lacks never enter a fit.
    """
    n_windows = mask.shape[-1] - n_lags
    observed = np.stack(
        [mask[:, lag : lag + n_windows] for lag in range(n_lags + 1)], -1
    )
    return observed.all(axis=-1).astype(np.float32)

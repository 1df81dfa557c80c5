"""Per-edge intervals of a discoverer's graph: a moving-block bootstrap over time.

A graph estimate is a function of the shops' series. Its sampling spread is
read by re-estimating it on series resampled in contiguous blocks of time
(Künsch's moving-block bootstrap), which keeps the dependence within a block:

- every shop's regression rows (a target step and its ``n_lags`` lags) are
  drawn in blocks of :func:`block_length` consecutive rows, as many rows as
  the shop has; each block is copied with the ``n_lags`` steps before its
  first row, so that its lag windows are the original ones;
- blocks are laid end to end, each after one masked step: a lag window that
  would cross from one block into the next reads a masked step, and masked
  steps never enter a Granger fit (:func:`~sklearn_causalmmm.utils.lags.valid_windows`),
  so no window mixes two blocks.

:func:`resample_blocks` does one draw; :func:`edge_intervals` re-estimates a
graph on ``n_replicates`` draws with a function given by the caller (the
discoverer passes its own combination of encoder, pooling and Granger
evidence, so a replicate is combined exactly as the point estimate is) and
turns the replicates into intervals with :func:`bootstrap_intervals`.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
from scipy.special import expit, logit

from sklearn_causalmmm.base import flatten_off_diagonal, unflatten_off_diagonal

__all__ = [
    "block_length",
    "bootstrap_intervals",
    "edge_intervals",
    "repooled",
    "resample_blocks",
]

# Probabilities are compared on the log-odds scale, clipped as the pools clip
# them: an exact 0 or 1 has infinite log odds.
_CLIP = 1e-6


def block_length(n_rows: int, n_lags: int) -> int:
    """Rows per bootstrap block: ``max(n_lags + 1, ceil(n_rows ** (1/3)))``.

    ``n_rows ** (1/3)`` is the rate of the block length that is optimal for
    variance estimation (Hall, Horowitz and Jing, 1995); a block is at least
    one row longer than the lags, so that consecutive rows sharing lagged
    values mostly stay together.

    Examples
    --------
    >>> from sklearn_causalmmm._causalmmm.uncertainty import block_length
    >>> block_length(1000, 2), block_length(100, 5)
    (10, 6)
    """
    return max(int(n_lags) + 1, math.ceil(max(int(n_rows), 1) ** (1.0 / 3.0)))


def resample_blocks(
    values: np.ndarray, mask: np.ndarray, n_lags: int, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """One moving-block bootstrap draw of every shop's series.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
        Observed steps. Blocks are drawn within each shop's observed span;
        steps masked inside it stay masked in the copies.
    n_lags : int
        Lags of the regressions the draw is for (``>= 0``).
    rng : RandomState

    Returns
    -------
    values : ndarray of shape (n_shops, n_nodes, n_new_steps)
        Every shop's blocks, one masked step before each, aligned to end on
        the last step (shops with fewer are padded at the start, masked);
        at least ``n_steps`` steps.
        A masked step repeats the value of the step after it, so that a
        reader of the raw series (the encoder) sees no artificial spike.
    mask : ndarray of shape (n_shops, n_new_steps), bool
        Each shop has as many lag windows with every step observed as its
        original span has rows (fewer if the span had masked steps).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.uncertainty import resample_blocks
    >>> from sklearn_causalmmm.utils.lags import valid_windows
    >>> x = np.arange(40.0).reshape(1, 1, 40)
    >>> mask = np.ones((1, 40), bool)
    >>> xb, mb = resample_blocks(x, mask, 2, np.random.RandomState(0))
    >>> rows = valid_windows(mb, 2).astype(bool)[0]
    >>> int(rows.sum())  # 38 rows, as in the original
    38
    >>> # every window's steps are consecutive steps of the original series
    >>> windows = np.stack([xb[0, 0, w : w + 3] for w in np.flatnonzero(rows)])
    >>> bool((np.diff(windows, axis=1) == 1).all())
    True
    """
    values = np.asarray(values)
    mask = np.asarray(mask, dtype=bool)
    n_shops, _, n_steps = values.shape
    indices, masks = [], []
    for shop in range(n_shops):
        observed = np.flatnonzero(mask[shop])
        if len(observed) == 0:
            indices.append(np.arange(n_steps))
            masks.append(mask[shop])
            continue
        first, last = observed[0], observed[-1]
        n_rows = last - first + 1 - n_lags
        if n_rows < 1:
            # too short for one lag window: kept as it is
            indices.append(np.arange(first, last + 1))
            masks.append(mask[shop, first : last + 1])
            continue
        length = min(block_length(n_rows, n_lags), n_rows)
        n_blocks = -(-n_rows // length)
        # first row of each block, uniform over the blocks inside the span
        starts = rng.randint(first + n_lags, last - length + 2, size=n_blocks)
        # one row per block: the masked step (a copy of the block's first
        # step), the lags before the block's first row, then its rows
        steps = starts[:, None] - n_lags + np.arange(n_lags + length)[None]
        index = np.concatenate([steps[:, :1], steps], axis=1)
        kept = np.concatenate(
            [np.zeros((n_blocks, 1), bool), mask[shop, steps]], axis=1
        )
        # the last block keeps only the rows left to draw
        end = index.size - (length * n_blocks - n_rows)
        indices.append(index.reshape(-1)[:end])
        masks.append(kept.reshape(-1)[:end])
    # never shorter than the input: a reader of the last window (the encoder)
    # needs as many steps as it was given
    n_new = max(n_steps, *(len(index) for index in indices))
    new_values = np.empty((*values.shape[:2], n_new), dtype=values.dtype)
    new_mask = np.zeros((n_shops, n_new), dtype=bool)
    for shop, (index, kept) in enumerate(zip(indices, masks, strict=True)):
        pad = n_new - len(index)
        index = np.concatenate([np.full(pad, index[0]), index])
        new_values[shop] = values[shop][:, index]
        new_mask[shop, pad:] = kept
    return new_values, new_mask


def bootstrap_intervals(
    point: np.ndarray, replicates: np.ndarray, coverage: float
) -> np.ndarray:
    """Central intervals of edge probabilities from bootstrap replicates.

    The replicates' log odds are shifted so that their median is the point
    estimate's (a resampled series can shift an estimate as a whole, e.g. an
    encoder reading the joins between blocks; the shift keeps the interval
    around the estimate that is reported), and the interval is their
    ``(1 - coverage) / 2`` and ``(1 + coverage) / 2`` quantiles. A quantile
    below 1/2 is at most the median and one above at least it, so the
    interval contains the point estimate; the bounds are also clamped to it,
    which only matters for probabilities of exactly 0 or 1 (the diagonal,
    known edges), whose intervals are that value.

    Parameters
    ----------
    point : ndarray of shape (...)
        The point estimates, probabilities.
    replicates : ndarray of shape (n_replicates, ...)
        The estimates on resampled series.
    coverage : float in (0, 1)

    Returns
    -------
    intervals : ndarray of shape (2, ...)
        Lower and upper bounds.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.uncertainty import bootstrap_intervals
    >>> replicates = np.array([[0.1], [0.2], [0.3], [0.4], [0.5]])
    >>> lower, upper = bootstrap_intervals(np.array([0.3]), replicates, 0.8)
    >>> bool(lower[0] < 0.3 < upper[0])
    True
    >>> bootstrap_intervals(np.array([0.0]), replicates, 0.8)[:, 0].tolist()
    [0.0, 0.0]
    """
    point = np.asarray(point, dtype=np.float64)
    log_odds = logit(
        np.clip(np.asarray(replicates, dtype=np.float64), _CLIP, 1 - _CLIP)
    )
    centre = logit(np.clip(point, _CLIP, 1 - _CLIP))
    log_odds += centre - np.median(log_odds, axis=0)
    tail = (1.0 - coverage) / 2.0
    lower, upper = expit(np.quantile(log_odds, [tail, 1.0 - tail], axis=0))
    exact = (point == 0.0) | (point == 1.0)
    lower = np.where(exact, point, np.minimum(lower, point))
    upper = np.where(exact, point, np.maximum(upper, point))
    return np.stack([lower, upper])


def edge_intervals(
    point: np.ndarray,
    estimate: Callable[[np.ndarray, np.ndarray], np.ndarray],
    values: np.ndarray,
    mask: np.ndarray,
    n_lags: int,
    *,
    n_replicates: int,
    coverage: float,
    rng: np.random.RandomState,
    shop_chunk: int | None = None,
) -> np.ndarray:
    """Bootstrap intervals ``(2, ...)`` of a graph estimate ``point``.

    Parameters
    ----------
    point : ndarray of shape (n_shops, n_nodes, n_nodes)
        The estimate on ``values``.
    estimate : callable
        ``estimate(values, mask)`` re-estimates the graphs on resampled
        series (:func:`resample_blocks`), the same way as ``point``.
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
    n_lags : int
        The lags the estimate's regressions read.
    n_replicates : int
    coverage : float in (0, 1)
    rng : RandomState
    shop_chunk : int, default=None
        For an ``estimate`` whose graph of a shop reads that shop's series
        only: the shops are resampled and re-estimated ``shop_chunk`` at a
        time, each chunk with its own random stream seeded from ``rng``, and
        ``estimate`` is called as ``estimate(values, mask, rows)`` with the
        chunk's rows (a slice). Memory then holds one chunk's replicates, not
        every shop's ``n_replicates`` copies; the draws differ from those
        of ``shop_chunk=None`` (one stream over every shop), not their
        distribution. None resamples every shop at once (an ``estimate`` that
        pools shops).

    Returns
    -------
    intervals : ndarray of shape (2, n_shops, n_nodes, n_nodes)
        See :func:`bootstrap_intervals`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.selection import GrangerEvidence
    >>> from sklearn_causalmmm._causalmmm.uncertainty import edge_intervals
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(5, 2, 100)
    >>> x[:, 1, 1:] += 0.5 * x[:, 0, :-1]  # 0 -> 1 in every shop
    >>> mask = np.ones((5, 100), bool)
    >>> def estimate(values, mask):
    ...     evidence = GrangerEvidence(1).fit(values, mask)
    ...     return evidence.graphs(values, mask, "shop_granger")
    >>> point = estimate(x, mask)
    >>> lower, upper = edge_intervals(
    ...     point, estimate, x, mask, 1, n_replicates=20, coverage=0.8, rng=rng
    ... )
    >>> bool((lower[:, 0, 1] > upper[:, 1, 0]).all())
    True
    """
    point = np.asarray(point, dtype=np.float64)
    n_shops = len(point)
    if shop_chunk is None:
        chunks = [(slice(None), rng)]
    else:
        starts = range(0, n_shops, int(shop_chunk))
        # one stream per chunk: a chunk's draws do not depend on the shops
        # before it, so no chunk needs the others' resampled copies
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(starts))
        chunks = [
            (
                slice(start, min(start + int(shop_chunk), n_shops)),
                np.random.RandomState(seed),
            )
            for start, seed in zip(starts, seeds, strict=True)
        ]
    intervals = np.empty((2, *point.shape))
    for rows, chunk_rng in chunks:
        replicates = np.empty((n_replicates, *point[rows].shape), dtype=np.float32)
        for r in range(n_replicates):
            draw = resample_blocks(values[rows], mask[rows], n_lags, chunk_rng)
            replicates[r] = (
                estimate(*draw) if shop_chunk is None else estimate(*draw, rows)
            )
        intervals[:, rows] = bootstrap_intervals(point[rows], replicates, coverage)
    return intervals


def repooled(pooling, values: np.ndarray, mask: np.ndarray, n_lags: int):
    """A fitted :class:`GraphTypePooling` whose type test reads other series.

    The graph types and each shop's type probabilities stay those of the
    fit; only the types' own Granger evidence is recomputed on ``values``
    (a resampled panel of the same shops) and pooled with the prototypes as
    in :meth:`GraphTypePooling.fit`. ``pooling`` is left unchanged.
    """
    from sklearn_causalmmm._causalmmm.pooling import type_granger_log_bayes_factors

    if not (pooling.active_ and pooling.type_test and n_lags > 0):
        return pooling
    evidence = type_granger_log_bayes_factors(
        values,
        mask,
        pooling.type_probabilities_,
        n_lags,
        deflate=pooling.deflated_types_,
    )
    replicate = copy.copy(pooling)
    replicate.mixture_ = copy.copy(pooling.mixture_)
    replicate.mixture_.pool_type_evidence(flatten_off_diagonal(evidence))
    replicate.graph_types_ = unflatten_off_diagonal(replicate.mixture_.edge_prototypes_)
    return replicate

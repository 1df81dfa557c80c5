"""One converter between user data and the internal :class:`Panel`.

Every estimator in the package (the CausalMMM estimators, the sktime forecaster
and every baseline) turns its input into a :class:`Panel` with
:func:`to_panel` and turns per-shop outputs back into the caller's layout with
:meth:`Panel.target_to_layout` / :meth:`Panel.nodes_to_layout`.

Accepted layouts
----------------
``"numpy3d"``
    array ``(n_shops, n_nodes, n_steps)``; shop ids are ``0..n_shops-1`` and the
    time index is ``RangeIndex(n_steps)``.
``"2d"``
    array or DataFrame ``(n_steps, n_nodes)``: one shop (id ``0``).
``"multiindex"``
    DataFrame with a 2-level ``(shop, time)`` MultiIndex; columns are nodes,
    plus the context columns named by ``context_columns``.
``"long"``
    DataFrame with a shop column and a time column (``shop_column`` and
    ``time_column``); the other numeric columns are nodes or context.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Panel", "to_panel", "check_min_steps"]


@dataclass(frozen=True, eq=False)
class Panel:
    """Many shops' multivariate series on one shared time grid.

    Attributes
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps), float32
        Raw (unscaled) values; ``0`` where ``mask`` is False.
    mask : ndarray of shape (n_shops, n_steps), bool
        True where the shop has an observation (ragged panels).
    node_names : tuple of str
        One name per node. When ``y`` was given, the target is the last node.
    shop_ids : tuple
        The caller's shop labels, in panel order.
    time_index : pandas.Index
        The shared time grid (length ``n_steps``).
    context : ndarray of shape (n_shops, n_context), float32
        Per-shop context (time-varying context columns are averaged over the
        shop's observed steps). ``n_context`` may be 0.
    context_names : tuple of str
    scale : ndarray of shape (n_shops, n_nodes), float32
        Positive per-shop, per-node scale: the mean absolute observed value
        (1 where that is 0). ``scaled() == values / scale[..., None]``, so
        non-negative inputs stay non-negative.
    layout : {"numpy3d", "2d", "multiindex", "long"}
        The caller's layout, used to shape outputs.
    has_target : bool
        True when ``y`` was given and appended as the last node.
    target_name : str
    row_index : pandas.Index or None
        For DataFrame layouts, the caller's row index, to return outputs on it.
    shop_column, time_column : str or None
        Column names for the ``"long"`` layout.
    """

    values: np.ndarray
    mask: np.ndarray
    node_names: tuple[str, ...]
    shop_ids: tuple
    time_index: pd.Index
    context: np.ndarray
    context_names: tuple[str, ...]
    scale: np.ndarray
    layout: str
    has_target: bool = False
    target_name: str = "gmv"
    row_index: pd.Index | None = None
    shop_column: str | None = None
    time_column: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n_shops(self) -> int:
        return self.values.shape[0]

    @property
    def n_nodes(self) -> int:
        return self.values.shape[1]

    @property
    def n_steps(self) -> int:
        return self.values.shape[2]

    def scaled(self) -> np.ndarray:
        """Values divided by the per-shop, per-node scale (float32)."""
        raise NotImplementedError

    def target_to_layout(self, target: np.ndarray):
        """Return a per-shop target series in the caller's layout.

        Parameters
        ----------
        target : ndarray of shape (n_shops, n_steps)
            In raw units, on this panel's shops and time grid.

        Returns
        -------
        ndarray of shape (n_shops, n_steps) for ``"numpy3d"``; ndarray of shape
        (n_steps,) for ``"2d"`` arrays; for DataFrame layouts a
        :class:`pandas.Series` named ``target_name`` on the caller's row index
        (masked steps dropped).
        """
        raise NotImplementedError

    def nodes_to_layout(self, values: np.ndarray):
        """Return ``(n_shops, n_nodes, n_steps)`` values in the caller's layout.

        The inverse of :func:`to_panel` for X: numpy layouts get arrays back,
        DataFrame layouts get a DataFrame on the caller's row index with the
        node columns (and, for ``"long"``, the shop and time columns).
        """
        raise NotImplementedError


def to_panel(
    X,
    y=None,
    *,
    context=None,
    context_columns: Sequence[str] | None = None,
    shop_column: str = "shop_id",
    time_column: str = "date",
    target_name: str = "gmv",
    min_steps: int = 2,
    drop_short: bool = False,
    allow_negative: bool = False,
) -> Panel:
    """Convert any accepted layout (plus optional ``y`` and context) to a Panel.

    Parameters
    ----------
    X : ndarray or DataFrame
        One of the layouts described in the module docstring.
    y : ndarray, Series or DataFrame, default=None
        Target aligned with X: ``(n_shops, n_steps)`` for numpy3d,
        ``(n_steps,)`` for one shop, a Series on X's index (or, for "long",
        on X's rows) for DataFrames, or the name of a column of X.
        When given it becomes the last node.
    context : array-like of shape (n_shops, n_context), default=None
        Context for array layouts.
    context_columns : sequence of str, default=None
        Columns of a DataFrame X holding context; they are not nodes.
    shop_column, time_column : str
        Column names for the long layout.
    target_name : str, default="gmv"
        Name of the target node when ``y`` is given.
    min_steps : int, default=2
        Minimum number of observed steps per shop (history + horizon).
    drop_short : bool, default=False
        Drop shops with fewer than ``min_steps`` observed steps (with a
        warning naming them) instead of raising.
    allow_negative : bool, default=False
        Accept negative values (otherwise negative spend is an error).

    Returns
    -------
    Panel

    Raises
    ------
    TypeError
        Non-numeric node columns, unsupported input types.
    ValueError
        NaN/inf, negative values, wrong ndim, misaligned X/y, duplicated
        (shop, time), irregular time steps, too few steps, a node constant in
        every shop, unknown context columns. The message names the culprit.
    """
    raise NotImplementedError


def check_min_steps(panel: Panel, min_steps: int) -> None:
    """Raise a ValueError naming every shop with fewer than ``min_steps`` steps."""
    raise NotImplementedError

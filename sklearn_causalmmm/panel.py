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
    array or DataFrame ``(n_steps, n_nodes)``: one shop (id ``0``). A DataFrame's
    index becomes the time index (datetimes, periods and integers are put on a
    regular grid; any other index is taken in the given row order). A frame
    without the shop and time columns but with a column named like one
    (``store``, ``week``, ``date``, ...) is refused: it is most likely a long
    frame whose ``shop_column``/``time_column`` were not named.
``"multiindex"``
    DataFrame with a 2-level ``(shop, time)`` MultiIndex; columns are nodes,
    plus the context columns named by ``context_columns``.
``"long"``
    DataFrame with a shop column and a time column (``shop_column`` and
    ``time_column``); the other numeric columns are nodes or context.

Lists and other array-likes are read as arrays.

Shops and time grid
-------------------
Shop ids are the caller's shop labels, sorted as :func:`pandas.factorize`
sorts them (in order of first appearance when they cannot be compared). All
shops share one regular time grid that spans the union of their times: for
datetimes its frequency is inferred from the union of times (else from the
longest shop, else from the smallest step, whole days meaning calendar days),
for integers the step is the greatest common step, for periods it is the
period's frequency. A shop may start late or end early: ``mask`` is False and
``values`` is 0 on the steps it lacks. A shop missing a step *inside* its own
span is an error, as are times that fall off the grid.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pandas.api import types as ptypes
from pandas.tseries.frequencies import to_offset

__all__ = [
    "ROLES",
    "Panel",
    "check_min_steps",
    "concatenate_steps",
    "fill_context",
    "known_edges",
    "resolve_roles",
    "time_unit",
    "to_panel",
]

# A time grid may be at most this many times longer than the number of distinct
# times (plus a little slack): ragged shops leave some global holes, but a grid
# far larger than the data means the frequency was not really regular.
_MAX_GRID_RATIO = 10
_MAX_GRID_SLACK = 100
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True, eq=False)
class Panel:
    """Many shops' multivariate series on one shared time grid.

    Build one with :func:`to_panel`.

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
    roles : tuple of str
        The role of every node (see :data:`ROLES`): ``"media"`` (spend or
        impressions: non-negative, carryover and saturation apply, known in a
        plan), ``"funnel"`` (page views, clicks: caused by media, forecast in a
        plan), ``"control"`` (price, promotions, holidays, weather: may be
        signed, no saturation, known in a plan) or ``"target"`` (the last node
        when ``y`` was given).
    observed : ndarray of shape (n_shops, n_nodes, n_steps), bool, or None
        Cell by cell, which values were given, when some were missing (NaN in
        the input, read with ``missing="mask"``); None means every value of an
        observed step (``mask``) was given. Missing values are 0 in ``values``.
    extra : dict
        Free-form metadata. The key ``"_layout"`` is private to this module: it
        maps the caller's rows to (shop, step) and remembers the caller's
        columns and dtypes, so outputs can be put back in the caller's layout.
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
    roles: tuple[str, ...] = ()
    observed: np.ndarray | None = None
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

    def __repr__(self) -> str:
        return (
            f"Panel(layout={self.layout!r}, n_shops={self.n_shops}, "
            f"n_nodes={self.n_nodes}, n_steps={self.n_steps}, "
            f"node_names={self.node_names!r}, has_target={self.has_target})"
        )

    @property
    def time_unit(self) -> str:
        """What one step of the time grid is, in words: "day", "week", "month",
        or "step" when the grid carries no calendar frequency."""
        return time_unit(self.time_index)

    def nodes_with_role(self, *roles: str) -> list[int]:
        """Positions of the nodes that have one of ``roles``."""
        return [j for j, role in enumerate(self.roles) if role in roles]

    def mask_missing_steps(self) -> Panel:
        """Return a panel whose steps with a missing value are masked.

        A step where any node of a shop is missing (``observed`` False) leaves
        that shop's observed steps (``mask`` False): losses, fits and scales
        ignore it, as if the shop's row for that step were not in the data.
        Its values, which a recurrent model still reads as inputs, are those
        of the shop's previous observed step (its next one before the first
        observation). ``observed`` of the result is None.

        Returns
        -------
        panel : Panel

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_causalmmm.panel import to_panel
        >>> X = np.array([[[1.0, np.nan, 3.0, 4.0], [2.0, 7.0, 2.0, 5.0]]])
        >>> panel = to_panel(X, missing="mask").mask_missing_steps()
        >>> panel.mask
        array([[ True, False,  True,  True]])
        >>> panel.values[0]
        array([[1., 1., 3., 4.],
               [2., 2., 2., 5.]], dtype=float32)
        """
        if self.observed is None:
            return self
        # the whole step goes, as if the shop's row were not in the data
        # (masked steps at a shop's start or end make it start later or end
        # earlier: 0, as in every ragged panel)
        mask = self.mask & self.observed.all(axis=1)
        holes = np.broadcast_to(~mask[:, None], self.values.shape)
        filled = _forward_fill(self.values, holes)
        inside = _inside_span(mask)[:, None]
        values = np.where(holes, np.where(inside, filled, 0.0), self.values)
        values = values.astype(np.float32)
        return dataclasses.replace(
            self,
            values=values,
            mask=mask,
            observed=None,
            scale=_scale(values, mask),
        )

    def scaled(self, shops=slice(None)) -> np.ndarray:
        """Values divided by the per-shop, per-node scale (float32).

        ``shops`` (a slice or positions) selects rows, so that a panel can be
        read chunk by chunk of shops without a scaled copy of all of it.
        """
        values = self.values[shops] / self.scale[shops][..., None]
        return values.astype(np.float32, copy=False)

    def with_series(self, values, mask, shops=slice(None)) -> Panel:
        """The shops ``shops`` of this panel with other series on a plain
        step grid (resampled series, say): names, roles, context and scales
        are kept, the layout of the input is not.

        Parameters
        ----------
        values : ndarray of shape (n, n_nodes, n_steps)
        mask : ndarray of shape (n, n_steps), bool
        shops : slice or array of int, default=slice(None)
            The shops the series belong to.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_causalmmm.panel import to_panel
        >>> panel = to_panel(np.arange(1.0, 25.0).reshape(2, 3, 4))
        >>> other = panel.with_series(np.ones((1, 3, 6)), np.ones((1, 6), bool), [1])
        >>> other.n_shops, other.n_steps
        (1, 6)
        >>> bool((other.scale == panel.scale[[1]]).all())
        True
        """
        rows = np.arange(self.n_shops)[shops]
        return dataclasses.replace(
            self,
            values=values,
            mask=mask,
            shop_ids=tuple(self.shop_ids[i] for i in rows),
            context=self.context[rows],
            scale=self.scale[rows],
            time_index=pd.RangeIndex(values.shape[-1]),
            row_index=None,
            observed=None,
            extra={},
        )

    # ------------------------------------------------------------------ subsets
    def subset(self, shop_indices) -> Panel:
        """Return a panel with only the given shops, in the given order.

        The time grid is kept. For DataFrame layouts, rows of the dropped shops
        are dropped from ``row_index`` and from the outputs.

        Parameters
        ----------
        shop_indices : array-like of int or bool
            Positions in ``shop_ids`` (negative positions count from the end),
            or a boolean mask of length ``n_shops``. Must select at least one
            shop, each at most once.

        Returns
        -------
        panel : Panel
        """
        idx = _shop_positions(shop_indices, self.n_shops)
        info = self.extra.get("_layout")
        changes = {}
        if info is not None and info.row_shop is not None:
            lookup = np.full(self.n_shops, -1, dtype=np.intp)
            lookup[idx] = np.arange(len(idx))
            new_shop = lookup[info.row_shop]
            keep = new_shop >= 0
            info = info.take_rows(keep, shop=new_shop[keep])
            changes = {"row_index": self.row_index[keep]}
        return dataclasses.replace(
            self,
            values=self.values[idx],
            mask=self.mask[idx],
            shop_ids=tuple(self.shop_ids[i] for i in idx),
            context=self.context[idx],
            scale=self.scale[idx],
            observed=None if self.observed is None else self.observed[idx],
            extra={**self.extra, "_layout": info},
            **changes,
        )

    def replace_target(self, target: np.ndarray) -> Panel:
        """Return a panel whose target (last node) is ``target``, rescaled.

        Parameters
        ----------
        target : ndarray of shape (n_shops, n_steps)
            In raw units; masked steps are set to 0.

        Returns
        -------
        panel : Panel
        """
        if not self.has_target:
            raise ValueError("the panel has no target to replace")
        values = self.values.copy()
        values[:, -1] = np.where(self.mask, target, 0.0)
        return dataclasses.replace(self, values=values, scale=_scale(values, self.mask))

    def head(self, n_steps: int) -> Panel:
        """Return a panel with only the first ``n_steps`` steps of the grid.

        Like :meth:`pandas.DataFrame.head`, asking for more steps than there
        are returns them all. ``scale`` is recomputed on the kept steps (keep
        the parent's ``scale`` to keep its normalisation).
        """
        n = min(_positive_int(n_steps, "n_steps"), self.n_steps)
        return self._take_steps(0, n)

    def tail(self, n_steps: int) -> Panel:
        """Return a panel with only the last ``n_steps`` steps of the grid.

        See :meth:`head`.
        """
        n = min(_positive_int(n_steps, "n_steps"), self.n_steps)
        return self._take_steps(self.n_steps - n, self.n_steps)

    def take_nodes(self, names: Sequence[str]) -> Panel:
        """Return a panel with the nodes ``names``, in that order.

        For a panel converted from user data whose columns came in another
        order than the one an estimator was fitted with. Outputs in the
        caller's layout (:meth:`target_to_layout`) are unchanged.

        Parameters
        ----------
        names : sequence of str
            Node names of this panel (a permutation of, or a subset of,
            ``node_names``).

        Returns
        -------
        panel : Panel
        """
        unknown = [name for name in names if name not in self.node_names]
        if unknown:
            raise ValueError(f"unknown nodes {_fmt_list(unknown)}")
        order = [self.node_names.index(name) for name in names]
        if order == list(range(self.n_nodes)):
            return self
        info = self.extra.get("_layout")
        if info is not None:
            info = dataclasses.replace(
                info,
                dtypes=tuple(info.dtypes[j] for j in order),
                node_labels=tuple(
                    info.node_labels[j] for j in order if j < len(info.node_labels)
                ),
            )
        return dataclasses.replace(
            self,
            values=self.values[:, order],
            node_names=tuple(names),
            roles=tuple(self.roles[j] for j in order) if self.roles else (),
            scale=self.scale[:, order],
            observed=None if self.observed is None else self.observed[:, order],
            extra={**self.extra, "_layout": info},
        )

    def _take_steps(self, start: int, stop: int) -> Panel:
        info = self.extra.get("_layout")
        changes = {}
        if info is not None and info.row_shop is not None:
            keep = (info.row_time >= start) & (info.row_time < stop)
            info = info.take_rows(keep, time=info.row_time[keep] - start)
            changes = {"row_index": self.row_index[keep]}
        values = self.values[..., start:stop]
        mask = self.mask[:, start:stop]
        return dataclasses.replace(
            self,
            values=values,
            mask=mask,
            time_index=self.time_index[start:stop],
            scale=_scale(values, mask),
            observed=None if self.observed is None else self.observed[..., start:stop],
            extra={**self.extra, "_layout": info},
            **changes,
        )

    # ------------------------------------------------------------------ outputs
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
        (masked steps dropped). Values are float64.
        """
        target = np.asarray(target, dtype=np.float64)
        expected = (self.n_shops, self.n_steps)
        if target.shape != expected:
            raise ValueError(
                f"target must have shape (n_shops, n_steps) = {expected}; "
                f"got {target.shape}"
            )
        info = self.extra.get("_layout")
        if info is None or info.row_shop is None:
            return target[0].copy() if self.layout == "2d" else target.copy()
        return pd.Series(
            target[info.row_shop, info.row_time],
            index=self.row_index,
            name=self.target_name,
        )

    def nodes_to_layout(self, values: np.ndarray):
        """Return ``(n_shops, n_nodes, n_steps)`` values in the caller's layout.

        The inverse of :func:`to_panel` for X: numpy layouts get arrays back,
        DataFrame layouts get a DataFrame on the caller's row index with the
        node columns (and, for ``"long"``, the shop and time columns).

        Parameters
        ----------
        values : ndarray of shape (n_shops, n_nodes, n_steps)
            Values of every node, in raw units. When the panel has a target,
            ``values`` may also leave it out (``n_nodes - 1`` nodes, the
            drivers only).

        Returns
        -------
        ndarray or DataFrame
            ``"numpy3d"``: ``(n_shops, n_nodes, n_steps)``; ``"2d"`` arrays:
            ``(n_steps, n_nodes)``; DataFrames: the caller's columns in the
            caller's order (context, shop and time columns restored as they
            were), rows of the caller's row index. A target given as a
            separate ``y`` comes back as the last column, named
            ``target_name``. Float node columns keep the caller's dtype,
            other node columns come back as float64.
        """
        values = np.asarray(values)
        n_nodes = values.shape[1] if values.ndim == 3 else -1
        allowed = (
            (self.n_nodes, self.n_nodes - 1) if self.has_target else (self.n_nodes,)
        )
        if (
            values.ndim != 3
            or values.shape[0] != self.n_shops
            or values.shape[2] != self.n_steps
            or n_nodes not in allowed
        ):
            raise ValueError(
                "values must have shape (n_shops, n_nodes, n_steps) = "
                f"{(self.n_shops, self.n_nodes, self.n_steps)}"
                + (" (or n_nodes - 1 without the target)" if self.has_target else "")
                + f"; got {values.shape}"
            )
        info = self.extra["_layout"]
        if info.row_shop is None:
            out = values.astype(info.dtypes[0])
            return out[0].T.copy() if self.layout == "2d" else out
        rows = values[info.row_shop, :, info.row_time]  # (n_rows, n_nodes)
        labels = info.node_labels + ((info.target_label,) if self.has_target else ())
        node_pos = {label: j for j, label in enumerate(labels[:n_nodes])}
        columns = info.columns
        if n_nodes < len(labels) and info.target_in_x:  # target left out
            columns = columns.drop(info.target_label)
        elif n_nodes == len(labels) and self.has_target and not info.target_in_x:
            columns = columns.append(pd.Index([info.target_label]))
        data = {
            j: (
                rows[:, node_pos[c]].astype(info.dtypes[node_pos[c]])
                if c in node_pos
                else info.other[c].array.copy()
            )
            for j, c in enumerate(columns)
        }
        out = pd.DataFrame(data, index=self.row_index.copy())
        out.columns = columns.copy()
        return out


@dataclass(frozen=True)
class _LayoutInfo:
    """Private: how to put panel outputs back into the caller's layout."""

    dtypes: tuple  # output dtype per node (target last)
    row_shop: np.ndarray | None = None  # DataFrames: shop position of every row
    row_time: np.ndarray | None = None  # DataFrames: grid position of every row
    columns: pd.Index | None = None  # the caller's columns, in order
    node_labels: tuple = ()  # the caller's label of every X node, panel order
    target_label: object = None  # y's column label (target_name if y was apart)
    target_in_x: bool = False  # y named a column of X
    other: pd.DataFrame | None = None  # copy of the non-node columns

    def take_rows(self, keep, *, shop=None, time=None) -> _LayoutInfo:
        return dataclasses.replace(
            self,
            row_shop=self.row_shop[keep] if shop is None else shop,
            row_time=self.row_time[keep] if time is None else time,
            other=self.other.iloc[np.flatnonzero(keep)],
        )


@dataclass
class _Raw:
    """Private: one layout read into a dense float64 panel, before checks."""

    values: np.ndarray  # (n_shops, n_nodes, n_steps) float64, 0 where masked
    mask: np.ndarray
    node_names: list
    shop_ids: list
    time_index: pd.Index
    layout: str
    info: _LayoutInfo
    context: np.ndarray | None = None
    context_names: tuple = ()
    row_index: pd.Index | None = None


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
    check_constant: bool = True,
    missing: str = "error",
    media_columns=None,
    funnel_columns=None,
    control_columns=None,
    default_role: str = "media",
) -> Panel:
    """Convert any accepted layout (plus optional ``y`` and context) to a Panel.

    Parameters
    ----------
    X : ndarray or DataFrame
        One of the layouts described in the module docstring. Lists and other
        array-likes are read as arrays.
    y : ndarray, Series or DataFrame, default=None
        Target aligned with X: ``(n_shops, n_steps)`` for numpy3d,
        ``(n_steps,)`` or ``(n_steps, 1)`` for one shop, a Series (or
        one-column DataFrame) on X's index (or, for "long", on X's rows; a
        Series with the same labels in another order is reordered) or an
        array with one value per row for DataFrames, or the name of a column
        of X. When given it becomes the last node, named ``target_name`` (or
        the column's name when ``y`` names a column).
    context : array-like of shape (n_shops, n_context), default=None
        Per-shop context, rows in panel order (sorted shop ids); shape
        ``(n_context,)`` is accepted for a single shop. A DataFrame is aligned
        on its index by shop label and keeps its column names; arrays get
        names ``"c0", "c1", ...``. Must be finite.
    context_columns : str or sequence of str, default=None
        Columns of a DataFrame X holding context; they are not nodes. A column
        that varies over time is averaged over each shop's observed steps.
    shop_column, time_column : str
        Column names for the long layout.
    target_name : str, default="gmv"
        Name of the target node when ``y`` is given.
    min_steps : int, default=2
        Minimum number of observed steps per shop (history + horizon).
    drop_short : bool, default=False
        Drop shops with fewer than ``min_steps`` observed steps (with a
        ``UserWarning`` naming them) instead of raising. Grid steps that no
        remaining shop observes are trimmed from both ends.
    allow_negative : bool, default=False
        Accept negative values (otherwise negative spend is an error).
    check_constant : bool, default=True
        Raise when a node is constant in every shop. Estimators turn this off
        for short prediction windows.
    missing : {"error", "mask", "ffill"}, default="error"
        What a NaN value (of X or y) and a step a shop lacks inside its span
        mean: an error naming them; ``"mask"``: missing values (0 in
        ``values``, False in ``observed``); ``"ffill"``: the drivers' missing
        values take the shop's previous value of the node (its next one
        before the first observation), the target's stay missing. Inf is
        always an error. :meth:`Panel.mask_missing_steps` turns missing
        values into masked steps for training.
    media_columns, funnel_columns, control_columns : str, int or list, default=None
        The nodes of X in each role (see :attr:`Panel.roles`): column names,
        glob patterns such as ``"impressions_*"``, or integer positions for
        arrays. A column may have one role only.
    default_role : {"media", "auto"}, default="media"
        The role of the X nodes no list names: media, or ``"auto"``: media
        when non-negative, control when some value is negative (signed
        series such as standardised exports or growth rates).

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

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({
    ...     "shop_id": ["a", "a", "a", "b", "b"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                             "2024-01-02", "2024-01-03"]),
    ...     "tv": [1.0, 2.0, 3.0, 4.0, 6.0],
    ...     "gmv": [10.0, 12.0, 14.0, 20.0, 22.0],
    ... })
    >>> panel = to_panel(X, y="gmv")
    >>> panel.node_names, panel.shop_ids
    (('tv', 'gmv'), ('a', 'b'))
    >>> panel.values.shape
    (2, 2, 3)
    >>> panel.mask
    array([[ True,  True,  True],
           [False,  True,  True]])
    >>> panel.scale
    array([[ 2., 12.],
           [ 5., 21.]], dtype=float32)
    >>> panel.target_to_layout(panel.values[:, -1]).tolist()
    [10.0, 12.0, 14.0, 20.0, 22.0]
    """
    min_steps = _positive_int(min_steps, "min_steps")
    if not isinstance(target_name, str):
        raise TypeError(f"target_name must be a str; got {type(target_name).__name__}")
    if isinstance(context_columns, str):
        context_columns = [context_columns]
    context_columns = list(context_columns) if context_columns is not None else []
    if context is not None and context_columns:
        raise ValueError("pass context= or context_columns=, not both")

    if missing not in ("error", "mask", "ffill"):
        raise ValueError(f"missing must be 'error', 'mask' or 'ffill'; got {missing!r}")
    if isinstance(X, pd.DataFrame):
        raw = _read_frame(
            X,
            y,
            context_columns,
            shop_column,
            time_column,
            target_name,
            allow_gaps=missing != "error",
        )
    else:
        if context_columns:
            raise ValueError(
                "context_columns needs a DataFrame X; pass context= for arrays"
            )
        raw = _read_array(X, y, target_name)

    if context is not None:
        raw.context, raw.context_names = _read_context(context, raw.shop_ids)
    elif raw.context is None:
        raw.context = np.zeros((len(raw.shop_ids), 0))

    has_target = y is not None
    n_drivers = len(raw.node_names) - has_target
    observed = None
    if missing != "error":
        # a step a shop lacks inside its span is missing in every node
        absent = np.isnan(raw.values) | (_inside_span(raw.mask) & ~raw.mask)[:, None]
        if missing == "ffill":
            raw.values[:, :n_drivers] = _fill_drivers(raw, absent, n_drivers)
            absent[:, :n_drivers] = False
        if absent.any():
            observed = ~absent & raw.mask[:, None, :]
            raw.values = np.where(np.isnan(raw.values), 0.0, raw.values)
    roles = resolve_roles(
        raw.node_names[:n_drivers],
        media_columns=media_columns,
        funnel_columns=funnel_columns,
        control_columns=control_columns,
        default_role=default_role,
        signed=(raw.values[:, :n_drivers] < 0).any(axis=(0, 2)),
    ) + (("target",) if has_target else ())
    _check_values(raw, has_target, allow_negative, roles)
    values = np.ascontiguousarray(raw.values, dtype=np.float32)
    # the float64 copy is not read beyond here: free it before the scale's
    # and the checks' temporaries
    raw.values = None
    panel = Panel(
        values=values,
        mask=raw.mask,
        node_names=tuple(raw.node_names),
        shop_ids=tuple(raw.shop_ids),
        time_index=raw.time_index,
        context=raw.context.astype(np.float32),
        context_names=tuple(raw.context_names),
        scale=_scale(values, raw.mask),
        layout=raw.layout,
        has_target=has_target,
        target_name=raw.node_names[-1] if has_target else target_name,
        row_index=raw.row_index,
        shop_column=shop_column if raw.layout == "long" else None,
        time_column=time_column if raw.layout == "long" else None,
        roles=roles,
        observed=observed,
        extra={"_layout": raw.info},
    )

    short = panel.mask.sum(axis=1) < min_steps
    if short.any():
        if not drop_short:
            check_min_steps(panel, min_steps)
        if short.all():
            raise ValueError(
                "no shop left after drop_short: "
                + _short_shops_message(panel, short, min_steps)
            )
        warnings.warn(
            f"dropping {_short_shops_message(panel, short, min_steps)}",
            UserWarning,
            stacklevel=2,
        )
        panel = panel.subset(~short)
        observed = np.flatnonzero(panel.mask.any(axis=0))
        panel = panel._take_steps(observed[0], observed[-1] + 1)

    if check_constant:
        _check_not_constant(panel)
    return panel


#: The roles a node can have (see :attr:`Panel.roles`).
ROLES = ("media", "funnel", "control", "target")


def resolve_roles(
    node_names: Sequence[str],
    *,
    media_columns=None,
    funnel_columns=None,
    control_columns=None,
    default_role: str = "media",
    signed=None,
) -> tuple[str, ...]:
    """The role of every driver node from the lists an estimator was given.

    Parameters
    ----------
    node_names : sequence of str
        The driver nodes (not the target), in panel order.
    media_columns, funnel_columns, control_columns : str, int or list, default=None
        Names, glob patterns (``"impressions_*"``) or integer positions.
    default_role : {"media", "auto"}, default="media"
        The role of nodes no list names; ``"auto"`` makes a node with a
        negative value a control and the others media.
    signed : array-like of bool, default=None
        Per node, whether it has negative values (for ``"auto"``).

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        A name or pattern that matches no node, a position out of range, or a
        node named in two roles.

    Examples
    --------
    >>> from sklearn_causalmmm.panel import resolve_roles
    >>> resolve_roles(
    ...     ["tv_spend", "search_spend", "page_views", "price"],
    ...     funnel_columns=["page_views"],
    ...     control_columns="price",
    ... )
    ('media', 'media', 'funnel', 'control')
    >>> resolve_roles(["tv_spend", "search_spend"], media_columns="*_spend")
    ('media', 'media')
    """
    if default_role not in ("media", "auto"):
        raise ValueError(
            f"default_role must be 'media' or 'auto'; got {default_role!r}"
        )
    names = [str(name) for name in node_names]
    roles: dict[int, str] = {}
    for role, given, argument in (
        ("media", media_columns, "media_columns"),
        ("funnel", funnel_columns, "funnel_columns"),
        ("control", control_columns, "control_columns"),
    ):
        for j in _match_columns(names, given, argument):
            if j in roles and roles[j] != role:
                raise ValueError(
                    f"column {names[j]!r} is named in two roles, {roles[j]} and "
                    f"{role}: list it in one of media_columns, funnel_columns and "
                    "control_columns"
                )
            roles[j] = role
    signed = np.zeros(len(names), bool) if signed is None else np.asarray(signed)
    return tuple(
        roles.get(j, "control" if default_role == "auto" and signed[j] else "media")
        for j in range(len(names))
    )


def _match_columns(names: list[str], given, argument: str) -> list[int]:
    """Positions of the nodes a role list names (names, globs or positions)."""
    import fnmatch

    if given is None:
        return []
    items = [given] if isinstance(given, str | int | np.integer) else list(given)
    found: list[int] = []
    for item in items:
        if isinstance(item, int | np.integer) and not isinstance(item, bool):
            if not -len(names) <= item < len(names):
                raise ValueError(
                    f"{argument} has position {item}, but X has {len(names)} "
                    "columns besides the target"
                )
            matches = [int(item) % len(names)]
        elif isinstance(item, str):
            matches = [j for j, name in enumerate(names) if name == item]
            if not matches and any(c in "*?[" for c in item):
                matches = [
                    j for j, name in enumerate(names) if fnmatch.fnmatchcase(name, item)
                ]
            if not matches:
                raise ValueError(
                    f"{argument} names {item!r}, which matches no column of X; "
                    f"the columns are {_fmt_list(names, limit=20)}"
                )
        else:
            raise TypeError(
                f"{argument} must hold column names, glob patterns or integer "
                f"positions; got {item!r}"
            )
        found.extend(j for j in matches if j not in found)
    return found


def known_edges(
    node_names: Sequence[str], required_edges=None, forbidden_edges=None
) -> np.ndarray:
    """The edges known before fitting, as a matrix of 1 (present), 0, NaN (learn).

    Parameters
    ----------
    node_names : sequence of str
        Every node, the target last.
    required_edges, forbidden_edges : list of (sender, receiver), default=None
        Pairs of node names, glob patterns (``"*"`` is every node: ``("gmv",
        "*")`` forbids every edge out of ``gmv``, ``("*", "tv")`` every edge
        into ``tv``) or positions. A node's edge to itself is never an edge.

    Returns
    -------
    ndarray of shape (n_nodes, n_nodes)
        ``[i, j]`` = 1 for a required edge ``i -> j``, 0 for a forbidden one,
        NaN for the others (and the diagonal).

    Raises
    ------
    ValueError
        A pair that is not two entries, a name or pattern that matches no
        node, or an edge both required and forbidden.

    Examples
    --------
    >>> from sklearn_causalmmm.panel import known_edges
    >>> known_edges(
    ...     ["brand", "search", "gmv"],
    ...     required_edges=[("brand", "search")],
    ...     forbidden_edges=[("gmv", "*")],
    ... )
    array([[nan,  1., nan],
           [nan, nan, nan],
           [ 0.,  0., nan]])
    """
    names = [str(name) for name in node_names]
    known = np.full((len(names), len(names)), np.nan)
    for value, edges, argument in (
        (1.0, required_edges, "required_edges"),
        (0.0, forbidden_edges, "forbidden_edges"),
    ):
        for pair in edges or ():
            if isinstance(pair, str) or len(pair) != 2:
                raise ValueError(
                    f"{argument} holds (sender, receiver) pairs; got {pair!r}"
                )
            senders = _match_columns(names, [pair[0]], argument)
            receivers = _match_columns(names, [pair[1]], argument)
            for i in senders:
                for j in receivers:
                    if i == j:
                        continue
                    if known[i, j] == 1.0 - value:
                        raise ValueError(
                            f"the edge {names[i]!r} -> {names[j]!r} is both required "
                            "and forbidden"
                        )
                    known[i, j] = value
    return known


def time_unit(time_index: pd.Index) -> str:
    """The calendar length of one step of a time grid, in words.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm.panel import time_unit
    >>> time_unit(pd.date_range("2024-01-01", periods=4, freq="W-MON"))
    'week'
    >>> time_unit(pd.RangeIndex(10))
    'step'
    """
    freq = getattr(time_index, "freq", None)
    if (
        freq is None
        and isinstance(time_index, pd.DatetimeIndex)
        and len(time_index) > 2
    ):
        freq = pd.infer_freq(time_index)
    if freq is None:
        return "step"
    offset = to_offset(freq)
    name = offset.name.split("-")[0]
    if name in ("D", "B") and offset.n == 1:
        return "day"
    if name == "W" or (name == "D" and offset.n == 7):
        return "week"
    if name in ("M", "MS", "ME"):
        return "month"
    if name in ("h", "H") and offset.n == 1:
        return "hour"
    return "step"


def check_min_steps(panel: Panel, min_steps: int) -> None:
    """Raise a ValueError naming every shop with fewer than ``min_steps`` steps."""
    short = panel.mask.sum(axis=1) < min_steps
    if short.any():
        raise ValueError(
            "too few observed time steps: "
            + _short_shops_message(panel, short, min_steps)
            + "; pass drop_short=True to drop them"
        )


def fill_context(
    X: pd.DataFrame, panel: Panel, *, shop_column: str = "shop_id"
) -> pd.DataFrame:
    """Give a plan the context of ``panel``'s shops, in the context columns it lacks.

    A model knows each fitted shop's context from the fit, yet a DataFrame
    plan is read with the model's ``context_columns``, so a plan of future
    spend would have to repeat them. This adds every column of
    ``panel.context_names`` that ``X`` lacks, each row holding its shop's
    context in ``panel``; columns ``X`` has are kept as they are.

    Parameters
    ----------
    X : DataFrame
        A plan in the long layout (a shop column) or on a ``(shop, time)``
        MultiIndex. Not modified.
    panel : Panel
        The panel whose shops' context fills the plan, e.g. a fitted
        regressor's ``panel_``.
    shop_column : str, default="shop_id"
        The shop column of a long plan (a MultiIndex plan's first level is
        its shops).

    Returns
    -------
    plan : DataFrame
        A copy of ``X`` with the missing context columns appended, in the
        order of ``panel.context_names``.

    Raises
    ------
    ValueError
        If a context column is missing and the plan has no shop column, or
        holds shops that ``panel`` does not (their context is unknown).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm.panel import fill_context, to_panel
    >>> history = pd.DataFrame({
    ...     "shop_id": ["a", "a", "b", "b"], "date": [0, 1, 0, 1],
    ...     "size": [3.0, 3.0, 5.0, 5.0], "tv": [1.0, 2.0, 3.0, 5.0],
    ... })
    >>> panel = to_panel(history, context_columns=["size"])
    >>> plan = pd.DataFrame({"shop_id": ["b", "a"], "date": [2, 2], "tv": [4.0, 1.0]})
    >>> fill_context(plan, panel)
      shop_id  date   tv  size
    0       b     2  4.0   5.0
    1       a     2  1.0   3.0
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a DataFrame; got {type(X).__name__}")
    missing = [name for name in panel.context_names if name not in X.columns]
    if not missing:
        return X.copy()
    if shop_column in X.columns:
        shops = X[shop_column]
    elif isinstance(X.index, pd.MultiIndex):
        shops = X.index.get_level_values(0)
    else:
        raise ValueError(
            f"X has no shop column {shop_column!r} and no (shop, time) MultiIndex, "
            f"so its context column(s) {_fmt_list(missing)} cannot be filled; pass "
            "shop_column= or add them to X"
        )
    known = pd.DataFrame(
        panel.context.astype(np.float64),
        index=pd.Index(panel.shop_ids),
        columns=list(panel.context_names),
    )
    rows = known.index.get_indexer(shops)
    if (rows < 0).any():
        unknown = list(pd.unique(np.asarray(shops)[rows < 0]))
        raise ValueError(
            f"shops {_fmt_list(unknown)} of X are not in the panel (not seen in "
            f"fit), so their context is unknown; add the column(s) "
            f"{_fmt_list(missing)} to X"
        )
    values = known[missing].to_numpy()[rows]
    return X.assign(**{name: values[:, j] for j, name in enumerate(missing)})


# ---------------------------------------------------------------------- reading
def concatenate_steps(first: Panel, second: Panel) -> Panel:
    """``first`` continued by ``second``: the same shops on the union of their grids.

    Where both hold a step, ``second``'s values win. Both must have the same
    shops (in any order) and nodes. The result has no caller layout (it is a
    history, not something returned to a user); ``scale`` is recomputed.

    Parameters
    ----------
    first, second : Panel

    Returns
    -------
    panel : Panel

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_causalmmm.panel import concatenate_steps, to_panel
    >>> frame = pd.DataFrame({
    ...     "shop_id": ["a"] * 4, "date": pd.date_range("2024-01-01", periods=4),
    ...     "tv": [1.0, 2.0, 3.0, 4.0], "gmv": [5.0, 6.0, 7.0, 8.0],
    ... })
    >>> early = to_panel(frame.iloc[:3], y="gmv")
    >>> late = to_panel(frame.iloc[2:], y="gmv")
    >>> concatenate_steps(early, late).values[0, 1].tolist()
    [5.0, 6.0, 7.0, 8.0]
    """
    if set(first.shop_ids) != set(second.shop_ids) or len(first.shop_ids) != len(
        second.shop_ids
    ):
        raise ValueError("both panels must hold the same shops")
    if first.node_names != second.node_names:
        raise ValueError(
            f"both panels must hold the same nodes: {first.node_names} and "
            f"{second.node_names}"
        )
    order = [second.shop_ids.index(shop) for shop in first.shop_ids]
    second = second.subset(order)
    grid = first.time_index.union(second.time_index)
    freq = getattr(first.time_index, "freq", None)
    if isinstance(grid, pd.DatetimeIndex) and freq is not None:
        grid = pd.date_range(grid[0], grid[-1], freq=freq, name=grid.name)
    shape = (first.n_shops, first.n_nodes, len(grid))
    values = np.zeros(shape, dtype=np.float32)
    mask = np.zeros((first.n_shops, len(grid)), dtype=bool)
    observed = None
    if first.observed is not None or second.observed is not None:
        observed = np.zeros(shape, dtype=bool)
    # steps inside a part's span that it masks (missing="mask") are holes on
    # purpose, not gaps; their filled values go where nothing was observed
    covered = np.zeros_like(mask)
    for part in (first, second):
        at = grid.get_indexer(part.time_index)
        if (at < 0).any():
            raise ValueError("the panels' time grids do not line up")
        keep = part.mask
        inside = _inside_span(keep)
        write = keep | (inside & ~mask[:, at])
        values[..., at] = np.where(write[:, None], part.values, values[..., at])
        mask[:, at] |= keep
        covered[:, at] |= inside
        if observed is not None:
            given = part.observed if part.observed is not None else keep[:, None]
            observed[..., at] = np.where(keep[:, None], given, observed[..., at])
    _check_gaps(covered, list(first.shop_ids), grid)
    return dataclasses.replace(
        first,
        values=values,
        mask=mask,
        time_index=grid,
        scale=_scale(values, mask),
        observed=observed,
        row_index=None,
        extra={k: v for k, v in first.extra.items() if k != "_layout"},
    )


def _read_array(X, y, target_name: str) -> _Raw:
    """numpy3d and 2d arrays."""
    if sp.issparse(X):
        raise TypeError("sparse input is not supported; pass a dense array")
    if not isinstance(X, np.ndarray | list | tuple | pd.Series) and not hasattr(
        X, "__array__"
    ):
        raise TypeError(
            "X must be an array of shape (n_shops, n_nodes, n_steps) or "
            f"(n_steps, n_features), or a DataFrame; got {type(X).__name__}"
        )
    arr = np.asarray(X)
    dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
    arr = _as_float(arr, "X")
    if arr.ndim == 3:
        layout, values = "numpy3d", arr
    elif arr.ndim == 2:
        layout, values = "2d", arr.T[None]
    else:
        raise ValueError(
            "Reshape your data: X must be 3-D (n_shops, n_nodes, n_steps) or 2-D "
            f"(n_steps, n_features); got ndim={arr.ndim} with shape {arr.shape}. "
            "For one series with a "
            "single feature use X.reshape(-1, 1)"
        )
    n_shops, n_nodes, n_steps = values.shape
    _check_not_empty(arr.shape, n_rows=n_shops * n_steps, n_columns=n_nodes)
    names = [f"x{j}" for j in range(n_nodes)]
    dtypes = [dtype] * n_nodes
    if y is not None:
        if isinstance(y, str):
            raise ValueError("y names a column, which needs a DataFrame X")
        y_arr = np.asarray(y)
        y_dtype = y_arr.dtype if y_arr.dtype.kind == "f" else np.dtype(np.float64)
        y_arr = _as_float(y_arr, "y")
        if layout == "2d" and y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = y_arr[:, 0]
        expected = (n_shops, n_steps) if layout == "numpy3d" else (n_steps,)
        if y_arr.shape != expected:
            what = "(n_shops, n_steps)" if layout == "numpy3d" else "(n_steps,)"
            raise ValueError(
                f"y is misaligned with X: expected shape {what} = {expected} "
                f"for X of shape {arr.shape}; got {y_arr.shape}"
            )
        values = np.concatenate([values, y_arr.reshape(n_shops, 1, n_steps)], axis=1)
        names.append(target_name)
        dtypes.append(y_dtype)
    return _Raw(
        values=np.asarray(values, dtype=np.float64),
        mask=np.ones((n_shops, n_steps), dtype=bool),
        node_names=names,
        shop_ids=list(range(n_shops)),
        time_index=pd.RangeIndex(n_steps),
        layout=layout,
        info=_LayoutInfo(dtypes=tuple(dtypes)),
    )


def _read_frame(
    X, y, context_columns, shop_column, time_column, target_name, allow_gaps=False
) -> _Raw:
    """long, multiindex and 2d DataFrames."""
    if X.columns.has_duplicates:
        dup = X.columns[X.columns.duplicated()].unique().tolist()
        raise ValueError(f"X has duplicated column names: {_fmt_list(dup)}")
    keys = _frame_keys(X, shop_column, time_column)
    target_label = None
    if isinstance(y, str):
        if y not in X.columns:
            raise ValueError(f"y={y!r} is not a column of X")
        if y in keys.columns or y in context_columns:
            raise ValueError(f"y={y!r} is a shop, time or context column of X")
        target_label = y
    unknown = [c for c in context_columns if c not in X.columns]
    if unknown:
        raise ValueError(f"unknown context columns (not in X): {_fmt_list(unknown)}")
    clash = [c for c in context_columns if c in keys.columns]
    if clash:
        raise ValueError(f"context columns {_fmt_list(clash)} are shop/time columns")
    not_nodes = {*keys.columns, *context_columns, target_label}
    node_labels = [c for c in X.columns if c not in not_nodes]
    n_columns = len(node_labels) + (target_label is not None)
    _check_not_empty(X.shape, n_rows=len(X), n_columns=n_columns)

    if keys.layout == "2d":
        _check_no_key_columns(X, node_labels, shop_column, time_column)
    matrix, names, dtypes, target_label = _frame_nodes(
        X, y, node_labels, target_label, target_name, keys.layout
    )
    shop_codes, shop_ids, row_time, time_index = _frame_cells(X, keys)
    n_shops, n_steps = len(shop_ids), len(time_index)
    cell = shop_codes * n_steps + row_time  # flat (shop, step) of every row
    _check_duplicates(cell, shop_ids, time_index)
    # fill (shop, step, node), whose rows are contiguous; view as (shop, node, step)
    values = np.zeros((n_shops * n_steps, len(names)))
    values[cell] = matrix
    values = values.reshape(n_shops, n_steps, len(names)).transpose(0, 2, 1)
    mask = np.zeros(n_shops * n_steps, dtype=bool)
    mask[cell] = True
    mask = mask.reshape(n_shops, n_steps)
    if not allow_gaps:
        _check_gaps(mask, shop_ids, time_index)

    context = None
    if context_columns:
        context = _context_from_columns(X, context_columns, shop_codes, shop_ids)
    info = _LayoutInfo(
        dtypes=tuple(dtypes),
        row_shop=shop_codes,
        row_time=row_time,
        columns=X.columns.copy(),
        node_labels=tuple(node_labels),
        target_label=target_label,
        target_in_x=isinstance(y, str),
        other=X[[*keys.columns, *context_columns]],  # a new frame
    )
    return _Raw(
        values=values,
        mask=mask,
        node_names=names,
        shop_ids=shop_ids,
        time_index=time_index,
        layout=keys.layout,
        info=info,
        context=context,
        context_names=tuple(str(c) for c in context_columns),
        row_index=X.index.copy(),
    )


@dataclass
class _Keys:
    """Private: where a DataFrame keeps its shops and times."""

    layout: str
    columns: list  # the shop and time columns ("long"), else empty
    shops: object  # one shop label per row, or None for one shop ("2d")
    times: object  # one time per row
    time_name: object  # name of the time grid
    time_what: str  # how messages call the times
    shop_what: str = ""  # how messages call the shops


def _frame_keys(X, shop_column, time_column) -> _Keys:
    """Tell the DataFrame layout and find its shop and time labels."""
    has_shop, has_time = shop_column in X.columns, time_column in X.columns
    if isinstance(X.index, pd.MultiIndex):
        if X.index.nlevels != 2:
            raise ValueError(
                "a MultiIndex X must have 2 levels (shop, time); "
                f"got {X.index.nlevels} levels {list(X.index.names)}"
            )
        name = X.index.names[1]
        return _Keys(
            "multiindex",
            [],
            X.index.get_level_values(0),
            X.index.get_level_values(1),
            name,
            f"time index level {name!r}",
            "shop index level",
        )
    if has_shop and has_time:
        return _Keys(
            "long",
            [shop_column, time_column],
            X[shop_column],
            X[time_column],
            time_column,
            f"time column {time_column!r}",
            f"shop column {shop_column!r}",
        )
    if has_shop or has_time:
        present, missing, arg = (
            (shop_column, time_column, "time_column")
            if has_shop
            else (time_column, shop_column, "shop_column")
        )
        raise ValueError(
            f"X has a column {present!r} but no column {missing!r}: the long layout "
            f"needs both (set shop_column= and time_column=; {arg}={missing!r} now)"
        )
    return _Keys("2d", [], None, X.index, X.index.name, "index")


def _frame_nodes(X, y, node_labels, target_label, target_name, layout):
    """The (n_rows, n_nodes) float64 node matrix, target last, with names/dtypes."""
    for c in [*node_labels, *([target_label] if target_label is not None else [])]:
        try:
            _check_numeric_column(X[c], f"column {c!r}")
        except TypeError as error:
            if layout != "2d":
                raise
            raise TypeError(
                f"{error}. X has no shop_column and time_column, so it is read "
                "as one shop's series: if this column holds shop ids or times, "
                f"pass shop_column={c!r} and time_column=... (or the other way "
                "round), or index X by (shop, time)"
            ) from None
    names = [str(c) for c in node_labels]
    dtypes = [_out_dtype(X[c].dtype) for c in node_labels]
    matrix = X[node_labels].to_numpy(dtype=np.float64, na_value=np.nan)
    if y is not None:
        if target_label is not None:
            target, target_dtype = X[target_label], X[target_label].dtype
        else:
            if target_name in X.columns:
                raise ValueError(
                    f"target_name={target_name!r} is already a column of X; pass "
                    "y as that column's name, or another target_name"
                )
            target, target_dtype = _align_target(y, X.index, layout)
            target_label = target_name
        names.append(str(target_label))
        dtypes.append(_out_dtype(target_dtype))
        if not isinstance(target, pd.Series):
            target = pd.Series(np.asarray(target))
        _check_numeric_column(target, "y")
        target = target.to_numpy(dtype=np.float64, na_value=np.nan)
        matrix = np.column_stack([matrix, target])
    dup_names = pd.Index(names)[pd.Index(names).duplicated()].unique().tolist()
    if dup_names:
        raise ValueError(
            f"node names {_fmt_list(dup_names)} are used twice (two column labels "
            "print the same)"
        )
    return matrix, names, dtypes, target_label


def _frame_cells(X, keys: _Keys):
    """Shop position and grid step of every row, the shop ids and the grid."""
    if keys.shops is None:
        shop_codes, shop_ids = np.zeros(len(X), dtype=np.intp), [0]
    else:
        shop_codes, shop_ids = _factorize_shops(keys.shops, X.index, keys.shop_what)
    time_codes, times, kind = _factorize_times(
        keys.times, keys.time_what, generic_ok=keys.layout == "2d"
    )
    bad = time_codes < 0
    if bad.any():
        r = np.flatnonzero(bad)[0]
        raise ValueError(
            f"{keys.time_what} has missing values: shop {shop_ids[shop_codes[r]]!r}, "
            f"row {X.index[r]!r}"
        )
    grid, pos = _grid(kind, times, shop_codes, time_codes, shop_ids, keys.time_what)
    return shop_codes, shop_ids, pos[time_codes], grid.rename(keys.time_name)


#: Column names that say "shop" or "time" (compared lower-case, without
#: separators): a one-shop frame holding such a column is a long frame whose
#: shop and time columns were not named.
_KEY_NAMES = frozenset(
    {
        "shop", "shopid", "store", "storeid", "market", "geo", "region", "dma",
        "date", "day", "week", "month", "time", "timestamp", "period", "ds",
    }
)  # fmt: skip


def _check_no_key_columns(X, node_labels, shop_column, time_column) -> None:
    """Refuse a one-shop frame whose columns say it holds shops and times."""
    keys = [
        c
        for c in node_labels
        if str(c).lower().replace("_", "").replace(" ", "") in _KEY_NAMES
    ]
    if keys:
        raise ValueError(
            f"X has no column {shop_column!r} or {time_column!r} (shop_column and "
            "time_column), so it would be read as one shop's series, but its "
            f"column(s) {_fmt_list(keys)} look like shop or time keys: name them "
            f"(e.g. shop_column={keys[0]!r} and time_column=...), or index X by "
            "(shop, time), or rename the column(s) if they really are series"
        )


def _align_target(y, index: pd.Index, layout: str):
    """y (Series, 1-column DataFrame or array) as values in X's row order."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"y must be a Series or a 1-column DataFrame; got {y.shape[1]} columns"
            )
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        arr = np.asarray(y)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.shape != (len(index),):
            raise ValueError(
                f"y is misaligned with X: expected one value per row of X "
                f"({len(index)},); got shape {arr.shape}"
            )
        return arr, arr.dtype
    if y.index.equals(index):
        return y, y.dtype
    what = "(shop, time)" if layout == "multiindex" else "row"
    if not (y.index.is_unique and index.is_unique):
        which = "y's" if not y.index.is_unique else "X's"
        raise ValueError(
            f"y's index differs from X's and cannot be aligned: {which} index has "
            "duplicated labels"
        )
    missing = index.difference(y.index, sort=False)
    if len(missing):
        raise ValueError(
            f"y is misaligned with X: no y value for {what} {_fmt_list(missing)}"
        )
    extra = y.index.difference(index, sort=False)
    if len(extra):
        raise ValueError(
            f"y is misaligned with X: y has values for {what} not in X: "
            f"{_fmt_list(extra)}"
        )
    return y.reindex(index), y.dtype


def _factorize_shops(values, row_index, what: str):
    """Shop position of every row and the shop ids (sorted when sortable)."""
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # labels that cannot be sorted: order of first appearance
        codes, uniques = pd.factorize(values, sort=False)
    if (codes < 0).any():
        r = np.flatnonzero(codes < 0)[0]
        raise ValueError(f"{what} has missing values (row {row_index[r]!r})")
    return codes.astype(np.intp, copy=False), pd.Index(uniques).tolist()


def _factorize_times(values, what: str, *, generic_ok: bool):
    """Codes into the sorted distinct times, those times, and their kind.

    The kind is "datetime", "period", "int" or (2d frames only) "generic",
    which keeps the caller's order.
    """
    codes, uniques = pd.factorize(values, sort=False)
    uniques = pd.Index(uniques)
    kind, times = _time_kind(uniques, what, generic_ok)
    new_codes, times = times.factorize(sort=kind != "generic")
    codes = np.where(codes < 0, -1, new_codes[codes]).astype(np.intp)
    return codes, times, kind


def _time_kind(u: pd.Index, what: str, generic_ok: bool):
    dtype = u.dtype
    if isinstance(u, pd.DatetimeIndex):
        return "datetime", u
    if isinstance(u, pd.PeriodIndex):
        return "period", u
    if ptypes.is_bool_dtype(dtype):
        pass
    elif ptypes.is_integer_dtype(dtype):
        return "int", pd.Index(u.to_numpy(dtype=np.int64))
    elif ptypes.is_float_dtype(dtype):
        arr = u.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isfinite(arr).all() and (arr == np.round(arr)).all():
            return "int", pd.Index(arr.astype(np.int64))
    elif ptypes.is_object_dtype(dtype) or ptypes.is_string_dtype(dtype):
        inferred = ptypes.infer_dtype(u, skipna=True)
        if inferred == "integer":
            return "int", pd.Index(u.to_numpy(dtype=np.int64))
        if inferred == "period":
            return "period", pd.PeriodIndex(u)
        if inferred in ("datetime", "datetime64", "date") or (
            inferred == "string" and not generic_ok
        ):
            try:
                return "datetime", pd.DatetimeIndex(pd.to_datetime(u))
            except (ValueError, TypeError) as exc:
                raise TypeError(
                    f"{what} must hold datetimes, periods or integers; "
                    f"could not read it as dates: {exc}"
                ) from None
    if generic_ok:
        return "generic", u
    raise TypeError(
        f"{what} must hold datetimes, periods or integers; got dtype {dtype}"
    )


def _grid(kind, times, shop_codes, time_codes, shop_ids, what):
    """The regular grid spanning ``times`` (sorted, distinct) and their positions."""
    if kind == "generic" or len(times) < 2:
        return times.copy(), np.arange(len(times))
    limit = _MAX_GRID_RATIO * len(times) + _MAX_GRID_SLACK
    if kind == "int":
        arr = times.to_numpy()
        step = int(np.gcd.reduce(np.diff(arr)))
        n = (arr[-1] - arr[0]) // step + 1
        if n > limit:
            _raise_sparse_grid(n, times, what, shop_codes, time_codes, shop_ids)
        grid = pd.RangeIndex(arr[0], arr[-1] + step, step)
        return grid, (arr - arr[0]) // step
    if kind == "period":
        n = (times.asi8[-1] - times.asi8[0]) // times.freq.n + 1
        if n > limit:
            _raise_sparse_grid(n, times, what, shop_codes, time_codes, shop_ids)
        grid = pd.period_range(times[0], times[-1], freq=times.freq)
        return grid, grid.get_indexer(times)

    # datetimes: the frequency of the longest shop (an authority on the step:
    # the union of shops with a hole can look like business days), else of
    # the union of times, else the smallest step between two times.
    counts = np.bincount(shop_codes, minlength=len(shop_ids))
    longest = np.unique(time_codes[shop_codes == counts.argmax()])
    freq = pd.infer_freq(times[longest]) if len(longest) >= 3 else None
    if freq is None:
        freq = pd.infer_freq(times) if len(times) >= 3 else None
    if freq is None:
        # whole days on the wall clock make calendar days (which keep DST)
        wall = times.tz_localize(None) if times.tz is not None else times
        wall_steps = wall[1:] - wall[:-1]
        wall_step = wall_steps[wall_steps > pd.Timedelta(0)].min()
        if wall_step % pd.Timedelta(days=1) == pd.Timedelta(0):
            freq = pd.offsets.Day(wall_step.days)
        else:
            freq = (times[1:] - times[:-1]).min()
    offset = to_offset(freq)
    if isinstance(offset, pd.offsets.Day):  # fixed steps: size before building
        step = pd.Timedelta(days=offset.n)
    elif isinstance(offset, pd.offsets.Tick):
        step = pd.Timedelta(offset)
    else:
        step = None
    if step is not None:
        n = (times[-1] - times[0]) // step + 1
        if n > limit:
            _raise_sparse_grid(n, times, what, shop_codes, time_codes, shop_ids)
    grid = pd.date_range(times[0], times[-1], freq=offset, unit=times.unit)
    if len(grid) > limit:
        _raise_sparse_grid(len(grid), times, what, shop_codes, time_codes, shop_ids)
    pos = grid.get_indexer(times)
    if (pos < 0).any():
        off_rows = (pos < 0)[time_codes]
        shop = shop_codes[off_rows][0]
        off_times = times[np.unique(time_codes[off_rows & (shop_codes == shop)])]
        raise ValueError(
            "irregular or missing time steps: cannot infer a regular frequency for "
            f"the {what}; shop {shop_ids[shop]!r} has times off the "
            f"{offset.freqstr!r} grid starting {_fmt_time(times[0])}: "
            f"{_fmt_times(off_times)}"
        )
    return grid, pos


def _raise_sparse_grid(n, times, what, shop_codes, time_codes, shop_ids):
    """Raise for a grid far longer than the data, naming the smallest step."""
    ordinals = (
        times.asi8 if isinstance(times, pd.DatetimeIndex | pd.PeriodIndex) else times
    )
    i = int(np.argmin(np.diff(np.asarray(ordinals))))
    shop = shop_codes[np.flatnonzero(time_codes == i + 1)[0]]
    raise ValueError(
        "irregular or missing time steps: cannot infer a regular frequency for the "
        f"{what}: the smallest step, from {_fmt_time(times[i])} to "
        f"{_fmt_time(times[i + 1])} (shop {shop_ids[shop]!r}), would need a grid "
        f"of {n} steps for {len(times)} distinct times"
    )


def _check_duplicates(cell, shop_ids, time_index):
    """Raise naming the (shop, time) pairs that have more than one row."""
    counts = np.bincount(cell, minlength=len(shop_ids) * len(time_index))
    dup = np.flatnonzero(counts > 1)
    if len(dup):
        n_steps = len(time_index)
        pairs = _fmt_list(
            dup,
            fmt=lambda k: (
                f"({shop_ids[k // n_steps]!r}, {_fmt_time(time_index[k % n_steps])})"
            ),
        )
        raise ValueError(f"duplicated (shop, time) rows: {pairs}")


def _check_gaps(mask, shop_ids, time_index):
    """Raise when a shop misses steps inside its own span."""
    n_steps = mask.shape[1]
    counts = mask.sum(axis=1)
    first = mask.argmax(axis=1)
    last = n_steps - 1 - mask[:, ::-1].argmax(axis=1)
    gappy = np.flatnonzero(last - first + 1 != counts)
    if len(gappy) == 0:
        return
    s = gappy[0]
    missing = first[s] + np.flatnonzero(~mask[s, first[s] : last[s] + 1])
    others = (
        f"; shops {_fmt_list([shop_ids[i] for i in gappy[1:]])} also have gaps"
        if len(gappy) > 1
        else ""
    )
    raise ValueError(
        f"irregular or missing time steps: shop {shop_ids[s]!r} misses "
        f"{len(missing)} step(s) inside its span {_fmt_time(time_index[first[s]])} "
        f"to {_fmt_time(time_index[last[s]])}: {_fmt_times(time_index[missing])}"
        f"{others}"
    )


def _context_from_columns(X, context_columns, shop_codes, shop_ids):
    """Per-shop mean of each context column over the shop's rows."""
    for c in context_columns:
        _check_numeric_column(X[c], f"context column {c!r}")
    rows = X[context_columns].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(rows)
    if bad.any():
        r, j = np.argwhere(bad)[0]
        raise ValueError(
            f"context must be finite: context column {context_columns[j]!r} has "
            f"NaN or inf for shop {shop_ids[shop_codes[r]]!r} (row {X.index[r]!r})"
        )
    n_shops = len(shop_ids)
    sums = [np.bincount(shop_codes, weights=col, minlength=n_shops) for col in rows.T]
    counts = np.bincount(shop_codes, minlength=n_shops)
    return np.column_stack(sums) / counts[:, None]


def _read_context(context, shop_ids):
    """context= as a (n_shops, n_context) float64 array and its names."""
    n_shops = len(shop_ids)
    if isinstance(context, pd.DataFrame):
        names = tuple(str(c) for c in context.columns)
        if not context.index.is_unique:
            raise ValueError("context's index (shop labels) has duplicated labels")
        rows = context.index.get_indexer(shop_ids)
        if (rows < 0).any():
            missing = [shop_ids[s] for s in np.flatnonzero(rows < 0)]
            raise ValueError(f"context has no row for shops {_fmt_list(missing)}")
        for c in context.columns:
            _check_numeric_column(context[c], f"context column {c!r}")
        arr = context.iloc[rows].to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        arr = _as_float(np.asarray(context), "context")
        if arr.ndim == 1 and n_shops == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[0] != n_shops:
            raise ValueError(
                f"context must have shape (n_shops, n_context) with n_shops={n_shops}"
                f"; got {arr.shape}"
            )
        names = tuple(f"c{j}" for j in range(arr.shape[1]))
    bad = ~np.isfinite(arr)
    if bad.any():
        s, j = np.argwhere(bad)[0]
        raise ValueError(
            f"context must be finite: context {names[j]!r} is NaN or inf for "
            f"shop {shop_ids[s]!r}"
        )
    return np.array(arr, dtype=np.float64), names


# ---------------------------------------------------------------------- checks
def _check_values(
    raw: _Raw, has_target: bool, allow_negative: bool, roles: tuple = ()
) -> None:
    """NaN/inf, float32 overflow and (unless allowed) negative media."""
    values = raw.values
    _raise_first(~np.isfinite(values), raw, has_target, "contains NaN or inf")
    # two comparisons, not a float64 copy of |values|
    too_large = (values > _FLOAT32_MAX) | (values < -_FLOAT32_MAX)
    _raise_first(too_large, raw, has_target, "has values too large for float32")
    if not allow_negative:
        media = np.array([role == "media" for role in roles], dtype=bool)
        _raise_first(
            (values < 0) & media[None, :, None],
            raw,
            has_target,
            "has negative values",
            hint=(
                ". Negative values in data are allowed in controls only: media "
                "(spend, impressions) cannot be negative. If this is a signed "
                "series (a price index, temperature, a growth rate), declare it "
                "as a control (control_columns=[...])"
            ),
        )


def _raise_first(bad, raw: _Raw, has_target: bool, problem: str, hint: str = ""):
    if not bad.any():
        return
    s, j, t = np.unravel_index(np.argmax(bad), bad.shape)
    source = "y" if has_target and j == len(raw.node_names) - 1 else "X"
    nodes = [raw.node_names[k] for k in np.flatnonzero(bad.any(axis=(0, 2)))]
    others = f" (nodes with this problem: {_fmt_list(nodes)})" if len(nodes) > 1 else ""
    raise ValueError(
        f"{source} {problem} in node {raw.node_names[j]!r} of shop "
        f"{raw.shop_ids[s]!r} (e.g. {raw.values[s, j, t]} at time "
        f"{_fmt_time(raw.time_index[t])}){others}{hint}"
    )


def _inside_span(mask: np.ndarray) -> np.ndarray:
    """``(n_shops, n_steps)``: True from each shop's first to last observed step."""
    seen = np.cumsum(mask, axis=1)
    return (seen > 0) & (seen < seen[:, -1:]) | mask


def _forward_fill(values: np.ndarray, absent: np.ndarray) -> np.ndarray:
    """Each absent value of ``(..., n_steps)`` takes the last given one before it,
    or the first one after it at the start; all-absent series stay as they are."""
    steps = np.arange(values.shape[-1])
    last = np.maximum.accumulate(np.where(absent, -1, steps), axis=-1)
    first = np.argmax(~absent, axis=-1)[..., None]
    source = np.where(last >= 0, last, first)
    return np.take_along_axis(values, source, axis=-1)


def _fill_drivers(raw: _Raw, absent: np.ndarray, n_drivers: int) -> np.ndarray:
    """The drivers forward-filled inside each shop's span (``missing="ffill"``)."""
    drivers = raw.values[:, :n_drivers]
    gone = absent[:, :n_drivers]
    inside = _inside_span(raw.mask)[:, None]
    empty = (gone | ~inside).all(axis=-1) & inside.any(axis=-1)
    if empty.any():
        s, j = np.argwhere(empty)[0]
        raise ValueError(
            f"missing='ffill' cannot fill node {raw.node_names[j]!r} of shop "
            f"{raw.shop_ids[s]!r}: it has no value at all; give it one, or drop "
            "the shop"
        )
    filled = _forward_fill(np.where(gone, 0.0, drivers), gone | ~inside)
    return np.where(inside, filled, drivers)


def _check_not_constant(panel: Panel) -> None:
    constant = np.ones(panel.n_nodes, dtype=bool)
    for rows in _shop_chunks(panel.values):
        mask = panel.mask[rows, None, :]
        high = np.where(mask, panel.values[rows], -np.inf).max(axis=-1)
        low = np.where(mask, panel.values[rows], np.inf).min(axis=-1)
        constant &= (high == low).all(axis=0)
    if constant.any():
        nodes = [panel.node_names[j] for j in np.flatnonzero(constant)]
        raise ValueError(
            f"node(s) {_fmt_list(nodes)} constant in every shop (a node must vary "
            "over time in at least one shop)"
        )


def _short_shops_message(panel: Panel, short, min_steps: int) -> str:
    counts = panel.mask.sum(axis=1)
    shops = _fmt_list(
        np.flatnonzero(short),
        limit=20,
        fmt=lambda s: (
            f"{panel.shop_ids[s]!r} ({counts[s]} sample{'s' if counts[s] != 1 else ''})"
        ),
    )
    return (
        f"{int(short.sum())} shop(s) with fewer than min_steps={min_steps} observed "
        f"steps: {shops}"
    )


def _check_not_empty(shape, *, n_rows: int, n_columns: int) -> None:
    """sklearn-style messages for data without samples or features."""
    if n_rows == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={tuple(shape)}) while a minimum "
            "of 1 is required."
        )
    if n_columns == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={tuple(shape)}) while a minimum "
            "of 1 is required."
        )


def _check_numeric_column(col: pd.Series, what: str) -> None:
    dtype = col.dtype
    if ptypes.is_complex_dtype(dtype):
        ok = False
    elif ptypes.is_numeric_dtype(dtype):  # includes bool and nullable dtypes
        ok = True
    elif ptypes.is_object_dtype(dtype):
        ok = ptypes.infer_dtype(col, skipna=True) in (
            "integer",
            "floating",
            "mixed-integer-float",
            "decimal",
            "boolean",
            "empty",
        )
    else:
        ok = False
    if not ok:
        raise TypeError(f"{what} must be numeric; got dtype {dtype}{_text_hint(col)}")


def _text_hint(col: pd.Series) -> str:
    """Where a column holds text instead of numbers, and how to read it."""
    if not (ptypes.is_object_dtype(col.dtype) or ptypes.is_string_dtype(col.dtype)):
        return ""
    for label, value in col.items():
        if (
            value is None
            or value is pd.NA
            or (isinstance(value, float) and value != value)
        ):
            continue
        if isinstance(value, str) and _is_number(value):
            continue
        if not isinstance(value, str):
            return f": row {label!r} holds {value!r}"
        text = value.strip()
        if "," in text and _is_number(text.replace(",", "")):
            fix = (
                "numbers are written with a thousands separator: read the file "
                "with pandas.read_csv(..., thousands=',') or convert the column "
                "with .str.replace(',', '').astype(float)"
            )
        elif "," in text and _is_number(text.replace(".", "").replace(",", ".")):
            fix = (
                "numbers are written with a decimal comma: read the file with "
                "pandas.read_csv(..., decimal=',', thousands='.')"
            )
        else:
            fix = "convert the column with pandas.to_numeric, or drop it"
        return f": row {label!r} holds the text {value!r} ({fix})"
    return (
        ": its values are numbers written as text; convert the column with "
        "pandas.to_numeric"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _as_float(arr: np.ndarray, what: str) -> np.ndarray:
    kind = arr.dtype.kind
    if kind in "biuf":
        return arr
    if kind == "c":
        raise ValueError(f"Complex data not supported: {what} has dtype {arr.dtype}.")
    if kind == "O":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what} must be numeric: {exc}") from None
    raise TypeError(f"{what} must be numeric; got dtype {arr.dtype}")


# ---------------------------------------------------------------------- small helpers
def _shop_chunks(values: np.ndarray):
    """Slices of shops of about a million elements each: the temporaries of a
    computation over every value stay flat in the number of shops."""
    n_shops = values.shape[0]
    size = max(1, 2**20 // max(int(np.prod(values.shape[1:])), 1))
    return [slice(start, start + size) for start in range(0, n_shops, size)]


def _scale(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    counts = np.maximum(mask.sum(axis=1), 1)[:, None]
    sums = np.empty(values.shape[:2])
    for rows in _shop_chunks(values):
        observed = np.where(mask[rows, None], np.abs(values[rows]), 0.0)
        sums[rows] = observed.sum(axis=-1, dtype=np.float64)
    scale = (sums / counts).astype(np.float32)
    scale[~(scale > 0) | ~np.isfinite(scale)] = 1.0
    return scale


def _out_dtype(dtype):
    return dtype if ptypes.is_float_dtype(dtype) else np.dtype(np.float64)


def _positive_int(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {n!r}")
    return int(n)


def _shop_positions(shop_indices, n_shops: int) -> np.ndarray:
    idx = np.asarray(shop_indices)
    if idx.size == 0:
        raise ValueError("select at least one shop")
    if idx.dtype == bool:
        if idx.shape != (n_shops,):
            raise ValueError(
                f"a boolean shop mask must have shape ({n_shops},); got {idx.shape}"
            )
        idx = np.flatnonzero(idx)
    elif idx.dtype.kind not in "iu":
        raise TypeError(
            f"shop_indices must be integer positions; got dtype {idx.dtype}"
        )
    idx = idx.reshape(-1).astype(np.intp)
    if ((idx < -n_shops) | (idx >= n_shops)).any():
        raise IndexError(f"shop positions out of range for {n_shops} shops")
    idx = np.where(idx < 0, idx + n_shops, idx)
    if len(np.unique(idx)) != len(idx):
        raise ValueError("shop_indices selects a shop more than once")
    return idx


def _fmt_time(t) -> str:
    """A time for messages: dates without a midnight clock, else ``str``."""
    if isinstance(t, pd.Timestamp) and t == t.normalize() and t.tz is None:
        return t.strftime("%Y-%m-%d")
    return str(t)


def _fmt_times(times) -> str:
    return _fmt_list(times, fmt=_fmt_time)


def _fmt_list(items, limit: int = 5, quote: bool = True, fmt=None) -> str:
    """The first ``limit`` items (formatted by ``fmt``, else repr/str), "and N more"."""
    fmt = fmt or (repr if quote else str)
    items = items if hasattr(items, "__len__") else list(items)
    head = items[:limit]
    head = head.tolist() if hasattr(head, "tolist") else head  # Python scalars
    shown = ", ".join(fmt(item) for item in head)
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")

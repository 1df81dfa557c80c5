"""The package's own ``sklearn.base``: what every estimator of the package shares.

:class:`BaseDiscoverer` is the graph API of every discoverer (CausalMMM and the
discovery baselines): ``fit(X)`` scores every directed edge of every shop,
``predict_graph`` scores new shops, ``transform`` flattens graphs for Pipelines.

:class:`PanelForecasterMixin` is the forecasting contract every regressor of the
package follows. ``fit(X, y)`` learns from each shop's drivers ``X`` and target
``y``. ``predict(X)`` receives the plan for the steps to forecast, for shops seen
in ``fit``, and returns the target for those steps in the caller's layout:

* arrays carry no dates, so they always continue the fitted window (the plan
  starts on the step after the last fitted one, shops matched by position);
* DataFrames carry dates: the plan may start inside the fitted window (the
  model then forecasts from what it knew just before that date, e.g. to score
  a back-test) or on the step right after it (a forecast of the future).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_is_fitted

from sklearn_causalmmm.panel import Panel, to_panel

__all__ = [
    "BaseDiscoverer",
    "PanelForecasterMixin",
    "flatten_off_diagonal",
    "forecast_origin",
    "unflatten_off_diagonal",
]


def flatten_off_diagonal(graphs: np.ndarray) -> np.ndarray:
    """``(n_shops, d, d)`` -> ``(n_shops, d * (d - 1))``: row-major, no diagonal."""
    n_nodes = graphs.shape[-1]
    keep = ~np.eye(n_nodes, dtype=bool)
    return graphs[:, keep]


def unflatten_off_diagonal(rows: np.ndarray) -> np.ndarray:
    """Inverse of :func:`flatten_off_diagonal`, with a zero diagonal."""
    n_edges = rows.shape[-1]
    n_nodes = int(round((1 + np.sqrt(1 + 4 * n_edges)) / 2))
    if n_nodes * (n_nodes - 1) != n_edges:
        raise ValueError(f"{n_edges} edges are not d * (d - 1) for any d.")
    graphs = np.zeros((len(rows), n_nodes, n_nodes), dtype=rows.dtype)
    graphs[:, ~np.eye(n_nodes, dtype=bool)] = rows
    return graphs


def _is_true_graphs(y) -> bool:
    """Whether a discoverer's ``y`` holds true graphs ``(n_shops, d, d)``."""
    return (
        y is not None
        and not isinstance(y, pd.Series | pd.DataFrame)
        and np.ndim(y) == 3
    )


class BaseDiscoverer(TransformerMixin, BaseEstimator):
    """Base class of graph discoverers: subclasses implement ``_score_graphs``.

    ``_score_graphs(panel, rng) -> ndarray (n_shops, d, d)`` returns, for every
    shop, the score of each edge ``[s, i, j]`` = i -> j (row = cause; transpose
    explicitly when a library returns the other orientation). Subclasses that
    can score new shops with a model fitted on others set
    ``_inductive = True`` and implement ``_score_new(panel)``.

    Subclasses must define ``context_columns``, ``shop_column`` and
    ``time_column`` parameters (may be fixed class attributes) and
    ``random_state``.
    """

    _inductive = False
    context_columns = None
    shop_column = "shop_id"
    time_column = "date"

    def _to_panel(self, X, y=None, context=None, min_steps: int = 3) -> Panel:
        # A discoverer has no spend semantics: a signed node (a z-scored series,
        # a growth rate) is a node like any other, read as a control.
        return to_panel(
            X,
            y,
            context=context,
            context_columns=self.context_columns,
            shop_column=self.shop_column,
            time_column=self.time_column,
            target_name=getattr(self, "target_name", "gmv"),
            min_steps=min_steps,
            default_role="auto",
        )

    def fit(self, X, y=None, context=None):
        """Score every directed edge of every shop.

        Parameters
        ----------
        X : array-like or DataFrame
            A panel in any layout accepted by :func:`~sklearn_causalmmm.panel.to_panel`.
            Without ``y``, the last node is the target (GMV). Signed series are
            accepted as they are.
        y : array-like, Series or None, default=None
            The target's series, aligned with X (as for
            :class:`~sklearn_causalmmm.CausalMMMRegressor`): it becomes the last
            node. :meth:`predict_graph` and :meth:`transform` then need the
            target of the shops they score too (``y=``). An array of shape
            ``(n_shops, d, d)`` is instead the shops' true graphs, which a
            scorer (:func:`~sklearn_causalmmm.metrics.edge_auroc_scorer` in
            ``GridSearchCV``) compares with; fit does not read them.
        context : array-like of shape (n_shops, n_context), default=None

        Returns
        -------
        self
        """
        from sklearn.utils import check_random_state

        if _is_true_graphs(y):
            y = None  # the truth a scorer compares with, not a node
        panel = self._to_panel(X, y, context)
        rng = check_random_state(getattr(self, "random_state", None))
        self.edge_probabilities_ = np.asarray(
            self._score_graphs(panel, rng), dtype=np.float64
        )
        self.node_names_ = list(panel.node_names)
        self.shop_ids_ = list(panel.shop_ids)
        self.fitted_with_target_ = y is not None
        # X's nodes: the target given as y is not a feature of X
        self.n_features_in_ = panel.n_nodes - self.fitted_with_target_
        return self

    @property
    def adjacency_matrix_(self) -> np.ndarray:
        """Alias of ``edge_probabilities_`` (the name other causal libraries use)."""
        return self.edge_probabilities_

    def predict_graph(self, X, context=None, *, y=None) -> np.ndarray:
        """Edge scores ``(n_shops, d, d)`` for the shops in X.

        Inductive methods score new shops with the fitted model; the others
        refit on X (a clone, leaving this estimator unchanged). ``y`` is the
        shops' target series, needed (and only accepted) when :meth:`fit`
        was given one.
        """
        panel = self._new_shops_panel(X, context, y)
        if self._inductive:
            return np.asarray(self._score_new(panel), dtype=np.float64)
        from sklearn.base import clone

        return clone(self).fit(X, y, context=context).edge_probabilities_

    def _new_shops_panel(self, X, context, y) -> Panel:
        """The panel of new shops, checked to have the fitted nodes."""
        check_is_fitted(self)
        with_target = getattr(self, "fitted_with_target_", False)
        panel = self._to_panel(X, y, context)
        n_features = panel.n_nodes - (y is not None)
        if n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        if with_target != (y is not None):
            fitted = "with" if with_target else "without"
            fix = (
                "pass y="
                if with_target
                else "leave y out (X's last node is the target)"
            )
            raise ValueError(
                f"{type(self).__name__} was fitted {fitted} a separate target y; "
                f"{fix} here too, so that the graph has the same nodes."
            )
        return panel

    def transform(self, X, context=None, *, y=None) -> np.ndarray:
        """Off-diagonal edge scores, one row per shop, for clustering shops by graph."""
        return flatten_off_diagonal(self.predict_graph(X, context, y=y))

    def fit_transform(self, X, y=None, context=None):
        return flatten_off_diagonal(self.fit(X, y, context).edge_probabilities_)


def forecast_origin(fitted: Panel, future: Panel) -> tuple[np.ndarray, int]:
    """Locate a channel plan on the fitted panel.

    Returns
    -------
    shop_rows : ndarray of int
        For each shop of ``future``, its row in ``fitted``.
    start : int
        Position on the fitted time grid of the plan's first step
        (``fitted.n_steps`` for a plan that starts right after the fit).
    """
    if future.row_index is None:
        if future.n_shops != fitted.n_shops:
            raise ValueError(
                f"X has {future.n_shops} shops but the model was fitted on "
                f"{fitted.n_shops}; an array plan must list the fitted shops in "
                "the same order (pass DataFrames to forecast a subset of shops)."
            )
        return np.arange(fitted.n_shops), fitted.n_steps
    positions = {shop: row for row, shop in enumerate(fitted.shop_ids)}
    unknown = [shop for shop in future.shop_ids if shop not in positions]
    if unknown:
        raise ValueError(
            f"shop(s) {unknown[:5]} were not seen in fit; forecasts continue the "
            "history of fitted shops."
        )
    shop_rows = np.array([positions[shop] for shop in future.shop_ids])
    first = future.time_index[0]
    grid = fitted.time_index
    if first in grid:
        return shop_rows, int(grid.get_loc(first))
    next_step = _next_time(grid)
    if first != next_step:
        raise ValueError(
            f"X starts at {first!r}; it must start inside the fitted period "
            f"({grid[0]!r} to {grid[-1]!r}) or on the next step, {next_step!r}."
        )
    return shop_rows, len(grid)


def _is_column_vector(y) -> bool:
    return not hasattr(y, "index") and np.ndim(y) == 2 and np.shape(y)[1] == 1


def _next_time(grid):
    if len(grid) < 2:
        raise ValueError("the fitted time grid has a single step; cannot extend it.")
    freq = getattr(grid, "freq", None)
    if freq is not None:
        return grid[-1] + freq
    return grid[-1] + (grid[-1] - grid[-2])


class PanelForecasterMixin:
    """``fit``/``predict`` plumbing; subclasses implement two hooks.

    ``_fit_panel(panel, rng)`` trains on the fitted :class:`Panel` (target is
    the last node). ``_forecast(history, plan, start)`` returns raw GMV of
    shape ``(n_shops, plan.n_steps)``, where ``history`` is the fitted panel
    restricted to the plan's shops and ``start`` the plan's position on its
    grid (steps ``>= start`` of ``history`` must not be used).

    Subclasses define ``context_columns``, ``shop_column``, ``time_column``,
    ``target_name`` (may be class attributes) and ``random_state``.
    """

    context_columns = None
    shop_column = "shop_id"
    time_column = "date"
    target_name = "gmv"
    _min_fit_steps = 3

    def fit(self, X, y, context=None):
        """Fit on channels ``X`` and GMV ``y`` of every shop.

        Parameters
        ----------
        X : array-like or DataFrame
            Channels (and funnel nodes) in any panel layout.
        y : array-like or Series
            GMV aligned with X.
        context : array-like of shape (n_shops, n_context), default=None

        Returns
        -------
        self
        """
        from sklearn.utils import check_random_state

        if _is_column_vector(y) and np.ndim(X) == 2:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; "
                "it is raveled to (n_steps,).",
                DataConversionWarning,
                stacklevel=2,
            )
            y = np.ravel(y)
        panel = self._convert(X, y, context, min_steps=self._min_fit_steps)
        self.panel_ = panel
        self.n_features_in_ = panel.n_nodes - 1
        self.node_names_ = list(panel.node_names)
        self._fit_panel(panel, check_random_state(getattr(self, "random_state", None)))
        return self

    def predict(self, X, context=None):
        """Forecast GMV over the steps of the channel plan ``X``.

        Parameters
        ----------
        X : array-like or DataFrame
            Channel plan of fitted shops (see the module docstring for how its
            first step is placed after the fitted history).
        context : array-like, default=None
            Ignored for fitted shops (their context is known); accepted for
            symmetry with ``fit``.

        Returns
        -------
        ndarray or Series
            GMV in the layout of ``X`` (an array ``(n_shops, n_steps)``, an
            array ``(n_steps,)`` for one shop, or a Series on X's index).
        """
        plan, history, start, _ = self._locate_plan(X, context)
        forecast = np.asarray(self._forecast(history, plan, start), dtype=np.float64)
        return plan.target_to_layout(forecast)

    #: Whether ``predict`` forecasts the driver values a plan lacks (columns
    #: left out of a DataFrame plan, or NaN cells) instead of refusing them.
    _fills_plan = False

    def _locate_plan(self, X, context) -> tuple[Panel, Panel, int, np.ndarray]:
        """Convert a plan; return it, its shops' fitted history, its start, rows.

        A DataFrame plan's drivers are matched to the fitted ones by name, in
        any column order. With ``_fills_plan``, drivers it leaves out are read
        as missing (``plan.observed``).
        """
        check_is_fitted(self, "panel_")
        drivers = self.node_names_[:-1]
        missing = "error"
        if isinstance(X, pd.DataFrame) and self._fills_plan:
            absent = [name for name in drivers if name not in map(str, X.columns)]
            if absent:
                X = X.assign(**dict.fromkeys(absent, np.nan))
            missing = "mask"
        # a plan may hold a single step, or a channel switched off throughout
        plan = self._convert(
            X, None, context, min_steps=1, check_constant=False, missing=missing
        )
        if plan.n_nodes != self.n_features_in_:
            raise ValueError(
                f"X has {plan.n_nodes} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        if isinstance(X, pd.DataFrame) and set(plan.node_names) == set(drivers):
            plan = plan.take_nodes(drivers)
        rows, start = forecast_origin(self.panel_, plan)
        return plan, self.panel_.subset(rows), start, rows

    def _convert(
        self,
        X,
        y,
        context,
        min_steps: int,
        check_constant: bool = True,
        missing: str = "error",
    ) -> Panel:
        return to_panel(
            X,
            y,
            context=context,
            context_columns=self.context_columns,
            shop_column=self.shop_column,
            time_column=self.time_column,
            target_name=self.target_name,
            min_steps=min_steps,
            allow_negative=getattr(self, "_allow_negative", False),
            check_constant=check_constant,
            missing=missing,
        )

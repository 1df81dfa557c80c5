"""The package's GMV forecasters under the sktime forecasting API.

:class:`PanelRegressorForecaster` puts any regressor that follows the package's
forecasting contract (``fit(X, y)`` on a panel of shops, ``predict(X_plan)``
over a channel plan, see :mod:`sklearn_causalmmm.base`) behind sktime's
``BaseForecaster``: :class:`~sklearn_causalmmm.CausalMMMRegressor` and the
forecasting baselines then run in sktime's ``evaluate``, splitters and
benchmarks like any sktime forecaster. :class:`CausalMMMForecaster` is that
forecaster around a :class:`~sklearn_causalmmm.CausalMMMRegressor`, with the
regressor's parameters as its own; it is the one that can also forecast the
channels it is not given.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon

__all__ = ["CausalMMMForecaster", "PanelRegressorForecaster"]

#: Name of the driver node a forecaster fitted without X uses (see Notes).
TIME_STEP_NODE = "time_step"


class PanelRegressorForecaster(BaseForecaster):
    """Forecast GMV of one shop or many with any of the package's regressors.

    ``y`` is GMV: one series, or a panel of shops with a ``(shop, time)``
    MultiIndex (or a hierarchical index, every level but the last naming the
    shop). ``X`` holds the channels, funnel nodes and, named by the
    regressor's ``context_columns``, shop context on the same index. One clone
    of ``regressor`` is fitted on all shops.

    At ``predict``, ``X`` is the plan the regressor rolls the target forward
    over, for every step from the cutoff to the last step of ``fh`` (also the
    steps between those of a non-contiguous ``fh``). A regressor that can
    forecast the drivers a plan lacks (:class:`~sklearn_causalmmm.CausalMMMRegressor`)
    fills the columns or steps ``X`` leaves out (or all of them when ``X`` is
    None); for the others ``X`` must hold every column seen in ``fit``.
    In-sample steps (``fh <= 0``) are forecast from what the regressor knew
    just before the first requested step, with the observed drivers (or
    those given in ``X``) as the plan, i.e. a back-test from that date.
    ``predict_interval`` and ``predict_quantiles`` (sktime's
    ``capability:pred_int``) are available when the regressor has a
    ``predict_interval(X, coverage=...)`` method.

    Parameters
    ----------
    regressor : estimator
        A GMV regressor of the package's forecasting contract, e.g.
        :class:`~sklearn_causalmmm.CausalMMMRegressor`,
        :class:`~sklearn_causalmmm.baselines.AdstockHillRegressor`,
        :class:`~sklearn_causalmmm.baselines.LSTMRegressor`. It is cloned,
        never fitted itself; its ``context_columns`` name the context columns
        of ``X``.

    Attributes
    ----------
    regressor_ : estimator
        The fitted clone of ``regressor``.
    node_names_ : list of str
        The regressor's nodes: the columns of ``X`` that are not context, then
        GMV.
    shop_ids_ : list
        The shops (instance keys of ``y``, tuples for hierarchical indexes) in
        the order the regressor sees them (shop codes ``0, 1, ...``).
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        The regressor's causal graph, when it learns one (``[s, i, j]`` =
        P(node i -> node j)). Also in ``get_fitted_params()``.
    edge_gains_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        The regressor's per-shop edge gains, when it has them. Also in
        ``get_fitted_params()``.

    See Also
    --------
    CausalMMMForecaster : the same around CausalMMM, with channel rollout.

    Notes
    -----
    Fitted without ``X``, the regressor needs a driver node: it gets one
    deterministic node, ``"time_step"`` (1, 2, ... along the time grid,
    continued over the horizon), which carries only the position in time.

    ``update`` with ``update_params=True`` refits the regressor on the whole
    history. With ``update_params=False`` the fitted regressor is kept: a
    regressor with an ``extend(X, y)`` method (as
    :class:`~sklearn_causalmmm.CausalMMMRegressor`) appends the new
    observations to the history its forecasts start from; for the others,
    forecasts still start from the end of the history the regressor was
    fitted on, with the new steps' drivers as the first steps of the plan
    (their target is not read). Shops are those seen in ``fit``.

    Examples
    --------
    >>> from sklearn_causalmmm.baselines import AdstockHillRegressor
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> from sklearn_causalmmm.forecasting import PanelRegressorForecaster
    >>> frame = make_causal_mmm(
    ...     n_shops=4, n_steps=47, as_frame=True, random_state=0
    ... ).frame.set_index(["shop_id", "date"])
    >>> y, X = frame[["gmv"]], frame.drop(columns="gmv")
    >>> y_train = y.groupby(level=0).head(40)
    >>> X_train = X.groupby(level=0).head(40)
    >>> regressor = AdstockHillRegressor(
    ...     adstock_max_lag=3, n_init=1, context_columns=["context_0", "context_1"]
    ... )
    >>> forecaster = PanelRegressorForecaster(regressor).fit(y_train, X=X_train)
    >>> forecaster.predict(fh=[1, 2, 3, 4, 5, 6, 7], X=X).shape
    (28, 1)
    """

    _tags = {
        "authors": ["sklearn-causalmmm developers"],
        "maintainers": ["sklearn-causalmmm developers"],
        "y_inner_mtype": ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"],
        "X_inner_mtype": ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"],
        "capability:exogenous": True,
        "capability:multivariate": False,
        "requires-fh-in-fit": False,
        "X-y-must-have-same-index": True,
        "capability:missing_values": False,
        "capability:insample": True,
        # set per instance: intervals need the regressor's predict_interval
        "capability:pred_int": False,
        "capability:pred_int:insample": True,
        "capability:update": True,
        # a regressor needs the plan of every step up to the last one asked for
        "capability:non_contiguous_X": False,
        # seeding is the regressor's business (its own random_state)
        "capability:random_state": False,
    }

    # Forecasts continue the forecaster's own copy of the history (updated by
    # ``_update``), so the base class need not keep ``_y``/``_X``.
    _config = {"remember_data": False}
    # The base class defines ``_y``/``_X`` only when remember_data is on at
    # construction; these keep them defined when it is switched on later.
    _y = None
    _X = None

    def __init__(self, regressor) -> None:
        self.regressor = regressor
        super().__init__()
        self.set_tags(**{"capability:pred_int": hasattr(regressor, "predict_interval")})

    # ------------------------------------------------------------------ fit
    def _fit(self, y: pd.DataFrame, X: pd.DataFrame | None, fh):
        """Fit a clone of the regressor on all shops of ``y`` (GMV) and ``X``.

        Parameters
        ----------
        y : pd.DataFrame
            GMV, one column; a plain time index or a (shop..., time) MultiIndex.
        X : pd.DataFrame or None
            Channels, funnel nodes and context columns on y's index.
        fh : ForecastingHorizon or None
            Not needed in fit.

        Returns
        -------
        self
        """
        template = getattr(self, "_template", self.regressor)
        if isinstance(template, type) or not (
            hasattr(template, "fit") and hasattr(template, "predict")
        ):
            raise TypeError(
                "regressor must be an estimator instance with fit(X, y) and "
                f"predict(X), got {template!r}."
            )
        self._y_columns = y.columns
        self._index_names = list(y.index.names)
        self._is_panel = isinstance(y.index, pd.MultiIndex)
        self._instances = _instance_keys(y.index).unique()
        self._univariate = X is None
        self._history_X = None if X is None else self._internal(X)
        target = _node_label(y.columns[0])
        if X is not None and target in self._history_X.columns:
            # y's name may also label a column of X; node names must differ.
            target = f"{target}_target"
        self._target = target
        self._history_y = self._internal(y).iloc[:, 0].rename(target)
        self._refit()
        return self

    def _refit(self) -> None:
        regressor = clone(getattr(self, "_template", self.regressor))
        self._declare_signed_controls(regressor)
        if "target_name" in regressor.get_params(deep=False):
            regressor.set_params(target_name=self._target)
        else:
            # the contract's regressors without the parameter read the
            # target's node name from this attribute
            regressor.target_name = self._target
        drivers = self._drivers_history()
        regressor.fit(drivers, self._history_y)
        self.regressor_ = regressor
        # steps of the history the fitted regressor has read
        self._n_read = len(self._grid())
        context = _context_columns(regressor)
        nodes = [c for c in drivers.columns if c not in context] + [self._target]
        self.node_names_ = list(getattr(regressor, "node_names_", nodes))
        self.shop_ids_ = list(self._instances)
        if hasattr(regressor, "edge_probabilities_"):
            self.edge_probabilities_ = regressor.edge_probabilities_
        if hasattr(regressor, "edge_gains_"):
            self.edge_gains_ = regressor.edge_gains_

    def _declare_signed_controls(self, regressor) -> None:
        """Make the regressor read signed exogenous columns as controls.

        sktime passes any exogenous data; media must be non-negative, so a
        column with negative values that the regressor would read as media
        becomes a control (no saturation), with a warning naming it.
        """
        params = regressor.get_params(deep=False)
        if self._univariate or "control_columns" not in params:
            return
        from sklearn_causalmmm.panel import resolve_roles

        context = _context_columns(regressor)
        drivers = [c for c in self._history_X.columns if c not in context]
        roles = resolve_roles(
            drivers,
            media_columns=params.get("media_columns"),
            funnel_columns=params.get("funnel_columns"),
            control_columns=params.get("control_columns"),
        )
        negative = (self._history_X[drivers] < 0).any().to_numpy()
        signed = [
            name
            for name, role, below in zip(drivers, roles, negative, strict=True)
            if role == "media" and below
        ]
        if not signed:
            return
        warnings.warn(
            f"column(s) {signed} of X have negative values, which media cannot "
            "have: they are used as controls (signed, no saturation). Declare "
            "them with the regressor's control_columns to silence this.",
            UserWarning,
            stacklevel=4,
        )
        declared = params.get("control_columns")
        declared = (
            []
            if declared is None
            else ([declared] if isinstance(declared, str | int) else list(declared))
        )
        regressor.set_params(control_columns=[*declared, *signed])

    def _drivers_history(self) -> pd.DataFrame:
        """X of the whole history on the internal index (time node if no X)."""
        if not self._univariate:
            return self._history_X
        index = self._history_y.index
        grid = self._grid()
        steps = grid.get_indexer(index.get_level_values(1)) + 1.0
        return pd.DataFrame({TIME_STEP_NODE: steps}, index=index)

    def _grid(self) -> pd.Index:
        return self._history_y.index.get_level_values(1).unique().sort_values()

    # ---------------------------------------------------------------- update
    def _update(
        self, y: pd.DataFrame, X: pd.DataFrame | None = None, update_params=True
    ):
        """Append new observations; refit on the whole history if asked.

        Parameters
        ----------
        y : pd.DataFrame
            New GMV of fitted shops.
        X : pd.DataFrame or None
            Their channels; needed when the forecaster was fitted with X.
        update_params : bool, default=True
            Refit the regressor on the extended history.

        Returns
        -------
        self
        """
        new_y = self._internal(y).iloc[:, 0].rename(self._target)
        self._history_y = _append(self._history_y, new_y)
        if not self._univariate:
            if X is None:
                raise ValueError(
                    "the forecaster was fitted with X; update needs X for the new "
                    "observations."
                )
            columns = self._history_X.columns
            self._history_X = _append(self._history_X, self._internal(X)[columns])
        if update_params:
            self._refit()
        elif hasattr(self.regressor_, "extend"):
            # the unchanged regressor continues the extended history
            new = (
                self._history_y.index.get_level_values(1)
                > self._grid()[self._n_read - 1]
            )
            drivers = self._drivers_history()[new]
            self.regressor_.extend(drivers, self._history_y[new])
            self._n_read = len(self._grid())
        return self

    # --------------------------------------------------------------- predict
    def _predict(self, fh: ForecastingHorizon, X: pd.DataFrame | None = None):
        """Forecast GMV at the horizon ``fh``.

        Parameters
        ----------
        fh : ForecastingHorizon
            Relative or absolute, in-sample or out-of-sample steps.
        X : pd.DataFrame or None
            Channel plan for the steps to forecast.

        Returns
        -------
        pd.DataFrame
            GMV on the index of the fh steps (per shop for panels).
        """
        plan, columns, times = self._horizon_plan(fh, X)
        gmv = self._on_horizon(self.regressor_.predict(plan), columns)
        return self._to_output(gmv, times)

    def _predict_interval(self, fh: ForecastingHorizon, X=None, coverage=(0.9,)):
        """Prediction intervals of GMV at the horizon ``fh``, one per coverage.

        They are the regressor's ``predict_interval`` bands over the plan of
        :meth:`_predict` (for CausalMMM: split conformal on the time tail it
        did not fit), so they always hold the point forecast.

        Parameters
        ----------
        fh : ForecastingHorizon
        X : pd.DataFrame or None
        coverage : list of float
            Nominal coverages, each in [0, 1).

        Returns
        -------
        pd.DataFrame
            Row index as :meth:`_predict`'s; columns ``(variable, coverage,
            "lower" | "upper")``.
        """
        plan, columns, times = self._horizon_plan(fh, X)
        frames = []
        for level in coverage:
            lower, upper = self._bands(plan, float(level))
            for bound in (lower, upper):
                frames.append(self._to_output(self._on_horizon(bound, columns), times))
        result = pd.concat(frames, axis=1)
        result.columns = pd.MultiIndex.from_product(
            [self._y_columns, list(coverage), ["lower", "upper"]]
        )
        return result

    def _predict_quantiles(self, fh: ForecastingHorizon, X=None, alpha=(0.5,)):
        """Quantile forecasts of GMV at the horizon ``fh``.

        Quantile ``a`` below 1/2 is the lower bound of the central interval
        of coverage ``1 - 2a``, above 1/2 the upper bound of coverage
        ``2a - 1``, and 1/2 the point forecast: quantiles are ordered and
        the median is the forecast.

        Parameters
        ----------
        fh : ForecastingHorizon
        X : pd.DataFrame or None
        alpha : list of float
            Quantile levels in (0, 1).

        Returns
        -------
        pd.DataFrame
            Row index as :meth:`_predict`'s; columns ``(variable, alpha)``.
        """
        plan, columns, times = self._horizon_plan(fh, X)
        frames = []
        for level in alpha:
            level = float(level)
            if np.isclose(level, 0.5):
                values = self.regressor_.predict(plan)
            elif level < 0.5:
                values = self._bands(plan, 1.0 - 2.0 * level)[0]
            else:
                values = self._bands(plan, 2.0 * level - 1.0)[1]
            frames.append(self._to_output(self._on_horizon(values, columns), times))
        result = pd.concat(frames, axis=1)
        result.columns = pd.MultiIndex.from_product([self._y_columns, list(alpha)])
        return result

    def _bands(self, plan: pd.DataFrame, coverage: float):
        """The regressor's band of ``coverage`` over ``plan`` (the point at 0)."""
        if coverage <= 0.0:
            point = self.regressor_.predict(plan)
            return point, point
        if not hasattr(self.regressor_, "predict_interval"):
            raise NotImplementedError(
                f"{type(self.regressor_).__name__} has no predict_interval; "
                "this forecaster cannot give intervals with it."
            )
        return self.regressor_.predict_interval(plan, coverage=coverage)

    def _on_horizon(self, values, columns: np.ndarray) -> np.ndarray:
        """Plan-step values of the regressor, kept at the requested steps."""
        values = np.asarray(values, dtype=np.float64)
        return values.reshape(len(self._instances), -1)[:, columns]

    def _horizon_plan(self, fh: ForecastingHorizon, X: pd.DataFrame | None):
        """The plan up to the last step of ``fh``, the positions of the fh
        steps in it, and their times."""
        grid = self._grid()
        n_history = len(grid)
        cutoff = self.cutoff
        relative = np.asarray(fh.to_relative(cutoff).to_pandas(), dtype=int)
        # The plan starts at the first requested step, or earlier: right after
        # the history the regressor has read (steps added by update since
        # then enter as plan).
        first = min(int(relative.min()), 1 - (n_history - self._n_read))
        last = int(relative.max())
        if first < 1 - n_history:
            raise ValueError(
                f"fh reaches {-first} steps before the cutoff, but the history "
                f"only holds {n_history} steps."
            )
        steps = np.arange(first, last + 1)
        # a panel's time level, unlike a plain time index, carries no
        # frequency; the grid of the history tells it
        freq = fh.freq or _grid_frequency(grid)
        times = ForecastingHorizon(steps, is_relative=True, freq=freq)
        times = times.to_absolute_index(cutoff)
        in_sample = grid[n_history - 1 + first : n_history + min(last, 0)]
        plan_times = in_sample.append(times[steps > 0])
        plan = self._plan(plan_times, steps, X)
        columns = relative - first
        return plan, columns, times[columns]

    def _plan(
        self, plan_times: pd.Index, steps: np.ndarray, X: pd.DataFrame | None
    ) -> pd.DataFrame:
        """Driver values over the plan: given X, else the history's."""
        n_shops = len(self._instances)
        index = pd.MultiIndex.from_product(
            [np.arange(n_shops), plan_times], names=["shop", "time"]
        )
        if self._univariate:
            values = np.tile(steps + float(len(self._grid())), n_shops)
            return pd.DataFrame({TIME_STEP_NODE: values}, index=index)
        history = self._drivers_history()
        plan = history.reindex(index)
        if X is not None:
            given = self._internal(X).reindex(index=index, columns=history.columns)
            plan = given.fillna(plan)
        context = [c for c in _context_columns(self.regressor_) if c in history]
        if context and plan[context].isna().to_numpy().any():
            # context is a property of the shop, known for any step: its mean
            # over the history, as the regressor reads it
            means = history[context].groupby(level=0).mean()
            known = means.reindex(plan.index.get_level_values(0)).set_axis(plan.index)
            plan[context] = plan[context].fillna(known)
        if plan.isna().to_numpy().any() and not getattr(
            self.regressor_, "_fills_plan", False
        ):
            self._refuse_missing(plan)
        return plan

    def _refuse_missing(self, plan: pd.DataFrame) -> None:
        """Name the first plan value neither X nor the history holds."""
        shop, time = plan.index[np.flatnonzero(plan.isna().to_numpy().any(axis=1))[0]]
        column = plan.columns[plan.loc[(shop, time)].isna().to_numpy()][0]
        where = f"at {time}"
        if self._is_panel:
            key = self._instances[shop]
            where = f"of shop {getattr(key, 'item', lambda: key)()!r} {where}"
        raise ValueError(
            f"X lacks {column!r} {where}: "
            f"{type(self.regressor_).__name__} forecasts the target from a full "
            "plan, so X must hold every column seen in fit for every step to "
            "forecast (CausalMMMForecaster can forecast missing drivers itself)."
        )

    # --------------------------------------------------------------- helpers
    def _internal(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` on a ``(shop code, time)`` MultiIndex, str column labels."""
        keys = _instance_keys(frame.index)
        codes = self._instances.get_indexer(keys)
        if np.any(codes < 0):
            unknown = list(keys[codes < 0].unique()[:5])
            raise ValueError(
                f"X or y holds shops {unknown} that were not seen in fit; "
                "forecasts continue the history of fitted shops."
            )
        times = frame.index.get_level_values(-1)
        out = frame.copy()
        out.index = pd.MultiIndex.from_arrays([codes, times], names=["shop", "time"])
        out.columns = [_node_label(c) for c in frame.columns]
        return out

    def _to_output(self, gmv: np.ndarray, times: pd.Index) -> pd.DataFrame:
        if self._is_panel:
            keys = np.repeat(np.arange(len(self._instances)), len(times))
            instances = self._instances[keys]
            arrays = [instances.get_level_values(i) for i in range(instances.nlevels)]
            index = pd.MultiIndex.from_arrays(
                [*arrays, np.tile(times, len(self._instances))],
                names=self._index_names,
            )
        else:
            index = times.rename(self._index_names[0])
        return pd.DataFrame(gmv.reshape(-1), index=index, columns=self._y_columns)

    def _get_fitted_params(self) -> dict:
        """Fitted parameters: the regressor, node and shop names, the graph."""
        params = {
            "node_names": self.node_names_,
            "shop_ids": self.shop_ids_,
            "regressor": self.regressor_,
        }
        if hasattr(self, "edge_probabilities_"):
            params["edge_probabilities"] = self.edge_probabilities_
        if hasattr(self, "edge_gains_"):
            params["edge_gains"] = self.edge_gains_
        return params

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Return small, fast parameter sets for the sktime test suite.

        Parameters
        ----------
        parameter_set : str, default="default"

        Returns
        -------
        list of dict
        """
        from sklearn_causalmmm.baselines.adstock_hill import AdstockHillRegressor
        from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor

        return [
            {"regressor": SeasonalNaiveRegressor(season_length=3, strategy="seasonal")},
            {
                "regressor": AdstockHillRegressor(
                    adstock_max_lag=1,
                    season_length=None,
                    n_init=1,
                    max_iter=10,
                    random_state=0,
                )
            },
        ]


class CausalMMMForecaster(PanelRegressorForecaster):
    """Forecast the target of one shop or many with CausalMMM, drivers as X.

    :class:`PanelRegressorForecaster` around a
    :class:`~sklearn_causalmmm.CausalMMMRegressor`. ``y`` is the target: one
    series, or a panel of shops with a ``(shop, time)`` MultiIndex (or a
    hierarchical index, every level but the last naming the shop). ``X`` holds
    the media, funnel nodes and, named by the regressor's ``context_columns``,
    shop context on the same index. One global regressor is fitted on all
    shops; its learned causal graph per shop is :attr:`edge_probabilities_`.

    At ``predict``, the target is rolled out over the horizon from the
    history:

    * driver values given in ``X`` for the forecast steps are the plan
      (what-if forecasting: pass the spend you intend to make);
    * drivers or steps missing from ``X`` (or ``X=None``) are forecast by the
      model along the way, with the given drivers as the plan;
    * in-sample steps (``fh <= 0``) are forecast from what the model knew just
      before the first requested step, with the observed drivers (or those
      given in ``X``) as the plan, i.e. a back-test from that date.

    ``predict_interval`` and ``predict_quantiles`` are the regressor's
    :meth:`~sklearn_causalmmm.CausalMMMRegressor.predict_interval` bands on
    the same plan (split conformal on the time tail the model did not fit);
    they always hold the point forecast, which is also the 0.5 quantile.

    Parameters
    ----------
    regressor : CausalMMMRegressor or None, default=None
        The model to fit, cloned (never fitted itself); None is
        ``CausalMMMRegressor()`` with its defaults. Set its parameters there,
        e.g. ``CausalMMMForecaster(CausalMMMRegressor(hidden=32))``, or through
        ``set_params(regressor__hidden=32)``.

    Attributes
    ----------
    regressor_ : CausalMMMRegressor
        The fitted model.
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = P(node i -> node j) for shop s, nodes as in
        ``node_names_`` (the target last). Also in ``get_fitted_params()``.
    edge_gains_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        Each shop's factor on the message of each edge (see
        :class:`~sklearn_causalmmm.CausalMMMRegressor`). Also in
        ``get_fitted_params()``.
    node_names_ : list of str
    shop_ids_ : list
        The shops (instance keys of ``y``, tuples for hierarchical indexes) in
        the order of ``edge_probabilities_``.

    See Also
    --------
    sklearn_causalmmm.CausalMMMRegressor : the same model, scikit-learn API.
    PanelRegressorForecaster : the same forecaster around any regressor.

    Notes
    -----
    Fitted without ``X``, the model is univariate in the target: the
    regressor needs a driver node, so the graph holds the target and one
    deterministic node, ``"time_step"`` (1, 2, ... along the time grid,
    continued over the horizon), which carries only the position in time.

    ``update`` with ``update_params=False`` appends the new observations to the
    history forecasts start from (:meth:`CausalMMMRegressor.extend`); with
    ``update_params=True`` it also refits the model on the whole history.
    Shops are those seen in ``fit``.

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.forecasting import CausalMMMForecaster
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> frame = make_causal_mmm(
    ...     n_shops=4, n_steps=47, as_frame=True, random_state=0
    ... ).frame.set_index(["shop_id", "date"])
    >>> y, X = frame[["gmv"]], frame.drop(columns="gmv")
    >>> y_train = y.groupby(level=0).head(40)
    >>> X_train = X.groupby(level=0).head(40)
    >>> regressor = CausalMMMRegressor(
    ...     hidden=8, max_epochs=2, context_columns=["context_0", "context_1"],
    ...     random_state=0,
    ... )
    >>> forecaster = CausalMMMForecaster(regressor).fit(y_train, X=X_train)
    >>> forecaster.edge_probabilities_.shape
    (4, 8, 8)
    >>> forecaster.predict(fh=[1, 2, 3, 4, 5, 6, 7], X=X).shape
    (28, 1)
    >>> forecaster.predict(fh=[1, 2, 3]).shape  # drivers forecast too
    (12, 1)
    >>> bands = forecaster.predict_interval(fh=[1, 2, 3], X=X, coverage=0.8)
    >>> list(bands.columns)
    [('gmv', 0.8, 'lower'), ('gmv', 0.8, 'upper')]
    """

    _tags = {
        "python_dependencies": ["torch", "skorch"],
        # drivers X lacks between forecast steps are forecast
        "capability:non_contiguous_X": True,
    }

    def __init__(self, regressor=None) -> None:
        super().__init__(regressor)
        # None is CausalMMMRegressor(), which has intervals
        self.set_tags(**{"capability:pred_int": True})

    def _fit(self, y: pd.DataFrame, X: pd.DataFrame | None, fh):
        if self.regressor is None:
            from sklearn_causalmmm.estimators import CausalMMMRegressor

            self._template = CausalMMMRegressor()
        else:
            self._template = self.regressor
        return super()._fit(y, X, fh)

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Return small, fast parameter sets for the sktime test suite.

        Parameters
        ----------
        parameter_set : str, default="default"

        Returns
        -------
        list of dict
        """
        from sklearn_causalmmm.estimators import CausalMMMRegressor

        fast = {
            "horizon": 2,
            "n_lags": 1,
            "max_epochs": 1,
            "validation_fraction": 0.0,
            "batch_size": 8,
            "random_state": 0,
        }
        return [
            {"regressor": CausalMMMRegressor(**fast, hidden=4)},
            {
                "regressor": CausalMMMRegressor(
                    **{**fast, "n_lags": 0}, hidden=8, hard=True, saturation=None
                )
            },
        ]


def _grid_frequency(grid: pd.Index):
    """The frequency of a sorted time grid, or None (integer steps need none)."""
    if getattr(grid, "freq", None) is not None:
        return grid.freq
    if isinstance(grid, pd.DatetimeIndex) and len(grid) >= 3:
        return pd.infer_freq(grid)
    return None


def _instance_keys(index: pd.Index) -> pd.Index:
    """The shop key of every row: all index levels but the last."""
    if not isinstance(index, pd.MultiIndex):
        return pd.Index(np.zeros(len(index), dtype=int))
    if index.nlevels == 2:
        return index.get_level_values(0)
    return index.droplevel(-1)


def _context_columns(regressor) -> list[str]:
    """The context columns a regressor reads from X (a name or a list)."""
    columns = getattr(regressor, "context_columns", None)
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def _node_label(label) -> str:
    return label if isinstance(label, str) else str(label)


def _append(old, new):
    """Concatenate histories; new rows replace old rows at the same index."""
    kept = old[~old.index.isin(new.index)]
    return pd.concat([kept, new]).sort_index()

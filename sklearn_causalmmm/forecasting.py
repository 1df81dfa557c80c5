"""The package's GMV forecasters under the sktime forecasting API.

:class:`PanelRegressorForecaster` puts any regressor that follows the package's
forecasting contract (``fit(X, y)`` on a panel of shops, ``predict(X_plan)``
over a channel plan, see :mod:`sklearn_causalmmm._forecast`) behind sktime's
``BaseForecaster``: :class:`~sklearn_causalmmm.CausalMMMRegressor` and the
forecasting baselines then run in sktime's ``evaluate``, splitters and
benchmarks like any sktime forecaster. :class:`CausalMMMForecaster` is that
forecaster around a :class:`~sklearn_causalmmm.CausalMMMRegressor`, with the
regressor's parameters as its own; it is the one that can also forecast the
channels it is not given.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon

__all__ = ["CausalMMMForecaster", "PanelRegressorForecaster"]

#: Name of the driver node a forecaster fitted without X uses (see Notes).
TIME_STEP_NODE = "time_step"

# Constructor parameters passed unchanged to CausalMMMRegressor; its layout
# parameters (shop_column, time_column, target_name) are set by the forecaster.
_REGRESSOR_PARAMS = (
    "hidden",
    "tau",
    "hard",
    "kl_weight",
    "edge_prior",
    "nll_variance",
    "n_lags",
    "lag_features",
    "encoder_norm",
    "dropout",
    "horizon",
    "saturation",
    "recurrent",
    "residual",
    "messages",
    "graph",
    "edge_gain_scale",
    "lr",
    "batch_size",
    "max_epochs",
    "validation_fraction",
    "patience",
    "warmup_epochs",
    "lr_schedule",
    "context_columns",
    "device",
    "random_state",
    "verbose",
)


class PanelRegressorForecaster(BaseForecaster):
    """Forecast GMV of one shop or many with any of the package's regressors.

    ``y`` is GMV: one series, or a panel of shops with a ``(shop, time)``
    MultiIndex (or a hierarchical index, every level but the last naming the
    shop). ``X`` holds the channels, funnel nodes and, named by the
    regressor's ``context_columns``, shop context on the same index. One clone
    of ``regressor`` is fitted on all shops.

    At ``predict``, ``X`` must hold every column seen in ``fit`` for every
    step from the cutoff to the last step of ``fh`` (also the steps between
    those of a non-contiguous ``fh``): it is the channel plan the regressor
    rolls GMV forward over, and a regressor cannot forecast the channels
    themselves (:class:`CausalMMMForecaster` can). In-sample steps (``fh <= 0``)
    are forecast from what the regressor knew just before the first requested
    step, with the observed channels (or those given in ``X``) as the plan,
    i.e. a back-test from that date.

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
    history. With ``update_params=False`` the fitted regressor is kept and
    the new observations only extend the history: forecasts still start from
    the end of the history the regressor was fitted on, with the new steps'
    channels as the first steps of the plan (their GMV is not read). Shops
    are those seen in ``fit``.

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
        "capability:pred_int": False,
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
        template = self.regressor
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
        regressor = clone(self.regressor)
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
        else:
            self._extend_history()
        return self

    def _extend_history(self) -> None:
        """Make the unchanged regressor continue the extended history.

        A regressor of the contract may tie what it learned to the steps it
        was fitted on, so by default it keeps its history and forecasts start
        from its end (see ``_predict``).
        """

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
        # frequency; the regressor's time grid knows it
        fitted_grid = getattr(
            getattr(self.regressor_, "panel_", None), "time_index", None
        )
        freq = fh.freq or getattr(fitted_grid, "freq", None)
        times = ForecastingHorizon(steps, is_relative=True, freq=freq)
        times = times.to_absolute_index(cutoff)
        in_sample = grid[n_history - 1 + first : n_history + min(last, 0)]
        plan_times = in_sample.append(times[steps > 0])
        plan = self._plan(plan_times, steps, X)
        gmv = np.asarray(self.regressor_.predict(plan), dtype=np.float64)
        columns = relative - first
        gmv = gmv.reshape(len(self._instances), len(steps))[:, columns]
        return self._to_output(gmv, times[columns])

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
        if plan.isna().to_numpy().any():
            plan = self._fill_plan(plan, int((steps > 0).sum()))
        return plan

    def _fill_plan(self, plan: pd.DataFrame, n_future: int) -> pd.DataFrame:
        """Fill plan values neither X nor the history holds (here: refuse)."""
        shop, time = plan.index[np.flatnonzero(plan.isna().to_numpy().any(axis=1))[0]]
        column = plan.columns[plan.loc[(shop, time)].isna().to_numpy()][0]
        where = f"at {time}"
        if self._is_panel:
            key = self._instances[shop]
            where = f"of shop {getattr(key, 'item', lambda: key)()!r} {where}"
        raise ValueError(
            f"X lacks {column!r} {where}: "
            f"{type(self.regressor_).__name__} forecasts GMV from a full channel "
            "plan, so X must hold every column seen in fit for every step to "
            "forecast (CausalMMMForecaster can forecast missing channels itself)."
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
    """Forecast GMV of one shop or many with CausalMMM, channels as exogenous X.

    ``y`` is GMV: one series, or a panel of shops with a ``(shop, time)``
    MultiIndex (or a hierarchical index, every level but the last naming the
    shop). ``X`` holds the channels, funnel nodes and, named by
    ``context_columns``, shop context on the same index. One global
    :class:`~sklearn_causalmmm.CausalMMMRegressor` is fitted on all shops; its
    learned causal graph per shop is :attr:`edge_probabilities_`.

    At ``predict``, GMV is rolled out over the horizon from the history:

    * channel values given in ``X`` for the forecast steps are used as a plan
      (what-if forecasting: pass the spend you intend to make);
    * channels, funnel nodes or steps missing from ``X`` (or ``X=None``) are
      filled with the model's own free rollout of those nodes from the fitted
      history (its forecast of spend and funnel, clipped at 0);
    * in-sample steps (``fh <= 0``) are forecast from what the model knew just
      before the first requested step, with the observed channels (or those
      given in ``X``) as the plan, i.e. a back-test from that date.

    Parameters
    ----------
    hidden : int, default=64
        Width of every layer.
    tau : float, default=0.5
        Gumbel-Softmax temperature.
    hard : bool, default=False
        Straight-through one-hot edge samples instead of soft ones.
    kl_weight : float, default=1.0
        Weight of the KL term of the ELBO.
    edge_prior : float or None, default=0.2
        Prior probability of an edge; None is the uniform prior.
    nll_variance : float or "learned", default="learned"
        Variance of the Gaussian reconstruction likelihood.
    n_lags : int, default=5
        Lagged partial correlations fed to the encoder.
    lag_features : str or sequence of str, default="bivariate"
        What those features are (see :class:`~sklearn_causalmmm.CausalMMMRegressor`).
    encoder_norm : {"layer", "batch", None}, default="layer"
    dropout : float, default=0.0
    horizon : int, default=7
        Steps rolled out at the end of every training window; independent of
        the ``fh`` passed to ``predict``.
    saturation : bool, default=True
        Context-shaped Hill curves on the decoder's non-target inputs.
    recurrent : bool, default=True
        Recurrent (carryover) state in the decoder.
    residual : bool, default=True
        The decoder predicts the change from the current value.
    messages : {"sender", "pair"}, default="sender"
        What an edge carries: the sender's state, or both endpoints' states.
    graph : {"learned", "full"}, default="learned"
    edge_gain_scale : float, default=2.0
        Prior standard deviation of each shop's log edge gains, which let
        shops with the same graph differ in effect sizes (0 shares the
        decoder across shops).
    lr : float, default=3e-3
    batch_size : int, default=8
        Shops per batch.
    max_epochs : int, default=None
        Upper bound on training epochs; None means the regressor's 60.
    validation_fraction : float, default=0.1
        Share of the final steps held out for early stopping (0 disables it).
    patience : int, default=10
    warmup_epochs : int, default=0
        Epochs the decoder trains alone on random graphs before the encoder.
    lr_schedule : {"plateau", None}, default="plateau"
    context_columns : list of str, default=None
        Columns of ``X`` holding shop context rather than graph nodes.
    device : str, default="cpu"
    random_state : int, RandomState or None, default=None
        Makes CPU fits on one machine with the same number of torch threads
        repeatable bit for bit.
    verbose : int, default=0

    Attributes
    ----------
    regressor_ : CausalMMMRegressor
        The fitted model.
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = P(node i -> node j) for shop s, nodes as in
        ``node_names_`` (GMV last). Also in ``get_fitted_params()``.
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
    Fitted without ``X``, the model is univariate in GMV: the regressor needs a
    driver node, so the graph holds GMV and one deterministic node,
    ``"time_step"`` (1, 2, ... along the time grid, continued over the
    horizon), which carries only the position in time.

    ``update`` with ``update_params=False`` appends the new observations to the
    history forecasts start from; with ``update_params=True`` it also refits
    the model on the whole history. Shops are those seen in ``fit``.

    Examples
    --------
    >>> from sklearn_causalmmm.forecasting import CausalMMMForecaster
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> frame = make_causal_mmm(
    ...     n_shops=4, n_steps=47, as_frame=True, random_state=0
    ... ).frame.set_index(["shop_id", "date"])
    >>> y, X = frame[["gmv"]], frame.drop(columns="gmv")
    >>> y_train = y.groupby(level=0).head(40)
    >>> X_train = X.groupby(level=0).head(40)
    >>> forecaster = CausalMMMForecaster(
    ...     hidden=8, max_epochs=2, context_columns=["context_0", "context_1"],
    ...     random_state=0,
    ... )
    >>> forecaster = forecaster.fit(y_train, X=X_train)
    >>> forecaster.edge_probabilities_.shape
    (4, 8, 8)
    >>> forecaster.predict(fh=[1, 2, 3, 4, 5, 6, 7], X=X).shape
    (28, 1)
    >>> forecaster.predict(fh=[1, 2, 3]).shape  # channels rolled out
    (12, 1)
    """

    _tags = {
        "python_dependencies": ["torch", "skorch"],
        # channels X lacks between forecast steps are rolled out
        "capability:non_contiguous_X": True,
        "capability:random_state": True,
    }

    def __init__(
        self,
        hidden: int = 64,
        tau: float = 0.5,
        hard: bool = False,
        kl_weight: float = 1.0,
        edge_prior: float | None = 0.2,
        nll_variance: float | str = "learned",
        n_lags: int = 5,
        lag_features: str | Sequence[str] = "bivariate",
        encoder_norm: str | None = "layer",
        dropout: float = 0.0,
        horizon: int = 7,
        saturation: bool = True,
        recurrent: bool = True,
        residual: bool = True,
        messages: str = "sender",
        graph: str = "learned",
        edge_gain_scale: float = 2.0,
        lr: float = 3e-3,
        batch_size: int = 8,
        max_epochs: int | None = None,
        validation_fraction: float = 0.1,
        patience: int = 10,
        warmup_epochs: int = 0,
        lr_schedule: str | None = "plateau",
        context_columns: list[str] | None = None,
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.hidden = hidden
        self.tau = tau
        self.hard = hard
        self.kl_weight = kl_weight
        self.edge_prior = edge_prior
        self.nll_variance = nll_variance
        self.n_lags = n_lags
        self.lag_features = lag_features
        self.encoder_norm = encoder_norm
        self.dropout = dropout
        self.horizon = horizon
        self.saturation = saturation
        self.recurrent = recurrent
        self.residual = residual
        self.messages = messages
        self.graph = graph
        self.edge_gain_scale = edge_gain_scale
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.warmup_epochs = warmup_epochs
        self.lr_schedule = lr_schedule
        self.context_columns = context_columns
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        # ``regressor`` is derived from the parameters above, not one of them
        BaseForecaster.__init__(self)

    @property
    def regressor(self):
        """The unfitted :class:`~sklearn_causalmmm.CausalMMMRegressor` to fit."""
        from sklearn_causalmmm.estimators import CausalMMMRegressor

        return CausalMMMRegressor(
            **{name: getattr(self, name) for name in _REGRESSOR_PARAMS}
        )

    def _extend_history(self) -> None:
        from sklearn_causalmmm.panel import to_panel

        # Forecasts continue ``panel_``: the new steps become the history the
        # unchanged network reads (its parameters are not tied to a length).
        self.regressor_.panel_ = to_panel(
            self._drivers_history(),
            self._history_y,
            context_columns=self.context_columns,
            target_name=self._target,
        )
        self._n_read = len(self._grid())

    def _fill_plan(self, plan: pd.DataFrame, n_future: int) -> pd.DataFrame:
        """Fill the future steps X lacks with the model's rollout."""
        if not n_future:
            return plan
        n_shops, columns = len(self._instances), plan.columns
        n_steps = len(plan) // n_shops
        rollout = self._roll_out(n_future)  # (n_shops, n_future, n_columns)
        fill = np.full((n_shops, n_steps, len(columns)), np.nan)
        fill[:, -n_future:] = rollout
        return plan.fillna(
            pd.DataFrame(fill.reshape(-1, len(columns)), plan.index, columns)
        )

    def _roll_out(self, n_steps: int) -> np.ndarray:
        """The model's free rollout of the drivers, ``(n_shops, n_steps, n_cols)``.

        Nodes are rolled out by the network (no node is teacher-forced) and
        clipped at 0, as spend and funnel counts are non-negative; context
        columns are held at each shop's value.
        """
        import torch

        regressor = self.regressor_
        history = regressor.panel_
        past = history.scaled()
        start = past.shape[-1]
        window = np.concatenate(
            [past, np.zeros((*past.shape[:2], n_steps), np.float32)], axis=-1
        )
        chunks = []
        with torch.no_grad():
            for rows in np.array_split(
                np.arange(history.n_shops), max(1, history.n_shops // 256)
            ):
                prediction, _ = regressor.model_(
                    torch.as_tensor(window[rows]),
                    torch.as_tensor(history.context[rows]),
                    start,
                    None,
                    torch.as_tensor(past[rows]),
                )
                chunks.append(prediction[:, :, start - 1 :].numpy())
        nodes = np.concatenate(chunks) * history.scale[..., None]
        nodes = np.clip(nodes[:, :-1], 0.0, None).astype(np.float64)
        by_name = dict(zip(history.node_names, range(history.n_nodes), strict=False))
        context = dict(zip(history.context_names, history.context.T, strict=False))
        out = []
        for column in self._history_X.columns:
            if column in by_name:
                out.append(nodes[:, by_name[column]])
            else:
                out.append(np.repeat(context[column][:, None], n_steps, axis=1))
        return np.stack(out, axis=-1)

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
        fast = {
            "horizon": 2,
            "n_lags": 1,
            "max_epochs": 1,
            "validation_fraction": 0.0,
            "batch_size": 8,
            "random_state": 0,
        }
        return [
            {**fast, "hidden": 4},
            {**fast, "hidden": 8, "hard": True, "saturation": False, "n_lags": 0},
        ]


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

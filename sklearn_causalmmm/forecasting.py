"""CausalMMM under the sktime forecasting API.

:class:`CausalMMMForecaster` forecasts GMV (``y``) of one shop or a panel of
shops with the channels, funnel nodes and context columns as exogenous data
(``X``). It composes a :class:`~sklearn_causalmmm.CausalMMMRegressor`, so both
APIs share one model and one training loop.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import pandas as pd
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon

__all__ = ["CausalMMMForecaster"]

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
    "encoder_norm",
    "dropout",
    "horizon",
    "saturation",
    "recurrent",
    "residual",
    "messages",
    "graph",
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


class CausalMMMForecaster(BaseForecaster):
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
    lr : float, default=3e-3
    batch_size : int, default=8
        Shops per batch.
    max_epochs : int, default=30
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
        Makes CPU fits repeatable bit for bit.
    verbose : int, default=0

    Attributes
    ----------
    regressor_ : CausalMMMRegressor
        The fitted model.
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = P(node i -> node j) for shop s, nodes as in
        ``node_names_`` (GMV last). Also in ``get_fitted_params()``.
    node_names_ : list of str
    shop_ids_ : list
        The shops (instance keys of ``y``, tuples for hierarchical indexes) in
        the order of ``edge_probabilities_``.

    See Also
    --------
    sklearn_causalmmm.CausalMMMRegressor : the same model, scikit-learn API.

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
        "authors": ["sklearn-causalmmm developers"],
        "maintainers": ["sklearn-causalmmm developers"],
        "python_dependencies": ["torch", "skorch"],
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
        "capability:random_state": True,
    }

    # Forecasts continue the model's own copy of the history (updated by
    # ``_update``), so the base class need not keep ``_y``/``_X``.
    _config = {"remember_data": False}

    def __init__(
        self,
        hidden: int = 64,
        tau: float = 0.5,
        hard: bool = False,
        kl_weight: float = 1.0,
        edge_prior: float | None = 0.2,
        nll_variance: float | str = "learned",
        n_lags: int = 5,
        encoder_norm: str | None = "layer",
        dropout: float = 0.0,
        horizon: int = 7,
        saturation: bool = True,
        recurrent: bool = True,
        residual: bool = True,
        messages: str = "sender",
        graph: str = "learned",
        lr: float = 3e-3,
        batch_size: int = 8,
        max_epochs: int = 30,
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
        self.encoder_norm = encoder_norm
        self.dropout = dropout
        self.horizon = horizon
        self.saturation = saturation
        self.recurrent = recurrent
        self.residual = residual
        self.messages = messages
        self.graph = graph
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
        super().__init__()

    # ------------------------------------------------------------------ fit
    def _fit(self, y: pd.DataFrame, X: pd.DataFrame | None, fh) -> CausalMMMForecaster:
        """Fit a CausalMMMRegressor on all shops of ``y`` (GMV) and ``X``.

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
        self._y_columns = y.columns
        self._index_names = list(y.index.names)
        self._is_panel = isinstance(y.index, pd.MultiIndex)
        instances = _instance_keys(y.index)
        self._instances = instances.unique()
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
        from sklearn_causalmmm.estimators import CausalMMMRegressor

        params = {name: getattr(self, name) for name in _REGRESSOR_PARAMS}
        self.regressor_ = CausalMMMRegressor(**params, target_name=self._target)
        self.regressor_.fit(self._drivers_history(), self._history_y)
        self.edge_probabilities_ = self.regressor_.edge_probabilities_
        self.node_names_ = list(self.regressor_.node_names_)
        self.shop_ids_ = list(self._instances)

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
    ) -> CausalMMMForecaster:
        """Append new observations; refit on the whole history if asked.

        Parameters
        ----------
        y : pd.DataFrame
            New GMV of fitted shops.
        X : pd.DataFrame or None
            Their channels; needed when the forecaster was fitted with X.
        update_params : bool, default=True
            Refit the model on the extended history.

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
            from sklearn_causalmmm.panel import to_panel

            # Forecasts continue ``panel_``: the new steps become the history
            # the unchanged network reads.
            self.regressor_.panel_ = to_panel(
                self._drivers_history(),
                self._history_y,
                context_columns=self.context_columns,
                target_name=self._target,
            )
        return self

    # --------------------------------------------------------------- predict
    def _predict(self, fh: ForecastingHorizon, X: pd.DataFrame | None = None):
        """Forecast GMV at the horizon ``fh``.

        Parameters
        ----------
        fh : ForecastingHorizon
            Relative or absolute, in-sample or out-of-sample steps.
        X : pd.DataFrame or None
            Channel plan; rows or columns it lacks are rolled out by the model.

        Returns
        -------
        pd.DataFrame
            GMV on the index of the fh steps (per shop for panels).
        """
        grid = self._grid()
        n_fitted = len(grid)
        cutoff = self.cutoff
        relative = np.asarray(fh.to_relative(cutoff).to_pandas(), dtype=int)
        first, last = min(int(relative.min()), 1), int(relative.max())
        if first < 1 - n_fitted:
            raise ValueError(
                f"fh reaches {-first} steps before the cutoff, but the history "
                f"only holds {n_fitted} steps."
            )
        steps = np.arange(first, last + 1)
        # a panel's time level, unlike a plain time index, carries no
        # frequency; the fitted grid knows it
        freq = fh.freq or getattr(self.regressor_.panel_.time_index, "freq", None)
        times = ForecastingHorizon(steps, is_relative=True, freq=freq)
        times = times.to_absolute_index(cutoff)
        in_sample = grid[n_fitted - 1 + first : n_fitted + min(last, 0)]
        plan_times = in_sample.append(times[steps > 0])
        plan = self._plan(plan_times, steps, X)
        gmv = self.regressor_.predict(plan).to_numpy()
        columns = relative - first
        gmv = gmv.reshape(len(self._instances), len(steps))[:, columns]
        return self._to_output(gmv, times[columns])

    def _plan(
        self, plan_times: pd.Index, steps: np.ndarray, X: pd.DataFrame | None
    ) -> pd.DataFrame:
        """Driver values over the plan: given X, else history, else rollout."""
        n_shops = len(self._instances)
        index = pd.MultiIndex.from_product(
            [np.arange(n_shops), plan_times], names=["shop", "time"]
        )
        history = self._drivers_history()
        columns = history.columns
        if self._univariate:
            n_fitted = len(self._grid())
            values = np.tile(steps + float(n_fitted), n_shops)
            return pd.DataFrame({TIME_STEP_NODE: values}, index=index)
        plan = history.reindex(index)
        n_future = int((steps > 0).sum())
        if X is not None:
            given = self._internal(X).reindex(index=index, columns=columns)
            plan = given.fillna(plan)
        if n_future and plan.isna().to_numpy().any():
            rollout = self._roll_out(n_future)  # (n_shops, n_future, n_columns)
            fill = np.full((n_shops, len(steps), len(columns)), np.nan)
            fill[:, -n_future:] = rollout
            plan = plan.fillna(
                pd.DataFrame(fill.reshape(-1, len(columns)), index, columns)
            )
        return plan

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

    # --------------------------------------------------------------- helpers
    def _internal(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` on a ``(shop code, time)`` MultiIndex, str column labels."""
        keys = _instance_keys(frame.index)
        codes = self._instances.get_indexer(keys)
        if np.any(codes < 0):
            raise ValueError(
                "X or y holds shops that were not seen in fit; forecasts continue "
                "the history of fitted shops."
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
        """Fitted parameters: the graph, node and shop names, and the model."""
        return {
            "edge_probabilities": self.edge_probabilities_,
            "node_names": self.node_names_,
            "shop_ids": self.shop_ids_,
            "regressor": self.regressor_,
        }

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


def _node_label(label) -> str:
    return label if isinstance(label, str) else str(label)


def _append(old, new):
    """Concatenate histories; new rows replace old rows at the same index."""
    kept = old[~old.index.isin(new.index)]
    return pd.concat([kept, new]).sort_index()

"""Back-test CausalMMM on a long panel: fit, forecast held-out days, report.

:func:`fit_holdout` holds out the last ``horizon`` days of every shop, fits
:class:`~sklearn_causalmmm.CausalMMMRegressor` on the days before, forecasts
GMV over the held-out days from their channel plan and scores it against the
observed GMV and against the last-value forecast
(:class:`~sklearn_causalmmm.baselines.naive.SeasonalNaiveRegressor`). A band
around the forecast comes from the model's errors on the last fitted days
(:func:`empirical_band`).
:func:`format_summary` prints the result and :func:`write_holdout_report`
turns it into an HTML report with figures, for this back-test and for the
demo's (:class:`~sklearn_causalmmm.reporting.demo.DemoResult`, which adds the
true graphs); :func:`refit` fits the same model on every day, for forecasting
beyond the data. The command line's ``demo`` and ``fit`` are built on these.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sklearn_causalmmm.model_selection import PanelTimeSplit

if TYPE_CHECKING:
    from sklearn_causalmmm.reporting.decisions import Decisions

__all__ = [
    "HoldoutResult",
    "check_columns",
    "edge_table",
    "empirical_band",
    "figure_aliases",
    "fit_holdout",
    "format_summary",
    "holdout_figures",
    "lift_table",
    "refit",
    "top_edges",
    "write_holdout_report",
]

#: Shops shown in the forecast and response-curve figures.
N_FIGURE_SHOPS = 4
#: Spend multipliers of the response curves.
RESPONSE_FACTORS = np.linspace(0.0, 2.0, 9)
#: Share of outcomes the forecast band is meant to hold.
BAND_LEVEL = 0.8


@dataclass
class HoldoutResult:
    """A back-test of CausalMMM: the fitted models, forecasts and scores.

    Attributes
    ----------
    model : CausalMMMRegressor
        Fitted on the days before the held-out ones.
    naive : SeasonalNaiveRegressor
        The last-value forecast, fitted on the same days.
    shop_column, time_column, target : str
    channel_columns : list of str
        Graph nodes other than the target (channels and funnel nodes), in the
        model's node order.
    context_columns : list of str
    node_names : list of str
        ``channel_columns`` followed by ``target``.
    horizon : int
        Held-out days; the MSE is scored at this horizon.
    train_days : int or None
        Days fitted (None: every day before the held-out ones).
    plan : DataFrame
        The held-out rows' model inputs (shop, time, context and channel
        columns), i.e. the channel plan the forecast was made from.
    truth, forecast, naive_forecast : DataFrame
        GMV over the held-out days (index: time, columns: shops).
    history : DataFrame
        GMV of the fitted days (index: time, columns: shops).
    mse_model, mse_naive : float
        MSE of GMV at ``horizon`` of the model and of the last-value forecast.
    forecast_lower, forecast_upper : DataFrame or None
        A :data:`BAND_LEVEL` band around ``forecast`` from the model's errors
        when it back-tests the last ``horizon`` fitted days
        (:func:`empirical_band`); None when the fitted window is too short
        for that back-test.
    fit_seconds : float
        Wall time of the model's fit.
    unscored_shops : list
        Shops left out of the forecast: they have no day before the held-out
        ones.
    short_shops : list
        Shops left out of the fit and the forecast: fewer steps before the
        held-out ones than ``min_steps`` (the horizon plus the three steps a
        fit needs at least). The summary warns about them first.
    min_steps : int
        That minimum.
    graph_reliance : DataFrame or None
        The held-out forecast's error with the learned graphs and with
        swapped or cut ones
        (:func:`~sklearn_causalmmm.analysis.graph_check.graph_reliance`);
        None for a model without a graph or with a single shop.
    decisions : Decisions or None
        Contributions and a budget reallocation over the held-out plan,
        added by :func:`~sklearn_causalmmm.reporting.decisions.decide`.
    currency : str or None
        Shown before money in the report (None: plain numbers).
    """

    model: object
    naive: object
    shop_column: str
    time_column: str
    target: str
    channel_columns: list
    context_columns: list
    node_names: list
    horizon: int
    train_days: int | None
    plan: pd.DataFrame
    truth: pd.DataFrame
    forecast: pd.DataFrame
    naive_forecast: pd.DataFrame
    history: pd.DataFrame
    mse_model: float
    mse_naive: float
    fit_seconds: float
    unscored_shops: list = field(default_factory=list)
    short_shops: list = field(default_factory=list)
    min_steps: int = 0
    forecast_lower: pd.DataFrame | None = None
    forecast_upper: pd.DataFrame | None = None
    graph_reliance: pd.DataFrame | None = None
    decisions: Decisions | None = None
    currency: str | None = None

    @property
    def time_unit(self) -> str:
        """One step of the data in words: ``"day"``, ``"week"``, ... or ``"step"``."""
        panel = getattr(self.model, "panel_", None)
        return getattr(panel, "time_unit", "step") if panel is not None else "step"

    def _steps(self, n: int) -> str:
        """``"7 days"``, ``"1 week"``: ``n`` steps in the data's unit."""
        return f"{n} {self.time_unit}{'' if n == 1 else 's'}"

    @property
    def n_shops(self) -> int:
        """Shops in the fitted data."""
        return int(self.history.shape[1])

    def trust_checks(self) -> list:
        """The checks a reader should see before acting on the report.

        Back-test coverage of the forecast band, graph reliance, a flat-graph
        warning, whether the reallocation's gain exceeds the model's
        uncertainty, and whether the budget adds up channels of different
        units (see :mod:`sklearn_causalmmm.analysis.trust`).

        Returns
        -------
        checks : list of TrustCheck
        """
        from sklearn_causalmmm.analysis.trust import (
            TrustCheck,
            check_coverage,
            check_flat_graph,
            check_gain,
            check_graph_reliance,
        )

        if self.forecast_lower is None:
            checks = [
                TrustCheck(
                    "back-test coverage of the band",
                    "",
                    "n/a",
                    "The model gave no band for the held-out forecast.",
                )
            ]
        else:
            checks = [
                check_coverage(
                    self.truth,
                    self.forecast_lower,
                    self.forecast_upper,
                    coverage=BAND_LEVEL,
                )
            ]
        checks.append(check_graph_reliance(self.graph_reliance))
        probabilities = getattr(self.model, "edge_probabilities_", None)
        if probabilities is not None:
            prior = self.model.get_params().get("edge_prior")
            checks.append(
                check_flat_graph(probabilities, 0.5 if prior is None else prior)
            )
        if self.decisions is not None:
            checks += [check_gain(self.decisions.budget), self.decisions.unit_check()]
        return checks

    @property
    def mse_ratio(self) -> float:
        """MSE of the model divided by that of the last-value forecast."""
        return self.mse_model / self.mse_naive

    @property
    def band_coverage(self) -> float | None:
        """Share of held-out GMV values inside the forecast band."""
        if self.forecast_lower is None:
            return None
        inside = (self.truth >= self.forecast_lower) & (
            self.truth <= self.forecast_upper
        )
        return float(inside.to_numpy().mean())

    @property
    def columns(self) -> list:
        """The model's input columns: shop, time, context, channels."""
        return [
            self.shop_column,
            self.time_column,
            *self.context_columns,
            *self.channel_columns,
        ]

    def summary_rows(self) -> list[tuple[str, str]]:
        """The back-test's scores as ``(name, formatted value)`` rows.

        The rows :func:`format_summary` prints and the report's summary table
        shows.
        """
        h, target = self._steps(self.horizon), self.target
        return [
            (f"{target} MSE over {h} ahead, CausalMMM", f"{self.mse_model:.4g}"),
            (f"{target} MSE over {h} ahead, last value", f"{self.mse_naive:.4g}"),
            ("MSE ratio CausalMMM / last value", f"{self.mse_ratio:.3f}"),
            (
                f"held-out {target} inside the {BAND_LEVEL:.0%} band",
                "—" if self.band_coverage is None else f"{self.band_coverage:.0%}",
            ),
            *self._reliance_rows(),
            ("epochs trained", str(len(self.model.history_))),
            ("fit time (s)", f"{self.fit_seconds:.1f}"),
        ]

    def _reliance_rows(self) -> list[tuple[str, str]]:
        """The graph check's MSE ratios, if it ran."""
        if self.graph_reliance is None:
            return []
        ratios = self.graph_reliance["mse_ratio"]
        return [
            (f"held-out MSE, {graph} / own graphs", f"{ratios[graph]:.2f}")
            for graph in ("other shops' graphs", "no edges")
        ]

    # What the summary and the report show besides the scores. A back-test on
    # a user's data knows no true graph; DemoResult, which does, overrides
    # these.
    _report_title = "CausalMMM report"

    def _headline(self, data_name: str) -> list[str]:
        """The summary's lines above the scores: the data and the learned graph."""
        days = self.history.index.append(self.truth.index)
        context = ", ".join(self.context_columns) or "none"
        edges = top_edges(
            self.model.edge_probabilities_.mean(axis=0), self.node_names, k=8
        )
        lines = []
        if self.short_shops:
            lines.append(
                f"Warning: {len(self.short_shops)} shop(s) have fewer than "
                f"{self.min_steps} {self.time_unit} before the held-out ones "
                "(the horizon plus 3) and were left out of the fit and the "
                f"forecast: {', '.join(map(str, self.short_shops))}"
            )
        lines += [
            f"CausalMMM fit on {data_name}: {self.history.shape[1]} shops, nodes "
            f"{', '.join(self.channel_columns)} -> {self.target} (context: "
            f"{context})",
            f"Back-test: fitted on {self._steps(len(self.history))} from "
            f"{_day(days[0])}, forecast the last {self._steps(self.horizon)} "
            f"({_day(self.truth.index[0])} to {_day(days[-1])}) from their "
            "channel plan.",
        ]
        if self.unscored_shops:
            lines.append(
                f"Not forecast (no {self.time_unit} before the held-out ones): "
                f"{', '.join(map(str, self.unscored_shops))}"
            )
        return [
            *lines,
            "",
            "Strongest learned edges (mean P over shops):",
            f"  {_format_edges(edges, probabilities=True)}",
        ]

    def _intro(self, data_name: str) -> str:
        """The report's paragraph under the title."""
        unit = self.time_unit
        return (
            f"CausalMMM fitted on {data_name} ({self._steps(len(self.history))}, "
            f"{self.n_shops} shops) with the last {self._steps(self.horizon)} held "
            f"out; {self.target} over the held-out {unit}s is forecast from their "
            f"channel plan and compared with the observed {self.target} and the "
            "last-value forecast. The recommendation comes first, the model's "
            "scores last."
        )

    def _first_shops(self) -> list:
        """Shops the figures show first."""
        return []

    def _response_channels(self) -> list[str]:
        """Channels whose spend the response curves scale: the media columns
        (a control such as a price or a competitor's sales is not spend), or
        every column of a model without roles."""
        roles = getattr(self.model, "node_roles_", None) or []
        media = [
            column
            for column, role in zip(self.channel_columns, roles, strict=False)
            if role == "media"
        ]
        return media or list(self.channel_columns)

    def _graph_panels(self, shops: Sequence) -> tuple[str, dict, dict | None]:
        """The graph figure's caption, learned graphs and true graphs (None)."""
        probabilities = self.model.edge_probabilities_
        rows = {shop: i for i, shop in enumerate(self.model.panel_.shop_ids)}
        graphs = {"mean over all shops": probabilities.mean(axis=0)}
        for shop in shops[:3]:
            graphs[str(shop)] = probabilities[rows[shop]]
        caption = (
            "Learned causal graph, averaged over all shops and for a few shops; "
            "cell (i, j) is P(i -> j)."
        )
        return caption, graphs, None

    def _graph_tables(self) -> dict[str, pd.DataFrame]:
        """The report's tables beside the graph figure."""
        edges = edge_table(self.model, k=10)
        table = pd.DataFrame(
            {
                "edge": edges.cause + " -> " + edges.effect,
                "mean P over shops": edges.probability.map("{:.2f}".format),
            }
        )
        if "lower" in edges:
            coverage = getattr(self.model, "interval_coverage", None)
            label = "interval" if coverage is None else f"{coverage:.0%} interval"
            table[label] = (
                edges.lower.map("{:.2f}".format)
                + " to "
                + edges.upper.map("{:.2f}".format)
            )
        return {"Strongest learned edges": table}

    def _columns_table(self) -> pd.DataFrame:
        """Each column's role in the model."""
        node_roles = getattr(self.model, "node_roles_", None) or ["input"] * len(
            self.channel_columns
        )
        by_role: dict[str, list[str]] = {}
        for name, role in zip(self.channel_columns, node_roles, strict=False):
            by_role.setdefault(role, []).append(str(name))
        roles = [
            ("shop", self.shop_column),
            ("time", f"{self.time_column} (one step = one {self.time_unit})"),
            ("target", self.target),
            *((role, ", ".join(names)) for role, names in by_role.items()),
            ("context", ", ".join(self.context_columns) or "(none)"),
        ]
        return pd.DataFrame(roles, columns=["role", "columns"])


def _day(value) -> str:
    """A time of the grid as text: ``2024-01-31`` for midnight timestamps."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return str(value)


def check_columns(frame: pd.DataFrame, roles: Mapping[str, Sequence[str]]) -> None:
    """Raise a ValueError naming every declared column the frame lacks.

    Parameters
    ----------
    frame : DataFrame
    roles : mapping of role to column names
        E.g. ``{"target": ["gmv"], "channel": ["tv", "search"]}``.

    Raises
    ------
    ValueError
        If a column is missing (the message names it, its role and the
        frame's columns) or has two roles.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm.reporting.holdout import check_columns
    >>> frame = pd.DataFrame(columns=["shop", "tv", "gmv"])
    >>> check_columns(frame, {"target": ["gmv"], "channel": ["tv", "radio"]})
    Traceback (most recent call last):
    ...
    ValueError: no column 'radio' (channel); the data has columns ['shop', 'tv', 'gmv'].
    """
    missing = [
        f"{name!r} ({role})"
        for role, names in roles.items()
        for name in names
        if name not in frame.columns
    ]
    if missing:
        raise ValueError(
            f"no column {', '.join(missing)}; the data has columns "
            f"{[str(c) for c in frame.columns]}."
        )
    counts = pd.Series([n for names in roles.values() for n in names]).value_counts()
    twice = counts.index[counts > 1].tolist()
    if twice:
        raise ValueError(f"column(s) {twice} are given more than one role.")


def _times(frame: pd.DataFrame, time_column: str) -> np.ndarray:
    """The time column as datetimes or numbers (date strings are parsed)."""
    times = frame[time_column]
    if not (
        pd.api.types.is_datetime64_any_dtype(times)
        or pd.api.types.is_numeric_dtype(times)
    ):
        # Parsed as to_panel parses them, so the days match its time grid.
        times = pd.to_datetime(times)
    return times.to_numpy()


def _wide(values, frame: pd.DataFrame, shop: str, time_column: str) -> pd.DataFrame:
    """Pivot values aligned with ``frame``'s rows to (time x shop)."""
    table = pd.DataFrame(
        {
            "shop": frame[shop].to_numpy(),
            "time": frame[time_column].to_numpy(),
            "value": np.asarray(values, dtype=np.float64),
        }
    )
    wide = table.pivot(index="time", columns="shop", values="value")
    wide.index.name, wide.columns.name = time_column, shop
    return wide


def empirical_band(
    truth: np.ndarray,
    backtest: np.ndarray,
    forecast: np.ndarray,
    level: float = BAND_LEVEL,
) -> tuple[np.ndarray, np.ndarray]:
    """A multiplicative band around ``forecast`` from back-test errors.

    For every step ``k`` ahead, the ratios ``truth / backtest`` over shops
    give the central ``level`` quantiles ``q_lo[k]``, ``q_hi[k]``; the band of
    ``forecast`` at step ``k`` is ``forecast * q_lo[k]`` to
    ``forecast * q_hi[k]``. Ratios keep the band proportional to each shop's
    size (GMV is positive) and let it widen with the horizon. Steps beyond the
    back-test's reuse its last step.

    Parameters
    ----------
    truth, backtest : ndarray of shape (n_shops, n_backtest_steps)
        Observed GMV and the model's forecast of it over a back-test window.
    forecast : ndarray of shape (n_forecast_shops, n_steps)
    level : float, default=0.8

    Returns
    -------
    lower, upper : ndarray of the shape of ``forecast``

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.reporting.holdout import empirical_band
    >>> truth = np.array([[90.0], [100.0], [110.0]])
    >>> backtest = np.full((3, 1), 100.0)
    >>> lower, upper = empirical_band(truth, backtest, np.array([[10.0, 20.0]]))
    >>> lower.round(2), upper.round(2)
    (array([[ 9.2, 18.4]]), array([[10.8, 21.6]]))
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}.")
    truth, backtest = np.asarray(truth, float), np.asarray(backtest, float)
    if truth.shape != backtest.shape or truth.ndim != 2:
        raise ValueError(
            f"truth {truth.shape} and backtest {backtest.shape} must be 2D arrays "
            "of one shape (shops, steps)."
        )
    forecast = np.asarray(forecast, float)
    usable = backtest > 0
    if not usable.any(axis=0).all():
        raise ValueError("every back-test step needs a positive forecast.")
    ratios = np.where(usable, truth / np.where(usable, backtest, 1.0), np.nan)
    tail = (1.0 - level) / 2.0
    q_lo, q_hi = np.nanquantile(ratios, [tail, 1.0 - tail], axis=0)
    steps = np.minimum(np.arange(forecast.shape[-1]), ratios.shape[1] - 1)
    return forecast * q_lo[steps], forecast * q_hi[steps]


def fit_holdout(
    frame: pd.DataFrame,
    *,
    target: str = "gmv",
    shop_column: str = "shop_id",
    time_column: str = "date",
    channel_columns: Sequence[str] | None = None,
    context_columns: Sequence[str] | None = None,
    horizon: int = 7,
    train_days: int | None = None,
    estimator=None,
    lift_tests: pd.DataFrame | None = None,
) -> HoldoutResult:
    """Fit on all but the last ``horizon`` days and score the forecast of them.

    Parameters
    ----------
    frame : DataFrame
        Long layout: one row per shop and day, one column per channel (and
        funnel node), the target, optional context columns. Times may be
        datetimes, integers or date strings. Not modified.
    target : str, default="gmv"
        The GMV column.
    shop_column, time_column : str, default="shop_id", "date"
    channel_columns : sequence of str, default=None
        Graph nodes besides the target. None: every numeric column that is
        not the shop, time, target or a context column.
    context_columns : sequence of str, default=None
        Per-shop context (constant over time, averaged if not).
    horizon : int, default=7
        Days held out at the end and forecast; also the model's training
        horizon.
    train_days : int or None, default=None
        Fit on the last ``train_days`` days before the held-out ones; None
        fits on all of them. The decoder steps through every day of the
        window, so the window length sets the cost of an epoch.
    estimator : CausalMMMRegressor, default=None
        Template whose hyper-parameters are used (it is cloned; its column
        roles and horizon are set from the arguments above). None uses the
        defaults.
    lift_tests : DataFrame, default=None
        Experiments passed to the model's ``fit`` (see
        :meth:`CausalMMMRegressor.fit
        <sklearn_causalmmm.CausalMMMRegressor.fit>`); tests that end after
        the fitted window are left out of the back-test's fit.

    Returns
    -------
    result : HoldoutResult

    Raises
    ------
    ValueError, TypeError
        A declared column is missing, the horizon or window does not fit the
        data, or :func:`~sklearn_causalmmm.panel.to_panel` rejects the data
        (gaps, duplicated days, NaN, negative spend, unreadable times, ...).

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.reporting.holdout import fit_holdout
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> frame = make_causal_mmm(
    ...     n_shops=4, n_steps=40, as_frame=True, random_state=0).frame
    >>> result = fit_holdout(
    ...     frame, context_columns=["context_0", "context_1"], horizon=5,
    ...     estimator=CausalMMMRegressor(hidden=4, max_epochs=1, random_state=0))
    >>> result.truth.shape, result.forecast.shape  # 5 held-out days x 4 shops
    ((5, 4), (5, 4))
    >>> result.node_names
    ['brand', 'display', 'video', 'feed', 'search', 'pv', 'clicks', 'gmv']
    """
    from sklearn.base import clone

    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.analysis.graph_check import graph_reliance
    from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
    from sklearn_causalmmm.metrics import mse_at_horizon
    from sklearn_causalmmm.panel import to_panel

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a DataFrame, got {type(frame).__name__}.")
    context_columns = list(context_columns or [])
    keys = {"shop column": [shop_column], "time column": [time_column]}
    check_columns(frame, {**keys, "target": [target], "context": context_columns})
    if channel_columns is None:
        roles = {shop_column, time_column, target, *context_columns}
        channel_columns = [
            c
            for c in frame.columns
            if c not in roles and pd.api.types.is_numeric_dtype(frame[c])
        ]
        if not channel_columns:
            raise ValueError(
                "no channel column: every column is the shop, time, target or "
                "context, or is not numeric; name the channels explicitly."
            )
    channel_columns = list(channel_columns)
    check_columns(
        frame,
        {
            **keys,
            "target": [target],
            "context": context_columns,
            "channel": channel_columns,
        },
    )
    columns = [shop_column, time_column, *context_columns, *channel_columns]
    # Validate every day up front (gaps, duplicates, NaN, negative values,
    # unreadable times): a problem in the held-out days would otherwise only
    # surface after the fit.
    template = estimator if estimator is not None else CausalMMMRegressor()
    roles = {
        name: template.get_params().get(name)
        for name in ("media_columns", "funnel_columns", "control_columns")
    }
    to_panel(
        frame[columns],
        frame[target],
        context_columns=context_columns,
        shop_column=shop_column,
        time_column=time_column,
        target_name=target,
        **roles,
    )
    times = _times(frame, time_column)
    dates = np.unique(times)
    if not 1 <= horizon <= len(dates) - 3:
        raise ValueError(
            f"horizon must lie in [1, {len(dates) - 3}] for the {len(dates)} days "
            f"of the data, got {horizon}."
        )
    if train_days is not None and train_days < 3:
        raise ValueError(f"train_days must be at least 3, got {train_days}.")
    train_rows, test_rows = _split_last(times, horizon, train_days)
    data = frame[columns].assign(**{time_column: times})
    train, test = data.iloc[train_rows], data.iloc[test_rows]
    y_train = frame[target].iloc[train_rows]
    # a shop with less history than the horizon and a minimal fit cannot be
    # fitted and back-tested: it is named at the top of the summary
    min_steps = horizon + 3
    lengths = train.groupby(shop_column, sort=False).size()
    short = [s for s, n in lengths.items() if n < min_steps]
    if short and len(short) == len(lengths):
        raise ValueError(
            f"every shop has fewer than {min_steps} steps before the last "
            f"{horizon}: lower horizon= or give more history."
        )
    if short:
        keep = ~train[shop_column].isin(short).to_numpy()
        train, y_train = train[keep], y_train[keep]
    fitted_shops = set(pd.unique(train[shop_column]))
    scored = test[shop_column].isin(fitted_shops).to_numpy()
    unscored = [s for s in pd.unique(test.loc[~scored, shop_column]) if s not in short]
    plan, y_test = test[scored], frame[target].iloc[test_rows][scored]

    model = clone(estimator if estimator is not None else CausalMMMRegressor())
    model.set_params(
        horizon=horizon,
        context_columns=context_columns or None,
        shop_column=shop_column,
        time_column=time_column,
        target_name=target,
    )
    started = time.perf_counter()
    if lift_tests is None:
        model.fit(train, y_train)
    else:
        model.fit(
            train, y_train, lift_tests=_tests_within(lift_tests, train[time_column])
        )
    fit_seconds = time.perf_counter() - started
    # The last-value forecast reads only the target: its X is the media, so
    # that signed controls (which it would refuse as negative media) stay out.
    node_roles = list(getattr(model, "node_roles_", []))
    media = [
        c
        for c, role in zip(channel_columns, node_roles, strict=False)
        if role == "media"
    ] or channel_columns
    naive_columns = [shop_column, time_column, *context_columns, *media]
    naive = SeasonalNaiveRegressor(
        strategy="last",
        context_columns=context_columns or None,
        shop_column=shop_column,
        time_column=time_column,
    ).fit(train[naive_columns], y_train)

    truth = _wide(y_test, plan, shop_column, time_column)
    forecast = _wide(model.predict(plan), plan, shop_column, time_column)
    lower, upper = _band(model, train, y_train, horizon, forecast, plan)
    naive_forecast = _wide(
        naive.predict(plan[naive_columns]), plan, shop_column, time_column
    )
    reliance = None
    # swapping graphs between shops needs a graph per shop and two shops
    if hasattr(model, "edge_probabilities_") and len(model.edge_probabilities_) > 1:
        reliance = graph_reliance(model, plan, y_test.to_numpy())

    def score(prediction: pd.DataFrame) -> float:
        # shops as rows, held-out days as horizons 1..horizon
        return mse_at_horizon(
            truth.to_numpy().T, prediction.to_numpy().T, horizon=horizon
        )

    return HoldoutResult(
        model=model,
        naive=naive,
        shop_column=shop_column,
        time_column=time_column,
        target=target,
        channel_columns=list(model.node_names_[:-1]),
        context_columns=context_columns,
        node_names=list(model.node_names_),
        horizon=horizon,
        train_days=train_days,
        plan=plan,
        truth=truth,
        forecast=forecast,
        naive_forecast=naive_forecast,
        history=_wide(y_train, train, shop_column, time_column),
        mse_model=score(forecast),
        mse_naive=score(naive_forecast),
        fit_seconds=fit_seconds,
        unscored_shops=unscored,
        short_shops=short,
        min_steps=min_steps,
        forecast_lower=lower,
        forecast_upper=upper,
        graph_reliance=reliance,
    )


def _tests_within(lift_tests: pd.DataFrame, times) -> pd.DataFrame | None:
    """The lift tests that lie inside the fitted times (None if none does)."""
    grid = pd.Index(pd.unique(np.asarray(times)))
    starts = lift_tests["start"]
    ends = lift_tests["end"]
    if isinstance(grid, pd.DatetimeIndex):
        starts, ends = pd.to_datetime(starts), pd.to_datetime(ends)
    inside = starts.isin(grid).to_numpy() & ends.isin(grid).to_numpy()
    if not inside.any():
        return None
    kept = lift_tests[inside].copy()
    kept["start"], kept["end"] = starts[inside], ends[inside]
    return kept


def _split_last(
    times: np.ndarray, horizon: int, train_days: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the last ``horizon`` days and of the days before them.

    Returns ``(train_rows, test_rows)``; ``train_days`` keeps only that many
    days before the held-out ones.
    """
    split = PanelTimeSplit(
        n_splits=1, test_size=horizon, time_column="time", max_train_size=train_days
    )
    return next(split.split(pd.DataFrame({"time": times})))


def _band(model, train, y_train, horizon, forecast, plan=None):
    """The model's band of ``forecast``, or one from a back-test of fitted days.

    A model with ``predict_interval`` gives its own calibrated band. Else the
    band comes from a back-test of the last ``horizon`` fitted days:

    ``train`` and ``y_train`` are the model's fitted rows. The weights never
    trained on those days (they are the regressor's validation tail when
    ``horizon`` covers it), so their errors are an honest if small sample.
    Returns ``(None, None)`` when no shop has both the back-test days and a
    day before them.
    """
    shop_column, time_column = model.shop_column, model.time_column
    if hasattr(model, "predict_interval") and plan is not None:
        lower, upper = model.predict_interval(plan, coverage=BAND_LEVEL)
        return (
            _wide(lower, plan, shop_column, time_column),
            _wide(upper, plan, shop_column, time_column),
        )
    times = train[time_column].to_numpy()
    if len(np.unique(times)) < horizon + 3:
        return None, None
    before_rows, window_rows = _split_last(times, horizon)
    window = train.iloc[window_rows]
    counts = window[shop_column].value_counts()
    shops = set(counts.index[counts == horizon])
    shops &= set(train[shop_column].iloc[before_rows])
    rows = window[shop_column].isin(shops).to_numpy()
    if not rows.any():
        return None, None
    plan = window[rows]
    truth = _wide(y_train.iloc[window_rows][rows], plan, shop_column, time_column)
    backtest = _wide(model.predict(plan), plan, shop_column, time_column)
    lower, upper = empirical_band(
        truth.to_numpy().T, backtest.to_numpy().T, forecast.to_numpy().T
    )
    return (
        pd.DataFrame(lower.T, index=forecast.index, columns=forecast.columns),
        pd.DataFrame(upper.T, index=forecast.index, columns=forecast.columns),
    )


def refit(result: HoldoutResult, frame: pd.DataFrame, lift_tests=None):
    """Fit the back-tested model again, on a window that ends on the last day.

    The window has the back-test's length (``train_days``, or every day), so
    the refitted model continues the data: its forecasts start the day after
    the last day of ``frame``.

    Parameters
    ----------
    result : HoldoutResult
    frame : DataFrame
        The data :func:`fit_holdout` was given.
    lift_tests : DataFrame, default=None
        As for :func:`fit_holdout`; tests outside the window are left out.

    Returns
    -------
    model : CausalMMMRegressor
        A fitted clone of ``result.model``.

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.reporting.holdout import fit_holdout, refit
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> frame = make_causal_mmm(
    ...     n_shops=3, n_steps=40, as_frame=True, random_state=0).frame
    >>> result = fit_holdout(
    ...     frame, context_columns=["context_0", "context_1"], horizon=5, train_days=25,
    ...     estimator=CausalMMMRegressor(hidden=4, max_epochs=1, random_state=0))
    >>> model = refit(result, frame)
    >>> str(model.panel_.time_index[-1].date()), model.panel_.n_steps
    ('2024-02-09', 25)
    """
    from sklearn.base import clone

    times = _times(frame, result.time_column)
    keep = np.ones(len(frame), dtype=bool)
    if result.train_days is not None:
        dates = np.unique(times)
        keep = times >= dates[max(0, len(dates) - result.train_days)]
    X = frame[result.columns].assign(**{result.time_column: times})[keep]
    y = frame.loc[keep, result.target]
    if lift_tests is not None:
        tests = _tests_within(lift_tests, X[result.time_column])
        if tests is not None:
            return clone(result.model).fit(X, y, lift_tests=tests)
    return clone(result.model).fit(X, y)


def top_edges(
    probabilities: np.ndarray,
    node_names: Sequence[str],
    k: int | None = None,
    threshold: float | None = None,
) -> list[tuple[str, str, float]]:
    """The strongest edges ``i -> j`` of a graph, strongest first.

    Parameters
    ----------
    probabilities : ndarray of shape (d, d)
        ``[i, j]`` scores the edge ``i -> j``; the diagonal is ignored.
    node_names : sequence of str of length d
    k : int, default=None
        Keep the ``k`` strongest (all if None).
    threshold : float, default=None
        Keep only edges scoring above it.

    Returns
    -------
    edges : list of (cause, effect, probability)
        Ties keep the order of the nodes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.reporting.holdout import top_edges
    >>> p = np.array([[0.0, 0.9, 0.3], [0.2, 0.0, 0.6], [0.1, 0.4, 0.0]])
    >>> top_edges(p, ["tv", "pv", "gmv"], k=2)
    [('tv', 'pv', 0.9), ('pv', 'gmv', 0.6)]
    >>> top_edges(p, ["tv", "pv", "gmv"], threshold=0.5)
    [('tv', 'pv', 0.9), ('pv', 'gmv', 0.6)]
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    d = len(node_names)
    if probabilities.shape != (d, d):
        raise ValueError(
            f"probabilities has shape {probabilities.shape}; expected ({d}, {d}) "
            f"for the {d} node names."
        )
    edges = [
        (node_names[i], node_names[j], float(probabilities[i, j]))
        for i in range(d)
        for j in range(d)
        if i != j and (threshold is None or probabilities[i, j] > threshold)
    ]
    edges.sort(key=lambda edge: -edge[2])  # stable: ties keep the node order
    return edges if k is None else edges[:k]


def edge_table(model, k: int | None = None, shop=None) -> pd.DataFrame:
    """A fitted model's strongest edges, with their intervals when it has them.

    Parameters
    ----------
    model : fitted estimator
        Any estimator with ``edge_probabilities_`` and ``node_names_`` (a
        discoverer, the regressor); ``edge_intervals_``, when it has them
        (:class:`~sklearn_causalmmm.CausalGraphDiscoverer`), add the bounds.
    k : int, default=None
        Keep the ``k`` strongest edges (all if None).
    shop : default=None
        A fitted shop's id: its graph. None: the mean over the shops (of the
        probabilities and of each bound; a mean of intervals that contain
        their estimates contains the mean estimate).

    Returns
    -------
    table : DataFrame
        Columns ``cause``, ``effect``, ``probability`` and, with intervals,
        ``lower`` and ``upper``; strongest first, ties in node order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm import CausalGraphDiscoverer
    >>> from sklearn_causalmmm.reporting.holdout import edge_table
    >>> rng = np.random.RandomState(0)
    >>> X = rng.gamma(2.0, size=(6, 3, 50))
    >>> X[:, 2, 1:] += X[:, 0, :-1]  # node 0 drives node 2
    >>> model = CausalGraphDiscoverer(
    ...     hidden=8, max_epochs=1, n_interval_replicates=10, random_state=0
    ... ).fit(X)
    >>> table = edge_table(model, k=2)
    >>> list(table.columns)
    ['cause', 'effect', 'probability', 'lower', 'upper']
    >>> table.iloc[0][["cause", "effect"]].tolist()
    ['x0', 'x2']
    >>> bool((table.lower <= table.probability).all())
    True
    """
    probabilities = np.asarray(model.edge_probabilities_, dtype=np.float64)
    intervals = getattr(model, "edge_intervals_", None)
    if shop is None:
        row = slice(None)
    else:
        shops = list(model.shop_ids_)
        if shop not in shops:
            raise ValueError(
                f"shop {shop!r} was not fitted; the fitted shops are {shops[:5]}..."
            )
        row = shops.index(shop)
    names = list(model.node_names_)
    graph = probabilities[row]
    bounds = None if intervals is None else np.asarray(intervals)[:, row]
    if shop is None:
        graph = graph.mean(axis=0)
        bounds = None if bounds is None else bounds.mean(axis=1)
    edges = top_edges(graph, names, k=k)
    table = pd.DataFrame(edges, columns=["cause", "effect", "probability"])
    if bounds is not None:
        position = {name: i for i, name in enumerate(names)}
        cause = [position[c] for c in table.cause]
        effect = [position[e] for e in table.effect]
        table["lower"] = bounds[0][cause, effect]
        table["upper"] = bounds[1][cause, effect]
    return table


def _format_edges(edges: list[tuple[str, str, float]], probabilities: bool) -> str:
    """``"a -> b (0.91), ..."`` (or without probabilities); ``"(none)"``."""
    if not edges:
        return "(none)"
    if probabilities:
        return ", ".join(f"{i} -> {j} ({p:.2f})" for i, j, p in edges)
    return ", ".join(f"{i} -> {j}" for i, j, _ in edges)


def _figure_shops(result: HoldoutResult) -> list:
    """Up to ``N_FIGURE_SHOPS`` forecast shops, the result's first ones first."""
    shops = [s for s in result._first_shops() if s in result.truth.columns]
    shops += [s for s in result.truth.columns if s not in shops]
    return shops[:N_FIGURE_SHOPS]


#: Beyond this many characters, or this many nodes, figures show short
#: aliases of the column names and the report a table of the full names.
MAX_LABEL = 16
MAX_LABELLED_NODES = 12


def figure_aliases(names: Sequence[str]) -> dict[str, str]:
    """Short labels for figures when the names are long or many; else themselves.

    The common prefix and suffix of the names are dropped and what remains
    is cut to 10 characters (behind a running number when two would
    coincide), so every alias is unique and still hints at its column.

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    aliases : dict of name to label

    Examples
    --------
    >>> from sklearn_causalmmm.reporting.holdout import figure_aliases
    >>> figure_aliases(["tv", "search"])
    {'tv': 'tv', 'search': 'search'}
    >>> names = [f"impressions_of_the_{c}_campaign_2024" for c in ("tv", "radio")]
    >>> list(figure_aliases(names).values())
    ['tv', 'radio']
    """
    names = [str(n) for n in names]
    if not names or (
        max(len(n) for n in names) <= MAX_LABEL and len(names) <= MAX_LABELLED_NODES
    ):
        return {n: n for n in names}
    import os

    # the prefix and suffix the long names share say nothing about a column
    long = [n for n in names if len(n) > MAX_LABEL] or names
    prefix = os.path.commonprefix(long) if len(long) > 1 else ""
    suffix = (
        os.path.commonprefix([n[::-1] for n in long])[::-1] if len(long) > 1 else ""
    )
    cores = []
    for name in names:
        core = name
        if name.startswith(prefix) and name.endswith(suffix):
            core = name[len(prefix) : len(name) - len(suffix)] or name
        cores.append(core.strip("_- .")[:10] or core[:10])
    if len(set(cores)) == len(cores):
        return dict(zip(names, cores, strict=True))
    # a running number keeps apart names whose kept parts coincide
    aliases = {}
    for k, (name, core) in enumerate(zip(names, cores, strict=True), start=1):
        aliases[name] = f"{k}.{core}"
    return aliases


def _rename_channels(frame: pd.DataFrame, aliases: Mapping[str, str], level=1):
    """``frame`` with the channel level of its index renamed (a copy)."""
    out = frame.copy()
    out.attrs = dict(frame.attrs)
    out.index = out.index.set_levels(
        [aliases.get(str(c), str(c)) for c in out.index.levels[level]], level=level
    )
    return out


def holdout_figures(
    result: HoldoutResult,
    output: str | PathLike,
    *,
    shops: Sequence | None = None,
    response_channels: Sequence[str] | None = None,
) -> dict[str, dict[str, Path]]:
    """The figures of a back-test's report, grouped by what they show.

    Parameters
    ----------
    result : HoldoutResult
    output : str or path-like
        Folder for the PNG files (``forecasts.png``, ``response_curves.png``,
        ``contributions.png``, ``budget.png``, ``training_curve.png``).
    shops : sequence, default=None
        Shops to draw; None takes the first :data:`N_FIGURE_SHOPS` (for the
        demo, one shop of each graph type first).
    response_channels : sequence of str, default=None
        Channels whose spend the response curves scale; None: every
        channel column (for the demo, its advertising channels).

    Returns
    -------
    figures : dict of group to dict of caption to Path
        Groups ``"decisions"`` (contributions and budget, when the result
        has decisions), ``"response"``, ``"forecast"`` and ``"training"``.
        Long or many channel names are shown as the short labels of
        :func:`figure_aliases` of ``result.node_names``.
    """
    from sklearn_causalmmm.analysis.response import response_curves
    from sklearn_causalmmm.reporting.plots import (
        plot_forecasts,
        plot_response_curves,
        plot_training_curve,
    )

    output = Path(output)
    shops = list(shops) if shops is not None else _figure_shops(result)
    aliases = figure_aliases(result.node_names)
    channels = list(response_channels or result._response_channels())
    held = [c for c in result.channel_columns if c not in channels]
    plan = result.plan[result.plan[result.shop_column].isin(shops)]
    curves = response_curves(result.model, plan, channels, RESPONSE_FACTORS)
    curves.columns = curves.columns.set_levels(
        [aliases.get(str(c), str(c)) for c in curves.columns.levels[1]], level=1
    )
    held_note = f" {', '.join(held)} stay at their observed values." if held else ""
    target, unit = result.target, result.time_unit
    h = result._steps(result.horizon)
    of = f"{len(shops)} of {result.n_shops} shops"
    bands = None
    if result.forecast_lower is not None:
        bands = {
            "CausalMMM": (result.forecast_lower[shops], result.forecast_upper[shops])
        }
    figures: dict[str, dict[str, Path]] = {}
    if result.decisions is not None:
        from sklearn_causalmmm.reporting.decisions import decision_figures

        spend = result.decisions.spend_columns
        figures["decisions"] = decision_figures(
            result.decisions,
            output,
            held=[c for c in result.channel_columns if c not in spend],
            aliases=aliases,
            n_shops=result.n_shops,
        )
    figures["response"] = {
        f"Response curves ({of}): CausalMMM's total {target} forecast over the "
        f"{h} held-out when one channel's planned spend is multiplied by a "
        f"factor, the other channels as planned (dashed: the plan itself)."
        f"{held_note}": plot_response_curves(
            curves,
            output / "response_curves.png",
            ylabel=f"total {target} over the plan",
        )
    }
    figures["forecast"] = {
        f"{target} over the {h} held-out ({of}): observed, CausalMMM forecast "
        "from the channel plan"
        + (
            f" with its {BAND_LEVEL:.0%} band (calibrated on {unit}s the model "
            "did not fit)"
            if bands
            else ""
        )
        + ", and the last-value forecast.": plot_forecasts(
            result.truth[shops],
            {
                "CausalMMM": result.forecast[shops],
                "last value": result.naive_forecast[shops],
            },
            output / "forecasts.png",
            history=result.history[shops].iloc[-4 * result.horizon :],
            bands=bands,
            ylabel=target,
        )
    }
    figures["training"] = {
        "Training and validation loss per epoch.": plot_training_curve(
            result.model.history_, output / "training_curve.png"
        )
    }
    return figures


def format_summary(result: HoldoutResult, data_name: str = "the data") -> str:
    """A back-test's results as plain text, one fact per line.

    The learned graph (next to the true one for the demo), the scores and,
    when the result has them, the decisions.

    Parameters
    ----------
    result : HoldoutResult
        From :func:`fit_holdout`, or the demo's
        :class:`~sklearn_causalmmm.reporting.demo.DemoResult`.
    data_name : str, default="the data"
        How the first line names the data (e.g. the file); the demo's names
        the demo panel.

    Returns
    -------
    text : str

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> from sklearn_causalmmm.reporting.holdout import fit_holdout, format_summary
    >>> frame = make_causal_mmm(
    ...     n_shops=3, n_steps=30, as_frame=True, random_state=0).frame
    >>> result = fit_holdout(
    ...     frame, context_columns=["context_0", "context_1"], horizon=5,
    ...     estimator=CausalMMMRegressor(hidden=4, max_epochs=1, random_state=0))
    >>> lines = format_summary(result, "sales.csv").splitlines()
    >>> lines[1].split(",")[0]
    'Back-test: fitted on 25 days from 2024-01-01'
    """
    rows = result.summary_rows()
    width = max(len(name) for name, _ in rows)
    lines = [*result._headline(data_name), ""]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    if result.decisions is not None:
        lines += ["", *result.decisions.summary_lines()]
    lines += ["", "Trust checks:"]
    for check in result.trust_checks():
        value = f" ({check.value})" if check.value else ""
        lines.append(f"  [{check.verdict}] {check.check}{value}: {check.message}")
    return "\n".join(lines)


def write_holdout_report(
    result: HoldoutResult,
    output: str | PathLike,
    *,
    title: str | None = None,
    intro: str = "",
    data_name: str = "the data",
) -> Path:
    """Write ``report.html`` of a back-test and its PNG figures into ``output``.

    The report speaks to an analyst first: the recommendation (the budget
    reallocation and its forecast gain with an interval, or "no change"),
    then contributions and return on spend, response curves, the forecast
    with its calibrated band, the learned causal graph (for the demo, per
    shop type next to the true one), the trust checks, and last the model's
    scores and training curve. Long or many column names are shown in the
    figures as short labels, listed in a table of names.

    Parameters
    ----------
    result : HoldoutResult
        From :func:`fit_holdout`, or the demo's
        :class:`~sklearn_causalmmm.reporting.demo.DemoResult`.
    output : str or path-like
        Folder, created if missing; files of an earlier report are
        overwritten.
    title : str, default=None
        None: "CausalMMM report" ("CausalMMM demo report" for the demo).
    intro : str, default=""
        Paragraph under the title; a default one describes the back-test.
    data_name : str, default="the data"
        How the default intro names the data (e.g. the file).

    Returns
    -------
    path : Path
        The HTML file.
    """
    from sklearn_causalmmm.analysis.trust import trust_checks
    from sklearn_causalmmm.reporting.plots import plot_graph_heatmaps
    from sklearn_causalmmm.reporting.report import Section, write_report

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    shops = _figure_shops(result)
    aliases = figure_aliases(result.node_names)
    caption, graphs, truth = result._graph_panels(shops)
    graph_figure = plot_graph_heatmaps(
        graphs,
        truth,
        [aliases[str(n)] for n in result.node_names],
        output / "graphs.png",
    )
    figures = holdout_figures(result, output, shops=shops)
    checks = result.trust_checks()
    warnings = [f"Warning: {c.message}" for c in checks if c.warns]
    decisions = result.decisions
    unit = result.time_unit

    sections = []
    if decisions is not None:
        sections.append(
            Section(
                "Recommendation",
                [decisions.recommendation(), *warnings],
                {
                    "Spend per channel, planned and reallocated (all shops)": (
                        decisions.spend_table()
                    )
                },
                {k: v for k, v in figures["decisions"].items() if "Budget" in k},
            )
        )
        sections.append(
            Section(
                "Contributions and return on spend",
                [
                    f"What each channel brought over the held-out {unit}s "
                    f"(summed over the {result.n_shops} shops)."
                ],
                {"": decisions.ranking_table()},
                {k: v for k, v in figures["decisions"].items() if "Budget" not in k},
            )
        )
    else:
        sections.append(
            Section("Recommendation", ["No budget analysis was run.", *warnings])
        )
    coverage = result.band_coverage
    sections += [
        Section("Response curves", figures=figures["response"]),
        Section(
            "Forecast",
            []
            if coverage is None
            else [
                f"The {BAND_LEVEL:.0%} band held {coverage:.0%} of the held-out "
                f"values of {result.target}."
            ],
            figures=figures["forecast"],
        ),
        Section(
            "Causal graph",
            tables=result._graph_tables(),
            figures={caption: graph_figure},
        ),
        Section(
            "Trust checks",
            ["Read these before acting on the numbers above."],
            {"": trust_checks(checks)},
        ),
    ]
    if any(alias != name for name, alias in aliases.items()):
        sections.append(
            Section(
                "Names in the figures",
                tables={
                    "": pd.DataFrame(
                        {"label": list(aliases.values()), "column": list(aliases)}
                    )
                },
            )
        )
    metrics = {
        "": pd.DataFrame(result.summary_rows(), columns=["metric", "value"]),
        "Columns": result._columns_table(),
    }
    lift = getattr(result.model, "lift_tests_", None)
    if lift is not None:
        metrics["Lift tests: measured and the model's lift"] = lift_table(lift)
    sections.append(
        Section("Model metrics", tables=metrics, figures=figures["training"])
    )
    return write_report(
        output / "report.html",
        title=title or result._report_title,
        intro=intro or result._intro(data_name),
        tables={},
        figures={},
        sections=sections,
    )


def lift_table(lift_tests: pd.DataFrame) -> pd.DataFrame:
    """A fitted model's ``lift_tests_`` formatted for a report or a terminal.

    Parameters
    ----------
    lift_tests : DataFrame
        ``CausalMMMRegressor.lift_tests_``: the tests' columns, ``model_lift``,
        ``z`` and ``agrees``.

    Returns
    -------
    table : DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm.reporting.holdout import lift_table
    >>> tests = pd.DataFrame({"channel": ["tv"], "start": [3], "end": [5],
    ...     "spend_change": [10.0], "lift": [120.0], "lift_se": [20.0],
    ...     "model_lift": [100.0], "z": [-1.0], "agrees": [True]})
    >>> lift_table(tests).iloc[0].tolist()
    ['tv', '3', '5', '10', '120 ± 20', '100', '-1.0', 'yes']
    """
    table = pd.DataFrame(
        {
            "channel": lift_tests["channel"].astype(str),
            "start": lift_tests["start"].astype(str),
            "end": lift_tests["end"].astype(str),
            "spend change": [f"{v:,.4g}" for v in lift_tests["spend_change"]],
            "measured lift": [
                f"{v:,.4g} ± {e:,.4g}"
                for v, e in zip(lift_tests["lift"], lift_tests["lift_se"], strict=True)
            ],
            "model's lift": [f"{v:,.4g}" for v in lift_tests["model_lift"]],
            "z": [f"{v:.1f}" for v in lift_tests["z"]],
            "agrees (|z| <= 2)": ["yes" if a else "no" for a in lift_tests["agrees"]],
        }
    )
    if "shop" in lift_tests:
        table.insert(0, "shop", lift_tests["shop"].astype(str))
    return table

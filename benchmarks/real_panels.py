"""Forecasts on public marketing panels that nobody on this project generated.

Panels (``--panels``; copies and licences in ``benchmarks/data/``):

``meridian``
    Google Meridian's simulated geo panel, 40 geos x 156 weeks, target
    ``conversions`` (``meridian_revenue``: revenue = conversions x
    revenue_per_conversion). Media are the five paid channels' impressions
    and the organic channel's; spend is impressions times a constant price
    per channel, so it is kept only as each channel's cost per impression
    (``costs``): both series carry the same information, and impressions are
    what a response curve acts on. Controls ``Promo`` and the signed
    ``competitor_sales_control`` and ``sentiment_score_control``; context
    ``population`` (one value per geo).
``robyn``
    Meta Robyn's simulated brand, 208 weeks, target ``revenue``. Media are the
    spends ``tv_S``, ``ooh_S``, ``print_S``, ``facebook_S``, ``search_S``
    (``facebook_S`` rather than the ``facebook_I`` impressions, so that every
    paid channel is in money) and ``newsletter`` as organic media (an owned
    channel with carryover, as Robyn itself treats it); funnel
    ``search_clicks_P``; controls ``competitor_sales_B`` and one indicator
    per event label of ``events`` (its "na" weeks are 0).
``pymc``
    PyMC-Marketing's example brand, 179 weeks, target ``y``; media ``x1``,
    ``x2``; controls ``event_1``, ``event_2`` and the trend ``t``
    (``dayofyear`` is left out: seasonality is each method's business).
``weekly_sim``
    The package's weekly simulator, ``make_weekly_mmm`` (40 shops, 156 weeks;
    media impressions, funnel nodes, signed controls, a baseline of trend,
    yearly seasonality, holidays and shared shocks).

Protocol: an 8-week horizon at 4 non-overlapping origins from the end (the
forecast steps are T-8..T-1, T-16..T-9, T-24..T-17 and T-32..T-25), every
method fitted on all steps before its origin. The score is the MSE, over
entities and the 8 steps, of the target standardized per entity with the mean
and (population) standard deviation of its training window, averaged over the
origins. The media plan and the controls of the forecast weeks are known to
every method (they are the plan); funnel nodes are not (only their history).

Reference forecasts, computed here: the last value; the seasonal naive (the
value 52 weeks earlier; an origin with less than 52 weeks of history would
use the last value); each entity's training mean; a pooled ridge
(:data:`RIDGE_LAGS`) of the standardized target on log1p of every media
column at lags 1 to 4, slopes pooled over entities, an unpenalized intercept
per entity, the penalty chosen by ``RidgeCV``. Every row reports its mean MSE
over the best reference of the same run (``ratio_to_best_reference``).

Then the package's forecasters (``--methods``), with weekly settings
(:data:`WEEKLY_PARAMS`): each is given the roles it can take
(:func:`assign_roles`), and its row records exactly what it was given.

Usage::

    python benchmarks/real_panels.py --quick --panels pymc   # toy sizes, seconds
    python benchmarks/real_panels.py --seeds 1               # every panel
    python benchmarks/real_panels.py --panels meridian --methods CausalMMMRegressor

Writes ``benchmarks/results/real_panels.json`` (``--quick``:
``benchmarks/results/quick/``) and the "Real panels" section of
``docs/benchmarks.md``. Not part of ``run_all.py``: run it on its own.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd
import report
from _common import (
    FORECASTERS,
    QUICK_SHOPS,
    ResultsFile,
    Timer,
    base_parser,
    comma_separated,
    epochs_run,
    parse_script_args,
    run_script,
    select,
)
from sklearn.linear_model import RidgeCV

SCRIPT = "real_panels.py"
RESULTS_FILE = "real_panels.json"
DATA = Path(__file__).resolve().parent / "data"

#: Weeks forecast from each origin.
HORIZON = 8
#: Non-overlapping origins, counted back from the end of the panel.
N_ORIGINS = 4
#: A year of weeks: the seasonal naive's period and the methods' season.
SEASON_LENGTH = 52
#: Lags (weeks) of log1p media in the pooled ridge reference.
RIDGE_LAGS = (1, 2, 3, 4)
RIDGE_ALPHAS = np.logspace(-3, 3, 13)

NAIVE = "naive (last value)"
SEASONAL_NAIVE = f"seasonal naive ({SEASON_LENGTH} weeks)"
TRAINING_MEAN = "training mean"
POOLED_RIDGE = f"pooled ridge (log1p media, lags {RIDGE_LAGS[0]}-{RIDGE_LAGS[-1]})"
REFERENCES = (NAIVE, SEASONAL_NAIVE, TRAINING_MEAN, POOLED_RIDGE)

#: The estimator parameter that names each role's columns, where it exists.
ROLE_PARAMETERS = {
    "media": "media_columns",
    "funnel": "funnel_columns",
    "control": "control_columns",
}

#: The package's forecasters with weekly settings: a yearly season where the
#: method has one, and CausalMMM trained to roll out the 8 forecast weeks.
WEEKLY_PARAMS = {
    "CausalMMMRegressor": {"horizon": HORIZON},
    "AdstockHillRegressor": {"season_length": SEASON_LENGTH},
    "BTVCRegressor": {"season_length": SEASON_LENGTH},
    "LSTMRegressor": {},
    "WideDeepRegressor": {},
    "GVARRegressor": {},
    "SeasonalNaiveRegressor": {"strategy": "seasonal", "season_length": SEASON_LENGTH},
}

#: The size of the weekly simulator's panel (a Meridian-like 40 entities x 3
#: years); ``make_weekly_mmm``'s other settings are its defaults.
WEEKLY_SIZE = {"n_shops": 40, "n_steps": 156}

#: Goals of the real-panels issue: CausalMMMRegressor's mean MSE over the best
#: reference forecast's.
GOALS = {"meridian": 0.95, "robyn": 1.0, "pymc": 1.0, "weekly_sim": 0.9}
PANEL_NAMES = ("meridian", "meridian_revenue", "robyn", "pymc", "weekly_sim")
DEFAULT_PANELS = ("meridian", "robyn", "pymc", "weekly_sim")


def _weekly_forecasters():
    """The package's forecasters of :data:`WEEKLY_PARAMS`, named by class.

    Their quick settings are those of the other forecasting benchmarks.
    """
    by_class = {}
    for method in FORECASTERS:
        by_class.setdefault(method.estimator.rpartition(".")[2], method)
    return tuple(
        dataclasses.replace(by_class[name], name=name, params=params)
        for name, params in WEEKLY_PARAMS.items()
    )


METHODS = _weekly_forecasters()


# -- panels ------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketingPanel:
    """A long frame, one row per entity and week, and the role of each column.

    ``costs`` is the cost of one unit of each paid media column (organic media
    have none); ``notes`` say what the loader chose and why.
    """

    name: str
    frame: pd.DataFrame
    shop: str
    time: str
    target: str
    media: tuple[str, ...]
    funnel: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    costs: dict = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self):
        named = [*self.media, *self.funnel, *self.controls, *self.context]
        twice = sorted({c for c in named if named.count(c) > 1})
        if twice:
            raise ValueError(f"panel {self.name!r}: column(s) {twice} in two roles")
        missing = [
            c
            for c in [self.shop, self.time, self.target, *named]
            if c not in self.frame
        ]
        if missing:
            raise ValueError(f"panel {self.name!r}: no column(s) {missing}")
        keys = self.frame[[self.shop, self.time]]
        n_cells = keys[self.shop].nunique() * keys[self.time].nunique()
        if keys.duplicated().any() or len(keys) != n_cells:
            raise ValueError(
                f"panel {self.name!r}: every entity needs the same weeks, once each"
            )

    @property
    def columns(self) -> tuple[str, ...]:
        """Media, funnel and control columns (the candidates for X)."""
        return (*self.media, *self.funnel, *self.controls)

    @property
    def signed(self) -> tuple[str, ...]:
        """Controls that take a negative value somewhere."""
        return tuple(c for c in self.controls if (self.frame[c] < 0).any())

    @property
    def times(self) -> pd.Index:
        return pd.Index(np.sort(self.frame[self.time].unique()))

    def wide(self, column: str) -> np.ndarray:
        """``(n_entities, n_weeks)`` of one column, entities in sorted order."""
        table = self.frame.pivot(index=self.shop, columns=self.time, values=column)
        return table.to_numpy(dtype=np.float64)

    def describe(self) -> dict:
        """Roles, size and notes, for the results file and the docs."""
        return {
            "n_entities": int(self.frame[self.shop].nunique()),
            "n_weeks": len(self.times),
            "target": self.target,
            "media": list(self.media),
            "funnel": list(self.funnel),
            "controls": list(self.controls),
            "signed_controls": list(self.signed),
            "context": list(self.context),
            "costs": self.costs,
            "notes": self.notes,
        }


def load_meridian(
    target: str = "conversions", n_geos: int | None = None
) -> MarketingPanel:
    """Meridian's geo panel; ``target`` is ``"conversions"`` or ``"revenue"``.

    Examples
    --------
    >>> panel = load_meridian(n_geos=2)
    >>> panel.frame.shape[0], panel.media[-1]
    (312, 'Organic_channel0_impression')
    >>> panel.signed
    ('competitor_sales_control', 'sentiment_score_control')
    >>> round(panel.costs["Channel0_impression"], 6)
    0.007333
    """
    if target not in ("conversions", "revenue"):
        raise ValueError(f"target must be 'conversions' or 'revenue'; got {target!r}")
    raw = pd.read_csv(DATA / "meridian_geo" / "geo_all_channels.csv.gz", index_col=0)
    raw["time"] = pd.to_datetime(raw["time"])
    if n_geos is not None:
        raw = raw[raw["geo"].isin(raw["geo"].unique()[:n_geos])]
    paid = [f"Channel{k}_impression" for k in range(5)]
    costs = {}
    for column in paid:
        spend = raw[column.replace("_impression", "_spend")]
        shown = raw[column] > 0
        # spend = impressions x a constant price: the median ratio is that price
        costs[column] = float((spend[shown] / raw.loc[shown, column]).median())
    raw["revenue"] = raw["conversions"] * raw["revenue_per_conversion"]
    media = (*paid, "Organic_channel0_impression")
    controls = ("Promo", "competitor_sales_control", "sentiment_score_control")
    keep = ["geo", "time", *media, *controls, "population", target]
    return MarketingPanel(
        name="meridian" if target == "conversions" else "meridian_revenue",
        frame=raw[keep].sort_values(["geo", "time"]).reset_index(drop=True),
        shop="geo",
        time="time",
        target=target,
        media=media,
        controls=controls,
        context=("population",),
        costs=costs,
        notes="impressions as media (spend = impressions x a constant price per "
        "channel, kept as costs); Organic_channel0_impression is organic media "
        "(no cost)",
    )


def load_robyn() -> MarketingPanel:
    """Robyn's weekly brand series, one entity named ``"brand"``.

    Examples
    --------
    >>> panel = load_robyn()
    >>> panel.funnel, panel.controls
    (('search_clicks_P',), ('competitor_sales_B', 'event_event1', 'event_event2'))
    """
    raw = pd.read_csv(DATA / "robyn_weekly" / "dt_simulated_weekly.csv")
    raw["DATE"] = pd.to_datetime(raw["DATE"])
    raw.insert(0, "brand", "brand")
    labels = sorted(label for label in raw["events"].unique() if label != "na")
    events = []
    for label in labels:
        raw[f"event_{label}"] = (raw["events"] == label).astype(np.float64)
        events.append(f"event_{label}")
    paid = ("tv_S", "ooh_S", "print_S", "facebook_S", "search_S")
    media = (*paid, "newsletter")
    funnel = ("search_clicks_P",)
    controls = ("competitor_sales_B", *events)
    keep = ["brand", "DATE", *media, *funnel, *controls, "revenue"]
    return MarketingPanel(
        name="robyn",
        frame=raw[keep],
        shop="brand",
        time="DATE",
        target="revenue",
        media=media,
        funnel=funnel,
        controls=controls,
        costs={column: 1.0 for column in paid},
        notes="spends as media (facebook_S, not the facebook_I impressions); "
        "newsletter is organic media (no cost); one indicator per event label",
    )


def load_pymc() -> MarketingPanel:
    """PyMC-Marketing's example series, one entity named ``"brand"``.

    Examples
    --------
    >>> panel = load_pymc()
    >>> panel.media, panel.controls, panel.frame.shape
    (('x1', 'x2'), ('event_1', 'event_2', 't'), (179, 8))
    """
    raw = pd.read_csv(DATA / "pymc_marketing" / "mmm_example.csv")
    raw["date_week"] = pd.to_datetime(raw["date_week"])
    raw.insert(0, "brand", "brand")
    media = ("x1", "x2")
    controls = ("event_1", "event_2", "t")
    return MarketingPanel(
        name="pymc",
        frame=raw[["brand", "date_week", *media, *controls, "y"]],
        shop="brand",
        time="date_week",
        target="y",
        media=media,
        controls=controls,
        notes="no costs published; dayofyear left out",
    )


def load_weekly_simulator(n_shops: int | None = None, seed: int = 0):
    """The package's weekly simulator (``make_weekly_mmm``) as a panel."""
    from sklearn_causalmmm.datasets import make_weekly_mmm

    size = dict(WEEKLY_SIZE)
    if n_shops is not None:
        size["n_shops"] = n_shops
    data = make_weekly_mmm(**size, as_frame=True, random_state=seed)
    media = tuple(data.media_names)
    return MarketingPanel(
        name="weekly_sim",
        frame=data.frame,
        shop="shop_id",
        time="date",
        target=data.target_name,
        media=media,
        funnel=tuple(data.funnel_names),
        controls=tuple(data.control_names),
        costs=_named_costs(data.costs, media),
        notes="make_weekly_mmm(n_shops=40, n_steps=156), seed = the row's seed",
    )


def _named_costs(costs, media) -> dict:
    """The simulator's costs (a mapping or one value per media) by column name."""
    if costs is None:
        return {}
    if not isinstance(costs, dict):
        costs = dict(zip(media, np.ravel(costs), strict=True))
    return {str(column): float(value) for column, value in costs.items()}


def load_panel(name: str, quick: bool, seed: int) -> MarketingPanel:
    """A panel of :data:`PANEL_NAMES` (quick: its first few entities)."""
    few = QUICK_SHOPS if quick else None
    if name == "meridian":
        return load_meridian("conversions", few)
    if name == "meridian_revenue":
        return load_meridian("revenue", few)
    if name == "robyn":
        return load_robyn()
    if name == "pymc":
        return load_pymc()
    if name == "weekly_sim":
        return load_weekly_simulator(few, seed)
    raise ValueError(f"unknown panel {name!r}; choose among {PANEL_NAMES}")


# -- protocol ----------------------------------------------------------------------


def origins(n_weeks: int) -> list[int]:
    """First forecast week of each origin, latest first (T-8, T-16, ...).

    Examples
    --------
    >>> origins(156)
    [148, 140, 132, 124]
    """
    first = [n_weeks - HORIZON * k for k in range(1, N_ORIGINS + 1)]
    if first[-1] < 2:
        raise ValueError(f"{n_weeks} weeks leave no history before the origins")
    return first


def standardized_mse(y: np.ndarray, forecast: np.ndarray, origin: int) -> float:
    """MSE of the forecast weeks, target standardized per entity on its training.

    ``y`` is ``(n_entities, n_weeks)``, ``forecast`` ``(n_entities, HORIZON)``.

    Examples
    --------
    >>> y = np.array([[1.0, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]])  # std 1
    >>> standardized_mse(y, np.full((1, HORIZON), 4.0), origin=2)
    4.0
    """
    std = y[:, :origin].std(axis=1, keepdims=True)
    if (std == 0).any():
        raise ValueError("a target constant over the training window has no scale")
    truth = y[:, origin : origin + HORIZON]
    return float((((truth - forecast) / std) ** 2).mean())


def naive_last(y: np.ndarray, origin: int) -> np.ndarray:
    return np.repeat(y[:, origin - 1 : origin], HORIZON, axis=1)


def seasonal_naive(y: np.ndarray, origin: int) -> np.ndarray:
    """The value ``SEASON_LENGTH`` weeks earlier; the last value without a year."""
    if origin < SEASON_LENGTH:
        return naive_last(y, origin)
    return y[:, np.arange(origin, origin + HORIZON) - SEASON_LENGTH]


def training_mean(y: np.ndarray, origin: int) -> np.ndarray:
    return np.repeat(y[:, :origin].mean(axis=1, keepdims=True), HORIZON, axis=1)


def pooled_ridge(y: np.ndarray, media: np.ndarray, origin: int) -> np.ndarray:
    """Ridge of the standardized target on lagged log1p media, pooled over entities.

    ``media`` is ``(n_entities, n_media, n_weeks)``. The slopes are shared by
    every entity; each entity has its own unpenalized intercept (features and
    target are centred per entity before the fit).
    """
    logged = np.log1p(media)

    def design(weeks: np.ndarray) -> np.ndarray:
        lagged = [logged[:, :, weeks - lag] for lag in RIDGE_LAGS]
        return np.concatenate(lagged, axis=1).transpose(0, 2, 1)

    fit_weeks = np.arange(max(RIDGE_LAGS), origin)
    mean = y[:, :origin].mean(axis=1, keepdims=True)
    std = y[:, :origin].std(axis=1, keepdims=True)
    z = (y[:, fit_weeks] - mean) / std
    features = design(fit_weeks)
    feature_mean = features.mean(axis=1, keepdims=True)
    z_mean = z.mean(axis=1, keepdims=True)
    centred = (features - feature_mean).reshape(-1, features.shape[-1])
    spread = centred.std(axis=0)
    spread[spread == 0] = 1.0
    ridge = RidgeCV(alphas=RIDGE_ALPHAS, fit_intercept=False)
    ridge.fit(centred / spread, (z - z_mean).ravel())
    future = design(np.arange(origin, origin + HORIZON))
    z_future = z_mean + ((future - feature_mean) / spread) @ ridge.coef_
    return mean + std * z_future


def reference_scores(panel: MarketingPanel) -> dict[str, list[float]]:
    """Per-origin standardized MSE of every reference forecast."""
    y = panel.wide(panel.target)
    media = np.stack([panel.wide(c) for c in panel.media], axis=1)
    forecasts = {
        NAIVE: naive_last,
        SEASONAL_NAIVE: seasonal_naive,
        TRAINING_MEAN: training_mean,
        POOLED_RIDGE: partial(_ridge_of, media),
    }
    return {
        name: [
            standardized_mse(y, forecast(y, origin), origin)
            for origin in origins(y.shape[1])
        ]
        for name, forecast in forecasts.items()
    }


def _ridge_of(media: np.ndarray, y: np.ndarray, origin: int) -> np.ndarray:
    return pooled_ridge(y, media, origin)


def best_reference(scores: dict[str, list[float]]) -> tuple[str, float]:
    """The reference with the lowest mean MSE over origins, and that mean."""
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    name = min(means, key=means.get)
    return name, means[name]


# -- what each estimator is given --------------------------------------------------


@dataclass
class Inputs:
    """What one estimator is given on one training window.

    ``params`` are set on the estimator (layout and, where it has them, the
    role parameters of :data:`ROLE_PARAMETERS`); ``fit_columns`` and
    ``plan_columns`` are the X columns of ``fit`` and of the plan (context
    columns besides); ``shifted`` maps a signed control to the constant added
    to it; ``constant`` lists the columns left out because they do not vary
    over the training window, ``funnel_left_out`` the funnel nodes left out.
    """

    params: dict
    fit_columns: list[str]
    plan_columns: list[str]
    shifted: dict[str, float] = field(default_factory=dict)
    constant: list[str] = field(default_factory=list)
    funnel_left_out: list[str] = field(default_factory=list)

    def frame(self, panel: MarketingPanel, rows: pd.DataFrame, plan: bool):
        """X for ``fit`` (``plan=False``) or ``predict``, from the panel's rows."""
        columns = self.plan_columns if plan else self.fit_columns
        X = rows[[panel.shop, panel.time, *panel.context, *columns]]
        return X.assign(**{c: X[c] + shift for c, shift in self.shifted.items()})


def assign_roles(estimator, panel: MarketingPanel, train: pd.DataFrame) -> Inputs:
    """Give ``estimator`` the panel's roles as far as it can take them.

    Parameters the estimator has (``get_params``) are set: its layout
    (``shop_column``, ``time_column``, ``context_columns``, ``target_name``)
    and ``media_columns``, ``funnel_columns``, ``control_columns``. Without
    them it gets what it can take today: no funnel column (its plan could not
    carry one), and every signed control shifted up by minus its lowest value
    over the whole panel (controls are known in the plan, so this uses no
    future target; the package's estimators refuse negative values). Columns
    constant over the training window in every entity are left out for all
    (an estimator refuses a node that never varies).

    Examples
    --------
    >>> from sklearn_causalmmm.baselines import SeasonalNaiveRegressor
    >>> panel = load_meridian(n_geos=2)
    >>> inputs = assign_roles(SeasonalNaiveRegressor(), panel, panel.frame)
    >>> inputs.params["shop_column"], inputs.fit_columns == inputs.plan_columns
    ('geo', True)
    >>> sorted(inputs.shifted)
    ['competitor_sales_control', 'sentiment_score_control']
    """
    accepted = estimator.get_params()
    layout = {
        "shop_column": panel.shop,
        "time_column": panel.time,
        "context_columns": list(panel.context) or None,
        "target_name": panel.target,
    }
    params = {name: value for name, value in layout.items() if name in accepted}
    varies = train.groupby(panel.shop)[list(panel.columns)].nunique().max() > 1
    constant = [column for column in panel.columns if not varies[column]]
    kept = {
        role: [c for c in columns if c not in constant]
        for role, columns in (
            ("media", panel.media),
            ("funnel", panel.funnel),
            ("control", panel.controls),
        )
    }
    for role, parameter in ROLE_PARAMETERS.items():
        if parameter in accepted:
            params[parameter] = kept[role]
    funnel = kept["funnel"] if "funnel_columns" in accepted else []
    shifted = {}
    if "control_columns" not in accepted:
        for column in kept["control"]:
            low = float(panel.frame[column].min())
            if low < 0:
                shifted[column] = -low
    known = kept["media"] + kept["control"]
    left_out = [c for c in kept["funnel"] if c not in funnel]
    return Inputs(params, known + funnel, known, shifted, constant, left_out)


# -- evaluation --------------------------------------------------------------------


def evaluate_reference(name: str, scores) -> dict:
    """One reference forecast's row (``scores()`` computes all of them once)."""
    best, best_mean = best_reference(scores())
    row = {"kind": "reference", **_scores_row(scores()[name], best, best_mean)}
    if name == POOLED_RIDGE:
        row["params"] = {"lags": list(RIDGE_LAGS), "alphas": "logspace(-3, 3, 13)"}
    return row


def _scores_row(values: list[float], best: str, best_mean: float) -> dict:
    mean = float(np.mean(values))
    return {
        "mse_by_origin": [float(v) for v in values],
        "mse": mean,
        "best_reference": best,
        "ratio_to_best_reference": mean / best_mean,
    }


def evaluate(method, seed: int, quick: bool, load, scores) -> dict:
    """Fit one forecaster at every origin of the panel ``load()`` and score it."""
    panel = load()
    y = panel.wide(panel.target)
    times = panel.times
    values, fit_seconds, given, epochs = [], [], [], []
    for origin in origins(len(times)):
        start, end = times[origin], times[origin + HORIZON - 1]
        stamps = panel.frame[panel.time]
        train = panel.frame[stamps < start]
        plan = panel.frame[(stamps >= start) & (stamps <= end)]
        model = method.build(quick, seed)
        inputs = assign_roles(model, panel, train)
        model.set_params(**inputs.params)
        with Timer() as timer:
            model.fit(inputs.frame(panel, train, plan=False), train[panel.target])
        forecast = model.predict(inputs.frame(panel, plan, plan=True))
        if isinstance(forecast, pd.Series):  # on the plan's index
            forecast = forecast.reindex(plan.index)
        wide = (
            plan[[panel.shop, panel.time]]
            .assign(forecast=np.asarray(forecast, dtype=np.float64))
            .pivot(index=panel.shop, columns=panel.time, values="forecast")
        )
        values.append(standardized_mse(y, wide.to_numpy(), origin))
        fit_seconds.append(timer.seconds)
        given.append(dataclasses.asdict(inputs))
        epochs.append(epochs_run(model, method, method.configuration(quick)))
    best, best_mean = best_reference(scores())
    return {
        "kind": "method",
        "params": json.loads(json.dumps(method.configuration(quick), default=str)),
        **_scores_row(values, best, best_mean),
        "fit_seconds": float(np.sum(fit_seconds)),
        "fit_seconds_by_origin": fit_seconds,
        "epochs_by_origin": epochs,
        "given_by_origin": given,
    }


def jobs(panels, methods, seeds, quick: bool):
    """Reference rows first, then each method, panel by panel."""
    for name in panels:
        for seed in seeds:
            load = cache(partial(load_panel, name, quick, seed))
            scores = cache(lambda load=load: reference_scores(load()))
            for reference in REFERENCES:
                identity = {"panel": name, "method": reference, "seed": seed}
                yield identity, partial(evaluate_reference, reference, scores)
            for method in methods:
                identity = {"panel": name, "method": method.name, "seed": seed}
                yield identity, partial(evaluate, method, seed, quick, load, scores)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--panels",
        default=",".join(DEFAULT_PANELS),
        help=f"comma-separated among {', '.join(PANEL_NAMES)}",
    )
    args, results_dir = parse_script_args(parser, argv)
    panels = comma_separated(parser, args.panels, PANEL_NAMES, "panel(s)")
    methods = select(METHODS, args.methods)
    n_seeds = args.seeds if args.seeds is not None else 1
    path = results_dir / RESULTS_FILE
    # panels described by earlier runs into the same file stay described
    descriptions = (
        json.loads(path.read_text())["meta"].get("panels", {})
        if path.exists() and path.stat().st_size
        else {}
    )
    descriptions.update(
        {name: load_panel(name, args.quick, 0).describe() for name in panels}
    )
    results = ResultsFile(
        path,
        args.quick,
        meta={
            "horizon": HORIZON,
            "n_origins": N_ORIGINS,
            "season_length": SEASON_LENGTH,
            "ridge_lags": list(RIDGE_LAGS),
            "references": list(REFERENCES),
            "methods": [m.name for m in METHODS],
            "goals": GOALS,
            "panels": descriptions,
        },
    )
    run_script(
        SCRIPT,
        args,
        argv,
        results,
        jobs(panels, methods, range(n_seeds), args.quick),
        "real_panels",
    )
    report.update_docs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tests of the back-test behind the command line's ``demo`` and ``fit``."""

# SPDX-License-Identifier: BSD-3-Clause

import re

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.reporting.holdout import (
    BAND_LEVEL,
    check_columns,
    edge_table,
    empirical_band,
    figure_aliases,
    fit_holdout,
    format_summary,
    refit,
    top_edges,
    write_holdout_report,
)

CONTEXT = ["context_0", "context_1"]
HORIZON = 5
TRAIN_DAYS = 25


def _tiny():
    return CausalMMMRegressor(hidden=4, max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def frame():
    frame = make_causal_mmm(n_shops=4, n_steps=40, as_frame=True, random_state=0).frame
    # Times as a CSV gives them, and an extra text column that is no node.
    return frame.assign(
        date=frame["date"].dt.strftime("%Y-%m-%d"), region=frame["shop_id"].str[-1]
    )


@pytest.fixture(scope="module")
def result(frame):
    original = frame.copy()
    result = fit_holdout(
        frame,
        context_columns=CONTEXT,
        horizon=HORIZON,
        train_days=TRAIN_DAYS,
        estimator=_tiny(),
    )
    pd.testing.assert_frame_equal(frame, original)  # the caller's data is untouched
    return result


def test_split_roles_and_scores(result, frame):
    dates = pd.to_datetime(frame["date"]).drop_duplicates().sort_values()
    assert list(result.truth.index) == list(dates.iloc[-HORIZON:])
    assert list(result.history.index) == list(
        dates.iloc[-HORIZON - TRAIN_DAYS : -HORIZON]
    )
    assert result.model.panel_.n_steps == TRAIN_DAYS
    # default channels: the numeric columns; the text column "region" is left out
    assert result.channel_columns == ["brand", "display", "video", "feed", "search"] + [
        "pv",
        "clicks",
    ]
    assert result.node_names == [*result.channel_columns, "gmv"]
    assert result.columns == ["shop_id", "date", *CONTEXT, *result.channel_columns]
    assert result.model.horizon == HORIZON
    assert result.model.context_columns == CONTEXT
    assert result.unscored_shops == []

    # The forecast is the model's prediction from the held-out plan, and the
    # MSE at the horizon is the mean over shops of the last day's squared error.
    plan = result.plan
    assert len(plan) == 4 * HORIZON
    assert list(plan.columns) == result.columns
    prediction = result.model.predict(plan)
    last = plan["date"] == plan["date"].max()
    observed = frame.loc[plan.index, "gmv"]
    assert result.mse_model == pytest.approx(
        np.mean((observed[last] - prediction[last]) ** 2), rel=1e-9
    )
    day_before = frame["date"] == result.history.index[-1].strftime("%Y-%m-%d")
    naive = frame[day_before].set_index("shop_id")["gmv"]
    errors = observed[last].to_numpy() - naive.loc[plan.loc[last, "shop_id"]].to_numpy()
    # rel=1e-6: the fitted panel keeps GMV in float32
    assert result.mse_naive == pytest.approx(np.mean(errors**2), rel=1e-6)
    assert result.mse_ratio == pytest.approx(result.mse_model / result.mse_naive)
    wide = result.forecast.stack().sort_index()
    keyed = pd.Series(
        prediction.to_numpy(),
        index=pd.MultiIndex.from_arrays([plan["date"], plan["shop_id"]]),
    ).sort_index()
    np.testing.assert_allclose(wide.to_numpy(), keyed.to_numpy())


def test_band_is_the_models_calibrated_interval(result):
    # the regressor has predict_interval: the report shows its band
    lower, upper = result.model.predict_interval(result.plan, coverage=BAND_LEVEL)
    plan = result.plan.assign(lower=np.asarray(lower), upper=np.asarray(upper))
    for bound, shown in (
        ("lower", result.forecast_lower),
        ("upper", result.forecast_upper),
    ):
        wide = plan.pivot(index="date", columns="shop_id", values=bound)
        np.testing.assert_allclose(shown.to_numpy(), wide.to_numpy())
    assert (result.forecast_lower <= result.forecast_upper).to_numpy().all()
    inside = (result.truth >= result.forecast_lower) & (
        result.truth <= result.forecast_upper
    )
    assert result.band_coverage == inside.to_numpy().mean()


def test_empirical_band_quantiles_by_step():
    # step 1: ratios 0.5, 1, 1.5; step 2: ratios 1, 2, 3 (nanquantile, linear)
    truth = np.array([[5.0, 10.0], [10.0, 20.0], [15.0, 30.0]])
    backtest = np.full((3, 2), 10.0)
    lower, upper = empirical_band(truth, backtest, np.full((1, 3), 2.0), level=0.5)
    np.testing.assert_allclose(lower, [[1.5, 3.0, 3.0]])  # step 3 reuses step 2
    np.testing.assert_allclose(upper, [[2.5, 5.0, 5.0]])
    with pytest.raises(ValueError, match="level"):
        empirical_band(truth, backtest, lower, level=1.0)
    with pytest.raises(ValueError, match="one shape"):
        empirical_band(truth, backtest[:, :1], lower)
    with pytest.raises(ValueError, match="positive forecast"):
        empirical_band(truth, np.zeros((3, 2)), lower)


def test_refit_ends_on_the_last_day_with_the_same_window(result, frame):
    model = refit(result, frame)
    assert model is not result.model
    assert model.get_params() == result.model.get_params()
    assert model.panel_.n_steps == TRAIN_DAYS
    assert str(model.panel_.time_index[-1].date()) == frame["date"].max()
    # it continues the data: a plan may start the day after the last one
    plan = result.plan.assign(date=result.plan["date"] + pd.Timedelta(days=HORIZON))
    assert np.isfinite(model.predict(plan)).all()


def test_shops_without_fitted_days_are_not_forecast(frame):
    dates = sorted(frame["date"].unique())
    late = frame[frame["shop_id"] == "shop_003"].assign(shop_id="late")
    late = late[late["date"] >= dates[-3]]  # opens on the third held-out day
    result = fit_holdout(
        pd.concat([frame, late], ignore_index=True),
        context_columns=CONTEXT,
        channel_columns=["search", "display", "pv"],
        horizon=HORIZON,
        estimator=_tiny(),
    )
    assert result.unscored_shops == ["late"]
    assert "late" not in result.truth.columns
    assert result.node_names == ["search", "display", "pv", "gmv"]
    assert result.model.panel_.n_steps == 40 - HORIZON  # train_days=None: all


def test_shops_too_short_to_fit_are_named_first_in_the_summary(frame):
    dates = sorted(frame["date"].unique())
    short = frame[frame["shop_id"] == "shop_003"].assign(shop_id="new_shop")
    # two days before the held-out ones: fewer than the horizon plus 3
    short = short[short["date"] >= dates[-HORIZON - 2]]
    result = fit_holdout(
        pd.concat([frame, short], ignore_index=True),
        context_columns=CONTEXT,
        channel_columns=["search", "display", "pv"],
        horizon=HORIZON,
        estimator=_tiny(),
    )
    assert result.short_shops == ["new_shop"] and result.min_steps == HORIZON + 3
    assert "new_shop" not in result.truth.columns
    assert "new_shop" not in list(result.model.panel_.shop_ids)
    first = format_summary(result, "the data").splitlines()[0]
    assert first.startswith("Warning: 1 shop(s) have fewer than")
    assert "new_shop" in first


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target": "sales"}, ValueError, r"no column 'sales' \(target\)"),
        (
            {"channel_columns": ["tv", "search"]},
            ValueError,
            r"no column 'tv' \(channel\)",
        ),
        (
            {"context_columns": ["context_9"]},
            ValueError,
            r"no column 'context_9' \(context\)",
        ),
        ({"channel_columns": ["gmv"]}, ValueError, r"\['gmv'\] are given more"),
        ({"horizon": 38}, ValueError, r"horizon must lie in \[1, 37\]"),
        ({"train_days": 2}, ValueError, "train_days must be at least 3"),
        ({"channel_columns": ["region"]}, TypeError, "column 'region' must be numeric"),
    ],
)
def test_bad_roles_fail_before_fitting(frame, kwargs, error, message):
    kwargs = {"context_columns": CONTEXT, **kwargs}
    estimator = _tiny()
    with pytest.raises(error, match=message):
        fit_holdout(frame, estimator=estimator, **kwargs)
    assert not hasattr(estimator, "model_")


def test_data_problems_are_reported_by_to_panel(frame):
    gap = frame.drop(index=frame.index[(frame["shop_id"] == "shop_002")][10])
    with pytest.raises(ValueError, match="shop 'shop_002' misses 1 step"):
        fit_holdout(gap, context_columns=CONTEXT, estimator=_tiny())
    # a problem in the held-out days is caught before the fit
    late_nan = frame.copy()
    late_nan.loc[late_nan.index[-1], "search"] = np.nan
    with pytest.raises(ValueError, match="search"):
        fit_holdout(late_nan, context_columns=CONTEXT, estimator=_tiny())
    dates = frame.assign(date=frame["date"].where(frame.index != 7, "not-a-date"))
    with pytest.raises(TypeError, match="time column 'date'.*not-a-date"):
        fit_holdout(dates, context_columns=CONTEXT, estimator=_tiny())


def test_top_edges_by_hand():
    p = np.array([[0.9, 0.5, 0.7], [0.5, 0.0, 0.1], [0.2, 0.3, 0.0]])
    names = ["a", "b", "c"]
    # the diagonal never counts; ties keep the node order
    assert top_edges(p, names) == [
        ("a", "c", 0.7),
        ("a", "b", 0.5),
        ("b", "a", 0.5),
        ("c", "b", 0.3),
        ("c", "a", 0.2),
        ("b", "c", 0.1),
    ]
    assert top_edges(p, names, k=2) == [("a", "c", 0.7), ("a", "b", 0.5)]
    assert top_edges(p, names, threshold=0.5) == [("a", "c", 0.7)]
    assert top_edges(p, names, k=1, threshold=0.9) == []
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        top_edges(p, names[:2])


def test_edge_table_lists_edges_with_their_intervals_by_hand():
    from types import SimpleNamespace

    p = np.array(
        [
            [[0.0, 0.9, 0.1], [0.2, 0.0, 0.5], [0.0, 0.0, 0.0]],
            [[0.0, 0.7, 0.3], [0.4, 0.0, 0.1], [0.0, 0.0, 0.0]],
        ]
    )
    lower, upper = p - 0.1 * (p > 0), p + 0.05 * (p > 0)
    model = SimpleNamespace(
        edge_probabilities_=p,
        edge_intervals_=np.stack([lower, upper]),
        node_names_=["tv", "pv", "gmv"],
        shop_ids_=["a", "b"],
    )
    table = edge_table(model, k=2)
    # the mean graph: tv -> pv 0.8, pv -> tv 0.3, pv -> gmv 0.3 (node order)
    assert table[["cause", "effect"]].values.tolist() == [["tv", "pv"], ["pv", "tv"]]
    np.testing.assert_allclose(table.probability, [0.8, 0.3])
    np.testing.assert_allclose(table.lower, [0.7, 0.2])
    np.testing.assert_allclose(table.upper, [0.85, 0.35])
    shop = edge_table(model, shop="b")
    assert shop.iloc[0][["cause", "effect"]].tolist() == ["tv", "pv"]
    np.testing.assert_allclose(
        shop.iloc[:2][["lower", "upper"]], [[0.6, 0.75], [0.3, 0.45]]
    )
    # without intervals (the regressor): the probabilities only
    del model.edge_intervals_
    assert list(edge_table(model).columns) == ["cause", "effect", "probability"]
    with pytest.raises(ValueError, match="shop 'c' was not fitted"):
        edge_table(model, shop="c")


def test_check_columns_names_every_missing_column():
    frame = pd.DataFrame(columns=["shop", "tv"])
    with pytest.raises(ValueError) as info:
        check_columns(frame, {"target": ["gmv"], "channel": ["tv", "radio"]})
    assert str(info.value).startswith("no column 'gmv' (target), 'radio' (channel);")
    check_columns(frame, {"channel": ["tv"]})  # nothing missing: no error


def test_summary_names_the_data_the_window_and_every_score(result, frame):
    text = format_summary(result, "data.csv")
    lines = text.splitlines()
    assert lines[0] == (
        "CausalMMM fit on data.csv: 4 shops, nodes brand, display, video, feed, "
        "search, pv, clicks -> gmv (context: context_0, context_1)"
    )
    dates = sorted(frame["date"].unique())  # ISO strings, as the CSV had them
    assert lines[1] == (
        f"Back-test: fitted on {TRAIN_DAYS} days from "
        f"{dates[-HORIZON - TRAIN_DAYS]}, forecast the last {HORIZON} days "
        f"({dates[-HORIZON]} to {dates[-1]}) from their channel plan."
    )
    edges = top_edges(
        result.model.edge_probabilities_.mean(axis=0), result.node_names, k=8
    )
    listed = ", ".join(f"{i} -> {j} ({p:.2f})" for i, j, p in edges)
    assert f"Strongest learned edges (mean P over shops):\n  {listed}\n" in text
    rows = result.summary_rows()
    assert [name for name, _ in rows][:3] == [
        f"gmv MSE over {HORIZON} days ahead, CausalMMM",
        f"gmv MSE over {HORIZON} days ahead, last value",
        "MSE ratio CausalMMM / last value",
    ]
    width = max(len(name) for name, _ in rows)
    # the scores, aligned; without decisions the trust checks follow
    scores = lines.index(f"{rows[0][0]:<{width}}  {rows[0][1]}")
    assert lines[scores : scores + len(rows)] == [f"{n:<{width}}  {v}" for n, v in rows]
    checks = result.trust_checks()
    assert lines[scores + len(rows) + 1] == "Trust checks:"
    assert len(lines) == scores + len(rows) + 2 + len(checks)


def test_report_shows_learned_graphs_scores_and_figures(result, tmp_path):
    page = write_holdout_report(result, tmp_path / "out", data_name="data.csv")
    html = page.read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources == [
        "response_curves.png",
        "forecasts.png",
        "graphs.png",
        "training_curve.png",
    ]
    for source in sources:
        assert (tmp_path / "out" / source).read_bytes()[:4] == b"\x89PNG"
    assert f"{result.mse_ratio:.3f}" in html
    assert "<title>CausalMMM report</title>" in html
    assert "CausalMMM fitted on data.csv (25 days, 4 shops)" in html
    # analyst first: the recommendation opens the report, the scores close it
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings == [
        "Recommendation",
        "Response curves",
        "Forecast",
        "Causal graph",
        "Trust checks",
        "Model metrics",
    ]
    assert "No budget analysis was run." in html
    assert html.index("<h3>Strongest learned edges</h3>") < html.index(
        "<h3>Columns</h3>"
    )
    assert "Top channels" not in html
    # the strongest edge of the mean graph heads the edge table
    cause, effect, p = top_edges(
        result.model.edge_probabilities_.mean(axis=0), result.node_names, k=1
    )[0]
    first = re.search(r"<td>(\S+ -&gt; \S+)</td>\s*<td>([0-9.]+)</td>", html)
    assert first.groups() == (f"{cause} -&gt; {effect}", f"{p:.2f}")
    # beside each edge, its interval (the mean over shops of the model's
    # edge_intervals_), which holds the estimate
    table = result._graph_tables()["Strongest learned edges"]
    assert list(table.columns) == ["edge", "mean P over shops", "80% interval"]
    bounds = table["80% interval"].str.split(" to ", expand=True).astype(float)
    estimate = table["mean P over shops"].astype(float)
    assert (bounds[0] <= estimate).all() and (estimate <= bounds[1]).all()
    assert (bounds[1] - bounds[0]).max() > 0


def test_graph_check_of_the_held_out_forecast(result, frame):
    from sklearn_causalmmm.analysis.graph_check import graph_reliance

    reliance = result.graph_reliance
    held = frame.loc[result.plan.index, "gmv"].to_numpy()
    pd.testing.assert_frame_equal(
        reliance, graph_reliance(result.model, result.plan, held)
    )
    assert reliance.loc["learned", "mse"] == pytest.approx(
        np.mean((result.forecast.to_numpy() - result.truth.to_numpy()) ** 2)
    )
    rows = dict(result.summary_rows())
    ratio = reliance.loc["no edges", "mse_ratio"]
    assert rows["held-out MSE, no edges / own graphs"] == f"{ratio:.2f}"


def test_figure_aliases_shorten_long_or_many_names_uniquely():
    assert figure_aliases(["tv", "gmv"]) == {"tv": "tv", "gmv": "gmv"}
    long = [f"{'x' * 40}_channel_{k:02d}_impressions_weekly_total" for k in range(20)]
    aliases = figure_aliases(long)
    assert list(aliases) == long
    assert len(set(aliases.values())) == 20
    # the shared prefix and suffix are dropped
    assert aliases[long[0]] == "00" and aliases[long[19]] == "19"
    assert max(len(a) for a in aliases.values()) <= 14
    many = [f"c{k}" for k in range(13)]
    assert figure_aliases(many)["c12"] == "12"  # the shared "c" dropped
    # a running number keeps apart names whose kept parts coincide
    start, end = "impressions_", "_weekly_total"
    twins = [start + "a" * 12 + "1" + end, start + "a" * 12 + "2" + end]
    aliases = figure_aliases([*twins, start + "b" + end])
    assert list(aliases.values()) == ["1." + "a" * 10, "2." + "a" * 10, "3.b"]


def test_report_lists_trust_checks_and_the_names_in_the_figures(frame, tmp_path):
    long = {c: f"{c}_impressions_of_the_campaign" for c in ["brand", "display"]}
    data = frame.rename(columns=long)
    result = fit_holdout(
        data,
        context_columns=CONTEXT,
        horizon=HORIZON,
        train_days=TRAIN_DAYS,
        estimator=CausalMMMRegressor(hidden=4, max_epochs=1, random_state=0),
    )
    html = write_holdout_report(result, tmp_path / "r").read_text(encoding="utf-8")
    names = html[html.index("<h2>Names in the figures</h2>") :]
    aliases = figure_aliases(result.node_names)
    assert aliases[long["brand"]] in names and long["brand"] in names
    checks = html[
        html.index("<h2>Trust checks</h2>") : html.index(
            "<h2>Names in the figures</h2>"
        )
    ]
    for check in result.trust_checks():
        assert f"<td>{check.check}</td>" in checks


def test_response_curves_scale_the_media_not_the_controls(result):
    import copy
    from types import SimpleNamespace

    # pv a funnel node, clicks a control: neither is spend to scale
    other = copy.copy(result)
    other.model = SimpleNamespace(node_roles_=["media"] * 5 + ["funnel", "control"])
    assert other._response_channels() == ["brand", "display", "video", "feed", "search"]
    # a model without roles scales every column
    other.model = SimpleNamespace()
    assert other._response_channels() == result.channel_columns

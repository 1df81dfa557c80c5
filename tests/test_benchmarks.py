"""The benchmark scripts: one quick run of everything, and their shared helpers."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _common  # noqa: E402
import ablations  # noqa: E402
import cost  # noqa: E402
import discovery  # noqa: E402
import real_panels  # noqa: E402
import report  # noqa: E402
import run_all  # noqa: E402
from _package import SHOP_EVIDENCE_WEIGHT  # noqa: E402

OTHERS_SECTION = "## Structure\n\nWritten by another script; kept as it is.\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``run_all.py --quick`` into a temporary folder (about a minute of CPU)."""
    root = tmp_path_factory.mktemp("benchmarks")
    docs = root / "docs" / "benchmarks.md"
    docs.parent.mkdir()
    docs.write_text("# Benchmarks\n\n" + OTHERS_SECTION)
    results = root / "results"
    run_all.main(["--quick", "--results", str(results), "--docs", str(docs)])
    return results, docs


def _rows(results: Path, name: str) -> list[dict]:
    content = json.loads((results / name).read_text())
    assert content["quick"] is True
    assert content["runs"], f"{name} records no command"
    return content["rows"]


def _check_finished_or_skipped(row: dict) -> bool:
    """True for a finished row; a skipped one must be an optional method."""
    assert "error" not in row, row["error"]
    if "skipped" in row:
        assert row["skipped"].startswith("not installed"), row
        assert row["method"] in ("PCMCI", "VARLiNGAM")
        return False
    return True


def test_quick_discovery_scores_every_discoverer_on_every_panel(quick_run):
    results, _ = quick_run
    rows = _rows(results, "discovery.json")
    names = {method.name for method in _common.DISCOVERERS}
    assert {row["method"] for row in rows} == names
    plan = json.loads((results / "discovery.json").read_text())["meta"]["experiments"]
    for name, experiment in plan.items():
        for config in experiment["configs"]:
            here = {r["method"] for r in rows if r["config"] == config}
            expected = {
                m.name for m in _common.DISCOVERERS if m.sweep or name == "main"
            }
            assert expected <= here, (name, config, expected - here)
    for row in rows:
        if _check_finished_or_skipped(row):
            for metric in ("edge_auroc", "pooled_edge_auroc", "edge_auprc"):
                assert 0.0 <= row[metric] <= 1.0
            assert 0.0 < row["edge_density"] < 1.0
            assert row["fit_seconds"] > 0


def test_quick_discovery_rows_score_every_pooling_weight_of_one_fit(quick_run):
    results, _ = quick_run
    rows = [
        r
        for r in _rows(results, "discovery.json")
        if r["method"] == "CausalMMM" and "error" not in r
    ]
    assert rows
    for row in rows:
        assert row["machine"] == _common.machine()
        pooling = row["pooling"]
        assert set(pooling) == {
            "encoder",
            _common.NO_TYPE_TEST,
            *map(str, _common.POOLING_WEIGHTS),
        }
        # the row's own graphs are the pooled ones at the default weight,
        # unless the discoverer reported its Granger estimate instead
        default = pooling[str(SHOP_EVIDENCE_WEIGHT)]
        assert row["graph_source"] in (
            "encoder",
            "encoder+partial_granger",
            "partial_granger",
        )
        if row["graph_source"] == "encoder":
            for metric in ("edge_auroc", "edge_auprc", "pooled_edge_auroc"):
                assert default[metric] == row[metric]
    # NRI pools nothing, so it has no pooling scores
    nri = [r for r in _rows(results, "discovery.json") if r["method"] == "NRI"]
    assert nri and all("pooling" not in r for r in nri)


def test_quick_forecasting_matches_a_hand_computed_naive_forecast(quick_run):
    results, _ = quick_run
    rows = _rows(results, "forecasting.json")
    names = {method.name for method in _common.FORECASTERS}
    for dataset in ("sim1", "demo"):
        here = [r for r in rows if r["dataset"] == dataset]
        assert {r["method"] for r in here} == names
        for row in here:
            assert _check_finished_or_skipped(row)
            assert len(row["mse"]) == _common.FORECAST_STEPS
            assert row["mse_7"] == row["mse"][6]
            assert np.all(np.isfinite(row["mse"])) and min(row["mse"]) >= 0
    # The last-value forecast repeats each shop's last fitted GMV.
    data = _common.simulate(_common.data_config("sim1", n_shops=6), 0)
    _, y_fit, _, y_true, scale = _common.forecast_split(data.X, data.y)
    expected = (((y_true - y_fit[:, -1:]) / scale[:, None]) ** 2).mean(axis=0)
    naive = next(
        r
        for r in rows
        if r["dataset"] == "sim1" and r["method"] == "Naive (last value)"
    )
    # the scripts score in float32, the check in float64
    np.testing.assert_allclose(naive["mse"], expected, rtol=1e-5)


def test_quick_ablations_cover_every_variant_and_task(quick_run):
    results, _ = quick_run
    rows = _rows(results, "ablations.json")
    done = {(r["variant"], r["task"]) for r in rows if "error" not in r}
    assert done == {
        (v[0], t)
        for v in ablations.VARIANTS
        for t in ablations.TASKS
        if not (t == "forecast" and v[0] in ablations.STRUCTURE_ONLY)
        and not (t == "structure" and v[0] in ablations.FORECAST_ONLY)
    }
    full = next(
        r for r in rows if r["variant"] == "CM-full" and r["task"] == "structure"
    )
    # A fixed complete graph scores every edge alike: chance level exactly.
    assert full["edge_auroc"] == pytest.approx(0.5)
    assert full["heterogeneity_auroc"] == pytest.approx(0.5)
    assert full["edge_auprc"] == pytest.approx(full["edge_density"])


def test_quick_cost_measures_every_method_and_the_growth(quick_run):
    results, _ = quick_run
    rows = _rows(results, "cost.json")
    for kind, methods in (
        ("discoverer", _common.DISCOVERERS),
        ("forecaster", _common.FORECASTERS),
    ):
        here = [r for r in rows if r["part"] == "methods" and r["kind"] == kind]
        assert {r["method"] for r in here} == {m.name for m in methods}
        for row in here:
            if _check_finished_or_skipped(row):
                assert row["seconds_per_shop"] == pytest.approx(
                    row["fit_seconds"] / row["n_shops"]
                )
                assert row["predict_shops_per_second"] > 0
    growth = sorted(r["n_shops"] for r in rows if r["part"] == "growth")
    assert growth == [_common.QUICK_SHOPS * f for f in (1, 2, 4, 10)]


def test_quick_docs_have_every_table_and_plot(quick_run):
    _, docs = quick_run
    text = docs.read_text()
    assert OTHERS_SECTION.strip() in text  # sections of other scripts survive
    for heading in (
        "## Reproducing the benchmarks",
        "## Causal structure",
        "### Sim-1-like",
        "### Sim-2-like",
        "### Against the paper's table",
        "### Pooling over graph types",
        "### Graph types R",
        "### Nodes d",
        "### Series length T",
        "### Shops N",
        "## GMV forecasting",
        "### `sim1`",
        "### `demo`",
        "## Ablations",
        "## Cost",
        "### Every method",
        "### CausalMMM's growth",
    ):
        assert heading in text, heading
    for method in _common.DISCOVERERS + _common.FORECASTERS:
        assert f"| {method.name} " in text, method.name
    for image in (
        "auroc_vs_shops.png",
        "fit_time_vs_shops.png",
        "mse_vs_horizon.png",
        "time_vs_shops.png",
    ):
        assert f"(img/benchmarks/{image})" in text
        png = docs.parent / "img" / "benchmarks" / image
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_regenerates_the_same_docs_from_json(quick_run, tmp_path):
    results, docs = quick_run
    copy = tmp_path / "benchmarks.md"
    copy.write_text(docs.read_text())
    report.main(["--results", str(results), "--docs", str(copy)])
    assert copy.read_text() == docs.read_text()


def test_structure_metrics_of_perfect_and_reversed_scores():
    truth = np.zeros((3, 4, 4), dtype=int)
    truth[:, 0, 1] = 1
    truth[:2, 1, 2] = 1
    truth[2, 2, 3] = 1
    perfect = _common.structure_metrics(truth, truth.astype(float))
    assert perfect["edge_auroc"] == perfect["pooled_edge_auroc"] == 1.0
    assert perfect["heterogeneity_auroc"] == 1.0
    assert perfect["edge_density"] == pytest.approx((2 / 12 + 2 / 12 + 2 / 12) / 3)
    reversed_ = _common.structure_metrics(truth, -truth.astype(float))
    assert reversed_["edge_auroc"] == 0.0
    # one graph for every shop: no heterogeneity to score
    same = np.broadcast_to(truth[0], truth.shape)
    assert _common.structure_metrics(same, same * 1.0)["heterogeneity_auroc"] is None


def test_mean_std_and_formatting():
    assert _common.mean_std([0.9, 0.95, 1.0]) == pytest.approx((0.95, 0.05, 3))
    assert _common.mean_std([None, 0.5]) == (0.5, 0.0, 1)
    assert report.fmt(*_common.mean_std([0.9, 0.95, 1.0])) == "0.950 ± 0.050"
    assert report.fmt(*_common.mean_std([])) == "—"


def test_goal_names_who_wins_each_column_with_digits_that_differ():
    def scores(auroc, heterogeneity):
        return {
            "edge_auroc": (auroc, 0.0, 3),
            "pooled_edge_auroc": (0.5, 0.0, 3),
            "edge_auprc": (0.5, 0.0, 3),
            "heterogeneity_auroc": (heterogeneity, 0.0, 3),
        }

    stats = {("CausalMMM",): scores(0.95, 0.9998), ("InGRA",): scores(0.90, 0.99996)}
    verdict = report._goal_best(stats, ["CausalMMM", "InGRA"])
    assert verdict == "no (heterogeneity AUROC: InGRA 1.0000 > 0.9998)"
    stats[("InGRA",)] = scores(0.96, 0.5)
    verdict = report._goal_best(stats, ["CausalMMM", "InGRA"])
    assert verdict == "no (edge AUROC: InGRA 0.960 > 0.950)"
    stats[("InGRA",)] = scores(0.90, 0.5)
    assert report._goal_best(stats, ["CausalMMM", "InGRA"]) == "yes"
    # a configuration of CausalMMM itself is no rival
    stats[("CausalMMM (PAPER_CONFIG)",)] = scores(0.99, 1.0)
    methods = ["CausalMMM", "CausalMMM (PAPER_CONFIG)", "InGRA"]
    assert report._goal_best(stats, methods) == "yes"


def test_results_file_replaces_rows_resumes_and_keeps_errors(tmp_path):
    path = tmp_path / "rows.json"
    results = _common.ResultsFile(path, quick=False)
    calls = []

    def job(value):
        calls.append(value)
        if value == "bad":
            raise RuntimeError("boom")
        return {"value": value}

    jobs = [({"name": n}, lambda n=n: job(n)) for n in ("a", "bad", "c")]
    added = _common.run_rows(
        results, jobs, resume=False, time_budget=None, label="test"
    )
    assert added == 3 and calls == ["a", "bad", "c"]
    rows = json.loads(path.read_text())["rows"]
    assert [r["name"] for r in rows] == ["a", "bad", "c"]
    assert rows[1]["error"] == "RuntimeError: boom" and rows[2]["value"] == "c"
    # resume skips finished rows only; the failed one runs again
    _common.run_rows(results, jobs, resume=True, time_budget=None, label="test")
    assert calls[3:] == ["bad"]
    assert len(json.loads(path.read_text())["rows"]) == 3
    # quick rows never mix with full ones
    with pytest.raises(SystemExit, match="full"):
        _common.ResultsFile(path, quick=True)


def test_a_job_that_swallows_the_kill_leaves_no_row(tmp_path):
    # skorch ends a fit quietly on Ctrl-C; its cut-short model must not be a row
    import os
    import signal

    path = tmp_path / "rows.json"
    results = _common.ResultsFile(path, quick=False)

    def killed_fit():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except KeyboardInterrupt:
            pass
        return {"epochs": 1}

    jobs = [
        ({"name": "a"}, lambda: {"epochs": 15}),
        ({"name": "b"}, killed_fit),
        ({"name": "c"}, lambda: {"epochs": 15}),
    ]
    added = _common.run_rows(results, jobs, resume=False, time_budget=None, label="t")
    assert added == 1
    assert [r["name"] for r in json.loads(path.read_text())["rows"]] == ["a"]
    assert signal.getsignal(signal.SIGTERM) is not _common._interrupt


def test_var_methods_get_a_lag_their_series_can_fit():
    methods = {m.name: m for m in _common.DISCOVERERS}
    # Linear Granger: (20 + 1) * 5 + 2 = 107 > 100 steps, (20 + 1) * 4 + 2 = 86
    lag = discovery._fitting_lag(methods["Linear Granger"], 20, 100)
    assert lag == {"max_lag": 4}
    # VARLiNGAM: (20 + 1) * (4 + 1) = 105 > 100, (20 + 1) * (3 + 1) = 84
    assert discovery._fitting_lag(methods["VARLiNGAM"], 20, 100) == {"max_lag": 3}
    for name in ("Linear Granger", "VARLiNGAM"):
        assert discovery._fitting_lag(methods[name], 8, 100) == {}
    assert discovery._fitting_lag(methods["InGRA"], 20, 100) == {}


def test_cost_methods_of_one_kind_only_select_that_kind():
    chosen = [(s["kind"], s["method"]) for s in cost.specs(False, "PCMCI", ["methods"])]
    assert chosen == [("discoverer", "PCMCI")]
    both = {s["kind"] for s in cost.specs(False, "CausalMMM", ["methods"])}
    assert both == {"discoverer", "forecaster"}
    with pytest.raises(SystemExit, match="unknown method"):
        list(cost.specs(False, "PCMCI,Nope", ["methods"]))


# -- real panels ---------------------------------------------------------------------

QUICK_PYMC = ("SeasonalNaiveRegressor", "AdstockHillRegressor", "CausalMMMRegressor")


@pytest.fixture(scope="module")
def quick_pymc(tmp_path_factory):
    """``real_panels.py --quick`` on the PyMC-Marketing panel, three methods."""
    root = tmp_path_factory.mktemp("real_panels")
    docs = root / "benchmarks.md"
    argv = ["--quick", "--panels", "pymc", "--methods", ",".join(QUICK_PYMC)]
    real_panels.main([*argv, "--results", str(root), "--docs", str(docs)])
    return _rows(root, "real_panels.json"), docs.read_text()


def test_quick_real_panels_score_the_naive_forecast_by_hand(quick_pymc):
    rows, _ = quick_pymc
    assert {r["method"] for r in rows} == {*real_panels.REFERENCES, *QUICK_PYMC}
    for row in rows:
        assert "error" not in row, row["error"]
        assert row["panel"] == "pymc" and len(row["mse_by_origin"]) == 4
        assert row["mse"] == pytest.approx(np.mean(row["mse_by_origin"]))
    # the last value of each training window, scored by hand on the CSV
    y = pd.read_csv(real_panels.DATA / "pymc_marketing" / "mmm_example.csv")["y"]
    y = y.to_numpy()
    expected = []
    for origin in (171, 163, 155, 147):  # T-8, T-16, T-24, T-32 of 179 weeks
        scale = y[:origin].std()
        expected.append(
            np.mean(((y[origin : origin + 8] - y[origin - 1]) / scale) ** 2)
        )
    naive = next(r for r in rows if r["method"] == real_panels.NAIVE)
    np.testing.assert_allclose(naive["mse_by_origin"], expected, rtol=1e-12)


def test_quick_real_panels_ratios_and_the_package_seasonal_naive(quick_pymc):
    rows, docs = quick_pymc
    by_method = {r["method"]: r for r in rows}
    best = min(by_method[name]["mse"] for name in real_panels.REFERENCES)
    for row in rows:
        assert row["ratio_to_best_reference"] == pytest.approx(row["mse"] / best)
    # the package's seasonal naive is the script's reference (float32 inside)
    np.testing.assert_allclose(
        by_method["SeasonalNaiveRegressor"]["mse_by_origin"],
        by_method[real_panels.SEASONAL_NAIVE]["mse_by_origin"],
        rtol=1e-5,
    )
    # no funnel and nothing signed on this panel: every column goes as it is
    for given in by_method["AdstockHillRegressor"]["given_by_origin"]:
        assert given["fit_columns"] == ["x1", "x2", "event_1", "event_2", "t"]
        assert given["plan_columns"] == given["fit_columns"]
        assert given["shifted"] == {} and given["constant"] == []
    assert "## Real panels" in docs
    assert "### PyMC-Marketing example (1 × 179 weeks)" in docs
    ratio = by_method["CausalMMMRegressor"]["ratio_to_best_reference"]
    assert f"| PyMC-Marketing example | {ratio:.2f} |" in docs


class _RoleAwareRegressor(BaseEstimator):
    """Takes column roles by name, as the package's regressor is about to."""

    def __init__(
        self,
        media_columns=None,
        funnel_columns=None,
        control_columns=None,
        shop_column="shop_id",
        time_column="date",
    ):
        self.media_columns = media_columns
        self.funnel_columns = funnel_columns
        self.control_columns = control_columns
        self.shop_column = shop_column
        self.time_column = time_column


def _tiny_panel():
    weeks = pd.date_range("2024-01-01", periods=6, freq="W-MON")
    frame = pd.DataFrame(
        {
            "region": np.repeat(["north", "south"], 6),
            "week": np.tile(weeks, 2),
            "tv": np.arange(12.0),
            "clicks": np.arange(12.0) * 2,
            "price": np.tile([-1.5, 0.5, 1.0, -0.5, 2.0, 0.0], 2),
            "holiday": np.tile([0.0, 0.0, 0.0, 0.0, 1.0, 0.0], 2),
            "sales": np.arange(12.0) + 5,
        }
    )
    panel = real_panels.MarketingPanel(
        name="tiny",
        frame=frame,
        shop="region",
        time="week",
        target="sales",
        media=("tv",),
        funnel=("clicks",),
        controls=("price", "holiday"),
    )
    return panel, frame[frame["week"] < weeks[4]]  # the holiday is in the plan


def test_assign_roles_names_every_role_to_an_estimator_that_takes_them():
    panel, train = _tiny_panel()
    inputs = real_panels.assign_roles(_RoleAwareRegressor(), panel, train)
    assert inputs.params == {
        "shop_column": "region",
        "time_column": "week",
        "media_columns": ["tv"],
        "funnel_columns": ["clicks"],
        "control_columns": ["price"],
    }
    assert inputs.fit_columns == ["tv", "price", "clicks"]
    assert inputs.plan_columns == ["tv", "price"]  # nobody knows next week's clicks
    assert inputs.shifted == {} and inputs.funnel_left_out == []
    assert inputs.constant == ["holiday"]  # never varies before the plan


def test_assign_roles_falls_back_to_what_an_estimator_takes_today():
    from sklearn_causalmmm.baselines import AdstockHillRegressor

    panel, train = _tiny_panel()
    before = panel.frame.copy()
    inputs = real_panels.assign_roles(AdstockHillRegressor(), panel, train)
    assert not set(real_panels.ROLE_PARAMETERS.values()) & set(inputs.params)
    assert inputs.params["shop_column"] == "region"
    assert inputs.fit_columns == inputs.plan_columns == ["tv", "price"]
    assert inputs.funnel_left_out == ["clicks"]
    assert inputs.shifted == {"price": 1.5}  # minus the lowest price of the panel
    X = inputs.frame(panel, panel.frame, plan=True)
    assert list(X.columns) == ["region", "week", "tv", "price"]
    np.testing.assert_array_equal(X["price"], before["price"] + 1.5)
    pd.testing.assert_frame_equal(panel.frame, before)  # the panel is untouched


def test_meridian_costs_price_every_impression():
    panel = real_panels.load_meridian(n_geos=3)
    raw = pd.read_csv(
        real_panels.DATA / "meridian_geo" / "geo_all_channels.csv.gz", index_col=0
    )
    raw = raw[raw["geo"].isin(["Geo0", "Geo1", "Geo2"])]
    assert set(panel.costs) == set(panel.media) - {"Organic_channel0_impression"}
    for column, price in panel.costs.items():
        spend = raw[column.replace("_impression", "_spend")]
        np.testing.assert_allclose(raw[column] * price, spend, rtol=1e-5, atol=1e-6)
    assert panel.signed == ("competitor_sales_control", "sentiment_score_control")


def test_pooled_ridge_recovers_a_lagged_media_effect():
    rng = np.random.default_rng(0)
    n_shops, n_weeks, origin = 3, 120, 112
    media = rng.lognormal(3.0, 1.0, size=(n_shops, 1, n_weeks))
    level = np.array([[10.0], [50.0], [200.0]])
    y = np.zeros((n_shops, n_weeks))
    y[:, 1:] = level + 2.0 * np.log1p(media[:, 0, :-1])  # last week's media only
    y[:, 0] = level[:, 0]
    forecast = real_panels.pooled_ridge(y, media, origin)
    truth = y[:, origin : origin + real_panels.HORIZON]
    np.testing.assert_allclose(forecast, truth, rtol=1e-3)
    # a constant (the training mean) is far worse on the same weeks
    mean = real_panels.training_mean(y, origin)
    assert real_panels.standardized_mse(y, forecast, origin) < 1e-4
    assert real_panels.standardized_mse(y, mean, origin) > 0.1


def test_zoo_table_compares_with_both_references_and_states_the_mean():
    import zoo

    def rows(family, ours, granger, pooled):
        base = {"family": family, "seed": 0, "shape": [4, 3, 50]}
        return [
            {
                **base,
                "method": "CausalMMM",
                "edge_auroc": ours,
                "encoder_auroc": 0.5,
                "n_lags": 2,
                "pooling": {"0.5": ours, "1.0": 0.5},
                "graph_source": "partial_granger",
                "granger": {
                    "shop_granger": 0.6,
                    "pooled_granger": 0.7,
                    "partial_granger": ours,
                },
            },
            {**base, "method": "Linear Granger", "edge_auroc": granger},
            {**base, "method": "Pooled Granger", "edge_auroc": pooled},
        ]

    results = {
        "n_shops": 4,
        "seeds": 1,
        "machine": "test",
        "rows": rows("signed", 0.9, 0.8, 0.95) + rows("dense", 0.7, 0.6, 0.5),
    }
    table = zoo.render(results)
    # the reported graph's source and the three Granger estimates' scores
    assert (
        "| signed | 0.900 | 0.800 | 0.950 | 0.500 | partial_granger "
        "| 0.600 / 0.700 / 0.900 | 2 | **no** |"
    ) in table
    assert (
        "| dense | 0.700 | 0.600 | 0.500 | 0.500 | partial_granger "
        "| 0.600 / 0.700 / 0.700 | 2 | yes |"
    ) in table
    # the means over families: (0.9 + 0.7) / 2, (0.8 + 0.6) / 2, (0.95 + 0.5) / 2
    assert "CausalMMM 0.800, Linear Granger 0.700, Pooled Granger 0.725" in table
    assert "on 1 of 2 rows" in table and "0.5: 0.800, 1.0: 0.500" in table


def test_edge_interval_scores_by_hand():
    import edge_intervals

    truth = np.zeros((1, 3, 3), int)
    truth[0, 0, 1] = truth[0, 1, 2] = 1
    point = np.array([[[0.0, 0.9, 0.1], [0.3, 0.0, 0.6], [0.1, 0.05, 0.0]]])
    lower = point - np.array([[[0, 0.1, 0.05], [0.2, 0, 0.5], [0.05, 0.05, 0]]])
    upper = point + np.array([[[0, 0.05, 0.05], [0.1, 0, 0.1], [0.05, 0.1, 0]]])
    scores = edge_intervals.interval_scores(truth, point, np.stack([lower, upper]), 0.2)
    # true edges' lower bounds 0.8 and 0.1: one of two above the prior;
    # absent upper bounds 0.15, 0.4, 0.15, 0.15: three of four below it
    assert scores["true_lower_above_prior"] == 0.5
    assert scores["absent_upper_below_prior"] == 0.75
    # pairs (true lower > absent upper): 0.8 beats all four, 0.1 none
    assert scores["separated_pairs"] == 0.5
    assert scores["width_true"] == pytest.approx((0.15 + 0.6) / 2)
    assert scores["width_absent"] == pytest.approx((0.1 + 0.3 + 0.1 + 0.15) / 4)
    assert scores["contains_point"] is True

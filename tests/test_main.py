"""Tests of the command line (``python -m sklearn_causalmmm`` / ``causalmmm``)."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import io
import json
import pickle
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.__main__ import build_parser, main
from sklearn_causalmmm.datasets import load_demo
from sklearn_causalmmm.reporting.decisions import decide, plan_decisions
from sklearn_causalmmm.reporting.demo import run_demo
from sklearn_causalmmm.reporting.holdout import fit_holdout, top_edges

# Tiny settings: the point is the plumbing, not the fit's quality.
TINY = ["--max-epochs", "2", "--hidden", "4", "--quiet"]
HORIZON = 5
CONTEXT = ["context_0", "context_1"]
SPEND = ["brand", "display", "video", "feed", "search"]
N_SHOPS, N_DAYS = 4, 40


def _number(text, label):
    match = re.search(rf"^{re.escape(label)}\s+(\S+)$", text, flags=re.MULTILINE)
    assert match, f"{label!r} missing from the output:\n{text}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def frame():
    """A few shops and days of the demo panel, as a user's CSV holds them."""
    demo = load_demo().frame
    shops = demo["shop_id"].unique()[:N_SHOPS]
    days = np.sort(demo["date"].unique())[-N_DAYS:]
    frame = demo[demo["shop_id"].isin(shops) & demo["date"].isin(days)]
    # a user's column names, and a text column that is no node
    return frame.rename(columns={"shop_id": "store", "date": "day"}).assign(
        region="north"
    )


@pytest.fixture(scope="module")
def data(frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "sales.csv"
    frame.to_csv(path, index=False)
    return path


def _fit_args(data, output, *extra):
    return [
        "fit",
        str(data),
        "--shop-column",
        "store",
        "--time-column",
        "day",
        "--context-columns",
        ",".join(CONTEXT),
        "--horizon",
        str(HORIZON),
        "--output",
        str(output),
        *TINY,
        *extra,
    ]


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    """``fit`` with the default refit; returns (stdout, output folder)."""
    output = tmp_path_factory.mktemp("fit") / "model"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(_fit_args(data, output, "--spend-columns", ",".join(SPEND)))
    assert code == 0, err.getvalue()
    return out.getvalue(), output


def _future(frame, shift=HORIZON):
    """The last ``shift`` days' plan moved ``shift`` days on, without GMV."""
    last = frame[frame["day"] > frame["day"].max() - pd.Timedelta(days=shift)]
    return last.assign(day=last["day"] + pd.Timedelta(days=shift)).drop(columns=["gmv"])


# -- fit ----------------------------------------------------------------------------


def test_fit_writes_model_roles_and_report(fitted, frame):
    text, output = fitted
    files = sorted(p.name for p in output.iterdir())
    assert files == [
        "budget.png",
        "contributions.png",
        "forecasts.png",
        "graphs.png",
        "model.json",
        "model.pkl",
        "report.html",
        "response_curves.png",
        "training_curve.png",
    ]
    roles = json.loads((output / "model.json").read_text())
    channels = ["brand", "display", "video", "feed", "search", "pv"]
    assert roles["shop_column"] == "store"
    assert roles["time_column"] == "day"
    assert roles["target"] == "gmv"
    assert roles["context_columns"] == CONTEXT
    assert roles["spend_columns"] == SPEND  # optimize's default
    # default channels: every numeric column but shop, time, target and context
    assert roles["channel_columns"] == channels
    assert roles["refitted_through_last_day"] is True
    assert roles["fitted_to"] == str(frame["day"].max().date())
    html = (output / "report.html").read_text(encoding="utf-8")
    for png in (
        "graphs",
        "forecasts",
        "response_curves",
        "contributions",
        "budget",
        "training_curve",
    ):
        assert f'<img src="{png}.png"' in html
    assert f"saved to {output / 'model.pkl'}" in text
    assert f"Report written to {output / 'report.html'}" in text
    assert "train_loss" not in text  # --quiet


def test_fit_prints_the_back_tests_scores(fitted, data):
    # The CLI's back-test is fit_holdout with the same settings (CPU fits
    # repeat bit for bit), so its printed scores can be recomputed.
    text, _ = fitted
    result = fit_holdout(
        pd.read_csv(data),
        shop_column="store",
        time_column="day",
        context_columns=CONTEXT,
        horizon=HORIZON,
        estimator=CausalMMMRegressor(max_epochs=2, hidden=4, random_state=0),
    )
    assert _number(text, "MSE ratio CausalMMM / last value") == pytest.approx(
        result.mse_ratio, abs=5e-4
    )
    assert _number(text, f"gmv MSE over {HORIZON} days ahead, last value") == (
        pytest.approx(result.mse_naive, rel=1e-3)
    )
    assert f"fitted on {N_DAYS - HORIZON} days" in text
    edges = top_edges(
        result.model.edge_probabilities_.mean(axis=0), result.node_names, k=8
    )
    listed = ", ".join(f"{i} -> {j} ({p:.2f})" for i, j, p in edges)
    assert f"Strongest learned edges (mean P over shops):\n  {listed}\n" in text
    # the spend columns' contributions, ranked; pv is a funnel node, not spend
    decisions = decide(result, SPEND)
    ranked = re.findall(r"^  \d\. (\w+) ", text, flags=re.MULTILINE)
    assert ranked == list(decisions.ranking.index)
    assert sorted(ranked) == sorted(SPEND)
    assert f"forecast gmv {decisions.budget.uplift:+.1%}" in text


def test_saved_model_continues_after_the_last_day(fitted, frame):
    _, output = fitted
    with (output / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)
    assert model.panel_.time_index[-1] == frame["day"].max()
    assert model.panel_.n_steps == N_DAYS
    plan = _future(frame)[["store", "day", *CONTEXT, *model.node_names_[:-1]]]
    assert np.isfinite(model.predict(plan)).all()


def test_no_refit_saves_the_back_tested_model(data, frame, tmp_path, capsys):
    code = main(_fit_args(data, tmp_path / "m", "--no-refit", "--train-days", "25"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # without --spend-columns every channel column (pv too) is treated as spend
    assert "name the roles with --media, --funnel and --controls" in captured.out
    assert re.search(r"^  \d\. pv ", captured.out, flags=re.MULTILINE)
    with (tmp_path / "m" / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)
    roles = json.loads((tmp_path / "m" / "model.json").read_text())
    assert roles["refitted_through_last_day"] is False
    held_out = frame["day"] > frame["day"].max() - pd.Timedelta(days=HORIZON)
    assert model.panel_.time_index[-1] == frame.loc[~held_out, "day"].max()
    assert model.panel_.n_steps == 25
    # it is the back-test's model: same predictions as fit_holdout's
    result = fit_holdout(
        frame,
        shop_column="store",
        time_column="day",
        context_columns=CONTEXT,
        horizon=HORIZON,
        train_days=25,
        estimator=CausalMMMRegressor(max_epochs=2, hidden=4, random_state=0),
    )
    np.testing.assert_array_equal(
        model.predict(result.plan), result.model.predict(result.plan)
    )


# -- predict ------------------------------------------------------------------------


def test_predict_writes_the_models_forecast(fitted, frame, tmp_path, capsys):
    _, output = fitted
    future = _future(frame)
    # a user's plan: columns in another order, no context, an ignored column
    plan_file = tmp_path / "plan.csv"
    future[
        ["day", "search", "store", "feed", "pv", "brand", "video", "display"]
    ].assign(note="x").to_csv(plan_file, index=False)
    target = tmp_path / "out" / "forecast.csv"
    code = main(["predict", str(output), "--data", str(plan_file), "-o", str(target)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"written to {target}" in captured.out
    # in the data's own time unit (days here; a weekly fit says weeks)
    n_shops, n_days = future["store"].nunique(), future["day"].nunique()
    assert f"for {n_shops} shop(s) x {n_days} day(s)" in captured.out
    written = pd.read_csv(target, parse_dates=["day"])
    assert list(written.columns) == ["store", "day", "gmv"]
    pd.testing.assert_series_equal(
        written["store"], future["store"].reset_index(drop=True)
    )
    pd.testing.assert_series_equal(written["day"], future["day"].reset_index(drop=True))
    with (output / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)
    expected = model.predict(
        future[["store", "day", *CONTEXT, *model.node_names_[:-1]]]
    )
    np.testing.assert_allclose(written["gmv"], expected, rtol=1e-12)
    # the pickle path works as MODEL too
    code = main(
        [
            "predict",
            str(output / "model.pkl"),
            "--data",
            str(plan_file),
            "-o",
            str(target),
        ]
    )
    assert code == 0
    np.testing.assert_allclose(pd.read_csv(target)["gmv"], expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns="pv"), "no column 'pv' (channel)"),
        (
            lambda f: f.assign(store=f["store"].replace("shop_001", "shop_new")),
            "['shop_new'] were not seen in fit",
        ),
        (
            lambda f: f.assign(day=f["day"] + pd.Timedelta(days=3)),
            "must start inside the fitted period",
        ),
    ],
)
def test_predict_rejects_bad_plans(fitted, frame, tmp_path, capsys, edit, message):
    _, output = fitted
    plan_file = tmp_path / "plan.csv"
    edit(_future(frame)).to_csv(plan_file, index=False)
    target = tmp_path / "forecast.csv"
    code = main(["predict", str(output), "--data", str(plan_file), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"causalmmm predict: error: {plan_file}: ")
    assert message in err
    assert not target.exists()


# -- optimize -----------------------------------------------------------------------


def test_optimize_reallocates_the_plans_budget(fitted, frame, tmp_path, capsys):
    _, output = fitted
    future = _future(frame)
    plan_file = tmp_path / "plan.csv"
    future.to_csv(plan_file, index=False)
    target = tmp_path / "optimized.csv"
    args = ["optimize", str(output), "--data", str(plan_file), "-o", str(target)]
    code = main([*args, "--bounds", "0.8,1.3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    written = pd.read_csv(target, parse_dates=["day"])
    assert list(written.columns) == list(future.columns)
    # each shop keeps its total spend; pv is not spend and keeps its plan
    planned = future.groupby("store")[SPEND].sum()
    optimized = written.groupby("store")[SPEND].sum()
    np.testing.assert_allclose(optimized.sum(axis=1), planned.sum(axis=1), rtol=1e-9)
    ratio = (optimized / planned).to_numpy()
    assert ratio.min() >= 0.8 - 1e-9 and ratio.max() <= 1.3 + 1e-9
    np.testing.assert_allclose(written["pv"], future["pv"])
    # what it prints is plan_decisions on the same plan
    with (output / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)
    inputs = future[["store", "day", *CONTEXT, *model.node_names_[:-1]]]
    decisions = plan_decisions(model, inputs, SPEND, bounds=(0.8, 1.3))
    assert "\n".join(decisions.summary_lines()) in captured.out
    assert decisions.budget.uplift >= 0.0
    # and predict on the written plan forecasts the optimized GMV
    gmv = model.predict(written[["store", "day", *CONTEXT, *model.node_names_[:-1]]])
    assert gmv.sum() == pytest.approx(decisions.budget.gmv["optimized"].sum())


def test_optimize_refuses_bad_spend_columns_and_bounds(fitted, frame, tmp_path, capsys):
    _, output = fitted
    plan_file = tmp_path / "plan.csv"
    _future(frame).to_csv(plan_file, index=False)
    args = ["optimize", str(output), "--data", str(plan_file), "-o", "x.csv"]
    assert main([*args, "--spend-columns", "search,gmv"]) == 1
    assert "spend column(s) ['gmv'] are not channel columns" in capsys.readouterr().err
    assert main([*args, "--bounds", "1.2,2"]) == 2
    assert "need 0 <= LOW <= 1 <= HIGH" in capsys.readouterr().err


def test_predict_names_a_missing_or_foreign_model(tmp_path, data, capsys):
    code = main(["predict", str(tmp_path / "nowhere"), "--data", str(data)])
    assert code == 1
    assert f"{tmp_path / 'nowhere'}: no such file" in capsys.readouterr().err
    (tmp_path / "model.pkl").write_bytes(b"not a pickle")
    (tmp_path / "model.json").write_text("{}")
    code = main(["predict", str(tmp_path), "--data", str(data)])
    assert code == 1
    assert "not a model saved by 'causalmmm fit'" in capsys.readouterr().err
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"a": 1}))
    (tmp_path / "model.json").write_text('{"target": "gmv"}')
    code = main(["predict", str(tmp_path), "--data", str(data)])
    assert code == 1
    assert (
        f"{tmp_path / 'model.json'}: not the column roles of a model saved by "
        "'causalmmm fit' (no shop_column, time_column, channel_columns)"
    ) in capsys.readouterr().err


# -- bad data files -----------------------------------------------------------------


def _gap(frame):
    inside = frame.index[frame["store"] == "shop_002"][10]
    return frame.drop(index=inside)


def _bad_date(frame):
    out = frame.astype({"day": str})
    out.iloc[3, out.columns.get_loc("day")] = "31/02/2024 noon"
    return out


@pytest.mark.parametrize(
    ("edit", "extra", "messages"),
    [
        (lambda f: f, ["--target", "sales"], ["no column 'sales' (target)"]),
        (
            _bad_date,
            [],
            ["time column 'day'", "could not read it as dates", "31/02/2024 noon"],
        ),
        (_gap, [], ["shop 'shop_002' misses 1 step(s)"]),
        (
            lambda f: f,
            ["--context-columns", "budget"],
            ["no column 'budget' (context)"],
        ),
        (
            lambda f: f,
            ["--channel-columns", "search,radio"],
            ["no column 'radio' (channel)"],
        ),
        (
            lambda f: f.assign(search=-f["search"]),
            [],
            ["negative", "'search'"],
        ),
        (
            lambda f: f,
            ["--spend-columns", "search,radio"],
            ["no column 'radio' (spend)"],
        ),
        (
            lambda f: f,
            ["--spend-columns", "search,gmv"],
            ["spend column(s) ['gmv'] are not channel columns"],
        ),
        (
            lambda f: f,
            ["--channel-columns", "search,pv", "--spend-columns", "brand"],
            ["spend column(s) ['brand'] are not channel columns"],
        ),
    ],
)
def test_fit_rejects_bad_data_before_training(
    frame, tmp_path, capsys, edit, extra, messages
):
    data = tmp_path / "bad.csv"
    edit(frame).to_csv(data, index=False)
    output = tmp_path / "out"
    code = main(_fit_args(data, output, *extra))
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"causalmmm fit: error: {data}: ")
    for message in messages:
        assert message in err
    assert not output.exists()  # nothing trained, nothing written


def test_fit_names_a_missing_file(tmp_path, capsys):
    code = main(_fit_args(tmp_path / "missing.csv", tmp_path / "out"))
    assert code == 1
    assert f"{tmp_path / 'missing.csv'}: no such file" in capsys.readouterr().err


# -- demo ---------------------------------------------------------------------------


def test_demo_command_prints_run_demos_numbers(tmp_path, capsys):
    output = tmp_path / "report"
    args = ["--max-epochs", "1", "--hidden", "8", "--train-days", "30"]
    code = main(["demo", "--horizon", "5", "--output", str(output), "--quiet", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = captured.out
    result = run_demo(horizon=5, max_epochs=1, hidden=8, train_days=30, random_state=0)
    for label, value in [
        ("edge AUROC (per shop, mean)", result.edge_auroc),
        ("heterogeneity AUROC", result.heterogeneity_auroc),
        ("MSE ratio CausalMMM / last value", result.mse_ratio),
    ]:
        assert _number(text, label) == pytest.approx(value, abs=5e-4)
    assert "type 0 (14 shops)" in text
    assert str(output / "report.html") in text
    assert "train_loss" not in text + captured.err  # --quiet
    assert len(list(output.glob("*.png"))) == 6
    assert "Top channels by contribution" in text


# -- arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: COMMAND"),
        (["forecast"], "invalid choice: 'forecast'"),
        (["demo", "--max-epochs", "0"], "--max-epochs: must be at least 1, got 0"),
        (["demo", "--hidden", "wide"], "--hidden: expected an integer, got 'wide'"),
        (["demo", "--train-days", "-3"], "--train-days: must be at least 0"),
        (["demo", "--colour"], "unrecognized arguments: --colour"),
        (["fit"], "required: DATA.csv"),
        (["predict", "model"], "required: --data"),
        (["fit", "x.csv", "--threads", "0"], "--threads: must be at least 1"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_impossible_horizon_exits_1_naming_it(tmp_path, capsys):
    code = main(["demo", "--horizon", "400", "--output", str(tmp_path), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "causalmmm demo: error: horizon must lie in [1, 362]" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("demo", ["--output", "--max-epochs", "--hidden", "--horizon", "--quiet"]),
        (
            "fit",
            [
                "DATA.csv",
                "--target",
                "--shop-column",
                "--time-column",
                "--channel-columns",
                "--context-columns",
                "--output",
                "--no-refit",
                "--max-epochs",
                "--hidden",
                "--horizon",
                "--train-days",
                "--random-state",
                "--quiet",
                "held out",
            ],
        ),
        ("predict", ["MODEL", "--data", "--output"]),
    ],
)
def test_help_exits_0(capsys, command, options):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: causalmmm {command}")
    for option in options:
        assert option in out


def test_help_does_not_import_torch_or_sktime():
    # a fresh interpreter: this test session has imported both already
    probe = (
        "import sys\n"
        "from sklearn_causalmmm.__main__ import build_parser, main\n"
        "assert main(['--help']) == 0\n"
        "print(sorted({'torch', 'sktime', 'skorch'} & set(sys.modules)))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip().splitlines()[-1] == "[]"


def test_module_entry_point_returns_the_exit_code():
    process = subprocess.run(
        [sys.executable, "-m", "sklearn_causalmmm", "demo", "--max-epochs", "-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 2
    assert "usage: causalmmm demo" in process.stderr
    assert "--max-epochs: must be at least 1, got -1" in process.stderr


# -- roles, costs, lift tests, optimizer constraints ----------------------------------


def test_fit_maps_roles_costs_and_lift_tests(data, frame, tmp_path, capsys):
    days = sorted(frame["day"].unique())
    lift = pd.DataFrame(
        {
            "channel": ["search"],
            "start": [str(days[3].date())],
            "end": [str(days[6].date())],
            "spend_change": [100.0],
            "lift": [50.0],
            "lift_se": [1e9],
        }
    )
    lift_file = tmp_path / "lift.csv"
    lift.to_csv(lift_file, index=False)
    output = tmp_path / "m"
    costs = "brand=2,display=1,video=1,feed=1,search=0.5"
    args = _fit_args(data, output, "--media", "brand,display,video,f*,search")
    args += ["--funnel", "p?", "--lift-tests", str(lift_file), "--no-refit"]
    args += ["--costs", costs, "--currency", "EUR"]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with (output / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)
    # globs expand in the file's order; the named columns are the inputs
    assert model.media_columns == SPEND
    assert model.funnel_columns == ["pv"]
    assert list(model.node_roles_)[:-1] == ["media"] * 5 + ["funnel"]
    roles = json.loads((output / "model.json").read_text())
    assert roles["spend_columns"] == SPEND  # the media, not pv
    assert roles["costs"] == {
        "brand": 2.0,
        "display": 1.0,
        "video": 1.0,
        "feed": 1.0,
        "search": 0.5,
    }
    assert roles["currency"] == "EUR"
    # the lift test is compared with the model's lift, and printed
    assert list(model.lift_tests_["channel"]) == ["search"]
    assert "Lift tests, measured against the model's lift:" in captured.out
    model_lift = float(model.lift_tests_["model_lift"].iloc[0])
    assert f"{model_lift:,.4g}" in captured.out
    # money is in EUR, ROI per unit of cost
    html = (output / "report.html").read_text(encoding="utf-8")
    assert "EUR " in html and "gmv per unit of cost" in html
    assert "Trust checks:" in captured.out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--media", "nope*"], "--media 'nope*' matches no column"),
        (["--media", "search", "--funnel", "s*"], "matches both --media and --funnel"),
        (["--controls", "gmv"], "cannot be --controls"),
    ],
)
def test_fit_refuses_bad_roles_before_training(data, tmp_path, capsys, extra, message):
    assert main(_fit_args(data, tmp_path / "m", *extra)) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_costs_option_reads_pairs_or_a_csv(tmp_path):
    parser = build_parser()
    args = parser.parse_args(["fit", "x.csv", "--costs", "tv=0.5,search=1"])
    assert args.costs == {"tv": 0.5, "search": 1.0}
    table = tmp_path / "costs.csv"
    pd.DataFrame({"channel": ["tv"], "cost": [0.004]}).to_csv(table, index=False)
    assert parser.parse_args(["fit", "x.csv", "--costs", str(table)]).costs == {
        "tv": 0.004
    }


def test_optimize_keeps_fixed_channels_and_caps_spend(fitted, frame, tmp_path, capsys):
    _, output = fitted
    future = _future(frame)
    plan_file = tmp_path / "plan.csv"
    future.to_csv(plan_file, index=False)
    target = tmp_path / "optimized.csv"
    # a cap on every shop's search spend, below the largest shop's plan
    planned = future.groupby("store")["search"].sum()
    cap = float(planned.max()) * 0.9
    args = ["optimize", str(output), "--data", str(plan_file), "-o", str(target)]
    args += ["--fixed", "brand", "--max-spend", f"search={cap}", "--currency", "USD"]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    written = pd.read_csv(target)
    np.testing.assert_allclose(written["brand"], future["brand"].to_numpy())
    assert written.groupby("store")["search"].sum().max() <= cap * (1 + 1e-9)
    assert "recommended" in captured.out or "Reallocate" in captured.out
    # a constraint naming a column that is not spend is refused
    assert main([*args[:6], "--fixed", "pv"]) == 1
    assert "--fixed or --costs name(s) ['pv']" in capsys.readouterr().err


def test_role_options_also_take_the_estimators_parameter_names():
    from sklearn_causalmmm.__main__ import build_parser

    parser = build_parser()
    short = parser.parse_args(
        ["fit", "x.csv", "--funnel", "pv", "--controls", "price", "--media", "tv"]
    )
    long = parser.parse_args(
        [
            "fit",
            "x.csv",
            "--funnel-columns",
            "pv",
            "--control-columns",
            "price",
            "--media-columns",
            "tv",
        ]
    )
    assert (short.media, short.funnel, short.controls) == (["tv"], ["pv"], ["price"])
    assert (long.media, long.funnel, long.controls) == (["tv"], ["pv"], ["price"])

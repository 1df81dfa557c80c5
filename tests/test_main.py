"""Tests of the command line (``python -m sklearn_causalmmm`` / ``causalmmm``)."""

# SPDX-License-Identifier: BSD-3-Clause

import re
import struct
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

from sklearn_causalmmm.__main__ import (
    edges_above,
    format_summary,
    main,
    run_demo,
)
from sklearn_causalmmm.datasets import load_demo
from sklearn_causalmmm.metrics import edge_auroc, heterogeneity_auroc

# Tiny settings: the point is the plumbing, not the fit's quality.
TINY = {"max_epochs": 1, "hidden": 8, "train_days": 30, "random_state": 0}
TINY_ARGS = ["--max-epochs", "1", "--hidden", "8", "--train-days", "30", "--quiet"]
HORIZON = 5


@pytest.fixture(scope="module")
def demo():
    return load_demo()


@pytest.fixture(scope="module")
def result():
    return run_demo(horizon=HORIZON, **TINY)


def _number(text, label):
    match = re.search(rf"^{re.escape(label)}\s+(\S+)$", text, flags=re.MULTILINE)
    assert match, f"{label!r} missing from the summary:\n{text}"
    return float(match.group(1))


# -- run_demo: numbers come from the fitted model --------------------------------


def test_graph_metrics_match_a_recomputation(result, demo):
    model = result.model
    assert model.node_names_ == demo.node_names
    assert list(model.panel_.shop_ids) == list(demo.frame["shop_id"].unique())
    probabilities = model.edge_probabilities_
    assert result.edge_auroc == edge_auroc(demo.adjacency, probabilities)
    assert result.heterogeneity_auroc == heterogeneity_auroc(
        demo.adjacency, probabilities
    )
    for kind in np.unique(demo.graph_type):
        members = demo.graph_type == kind
        np.testing.assert_allclose(
            result.probabilities_by_type[f"type {kind}"],
            probabilities[members].mean(axis=0),
        )
        np.testing.assert_array_equal(
            result.truth_by_type[f"type {kind}"], demo.graph_types[kind]
        )


def test_forecast_mse_matches_a_recomputation(result, demo):
    frame = demo.frame
    dates = np.sort(frame["date"].unique())
    plan = frame[frame["date"] >= dates[-HORIZON]]
    columns = ["shop_id", "date", *demo.context_columns, *demo.node_names[:-1]]
    prediction = result.model.predict(plan[columns])
    last_day = plan["date"] == dates[-1]
    errors = plan.loc[last_day, "gmv"] - prediction[last_day]
    assert len(errors) == 40
    assert result.mse_model == pytest.approx(np.mean(errors**2), rel=1e-9)
    # The last-value forecast repeats each shop's GMV on the last fitted day.
    last_fitted = frame[frame["date"] == dates[-HORIZON - 1]].set_index("shop_id")
    observed = plan[last_day].set_index("shop_id")["gmv"]
    naive_errors = observed - last_fitted["gmv"].loc[observed.index]
    # rel=1e-6: the fitted panel keeps GMV in float32
    assert result.mse_naive == pytest.approx(np.mean(naive_errors**2), rel=1e-6)
    assert result.mse_ratio == pytest.approx(result.mse_model / result.mse_naive)
    # The model was fitted on the train_days days before the held-out ones only.
    assert result.history.shape == (TINY["train_days"], 40)
    assert result.history.index[-1] == dates[-HORIZON - 1]
    assert len(result.model.history_) == TINY["max_epochs"]


def test_summary_prints_the_computed_numbers(result):
    text = format_summary(result)
    assert _number(text, "edge AUROC (per shop, mean)") == pytest.approx(
        result.edge_auroc, abs=5e-4
    )
    assert _number(text, "heterogeneity AUROC") == pytest.approx(
        result.heterogeneity_auroc, abs=5e-4
    )
    assert _number(text, "MSE ratio CausalMMM / last value") == pytest.approx(
        result.mse_ratio, abs=5e-4
    )
    assert _number(text, f"GMV MSE at horizon {HORIZON}, last value") == pytest.approx(
        result.mse_naive, rel=1e-3
    )
    for label in result.type_labels:
        true = edges_above(result.truth_by_type[label], result.node_names)
        assert true, "every demo shop type has edges"
        listed = ", ".join(f"{i} -> {j}" for i, j, _ in true)
        assert f"    true:    {listed}\n" in text + "\n"


def test_edges_above_lists_strongest_first_and_skips_self_loops():
    probabilities = np.array([[0.9, 0.6, 0.1], [0.8, 0.0, 0.5], [0.7, 0.2, 0.0]])
    assert edges_above(probabilities, ["a", "b", "c"]) == [
        ("b", "a", 0.8),
        ("c", "a", 0.7),
        ("a", "b", 0.6),
    ]


# -- the command line ----------------------------------------------------------


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_demo_command_end_to_end(tmp_path, capsys, result):
    output = tmp_path / "report"
    code = main(
        ["demo", "--horizon", str(HORIZON), "--output", str(output), *TINY_ARGS]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = captured.out
    # A CPU fit with a fixed random_state repeats bit for bit.
    assert _number(text, "edge AUROC (per shop, mean)") == pytest.approx(
        result.edge_auroc, abs=5e-4
    )
    assert _number(text, "heterogeneity AUROC") == pytest.approx(
        result.heterogeneity_auroc, abs=5e-4
    )
    assert _number(text, "MSE ratio CausalMMM / last value") == pytest.approx(
        result.mse_ratio, abs=5e-4
    )
    assert "type 0 (14 shops)" in text
    assert str(output / "report.html") in text
    # --quiet: no training log
    assert "train_loss" not in text + captured.err

    html = (output / "report.html").read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(html)
    assert len(parser.sources) == 3
    pngs = sorted(p.name for p in output.glob("*.png"))
    assert sorted(parser.sources) == pngs
    for source in parser.sources:
        data = (output / source).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 400 and height >= 300
    assert f"{result.edge_auroc:.3f}" in html


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: COMMAND"),
        (["forecast"], "invalid choice: 'forecast'"),
        (["demo", "--max-epochs", "0"], "--max-epochs: must be at least 1, got 0"),
        (["demo", "--hidden", "wide"], "--hidden: expected an integer, got 'wide'"),
        (["demo", "--train-days", "-3"], "--train-days: must be at least 0"),
        (["demo", "--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_impossible_horizon_exits_1_naming_it(tmp_path, capsys):
    code = main(["demo", "--horizon", "400", "--output", str(tmp_path), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "causalmmm demo: error: horizon must lie in [1, 363]" in err
    assert not list(tmp_path.iterdir())


def test_help_exits_0(capsys):
    assert main(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--output", "--max-epochs", "--hidden", "--horizon", "--quiet"):
        assert option in out


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

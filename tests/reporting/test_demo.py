"""Tests of the demo: back-test on the bundled panel, scored against the truth."""

# SPDX-License-Identifier: BSD-3-Clause

import re
import struct

import numpy as np
import pytest
from scipy.stats import spearmanr

from sklearn_causalmmm.datasets import load_demo
from sklearn_causalmmm.metrics import edge_auroc, heterogeneity_auroc
from sklearn_causalmmm.reporting.demo import TOP_EDGES, run_demo
from sklearn_causalmmm.reporting.holdout import (
    format_summary,
    top_edges,
    write_holdout_report,
)

# Tiny settings: the point is the plumbing, not the fit's quality.
TINY = {"max_epochs": 1, "hidden": 8, "train_days": 30, "random_state": 0}
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
    assert result.response_channels == demo.channel_columns


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
    assert _number(
        text, f"gmv MSE over {HORIZON} days ahead, last value"
    ) == pytest.approx(result.mse_naive, rel=1e-3)


def test_summary_lists_the_strongest_edges_next_to_the_true_ones(result):
    text = format_summary(result) + "\n"
    for label in result.type_labels:
        true = top_edges(result.truth_by_type[label], result.node_names, threshold=0.5)
        assert true, "every demo shop type has edges"
        listed = ", ".join(f"{i} -> {j}" for i, j, _ in true)
        assert f"    true:    {listed}\n" in text
        learned = top_edges(
            result.probabilities_by_type[label], result.node_names, k=TOP_EDGES
        )
        truth = {(i, j) for i, j, _ in true}
        expected = ", ".join(
            f"{i} -> {j} ({p:.2f})" + (" *" if (i, j) in truth else "")
            for i, j, p in learned
        )
        n_shops = len(result.shops_by_type[label])
        assert f"  {label} ({n_shops} shops)\n    learned: {expected}\n" in text
    # Stars mark true edges only (a learned edge outside the truth has none).
    starred = re.findall(r"(\w+) -> (\w+) \([0-9.]+\) \*", text)
    assert starred
    for cause, effect in starred:
        i, j = result.node_names.index(cause), result.node_names.index(effect)
        assert any(
            result.truth_by_type[label][i, j] > 0.5 for label in result.truth_by_type
        )


def test_report_has_every_figure(result, tmp_path):
    page = write_holdout_report(result, tmp_path / "report")
    html = page.read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources == [
        "budget.png",
        "contributions.png",
        "response_curves.png",
        "forecasts.png",
        "graphs.png",
        "training_curve.png",
    ]
    # the recommendation opens the report, the model's scores close it
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings[0] == "Recommendation" and headings[-1] == "Model metrics"
    assert result.decisions.recommendation() in html.replace("&#x27;", "'")
    for source in sources:
        data = (tmp_path / "report" / source).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 400 and height >= 300
    assert f"{result.edge_auroc:.3f}" in html
    # the demo's own title and tables: graphs by type, the decisions
    assert "<title>CausalMMM demo report</title>" in html
    assert "<h3>Causal graphs by shop type</h3>" in html
    assert "<h2>Contributions and return on spend</h2>" in html
    assert "Spend per channel, planned and reallocated (all shops)" in html
    # funnel nodes are not scaled in the response curves, and the caption says so
    assert "pv stay at their observed values" in html


def test_contributions_are_compared_with_the_simulators_truth(result, demo):
    decisions = result.decisions
    assert decisions.spend_columns == demo.channel_columns
    learned = decisions.contributions["contribution"].unstack(level=1)
    truth = demo.contributions[..., -HORIZON:].sum(axis=-1)  # demo's shop order
    shops = list(demo.frame["shop_id"].unique())
    pairs = [
        (truth[shops.index(shop)], learned.loc[shop, demo.channel_columns])
        for shop in learned.index
    ]
    # shops whose contributions all tie have no ranking to compare
    by_hand = [spearmanr(t, m) for t, m in pairs if np.ptp(t) > 0 and np.ptp(m) > 0]
    assert len(by_hand) >= 30
    assert result.contribution_rank_correlation == pytest.approx(
        np.mean([r.statistic for r in by_hand])
    )


def test_summary_ranks_channels_and_reports_the_budget_gain(result):
    text = format_summary(result)
    ranking = result.decisions.ranking
    listed = re.findall(r"^  \d\. (\w+)\s+(-?[0-9.]+)%", text, flags=re.MULTILINE)
    assert [name for name, _ in listed] == list(ranking.index)
    shares = [float(share) / 100 for _, share in listed]
    np.testing.assert_allclose(shares, ranking["share"], atol=5e-4)
    assert np.all(np.diff(ranking["contribution"].to_numpy()) <= 0)
    gain = re.search(r"same total\): forecast gmv ([+-][0-9.]+)%", text)
    assert gain
    value = float(gain.group(1)) / 100
    assert value == pytest.approx(result.decisions.budget.uplift, abs=5e-4)
    assert result.decisions.budget.uplift >= 0.0

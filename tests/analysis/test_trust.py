"""Tests of the trust checks: each verdict on evidence whose answer is known."""

# SPDX-License-Identifier: BSD-3-Clause

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm.analysis.trust import (
    channel_unit,
    check_coverage,
    check_flat_graph,
    check_gain,
    check_graph_reliance,
    check_units,
    trust_checks,
)


def test_coverage_counts_values_inside_the_band_and_ignores_nan():
    truth = np.array([[1.0, 2.0, 3.0, np.nan], [5.0, 6.0, 7.0, 8.0]])
    lower = truth - 0.5
    upper = truth + 0.5
    upper[0, 0] = 0.9  # one value above its band
    check = check_coverage(truth, lower, upper, coverage=0.8)
    # 6 of the 7 observed values inside: 86%, within 2 binomial errors of 80%
    assert check.value == "86% of 7 (claimed 80%)"
    assert check.verdict == "ok"


def test_coverage_warns_when_the_band_is_too_narrow_or_too_wide():
    truth = np.arange(200.0)
    narrow = check_coverage(truth, truth + 1.0, truth + 2.0)
    assert narrow.verdict == "warning"
    assert "less certain than the band says" in narrow.message
    wide = check_coverage(truth, truth - 1.0, truth + 1.0, coverage=0.5)
    assert wide.verdict == "warning"
    assert "wider than it needs" in wide.message


def test_coverage_without_values_or_with_bad_shapes():
    nan = np.full(3, np.nan)
    assert check_coverage(nan, nan, nan).verdict == "n/a"
    with pytest.raises(ValueError, match="one shape"):
        check_coverage(np.ones(3), np.ones(2), np.ones(3))


def _reliance(no_edges, other):
    return pd.DataFrame(
        {"mse_ratio": [1.0, other, no_edges]},
        index=["learned", "other shops' graphs", "no edges"],
    )


@pytest.mark.parametrize(
    "no_edges, other, verdict, words",
    [
        (1.02, 1.01, "warning", "as good without the learned edges"),
        (1.5, 1.01, "warning", "differences between shops' graphs"),
        (1.5, 1.2, "ok", "uses the graph"),
    ],
)
def test_graph_reliance_verdicts(no_edges, other, verdict, words):
    check = check_graph_reliance(_reliance(no_edges, other))
    assert check.verdict == verdict
    assert words in check.message


def test_graph_reliance_without_a_table_is_not_applicable():
    assert check_graph_reliance(None).verdict == "n/a"


def test_flat_graph_counts_edges_away_from_the_prior():
    graphs = np.full((2, 3, 3), 0.2)
    graphs[:, [0, 1, 2], [0, 1, 2]] = 1.0  # the diagonal is ignored
    assert check_flat_graph(graphs, prior=0.2).verdict == "warning"
    graphs[1, 0, 2] = 0.8
    check = check_flat_graph(graphs, prior=0.2)
    # one of 2 x 6 off-diagonal edges moved
    assert check.value == "1 of 12 edges (8%) away from the prior 0.2"
    assert check.verdict == "ok"
    assert check_flat_graph(graphs, prior=0.2, min_share=0.1).verdict == "warning"


def test_gain_check_follows_the_interval():
    result = SimpleNamespace(
        gain=10.0, gain_interval=(2.0, 20.0), coverage=0.8, no_change_recommended=False
    )
    assert check_gain(result).verdict == "ok"
    result.gain_interval, result.no_change_recommended = (-3.0, 20.0), True
    check = check_gain(result)
    assert check.verdict == "warning"
    assert check.message.startswith("No change recommended")
    assert check.value == "+10 (80% interval -3 to +20)"
    result.gain_interval, result.no_change_recommended = None, None
    assert check_gain(result).verdict == "n/a"
    assert check_gain(None).verdict == "n/a"


def test_channel_unit_reads_common_column_names():
    names = [
        "tv_S",
        "facebook_I",
        "Channel0_spend",
        "Channel0_impression",
        "search_clicks_P",
        "competitor_sales_B",
        "newsletter",
    ]
    assert [channel_unit(n) for n in names] == [
        "money",
        "impressions",
        "money",
        "impressions",
        "clicks",
        None,
        None,
    ]


def test_units_warn_on_mixed_units_without_costs():
    check = check_units(["tv_S", "facebook_I", "newsletter"])
    assert check.verdict == "warning"
    assert "money: tv_S; impressions: facebook_I; unknown unit: newsletter" in (
        check.message
    )
    assert "--costs" in check.message
    # impressions only: not money
    assert check_units(["a_impressions", "b_impressions"]).verdict == "warning"
    # costs convert every channel to money
    costs = {"tv_S": 1.0, "facebook_I": 0.01, "newsletter": 0.001}
    assert check_units(list(costs), costs).verdict == "ok"
    assert check_units(["tv"]).verdict == "ok"


def test_units_warn_on_values_of_very_different_scales():
    plan = pd.DataFrame({"tv": [1.0, 2.0, 3.0], "radio": [50.0, 60.0, 70.0]})
    assert check_units(["tv", "radio"], plan=plan).verdict == "ok"
    plan["radio"] *= 1e5
    check = check_units(["tv", "radio"], plan=plan)
    assert check.verdict == "warning"
    assert "3,000,000-fold (radio vs tv)" in check.message


def test_trust_checks_table_keeps_the_order():
    checks = [check_gain(None), check_units(["a_spend", "b_spend"])]
    table = trust_checks(checks)
    assert list(table.columns) == ["check", "value", "verdict", "message"]
    assert list(table["check"]) == ["reallocation gain vs noise", "units of the budget"]

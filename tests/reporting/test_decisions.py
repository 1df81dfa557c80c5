"""Tests of the decisions of a back-test (contributions and budget in reports)."""

# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis.contributions import (
    MAX_SHAPLEY_CHANNELS,
    channel_contributions,
)
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.reporting.decisions import BUDGET_BOUNDS, decide
from sklearn_causalmmm.reporting.holdout import fit_holdout, write_holdout_report


class Linear:
    """GMV = 3 tv + search + pv per row: tv returns 3, search 1."""

    shop_column = "shop_id"

    def predict(self, X):
        return 3.0 * X["tv"] + X["search"] + X["pv"]


def _backtest():
    plan = pd.DataFrame(
        {
            "shop_id": ["a", "a", "b", "b"],
            "tv": [2.0, 2.0, 1.0, 3.0],
            "search": [2.0, 2.0, 4.0, 0.0],
            "pv": [1.0, 1.0, 1.0, 1.0],
        }
    )
    return SimpleNamespace(
        model=Linear(), plan=plan, channel_columns=["tv", "search", "pv"]
    )


def test_decide_ranks_channels_and_moves_budget_to_the_best_one():
    result = _backtest()
    decisions = decide(result, ["tv", "search"])
    assert decisions.spend_columns == ["tv", "search"]
    # tv: spend 8, contribution 24; search: spend 8, contribution 8; GMV 36
    assert list(decisions.ranking.index) == ["tv", "search"]
    np.testing.assert_allclose(decisions.ranking["share"], [24 / 36, 8 / 36])
    np.testing.assert_allclose(decisions.ranking["roi"], [3.0, 1.0])
    # within bounds 0.5-1.5: shop a moves 2 of search's 4 to tv, shop b moves
    # 2 of search's 4 (tv can take 2 of its 4)
    spend = decisions.budget.spend_by_channel()
    np.testing.assert_allclose(spend["planned_spend"], [8.0, 8.0])
    np.testing.assert_allclose(spend["optimized_spend"], [12.0, 4.0])
    np.testing.assert_allclose(spend["change"], [0.5, -0.5])
    # GMV 24 + 8 + 4 (pv) -> 36 + 4 + 4
    assert decisions.budget.uplift == pytest.approx(8.0 / 36.0)

    lines = decisions.summary_lines()
    assert lines[1] == "  1. tv       66.7%  3.00"
    assert lines[2] == "  2. search   22.2%  1.00"
    lower, upper = BUDGET_BOUNDS
    assert lines[3] == (
        f"Budget reallocated per shop ({lower:g}x-{upper:g}x per channel, same "
        "total): forecast gmv +22.2% (tv +50%, search -50%)"
    )
    table = decisions.ranking_table()
    assert table.iloc[0].tolist() == ["tv", "8", "24", "66.7%", "3.00"]
    assert decisions.spend_table().iloc[1].tolist() == ["search", "8", "4", "-50%"]


def test_a_channel_without_planned_spend_shows_a_dash():
    result = _backtest()
    result.plan = result.plan.assign(radio=0.0)
    result.channel_columns = [*result.channel_columns, "radio"]
    decisions = decide(result, ["tv", "search", "radio"])
    assert decisions.spend_table().iloc[2].tolist() == ["radio", "0", "0", "—"]
    assert "radio —" in decisions.summary_lines()[-2]


def test_many_channels_fall_back_to_one_channel_off_at_a_time():
    channels = [f"c{i}" for i in range(MAX_SHAPLEY_CHANNELS + 1)]
    plan = pd.DataFrame({"shop_id": ["a", "a"], **{c: [1.0, 2.0] for c in channels}})

    class Total:
        shop_column = "shop_id"

        def predict(self, X):
            return X[channels].sum(axis=1)

    result = SimpleNamespace(model=Total(), plan=plan, channel_columns=channels)
    decisions = decide(result, max_rounds=2)
    assert decisions.method == "removal"
    np.testing.assert_allclose(decisions.contributions["contribution"], 3.0)
    assert "one channel off at a time" in decisions.summary_lines()[0]


def test_decide_defaults_to_every_channel_and_refuses_unknown_ones():
    result = _backtest()
    assert decide(result).spend_columns == ["tv", "search", "pv"]
    with pytest.raises(ValueError, match=r"spend columns \['radio'\] are not channel"):
        decide(result, ["tv", "radio"])


@pytest.fixture(scope="module")
def backtest():
    frame = make_causal_mmm(n_shops=4, n_steps=40, as_frame=True, random_state=0).frame
    result = fit_holdout(
        frame,
        context_columns=["context_0", "context_1"],
        horizon=5,
        train_days=25,
        estimator=CausalMMMRegressor(hidden=4, max_epochs=2, random_state=0),
    )
    spend = ["brand", "display", "video", "feed", "search"]
    return dataclasses.replace(result, decisions=decide(result, spend))


def test_decisions_are_those_of_the_held_out_plan(backtest):
    again = channel_contributions(
        backtest.model,
        backtest.plan,
        backtest.decisions.spend_columns,
        method=backtest.decisions.contributions.attrs["method"],
    )
    pd.testing.assert_frame_equal(backtest.decisions.contributions, again)
    budget = backtest.decisions.budget
    assert np.all(budget.gmv["optimized"] >= budget.gmv["planned"])
    lower, upper = BUDGET_BOUNDS
    assert budget.allocation["factor"].between(lower, upper).all()


def test_report_shows_the_decisions(backtest, tmp_path):
    html = write_holdout_report(backtest, tmp_path).read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources == [
        "budget.png",
        "contributions.png",
        "response_curves.png",
        "forecasts.png",
        "graphs.png",
        "training_curve.png",
    ]
    # funnel nodes are held at their plan in every scenario, and captions say so
    assert html.count("pv, clicks stay at their observed values") == 2
    ranking = backtest.decisions.ranking
    # the ranking table lists the channels by contribution, largest first
    section = html[html.index("<h2>Contributions and return on spend</h2>") :]
    rows = re.findall(r"<tr>\s*<td>(\w+)</td>", section)[: len(ranking)]
    assert rows == list(ranking.index)
    assert "Spend per channel, planned and reallocated (all shops)" in html
    # the recommendation comes first
    assert html.index("<h2>Recommendation</h2>") < html.index(
        "<h2>Contributions and return on spend</h2>"
    )

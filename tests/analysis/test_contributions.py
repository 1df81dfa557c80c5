"""Tests of the channel contributions (Shapley and removal)."""

# SPDX-License-Identifier: BSD-3-Clause

from itertools import permutations

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis.contributions import (
    MAX_SHAPLEY_CHANNELS,
    channel_contributions,
    contribution_table,
    top_channels,
)
from sklearn_causalmmm.datasets import make_causal_mmm, make_weekly_mmm


class Formula:
    """A fitted 'regressor' whose forecast is a known function of each row."""

    shop_column = "shop_id"

    def __init__(self, formula):
        self.formula = formula

    def predict(self, X):
        return self.formula(X)


@pytest.fixture
def plan():
    return pd.DataFrame(
        {
            "shop_id": ["b", "b", "a", "a", "a"],
            "tv": [1.0, 2.0, 0.0, 4.0, 1.0],
            "search": [3.0, 3.0, 1.0, 1.0, 2.0],
            "radio": [1.0, 0.0, 2.0, 2.0, 1.0],
        }
    )


def test_additive_forecast_gives_each_channel_its_own_term(plan):
    model = Formula(lambda X: 2.0 * X["tv"] + X["search"] + 1.0)
    for method in ("shapley", "removal"):
        result = channel_contributions(model, plan, ["tv", "search"], method=method)
        # by hand: shop b has tv 3, search 6 over 2 rows; shop a tv 5, search 4
        np.testing.assert_allclose(result["spend"], [3.0, 6.0, 5.0, 4.0])
        np.testing.assert_allclose(result["contribution"], [6.0, 6.0, 10.0, 4.0])
        np.testing.assert_allclose(result["roi"], [2.0, 1.0, 2.0, 1.0])
        np.testing.assert_allclose(result["share"], [6 / 14, 6 / 14, 10 / 17, 4 / 17])
        assert result.attrs["gmv"] == pytest.approx({"b": 14.0, "a": 17.0})
        assert result.attrs["base"] == pytest.approx({"b": 2.0, "a": 3.0})
        assert result.attrs["method"] == method
        assert list(result.index) == [
            ("b", "tv"),
            ("b", "search"),
            ("a", "tv"),
            ("a", "search"),
        ]


def test_shapley_splits_an_interaction_and_removal_counts_it_twice(plan):
    model = Formula(lambda X: X["tv"] * X["search"] + 1.0)
    shapley = channel_contributions(model, plan, ["tv", "search"], method="shapley")
    removal = channel_contributions(model, plan, ["tv", "search"], method="removal")
    # by hand: sum of tv * search is 9 for shop b and 6 for shop a
    np.testing.assert_allclose(shapley["contribution"], [4.5, 4.5, 3.0, 3.0])
    np.testing.assert_allclose(removal["contribution"], [9.0, 9.0, 6.0, 6.0])


def permutation_shapley(value, k):
    """Shapley values as the mean marginal gain over every order of joining."""
    total = np.zeros(k)
    orders = list(permutations(range(k)))
    for order in orders:
        joined = []
        for c in order:
            total[c] += value([*joined, c]) - value(joined)
            joined.append(c)
    return total / len(orders)


def test_shapley_matches_the_average_over_orders_of_joining(plan):
    channels = ["tv", "search", "radio"]

    def formula(X):
        return np.sqrt(X["tv"] * X["search"] + 1.0) * (1.0 + X["radio"]) + X["tv"]

    result = channel_contributions(Formula(formula), plan, channels, method="shapley")
    for shop in ("a", "b"):
        rows = plan[plan["shop_id"] == shop]

        def value(on, rows=rows):
            scenario = rows[channels] * [float(c in on) for c in range(3)]
            return float(formula(scenario).sum())

        np.testing.assert_allclose(
            result.loc[shop, "contribution"], permutation_shapley(value, 3)
        )
        # efficiency: the contributions add up to the plan minus the base
        assert result.loc[shop, "contribution"].sum() == pytest.approx(
            value([0, 1, 2]) - value([])
        )


def test_errors_name_the_problem(plan):
    model = Formula(lambda X: X["tv"])
    with pytest.raises(ValueError, match="'removal' or 'shapley'"):
        channel_contributions(model, plan, ["tv"], method="lime")
    with pytest.raises(ValueError, match="coverage"):
        channel_contributions(model, plan, ["tv"], coverage=1.0)
    with pytest.raises(ValueError, match="costs has no entry"):
        channel_contributions(model, plan, ["tv", "search"], costs={"tv": 1.0})
    wide = pd.DataFrame(
        {"shop_id": ["a"], **{f"c{i}": [1.0] for i in range(MAX_SHAPLEY_CHANNELS + 1)}}
    )
    channels = [c for c in wide.columns if c != "shop_id"]
    with pytest.raises(ValueError, match="method='removal'"):
        channel_contributions(model, wide, channels, method="shapley")
    # removal needs only k + 1 forecasts, so it accepts that many channels
    assert len(
        channel_contributions(
            Formula(lambda X: X["c0"]), wide, channels, method="removal"
        )
    ) == len(channels)


def test_causal_mmm_contributions_add_up_and_ignore_an_unused_channel():
    frame = make_causal_mmm(
        n_shops=3, n_steps=40, as_frame=True, random_state=1
    ).frame.drop(columns=["context_0", "context_1"])
    past = frame[frame["date"] < "2024-02-03"]
    plan = frame[frame["date"] >= "2024-02-03"].drop(columns="gmv")
    plan = plan.assign(brand=0.0)  # no brand spend planned
    original = plan.copy()
    model = CausalMMMRegressor(hidden=4, max_epochs=1, random_state=0)
    model.fit(past.drop(columns="gmv"), past["gmv"])
    result = channel_contributions(
        model, plan, ["search", "brand", "display"], method="shapley"
    )
    pd.testing.assert_frame_equal(plan, original)
    added = result["contribution"].groupby(level="shop", sort=False).sum()
    gap = pd.Series(result.attrs["gmv"]) - pd.Series(result.attrs["base"])
    np.testing.assert_allclose(added, gap, rtol=1e-6, atol=1e-6 * gap.abs().max())
    # a channel switched off in the plan is a null player: exactly zero
    assert np.all(result.xs("brand", level="channel")["contribution"] == 0.0)
    assert result.xs("brand", level="channel")["roi"].isna().all()
    total = model.predict(plan).groupby(plan["shop_id"], sort=False).sum()
    np.testing.assert_allclose(list(result.attrs["gmv"].values()), total)


def test_table_and_ranking_by_hand(plan):
    model = Formula(lambda X: 2.0 * X["tv"] + 0.5 * X["search"] + 1.0)
    result = channel_contributions(
        model, plan, ["search", "tv", "radio"], method="shapley"
    )
    table = contribution_table(result)
    assert list(table.columns) == ["base", "search", "tv", "radio"]
    assert list(table.index) == ["b", "a"]
    # shop b: base 2, search 0.5 * 6, tv 2 * 3, radio 0
    np.testing.assert_allclose(table.loc["b"], [2.0, 3.0, 6.0, 0.0])
    np.testing.assert_allclose(table.sum(axis=1), list(result.attrs["gmv"].values()))
    ranking = top_channels(result)
    assert list(ranking.index) == ["tv", "search", "radio"]
    # tv: spend 3 + 5, contribution 6 + 10, of a total GMV 11 + 15
    np.testing.assert_allclose(
        ranking.loc["tv", ["spend", "contribution", "share", "roi"]],
        [8.0, 16.0, 16.0 / 26.0, 2.0],
    )
    # a model without draws has no interval: NaN, also once summed
    assert ranking["contribution_lower"].isna().all()
    np.testing.assert_allclose(ranking.loc["radio", "roi"], 0.0)
    bare = result.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="no 'gmv'"):
        top_channels(bare)


def test_results_of_two_plans_concatenate(plan):
    model = Formula(lambda X: X["tv"] + 1.0)
    first = channel_contributions(model, plan, ["tv"])
    second = channel_contributions(model, plan.assign(tv=plan["tv"] * 2), ["tv"])
    both = pd.concat([first, second], keys=["now", "doubled"])
    np.testing.assert_allclose(both["contribution"].to_numpy(), [3.0, 5.0, 6.0, 10.0])


class Funnel:
    """A fitted model with a funnel node ``visits`` forecast when a plan lacks it.

    visits = 2 * radio; revenue = 1 + tv + 0.5 * visits: tv acts directly
    only, radio only through visits. Its draws scale the forecast by one
    factor per draw, shared by every plan for one random_state (paired).
    """

    shop_column = "shop_id"
    node_names_ = ["tv", "radio", "visits", "revenue"]
    node_roles_ = ("media", "media", "funnel", "target")

    def __init__(self):
        self.plans = []

    def rollout(self, X):
        X = X.copy()
        if "visits" not in X.columns:
            X["visits"] = np.nan
        X["visits"] = X["visits"].fillna(2.0 * X["radio"])
        return X.assign(revenue=1.0 + X["tv"] + 0.5 * X["visits"])

    def predict(self, X):
        self.plans.append(X)
        return self.rollout(X)["revenue"]

    def predict_samples(self, X, n_samples, random_state):
        factors = np.random.RandomState(random_state).uniform(0.5, 1.5, n_samples)
        return factors[:, None] * self.predict(X).to_numpy()[None]


def test_a_channel_through_the_funnel_is_mediated_and_one_without_direct(plan):
    model = Funnel()
    # a funnel column of the plan is not read: the model forecasts it
    given = plan.assign(visits=100.0)
    original = given.copy()
    result = channel_contributions(
        model, given, ["tv", "radio"], costs={"tv": 2.0, "radio": 0.5}, n_samples=50
    )
    pd.testing.assert_frame_equal(given, original)
    assert all(
        "visits" not in X.columns or X["visits"].ne(100.0).all() for X in model.plans
    )
    assert result.attrs["funnel"] == ["visits"]
    # by hand: shop b has tv 3, radio 1; shop a tv 5, radio 5; radio brings
    # 0.5 * 2 = 1 per unit, all of it through visits
    np.testing.assert_allclose(result["contribution"], [3.0, 1.0, 5.0, 5.0])
    np.testing.assert_allclose(result["direct"], [3.0, 0.0, 5.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(result["mediated"], [0.0, 1.0, 0.0, 5.0], atol=1e-12)
    assert (result["direct"] + result["mediated"]).equals(result["contribution"])
    np.testing.assert_allclose(result["cost"], [6.0, 0.5, 10.0, 2.5])
    np.testing.assert_allclose(result["roi"], [0.5, 2.0, 0.5, 2.0])
    # linear responses: one more unit of cost brings 1 / cost per unit
    np.testing.assert_allclose(result["marginal_roi"], [0.5, 2.0, 0.5, 2.0])
    # the draws are the point times a factor in (0.5, 1.5): the 80 % interval
    # lies within half the point either side and holds it
    low, high = result["contribution_lower"], result["contribution_upper"]
    assert (low <= result["contribution"]).all()
    assert (high >= result["contribution"]).all()
    assert (low >= 0.5 * result["contribution"] - 1e-9).all()
    assert (high <= 1.5 * result["contribution"] + 1e-9).all()
    assert (high - low > 0.3 * result["contribution"]).all()
    np.testing.assert_allclose(result["roi_lower"], low / result["cost"])
    # Shapley values agree: the model is additive
    shapley = channel_contributions(model, plan, ["tv", "radio"], method="shapley")
    np.testing.assert_allclose(shapley["mediated"], [0.0, 1.0, 0.0, 5.0], atol=1e-12)
    with pytest.raises(ValueError, match="funnel nodes"):
        channel_contributions(model, given, ["visits"])


def test_same_seed_same_intervals_and_grouped_ranking(plan):
    model = Funnel()
    first = channel_contributions(model, plan, ["tv", "radio"], random_state=3)
    again = channel_contributions(model, plan, ["tv", "radio"], random_state=3)
    pd.testing.assert_frame_equal(first, again)
    ranking = top_channels(first, groups={"a": "big", "b": "big"})
    np.testing.assert_allclose(
        ranking.loc["big", "contribution"], top_channels(first)["contribution"]
    )
    split = top_channels(first, groups={"a": "x", "b": "y"})
    assert list(split.index) == [
        ("y", "tv"),
        ("y", "radio"),
        ("x", "tv"),
        ("x", "radio"),
    ]
    # shop a's share: tv 5 and radio 5 of a forecast 3 * 1 + 5 + 5
    np.testing.assert_allclose(split.loc["x", "share"], [5.0 / 13.0, 5.0 / 13.0])
    with pytest.raises(ValueError, match=r"no group for shop\(s\) \['a'\]"):
        top_channels(first, groups={"b": "y"})


def test_causal_mmm_contributions_through_its_funnel_nodes():
    data = make_weekly_mmm(
        n_shops=3, n_channels=3, n_steps=40, as_frame=True, random_state=0
    )
    frame = data.frame
    dates = frame["date"].unique()
    past = frame[frame["date"] < dates[34]]
    future = frame[frame["date"] >= dates[34]]
    plan = future[["shop_id", "date", *data.media_names, *data.control_names]]
    model = CausalMMMRegressor(
        hidden=4,
        max_epochs=1,
        funnel_columns=data.funnel_names,
        control_columns=data.control_names,
        random_state=0,
    ).fit(past.drop(columns="revenue"), past["revenue"])
    channels = data.media_names
    result = channel_contributions(model, plan, channels, n_samples=10)
    # the total of a channel is the forecast lost when it alone is off, the
    # funnel nodes forecast in both: checked through predict
    off = plan.assign(**{channels[1]: 0.0})
    lost = model.predict(plan) - model.predict(off)
    np.testing.assert_allclose(
        result.xs(channels[1], level="channel")["contribution"],
        lost.groupby(plan["shop_id"], sort=False).sum(),
        rtol=1e-9,
    )
    # direct: the funnel nodes held at their forecast under the plan
    funnel = model.rollout(plan)[data.funnel_names].to_numpy()
    held = dict(zip(data.funnel_names, funnel.T, strict=True))
    direct = model.predict(plan.assign(**held)) - model.predict(off.assign(**held))
    np.testing.assert_allclose(
        result.xs(channels[1], level="channel")["direct"],
        direct.groupby(plan["shop_id"], sort=False).sum(),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        result["direct"] + result["mediated"], result["contribution"]
    )
    inside = result["contribution"].between(
        result["contribution_lower"], result["contribution_upper"]
    )
    assert inside.all()

"""Tests of the budget optimiser against known optima and exact constraints."""

# SPDX-License-Identifier: BSD-3-Clause

import itertools

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis._known_curves import KnownCurves
from sklearn_causalmmm.analysis.budget import BudgetAllocation, optimize_budget
from sklearn_causalmmm.datasets import make_causal_mmm

CHANNELS = ["tv", "search", "social"]


class Formula:
    """A fitted 'regressor' whose forecast is a known function of each row."""

    shop_column = "shop_id"

    def __init__(self, formula):
        self.formula = formula
        self.n_calls = 0

    def predict(self, X):
        self.n_calls += 1
        return self.formula(X)


@pytest.fixture
def plan():
    # two shops, three days each, constant daily spend per channel
    return pd.DataFrame(
        {
            "shop_id": ["a"] * 3 + ["b"] * 3,
            "tv": [4.0] * 3 + [2.0] * 3,
            "search": [2.0] * 3 + [2.0] * 3,
            "social": [1.0] * 3 + [0.0] * 3,
            "pv": [5.0] * 6,
        }
    )


def weekly_plan(shops, channels, n_steps, spend, start="2024-01-01"):
    """A long plan: ``spend`` of shape (n_shops, n_steps, n_channels)."""
    dates = pd.date_range(start, periods=n_steps, freq="W-MON")
    frame = pd.DataFrame(
        {
            "shop_id": np.repeat(shops, n_steps),
            "date": np.tile(dates, len(shops)),
        }
    )
    frame[list(channels)] = np.asarray(spend, float).reshape(-1, len(channels))
    return frame


def money_of(result, channels, costs=None):
    """Money per row and channel of the optimized plan, recomputed from it."""
    costs = np.ones(len(channels)) if costs is None else np.array(costs)
    return result.optimized_plan[channels].to_numpy() * costs


# -- known optima --------------------------------------------------------------------


def test_linear_returns_fill_the_best_channel_to_its_bound(plan):
    model = Formula(lambda X: 3.0 * X["tv"] + 1.0 * X["search"] + 2.0 * X["social"])
    result = optimize_budget(model, plan, CHANNELS, costs="money", bounds=(0.5, 1.5))
    factors = result.allocation["factor"]
    # shop a (spend 12, 6, 3): search and social return less than tv, so both
    # go to their lower bound 0.5 and tv takes their 3 + 1.5: 16.5 / 12
    np.testing.assert_allclose(factors.loc["a"], [1.375, 0.5, 0.5], atol=1e-6)
    # shop b has no social spend: it stays at zero; tv takes 3 from search
    np.testing.assert_allclose(factors.loc["b"], [1.5, 0.5, 1.0], atol=1e-6)
    assert result.allocation.loc[("b", "social"), "optimized_spend"] == 0.0
    np.testing.assert_allclose(result.gmv["planned"], [48.0, 24.0])
    np.testing.assert_allclose(result.gmv["optimized"], [55.5, 30.0], rtol=1e-6)
    assert result.uplift == pytest.approx((55.5 + 30.0) / 72.0 - 1.0, rel=1e-6)
    assert result.gain == pytest.approx(13.5, rel=1e-6)


def _flat_shops(n_shops=5, n_channels=4, n_steps=4, seed=0):
    rng = np.random.default_rng(seed)
    shops = [f"shop_{s}" for s in range(n_shops)]
    channels = [f"c{k}" for k in range(n_channels)]
    gain = rng.uniform(20, 80, (n_shops, n_channels))
    half = rng.uniform(5, 30, (n_shops, n_channels))
    daily = rng.uniform(2, 20, (n_shops, n_channels))
    spend = np.repeat(daily[:, None], n_steps, axis=1)
    model = KnownCurves(shops, channels, gain, half, base=100.0)
    return model, weekly_plan(shops, channels, n_steps, spend), spend


def test_whole_plan_allocation_reaches_the_equal_marginal_return_optimum():
    model, plan, spend = _flat_shops()
    planned = spend.sum(axis=1)
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        budget=spend.sum(),
        bounds=(0.2, 2.5),
    )
    # every channel's last unit of money returns the same (water filling)
    best = model.optimum(spend, spend.sum(), 0.2 * planned, 2.5 * planned)
    gain = model.forecast(best).sum() - model.forecast(spend).sum()
    assert gain > 0.02 * result.gmv["planned"].sum()
    assert result.gain == pytest.approx(gain, rel=1e-3)
    optimized = result.allocation["optimized_spend"].to_numpy()
    np.testing.assert_allclose(
        optimized, best.sum(axis=1).ravel(), rtol=1e-2, atol=1e-2 * planned.mean()
    )


def test_period_by_period_plan_reaches_the_optimum_of_a_seasonal_curve():
    model, plan, spend = _flat_shops(n_shops=3, n_channels=3, n_steps=6, seed=1)
    model.season = np.array([1.0, 1.0, 1.5, 2.0, 1.0, 0.5])
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        budget=spend.sum(),
        per_step=True,
        bounds=None,
    )
    # without carryover every cell is its own curve, scaled by its season
    best = model.optimum(spend, spend.sum(), per_step=True)
    gain = model.forecast(best).sum() - model.forecast(spend).sum()
    assert result.gain == pytest.approx(gain, rel=1e-3)
    # spend follows the season: the peak week gets the most
    by_step = result.spend_by_step()["optimized_spend"].groupby(level="step").sum()
    assert by_step.idxmax() == plan["date"].unique()[3]


def test_carryover_moves_spend_before_a_seasonal_peak():
    # one shop, one channel, four weeks; spend works from the next week on
    # and carries half over; week 4 sells four times as much
    model = KnownCurves(
        ["a"],
        ["tv"],
        gain=[[30.0]],
        half=[[2.0]],
        carryover=[[0.5]],
        season=[1.0, 1.0, 1.0, 4.0],
        base=10.0,
        lag=1,
    )
    plan = weekly_plan(["a"], ["tv"], 4, np.full((1, 4, 1), 1.0))
    result = optimize_budget(
        model, plan, ["tv"], budget=4.0, per_step=True, bounds=None
    )
    spend = result.optimized_plan["tv"].to_numpy()
    # the truth, by exhaustive search over every split of 4 in steps of 0.05
    grid = np.array([p for p in itertools.product(range(81), repeat=3) if sum(p) <= 80])
    splits = np.column_stack([grid, 80 - grid.sum(1)]) * 0.05
    # each split as a shop of the same curve
    totals = model.forecast(splits[:, :, None]).sum(axis=1)
    planned = model.forecast(np.ones((1, 4, 1))).sum()
    best = splits[np.argmax(totals)]
    assert result.gain >= 0.99 * (totals.max() - planned)
    assert result.gain <= (totals.max() - planned) * 1.01
    np.testing.assert_allclose(spend, best, atol=0.1)
    # the week before the peak gets the most; the last week is worth nothing
    assert spend.argmax() == 2 and spend[2] > 1.0
    assert spend[3] == pytest.approx(0.0, abs=1e-6)


def test_min_cost_reaches_the_target_for_the_least_money():
    model, plan, spend = _flat_shops(seed=2)
    planned = spend.sum(axis=1)
    cheaper = 0.8 * spend.sum()
    best = model.optimum(spend, cheaper, 0.2 * planned, 3.0 * planned)
    target = model.forecast(best).sum()
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        objective="cost",
        target=target,
        bounds=(0.2, 3.0),
    )
    spent = money_of(result, model.channels).sum()
    # the cheapest plan that reaches the target is the best plan for `cheaper`
    assert spent == pytest.approx(cheaper, rel=1e-3)
    assert model.predict(result.optimized_plan).sum() >= target
    row = result.constraints.loc["forecast target"]
    assert row["optimized"] >= row["lower"] == target


def test_min_roi_spends_until_the_return_falls_to_it():
    model, plan, spend = _flat_shops(seed=3)
    upper = 4.0 * spend.sum(axis=1)
    base = model.forecast(0.0 * spend).sum()
    most = model.forecast(model.optimum(spend, upper.sum(), 0.0, upper)).sum()
    min_roi = 1.5 * (most - base) / upper.sum()
    money = model.roi_budget(spend, min_roi, upper)
    best = model.forecast(model.optimum(spend, money, 0.0, upper)).sum()
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        objective="roi",
        min_roi=min_roi,
        bounds=(0.0, 4.0),
    )
    forecast = model.predict(result.optimized_plan).sum()
    spent = money_of(result, model.channels).sum()
    assert forecast - base >= min_roi * spent
    assert result.gain == pytest.approx(best - model.predict(plan).sum(), rel=1e-2)
    assert spent == pytest.approx(money, rel=1e-2)


# -- every constraint holds ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_every_constraint_holds_exactly_on_random_instances(seed):
    rng = np.random.default_rng(seed)
    n_shops, n_channels, n_steps = rng.integers(2, 5), rng.integers(2, 5), 6
    shops = [f"s{s}" for s in range(n_shops)]
    channels = [f"c{k}" for k in range(n_channels)]
    spend = rng.uniform(1, 10, (n_shops, n_steps, n_channels))
    spend[rng.random(spend.shape) < 0.15] = 0.0  # some weeks off
    costs = rng.uniform(0.5, 2.0, n_channels)
    plan = weekly_plan(shops, channels, n_steps, spend)
    model = KnownCurves(
        shops,
        channels,
        rng.uniform(5, 20, (n_shops, n_channels)),
        rng.uniform(1, 10, (n_shops, n_channels)),
        carryover=rng.uniform(0, 0.6, (n_shops, n_channels)),
        base=50.0,
    )
    per_step = bool(seed % 2)
    cells = spend * costs  # planned money
    # an anchor plan within the bounds fixes budgets that can all hold
    low, high = 0.5, 1.8
    anchor = cells * rng.uniform(0.6, 1.7, cells.shape)
    if not per_step:  # whole-plan variables keep the plan's timing
        anchor = cells * rng.uniform(0.6, 1.7, (n_shops, 1, n_channels))
    fixed = [channels[0]] if seed % 3 == 0 else []
    for k, c in enumerate(channels):
        if c in fixed:
            anchor[..., k] = cells[..., k]
    groups = {shop: f"g{s % 2}" for s, shop in enumerate(shops)}
    by_group = {
        g: anchor[[s for s, shop in enumerate(shops) if groups[shop] == g]].sum()
        for g in ("g0", "g1")
    }
    periods = [0, 0, 0, 1, 1, 1]
    pair = (shops[-1], channels[-1])
    pair_money = anchor[-1, :, -1].sum()
    kwargs = dict(
        costs=dict(zip(channels, costs, strict=True)),
        bounds=(low, high),
        fixed=fixed,
        per_step=per_step,
        budget=anchor.sum(),
        shop_budgets={shops[0]: anchor[0].sum()},
        groups=groups,
        group_budgets=by_group,
        min_spend={pair: 0.9 * pair_money},
        max_spend={pair: 1.1 * pair_money, channels[1]: 1e6},
    )
    if per_step:
        kwargs.update(
            periods=periods,
            period_budgets={0: anchor[:, :3].sum(), 1: anchor[:, 3:].sum()},
        )
    original = plan.copy()
    result = optimize_budget(model, plan, channels, **kwargs)
    pd.testing.assert_frame_equal(plan, original)

    cube = money_of(result, channels, costs).reshape(n_shops, n_steps, n_channels)
    exact = dict(rtol=1e-9, atol=0)
    np.testing.assert_allclose(cube.sum(), anchor.sum(), **exact)
    np.testing.assert_allclose(cube[0].sum(), anchor[0].sum(), **exact)
    for g, amount in by_group.items():
        members = [s for s, shop in enumerate(shops) if groups[shop] == g]
        np.testing.assert_allclose(cube[members].sum(), amount, **exact)
    if per_step:
        np.testing.assert_allclose(cube[:, :3].sum(), anchor[:, :3].sum(), **exact)
        # relative bounds per cell; a week off stays off
        assert np.all(cube >= low * cells * (1 - 1e-12))
        assert np.all(cube <= high * cells * (1 + 1e-12))
    else:
        totals, planned = cube.sum(1), cells.sum(1)
        assert np.all(totals >= low * planned * (1 - 1e-12))
        assert np.all(totals <= high * planned * (1 + 1e-12))
        # the plan's timing is kept: each week keeps its share of the channel
        with np.errstate(invalid="ignore", divide="ignore"):
            share, planned_share = cube / totals[:, None], cells / planned[:, None]
        np.testing.assert_allclose(
            np.nan_to_num(share), np.nan_to_num(planned_share), atol=1e-12
        )
    assert np.all(cube[cells == 0] == 0.0)
    pair_total = cube[-1, :, -1].sum()
    assert 0.9 * pair_money * (1 - 1e-9) <= pair_total <= 1.1 * pair_money * (1 + 1e-9)
    for c in fixed:
        np.testing.assert_array_equal(
            result.optimized_plan[c].to_numpy(), plan[c].to_numpy()
        )
    # the result's own accounts agree with the plan it returns
    np.testing.assert_allclose(
        result.allocation["optimized_spend"].to_numpy(),
        cube.sum(1).ravel(),
        rtol=1e-12,
    )
    forecast = model.predict(result.optimized_plan)
    np.testing.assert_allclose(
        forecast.groupby(plan["shop_id"]).sum().to_numpy(), result.gmv["optimized"]
    )
    assert result.gain > 0


def test_a_fixed_channel_and_a_shop_without_spend_keep_their_plan(plan):
    model = Formula(lambda X: 3.0 * X["tv"] + 1.0 * X["search"] + 2.0 * X["social"])
    result = optimize_budget(model, plan, CHANNELS, costs="money", fixed=["tv"])
    np.testing.assert_array_equal(result.optimized_plan["tv"], plan["tv"])
    # tv cannot take more: social (2 per unit) fills its bound 4.5 from
    # search (1 per unit), which keeps the rest of shop a's 21: 4.5 of 6
    np.testing.assert_allclose(
        result.allocation.loc["a", "factor"], [1.0, 0.75, 1.5], atol=1e-6
    )
    # shop b: social off (keep_flighting), tv fixed: nothing can move
    np.testing.assert_allclose(result.allocation.loc["b", "factor"], 1.0)


def test_a_flat_response_keeps_the_plan(plan):
    model = Formula(lambda X: X["pv"] * 2.0)
    result = optimize_budget(model, plan, CHANNELS, costs="money")
    np.testing.assert_allclose(result.allocation["factor"], 1.0)
    assert np.all(result.gmv["uplift"] == 0.0)


def test_a_shop_made_worse_keeps_its_plan(plan):
    # a forecast that a gradient method cannot improve on: a kink at the plan
    def kinked(X):
        return -np.abs(X["tv"] - 4.0) - np.abs(X["search"] - 2.0) + X["social"]

    result = optimize_budget(Formula(kinked), plan, CHANNELS, costs="money")
    assert np.all(result.gmv["optimized"] >= result.gmv["planned"] - 1e-9)


def test_costs_turn_impressions_into_money():
    # tv in spend, display in impressions at 5 per thousand
    plan = weekly_plan(["a"], ["tv", "display"], 3, [[[100.0, 20_000.0]] * 3])
    model = KnownCurves(
        ["a"], ["tv", "display"], gain=[[50.0, 50.0]], half=[[100.0, 20_000.0]]
    )
    costs = {"tv": 1.0, "display": 0.005}
    result = optimize_budget(
        model, plan, ["tv", "display"], costs=costs, budget=600.0, bounds=None
    )
    spent = money_of(result, ["tv", "display"], [1.0, 0.005]).sum()
    assert spent == pytest.approx(600.0, rel=1e-9)
    # the allocation is in money; the plan stays in its own units
    assert result.allocation["optimized_spend"].sum() == pytest.approx(600.0)
    assert result.optimized_plan["display"].sum() > 1000.0


def test_a_multiindex_plan_comes_back_in_its_layout():
    spend = np.random.default_rng(8).uniform(1, 5, (2, 4, 2))
    plan = weekly_plan(["a", "b"], ["tv", "search"], 4, spend)
    plan = plan.set_index(["shop_id", "date"])

    class Indexed(Formula):
        shop_column = "shop"  # not a column: shops are the first index level

    model = Indexed(lambda X: 3 * np.log1p(X["tv"]) + np.log1p(X["search"] / 2))
    result = optimize_budget(
        model,
        plan,
        ["tv", "search"],
        costs="money",
        budget=spend.sum(),
        per_step=True,
        bounds=(0.5, 2.0),
    )
    pd.testing.assert_index_equal(result.optimized_plan.index, plan.index)
    assert result.optimized_plan.to_numpy().sum() == pytest.approx(spend.sum())
    assert list(result.gmv.index) == ["a", "b"] and result.gain > 0


def test_period_budgets_follow_calendar_months():
    model, plan, _ = _flat_shops(n_shops=2, n_channels=2, n_steps=8, seed=4)
    channels = model.channels
    months = plan["date"].dt.to_period("M").astype(str)
    planned = plan[channels].sum(axis=1).groupby(months).sum()
    budgets = {month: 1.2 * amount for month, amount in planned.items()}
    result = optimize_budget(
        model,
        plan,
        channels,
        costs="money",
        per_step=True,
        bounds=None,
        periods="M",
        period_budgets=budgets,
    )
    spent = result.optimized_plan[channels].sum(axis=1).groupby(months).sum()
    np.testing.assert_allclose(spent, [budgets[m] for m in spent.index], rtol=1e-9)


# -- uncertainty ---------------------------------------------------------------------


class Sampled(KnownCurves):
    """Known curves with a shop-level demand shock shared by every plan."""

    def __init__(self, *args, noise, **kwargs):
        super().__init__(*args, **kwargs)
        self.noise = noise

    def shocks(self, n_samples, random_state):
        rng = np.random.default_rng(random_state)
        return 1.0 + self.noise * rng.standard_normal((n_samples, len(self.shops)))

    def predict_samples(self, X, n_samples, random_state):
        shop = pd.Index(self.shops).get_indexer(X[self.shop_column])
        return (
            self.predict(X).to_numpy() * self.shocks(n_samples, random_state)[:, shop]
        )


@pytest.mark.parametrize("noise", [0.001, 5.0])
def test_paired_draws_give_the_gain_interval_and_the_advice(noise):
    base_model, plan, _ = _flat_shops(n_shops=3, seed=5)
    model = Sampled(
        base_model.shops,
        base_model.channels,
        base_model.gain,
        base_model.half,
        base=100.0,
        noise=noise,
    )
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        coverage=0.8,
        n_samples=400,
        random_state=0,
    )
    # the same shocks hit both plans: the gain's draws scale each shop's gain
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    shocks = model.shocks(400, seed)
    gains = (result.gmv["optimized"] - result.gmv["planned"]).to_numpy()
    expected = np.quantile(shocks @ gains, [0.1, 0.9])
    np.testing.assert_allclose(result.gain_interval, expected, rtol=1e-9)
    assert result.interval_method == "samples"
    assert result.no_change_recommended is (noise > 1.0)
    assert result.recommendation.startswith(
        "No change recommended" if noise > 1.0 else "Change recommended"
    )


def test_forecast_bands_give_a_conservative_interval(plan):
    class Banded(Formula):
        def predict_interval(self, X, coverage):
            self.coverage = coverage
            forecast = self.predict(X)
            return forecast - 1.0, forecast + 1.0

    model = Banded(lambda X: 3.0 * X["tv"] + 1.0 * X["search"] + 2.0 * X["social"])
    result = optimize_budget(model, plan, CHANNELS, costs="money", coverage=0.8)
    # each plan's band at 90 % so both hold together with 80 %; 6 rows of +-1
    assert model.coverage == pytest.approx(0.9)
    np.testing.assert_allclose(
        result.gain_interval, [result.gain - 12.0, result.gain + 12.0]
    )
    assert result.interval_method == "bands"
    assert not result.no_change_recommended  # gain 13.5 > 12


def test_without_uncertainty_no_interval_is_invented(plan):
    model = Formula(lambda X: 3.0 * X["tv"] + X["search"])
    result = optimize_budget(model, plan, CHANNELS, costs="money")
    assert result.gain_interval is None and result.interval_method is None
    assert result.no_change_recommended is None
    assert "cannot sample its forecasts" in result.recommendation


# -- refusals ------------------------------------------------------------------------


def test_channels_of_unknown_units_are_not_added_up(plan):
    model = Formula(lambda X: X["tv"])
    with pytest.raises(ValueError, match=r"costs=\{'tv': 1.0, 'search': 1.0"):
        optimize_budget(model, plan, CHANNELS)
    with pytest.raises(ValueError, match=r"no entry for channel\(s\) \['social'\]"):
        optimize_budget(model, plan, CHANNELS, costs={"tv": 1.0, "search": 0.01})
    with pytest.raises(ValueError, match=r"costs of \['tv'\] must be finite and > 0"):
        optimize_budget(
            model, plan, CHANNELS, costs={"tv": 0.0, "search": 1.0, "social": 1.0}
        )
    # one channel has one unit: no costs needed
    optimize_budget(model, plan, ["tv"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bounds": (1.1, 0.9)}, "0 <= lower <= upper < inf"),
        ({"bounds": (-0.1, 2.0)}, "0 <= lower <= upper < inf"),
        ({"objective": "profit"}, "objective must be one of"),
        ({"target": 10.0}, "goes with objective='cost'|is the forecast to reach"),
        ({"objective": "roi"}, "needs min_roi"),
        ({"min_roi": 2.0}, "goes with objective='roi'"),
        ({"coverage": 1.0}, r"coverage must be in \(0, 1\)"),
        ({"max_rounds": 0}, "max_rounds must be an integer >= 1"),
        ({"budget": -1.0}, "budget must be finite and >= 0"),
        ({"shop_budgets": {"z": 3.0}}, "names 'z', which is not a shop"),
        ({"groups": {"a": "north"}}, "groups and group_budgets go together"),
        ({"periods": 2}, "periods and period_budgets go together"),
        ({"periods": 2, "period_budgets": {7: 1.0}}, "names 7, which is not a period"),
        ({"min_spend": {"radio": 1.0}}, "neither a channel"),
        ({"fixed": [("z", "tv")]}, "names shop 'z'"),
        ({"shop_budgets": {"a": 1.0}}, r"shop 'a': at most 1, but the bounds"),
        ({"budget": 1000.0}, r"budget \(all shops\): 1,000 must be spent"),
        (
            {"min_spend": {("b", "social"): 1.0}},
            "min_spend/max_spend .* keep_flighting=False to give it spend",
        ),
        ({"min_spend": {"tv": 5.0}, "max_spend": {"tv": 4.0}}, "exceeds max_spend"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(plan, kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimize_budget(
            Formula(lambda X: X["tv"]), plan, CHANNELS, costs="money", **kwargs
        )


def test_a_target_out_of_reach_is_refused(plan):
    model = Formula(lambda X: 3.0 * X["tv"] + 1.0 * X["search"] + 2.0 * X["social"])
    with pytest.raises(
        ValueError, match="no plan within the budgets and bounds reaches target=1,000"
    ):
        optimize_budget(
            model, plan, CHANNELS, costs="money", objective="cost", target=1000.0
        )


def test_a_plan_with_a_repeated_step_is_refused():
    plan = weekly_plan(["a"], ["tv"], 2, [[[1.0], [1.0]]])
    plan.loc[1, "date"] = plan.loc[0, "date"]
    with pytest.raises(ValueError, match="gives step .* of a shop twice"):
        optimize_budget(Formula(lambda X: X["tv"]), plan, ["tv"])


def test_negative_planned_spend_is_named(plan):
    plan.loc[4, "search"] = -1.0
    with pytest.raises(
        ValueError,
        match=r"X_plan\['search'\] is -1 at row 4 "
        r"\(shop 'b'\)",
    ):
        optimize_budget(Formula(lambda X: X["tv"]), plan, CHANNELS, costs="money")


# -- the result ----------------------------------------------------------------------


def test_result_tables_add_up():
    model, plan, _ = _flat_shops(n_shops=2, n_channels=2, n_steps=3, seed=6)
    result = optimize_budget(
        model, plan, model.channels, costs="money", per_step=True, bounds=(0.5, 2.0)
    )
    by_step = result.spend_by_step()
    assert by_step.index.names == ["step", "channel"]
    np.testing.assert_allclose(
        by_step["optimized_spend"].groupby(level="channel", sort=False).sum(),
        result.spend_by_channel()["optimized_spend"],
    )
    # the default budget: each shop keeps its planned money
    assert list(result.constraints.index) == ["shop 'shop_0'", "shop 'shop_1'"]
    np.testing.assert_allclose(
        result.constraints["optimized"], result.constraints["planned"]
    )
    legacy = BudgetAllocation(
        allocation=result.allocation,
        gmv=result.gmv,
        optimized_plan=result.optimized_plan,
        n_rounds=1,
        converged=True,
    )
    with pytest.raises(ValueError, match="no schedule"):
        legacy.spend_by_step()


def test_finite_differences_reach_what_the_gradient_reaches():
    model, plan, _ = _flat_shops(n_shops=3, n_channels=3, n_steps=3, seed=7)
    model.carryover = np.full((3, 3), 0.4)

    class PredictOnly:
        shop_column = "shop_id"
        predict = staticmethod(model.predict)

    total = float(plan[model.channels].to_numpy().sum())
    kwargs = dict(costs="money", budget=total, per_step=True, bounds=(0.3, 3.0))
    with_gradient = optimize_budget(model, plan, model.channels, **kwargs)
    model.n_predictions = 0
    by_differences = optimize_budget(PredictOnly(), plan, model.channels, **kwargs)
    assert model.n_predictions > 0  # the model's predict did the work
    assert by_differences.gain == pytest.approx(with_gradient.gain, rel=1e-4)
    np.testing.assert_allclose(
        by_differences.optimized_plan[model.channels],
        with_gradient.optimized_plan[model.channels],
        rtol=1e-2,
    )


def test_causal_mmm_plan_keeps_its_constraints_and_never_loses():
    frame = make_causal_mmm(
        n_shops=4, n_steps=40, as_frame=True, random_state=2
    ).frame.drop(columns=["context_0", "context_1"])
    past = frame[frame["date"] < "2024-02-03"]
    plan = frame[frame["date"] >= "2024-02-03"].drop(columns="gmv")
    model = CausalMMMRegressor(hidden=4, max_epochs=2, random_state=0)
    model.fit(past.drop(columns="gmv"), past["gmv"])
    channels = ["search", "brand", "display"]
    total = float(plan[channels].to_numpy().sum())
    result = optimize_budget(
        model,
        plan,
        channels,
        costs="money",
        budget=total,
        per_step=True,
        bounds=(0.5, 1.5),
        max_rounds=5,
    )
    assert result.gain >= 0.0
    cells = result.optimized_plan[channels].to_numpy()
    planned = plan[channels].to_numpy()
    assert cells.sum() == pytest.approx(total, rel=1e-9)
    assert np.all(cells >= 0.5 * planned * (1 - 1e-12))
    assert np.all(cells <= 1.5 * planned * (1 + 1e-12))
    forecast = model.predict(result.optimized_plan)
    totals = forecast.groupby(plan["shop_id"], sort=False).sum()
    np.testing.assert_allclose(totals, result.gmv["optimized"], rtol=1e-9)

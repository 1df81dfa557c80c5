"""Tests of the budget reallocation."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis.budget import optimize_budget
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


def test_linear_returns_fill_the_best_channel_to_its_bound(plan):
    model = Formula(lambda X: 3.0 * X["tv"] + 1.0 * X["search"] + 2.0 * X["social"])
    result = optimize_budget(model, plan, CHANNELS, bounds=(0.5, 1.5))
    factors = result.allocation["factor"]
    # shop a (spend 12, 6, 3): search and social return less than tv, so both
    # go to their lower bound 0.5 and tv takes their 3 + 1.5: 16.5 / 12
    np.testing.assert_allclose(factors.loc["a"], [1.375, 0.5, 0.5], atol=1e-9)
    # shop b has no social spend: it stays at zero; tv takes 3 from search
    np.testing.assert_allclose(factors.loc["b"], [1.5, 0.5, 1.0], atol=1e-9)
    assert result.allocation.loc[("b", "social"), "optimized_spend"] == 0.0
    np.testing.assert_allclose(result.gmv["planned"], [48.0, 24.0])
    np.testing.assert_allclose(result.gmv["optimized"], [55.5, 30.0])
    assert result.uplift == pytest.approx((55.5 + 30.0) / 72.0 - 1.0)
    assert result.converged


GAINS, HALVES = (2.0, 3.0, 6.0), (3.0, 1.0, 0.5)


def saturating(X, a=GAINS, half=HALVES):
    return sum(
        gain * X[c] / (X[c] + h) for c, gain, h in zip(CHANNELS, a, half, strict=True)
    )


def test_saturating_returns_reach_the_constrained_optimum(plan):
    shop = plan[plan["shop_id"] == "a"]
    result = optimize_budget(Formula(saturating), shop, CHANNELS, bounds=(0.2, 3.0))
    # the optimum by a general solver on the same problem
    daily = shop[CHANNELS].iloc[0].to_numpy()

    def negative_gmv(factors):
        return -3 * sum(
            g * f * x / (f * x + h)
            for g, h, f, x in zip(GAINS, HALVES, factors, daily, strict=True)
        )

    reference = minimize(
        negative_gmv,
        np.ones(3),
        bounds=[(0.2, 3.0)] * 3,
        constraints={"type": "eq", "fun": lambda f: f @ daily - daily.sum()},
        method="SLSQP",
    )
    assert reference.success
    assert result.gmv.loc["a", "optimized"] == pytest.approx(-reference.fun, rel=1e-4)
    assert result.gmv.loc["a", "optimized"] > 1.01 * result.gmv.loc["a", "planned"]
    np.testing.assert_allclose(
        result.allocation.loc["a", "factor"], reference.x, atol=0.02
    )


def test_budget_and_bounds_hold_and_the_plan_is_left_alone(plan):
    original = plan.copy()
    result = optimize_budget(Formula(saturating), plan, CHANNELS, bounds=(0.7, 1.2))
    pd.testing.assert_frame_equal(plan, original)
    spend = result.allocation.groupby(level="shop", sort=False)[
        ["planned_spend", "optimized_spend"]
    ].sum()
    np.testing.assert_allclose(spend["optimized_spend"], spend["planned_spend"])
    factors = result.allocation["factor"]
    assert factors.min() >= 0.7 - 1e-12 and factors.max() <= 1.2 + 1e-12
    # the optimized plan is the plan with the optimized daily spend
    optimized = result.optimized_plan
    pd.testing.assert_series_equal(optimized["pv"], plan["pv"])
    by_shop = optimized.groupby("shop_id", sort=False)[CHANNELS].sum()
    np.testing.assert_allclose(
        by_shop.to_numpy().ravel(), result.allocation["optimized_spend"]
    )
    totals = saturating(optimized).groupby(optimized["shop_id"], sort=False).sum()
    np.testing.assert_allclose(totals, result.gmv["optimized"])


def test_a_flat_response_keeps_the_plan(plan):
    model = Formula(lambda X: X["pv"] * 2.0)
    result = optimize_budget(model, plan, CHANNELS)
    assert np.all(result.allocation["factor"] == 1.0)
    assert np.all(result.gmv["uplift"] == 0.0)
    assert result.converged
    # one round of marginal returns, then every shop stops
    assert result.n_rounds == 1
    assert model.n_calls == 1 + len(CHANNELS)


def test_a_small_channel_is_measured_on_spend_it_could_get():
    # tv returns 0.5 per unit; search 10 per unit, but only up to 0.11 a day:
    # probing search with 1 % of the budget (10 a day) would see ~0.01
    plan = pd.DataFrame(
        {"shop_id": ["a", "a"], "tv": [1000.0, 1000.0], "search": [0.1, 0.1]}
    )

    def formula(X):
        return 0.5 * X["tv"] + 10.0 * np.minimum(X["search"], 0.11)

    result = optimize_budget(Formula(formula), plan, ["tv", "search"])
    factors = result.allocation["factor"]
    assert factors[("a", "search")] == pytest.approx(1.1, abs=0.01)
    assert result.gmv.loc["a", "optimized"] > result.gmv.loc["a", "planned"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bounds": (1.1, 2.0)}, "0 <= lower <= 1 <= upper"),
        ({"bounds": (0.5, 0.9)}, "0 <= lower <= 1 <= upper"),
        ({"bounds": (-0.1, 2.0)}, "0 <= lower <= 1 <= upper"),
        ({"step": 0.0}, r"step must be in \(0, 1\]"),
        ({"min_step": 0.5, "step": 0.1}, r"min_step must be in \(0, step\]"),
        ({"max_rounds": 0}, "max_rounds must be at least 1"),
    ],
)
def test_bad_settings_are_refused(plan, kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimize_budget(Formula(saturating), plan, CHANNELS, **kwargs)


def test_causal_mmm_reallocation_keeps_budget_and_never_loses():
    frame = make_causal_mmm(
        n_shops=4, n_steps=40, as_frame=True, random_state=2
    ).frame.drop(columns=["context_0", "context_1"])
    past = frame[frame["date"] < "2024-02-03"]
    plan = frame[frame["date"] >= "2024-02-03"].drop(columns="gmv")
    model = CausalMMMRegressor(hidden=4, max_epochs=2, random_state=0)
    model.fit(past.drop(columns="gmv"), past["gmv"])
    channels = ["search", "brand", "display"]
    result = optimize_budget(model, plan, channels, max_rounds=15)
    assert np.all(result.gmv["optimized"] >= result.gmv["planned"])
    assert result.uplift > 0.0
    spend = result.allocation.groupby(level="shop", sort=False)[
        ["planned_spend", "optimized_spend"]
    ].sum()
    np.testing.assert_allclose(spend["optimized_spend"], spend["planned_spend"])
    forecast = model.predict(result.optimized_plan)
    totals = forecast.groupby(plan["shop_id"], sort=False).sum()
    np.testing.assert_allclose(totals, result.gmv["optimized"], rtol=1e-9)

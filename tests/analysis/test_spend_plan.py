"""Tests of plans as money, their forecasts and gradients."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis._known_curves import KnownCurves
from sklearn_causalmmm.analysis._spend_plan import SpendPlan
from sklearn_causalmmm.datasets import make_causal_mmm


def curves(n_shops=3, n_channels=2, lag=1, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n_shops, n_channels)
    return KnownCurves(
        [f"s{s}" for s in range(n_shops)],
        [f"c{k}" for k in range(n_channels)],
        gain=rng.uniform(5, 20, shape),
        half=rng.uniform(1, 10, shape),
        carryover=rng.uniform(0.2, 0.7, shape),
        stock=rng.uniform(0, 5, shape),
        season=[1.0, 2.0, 0.5, 1.5],
        base=10.0,
        lag=lag,
    )


def curve_plan(model, seed=1):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=4, freq="D")
    plan = pd.DataFrame(
        {
            "shop_id": np.repeat(model.shops, 4),
            "date": np.tile(dates, len(model.shops)),
        }
    )
    plan[model.channels] = rng.uniform(1, 10, (len(plan), len(model.channels)))
    return plan


@pytest.mark.parametrize("lag", [0, 1])
def test_known_curves_gradient_is_exact(lag):
    model = curves(lag=lag)
    spend = np.random.default_rng(2).uniform(1, 10, (3, 4, 2))
    gradient = model.gradient(spend)
    h = 1e-6
    for index in [(0, 0, 0), (1, 2, 1), (2, 3, 0), (0, 1, 1)]:
        up, down = spend.copy(), spend.copy()
        up[index] += h
        down[index] -= h
        slope = (model.forecast(up).sum() - model.forecast(down).sum()) / (2 * h)
        assert gradient[index] == pytest.approx(slope, rel=1e-6, abs=1e-9)
    if lag:  # the last step's spend acts after the plan
        np.testing.assert_array_equal(gradient[:, -1], 0.0)


@pytest.mark.parametrize("per_step", [False, True])
def test_finite_differences_batched_over_shops_match_the_gradient(per_step):
    model = curves()
    plan = curve_plan(model)
    costs = np.array([1.0, 0.5])
    exact = SpendPlan(model, plan, model.channels, costs, per_step)

    class PredictOnly:
        shop_column = "shop_id"
        predict = staticmethod(model.predict)

    batched = SpendPlan(PredictOnly(), plan, model.channels, costs, per_step)
    x = exact.planned_x * 1.1
    free = np.ones(exact.n_vars, bool)
    free[0] = False
    totals, gradient = exact.forecast_and_gradient(x, free)
    fd_totals, fd_gradient = batched.forecast_and_gradient(x, free)
    np.testing.assert_allclose(fd_totals, totals)
    np.testing.assert_allclose(fd_gradient, gradient, rtol=1e-5)
    assert gradient[0] == 0.0
    # a forecast up and one down per variable of a shop, every shop at once,
    # and the plan's own: never one forecast per variable of the whole plan
    per_shop = np.bincount(exact.var_shop[free]).max()
    assert batched.n_forecasts == 1 + 2 * per_shop
    assert batched.n_forecasts < exact.n_vars


def test_whole_plan_variables_keep_the_timing_and_spread_a_new_channel():
    model = curves(n_shops=2)
    plan = curve_plan(model)
    plan.loc[plan["shop_id"] == "s1", "c1"] = 0.0
    space = SpendPlan(model, plan, model.channels, np.ones(2), per_step=False)
    assert space.n_vars == 4
    x = space.planned_x * np.array([2.0, 0.5, 1.0, 1.0])
    x[3] = 8.0  # shop s1's c1 had no spend: 8 over four steps
    cells = space.cells(x)
    shop0 = plan["shop_id"].to_numpy() == "s0"
    np.testing.assert_allclose(cells[shop0], plan.loc[shop0, ["c0", "c1"]] * [2, 0.5])
    np.testing.assert_allclose(cells[~shop0, 1], 2.0)
    changed = space.plan(x)
    np.testing.assert_array_equal(changed.loc[~shop0, "c0"], plan.loc[~shop0, "c0"])


def test_plan_gradient_of_causal_mmm_is_the_slope_of_its_forecast():
    frame = make_causal_mmm(n_shops=3, n_steps=40, as_frame=True, random_state=0).frame
    past = frame[frame["date"] < "2024-02-03"]
    plan = frame[frame["date"] >= "2024-02-03"].drop(columns="gmv")
    model = CausalMMMRegressor(
        hidden=8,
        max_epochs=2,
        context_columns=["context_0", "context_1"],
        random_state=0,
    ).fit(past.drop(columns="gmv"), past["gmv"])
    forecast, gradient = model.plan_gradient(plan)
    # computed in float64, it is predict's forecast up to float32 rounding
    np.testing.assert_allclose(forecast, model.predict(plan), rtol=1e-5)
    pd.testing.assert_index_equal(forecast.index, plan.index)
    # the gradient comes back in the plan's layout, shop and date included
    pd.testing.assert_index_equal(gradient.columns, plan.columns)
    np.testing.assert_array_equal(gradient["shop_id"], plan["shop_id"])
    channels = ["brand", "display", "video", "feed", "search"]
    rng = np.random.default_rng(0)
    for _ in range(3):
        # a directional derivative along a random rise of the whole plan,
        # large enough to stand out of the float32 forecast's rounding
        direction = plan[channels] * rng.uniform(0, 1, (len(plan), len(channels)))
        h = 0.1
        up, down = plan.copy(), plan.copy()
        up[channels] += h * direction
        down[channels] -= h * direction
        slope = (model.predict(up).sum() - model.predict(down).sum()) / (2 * h)
        predicted = float((gradient[channels] * direction).to_numpy().sum())
        assert predicted == pytest.approx(slope, rel=0.05)

"""Tests of the counterfactual response curves."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm import CausalMMMRegressor
from sklearn_causalmmm.analysis.response import response_curves
from sklearn_causalmmm.datasets import make_causal_mmm


class LinearPlan:
    """A fitted 'regressor' with a known response: GMV = 2 tv + search + 1."""

    shop_column = "shop_id"

    def __init__(self):
        self.plans = []

    def predict(self, X):
        self.plans.append(X.copy())
        return 2.0 * X["tv"] + X["search"] + 1.0


@pytest.fixture
def plan():
    return pd.DataFrame(
        {
            "shop_id": ["b", "b", "a", "a", "a"],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-02", "2024-01-03"]
            ),
            "tv": [1.0, 2.0, 0.0, 4.0, 1.0],
            "search": [3.0, 3.0, 1.0, 1.0, 2.0],
        }
    )


def test_curves_are_the_totals_of_the_scaled_plans(plan):
    model = LinearPlan()
    original = plan.copy()
    curves = response_curves(model, plan, ["tv", "search"], [0.0, 0.5, 1.0, 2.0])
    pd.testing.assert_frame_equal(plan, original)  # the caller's plan is untouched
    assert list(curves.index) == [0.0, 0.5, 1.0, 2.0]
    assert curves.index.name == "factor"
    # shops in order of first appearance, channels in the order asked
    assert list(curves.columns) == [
        ("b", "tv"),
        ("b", "search"),
        ("a", "tv"),
        ("a", "search"),
    ]
    # by hand: shop b has tv 3, search 6 over 2 rows; shop a tv 5, search 4, 3 rows
    expected = {
        ("b", "tv"): [0 + 6 + 2, 3 + 6 + 2, 6 + 6 + 2, 12 + 6 + 2],
        ("b", "search"): [6 + 0 + 2, 6 + 3 + 2, 6 + 6 + 2, 6 + 12 + 2],
        ("a", "tv"): [0 + 4 + 3, 5 + 4 + 3, 10 + 4 + 3, 20 + 4 + 3],
        ("a", "search"): [10 + 0 + 3, 10 + 2 + 3, 10 + 4 + 3, 10 + 8 + 3],
    }
    for column, values in expected.items():
        np.testing.assert_allclose(curves[column].to_numpy(), values)
    # factor 1 is one shared call; the others one call per channel and factor
    assert len(model.plans) == 1 + 2 * 3
    # only the scaled channel changes in a counterfactual plan
    halved = model.plans[2]  # tv x 0.5
    np.testing.assert_allclose(halved["tv"], plan["tv"] * 0.5)
    pd.testing.assert_series_equal(halved["search"], plan["search"])


def test_multiindex_plans_total_by_the_first_level(plan):
    indexed = plan.set_index(["shop_id", "date"])
    curves = response_curves(LinearPlan(), indexed, ["tv"], [1.0, 2.0])
    assert list(curves.columns) == [("b", "tv"), ("a", "tv")]
    np.testing.assert_allclose(curves[("a", "tv")], [17.0, 27.0])


@pytest.mark.parametrize(
    ("channels", "factors", "message"),
    [
        (["tv", "radio"], [1.0], r"channels \['radio'\] are not columns"),
        ([], [1.0], "channels is empty"),
        (["tv"], [1.0, -0.5], "factors must be finite and >= 0"),
        (["tv"], [np.nan], "factors must be finite and >= 0"),
        (["tv"], [], "factors is empty"),
    ],
)
def test_bad_channels_or_factors_are_named(plan, channels, factors, message):
    with pytest.raises(ValueError, match=message):
        response_curves(LinearPlan(), plan, channels, factors)


def test_plan_needs_shops(plan):
    with pytest.raises(ValueError, match="no shop column 'shop_id'"):
        response_curves(LinearPlan(), plan.drop(columns="shop_id"), ["tv"], [1.0])
    with pytest.raises(TypeError, match="must be a DataFrame"):
        response_curves(LinearPlan(), plan.to_numpy(), ["tv"], [1.0])


def test_factor_one_reproduces_a_fitted_models_forecast():
    frame = make_causal_mmm(
        n_shops=3, n_steps=40, as_frame=True, random_state=1
    ).frame.drop(columns=["context_0", "context_1"])
    past = frame[frame["date"] < "2024-02-03"]
    future = frame[frame["date"] >= "2024-02-03"].drop(columns="gmv")
    model = CausalMMMRegressor(hidden=4, max_epochs=1, random_state=0)
    model.fit(past.drop(columns="gmv"), past["gmv"])
    curves = response_curves(model, future, ["search", "brand"], [0.0, 1.0])
    total = model.predict(future).groupby(future["shop_id"]).sum()
    for channel in ("search", "brand"):
        np.testing.assert_allclose(
            curves.loc[1.0].xs(channel, level="channel"), total.to_numpy()
        )
    # Switching a channel off changes the forecast: the plan reaches the model.
    assert not np.allclose(curves.loc[0.0], curves.loc[1.0])

"""Tests of the per-shop channel scaling shared by the decision tools."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm.analysis._scenarios import ScenarioPlan


class Additive:
    """GMV = 2 tv + search per row."""

    shop_column = "shop_id"

    def predict(self, X):
        return 2.0 * X["tv"] + X["search"]


@pytest.fixture
def plan():
    return pd.DataFrame(
        {
            "shop_id": ["b", "a", "b", "a", "a"],
            "tv": [1.0, 0.0, 2.0, 4.0, 1.0],
            "search": [3.0, 1.0, 3.0, 1.0, 2.0],
            "pv": [9.0, 9.0, 9.0, 9.0, 9.0],
        }
    )


def test_spend_and_totals_per_shop_in_order_of_appearance(plan):
    scenarios = ScenarioPlan(Additive(), plan, ["tv", "search"])
    assert list(scenarios.shops) == ["b", "a"]
    np.testing.assert_allclose(scenarios.spend, [[3.0, 6.0], [5.0, 4.0]])
    np.testing.assert_allclose(scenarios.total_gmv(), [12.0, 14.0])
    # shop b: tv x 2, search x 0; shop a: tv x 0, search x 3
    factors = [[2.0, 0.0], [0.0, 3.0]]
    np.testing.assert_allclose(scenarios.total_gmv(factors), [12.0, 12.0])
    scaled = scenarios.scaled(factors)
    np.testing.assert_allclose(scaled["tv"], [2.0, 0.0, 4.0, 0.0, 0.0])
    np.testing.assert_allclose(scaled["search"], [0.0, 3.0, 0.0, 3.0, 6.0])
    pd.testing.assert_series_equal(scaled["pv"], plan["pv"])
    assert scenarios.n_predictions == 2


def test_the_callers_plan_is_not_modified(plan):
    original = plan.copy()
    ScenarioPlan(Additive(), plan, ["tv"]).total_gmv(0.0)
    pd.testing.assert_frame_equal(plan, original)


def test_multiindex_plans_take_shops_from_the_first_level(plan):
    plan = plan.assign(step=[0, 0, 1, 1, 2]).set_index(["shop_id", "step"])
    scenarios = ScenarioPlan(Additive(), plan, ["tv", "search"])
    np.testing.assert_allclose(scenarios.total_gmv([1.0, 0.0]), [6.0, 10.0])


@pytest.mark.parametrize(
    ("channels", "factors", "error", "message"),
    [
        (["tv", "tv"], 1.0, ValueError, "more than once"),
        (["radio"], 1.0, ValueError, r"channels \['radio'\] are not columns"),
        (["tv"], -1.0, ValueError, "finite and >= 0"),
        (["tv"], [[1.0], [1.0], [1.0]], ValueError, "broadcast"),
    ],
)
def test_bad_channels_and_factors(plan, channels, factors, error, message):
    with pytest.raises(error, match=message):
        ScenarioPlan(Additive(), plan, channels).total_gmv(factors)

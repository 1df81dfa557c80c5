"""Tests of the Bayesian time-varying-coefficient (KTR-style) baseline."""

# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sklearn_causalmmm.baselines.btvc import BTVCRegressor, knot_kernel
from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
from sklearn_causalmmm.datasets import make_causal_mmm

HORIZON = 7


@pytest.fixture(scope="module")
def drifting():
    """One shop whose spend coefficient rises and falls over 120 steps."""
    rng = np.random.default_rng(0)
    n_steps = 120
    spend = rng.uniform(0.2, 2.0, n_steps)
    coef = 1.0 + 0.8 * np.sin(2 * np.pi * np.arange(n_steps) / n_steps)
    gmv = 5.0 + coef * spend + rng.normal(0.0, 0.1, n_steps)
    return spend[None, None], gmv[None], coef


def linear_btvc(**params):
    """BTVC without media transforms: coefficients are GMV per unit spend."""
    defaults = {
        "adstock_decay": None,
        "half_saturation": None,
        "season_length": None,
        "max_iter": 300,
        "random_state": 0,
    }
    return BTVCRegressor(**{**defaults, **params})


def test_knot_kernel():
    knots, kernel = knot_kernel(50, 14)
    assert knots[0] == 0 and knots[-1] == 49
    np.testing.assert_allclose(np.diff(knots), np.diff(knots)[0])
    assert np.diff(knots)[0] <= 14
    np.testing.assert_allclose(kernel.sum(axis=1), 1.0)
    # Each knot dominates the kernel row at its own position.
    rows = knots.astype(int)
    np.testing.assert_array_equal(kernel[rows].argmax(axis=1), np.arange(len(knots)))


def test_recovers_a_coefficient_that_changes_over_time(drifting):
    X, y, coef = drifting
    model = linear_btvc().fit(X, y)
    path = model.coef_[0, 0]
    assert path.shape == (120,)
    # The posterior mean follows the sine: correlation above 0.95 and no step
    # further than 0.25 from the truth (amplitude 0.8).
    assert np.corrcoef(path, coef)[0, 1] > 0.95
    assert np.abs(path - coef).max() < 0.25
    assert model.noise_scale_[0] == pytest.approx(0.1, rel=0.5)
    # A large random-walk step beats a frozen coefficient (tiny random walk).
    frozen = linear_btvc(coef_random_walk_scale=1e-4).fit(X, y).coef_[0, 0]
    assert np.ptp(frozen) < 0.1 * np.ptp(path)


def test_forecast_holds_last_level_and_coefficients(drifting):
    X, y, coef = drifting
    model = linear_btvc().fit(X[..., :100], y[:, :100])
    plan = X[..., 100:]
    out = model.predict(plan)
    expected = model.level_[0, -1] + model.coef_[0, 0, -1] * plan[0, 0]
    np.testing.assert_allclose(out[0], expected, rtol=1e-5)


def test_predict_interval_brackets_the_mean():
    rng = np.random.default_rng(1)
    X = rng.uniform(0.2, 2.0, (1, 1, 120))
    y = 5.0 + X[:, 0] + rng.normal(0.0, 0.1, (1, 120))  # a steady coefficient
    model = linear_btvc().fit(X[..., :100], y[:, :100])
    plan = X[..., 100:]
    mean = model.predict(plan)
    low, high = model.predict_interval(plan, coverage=0.9)
    assert low.shape == high.shape == mean.shape
    assert (low < mean).all() and (mean < high).all()
    narrow_low, narrow_high = model.predict_interval(plan, coverage=0.5)
    assert ((narrow_high - narrow_low) < (high - low)).all()
    # Seeded draws: the same interval twice.
    np.testing.assert_array_equal(model.predict_interval(plan, coverage=0.9)[0], low)
    # Most of the realised GMV falls inside the 90 % interval.
    inside = (low <= y[:, 100:]) & (y[:, 100:] <= high)
    assert inside.mean() >= 0.75
    with pytest.raises(ValueError, match="coverage"):
        model.predict_interval(plan, coverage=1.5)


def test_predict_interval_in_dataframe_layout(drifting):
    X, y, _ = drifting
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    index = pd.MultiIndex.from_product([["shop"], dates], names=["shop_id", "date"])
    df = pd.DataFrame({"tv": X[0, 0]}, index=index)
    gmv = pd.Series(y[0], index=index, name="gmv")
    model = linear_btvc(max_iter=50).fit(df.iloc[:100], gmv.iloc[:100])
    low, high = model.predict_interval(df.iloc[100:])
    assert isinstance(low, pd.Series) and low.index.equals(df.index[100:])
    assert (high > low).all()


def test_beats_naive_on_spend_driven_panel():
    data = make_causal_mmm(
        n_shops=6,
        n_channels=3,
        n_funnel=0,
        n_steps=70,
        edge_density=1.0,
        effect_strength=2.0,
        noise_scale=0.05,
        compute_contributions=False,
        random_state=0,
    )
    X, y = data.X, data.y
    past, future = slice(None, -HORIZON), slice(-HORIZON, None)
    naive = SeasonalNaiveRegressor(strategy="last").fit(X[..., past], y[:, past])
    naive_mse = np.mean((naive.predict(X[..., future]) - y[:, future]) ** 2)
    model = BTVCRegressor(max_iter=300, random_state=0)
    out = model.fit(X[..., past], y[:, past]).predict(X[..., future])
    mse = np.mean((out - y[:, future]) ** 2)
    assert mse < 0.5 * naive_mse, (mse, naive_mse)
    n_knots = len(model.knot_positions_)
    assert model.coef_.shape == (6, 3, 63)
    assert model.coef_knots_.shape == model.coef_knots_std_.shape == (6, 3, n_knots)
    assert (model.coef_knots_std_ > 0).all()


@pytest.mark.parametrize(
    "params, culprit",
    [
        ({"coef_random_walk_scale": 0.0}, "coef_random_walk_scale"),
        ({"adstock_decay": 1.0}, "adstock_decay"),
        ({"max_iter": 0}, "max_iter"),
        ({"half_saturation": -1.0}, "half_saturation"),
    ],
)
def test_bad_parameters_name_the_culprit(drifting, params, culprit):
    X, y, _ = drifting
    with pytest.raises(ValueError, match=culprit):
        BTVCRegressor(**params).fit(X, y)


def test_deterministic_clone_pickle_global_rng_untouched(drifting):
    X, y, _ = drifting
    X0, y0 = X.copy(), y.copy()
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    model = BTVCRegressor(max_iter=60, random_state=7).fit(X[..., :100], y[:, :100])
    assert torch.equal(torch.random.get_rng_state(), state)
    out = model.predict(X[..., 100:])
    again = clone(model).fit(X[..., :100], y[:, :100])
    np.testing.assert_array_equal(again.coef_, model.coef_)
    np.testing.assert_array_equal(again.predict(X[..., 100:]), out)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X[..., 100:]), out)
    other = BTVCRegressor(max_iter=60, random_state=8).fit(X[..., :100], y[:, :100])
    assert not np.array_equal(other.coef_, model.coef_)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)

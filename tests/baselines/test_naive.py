"""Tests of the seasonal naive GMV baseline (and the shared forecasting layout)."""

# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor

N_SHOPS, N_INPUTS, N_STEPS, HORIZON = 3, 2, 20, 7


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, (N_SHOPS, N_INPUTS, N_STEPS))
    y = rng.uniform(10.0, 20.0, (N_SHOPS, N_STEPS))
    return X, y


@pytest.fixture
def frames(arrays):
    X, y = arrays
    dates = pd.date_range("2024-01-01", periods=N_STEPS, freq="D")
    index = pd.MultiIndex.from_product(
        [["a", "b", "c"], dates], names=["shop_id", "date"]
    )
    df = pd.DataFrame(
        X.transpose(0, 2, 1).reshape(-1, N_INPUTS),
        index=index,
        columns=["tv", "search"],
    )
    gmv = pd.Series(y.reshape(-1), index=index, name="gmv")
    return df, gmv, dates


def test_last_repeats_last_observed_value(arrays):
    X, y = arrays
    pred = SeasonalNaiveRegressor().fit(X[..., :-HORIZON], y[:, :-HORIZON])
    out = pred.predict(X[..., -HORIZON:])
    expected = np.repeat(y[:, -HORIZON - 1, None], HORIZON, axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_seasonal_repeats_last_season_by_phase():
    y = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]])  # steps 0..7
    X = np.arange(12.0).reshape(1, 1, 12)
    model = SeasonalNaiveRegressor(season_length=3, strategy="seasonal")
    out = model.fit(X[..., :8], y).predict(X[..., 8:])
    # Steps 8, 9, 10, 11 have phases 2, 0, 1, 2: last seen at steps 5, 6, 7, 5.
    np.testing.assert_array_equal(out, [[6.0, 7.0, 8.0, 6.0]])


def test_mean_uses_history_mean(arrays):
    X, y = arrays
    model = SeasonalNaiveRegressor(strategy="mean").fit(
        X[..., :-HORIZON], y[:, :-HORIZON]
    )
    out = model.predict(X[..., -HORIZON:])
    expected = y[:, :-HORIZON].mean(axis=1, keepdims=True) * np.ones(HORIZON)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_numpy3d_and_2d_layouts(arrays):
    X, y = arrays
    model = SeasonalNaiveRegressor().fit(X[..., :-HORIZON], y[:, :-HORIZON])
    out = model.predict(X[..., -HORIZON:])
    assert isinstance(out, np.ndarray) and out.shape == (N_SHOPS, HORIZON)
    one = SeasonalNaiveRegressor().fit(X[0, :, :-HORIZON].T, y[0, :-HORIZON])
    single = one.predict(X[0, :, -HORIZON:].T)
    assert single.shape == (HORIZON,)
    np.testing.assert_allclose(single, out[0])


def test_multiindex_future_dates_return_series_on_x_index(frames, arrays):
    df, gmv, dates = frames
    X, y = arrays
    in_fit = df.index.get_level_values("date") < dates[-HORIZON]
    model = SeasonalNaiveRegressor().fit(df[in_fit], gmv[in_fit])
    plan = df[~in_fit]
    out = model.predict(plan)
    assert isinstance(out, pd.Series)
    assert out.index.equals(plan.index)
    np.testing.assert_allclose(
        out.to_numpy().reshape(N_SHOPS, HORIZON),
        np.repeat(y[:, -HORIZON - 1, None], HORIZON, axis=1),
        rtol=1e-6,
    )
    # A subset of shops keeps its own history.
    only_b = model.predict(plan.loc[["b"]])
    assert only_b.index.equals(plan.loc[["b"]].index)
    np.testing.assert_allclose(only_b.to_numpy(), y[1, -HORIZON - 1], rtol=1e-6)


def test_backtest_inside_fitted_period_uses_only_earlier_steps(frames, arrays):
    df, gmv, dates = frames
    X, y = arrays
    model = SeasonalNaiveRegressor().fit(df, gmv)
    dates_of = df.index.get_level_values("date")
    plan = df[(dates_of >= dates[5]) & (dates_of < dates[8])]
    out = model.predict(plan).to_numpy().reshape(N_SHOPS, 3)
    np.testing.assert_allclose(out, np.repeat(y[:, 4, None], 3, axis=1), rtol=1e-6)


def test_ragged_shop_repeats_its_own_last_value(frames, arrays):
    df, gmv, dates = frames
    X, y = arrays
    # Shop "c" stops 3 days before the others.
    keep = ~(
        (df.index.get_level_values("shop_id") == "c")
        & (df.index.get_level_values("date") >= dates[-HORIZON - 3])
    )
    in_fit = df.index.get_level_values("date") < dates[-HORIZON]
    model = SeasonalNaiveRegressor().fit(df[keep & in_fit], gmv[keep & in_fit])
    out = model.predict(df[~in_fit]).to_numpy().reshape(N_SHOPS, HORIZON)
    np.testing.assert_allclose(out[2], y[2, -HORIZON - 4], rtol=1e-6)
    np.testing.assert_allclose(out[0], y[0, -HORIZON - 1], rtol=1e-6)


def test_seasonal_needs_a_full_season():
    X = np.arange(10.0).reshape(1, 1, 10)
    y = np.arange(1.0, 6.0)[None]
    model = SeasonalNaiveRegressor(strategy="seasonal").fit(X[..., :5], y)
    with pytest.raises(ValueError, match="shop 0 has 5 observed GMV step.*needs 7"):
        model.predict(X[..., 5:])


@pytest.mark.parametrize(
    "params, culprit",
    [({"strategy": "median"}, "strategy"), ({"season_length": 0}, "season_length")],
)
def test_bad_parameters_name_the_culprit(arrays, params, culprit):
    X, y = arrays
    with pytest.raises(ValueError, match=culprit):
        SeasonalNaiveRegressor(**params).fit(X, y)


def test_plan_with_wrong_number_of_inputs(arrays):
    X, y = arrays
    model = SeasonalNaiveRegressor().fit(X, y)
    with pytest.raises(ValueError, match="X has 1 features.*expecting 2"):
        model.predict(X[:, :1, :HORIZON])


def test_caller_data_untouched_clone_pickle(arrays):
    X, y = arrays
    X0, y0 = X.copy(), y.copy()
    model = SeasonalNaiveRegressor(strategy="seasonal").fit(
        X[..., :-HORIZON], y[:, :-HORIZON]
    )
    out = model.predict(X[..., -HORIZON:])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    assert clone(model).get_params() == model.get_params()
    again = pickle.loads(pickle.dumps(model)).predict(X[..., -HORIZON:])
    np.testing.assert_array_equal(again, out)

"""Tests of the Wide & Deep GMV baseline."""

# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
from sklearn_causalmmm.baselines.wide_deep import WideDeepModule, WideDeepRegressor
from sklearn_causalmmm.datasets import make_causal_mmm

HORIZON = 7
SMALL = {
    "hidden_layer_sizes": (16,),
    "window": 7,
    "max_epochs": 20,
    "validation_fraction": 0.0,
}


@pytest.fixture(scope="module")
def data():
    """Six shops where lagged spend drives most of GMV's movement."""
    return make_causal_mmm(
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


def test_module_is_wide_plus_deep():
    torch.manual_seed(0)
    module = WideDeepModule(
        n_nodes=3, n_context=2, window=4, hidden_layer_sizes=(5,), dropout=0.0
    )
    past, known, context = torch.randn(6, 3, 4), torch.randn(6, 2), torch.randn(6, 2)
    lagged = torch.cat([past.flatten(1), known], dim=1)
    expected = module.wide(lagged) + module.deep(torch.cat([lagged, context], dim=1))
    torch.testing.assert_close(module(past, known, context), expected)
    assert module.wide.in_features == 3 * 4 + 2
    assert module.deep[0].in_features == 3 * 4 + 2 + 2


def test_beats_naive_on_spend_driven_panel(data):
    X, y = data.X, data.y
    past, future = slice(None, -HORIZON), slice(-HORIZON, None)
    naive = SeasonalNaiveRegressor(strategy="last").fit(X[..., past], y[:, past])
    naive_mse = np.mean((naive.predict(X[..., future]) - y[:, future]) ** 2)
    model = WideDeepRegressor(**SMALL, random_state=0)
    out = model.fit(X[..., past], y[:, past]).predict(X[..., future])
    assert out.shape == (6, HORIZON)
    mse = np.mean((out - y[:, future]) ** 2)
    assert mse < 0.5 * naive_mse, (mse, naive_mse)


def test_context_reaches_the_deep_part(data):
    X, y = data.X, data.y
    params = {**SMALL, "max_epochs": 2, "random_state": 0}
    model = WideDeepRegressor(**params).fit(
        X[..., :-HORIZON], y[:, :-HORIZON], context=data.context
    )
    assert model.net_.module_.deep[0].in_features == 4 * 7 + 3 + data.context.shape[1]
    assert model.predict(X[..., -HORIZON:]).shape == (6, HORIZON)


def test_dataframe_layout_and_too_early_backtest(data):
    X, y = data.X, data.y
    dates = pd.date_range("2024-01-01", periods=70, freq="D")
    index = pd.MultiIndex.from_product([range(6), dates], names=["shop_id", "date"])
    df = pd.DataFrame(
        X.transpose(0, 2, 1).reshape(-1, 3), index=index, columns=list("abc")
    )
    gmv = pd.Series(y.reshape(-1), index=index, name="gmv")
    in_fit = df.index.get_level_values("date") < dates[-HORIZON]
    params = {**SMALL, "max_epochs": 2, "random_state": 0}
    model = WideDeepRegressor(**params).fit(df[in_fit], gmv[in_fit])
    out = model.predict(df[~in_fit])
    assert isinstance(out, pd.Series) and out.index.equals(df[~in_fit].index)
    arrays = WideDeepRegressor(**params).fit(X[..., :-HORIZON], y[:, :-HORIZON])
    np.testing.assert_allclose(
        out.to_numpy().reshape(6, HORIZON), arrays.predict(X[..., -HORIZON:]), rtol=1e-5
    )
    early = df[df.index.get_level_values("date") >= dates[3]]
    with pytest.raises(ValueError, match="window=7"):
        model.predict(early)


def test_deterministic_clone_pickle_global_rng_untouched(data):
    X, y = data.X, data.y
    X0, y0 = X.copy(), y.copy()
    params = {**SMALL, "max_epochs": 3, "dropout": 0.1, "random_state": 0}
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    model = WideDeepRegressor(**params).fit(X[..., :-HORIZON], y[:, :-HORIZON])
    assert torch.equal(torch.random.get_rng_state(), state)
    out = model.predict(X[..., -HORIZON:])
    again = clone(model).fit(X[..., :-HORIZON], y[:, :-HORIZON])
    np.testing.assert_array_equal(again.predict(X[..., -HORIZON:]), out)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X[..., -HORIZON:]), out)
    other = WideDeepRegressor(**{**params, "random_state": 1})
    other.fit(X[..., :-HORIZON], y[:, :-HORIZON])
    assert not np.array_equal(other.predict(X[..., -HORIZON:]), out)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize(
    "params, culprit",
    [
        ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes"),
        ({"dropout": 1.0}, "dropout"),
        ({"lr": 0.0}, "lr"),
    ],
)
def test_bad_parameters_name_the_culprit(data, params, culprit):
    with pytest.raises(ValueError, match=culprit):
        WideDeepRegressor(**params).fit(data.X, data.y)

"""Tests of the LSTM GMV baseline and the shared sliding-window machinery."""

# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.dataset import Dataset

from sklearn_causalmmm.baselines._windowed import (
    TailIndexSplit,
    make_windows,
    roll_forecast,
)
from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
from sklearn_causalmmm.baselines.recurrent import LSTMRegressor
from sklearn_causalmmm.datasets import make_causal_mmm

HORIZON = 7
SMALL = {"hidden": 16, "window": 7, "max_epochs": 20, "validation_fraction": 0.0}


@pytest.fixture(scope="module")
def panel():
    """Six shops where lagged spend drives most of GMV's movement."""
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
    return data.X, data.y


# ---------------------------------------------------------------------- windows
def test_make_windows_by_hand():
    # Two shops, one input and GMV, five steps; shop 1 misses its first step.
    values = np.arange(20.0).reshape(2, 2, 5)
    mask = np.ones((2, 5), dtype=bool)
    mask[1, 0] = False
    context = np.array([[0.5], [1.5]])
    inputs, target, step = make_windows(values, mask, context, window=2)
    # Shop 0: targets at steps 2, 3, 4; shop 1: steps 3, 4 only.
    np.testing.assert_array_equal(step, [2, 3, 4, 3, 4])
    np.testing.assert_array_equal(inputs["past"][0], [[0.0, 1.0], [5.0, 6.0]])
    np.testing.assert_array_equal(inputs["known"][:, 0], [2.0, 3.0, 4.0, 13.0, 14.0])
    np.testing.assert_array_equal(target[:, 0], [7.0, 8.0, 9.0, 18.0, 19.0])
    np.testing.assert_array_equal(inputs["context"][:, 0], [0.5, 0.5, 0.5, 1.5, 1.5])
    assert all(a.dtype == np.float32 for a in inputs.values())


def test_roll_forecast_feeds_predictions_back():
    past = np.array([[[1.0, 2.0], [10.0, 11.0]]])  # input, GMV over 2 steps
    plan = np.array([[[3.0, 4.0, 5.0]]])

    def step(inputs):
        # GMV = last GMV + known input: uses the model's own previous output.
        return inputs["past"][:, -1, -1] + inputs["known"][:, 0]

    out = roll_forecast(step, past, plan, np.zeros((1, 0)))
    np.testing.assert_array_equal(out, [[14.0, 18.0, 23.0]])


def test_tail_index_split_holds_out_the_tail():
    valid = np.array([False, False, True, False, True])
    dataset = Dataset(np.arange(5.0)[:, None], np.arange(5.0))
    train, held = TailIndexSplit(valid)(dataset)
    np.testing.assert_array_equal(train.indices, [0, 1, 3])
    np.testing.assert_array_equal(held.indices, [2, 4])


# ---------------------------------------------------------------------- LSTM
def test_beats_naive_on_spend_driven_panel(panel):
    X, y = panel
    past, future = slice(None, -HORIZON), slice(-HORIZON, None)
    naive = SeasonalNaiveRegressor(strategy="last").fit(X[..., past], y[:, past])
    naive_mse = np.mean((naive.predict(X[..., future]) - y[:, future]) ** 2)
    model = LSTMRegressor(**SMALL, random_state=0)
    out = model.fit(X[..., past], y[:, past]).predict(X[..., future])
    assert out.shape == (6, HORIZON)
    mse = np.mean((out - y[:, future]) ** 2)
    assert mse < 0.5 * naive_mse, (mse, naive_mse)


def test_time_tail_validation_and_early_stopping(panel):
    X, y = panel
    model = LSTMRegressor(
        hidden=8, window=7, max_epochs=4, validation_fraction=0.2, random_state=0
    ).fit(X, y)
    history = model.net_.history
    assert "valid_loss" in history[-1]
    assert model.n_windows_ == 6 * (70 - 7)
    # Validation windows are those with targets in the last 14 of 70 steps.
    split = model.net_.train_split
    assert isinstance(split, TailIndexSplit)
    assert split.valid.sum() == 6 * 14
    no_valid = LSTMRegressor(hidden=8, window=7, max_epochs=2, validation_fraction=0.0)
    assert no_valid.fit(X, y).net_.train_split is None


def test_deterministic_clone_pickle_global_rng_untouched(panel):
    X, y = panel
    X0, y0 = X.copy(), y.copy()
    params = {"hidden": 8, "window": 5, "max_epochs": 3, "random_state": 0}
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    model = LSTMRegressor(**params).fit(X[..., :-HORIZON], y[:, :-HORIZON])
    assert torch.equal(torch.random.get_rng_state(), state)
    out = model.predict(X[..., -HORIZON:])
    again = clone(model).fit(X[..., :-HORIZON], y[:, :-HORIZON])
    np.testing.assert_array_equal(again.predict(X[..., -HORIZON:]), out)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X[..., -HORIZON:]), out)
    other = LSTMRegressor(**{**params, "random_state": 1})
    other.fit(X[..., :-HORIZON], y[:, :-HORIZON])
    assert not np.array_equal(other.predict(X[..., -HORIZON:]), out)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_errors_name_the_culprit(panel):
    X, y = panel
    with pytest.raises(ValueError, match="window"):
        LSTMRegressor(window=0).fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        LSTMRegressor(validation_fraction=0.7).fit(X, y)
    with pytest.raises(ValueError, match="min_steps=71"):
        LSTMRegressor(window=70).fit(X, y)

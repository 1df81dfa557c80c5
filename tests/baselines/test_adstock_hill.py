"""Tests of the adstock + Hill + ridge MMM baseline and its numpy transforms."""

# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_causalmmm.baselines.adstock_hill import (
    AdstockHillRegressor,
    geometric_adstock,
    hill,
)
from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
from sklearn_causalmmm.datasets import make_causal_mmm

HORIZON = 7


def spend_driven_panel():
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


def flights(rng, n_steps):
    """On/off campaign spend with mean 1 (so raw and shop-scaled spend agree)."""
    on, state = np.zeros(n_steps), 0
    for t in range(n_steps):
        if rng.random() < (0.15 if state == 0 else 0.2):
            state = 1 - state
        on[t] = state
    spend = on * rng.lognormal(0.0, 0.3, n_steps) * 2 + 0.05 * rng.random(n_steps)
    return spend / spend.mean()


# ---------------------------------------------------------------------- transforms
def test_geometric_adstock_by_hand():
    x = np.array([1.0, 0.0, 0.0, 2.0])
    np.testing.assert_allclose(
        geometric_adstock(x, 0.5, 2, normalize=False), [1.0, 0.5, 0.25, 2.0]
    )
    # Normalised weights 1, 0.5, 0.25 over their sum 1.75.
    np.testing.assert_allclose(
        geometric_adstock(x, 0.5, 2), np.array([1.0, 0.5, 0.25, 2.0]) / 1.75
    )
    np.testing.assert_allclose(geometric_adstock(np.ones(5), 0.7, 3)[3:], 1.0)
    # Per-series decays broadcast over leading axes.
    out = geometric_adstock(np.stack([x, x]), np.array([0.0, 0.5]), 2, normalize=False)
    np.testing.assert_allclose(out, [x, [1.0, 0.5, 0.25, 2.0]])


def test_geometric_adstock_rejects_bad_decay():
    with pytest.raises(ValueError, match="decay must be in"):
        geometric_adstock(np.ones(3), 1.0, 2)


def test_hill_by_hand_and_matches_torch_twin():
    import torch

    from sklearn_causalmmm.nn.saturation import hill as torch_hill

    x = np.array([0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(hill(x, 2.0, 1.0), [0.0, 0.2, 0.5, 0.9])
    as_tensor = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    twin = torch_hill(as_tensor(x[1:]), as_tensor(1.7), as_tensor(0.8))
    np.testing.assert_allclose(hill(x[1:], 1.7, 0.8), twin.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------- recovery
def test_recovers_known_decay_and_hill_shape():
    rng = np.random.default_rng(0)
    spend = flights(rng, 200)
    media = hill(geometric_adstock(spend, 0.6, 6), 2.0, 0.8)
    gmv = 10.0 + 5.0 * media + rng.normal(0.0, 0.05, 200)
    model = AdstockHillRegressor(
        adstock_max_lag=6, alpha=1e-4, season_length=None, random_state=0
    ).fit(spend[None, None], gmv[None])
    # Tolerances: decay +-0.05, Hill shape +-0.25, half-saturation +-0.1 (in
    # units of mean spend), saturated effect and baseline within 5 %.
    assert model.decay_[0, 0] == pytest.approx(0.6, abs=0.05)
    assert model.hill_alpha_[0, 0] == pytest.approx(2.0, abs=0.25)
    assert model.hill_half_saturation_[0, 0] == pytest.approx(0.8, abs=0.1)
    assert model.coef_[0, 0] == pytest.approx(5.0, rel=0.05)
    assert model.intercept_[0] == pytest.approx(10.0, rel=0.05)


def test_forecast_carries_history_adstock_into_the_plan():
    rng = np.random.default_rng(1)
    spend = flights(rng, 120)
    gmv = 3.0 + 2.0 * hill(geometric_adstock(spend, 0.7, 5), 1.5, 1.0)
    gmv = gmv + rng.normal(0.0, 0.01, 120)
    model = AdstockHillRegressor(
        adstock_max_lag=5, alpha=1e-3, season_length=None, random_state=0
    )
    model.fit(spend[None, None, :100], gmv[None, :100])
    out = model.predict(spend[None, None, 100:])
    # The documented model, with the adstock run over history + plan.
    scale = spend[:100].mean()
    adstocked = geometric_adstock(spend / scale, model.decay_[0, 0], 5)[100:]
    media = hill(adstocked, model.hill_alpha_[0, 0], model.hill_half_saturation_[0, 0])
    np.testing.assert_allclose(
        out[0], model.intercept_[0] + model.coef_[0, 0] * media, rtol=1e-5
    )
    # Starting the adstock at the plan (no carryover) gives a different forecast.
    cold = geometric_adstock(spend[100:] / scale, model.decay_[0, 0], 5)
    cold_media = hill(cold, model.hill_alpha_[0, 0], model.hill_half_saturation_[0, 0])
    assert not np.allclose(out[0], model.intercept_[0] + model.coef_[0, 0] * cold_media)
    np.testing.assert_allclose(out[0], gmv[100:], rtol=0.02)


# ---------------------------------------------------------------------- forecasting
@pytest.fixture(scope="module")
def panel():
    return spend_driven_panel()


@pytest.mark.parametrize("pooling", ["shop", "pooled"])
def test_beats_naive_on_spend_driven_panel(panel, pooling):
    X, y = panel
    past, future = slice(None, -HORIZON), slice(-HORIZON, None)
    naive = SeasonalNaiveRegressor(strategy="last").fit(X[..., past], y[:, past])
    naive_mse = np.mean((naive.predict(X[..., future]) - y[:, future]) ** 2)
    model = AdstockHillRegressor(adstock_max_lag=3, pooling=pooling, random_state=0)
    out = model.fit(X[..., past], y[:, past]).predict(X[..., future])
    assert out.shape == (6, HORIZON)
    mse = np.mean((out - y[:, future]) ** 2)
    assert mse < 0.5 * naive_mse, (mse, naive_mse)


def test_attribute_shapes_and_pooling(panel):
    X, y = panel
    shop = AdstockHillRegressor(adstock_max_lag=3, random_state=0).fit(X, y)
    pooled = AdstockHillRegressor(adstock_max_lag=3, pooling="pooled", random_state=0)
    pooled.fit(X, y)
    for model in (shop, pooled):
        for name in ("decay_", "hill_alpha_", "hill_half_saturation_", "coef_"):
            assert getattr(model, name).shape == (6, 3)
        assert model.intercept_.shape == (6,)
        assert ((model.decay_ >= 0) & (model.decay_ < 1)).all()
    # One pooled model: the same curves for every shop, coefficients differ only
    # by each shop's GMV scale.
    np.testing.assert_array_equal(pooled.decay_, pooled.decay_[:1].repeat(6, axis=0))
    ratio = pooled.coef_ / pooled.coef_[:1]
    np.testing.assert_allclose(ratio, ratio[:, :1].repeat(3, axis=1), rtol=1e-6)
    assert not np.allclose(shop.decay_, shop.decay_[:1])


@pytest.mark.parametrize(
    "params, culprit",
    [
        ({"pooling": "global"}, "pooling"),
        ({"alpha": -1.0}, "alpha"),
        ({"adstock_max_lag": -1}, "adstock_max_lag"),
        ({"n_init": 0}, "n_init"),
    ],
)
def test_bad_parameters_name_the_culprit(panel, params, culprit):
    X, y = panel
    with pytest.raises(ValueError, match=culprit):
        AdstockHillRegressor(**params).fit(X, y)


def test_deterministic_clone_pickle_and_caller_data_untouched(panel):
    X, y = panel
    X0, y0 = X.copy(), y.copy()
    params = {"adstock_max_lag": 3, "n_init": 2, "random_state": 3}
    first = AdstockHillRegressor(**params).fit(X[..., :-HORIZON], y[:, :-HORIZON])
    out = first.predict(X[..., -HORIZON:])
    second = clone(first).fit(X[..., :-HORIZON], y[:, :-HORIZON])
    np.testing.assert_array_equal(second.predict(X[..., -HORIZON:]), out)
    again = pickle.loads(pickle.dumps(first)).predict(X[..., -HORIZON:])
    np.testing.assert_array_equal(again, out)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)

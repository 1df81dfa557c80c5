"""One model-selection loop over CausalMMM and every baseline (the shared API).

Each estimator is tuned by ``GridSearchCV`` on a tiny simulated panel with the
package's splitters and scorers, then its best model must survive ``clone``
and a pickle round trip with identical output.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_causalmmm import (
    CausalGraphDiscoverer,
    CausalMMMRegressor,
    baselines,
    estimators,
)
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.metrics import edge_auroc_scorer
from sklearn_causalmmm.model_selection import PanelTimeSplit

TINY_NET = dict(hidden=4, max_epochs=2, n_lags=1, validation_fraction=0.0)


def _needs(module: str):
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None,
        reason=f"optional dependency {module!r} is not installed "
        "(pip install 'sklearn-causalmmm[causal]')",
    )


#: (estimator, grid) for every discoverer: CV splits shops, y = true graphs.
DISCOVERERS = [
    (CausalGraphDiscoverer(**TINY_NET, random_state=0), {"tau": [0.5, 1.0]}),
    (estimators.NRIDiscoverer(**TINY_NET, random_state=0), {"kl_weight": [0.1, 1.0]}),
    (baselines.LinearGrangerDiscoverer(), {"max_lag": [1, 3]}),
    (
        baselines.NeuralGrangerDiscoverer(hidden=4, max_iter=20, random_state=0),
        {"lam": [0.1, 0.3]},
    ),
    (
        baselines.GVARDiscoverer(hidden=4, max_epochs=10, random_state=0),
        {"lam": [0.1, 0.5]},
    ),
    (
        baselines.InGRADiscoverer(
            hidden=4, n_prototypes=2, max_lag=2, max_epochs=3, random_state=0
        ),
        {"n_prototypes": [1, 2]},
    ),
    pytest.param(
        baselines.PCMCIDiscoverer(max_lag=2),
        {"max_lag": [1, 2]},
        marks=_needs("tigramite"),
    ),
    pytest.param(
        baselines.VARLiNGAMDiscoverer(max_lag=2),
        {"max_lag": [1, 2]},
        marks=_needs("lingam"),
    ),
]

#: (estimator, grid) for every forecaster: CV on the time tail of every shop.
FORECASTERS = [
    (CausalMMMRegressor(**TINY_NET, horizon=2, random_state=0), {"hidden": [4, 6]}),
    (
        baselines.LSTMRegressor(
            hidden=4, window=4, max_epochs=2, validation_fraction=0.0, random_state=0
        ),
        {"hidden": [4, 6]},
    ),
    (
        baselines.WideDeepRegressor(
            hidden_layer_sizes=(4,),
            window=4,
            max_epochs=2,
            validation_fraction=0.0,
            random_state=0,
        ),
        {"lr": [0.01, 0.03]},
    ),
    (
        baselines.BTVCRegressor(max_iter=20, n_mc_samples=1, random_state=0),
        {"coef_random_walk_scale": [0.05, 0.1]},
    ),
    (
        baselines.AdstockHillRegressor(max_iter=20, n_init=1, random_state=0),
        {"alpha": [0.1, 1.0]},
    ),
    (
        baselines.GVARRegressor(hidden=4, max_lag=2, max_epochs=10, random_state=0),
        {"lam": [0.1, 0.5]},
    ),
    (baselines.SeasonalNaiveRegressor(), {"strategy": ["last", "seasonal"]}),
]


def _id(param) -> str:
    return type(param).__name__ if not isinstance(param, dict) else ""


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.fixture(scope="module")
def data():
    return make_causal_mmm(
        n_shops=8, n_channels=2, n_funnel=1, n_steps=40, random_state=0
    )


def _long_panel(data):
    n_shops, _, n_steps = data.X.shape
    index = pd.MultiIndex.from_product(
        [
            [f"shop_{s}" for s in range(n_shops)],
            pd.date_range("2024-01-01", periods=n_steps, freq="D"),
        ],
        names=["shop", "date"],
    )
    X = pd.DataFrame(
        data.X.transpose(0, 2, 1).reshape(-1, data.X.shape[1]),
        index=index,
        columns=data.feature_names,
    )
    return X, pd.Series(data.y.reshape(-1), index=index, name="gmv")


def _assert_round_trips(estimator, output):
    twin = clone(estimator)
    assert twin.get_params() == estimator.get_params()
    assert not hasattr(twin, "n_features_in_")
    reloaded = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(output(reloaded), output(estimator))


@pytest.mark.parametrize("estimator, grid", DISCOVERERS, ids=_id)
def test_grid_search_discoverer(estimator, grid, data):
    X = np.concatenate([data.X, data.y[:, None]], axis=1)
    search = GridSearchCV(
        estimator,
        grid,
        cv=KFold(n_splits=2),
        scoring=edge_auroc_scorer,
        error_score="raise",
    ).fit(X, data.adjacency)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and np.isfinite(scores).all()
    assert ((scores >= 0.0) & (scores <= 1.0)).all()
    best = search.best_estimator_
    assert best.edge_probabilities_.shape == (8, 4, 4)
    _assert_round_trips(best, lambda est: est.edge_probabilities_)


@pytest.mark.parametrize("estimator, grid", FORECASTERS, ids=_id)
def test_grid_search_forecaster(estimator, grid, data):
    X, y = _long_panel(data)
    search = GridSearchCV(
        estimator,
        grid,
        cv=PanelTimeSplit(n_splits=2, test_size=3),
        scoring="neg_mean_squared_error",
        error_score="raise",
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and np.isfinite(scores).all() and (scores <= 0).all()
    plan = X.groupby(level="shop").tail(3)
    _assert_round_trips(search.best_estimator_, lambda est: est.predict(plan))

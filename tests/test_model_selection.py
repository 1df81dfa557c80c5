"""Tests of PanelTimeSplit: time-ordered folds on every shop at once."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm.model_selection import PanelTimeSplit


def _panel(n_shops=2, n_steps=12):
    """A (shop, step) MultiIndex frame whose values name their row."""
    index = pd.MultiIndex.from_product(
        [[f"s{k}" for k in range(n_shops)], range(n_steps)], names=["shop", "step"]
    )
    return pd.DataFrame({"tv": np.arange(len(index), dtype=float)}, index=index)


def _steps(X, rows):
    """The sorted steps the rows hold, and how many rows each step has."""
    steps = X.index.get_level_values(-1)[rows]
    counts = pd.Series(steps).value_counts().sort_index()
    return counts.index.tolist(), set(counts)


def test_folds_are_the_last_steps_of_every_shop_expanding_before_them():
    X = _panel()
    folds = list(PanelTimeSplit(n_splits=3, test_size=2).split(X))
    assert len(folds) == 3
    for (train, test), first_test in zip(folds, [6, 8, 10], strict=True):
        assert _steps(X, test) == ([first_test, first_test + 1], {2})  # both shops
        assert _steps(X, train) == (list(range(first_test)), {2})
        assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert PanelTimeSplit(n_splits=3).get_n_splits(X) == 3


def test_gap_skips_steps_between_train_and_test():
    X = _panel()
    folds = list(PanelTimeSplit(n_splits=2, test_size=2, gap=3).split(X))
    # test folds stay the last steps; training ends gap steps before them
    assert [_steps(X, test)[0] for _, test in folds] == [[8, 9], [10, 11]]
    assert [_steps(X, train)[0] for train, _ in folds] == [
        list(range(5)),
        list(range(7)),
    ]


def test_max_train_size_keeps_the_most_recent_steps():
    X = _panel()
    split = PanelTimeSplit(n_splits=2, test_size=3, gap=1, max_train_size=4)
    (train_0, test_0), (train_1, test_1) = split.split(X)
    assert _steps(X, test_0)[0] == [6, 7, 8]
    assert _steps(X, train_0)[0] == [1, 2, 3, 4]  # 4 steps ending gap=1 early
    assert _steps(X, test_1)[0] == [9, 10, 11]
    assert _steps(X, train_1)[0] == [4, 5, 6, 7]
    # a window longer than the history keeps all of it
    (train, _), _ = PanelTimeSplit(n_splits=2, test_size=3, max_train_size=50).split(X)
    assert _steps(X, train)[0] == list(range(6))


def test_long_frames_split_by_their_time_column_whatever_the_row_order():
    days = pd.date_range("2024-01-01", periods=10)
    frame = pd.concat(
        [
            pd.DataFrame({"store": "a", "day": days}),
            pd.DataFrame({"store": "b", "day": days[3:]}),  # opens on day 4
        ],
        ignore_index=True,
    ).assign(tv=1.0)
    shuffled = frame.sample(frac=1.0, random_state=0)
    split = PanelTimeSplit(n_splits=2, test_size=2, time_column="day")
    folds = list(split.split(shuffled))
    for (train, test), first in zip(folds, [6, 8], strict=True):
        test_days = shuffled["day"].iloc[test]
        assert sorted(test_days.unique()) == list(days[first : first + 2])
        assert len(test) == 4  # both shops
        train_rows = shuffled.iloc[train]
        assert train_rows["day"].max() == days[first - 1]
        # the late shop trains on its own days only
        assert len(train_rows) == first + (first - 3)
    # positions index the caller's rows, not the sorted ones
    train, test = folds[0]
    assert set(shuffled.index[test]) == set(frame.index[frame["day"].isin(days[6:8])])


def test_one_shops_2d_input_splits_its_rows_as_steps():
    array = np.arange(30.0).reshape(10, 3)
    folds = list(PanelTimeSplit(n_splits=2, test_size=2).split(array))
    assert [test.tolist() for _, test in folds] == [[6, 7], [8, 9]]
    assert [train.tolist() for train, _ in folds] == [list(range(6)), list(range(8))]
    # a one-shop DataFrame splits on its time index, in any row order
    frame = pd.DataFrame(array, index=pd.date_range("2024-01-01", periods=10))
    reversed_frame = frame.iloc[::-1]
    train, test = next(PanelTimeSplit(n_splits=1, test_size=3).split(reversed_frame))
    assert test.tolist() == [0, 1, 2]  # the last three days come first
    assert sorted(reversed_frame.index[train]) == list(frame.index[:7])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_splits": 0}, "n_splits and test_size must be >= 1 and gap >= 0"),
        ({"test_size": 0}, "n_splits and test_size must be >= 1 and gap >= 0"),
        ({"gap": -1}, "n_splits and test_size must be >= 1 and gap >= 0"),
        # 3 folds of 4 steps after 1 training step need 13 steps, not 12
        ({"n_splits": 3, "test_size": 4}, r"12 time steps are too few.*\(need 13\)"),
        ({"n_splits": 2, "test_size": 5, "gap": 2}, r"\(need 13\)"),
    ],
)
def test_impossible_splits_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        next(PanelTimeSplit(**kwargs).split(_panel()))


def test_smallest_panel_that_fits_trains_on_one_step():
    (train, test), *_ = PanelTimeSplit(n_splits=3, test_size=4).split(_panel(1, 13))
    assert train.tolist() == [0] and test.tolist() == [1, 2, 3, 4]


def test_a_3d_array_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="MultiIndex or long DataFrame.*ndim=3"):
        next(PanelTimeSplit().split(np.zeros((2, 3, 20))))


def test_grid_search_on_a_dask_cluster_matches_the_local_search():
    """The `distributed` extra: joblib's dask backend runs the same search."""
    distributed = pytest.importorskip("distributed")
    import joblib
    from sklearn.model_selection import GridSearchCV

    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.datasets import make_causal_mmm

    data = make_causal_mmm(n_shops=4, n_steps=24, random_state=0)
    index = pd.MultiIndex.from_product(
        [range(4), pd.date_range("2024-01-01", periods=24, freq="D")],
        names=["shop", "date"],
    )
    X = pd.DataFrame(
        data.X.transpose(0, 2, 1).reshape(-1, data.X.shape[1]),
        index=index,
        columns=[f"x{j}" for j in range(data.X.shape[1])],
    )
    y = pd.Series(data.y.reshape(-1), index=index, name="gmv")

    def search():
        return GridSearchCV(
            CausalMMMRegressor(
                hidden=4, max_epochs=1, n_lags=0, horizon=2, random_state=0
            ),
            {"hidden": [4, 8]},
            cv=PanelTimeSplit(n_splits=2, test_size=3),
            scoring="neg_mean_squared_error",
            error_score="raise",
        ).fit(X, y)

    local = search()
    # worker processes, as on a real cluster (the estimators pickle, see
    # test_estimators.py): fits in threads of one process would share torch's
    # global random generator and thread settings
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        remote = search()
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-6,
    )

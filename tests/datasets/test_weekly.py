"""Tests for the weekly simulator, make_weekly_mmm."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sklearn_causalmmm.datasets import make_weekly_mmm


@pytest.fixture(scope="module")
def data():
    return make_weekly_mmm(n_shops=24, n_steps=110, as_frame=True, random_state=4)


def _paths_to_target(adjacency: np.ndarray) -> np.ndarray:
    """paths[s, i]: a directed path leads from node i to the target (last)."""
    reach = adjacency[..., -1].astype(bool)
    for _ in range(adjacency.shape[-1]):
        reach = reach | (
            (adjacency.astype(int) @ reach[..., None].astype(int))[..., 0] > 0
        )
    return reach


# ----------------------------------------------------------------------------
# Layout and roles
# ----------------------------------------------------------------------------


def test_shapes_names_and_roles(data):
    n_media, n_funnel, n_controls = 8, 2, 4
    d = n_media + n_funnel + n_controls + 1
    assert data.X.shape == (24, d - 1, 110)
    assert data.y.shape == (24, 110)
    assert data.adjacency.shape == (24, d, d)
    assert data.adjacency.dtype == np.int64
    assert data.media_names[:3] == [
        "impressions_tv",
        "impressions_search",
        "impressions_social",
    ]
    assert data.funnel_names == ["search_volume", "site_visits"]
    assert data.control_names == [
        "holiday",
        "price_index",
        "temperature",
        "competitor_activity",
    ]
    assert data.node_names == data.feature_names + ["revenue"]
    assert data.feature_names == (
        data.media_names + data.funnel_names + data.control_names
    )
    assert data.media_columns == list(range(n_media))
    assert data.funnel_columns == [8, 9]
    assert data.control_columns == [10, 11, 12, 13]
    assert data.frequency == "W"
    for key in ("contributions", "direct_contributions", "mediated_contributions"):
        assert data[key].shape == (24, n_media, 110)


def test_names_beyond_the_known_ones():
    data = make_weekly_mmm(
        n_shops=2, n_channels=14, n_funnel=3, n_controls=5, n_steps=20, random_state=0
    )
    assert data.media_names[-1] == "impressions_channel_13"
    assert data.funnel_names[-1] == "funnel_2"
    assert data.control_names[-1] == "control_4"
    assert data.X.shape == (2, 22, 20)


def test_dates_are_weekly_from_the_start_date(data):
    assert len(data.dates) == 110
    assert data.dates[0] == pd.Timestamp("2022-01-03")
    assert (np.diff(data.dates.to_numpy()) == np.timedelta64(7, "D")).all()


def test_frame_is_the_long_layout_of_a_weekly_export(data):
    frame = data.frame
    assert list(frame.columns) == ["shop_id", "date", *data.node_names]
    assert len(frame) == 24 * 110
    shop = frame[frame["shop_id"] == "shop_005"]
    np.testing.assert_array_equal(shop["date"], data.dates)
    np.testing.assert_array_equal(shop["revenue"], data.y[5])
    np.testing.assert_array_equal(shop["price_index"], data.X[5, 11])
    np.testing.assert_array_equal(shop["impressions_tv"], data.X[5, 0])


def test_graph_roles(data):
    adj = data.adjacency.astype(bool)
    media, funnel = data.media_columns, data.funnel_columns
    controls = data.control_columns
    # Nothing drives media or controls; the target drives nothing.
    assert not adj[:, :, media + controls].any()
    assert not adj[:, -1].any()
    # Funnel nodes and controls always drive the target; every funnel node has
    # a media parent; controls drive nothing else.
    assert adj[:, funnel + controls, -1].all()
    assert adj[:, :8][:, :, funnel].any(axis=1).all()
    assert not adj[:, controls, :-1].any()
    # Shops of one type share its graph; types differ.
    np.testing.assert_array_equal(data.adjacency, data.graph_types[data.graph_type])
    assert len({g.tobytes() for g in data.graph_types}) == 3


# ----------------------------------------------------------------------------
# Media, costs and controls
# ----------------------------------------------------------------------------


def test_costs_are_positive_and_spend_is_impressions_times_cpm(data):
    assert data.costs.shape == (8,)
    assert (data.costs > 0).all()
    impressions = data.X[:, data.media_columns]
    assert (impressions > 0).all() and (data.spend > 0).all()
    np.testing.assert_allclose(
        data.spend, impressions * data.costs[:, None] / 1000.0, rtol=1e-12
    )


def test_controls_are_signed_and_holidays_are_dated(data):
    controls = data.X[:, data.control_columns]
    for k in range(1, 4):  # price_index, temperature, competitor_activity
        series = controls[:, k]
        assert (series < 0).mean() > 0.2, data.control_names[k]
        assert abs(series.mean()) < 0.3, data.control_names[k]
    holiday = controls[:, 0]
    assert set(np.unique(holiday)) == {0.0, 1.0}
    assert (holiday == holiday[0]).all()  # shared by every shop
    weeks = {d.strftime("%Y-%m-%d") for d in data.dates[holiday[0] == 1]}
    # Weeks of 14 Feb, 15 Jul, Black Friday (25 Nov 2022) and 24 Dec 2022.
    assert {"2022-02-14", "2022-07-11", "2022-11-21", "2022-12-19"} <= weeks
    assert len(weeks) == 8  # four events a year over two years


def test_control_effects_follow_their_coefficients(data):
    controls = data.X[:, data.control_columns]
    coef = data.control_coef
    level = data.target_level[:, None, None]
    expected = level * (
        coef[:, :, :1] * controls[:, :, 1:] + coef[:, :, 1:] * controls[:, :, :-1]
    )
    np.testing.assert_allclose(data.control_effects[:, :, 1:], expected, rtol=1e-12)
    # Holidays lift the target and pull sales from the week after; a higher
    # price sells less.
    assert (coef[:, 0, 0] > 0).all() and (coef[:, 0, 1] < 0).all()
    assert (coef[:, 1, 0] < 0).all() and (coef[:, 1, 1] > 0).all()


def test_trend_is_piecewise_linear_with_shared_changepoints(data):
    kinks = np.flatnonzero(np.isin(data.dates, data.changepoints))
    second = np.abs(np.diff(data.trend, n=2, axis=1))
    away = np.ones(second.shape[1], dtype=bool)
    away[np.clip(kinks - 1, 0, None)] = False
    assert second[:, away].max() < 1e-12
    assert second[:, ~away].max() > 1e-6
    assert np.abs(data.trend).max() <= 0.4 + 1e-12


def test_seasonality_repeats_every_year():
    data = make_weekly_mmm(n_shops=5, n_steps=160, random_state=1)
    season = data.seasonality
    year = 52
    for s in range(5):
        r = np.corrcoef(season[s, :-year], season[s, year:])[0, 1]
        assert r > 0.98
    # Shops share the shape but not the amplitude.
    peaks = np.abs(season).max(axis=1)
    assert peaks.std() > 0.0 and np.all(peaks < 0.5)


# ----------------------------------------------------------------------------
# Ground truth: contributions, baseline and replay
# ----------------------------------------------------------------------------


def test_replaying_the_factual_spend_reproduces_the_panel(data):
    again = data.simulate(data.spend)
    np.testing.assert_array_equal(again.y, data.y)
    np.testing.assert_array_equal(again.X, data.X)


def test_contributions_are_exact_replays_with_the_channel_at_zero(data):
    for channel in range(8):
        spend = data.spend.copy()
        spend[:, channel] = 0.0
        replay = data.simulate(spend)
        np.testing.assert_array_equal(data.y - replay.y, data.contributions[:, channel])
        assert (replay.X[:, channel] == 0).all()


def test_direct_plus_mediated_is_total_and_each_is_zero_without_its_path(data):
    np.testing.assert_allclose(
        data.direct_contributions + data.mediated_contributions,
        data.contributions,
        rtol=0,
        atol=1e-9 * data.y.max(),
    )
    adj = data.adjacency.astype(bool)
    media = np.arange(8)
    direct_edge = adj[:, media, -1]
    funnel_edge = adj[:, media][:, :, data.funnel_columns].any(axis=2)
    direct = data.direct_contributions
    mediated = data.mediated_contributions
    assert (direct[~direct_edge] == 0).all()
    assert (direct[direct_edge] > 0).all()
    assert (np.abs(mediated[~funnel_edge]) < 1e-9 * data.y.max()).all()
    assert (mediated[funnel_edge] > 0).all()


def test_a_channel_without_a_path_to_the_target_contributes_exactly_zero(data):
    paths = _paths_to_target(data.adjacency)[:, :8]
    assert (~paths).any() and paths.any()  # both cases occur in this panel
    assert (data.contributions[~paths] == 0).all()
    assert (data.contributions[paths] > 0).all()


def test_baseline_plus_media_part_is_the_target(data):
    no_media = data.simulate(np.zeros_like(data.spend))
    np.testing.assert_array_equal(no_media.y, data.baseline)
    # Channels enter every equation additively (each through its own Hill
    # curve), so their contributions add up to the media part.
    np.testing.assert_allclose(
        data.baseline + data.contributions.sum(axis=1),
        data.y,
        rtol=1e-12,
    )
    share = (data.y - data.baseline).sum() / data.y.sum()
    assert 0.05 < share < 0.4
    assert (data.baseline > 0).all() and (data.y > 0).all()


def test_no_media_effect_means_the_baseline_is_the_target():
    data = make_weekly_mmm(n_shops=4, n_steps=40, effect_strength=0.0, random_state=2)
    # Funnel nodes still carry their organic part to the target.
    np.testing.assert_allclose(data.direct_contributions, 0.0, atol=0)
    np.testing.assert_allclose(data.y, data.baseline, rtol=1e-12)


def test_a_budget_shift_changes_the_target_only_through_the_moved_channel(data):
    spend = data.spend.copy()
    spend[:, 1] *= 2.0
    replay = data.simulate(spend)
    lift = replay.y - data.y
    paths = _paths_to_target(data.adjacency)[:, 1]
    assert (lift[paths] > 0).all()
    assert (lift[~paths] == 0).all()
    # Controls and other channels are untouched.
    keep = [c for c in range(data.X.shape[1]) if c not in (1, 8, 9)]
    np.testing.assert_array_equal(replay.X[:, keep], data.X[:, keep])


def test_lift_tests_are_the_replayed_experiments(data):
    tests = data.lift_tests(10, 14, lift_se=[1.0] * data.spend.shape[1])
    assert list(tests.columns) == [
        "channel",
        "start",
        "end",
        "spend_change",
        "lift",
        "lift_se",
    ]
    for channel in (0, 3):
        extra = data.spend[:, channel].mean()
        spend = data.spend.copy()
        spend[:, channel, 10:15] += extra
        lift = (data.simulate(spend).y - data.y)[:, 10:15].sum()
        row = tests.iloc[channel]
        np.testing.assert_allclose(row["lift"], lift, rtol=1e-9)
        # the extra impressions are the extra spend at the channel's CPM
        np.testing.assert_allclose(
            row["spend_change"], extra * 1000.0 / data.costs[channel], rtol=1e-12
        )
    # every channel reaches the target in some shop: more spend, more sales
    assert (tests["lift"] > 0).all()


def test_simulate_survives_pickling(data):
    again = pickle.loads(pickle.dumps(data.simulate))
    np.testing.assert_array_equal(again(data.spend).y, data.y)


def test_simulate_rejects_bad_spend(data):
    with pytest.raises(ValueError, match=r"shape \(n_shops, n_channels, n_steps\)"):
        data.simulate(data.spend[:, :, :-1])
    spend = data.spend.copy()
    spend[3, 2, 5] = -1.0
    with pytest.raises(ValueError, match="shop 3, channel 'impressions_social'"):
        data.simulate(spend)
    assert (data.spend >= 0).all()  # the caller's array is not modified


# ----------------------------------------------------------------------------
# Granger truth and reproducibility
# ----------------------------------------------------------------------------


def _pooled_granger(X: np.ndarray, n_lags: int) -> np.ndarray:
    """F statistic of dropping node i's lags from node j's pooled regression."""
    n_shops, d, n_time = X.shape
    Z = (X - X.mean(axis=2, keepdims=True)) / X.std(axis=2, keepdims=True)
    columns = [
        Z[:, i, n_lags - lag : n_time - lag].ravel()
        for i in range(d)
        for lag in range(1, n_lags + 1)
    ]
    design = np.column_stack(columns)
    n, p = design.shape
    stat = np.zeros((d, d))
    for j in range(d):
        target = Z[:, j, n_lags:].ravel()
        rss = np.sum((target - design @ np.linalg.lstsq(design, target)[0]) ** 2)
        for i in range(d):
            if i == j:
                continue
            keep = np.ones(p, dtype=bool)
            keep[i * n_lags : (i + 1) * n_lags] = False
            fit = np.linalg.lstsq(design[:, keep], target)[0]
            reduced = np.sum((target - design[:, keep] @ fit) ** 2)
            stat[i, j] = ((reduced - rss) / n_lags) / (rss / (n - p))
    return stat


def test_true_graph_is_the_granger_graph():
    # One graph type, so that a regression pooled over shops has the power
    # that a single shop's three years lack.
    data = make_weekly_mmm(
        n_shops=40, n_channels=5, n_controls=2, n_graph_types=1, random_state=3
    )
    X = np.concatenate([data.X, data.y[:, None]], axis=1)
    positive = np.ones(X.shape[1], dtype=bool)
    positive[data.control_columns] = False
    X[:, positive] = np.log(X[:, positive])
    stat = _pooled_granger(X, n_lags=4)
    truth = data.adjacency[0]
    off = ~np.eye(truth.shape[0], dtype=bool)
    assert roc_auc_score(truth[off], stat[off]) > 0.9


def test_random_state_reproduces_exactly_and_seeds_differ():
    a = make_weekly_mmm(n_shops=3, n_steps=30, random_state=7)
    b = make_weekly_mmm(n_shops=3, n_steps=30, random_state=7)
    c = make_weekly_mmm(n_shops=3, n_steps=30, random_state=8)
    for key in ("X", "y", "contributions", "baseline", "adjacency", "costs"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_shops": 0}, "n_shops"),
        ({"n_channels": 0}, "n_channels"),
        ({"n_steps": 1}, "n_steps"),
        ({"edge_density": 0.0}, "edge_density"),
        ({"seasonality": 0.7}, "seasonality"),
        ({"noise_autocorrelation": 1.0}, "noise_autocorrelation"),
        ({"start_date": "not a date"}, "start_date"),
        ({"as_frame": "yes"}, "as_frame"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_arguments_raise_a_value_error_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_weekly_mmm(**{"n_shops": 2, "n_steps": 10, **kwargs})

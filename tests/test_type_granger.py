import numpy as np
import pytest
from scipy.stats import chi2

from sklearn_causalmmm._causalmmm.pooling import (
    _log_bayes_factor,
    type_granger_log_bayes_factors,
    type_wald_statistics,
)


def _var_panel(graphs, n_steps=60, coefficient=0.5, seed=0):
    """Shops of a VAR(1) ``x(t) = c A^T x(t - 1) + noise``, one graph per shop."""
    rng = np.random.RandomState(seed)
    n_shops, n_nodes, _ = graphs.shape
    x = np.zeros((n_shops, n_nodes, n_steps))
    x[..., 0] = rng.randn(n_shops, n_nodes)
    for t in range(1, n_steps):
        drive = np.einsum("sij,si->sj", graphs, x[..., t - 1])
        x[..., t] = coefficient * drive + rng.randn(n_shops, n_nodes)
    return x


def test_each_type_recovers_its_own_graph():
    first = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    second = first.T
    graphs = np.repeat([first, second], 30, axis=0)
    x = _var_panel(graphs)
    types = np.repeat(np.eye(2), 30, axis=0)
    mask = np.ones(x.shape[::2], dtype=bool)
    evidence = type_granger_log_bayes_factors(x, mask, types, 2)
    off = ~np.eye(3, dtype=bool)
    for k, truth in enumerate([first, second]):
        assert (evidence[k][truth == 1] > 5).all()
        assert (evidence[k][off & (truth == 0)] < 0).all()
        np.testing.assert_array_equal(np.diagonal(evidence[k]), 0.0)


def test_pooling_a_type_explains_away_a_sibling():
    # channel 0 drives nodes 1 and 2; 1 and 2 are correlated only through it
    graph = np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]])
    x = _var_panel(np.repeat([graph], 40, axis=0), n_steps=40, coefficient=0.9)
    evidence = type_granger_log_bayes_factors(
        x, np.ones((40, 40), dtype=bool), np.ones((40, 1)), 1
    )[0]
    assert evidence[0, 1] > 20 and evidence[0, 2] > 20
    assert evidence[1, 2] < 0 and evidence[2, 1] < 0


def test_wald_statistic_is_the_drop_in_fit_of_the_sender():
    # with one type and unit weights the regression is ordinary least squares,
    # where the Wald statistic of a block is (RSS without it - RSS) / s^2
    rng = np.random.RandomState(1)
    n_shops, n_steps, n_lags = 5, 30, 2
    x = rng.randn(n_shops, 3, n_steps)
    x[:, 2, 1:] += 0.3 * x[:, 0, :-1]
    z = (x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True)
    columns = [
        np.concatenate([z[s, i, n_lags - lag : n_steps - lag] for s in range(n_shops)])
        for i in range(3)
        for lag in (1, 2)
    ]
    design = np.stack(columns, axis=1)
    target = np.concatenate([z[s, 2, n_lags:] for s in range(n_shops)])

    def rss(keep):
        coef, *_ = np.linalg.lstsq(design[:, keep], target, rcond=None)
        return ((target - design[:, keep] @ coef) ** 2).sum()

    full = rss([0, 1, 2, 3, 4, 5])
    variance = full / (len(target) - 6)
    expected = [
        (rss([2, 3, 4, 5]) - full) / variance,
        (rss([0, 1, 4, 5]) - full) / variance,
    ]
    mask = np.ones((n_shops, n_steps), dtype=bool)
    statistics, n_rows = type_wald_statistics(x, mask, np.ones((n_shops, 1)), n_lags)
    np.testing.assert_allclose(statistics[0, :2, 2], expected, rtol=1e-5)
    assert n_rows[0] == len(target)


def test_weights_and_masks_select_the_rows_of_a_type():
    rng = np.random.RandomState(2)
    x = rng.randn(6, 3, 25)
    mask = np.ones((6, 25), dtype=bool)
    # a shop of weight 0 counts as absent
    weights = np.ones((6, 1))
    weights[4:] = 0.0
    np.testing.assert_allclose(
        type_wald_statistics(x, mask, weights, 2)[0],
        type_wald_statistics(x[:4], mask[:4], np.ones((4, 1)), 2)[0],
    )
    # masked steps are never read, whatever they hold
    mask[1, :5] = False
    garbage = x.copy()
    garbage[1, :, :5] = 1e6
    np.testing.assert_array_equal(
        type_wald_statistics(garbage, mask, np.ones((6, 1)), 2)[0],
        type_wald_statistics(x, mask, np.ones((6, 1)), 2)[0],
    )


def test_inflation_is_divided_out_and_schwarz_penalises_lags():
    # every statistic is 10 times a null median, so they deflate back to it
    n_lags, n_rows = 3, 500.0
    null_median = chi2.ppf(0.5, n_lags)
    statistic = np.full((4, 4), 10 * null_median)
    statistic[0, 1] = 400 * null_median
    evidence = _log_bayes_factor(statistic, n_rows, n_lags)
    penalty = 0.5 * n_lags * np.log(n_rows)
    assert evidence[1, 0] == pytest.approx(null_median / 2 - penalty)
    assert evidence[0, 1] == pytest.approx(40 * null_median / 2 - penalty)
    np.testing.assert_array_equal(np.diagonal(evidence), 0.0)
    # a median below the null's is not inflated up
    small = _log_bayes_factor(np.full((3, 3), 0.1), n_rows, n_lags)
    assert small[0, 1] == pytest.approx(0.05 - penalty)


def test_deflation_can_be_turned_off_for_a_dense_type():
    n_lags, n_rows = 2, 400.0
    statistic = np.full((3, 3), 30.0)
    penalty = 0.5 * n_lags * np.log(n_rows)
    evidence = _log_bayes_factor(statistic, n_rows, n_lags, deflate=False)
    assert evidence[0, 1] == pytest.approx(15.0 - penalty)
    # deflated, the same statistics are read as nulls: the median of chi2(2)
    deflated = _log_bayes_factor(statistic, n_rows, n_lags)
    assert deflated[0, 1] == pytest.approx(chi2.ppf(0.5, n_lags) / 2 - penalty)


def test_a_type_with_too_few_rows_has_no_evidence():
    rng = np.random.RandomState(3)
    x = rng.randn(10, 3, 20)
    weights = np.zeros((10, 2))
    weights[:, 0] = 1.0
    weights[0, 1] = 0.1  # 0.1 * 18 rows against 6 unknowns
    evidence = type_granger_log_bayes_factors(
        x, np.ones((10, 20), dtype=bool), weights, 2
    )
    assert np.isfinite(evidence[0]).all() and np.isnan(evidence[1]).all()


def test_invalid_arguments_are_refused_and_inputs_left_alone():
    x = np.random.RandomState(4).randn(4, 2, 12)
    mask = np.ones((4, 12), dtype=bool)
    before = x.copy()
    with pytest.raises(ValueError, match="n_lags must be >= 1"):
        type_granger_log_bayes_factors(x, mask, np.ones((4, 1)), 0)
    with pytest.raises(ValueError, match="3 rows for 4 shops"):
        type_granger_log_bayes_factors(x, mask, np.ones((3, 1)), 1)
    type_granger_log_bayes_factors(x, mask, np.ones((4, 1)), 1)
    np.testing.assert_array_equal(x, before)

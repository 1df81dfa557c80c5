import numpy as np
import pytest

from sklearn_causalmmm.utils.lags import (
    edge_lag_features,
    lag_design,
    lag_feature_kinds,
    lag_orders,
    lag_windows,
    normal_equations,
    ridge_solve,
    select_lag_order,
    valid_windows,
    wald_statistics,
)


def _observed(values: np.ndarray) -> np.ndarray:
    return np.ones((values.shape[0], values.shape[-1]), dtype=bool)


def _standardised(values: np.ndarray) -> np.ndarray:
    """Z-scores of a fully observed shop ``(d, T)``, sample moments."""
    centred = values - values.mean(1, keepdims=True)
    return centred / values.std(1, ddof=1, keepdims=True)


def _chain(n_steps: int = 600) -> np.ndarray:
    """``a -> b -> c``, one step per link: ``a`` reaches ``c`` two steps later."""
    a, b, c = np.random.RandomState(0).randn(3, n_steps)
    b[1:] += 0.9 * a[:-1]
    c[1:] += 0.9 * b[:-1]
    return np.stack([a, b, c])[None]


# -- lag windows and the regression layout -----------------------------------


def test_lag_windows_hold_each_lag_of_every_target_lag_one_first():
    values = np.arange(12.0).reshape(1, 2, 6)
    target, lags = lag_windows(values, 3)
    assert target.shape == (1, 2, 3) and lags.shape == (1, 2, 3, 3)
    for node in range(2):
        for window in range(3):
            step = window + 3
            assert target[0, node, window] == values[0, node, step]
            expected = [values[0, node, step - lag] for lag in (1, 2, 3)]
            np.testing.assert_array_equal(lags[0, node, window], expected)
    with pytest.raises(ValueError, match="n_lags must be between 1"):
        lag_windows(values, 6)


def test_valid_windows_need_every_step_observed():
    mask = np.array([[True, True, False, True, True, True]])
    # window w reads steps w, w + 1 and predicts w + 2
    np.testing.assert_array_equal(valid_windows(mask, 2), [[0, 0, 0, 1]])
    np.testing.assert_array_equal(valid_windows(mask, 1), [[1, 0, 0, 1, 1]])


def test_lag_design_is_sender_major_and_takes_one_order_per_node():
    values = np.random.RandomState(0).randn(2, 3, 9)
    target, design, senders = lag_design(values, 2)
    assert design.shape == (2, 7, 6) and target.shape == (2, 7, 3)
    np.testing.assert_array_equal(senders, [0, 0, 1, 1, 2, 2])
    # column (sender i, lag l) of window w is node i at step w + 2 - l
    np.testing.assert_array_equal(design[1, 4, 3], values[1, 1, 4])
    np.testing.assert_array_equal(target[1, 4], values[1, :, 6])
    # per-node orders drop the lags a node does not have; windows follow the
    # longest order
    target, design, senders = lag_design(values, [1, 3, 2])
    np.testing.assert_array_equal(senders, [0, 1, 1, 1, 2, 2])
    assert design.shape == (2, 6, 6)
    np.testing.assert_array_equal(design[0, :, 0], values[0, 0, 2:8])  # lag 1
    np.testing.assert_array_equal(design[0, :, 3], values[0, 1, 0:6])  # lag 3


@pytest.mark.parametrize("bad", [0, 2.5, True, [1, 2], [1, 0, 2], "3"])
def test_lag_orders_must_be_positive_integers_one_per_node(bad):
    with pytest.raises(ValueError, match=r"n_lags must be an integer >= 1.*3 nodes"):
        lag_orders(bad, 3)


def test_normal_equations_of_blocks_of_rows_add_up():
    rng = np.random.RandomState(1)
    design, target, weights = rng.randn(20, 4), rng.randn(20, 2), rng.rand(20)
    gram, cross, squares = normal_equations(design, target, weights)
    np.testing.assert_allclose(gram, design.T @ np.diag(weights) @ design)
    np.testing.assert_allclose(cross, design.T @ np.diag(weights) @ target)
    np.testing.assert_allclose(squares, weights @ target**2)
    halves = [
        normal_equations(design[s], target[s], weights[s])
        for s in (slice(0, 7), slice(7, None))
    ]
    for total, first, second in zip((gram, cross, squares), *halves, strict=True):
        np.testing.assert_allclose(first + second, total)
    # no weights: every row counts once
    np.testing.assert_allclose(normal_equations(design, target)[0], design.T @ design)


def test_ridge_solve_is_the_penalised_normal_equations_per_batch():
    rng = np.random.RandomState(2)
    gram = np.stack([np.cov(rng.randn(3, 10)) for _ in range(2)])
    cross = rng.randn(2, 3, 1)
    solved = ridge_solve(gram, cross, np.array([0.5, 2.0]))
    for k, penalty in enumerate((0.5, 2.0)):
        expected = np.linalg.solve(gram[k] + penalty * np.eye(3), cross[k])
        np.testing.assert_allclose(solved[k], expected)


# -- the Wald statistic --------------------------------------------------------


def test_wald_statistic_is_the_drop_in_fit_of_each_senders_block():
    # in least squares the Wald statistic of a block is (RSS without it - RSS)
    # / s^2, whatever the blocks' sizes and with an untested intercept
    rng = np.random.RandomState(3)
    x = rng.randn(3, 80) + 4.0
    x[2, 2:] += 0.8 * x[0, :-2]
    target, design, senders = lag_design(x, [2, 1, 3])
    design = np.column_stack([design, np.ones(len(design))])
    senders = np.r_[senders, -1]

    def rss(columns, receiver):
        coef, *_ = np.linalg.lstsq(design[:, columns], target[:, receiver])
        return ((target[:, receiver] - design[:, columns] @ coef) ** 2).sum()

    gram, cross, squares = normal_equations(design, target)
    statistic = wald_statistics(gram, cross, squares, len(design), senders)
    n_free = len(design) - design.shape[1]
    every = np.arange(design.shape[1])
    for receiver in range(3):
        full = rss(every, receiver)
        for sender in range(3):
            drop = rss(every[senders != sender], receiver) - full
            expected = drop / (full / n_free)
            assert statistic[sender, receiver] == pytest.approx(expected, rel=1e-7)
    assert statistic[0, 2] > 30 > statistic[1, 2]


def test_a_receiver_fitted_exactly_gives_finite_statistics():
    # a node equal to another's lag leaves no residual: the floor keeps the
    # statistics finite instead of dividing by zero
    x = np.random.RandomState(4).randn(2, 50)
    x[1, 1:] = x[0, :-1]
    target, design, senders = lag_design(x, 1)
    gram, cross, squares = normal_equations(design, target)
    with np.errstate(all="raise"):
        statistic = wald_statistics(gram, cross, squares, len(design), senders)
    assert np.isfinite(statistic).all() and statistic[0, 1] > 1e6


# -- the encoder's pair features ---------------------------------------------


def test_bivariate_features_point_from_cause_to_effect():
    rng = np.random.RandomState(0)
    cause = rng.randn(1, 400)
    effect = np.zeros((1, 400))
    effect[:, 1:] = 0.9 * cause[:, :-1]
    effect = effect + 0.3 * rng.randn(1, 400)
    x = np.stack([cause, effect], 1)
    features = edge_lag_features(x, _observed(x), 3, "bivariate")
    assert features.shape == (1, 2, 2, 3)
    assert features[0, 0, 1, 0] > 0.8  # cause at lag 1 -> effect
    assert np.abs(features[0, 1, 0]).max() < 0.15  # effect's past: nothing of cause


def test_features_need_more_than_two_windows_of_lags():
    x = np.random.RandomState(0).rand(1, 2, 10)
    with pytest.raises(ValueError, match="more than 10 steps"):
        edge_lag_features(x, _observed(x), 5)


def test_bivariate_features_are_correlations_with_the_own_lag_residual():
    x = np.random.RandomState(1).randn(2, 3, 40)
    n_lags, n_rows = 2, 38
    features = edge_lag_features(x, _observed(x), n_lags, "bivariate")
    for shop in range(2):
        z = _standardised(x[shop])
        for receiver in range(3):
            own = np.stack([z[receiver, 2 - lag : 40 - lag] for lag in (1, 2)], 1)
            coef = np.linalg.solve(
                own.T @ own + 0.01 * n_rows * np.eye(2), own.T @ z[receiver, 2:]
            )
            residual = z[receiver, 2:] - own @ coef
            residual = residual / residual.std(ddof=1)
            for sender in range(3):
                for lag in (1, 2):
                    expected = residual @ z[sender, 2 - lag : 40 - lag] / n_rows
                    assert features[shop, sender, receiver, lag - 1] == pytest.approx(
                        expected, rel=1e-9
                    )


def test_conditional_coefficients_are_a_ridge_regression_on_all_lags():
    x = np.random.RandomState(1).randn(2, 3, 40)
    n_lags = 2
    coefficients = edge_lag_features(x, _observed(x), n_lags, "conditional")
    for shop in range(2):
        z = _standardised(x[shop])
        n_rows = 40 - n_lags
        # columns ordered (sender, lag): z[i, t - lag]
        design = np.stack(
            [z[i, n_lags - lag : 40 - lag] for i in range(3) for lag in (1, 2)], 1
        )
        penalty = 0.1 * n_rows * np.eye(3 * n_lags)
        for receiver in range(3):
            expected = np.linalg.solve(
                design.T @ design + penalty, design.T @ z[receiver, n_lags:]
            ).reshape(3, n_lags)
            np.testing.assert_allclose(
                coefficients[shop, :, receiver], expected, rtol=1e-9
            )


def test_conditional_and_summed_statistics_hold_back_an_indirect_sender():
    x = _chain()
    bivariate, conditional, summed = np.split(
        edge_lag_features(x, _observed(x), 2, "all"), 3, axis=-1
    )
    assert conditional.shape == summed.shape == (1, 3, 3, 2)
    # a -> c at lag 2 is there pairwise (about 0.5)...
    assert bivariate[0, 0, 2, 1] > 0.4
    # ...but b's lags explain it away
    assert np.abs(conditional[0, 0, 2]).max() < 0.1
    assert conditional[0, 1, 2, 0] > 0.4  # the direct sender b, lag 1
    assert conditional[0, 0, 1, 0] > 0.4  # a -> b, lag 1
    # and in window 2 b's sum takes most of it
    assert summed[0, 0, 2, 1] < 0.4 * bivariate[0, 0, 2, 1]
    assert summed[0, 1, 2].min() > 0.4 and summed[0, 0, 1].min() > 0.4  # direct
    assert np.abs(summed[0, 2, :2]).max() < 0.15  # c drives nothing


def test_summed_coefficients_are_a_ridge_regression_on_lag_sums():
    x = np.random.RandomState(1).randn(2, 3, 40)
    n_lags = 3
    coefficients = edge_lag_features(x, _observed(x), n_lags, "summed")
    n_rows = 40 - n_lags
    for shop in range(2):
        z = _standardised(x[shop])
        for window in (1, 2, 3):
            sums = sum(z[:, n_lags - lag : 40 - lag] for lag in range(1, window + 1))
            design = (sums / sums.std(1, ddof=1)[:, None]).T  # (rows, senders)
            gram = design.T @ design + 0.1 * n_rows * np.eye(3)
            expected = np.linalg.solve(gram, design.T @ z[:, n_lags:].T)
            np.testing.assert_allclose(
                coefficients[shop, :, :, window - 1], expected, rtol=1e-9
            )


def test_a_ragged_shop_reads_only_its_observed_span():
    rng = np.random.RandomState(5)
    x = rng.randn(2, 3, 60)
    x[:, 1, 1:] += 0.7 * x[:, 0, :-1]
    mask = np.ones((2, 60), dtype=bool)
    mask[1, :15] = False  # shop 1 starts late; its first steps hold anything
    x[1, :, :15] = 1e6
    features = edge_lag_features(x, mask, 3, "all")
    alone = edge_lag_features(x[1:, :, 15:], mask[1:, 15:], 3, "all")
    np.testing.assert_allclose(features[1], alone[0], rtol=1e-9, atol=1e-12)
    # a shop with no usable window reads zeros, not NaN
    mask[0, ::3] = False
    assert np.array_equal(edge_lag_features(x, mask, 3, "all")[0], np.zeros((3, 3, 9)))


def test_lag_feature_kinds_read_names_aliases_and_sequences():
    assert lag_feature_kinds("summed") == ("summed",)
    assert lag_feature_kinds("both") == ("bivariate", "conditional")
    assert lag_feature_kinds("all") == ("bivariate", "conditional", "summed")
    assert lag_feature_kinds(("summed", "bivariate")) == ("summed", "bivariate")
    x = np.random.RandomState(2).randn(2, 3, 30)
    together = edge_lag_features(x, _observed(x), 2, ["bivariate", "summed"])
    np.testing.assert_array_equal(
        together[..., :2], edge_lag_features(x, _observed(x), 2, "bivariate")
    )
    np.testing.assert_array_equal(
        together[..., 2:], edge_lag_features(x, _observed(x), 2, "summed")
    )
    # a set has no order to fix the encoder's input columns by
    bad_values = ("partial", (), ("summed", "summed"), ["bivariate", "both"])
    for bad in (*bad_values, None, 3, {"summed"}):
        with pytest.raises(ValueError, match="lag_features"):
            lag_feature_kinds(bad)


def test_features_leave_the_callers_series_alone():
    x = np.random.RandomState(6).randn(2, 3, 30)
    mask = _observed(x)
    mask[0, :4] = False
    before, mask_before = x.copy(), mask.copy()
    edge_lag_features(x, mask, 2, "all")
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(mask, mask_before)


# -- lag order chosen from the data ---------------------------------------------


@pytest.mark.parametrize("delay", [1, 3, 6])
def test_select_lag_order_finds_the_longest_delay_of_a_pooled_panel(delay):
    rng = np.random.RandomState(delay)
    x = rng.randn(30, 3, 80)
    x[:, 2, delay:] += 0.6 * x[:, 0, :-delay]
    x[:, 1, 1:] += 0.5 * x[:, 2, :-1]
    n_lags, criterion = select_lag_order(x, _observed(x), max_lags=8)
    assert n_lags == delay
    assert criterion.argmin() == delay - 1 and criterion.shape == (8,)


def test_select_lag_order_bounds_the_order_by_the_series_and_masks():
    x = np.random.RandomState(0).randn(5, 2, 9)
    x[:, 1, 6:] += x[:, 0, :3]  # a delay of 6 the 9 steps cannot support
    n_lags, criterion = select_lag_order(x, _observed(x), max_lags=10)
    # at most (9 - 1) // 2 = 4 lags are tried
    assert n_lags <= 4 and np.isinf(criterion[4:]).all()
    # masked steps do not enter: garbage on a hole changes nothing
    mask = _observed(x)
    mask[0, :4] = False
    garbage = x.copy()
    garbage[0, :, :4] = 1e6
    np.testing.assert_array_equal(
        select_lag_order(garbage, mask, 3)[1], select_lag_order(x, mask, 3)[1]
    )

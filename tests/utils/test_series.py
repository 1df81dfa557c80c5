import numpy as np

from sklearn_causalmmm.utils.series import standardise_observed, weighted_moments


def test_standardise_observed_uses_only_observed_steps():
    rng = np.random.RandomState(0)
    values = rng.randn(3, 2, 12) * 5 + 7
    mask = np.ones((3, 12), dtype=bool)
    mask[1, :4] = False
    before = values.copy()
    z = standardise_observed(values, mask, np.float64)
    np.testing.assert_array_equal(values, before)  # the input is left alone
    observed = z[1][:, mask[1]]
    np.testing.assert_allclose(observed.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(observed.std(axis=-1), 1.0)
    np.testing.assert_array_equal(z[1][:, :4], 0.0)
    # whatever a masked step holds, it does not enter the moments
    garbage = values.copy()
    garbage[1, :, :4] = 1e6
    np.testing.assert_array_equal(standardise_observed(garbage, mask, np.float64), z)
    assert standardise_observed(values, mask).dtype == np.float32


def test_a_constant_node_is_zero_not_infinite():
    values = np.ones((1, 1, 5))
    z = standardise_observed(values, np.ones((1, 5), dtype=bool))
    np.testing.assert_array_equal(z, 0.0)


def test_weighted_moments_along_any_axis_ignore_zero_weights():
    values = np.array([[1.0, 5.0], [3.0, -7.0], [100.0, 0.0]])
    weights = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    mean, std = weighted_moments(values, weights, axis=0)
    np.testing.assert_array_equal(mean, [[2.0, 5.0]])
    np.testing.assert_array_equal(std, [[1.0, 0.0]])
    # sample moments divide by one weight less (at least 1)
    _, std = weighted_moments(values, weights, axis=0, ddof=1)
    np.testing.assert_allclose(std, [[np.sqrt(2.0), 0.0]])
    # no weight at all: zero moments, not a division by zero
    mean, std = weighted_moments(values, np.zeros_like(values), axis=1)
    np.testing.assert_array_equal(mean, 0.0)
    np.testing.assert_array_equal(std, 0.0)

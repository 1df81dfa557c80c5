import numpy as np

from sklearn_causalmmm.utils.series import standardise_observed, valid_windows


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


def test_valid_windows_need_every_step_observed():
    mask = np.array([[True, True, False, True, True, True]])
    # window w reads steps w, w + 1 and predicts w + 2
    np.testing.assert_array_equal(valid_windows(mask, 2), [[0, 0, 0, 1]])
    np.testing.assert_array_equal(valid_windows(mask, 1), [[1, 0, 0, 1, 1]])

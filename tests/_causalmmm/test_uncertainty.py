import numpy as np
import pytest
from scipy.special import expit

from sklearn_causalmmm._causalmmm.selection import GrangerEvidence
from sklearn_causalmmm._causalmmm.uncertainty import (
    block_length,
    bootstrap_intervals,
    edge_intervals,
    resample_blocks,
)
from sklearn_causalmmm.utils.lags import valid_windows


def test_block_length_grows_as_the_cube_root_and_covers_the_lags():
    assert block_length(8, 1) == 2
    assert block_length(1000, 1) == 10
    assert block_length(1001, 1) == 11
    assert block_length(1000, 12) == 13


def test_resampled_windows_are_original_windows_and_rows_are_kept():
    n_steps, n_lags = 50, 3
    # every value is its step (node 1: step + 100): a window's steps are
    # consecutive in the original iff its values are
    values = np.stack([np.arange(n_steps), np.arange(n_steps) + 100.0])[None]
    values = np.repeat(values, 2, axis=0)
    mask = np.ones((2, n_steps), bool)
    mask[1, :10] = False  # a shop that starts later
    new_values, new_mask = resample_blocks(
        values, mask, n_lags, np.random.RandomState(0)
    )
    rows = valid_windows(new_mask, n_lags).astype(bool)
    assert rows.sum(axis=1).tolist() == [n_steps - n_lags, n_steps - 10 - n_lags]
    for shop in range(2):
        for w in np.flatnonzero(rows[shop]):
            window = new_values[shop, :, w : w + n_lags + 1]
            np.testing.assert_array_equal(np.diff(window, axis=1), 1.0)
            np.testing.assert_array_equal(window[1] - window[0], 100.0)
            # the later shop's blocks stay within its observed steps
            assert window[0, 0] >= (10 if shop else 0)
    # both shops end on the last step (the encoder reads the last window)
    assert new_mask[:, -1].all()
    # a masked separator repeats the next value: no spike for the encoder
    separators = np.flatnonzero(~new_mask[0])
    inner = separators[separators < new_mask.shape[1] - 1]
    np.testing.assert_array_equal(new_values[0, 0, inner], new_values[0, 0, inner + 1])


def test_resampling_is_fixed_by_the_seed_and_leaves_inputs_alone():
    values = np.random.RandomState(0).randn(3, 2, 40)
    mask = np.ones((3, 40), bool)
    before = values.copy()
    first = resample_blocks(values, mask, 2, np.random.RandomState(5))
    second = resample_blocks(values, mask, 2, np.random.RandomState(5))
    third = resample_blocks(values, mask, 2, np.random.RandomState(6))
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], third[0])
    np.testing.assert_array_equal(values, before)


def test_bootstrap_intervals_are_median_centred_quantiles_of_the_log_odds():
    # log odds -2..2, median 0 = logit(0.5): the 50 % interval is expit(+-1)
    replicates = expit(np.array([-2.0, -1, 0, 1, 2]))[:, None]
    lower, upper = bootstrap_intervals(np.array([0.5]), replicates, 0.5)
    np.testing.assert_allclose([lower[0], upper[0]], expit([-1.0, 1.0]))
    # replicates shifted as a whole by +2 give the same interval
    shifted = expit(np.array([0.0, 1, 2, 3, 4]))[:, None]
    again = bootstrap_intervals(np.array([0.5]), shifted, 0.5)
    np.testing.assert_allclose(again[:, 0], expit([-1.0, 1.0]))
    # exact 0 and 1 (diagonal, known edges) keep zero-width intervals
    exact = bootstrap_intervals(np.array([0.0, 1.0]), np.full((5, 2), 0.4), 0.8)
    np.testing.assert_array_equal(exact, [[0.0, 1.0], [0.0, 1.0]])


def _var_panel(n_shops, n_steps, seed):
    """A VAR(1) panel with known edges 0 -> 1, 1 -> 2 and 3 -> 0."""
    rng = np.random.RandomState(seed)
    truth = np.zeros((4, 4))
    truth[0, 1] = truth[1, 2] = truth[3, 0] = 1
    coefficients = 0.4 * truth.T + 0.3 * np.eye(4)  # x_t = A x_{t-1} + e_t
    x = np.zeros((n_shops, 4, n_steps))
    noise = rng.standard_t(5, size=x.shape)
    for t in range(1, n_steps):
        x[:, :, t] = x[:, :, t - 1] @ coefficients.T + noise[:, :, t]
    return x, np.ones((n_shops, n_steps), bool), truth.astype(bool)


def _partial_granger(values, mask):
    evidence = GrangerEvidence(1).fit(values, mask)
    return evidence.graphs(values, mask, "partial_granger")


def _intervals(n_steps, seed=0, replicate_seed=0):
    values, mask, truth = _var_panel(20, n_steps, seed)
    point = _partial_granger(values, mask)
    rng = np.random.RandomState(replicate_seed)
    intervals = edge_intervals(
        point, _partial_granger, values, mask, 1, n_replicates=30, coverage=0.8, rng=rng
    )
    return point, intervals, truth


def test_intervals_contain_the_estimate_and_separate_true_from_absent_edges():
    point, (lower, upper), truth = _intervals(60)
    assert (lower <= point).all() and (point <= upper).all()
    absent = ~truth & ~np.eye(4, dtype=bool)
    # within a shop, a true edge's lower bound is above an absent edge's
    # upper bound for most (true, absent) pairs
    above = lower[:, truth][:, :, None] > upper[:, absent][:, None, :]
    assert above.mean() >= 0.9
    # and the intervals are not degenerate
    assert (upper - lower)[:, absent].mean() > 0.01


def test_intervals_narrow_as_the_series_grow():
    widths = []
    for n_steps in (40, 120, 400):
        _, (lower, upper), _ = _intervals(n_steps)
        widths.append((upper - lower)[:, ~np.eye(4, dtype=bool)].mean())
    assert widths[0] > widths[1] > widths[2]


def test_intervals_are_fixed_by_the_seed():
    _, first, _ = _intervals(40, replicate_seed=3)
    _, second, _ = _intervals(40, replicate_seed=3)
    _, third, _ = _intervals(40, replicate_seed=4)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


@pytest.mark.parametrize("n_lags", [0, 2])
def test_shops_too_short_for_a_block_are_kept_as_they_are(n_lags):
    values = np.arange(6.0).reshape(1, 1, 6) * np.ones((2, 1, 1))
    mask = np.ones((2, 6), bool)
    mask[1, :5] = False  # one observed step: no lag window
    new_values, new_mask = resample_blocks(
        values, mask, n_lags, np.random.RandomState(0)
    )
    assert new_mask[1].sum() == 1 and new_values[1, 0, -1] == 5.0
    assert valid_windows(new_mask, n_lags)[0].sum() == 6 - n_lags


def test_a_draw_is_never_shorter_than_the_series():
    # every shop observed on a short span only: the draw keeps the grid's
    # length, for a reader of the last n_steps (the encoder)
    values = np.random.RandomState(0).randn(2, 2, 30)
    mask = np.zeros((2, 30), bool)
    mask[:, 20:] = True
    new_values, new_mask = resample_blocks(values, mask, 1, np.random.RandomState(0))
    assert new_values.shape == (2, 2, 30) and new_mask[:, -1].all()
    assert valid_windows(new_mask, 1).sum(axis=1).tolist() == [9, 9]


def test_intervals_by_chunks_of_shops_resample_each_chunk_with_its_own_stream():
    values, mask, truth = _var_panel(10, 60, 0)
    point = _partial_granger(values, mask)
    calls = []

    def estimate(draw, draw_mask, rows):
        calls.append(rows)
        assert len(draw) == rows.stop - rows.start <= 4
        return _partial_granger(draw, draw_mask)

    settings = dict(n_replicates=12, coverage=0.8)
    lower, upper = edge_intervals(
        point,
        estimate,
        values,
        mask,
        1,
        rng=np.random.RandomState(5),
        shop_chunk=4,
        **settings,
    )
    # 3 chunks (4, 4 and 2 shops), each re-estimated on its own replicates
    assert calls == [slice(0, 4)] * 12 + [slice(4, 8)] * 12 + [slice(8, 10)] * 12
    # each chunk is the whole-panel bootstrap of its shops, with the chunk's
    # seed drawn from the caller's stream
    seeds = np.random.RandomState(5).randint(np.iinfo(np.int32).max, size=3)
    for rows, seed in zip((slice(0, 4), slice(4, 8), slice(8, 10)), seeds, strict=True):
        expected = edge_intervals(
            point[rows],
            _partial_granger,
            values[rows],
            mask[rows],
            1,
            rng=np.random.RandomState(seed),
            **settings,
        )
        np.testing.assert_array_equal(np.stack([lower, upper])[:, rows], expected)
    assert (lower <= point).all() and (point <= upper).all()
    absent = ~truth & ~np.eye(4, dtype=bool)
    # true edges' intervals above absent ones' (a chunk of 2 shops pools
    # little, so one shop may not separate: judged over the shops)
    assert lower[:, truth].mean() > upper[:, absent].mean() + 0.2

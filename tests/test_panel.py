"""Tests for sklearn_causalmmm.panel: the one converter between user data and Panel."""

import copy

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklearn_causalmmm.panel import Panel, check_min_steps, fill_context, to_panel

# --------------------------------------------------------------------- helpers


def f32(shape, seed=0, low=0.0, high=10.0):
    """float64 values that float32 represents exactly (exact round trips)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=shape).astype(np.float32).astype(np.float64)


def ragged_long():
    """Two shops, shuffled rows: "a" on Jan 1-4, "b" on Jan 3-6 (hand-checked)."""
    rows = [
        ("a", "2024-01-01", 1.0, 10.0, 5.0),
        ("a", "2024-01-02", 2.0, 11.0, 5.0),
        ("a", "2024-01-03", 3.0, 12.0, 5.0),
        ("a", "2024-01-04", 2.0, 13.0, 5.0),
        ("b", "2024-01-03", 4.0, 20.0, 1.0),
        ("b", "2024-01-04", 0.0, 22.0, 2.0),
        ("b", "2024-01-05", 8.0, 24.0, 3.0),
        ("b", "2024-01-06", 4.0, 26.0, 6.0),
    ]
    df = pd.DataFrame(rows, columns=["shop_id", "date", "tv", "gmv", "size"])
    df["date"] = pd.to_datetime(df["date"])
    return df.iloc[[5, 0, 7, 2, 1, 6, 4, 3]]  # caller's order is not sorted


def long_from_numpy(X, names=None, dates=True):
    """(n_shops, n_nodes, n_steps) -> long frame, rows in shop/time order."""
    n_shops, n_nodes, n_steps = X.shape
    names = names or [f"x{j}" for j in range(n_nodes)]
    times = pd.date_range("2024-01-01", periods=n_steps) if dates else range(n_steps)
    df = pd.DataFrame(
        {
            "shop_id": np.repeat(np.arange(n_shops), n_steps),
            "date": np.tile(np.asarray(times), n_shops),
        }
    )
    for j, name in enumerate(names):
        df[name] = X[:, j, :].reshape(-1)
    return df


def assert_same(a, b):
    """Exact equality for arrays, frames, series and indexes (dtypes included)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, exact=True)
    else:
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------- round trips


def test_numpy3d_round_trip():
    X = f32((3, 4, 10))
    panel = to_panel(X)
    assert panel.layout == "numpy3d"
    assert panel.values.dtype == np.float32 and panel.values.shape == (3, 4, 10)
    np.testing.assert_array_equal(panel.values, X)
    assert panel.mask.dtype == bool and panel.mask.all()
    assert panel.node_names == ("x0", "x1", "x2", "x3")
    assert panel.shop_ids == (0, 1, 2)
    assert_same(panel.time_index, pd.RangeIndex(10))
    assert panel.context.shape == (3, 0) and panel.context_names == ()
    assert not panel.has_target and panel.row_index is None
    assert_same(panel.nodes_to_layout(panel.values), X)


def test_numpy3d_keeps_float32_and_reads_ints_as_float64():
    X32 = f32((2, 3, 5)).astype(np.float32)
    assert_same(to_panel(X32).nodes_to_layout(to_panel(X32).values), X32)
    Xint = np.arange(2 * 3 * 5).reshape(2, 3, 5)
    panel = to_panel(Xint)
    assert_same(panel.nodes_to_layout(panel.values), Xint.astype(np.float64))


def test_numpy3d_with_target_and_context():
    X, y = f32((3, 2, 8)), f32((3, 8), seed=1)
    C = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])
    panel = to_panel(X, y, context=C, target_name="sales")
    assert panel.has_target and panel.node_names == ("x0", "x1", "sales")
    assert panel.target_name == "sales"
    np.testing.assert_array_equal(panel.values[:, :2], X)
    np.testing.assert_array_equal(panel.values[:, 2], y)
    np.testing.assert_array_equal(panel.context, C.astype(np.float32))
    assert panel.context.dtype == np.float32 and panel.context_names == ("c0", "c1")
    assert_same(panel.nodes_to_layout(panel.values[:, :2]), X)
    assert panel.nodes_to_layout(panel.values).shape == (3, 3, 8)
    assert_same(panel.target_to_layout(panel.values[:, -1]), y)


def test_2d_array_round_trip():
    X, y = f32((12, 3)), f32((12,), seed=2)
    panel = to_panel(X, y)
    assert panel.layout == "2d" and panel.values.shape == (1, 4, 12)
    assert panel.shop_ids == (0,) and panel.node_names == ("x0", "x1", "x2", "gmv")
    np.testing.assert_array_equal(panel.values[0, :3].T, X)
    assert_same(panel.nodes_to_layout(panel.values[:, :3]), X)
    assert_same(panel.target_to_layout(panel.values[:, -1]), y)
    # y as a column vector and lists are accepted too
    np.testing.assert_array_equal(to_panel(X, y[:, None]).values, panel.values)
    np.testing.assert_array_equal(to_panel(X.tolist(), list(y)).values, panel.values)


def test_2d_frame_round_trip_datetime_index():
    idx = pd.date_range("2024-03-01", periods=9, freq="W-SUN", name="week")
    X = pd.DataFrame(f32((9, 2)), index=idx, columns=["tv", "search"])
    panel = to_panel(X)
    assert panel.layout == "2d" and panel.shop_ids == (0,)
    assert panel.node_names == ("tv", "search")
    assert_same(panel.time_index, idx)
    assert panel.time_index.freqstr == "W-SUN"
    assert_same(panel.row_index, X.index)
    assert_same(panel.nodes_to_layout(panel.values), X)


def test_2d_frame_with_other_index_keeps_row_order():
    X = pd.DataFrame(f32((4, 2)), index=["d", "b", "a", "c"], columns=[0, 1])
    panel = to_panel(X)
    assert panel.node_names == ("0", "1")
    assert panel.time_index.tolist() == ["d", "b", "a", "c"]
    np.testing.assert_array_equal(panel.values[0].T, X.to_numpy())
    assert_same(panel.nodes_to_layout(panel.values), X)


def test_2d_frame_unsorted_integer_index_is_sorted_on_the_grid():
    X = pd.DataFrame({"tv": [3.0, 1.0, 2.0]}, index=[12, 10, 11])
    panel = to_panel(X)
    assert_same(panel.time_index, pd.RangeIndex(10, 13))
    np.testing.assert_array_equal(panel.values[0, 0], [1.0, 2.0, 3.0])
    assert_same(panel.nodes_to_layout(panel.values), X)


def test_long_round_trip_exact():
    df = ragged_long()
    panel = to_panel(df, y="gmv", context_columns=["size"])
    assert panel.layout == "long"
    assert panel.shop_column == "shop_id" and panel.time_column == "date"
    assert panel.node_names == ("tv", "gmv") and panel.target_name == "gmv"
    assert panel.shop_ids == ("a", "b")
    assert_same(
        panel.time_index, pd.date_range("2024-01-01", periods=6, freq="D", name="date")
    )
    assert_same(panel.row_index, df.index)
    assert_same(panel.nodes_to_layout(panel.values), df)


def test_long_round_trip_with_separate_y_and_int_columns():
    df = ragged_long()
    X, y = df.drop(columns="gmv"), df["gmv"]
    X = X.assign(tv=X["tv"].astype(np.int64))
    panel = to_panel(X, y, context_columns="size")
    out = panel.nodes_to_layout(panel.values)
    expected = X.assign(tv=X["tv"].astype(np.float64), gmv=y)
    assert_same(out, expected)  # int node columns come back as float64
    assert_same(
        panel.nodes_to_layout(panel.values[:, :1]), expected.drop(columns="gmv")
    )


def test_multiindex_round_trip_and_reordered_y():
    df = ragged_long().set_index(["shop_id", "date"])
    X, y = df.drop(columns="gmv"), df["gmv"].sort_index(ascending=False)
    panel = to_panel(X, y, context_columns=["size"])
    assert panel.layout == "multiindex" and panel.shop_column is None
    assert panel.node_names == ("tv", "gmv") and panel.shop_ids == ("a", "b")
    assert panel.time_index.name == "date"
    assert_same(panel.row_index, X.index)
    assert_same(panel.nodes_to_layout(panel.values[:, :1]), X)
    assert_same(panel.target_to_layout(panel.values[:, -1]), df["gmv"])


def test_every_layout_gives_the_same_panel():
    X = f32((3, 2, 6), seed=5)
    long = long_from_numpy(X).sample(frac=1.0, random_state=0)
    multi = long.set_index(["shop_id", "date"])
    panels = [to_panel(X), to_panel(long), to_panel(multi)]
    for panel in panels:
        np.testing.assert_array_equal(panel.values, X)
        np.testing.assert_array_equal(panel.scale, panels[0].scale)
        assert panel.shop_ids == (0, 1, 2)
        assert panel.node_names == ("x0", "x1")
    single = to_panel(X[0].T)
    np.testing.assert_array_equal(single.values, X[:1])


def test_string_dates_integer_times_and_periods():
    df = ragged_long()
    as_str = df.assign(date=df["date"].dt.strftime("%Y-%m-%d"))
    panel = to_panel(as_str, y="gmv")
    assert_same(panel.time_index, to_panel(df, y="gmv").time_index)
    assert_same(panel.nodes_to_layout(panel.values), as_str)  # strings restored

    ints = df.assign(date=(df["date"] - pd.Timestamp("2024-01-01")).dt.days * 7)
    panel = to_panel(ints, y="gmv")
    assert_same(panel.time_index, pd.RangeIndex(0, 42, 7, name="date"))
    np.testing.assert_array_equal(panel.mask, to_panel(df, y="gmv").mask)

    months = df.assign(date=df["date"].dt.to_period("M") + df["date"].dt.day)
    panel = to_panel(months, y="gmv")
    assert isinstance(panel.time_index, pd.PeriodIndex)
    assert (
        panel.time_index[0] == pd.Period("2024-02", "M") and len(panel.time_index) == 6
    )


def test_month_end_grid_is_inferred_with_a_global_hole():
    """No shop observes April, so the union is irregular; the longest shop is not."""
    dates = pd.to_datetime(
        ["2024-01-31", "2024-02-29", "2024-03-31", "2024-05-31", "2024-06-30"]
    )
    df = pd.DataFrame(
        {"shop_id": [1, 1, 1, 2, 2], "date": dates, "tv": [1.0, 2, 3, 4, 5]}
    )
    panel = to_panel(df)
    assert panel.time_index.freqstr == "ME" and len(panel.time_index) == 6
    np.testing.assert_array_equal(panel.mask, [[1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1]])


def test_calendar_days_across_dst_with_a_global_hole():
    """Two-day shops on either side of a DST switch: 23h apart, still daily."""
    days = pd.date_range("2024-03-30", periods=5, freq="D", tz="Europe/Berlin")
    df = pd.DataFrame(
        {
            "shop_id": ["a", "a", "b", "b"],
            "date": days[[0, 1, 3, 4]],
            "tv": [1.0, 2, 3, 4],
        }
    )
    panel = to_panel(df)
    assert_same(panel.time_index, days.rename("date"))
    np.testing.assert_array_equal(panel.mask, [[1, 1, 0, 0, 0], [0, 0, 0, 1, 1]])
    assert_same(panel.nodes_to_layout(panel.values), df)


def test_shop_ids_are_sorted_whatever_the_row_order():
    df = pd.DataFrame(
        {"shop_id": ["z", "z", 3, 3], "date": [0, 1, 0, 1], "tv": [1.0, 2, 3, 4]}
    )
    for frame in (df, df.iloc[::-1]):
        panel = to_panel(frame)
        assert panel.shop_ids == (3, "z")  # pandas' order for mixed labels
        np.testing.assert_array_equal(panel.values[:, 0], [[3.0, 4.0], [1.0, 2.0]])
        assert_same(panel.nodes_to_layout(panel.values), frame)


# --------------------------------------------------------------- ragged panels


def test_ragged_mask_and_alignment_by_hand():
    panel = to_panel(ragged_long(), y="gmv", context_columns=["size"])
    np.testing.assert_array_equal(panel.mask, [[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]])
    np.testing.assert_array_equal(
        panel.values,
        [
            [[1, 2, 3, 2, 0, 0], [10, 11, 12, 13, 0, 0]],
            [[0, 0, 4, 0, 8, 4], [0, 0, 20, 22, 24, 26]],
        ],
    )
    # time-varying context is averaged over the shop's observed steps
    np.testing.assert_array_equal(panel.context, [[5.0], [3.0]])
    assert panel.context_names == ("size",)


def test_gap_inside_a_shop_names_shop_and_missing_times():
    df = ragged_long()
    gappy = df[~((df["shop_id"] == "b") & (df["date"] == "2024-01-05"))]
    with pytest.raises(ValueError, match=r"irregular or missing.*shop 'b'.*2024-01-05"):
        to_panel(gappy)


def test_irregular_times_name_shop_and_times():
    df = ragged_long()
    off = df.copy()
    off.loc[off["date"] == "2024-01-06", "date"] = pd.Timestamp("2024-01-05 12:00")
    with pytest.raises(
        ValueError, match=r"irregular.*shop 'b'.*off the 'D' grid.*2024-01-05 12:00"
    ):
        to_panel(off)


def test_grid_far_larger_than_the_data_is_refused():
    df = pd.DataFrame(
        {
            "shop_id": [0, 0, 1, 1],
            "date": [0, 1, 10**6, 10**6 + 1],
            "tv": [1.0, 2, 3, 4],
        }
    )
    with pytest.raises(ValueError, match=r"irregular.*shop 0.*grid of 1000002 steps"):
        to_panel(df)


def test_drop_short_drops_with_a_warning_naming_them():
    df = ragged_long()
    df = pd.concat(
        [
            df,
            pd.DataFrame(
                {
                    "shop_id": ["c"],
                    "date": [pd.Timestamp("2024-01-06")],
                    "tv": [1.0],
                    "gmv": [3.0],
                    "size": [1.0],
                }
            ),
        ]
    )
    with pytest.raises(ValueError, match=r"too few.*min_steps=2.*'c' \(1 sample\)"):
        to_panel(df, y="gmv")
    with pytest.warns(UserWarning, match=r"dropping 1 shop.*'c'"):
        panel = to_panel(df, y="gmv", drop_short=True)
    assert panel.shop_ids == ("a", "b")
    assert_same(panel.nodes_to_layout(panel.values), df[df["shop_id"] != "c"])


def test_drop_short_trims_the_grid_and_raises_when_nothing_is_left():
    df = ragged_long()
    extra = pd.DataFrame(
        {
            "shop_id": ["a"] * 2,
            "date": pd.to_datetime(["2024-01-05", "2024-01-06"]),
            "tv": [1.0, 3.0],
            "gmv": [1.0, 2.0],
            "size": [5.0, 5.0],
        }
    )
    df = pd.concat([df, extra])  # "a": 6 steps, "b": 4 steps (Jan 3-6)
    with pytest.warns(UserWarning, match=r"dropping 1 shop.*'b' \(4 samples\)"):
        panel = to_panel(
            df, y="gmv", context_columns=["size"], min_steps=5, drop_short=True
        )
    assert panel.shop_ids == ("a",) and panel.n_steps == 6
    # "a" keeps Jan 2-4 only and is dropped: the grid shrinks to "b"'s Jan 3-6
    df = ragged_long()
    df = df[(df["shop_id"] == "b") | (df["date"] > "2024-01-01")]
    with pytest.warns(UserWarning, match=r"dropping 1 shop.*'a' \(3 samples\)"):
        panel = to_panel(df, y="gmv", min_steps=4, drop_short=True)
    assert panel.shop_ids == ("b",) and panel.mask.all()
    assert_same(
        panel.time_index, pd.date_range("2024-01-03", periods=4, freq="D", name="date")
    )
    np.testing.assert_array_equal(panel.values[0, 0], [4.0, 0.0, 8.0, 4.0])
    assert_same(panel.nodes_to_layout(panel.values), df[df["shop_id"] == "b"])
    with pytest.raises(ValueError, match=r"no shop left.*'a' \(4 samples\).*'b'"):
        to_panel(ragged_long(), min_steps=5, drop_short=True)


def test_check_min_steps_names_every_short_shop():
    panel = to_panel(ragged_long(), y="gmv")
    check_min_steps(panel, 4)
    with pytest.raises(ValueError, match=r"'a' \(4 samples\), 'b' \(4 samples\)"):
        check_min_steps(panel, 5)


# --------------------------------------------------------------- scaling


def test_scale_by_hand():
    X = np.array(
        [[[1.0, 3.0, 2.0], [0.0, 0.0, 0.0]], [[4.0, 4.0, 1.0], [2.0, 0.0, 1.0]]]
    )
    panel = to_panel(X)
    np.testing.assert_array_equal(panel.scale, [[2.0, 1.0], [3.0, 1.0]])
    assert panel.scale.dtype == np.float32
    # masked steps do not count: "b" tv is 4, 0, 8, 4 -> 4; gmv 20..26 -> 23
    panel = to_panel(ragged_long(), y="gmv", context_columns=["size"])
    np.testing.assert_array_equal(panel.scale, [[2.0, 11.5], [4.0, 23.0]])


def test_scaled_divides_and_keeps_non_negative():
    panel = to_panel(ragged_long(), y="gmv")
    scaled = panel.scaled()
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled, panel.values / panel.scale[..., None])
    assert (scaled >= 0).all()
    assert (scaled[~np.broadcast_to(panel.mask[:, None], scaled.shape)] == 0).all()
    signed = to_panel(-f32((2, 2, 5)), allow_negative=True)
    assert (signed.scale > 0).all()
    np.testing.assert_allclose(np.abs(signed.scaled()).mean(axis=-1), 1.0, rtol=1e-6)
    # a chunk of shops reads as those rows of the whole, bit for bit
    np.testing.assert_array_equal(panel.scaled(slice(1, 2)), scaled[1:2])
    np.testing.assert_array_equal(panel.scaled([1, 0]), scaled[[1, 0]])


# --------------------------------------------------------------- target_to_layout


def test_target_to_layout_per_layout():
    X, y = f32((2, 1, 4)), f32((2, 4), seed=3)
    target = np.arange(8, dtype=np.float32).reshape(2, 4)

    out = to_panel(X, y).target_to_layout(target)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, target)

    out = to_panel(X[0].T, y[0]).target_to_layout(target[:1])
    assert isinstance(out, np.ndarray) and out.shape == (4,) and out.dtype == np.float64
    np.testing.assert_array_equal(out, target[0])

    frame = pd.DataFrame({"tv": X[0, 0]}, index=pd.date_range("2024-01-01", periods=4))
    out = to_panel(frame, pd.Series(y[0], index=frame.index)).target_to_layout(
        target[:1]
    )
    assert_same(out, pd.Series(target[0], index=frame.index, name="gmv", dtype=float))

    df = ragged_long()
    expected_long = pd.Series(
        [
            10.0 * (s == "b") + float(d.day)
            for s, d in zip(df["shop_id"], df["date"], strict=True)
        ],
        index=df.index,
        name="gmv",
    )
    grid = 10.0 * np.arange(2)[:, None] + np.arange(1, 7)[None, :]
    assert_same(to_panel(df, y="gmv").target_to_layout(grid), expected_long)

    multi = df.set_index(["shop_id", "date"])
    out = to_panel(multi, y="gmv", target_name="ignored").target_to_layout(grid)
    assert_same(out, expected_long.set_axis(multi.index))


def test_outputs_reject_wrong_shapes():
    panel = to_panel(f32((2, 3, 5)))
    with pytest.raises(ValueError, match=r"\(n_shops, n_steps\) = \(2, 5\)"):
        panel.target_to_layout(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"\(2, 3, 5\)"):
        panel.nodes_to_layout(np.zeros((2, 2, 5)))


# --------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_names_node_and_shop(bad):
    X = f32((3, 2, 5))
    X[2, 1, 3] = bad
    with pytest.raises(
        ValueError, match=r"X contains NaN or inf in node 'x1' of shop 2"
    ):
        to_panel(X)
    df = ragged_long()
    df.loc[df.index[0], "tv"] = bad  # row 5: shop "b"
    with pytest.raises(ValueError, match=r"NaN or inf in node 'tv' of shop 'b'"):
        to_panel(df)


def test_non_finite_y_names_target_and_shop():
    X, y = f32((3, 2, 5)), f32((3, 5))
    y[1, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"y contains NaN or inf in node 'gmv' of shop 1"
    ):
        to_panel(X, y)
    df = ragged_long()
    y = df["gmv"].copy()
    y.iloc[1] = np.inf  # shop "a"
    with pytest.raises(ValueError, match=r"y contains NaN.*'gmv' of shop 'a'"):
        to_panel(df.drop(columns="gmv"), y)
    with pytest.raises(ValueError, match=r"y contains NaN.*'gmv' of shop 'a'"):
        to_panel(df.assign(gmv=pd.array([1.0] + [None] * 7, dtype="Float64")), y="gmv")


def test_negative_media_name_node_and_shop_and_the_control_fix():
    X = f32((2, 3, 4))
    X[1, 2, 0] = -1.0
    with pytest.raises(
        ValueError, match=r"negative values in node .x2. of shop 1.*control_columns"
    ):
        to_panel(X)
    assert to_panel(X, allow_negative=True).values[1, 2, 0] == -1.0
    # a signed series declared as a control, or detected as one, is accepted
    declared = to_panel(X, control_columns=[2])
    assert declared.roles == ("media", "media", "control")
    assert to_panel(X, default_role="auto").roles == declared.roles
    # the target may be signed (a margin, a growth rate)
    df = ragged_long()
    panel = to_panel(df.drop(columns="gmv"), -df["gmv"])
    assert panel.roles[-1] == "target" and panel.values[..., -1, :].min() < 0


def test_roles_by_name_pattern_and_position_and_their_errors():
    frame = pd.DataFrame(
        {
            "tv_spend": [1.0, 2.0, 3.0],
            "search_spend": [1.0, 0.0, 2.0],
            "page_views": [5.0, 6.0, 7.0],
            "price": [-1.0, 0.5, 0.2],
            "gmv": [9.0, 8.0, 7.0],
        },
        index=pd.date_range("2024-01-01", periods=3, freq="W-MON"),
    )
    panel = to_panel(frame, y="gmv", funnel_columns="page_*", control_columns=["price"])
    assert panel.roles == ("media", "media", "funnel", "control", "target")
    assert panel.nodes_with_role("media") == [0, 1]
    assert panel.time_unit == "week"
    with pytest.raises(ValueError, match="'price' is named in two roles"):
        to_panel(frame, y="gmv", media_columns="price", control_columns="price")
    with pytest.raises(ValueError, match="funnel_columns names 'visits'.*tv_spend"):
        to_panel(frame, y="gmv", funnel_columns="visits", control_columns="price")
    with pytest.raises(ValueError, match="control_columns has position 9"):
        to_panel(frame.to_numpy()[None].transpose(0, 2, 1), control_columns=[9])


@pytest.mark.parametrize(
    "X", [np.arange(5.0), [1.0, 2.0], np.zeros((2, 2, 2, 2)), pd.Series([1.0, 2.0])]
)
def test_wrong_ndim(X):
    with pytest.raises(ValueError, match="ndim"):
        to_panel(X)


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.ones((3, 2, 5)), np.ones((3, 4)), r"misaligned.*\(3, 5\).*got \(3, 4\)"),
        (np.ones((3, 2, 5)), np.ones(5), r"misaligned.*\(n_shops, n_steps\)"),
        (np.ones((5, 2)), np.ones(4), r"misaligned.*\(5,\).*got \(4,\)"),
        (np.ones((5, 2)), np.ones((5, 2)), r"misaligned"),
    ],
)
def test_misaligned_y_shape(X, y, match):
    with pytest.raises(ValueError, match=match):
        to_panel(X, y)


def test_misaligned_y_index_names_the_missing_label():
    multi = ragged_long().set_index(["shop_id", "date"])
    y = multi["gmv"].drop(("b", pd.Timestamp("2024-01-05")))
    with pytest.raises(
        ValueError, match=r"no y value for \(shop, time\).*'b'.*2024-01-05"
    ):
        to_panel(multi.drop(columns="gmv"), y)
    y = multi["gmv"].rename(index={"b": "z"}, level=0)
    with pytest.raises(ValueError, match=r"misaligned.*'a'|misaligned.*'b'"):
        to_panel(multi.drop(columns="gmv"), y)
    df = ragged_long()
    with pytest.raises(ValueError, match=r"no y value for row 3"):
        to_panel(df.drop(columns="gmv"), df["gmv"].drop(3))
    with pytest.raises(ValueError, match=r"values for row not in X: 99"):
        to_panel(
            df.drop(columns="gmv"),
            pd.concat([df["gmv"], pd.Series([1.0], index=[99])]),
        )
    with pytest.raises(ValueError, match=r"one value per row.*\(8,\)"):
        to_panel(df.drop(columns="gmv"), np.ones(7))
    with pytest.raises(ValueError, match="'sales' is not a column"):
        to_panel(df, y="sales")


def test_duplicated_shop_time_rows_are_named():
    df = ragged_long()
    dup = pd.concat([df, df[(df["shop_id"] == "b") & (df["date"] == "2024-01-04")]])
    with pytest.raises(
        ValueError, match=r"duplicated \(shop, time\) rows: \('b', 2024-01-04\)"
    ):
        to_panel(dup)
    with pytest.raises(ValueError, match=r"duplicated.*\('b', 2024-01-04\)"):
        to_panel(dup.set_index(["shop_id", "date"]))
    X2 = pd.DataFrame({"tv": [1.0, 2.0, 3.0]}, index=[0, 1, 1])
    with pytest.raises(ValueError, match=r"duplicated.*\(0, 1\)"):
        to_panel(X2)


def test_constant_node_in_every_shop_is_named():
    X = f32((3, 3, 6))
    X[:, 1, :] = np.array([[2.0], [0.0], [5.0]])
    with pytest.raises(ValueError, match=r"'x1' constant in every shop"):
        to_panel(X)
    X[0, 1, 0] = 3.0  # varies in one shop: fine
    assert to_panel(X).n_nodes == 3
    X[0, 1, 0] = 2.0
    assert to_panel(X, check_constant=False).n_nodes == 3


def test_context_errors():
    df = ragged_long()
    with pytest.raises(ValueError, match=r"unknown context columns.*'region', 'area'"):
        to_panel(df, context_columns=["size", "region", "area"])
    bad = df.assign(size=df["size"].where(df["shop_id"] == "a"))
    with pytest.raises(ValueError, match=r"context must be finite.*'size'.*shop 'b'"):
        to_panel(bad, context_columns=["size"])
    with pytest.raises(TypeError, match=r"context column 'region' must be numeric"):
        to_panel(df.assign(region="north"), context_columns=["size", "region"])
    with pytest.raises(ValueError, match=r"context must be finite.*'c1'.*shop 1"):
        to_panel(f32((2, 2, 4)), context=np.array([[1.0, 2.0], [3.0, np.nan]]))
    with pytest.raises(ValueError, match=r"context must have shape.*n_shops=2"):
        to_panel(f32((2, 2, 4)), context=np.ones((3, 2)))
    with pytest.raises(ValueError, match="not both"):
        to_panel(df, context=np.ones((2, 1)), context_columns=["size"])
    with pytest.raises(ValueError, match="needs a DataFrame"):
        to_panel(f32((2, 2, 4)), context_columns=["size"])


def test_context_forms():
    X = f32((1, 2, 4))
    np.testing.assert_array_equal(to_panel(X, context=[1.0, 2.0]).context, [[1.0, 2.0]])
    df = ragged_long()
    ctx = pd.DataFrame({"area": [30.0, 10.0]}, index=["b", "a"])
    panel = to_panel(df, context=ctx)
    np.testing.assert_array_equal(panel.context, [[10.0], [30.0]])
    assert panel.context_names == ("area",)
    with pytest.raises(ValueError, match=r"no row for shops 'b'"):
        to_panel(df, context=ctx.loc[["a"]])


def test_non_numeric_node_column_is_a_type_error():
    df = ragged_long()
    with pytest.raises(TypeError, match=r"column 'channel' must be numeric"):
        to_panel(df.assign(channel="tv"))
    with pytest.raises(TypeError, match=r"column 'tv' must be numeric"):
        to_panel(df.assign(tv=df["tv"].astype(str)))
    with pytest.raises(TypeError, match=r"column 'tv' must be numeric"):
        to_panel(df.assign(tv=df["tv"].astype("category")))
    with pytest.raises(TypeError, match="y must be numeric"):
        to_panel(df.drop(columns="gmv"), df["gmv"].astype(str))


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (None, "NoneType"),
        ({"tv": [1.0, 2.0]}, "dict"),
        ("abc", "str"),
        (3.0, "float"),
        (sp.csr_matrix(np.eye(3)), "sparse"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
        (np.array([[1.0, {"a": 1}], [2.0, 3.0]], dtype=object), "argument must be"),
    ],
)
def test_unsupported_x_is_a_type_error(X, match):
    with pytest.raises(TypeError, match=match):
        to_panel(X)


def test_complex_x_is_a_value_error_in_sklearn_words():
    with pytest.raises(ValueError, match="Complex data not supported"):
        to_panel(np.ones((3, 2), dtype=complex))


def test_object_arrays_of_numbers_are_accepted():
    X = f32((6, 2)).astype(object)
    np.testing.assert_array_equal(to_panel(X).values[0].T, X.astype(float))


def test_empty_data_raises_sklearn_style():
    with pytest.raises(ValueError, match=r"0 sample\(s\) \(shape=\(0, 3\)\)"):
        to_panel(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(12, 0\)\) while"):
        to_panel(np.zeros((12, 0)))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        to_panel(ragged_long()[["shop_id", "date"]])


def test_keys_and_labels_errors():
    df = ragged_long()
    with pytest.raises(ValueError, match=r"column 'date' but no column 'shop_id'"):
        to_panel(df.drop(columns="shop_id"))
    with pytest.raises(ValueError, match=r"time column 'date' has missing values.*'a'"):
        to_panel(df.assign(date=df["date"].where(df["tv"] != 3.0)))
    with pytest.raises(ValueError, match=r"shop column 'shop_id' has missing values"):
        to_panel(df.assign(shop_id=df["shop_id"].where(df["tv"] != 3.0)))
    with pytest.raises(TypeError, match=r"time column 'date' must hold datetimes"):
        to_panel(df.assign(date=df["date"].dt.day + 0.5))
    with pytest.raises(TypeError, match=r"time column 'date'.*could not read it"):
        to_panel(df.assign(date="someday"))
    with pytest.raises(ValueError, match="2 levels"):
        to_panel(df.set_index(["shop_id", "date", "size"]))
    with pytest.raises(ValueError, match=r"target_name='gmv' is already a column"):
        to_panel(df, df["gmv"])
    with pytest.raises(ValueError, match=r"duplicated column names: 'tv'"):
        to_panel(pd.concat([df, df[["tv"]]], axis=1))
    with pytest.raises(ValueError, match="min_steps must be an integer >= 1"):
        to_panel(df, min_steps=0)


# --------------------------------------------------------------- no mutation


def _inputs_for_every_layout():
    df = ragged_long()
    multi = df.set_index(["shop_id", "date"])
    X3, y3 = f32((2, 2, 5)), f32((2, 5), seed=9)
    return [
        (X3, dict(y=y3, context=np.ones((2, 1)))),
        (X3[0].T.copy(), dict(y=y3[0].copy())),
        (
            df.set_index("date").query("shop_id == 'a'").drop(columns="shop_id"),
            dict(y="gmv", context_columns=["size"]),
        ),
        (
            multi.drop(columns="gmv"),
            dict(y=multi["gmv"].iloc[::-1], context_columns=["size"]),
        ),
        (df.drop(columns="gmv"), dict(y=df["gmv"], context_columns=["size"])),
        (df, dict(y="gmv", context=pd.DataFrame({"c": [1.0, 2.0]}, index=["a", "b"]))),
    ]


def _node_column(frame):
    return [c for c in frame.columns if frame[c].dtype == float and c != "size"][0]


def _assert_equal_inputs(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_equal_inputs(a[key], b[key])
    elif isinstance(a, pd.DataFrame | pd.Series | pd.Index | np.ndarray):
        assert_same(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("case", range(6))
def test_inputs_are_never_modified(case):
    X, kwargs = _inputs_for_every_layout()[case]
    X_copy, kwargs_copy = copy.deepcopy(X), copy.deepcopy(kwargs)
    panel = to_panel(X, **kwargs)
    panel.scaled()
    out = panel.nodes_to_layout(panel.values)
    panel.target_to_layout(panel.values[:, -1])
    panel.subset([0]).tail(2).head(1)
    _assert_equal_inputs(X, X_copy)
    _assert_equal_inputs(kwargs, kwargs_copy)
    # the panel shares no memory with the caller's data nor with its outputs
    values_before, out_before = panel.values.copy(), copy.deepcopy(out)
    if isinstance(X, np.ndarray):
        X[...] = 7.0
        out[...] = -1.0
    else:
        X.iloc[0, X.columns.get_loc(_node_column(X))] = 7.0
        for j in range(out.shape[1]):
            out.iloc[0, j] = out.iloc[1, j]
    np.testing.assert_array_equal(panel.values, values_before)
    assert_same(panel.nodes_to_layout(panel.values), out_before)


@pytest.mark.parametrize("case", range(6))
def test_inputs_are_not_modified_on_error_paths(case):
    X, kwargs = _inputs_for_every_layout()[case]
    if isinstance(X, np.ndarray):
        X = X.copy()
        X.reshape(-1)[1] = -5.0
    else:
        X = X.copy()
        X.iloc[1, X.columns.get_loc(_node_column(X))] = -5.0
    X_copy, kwargs_copy = copy.deepcopy(X), copy.deepcopy(kwargs)
    with pytest.raises(ValueError, match="negative"):
        to_panel(X, **kwargs)
    with pytest.raises(ValueError, match="min_steps"):
        to_panel(X, **kwargs, min_steps=100, drop_short=True, allow_negative=True)
    _assert_equal_inputs(X, X_copy)
    _assert_equal_inputs(kwargs, kwargs_copy)


# --------------------------------------------------------------- subsets


def test_subset_head_tail():
    df = ragged_long()
    panel = to_panel(df, y="gmv", context_columns=["size"])
    b = panel.subset([1])
    assert b.shop_ids == ("b",) and b.n_steps == 6
    np.testing.assert_array_equal(b.values, panel.values[1:])
    np.testing.assert_array_equal(b.context, [[3.0]])
    assert_same(b.nodes_to_layout(b.values), df[df["shop_id"] == "b"])
    assert b.target_to_layout(b.values[:, -1]).index.tolist() == [5, 7, 6, 4]

    swapped = panel.subset([-1, 0])
    assert swapped.shop_ids == ("b", "a")
    assert_same(swapped.nodes_to_layout(swapped.values), df)

    tail = panel.tail(2)
    assert_same(tail.time_index, panel.time_index[-2:])
    assert tail.time_index.freqstr == "D"
    np.testing.assert_array_equal(tail.mask, [[0, 0], [1, 1]])
    np.testing.assert_array_equal(tail.scale, [[1.0, 1.0], [6.0, 25.0]])
    assert_same(tail.nodes_to_layout(tail.values), df[df["date"] >= "2024-01-05"])
    head = panel.head(3)
    assert_same(head.time_index, panel.time_index[:3])
    assert_same(head.nodes_to_layout(head.values), df[df["date"] <= "2024-01-03"])
    assert panel.head(100).n_steps == 6

    arrays = to_panel(f32((3, 2, 7)))
    np.testing.assert_array_equal(
        arrays.subset([True, False, True]).values, arrays.values[[0, 2]]
    )
    np.testing.assert_array_equal(arrays.tail(3).values, arrays.values[..., -3:])
    assert_same(arrays.tail(3).time_index, pd.RangeIndex(4, 7))
    with pytest.raises(ValueError, match="more than once"):
        arrays.subset([0, 0])
    with pytest.raises(ValueError, match="at least one"):
        arrays.subset([])
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        arrays.tail(0)


def test_panel_is_frozen_and_has_a_short_repr():
    panel = to_panel(f32((2, 2, 3)))
    assert isinstance(panel, Panel)
    with pytest.raises(AttributeError):
        panel.layout = "long"
    assert repr(panel).startswith("Panel(layout='numpy3d', n_shops=2, n_nodes=2")


# --------------------------------------------------------------- plan context


def test_fill_context_gives_each_row_its_shops_fitted_context():
    # "size" of shop a is 5 throughout; shop b's varies, so the panel holds
    # its mean over b's rows: (1 + 2 + 3 + 6) / 4 = 3.
    panel = to_panel(ragged_long(), y="gmv", context_columns=["size"])
    plan = pd.DataFrame(
        {
            "shop_id": ["b", "a", "b"],
            "date": pd.to_datetime(["2024-01-07", "2024-01-07", "2024-01-08"]),
        },
        index=[10, 3, 10],  # a caller's index, duplicated labels included
    ).assign(tv=[1.0, 2.0, 3.0])
    original = plan.copy()
    filled = fill_context(plan, panel)
    assert list(filled.columns) == ["shop_id", "date", "tv", "size"]
    assert filled["size"].tolist() == [3.0, 5.0, 3.0]
    pd.testing.assert_frame_equal(filled.drop(columns="size"), original)
    pd.testing.assert_frame_equal(plan, original)  # the caller's plan is untouched
    # the filled plan reads as the fitted shops' context
    again = to_panel(
        filled, context_columns=["size"], min_steps=1, check_constant=False
    )
    np.testing.assert_array_equal(again.context, panel.subset([0, 1]).context)


def test_fill_context_keeps_given_columns_and_reads_a_multiindex():
    df = ragged_long().assign(width=lambda f: f["size"] * 2)
    panel = to_panel(df, y="gmv", context_columns=["width", "size"])
    index = pd.MultiIndex.from_tuples([("a", 9), ("b", 9)], names=["shop", "t"])
    plan = pd.DataFrame({"size": [-1.0, -2.0], "tv": [0.0, 1.0]}, index=index)
    filled = fill_context(plan, panel)
    assert list(filled.columns) == ["size", "tv", "width"]
    assert filled["size"].tolist() == [-1.0, -2.0]  # given: kept as it is
    assert filled["width"].tolist() == [10.0, 6.0]
    # a plan with every context column comes back as an equal copy
    complete = fill_context(filled, panel)
    pd.testing.assert_frame_equal(complete, filled)
    assert complete is not filled


def test_fill_context_names_unknown_shops_and_a_missing_shop_column():
    panel = to_panel(ragged_long(), y="gmv", context_columns=["size"])
    plan = pd.DataFrame({"store": ["a", "z"], "date": [1, 2], "tv": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"no shop column 'shop_id'.*'size'"):
        fill_context(plan, panel)
    unknown = r"shops 'z' of X are not in the panel.*add the column\(s\) 'size' to X"
    with pytest.raises(ValueError, match=unknown):
        fill_context(plan, panel, shop_column="store")
    with pytest.raises(TypeError, match="DataFrame"):
        fill_context(plan.to_numpy(), panel)
    # without context there is nothing to fill, whatever the shops
    bare = to_panel(ragged_long().drop(columns="size"), y="gmv")
    pd.testing.assert_frame_equal(fill_context(plan, bare), plan)


# --------------------------------------------------------------- property test


@st.composite
def ragged_panels(draw):
    n_shops = draw(st.integers(1, 4))
    n_nodes = draw(st.integers(1, 3))
    n_steps = draw(st.integers(2, 8))
    values = draw(
        hnp.arrays(
            np.float32,
            (n_shops, n_nodes, n_steps),
            elements=st.floats(0, 1e6, width=32, allow_subnormal=False),
        )
    )
    spans = []
    for _ in range(n_shops):
        start = draw(st.integers(0, n_steps - 1))
        spans.append((start, draw(st.integers(start + 1, n_steps))))
    # the grid spans exactly n_steps, and a shop with two steps reveals the daily
    # step (from the times alone, days 0 and 4 could be a 4-day grid)
    if (
        all(start > 0 for start, _ in spans)
        or all(end < n_steps for _, end in spans)
        or all(end - start < 2 for start, end in spans)
    ):
        spans[0] = (0, n_steps)
    seed = draw(st.integers(0, 2**16))
    return values, spans, seed


@settings(max_examples=60, deadline=None)
@given(ragged_panels())
def test_numpy3d_round_trips_through_the_long_layout(case):
    values, spans, seed = case
    n_shops, n_nodes, n_steps = values.shape
    mask = np.zeros((n_shops, n_steps), dtype=bool)
    for s, (start, end) in enumerate(spans):
        mask[s, start:end] = True
    values = np.where(mask[:, None], values, 0).astype(np.float32)
    long = long_from_numpy(values.astype(np.float64))
    long = long[mask.reshape(-1)].sample(frac=1.0, random_state=seed)

    panel = to_panel(long, min_steps=1, check_constant=False)
    np.testing.assert_array_equal(panel.values, values)
    np.testing.assert_array_equal(panel.mask, mask)
    assert panel.shop_ids == tuple(range(n_shops))
    assert panel.node_names == tuple(f"x{j}" for j in range(n_nodes))
    assert_same(
        panel.time_index,
        pd.date_range("2024-01-01", periods=n_steps, freq="D", name="date"),
    )
    assert_same(panel.nodes_to_layout(panel.values), long)
    back = to_panel(values, check_constant=False, min_steps=1)
    np.testing.assert_array_equal(back.values, panel.values)


# -- missing values -------------------------------------------------------------------


def _holed_long_frame():
    times = pd.date_range("2024-01-01", periods=5, freq="D")
    frame = pd.DataFrame(
        [(shop, t) for shop in ("a", "b") for t in times], columns=["shop_id", "date"]
    )
    frame["tv"] = np.arange(10, dtype=float) + 1.0
    frame["price"] = np.arange(10, dtype=float) + 20.0
    frame["gmv"] = np.arange(10, dtype=float) + 100.0
    frame.loc[1, "tv"] = np.nan  # shop a, step 1
    frame.loc[0, "price"] = np.nan  # shop a, before any price
    frame.loc[7, "gmv"] = np.nan  # shop b, step 2
    return frame.drop(index=3)  # shop a lacks step 3


def test_missing_ffill_fills_drivers_and_leaves_the_target_missing():
    frame = _holed_long_frame()
    before = frame.copy()
    panel = to_panel(frame, y="gmv", missing="ffill")
    pd.testing.assert_frame_equal(frame, before)
    # tv: step 1 takes step 0's value, the absent step 3 takes step 2's
    np.testing.assert_array_equal(panel.values[0, 0], [1.0, 1.0, 3.0, 3.0, 5.0])
    # price: nothing before step 0, so the first value after it
    np.testing.assert_array_equal(panel.values[0, 1], [21.0, 21.0, 22.0, 22.0, 24.0])
    # the target stays missing (shop a's step 3, shop b's step 2)
    np.testing.assert_array_equal(panel.observed[:, -1].sum(axis=1), [4, 4])
    # every driver of every step present (a row: observed as a whole or not)
    assert (panel.observed[:, :-1] | ~panel.mask[:, None]).all()
    masked = panel.mask_missing_steps()
    np.testing.assert_array_equal(masked.mask[0], [True, True, True, False, True])
    np.testing.assert_array_equal(masked.mask[1], [True, True, False, True, True])
    assert masked.observed is None
    # the scale is the mean over the steps kept: shop b's gmv without step 2
    assert masked.scale[1, -1] == pytest.approx(np.mean([105, 106, 108, 109]))


def test_missing_mask_drops_every_step_with_a_hole_like_an_absent_row():
    frame = _holed_long_frame()
    holed = to_panel(frame, y="gmv", missing="mask").mask_missing_steps()
    np.testing.assert_array_equal(
        holed.mask, [[False, False, True, False, True], [True, True, False, True, True]]
    )
    # the same panel as leaving those rows out of the data
    rows = frame[frame[["tv", "price", "gmv"]].notna().all(axis=1)]
    absent = to_panel(rows, y="gmv", missing="mask").mask_missing_steps()
    np.testing.assert_array_equal(holed.values, absent.values)
    np.testing.assert_array_equal(holed.mask, absent.mask)
    np.testing.assert_array_equal(holed.scale, absent.scale)


def test_missing_policy_errors():
    frame = _holed_long_frame()
    with pytest.raises(ValueError, match=r"node 'tv' of shop 'a'.*2024-01-02"):
        to_panel(frame.fillna({"price": 20.0, "gmv": 1.0}).iloc[:3], y="gmv")
    with pytest.raises(ValueError, match=r"shop 'a' misses 1 step.*2024-01-04"):
        to_panel(frame.dropna(), y="gmv")
    with pytest.raises(ValueError, match="missing must be 'error', 'mask' or 'ffill'"):
        to_panel(frame, y="gmv", missing="drop")
    frame.loc[frame["shop_id"] == "b", "tv"] = np.nan
    with pytest.raises(ValueError, match=r"cannot fill node 'tv' of shop 'b'"):
        to_panel(frame, y="gmv", missing="ffill")


def test_concatenating_a_history_with_masked_holes_keeps_them():
    from sklearn_causalmmm.panel import concatenate_steps

    frame = _holed_long_frame()
    history = to_panel(frame, y="gmv", missing="mask").mask_missing_steps()
    times = pd.date_range("2024-01-06", periods=2, freq="D")
    later = pd.DataFrame(
        {
            "shop_id": ["a", "a", "b", "b"],
            "date": list(times) * 2,
            "tv": [1.0, 2.0, 3.0, 4.0],
            "price": [5.0, 6.0, 7.0, 8.0],
            "gmv": [9.0, 10.0, 11.0, 12.0],
        }
    )
    both = concatenate_steps(history, to_panel(later, y="gmv", check_constant=False))
    np.testing.assert_array_equal(both.mask[:, :5], history.mask)
    np.testing.assert_array_equal(both.values[..., :5], history.values)
    assert both.mask[:, 5:].all()
    # a step that neither part covers is still a gap
    skipped = later.assign(date=later["date"] + pd.Timedelta(days=1))
    with pytest.raises(ValueError, match=r"misses 1 step.*2024-01-06"):
        concatenate_steps(history, to_panel(skipped, y="gmv", check_constant=False))

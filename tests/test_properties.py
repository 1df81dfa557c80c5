"""Property-based tests: random user inputs against the package's public entry points.

Every input either gives a correct result or a ``ValueError``/``TypeError``
raised by the package itself (never a traceback from inside pandas, numpy or
torch) whose message names the culprit; forecasts are finite; inputs are never
modified. The seed is fixed (``derandomize=True``) so CI sees the same
examples every run; ``benchmarks/properties.py`` runs many more.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import os
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_causalmmm import CausalGraphDiscoverer, CausalMMMRegressor  # noqa: E402
from sklearn_causalmmm.panel import to_panel  # noqa: E402

# CI runs a few examples; `HYPOTHESIS_MAX_EXAMPLES=500 pytest ...` runs more.
_SCALE = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "0"))


def _settings(n: int, deadline_ms: int = 2000):
    return settings(
        max_examples=_SCALE or n,
        derandomize=True,
        deadline=deadline_ms,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )


def _raised_by_package(error: BaseException) -> bool:
    """The error left from the package's own code (not from pandas/numpy/torch)."""
    frames = traceback.extract_tb(error.__traceback__)
    return "sklearn_causalmmm" in frames[-1].filename


def _check_error(error: BaseException, culprits=()) -> None:
    assert isinstance(error, ValueError | TypeError), repr(error)
    assert _raised_by_package(error), "".join(traceback.format_exception(error))
    message = str(error)
    if culprits:
        assert any(str(c) in message for c in culprits), (message, culprits)


# -- random long frames ---------------------------------------------------------------

_NAMES = st.sampled_from(["tv", "search", "Präsenz", "广告", "spend 1", "x-y", "0"])
_DTYPES = st.sampled_from(
    ["float64", "float32", "int64", "Int64", "Float64", "object", "thousands"]
)


@st.composite
def long_frames(draw, max_shops=3, max_steps=6, max_channels=3):
    """A long frame with its known ground truth and the defects put into it."""
    n_shops = draw(st.integers(1, max_shops))
    n_steps = draw(st.integers(1, max_steps))
    n_channels = draw(st.integers(1, max_channels))
    names = draw(
        st.lists(_NAMES, min_size=n_channels, max_size=n_channels, unique=True)
    )
    numeric_names = draw(st.booleans())
    if numeric_names:  # integer column labels
        names = list(range(n_channels))
    magnitude = draw(st.sampled_from([1e-3, 1.0, 1e3, 1e9]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shops = draw(
        st.sampled_from(
            [
                [f"shop{i}" for i in range(n_shops)],
                list(range(10, 10 + n_shops)),
                [f"é{i}" for i in range(n_shops)],
            ]
        )
    )
    step = draw(st.sampled_from(["D", "W-MON", "int"]))
    times = (
        pd.RangeIndex(0, 2 * n_steps, 2)
        if step == "int"
        else pd.date_range("2024-01-01", periods=n_steps, freq=step)
    )
    rows = []
    for shop in shops:
        for t in times:
            rows.append((shop, t))
    frame = pd.DataFrame(rows, columns=["shop_id", "date"])
    for name in names:
        kind = draw(st.sampled_from(["random", "zero", "constant"]))
        if kind == "random":
            values = np.round(rng.random(len(frame)) * magnitude, 3)
        elif kind == "zero":
            values = np.zeros(len(frame))
        else:
            values = np.full(len(frame), magnitude)
        if draw(_DTYPES) in ("int64", "Int64"):
            values = np.round(values)
        frame[name] = values
    frame["gmv"] = np.round(1.0 + rng.random(len(frame)) * magnitude, 3)
    defects = []
    for column in [*names, "gmv"]:
        dtype = draw(_DTYPES)
        if dtype == "thousands":
            # numbers as text (as a CSV read without thousands=","): refused
            frame[column] = [f"{v:,.3f}" for v in frame[column]]
            defects.append(("text", column))
        elif dtype in ("int64", "Int64"):
            if np.all(frame[column] == np.round(frame[column])):
                frame[column] = frame[column].astype(dtype)
            elif dtype == "Int64":
                frame[column] = frame[column].astype("Float64")
        elif dtype == "object":
            frame[column] = frame[column].astype(object)
        else:
            frame[column] = frame[column].astype(dtype)
    layout = draw(st.sampled_from(["sorted", "shuffled", "duplicated", "irregular"]))
    if layout == "shuffled":
        frame = frame.sample(frac=1.0, random_state=0)
    elif layout == "duplicated":
        frame = pd.concat([frame, frame.iloc[[0]]])
        defects.append(("duplicated", "shop_id"))
    elif layout == "irregular" and n_steps >= 3:
        frame = frame[frame["date"] != times[1]]
        defects.append(("irregular", "date"))
    if draw(st.booleans()):  # a bad cell
        bad = draw(st.sampled_from(["nan", "inf", "negative"]))
        column = draw(st.sampled_from([*names, "gmv"]))
        row = draw(st.integers(0, len(frame) - 1))
        if frame[column].dtype == object and isinstance(frame[column].iloc[0], str):
            pass  # already a text column
        else:
            value = {"nan": np.nan, "inf": np.inf, "negative": -magnitude}[bad]
            frame[column] = frame[column].astype("float64")
            frame.iloc[row, frame.columns.get_loc(column)] = value
            if not (bad == "negative" and column == "gmv"):  # a target may be < 0
                defects.append((bad, column))
    return frame, names, defects


@_settings(60, deadline_ms=1000)
@given(long_frames())
def test_to_panel_round_trips_or_names_the_culprit(case):
    frame, names, defects = case
    before = frame.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            panel = to_panel(frame, y="gmv", min_steps=1, check_constant=False)
        except (ValueError, TypeError) as error:
            assert defects, f"a clean frame was refused: {error}"
            _check_error(
                error, [repr(c) for _, c in defects] + ["shop", "time", "date"]
            )
            pd.testing.assert_frame_equal(frame, before)
            return
    pd.testing.assert_frame_equal(frame, before)
    # negative values are refused for media; the others are an error too
    assert not [d for d in defects if d[0] != "irregular"], defects
    assert panel.node_names == (*map(str, names), "gmv")
    # exact round trip of every cell (float32 storage)
    expected = frame[[*names, "gmv"]].to_numpy(dtype=np.float64, na_value=np.nan)
    back = panel.target_to_layout(panel.values[:, -1])
    np.testing.assert_allclose(
        np.asarray(back, dtype=np.float64),
        expected[:, -1].astype(np.float32),
        rtol=1e-6,
    )
    assert np.isfinite(panel.values).all()


@_settings(25, deadline_ms=1000)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 5),
    st.sampled_from(["float64", "float32", "int64", "object", "bool"]),
    st.sampled_from([None, "nan", "inf", "negative"]),
)
def test_array_layouts(n_shops, n_nodes, n_steps, dtype, defect):
    rng = np.random.default_rng(n_shops * 100 + n_nodes * 10 + n_steps)
    X = (rng.random((n_shops, n_nodes, n_steps)) * 5).astype(dtype)
    if defect is not None and dtype in ("float64", "float32", "object"):
        X[-1, -1, -1] = {"nan": np.nan, "inf": np.inf, "negative": -1.0}[defect]
    else:
        defect = None
    before = X.copy()
    try:
        panel = to_panel(X, min_steps=1, check_constant=False)
    except (ValueError, TypeError) as error:
        assert defect is not None, error
        _check_error(error, [f"'x{n_nodes - 1}'"])
    else:
        assert defect is None
        np.testing.assert_array_equal(panel.values, X.astype(np.float32))
    assert X.dtype == before.dtype
    np.testing.assert_array_equal(X.astype(float), before.astype(float))


def test_flat_frame_with_an_unnamed_shop_column_is_an_error():
    """A long frame whose shop/time columns have other names is not one shop."""
    X = pd.DataFrame(
        {
            "store": [1, 1, 1, 2, 2, 2],
            "week": [1, 2, 3, 1, 2, 3],
            "tv": [1.0, 2, 3, 4, 5, 6],
            "gmv": [1.0, 2, 3, 4, 5, 7],
        }
    )
    with pytest.raises(ValueError, match=r"'store'.*shop_column='store'"):
        to_panel(X, y="gmv")
    X["store"] = ["a", "a", "a", "b", "b", "b"]
    with pytest.raises(ValueError, match=r"'store', 'week'.*shop_column='store'"):
        to_panel(X, y="gmv")
    # a text column under another name: the type error says how to name keys
    with pytest.raises(TypeError, match=r"'outlet'.*row 0 holds the text 'a'.*shop_"):
        to_panel(X.rename(columns={"store": "outlet", "week": "t"}), y="gmv")
    # named, it is the long layout
    panel = to_panel(X, y="gmv", shop_column="store", time_column="week")
    assert panel.shop_ids == ("a", "b")


def test_thousands_separator_names_column_row_and_fix():
    X = pd.DataFrame(
        {
            "shop_id": ["a", "a", "a"],
            "date": [1, 2, 3],
            "tv": [1.0, 2.0, 3.0],
            "gmv": ["900", "1,000", "1,100"],
        }
    )
    with pytest.raises(TypeError) as info:
        to_panel(X, y="gmv")
    message = str(info.value)
    assert "'gmv'" in message and "'1,000'" in message and "row 1" in message
    assert "thousands" in message


# -- estimators -----------------------------------------------------------------------

_TINY = dict(
    hidden=4,
    max_epochs=1,
    n_lags=0,
    horizon=2,
    validation_fraction=0.0,
    batch_size=4,
    random_state=0,
)


@st.composite
def fit_cases(draw):
    n_shops = draw(st.integers(1, 3))
    n_channels = draw(st.integers(1, 2))
    n_steps = draw(st.integers(6, 9))
    magnitude = draw(st.sampled_from([1e-3, 1.0, 1e6, 1e9]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.random((n_shops, n_channels, n_steps)) * magnitude
    kinds = draw(
        st.lists(
            st.sampled_from(["random", "zero", "constant"]),
            min_size=n_channels,
            max_size=n_channels,
        )
    )
    for j, kind in enumerate(kinds):
        if kind == "zero":
            X[:, j] = 0.0
        elif kind == "constant":
            X[:, j] = magnitude
    target = draw(st.sampled_from(["random", "constant_shop", "zero_shop"]))
    y = 1.0 + rng.random((n_shops, n_steps)) * magnitude
    if target == "constant_shop":
        y[0] = magnitude
    elif target == "zero_shop":
        y[0] = 0.0
    defect = draw(st.sampled_from([None, None, "nan_x", "inf_y", "negative_x"]))
    if defect == "nan_x":
        X[0, 0, 1] = np.nan
    elif defect == "inf_y":
        y[-1, -1] = np.inf
    elif defect == "negative_x":
        X[-1, 0, 0] = -1.0
    return X, y, defect


@_settings(8, deadline_ms=20000)
@given(fit_cases())
def test_regressor_fit_predict_on_random_panels(case):
    X, y, defect = case
    X_before, y_before = X.copy(), y.copy()
    model = CausalMMMRegressor(**_TINY)
    fit, plan = X[..., :-2], X[..., -2:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(fit, y[:, :-2])
        except (ValueError, TypeError) as error:
            _check_error(
                error, ["'x0'", "'gmv'", "constant", "NaN", "negative", "steps"]
            )
            np.testing.assert_array_equal(X, X_before)
            return
        if defect in ("nan_x", "negative_x"):
            # the defect sat in the plan, not in the fitted steps
            with pytest.raises(ValueError, match="'x0'"):
                model.predict(np.where(np.isfinite(plan), plan, np.nan) - 2.0)
            return
        forecast = model.predict(plan)
        lower, upper = model.predict_interval(plan)
        graphs = model.predict_graph(fit, y[:, :-2])
    assert forecast.shape == plan[:, 0].shape
    assert np.isfinite(forecast).all()
    assert np.isfinite(lower).all() and np.isfinite(upper).all()
    assert (lower <= forecast + 1e-9 * np.abs(forecast)).all()
    assert ((graphs >= 0) & (graphs <= 1)).all()
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


@_settings(12, deadline_ms=20000)
@given(fit_cases())
def test_discoverer_fit_predict_graph_on_random_panels(case):
    X, y, defect = case
    panel = np.concatenate([X, y[:, None]], axis=1)
    before = panel.copy()
    model = CausalGraphDiscoverer(hidden=4, max_epochs=1, n_lags=0, horizon=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(panel)
            graphs = model.predict_graph(panel)
        except (ValueError, TypeError) as error:
            _check_error(error, ["'x", "constant", "NaN", "negative", "steps"])
            return
    assert defect is None or defect == "negative_x"
    assert np.isfinite(graphs).all() and graphs.shape == model.edge_probabilities_.shape
    np.testing.assert_array_equal(panel, before)


# -- analysis -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_frame_model():
    rng = np.random.default_rng(0)
    times = pd.date_range("2024-01-01", periods=12, freq="D")
    frame = pd.DataFrame(
        [(shop, t) for shop in ("a", "b") for t in times], columns=["shop_id", "date"]
    )
    frame["tv"] = rng.random(len(frame)) * 10
    frame["radio"] = rng.random(len(frame)) * 10
    frame["gmv"] = 5 + frame["tv"] + rng.random(len(frame))
    fit = frame[frame["date"] < times[9]]
    model = CausalMMMRegressor(**_TINY).fit(fit.drop(columns="gmv"), fit["gmv"])
    return model, frame[frame["date"] >= times[9]].drop(columns="gmv")


@_settings(10, deadline_ms=5000)
@given(
    st.sampled_from([0.0, 1e-3, 1.0, 1e6]),
    st.sampled_from(["tv", "radio"]),
    st.sampled_from([None, "nan", "negative", "unknown"]),
)
def test_analysis_on_random_plans(fitted_frame_model, magnitude, channel, defect):
    from sklearn_causalmmm.analysis.contributions import channel_contributions
    from sklearn_causalmmm.analysis.response import response_curves

    model, plan = fitted_frame_model
    plan = plan.assign(**{channel: plan[channel] * magnitude})
    channels = [channel]
    if defect == "nan":
        plan.loc[plan.index[0], channel] = np.nan
    elif defect == "negative":
        plan.loc[plan.index[0], channel] = -1.0
    elif defect == "unknown":
        channels = ["nope"]
    before = plan.copy(deep=True)
    try:
        table = channel_contributions(model, plan, channels)
        curves = response_curves(model, plan, channels, factors=[0.0, 1.0])
    except (ValueError, TypeError) as error:
        assert defect in ("negative", "unknown"), error
        _check_error(error, [repr(channel), "'nope'"])
    else:
        # a NaN planned value is forecast by the model (documented in predict)
        assert defect in (None, "nan")
        assert np.isfinite(table["contribution"].to_numpy()).all()
        assert np.isfinite(curves.to_numpy()).all()
    pd.testing.assert_frame_equal(plan, before)


# -- the command line's CSV reader ---------------------------------------------------


@_settings(25, deadline_ms=2000)
@given(
    st.lists(
        st.sampled_from(
            [
                "1",
                "2.5",
                '"1,000"',
                '"1,234,567.5"',
                "-3",
                "",
                "abc",
                "1e9",
                "Ω",
                '"x,y"',
            ]
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["utf-8", "latin-1"]),
)
def test_cli_reads_csv_or_names_the_file(tmp_path_factory, cells, encoding):
    from pathlib import Path

    from sklearn_causalmmm.__main__ import _read_csv

    path = Path(tmp_path_factory.mktemp("csv")) / "data.csv"
    text = "shop_id,date,gmv\n" + "".join(
        f"a,2024-01-0{i + 1},{c}\n" for i, c in enumerate(cells)
    )
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        return
    try:
        frame = _read_csv(path)
    except ValueError as error:
        _check_error(error, [str(path)])
        return
    gmv = frame["gmv"]
    numbers = [c.strip('"') for c in cells if c]
    separated = [c.replace(",", "") for c in numbers]
    if all(_is_number(c) for c in separated):
        # numbers written with a thousands separator are read as numbers
        np.testing.assert_allclose(
            gmv.dropna().to_numpy(dtype=float), [float(c) for c in separated]
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

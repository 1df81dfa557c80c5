"""Tests for the bundled demo panel, load_demo."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm.datasets import load_demo
from sklearn_causalmmm.datasets._demo import _make_demo_frame


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_demo_frame_columns_and_dtypes(demo):
    frame = demo.frame
    channels = ["brand", "display", "video", "feed", "search"]
    assert list(frame.columns) == [
        "shop_id",
        "date",
        "context_0",
        "context_1",
        *channels,
        "pv",
        "gmv",
    ]
    assert frame.shape == (40 * 365, 11)
    assert pd.api.types.is_string_dtype(frame["shop_id"])
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    for column in frame.columns[2:]:
        assert frame[column].dtype == np.float64
    assert (frame[channels + ["pv", "gmv"]] >= 0).all().all()
    assert not frame.duplicated(["shop_id", "date"]).any()
    assert demo.channel_columns == channels
    assert demo.context_columns == ["context_0", "context_1"]
    assert demo.target == "gmv"
    assert demo.shop_column == "shop_id" and demo.time_column == "date"
    assert demo.node_names == [*channels, "pv", "gmv"]


def test_demo_ground_truth_matches_the_frame(demo):
    assert demo.adjacency.shape == (40, 7, 7)
    assert demo.graph_type.shape == (40,)
    assert demo.graph_types.shape == (3, 7, 7)
    np.testing.assert_array_equal(demo.adjacency, demo.graph_types[demo.graph_type])
    assert demo.contributions.shape == (40, 5, 365)
    assert demo.X.shape == (40, 6, 365) and demo.y.shape == (40, 365)
    assert demo.context.shape == (40, 2)
    shop = demo.frame[demo.frame["shop_id"] == "shop_007"]
    np.testing.assert_array_equal(shop["pv"], demo.X[7, 5])
    np.testing.assert_array_equal(shop["gmv"], demo.y[7])
    np.testing.assert_array_equal(shop["context_0"], demo.context[7, 0])
    # Every channel matters somewhere; each type has its own graph.
    assert (demo.contributions.sum(axis=(0, 2)) > 0).all()
    assert len({g.tobytes() for g in demo.graph_types}) == 3


def test_bundled_demo_equals_a_fresh_regeneration(demo):
    frame, truth = _make_demo_frame()
    # Floats are written with their shortest round-trip repr, so the CSV gives
    # back the exact doubles; the tolerance only absorbs last-ulp differences
    # of exp/log between CPUs if the data was built on another machine.
    pd.testing.assert_frame_equal(
        demo.frame, frame, check_exact=False, rtol=1e-12, atol=0.0
    )
    np.testing.assert_array_equal(demo.adjacency, truth["adjacency"])
    np.testing.assert_array_equal(demo.graph_type, truth["graph_type"])
    np.testing.assert_array_equal(demo.graph_types, truth["graph_types"])
    assert demo.node_names == truth["node_names"].tolist()
    np.testing.assert_allclose(
        demo.contributions,
        truth["contributions"],
        rtol=1e-9,
        atol=1e-9 * demo.y.max(),
    )


def test_demo_files_are_small():
    data_dir = resources.files("sklearn_causalmmm").joinpath("data")
    files = [f for f in data_dir.iterdir() if f.name.startswith("demo_mmm")]
    assert len(files) == 2
    total = sum(len(f.read_bytes()) for f in files)
    assert total < 2 * 1024 * 1024

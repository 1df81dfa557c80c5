"""Tests of the PNG figures of ``sklearn_causalmmm.reporting.plots``."""

# SPDX-License-Identifier: BSD-3-Clause

import struct

import numpy as np
import pandas as pd
import pytest

from sklearn_causalmmm.analysis.budget import BudgetAllocation
from sklearn_causalmmm.reporting.plots import (
    plot_budget,
    plot_contributions,
    plot_forecasts,
    plot_graph_heatmaps,
    plot_response_curves,
    plot_training_curve,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NODES = ["tv", "search", "gmv"]


def png_size(path):
    """Width and height of a PNG, read from its IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _graphs(n_types, seed=0):
    rng = np.random.default_rng(seed)
    learned = {f"type {t}": rng.uniform(size=(3, 3)) for t in range(n_types)}
    truth = {f"type {t}": rng.integers(0, 2, size=(3, 3)) for t in range(n_types)}
    return learned, truth


@pytest.mark.parametrize(("n_types", "dpi"), [(1, 100), (3, 100), (2, 50)])
def test_graph_heatmaps_size_grows_with_shop_types(tmp_path, n_types, dpi):
    learned, truth = _graphs(n_types)
    path = plot_graph_heatmaps(learned, truth, NODES, tmp_path / "g.png", dpi=dpi)
    assert path == tmp_path / "g.png"
    assert png_size(path) == (8 * dpi, round(3.6 * n_types * dpi))


def test_graph_heatmaps_creates_parent_folders(tmp_path):
    learned, truth = _graphs(1)
    path = plot_graph_heatmaps(learned, truth, NODES, tmp_path / "a" / "b" / "g.png")
    assert path.is_file()


def test_graph_heatmaps_reject_mismatched_input(tmp_path):
    learned, truth = _graphs(2)
    with pytest.raises(ValueError, match="lacks the shop type"):
        plot_graph_heatmaps(
            learned, {"type 0": truth["type 0"]}, NODES, tmp_path / "g.png"
        )
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        plot_graph_heatmaps(learned, truth, NODES[:2], tmp_path / "g.png")
    with pytest.raises(ValueError, match="no shop type"):
        plot_graph_heatmaps({}, truth, NODES, tmp_path / "g.png")
    with pytest.raises(ValueError, match=r"\.png"):
        plot_graph_heatmaps(learned, truth, NODES, tmp_path / "g.pdf")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("n_graphs", "size"), [(1, (400, 360)), (3, (800, 720)), (4, (800, 720))]
)
def test_graph_heatmaps_without_truth_fill_two_per_row(tmp_path, n_graphs, size):
    learned, _ = _graphs(n_graphs)
    path = plot_graph_heatmaps(learned, None, NODES, tmp_path / "g.png")
    assert png_size(path) == size
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        plot_graph_heatmaps(learned, None, NODES[:2], tmp_path / "bad.png")


def _forecast_frames(n_shops, n_days=7):
    dates = pd.date_range("2024-12-01", periods=n_days + 14, freq="D")
    shops = [f"shop_{s}" for s in range(n_shops)]
    rng = np.random.default_rng(0)
    values = pd.DataFrame(
        rng.uniform(10, 20, size=(len(dates), n_shops)), index=dates, columns=shops
    )
    history, truth = values.iloc[:14], values.iloc[14:]
    naive = pd.DataFrame(
        np.repeat(history.iloc[-1:].to_numpy(), n_days, axis=0),
        index=truth.index,
        columns=shops,
    )
    return history, truth, naive


@pytest.mark.parametrize(
    ("n_shops", "n_columns", "expected"),
    [(1, 2, (400, 360)), (3, 2, (800, 720)), (4, 4, (1600, 360))],
)
def test_forecasts_one_panel_per_shop(tmp_path, n_shops, n_columns, expected):
    history, truth, naive = _forecast_frames(n_shops)
    path = plot_forecasts(
        truth,
        {"naive": naive, "model": naive * 1.1},
        tmp_path / "f.png",
        history=history,
        n_columns=n_columns,
    )
    assert png_size(path) == expected


def test_forecasts_accept_integer_time_without_history(tmp_path):
    truth = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    path = plot_forecasts(truth, {"flat": truth * 0 + 2.0}, tmp_path / "f.png")
    assert png_size(path) == (400, 360)


def test_forecasts_reject_misaligned_frames(tmp_path):
    history, truth, naive = _forecast_frames(2)
    with pytest.raises(ValueError, match="'naive' must have the index"):
        plot_forecasts(truth, {"naive": naive.iloc[:-1]}, tmp_path / "f.png")
    with pytest.raises(ValueError, match="'naive' must have the index"):
        plot_forecasts(
            truth, {"naive": naive[["shop_1", "shop_0"]]}, tmp_path / "f.png"
        )
    with pytest.raises(ValueError, match="history must have the columns"):
        plot_forecasts(truth, {}, tmp_path / "f.png", history=history[["shop_0"]])
    with pytest.raises(ValueError, match="n_columns"):
        plot_forecasts(truth, {}, tmp_path / "f.png", n_columns=0)


def test_training_curve(tmp_path):
    history = [{"train_loss": 3.0 - k, "valid_loss": 2.5 - 0.5 * k} for k in range(4)]
    path = plot_training_curve(history, tmp_path / "loss.png")
    assert png_size(path) == (640, 400)
    # Without a validation split the history has no valid_loss.
    path = plot_training_curve(
        [{"train_loss": 1.0}, {"train_loss": 0.5}], tmp_path / "train_only.png", dpi=50
    )
    assert png_size(path) == (320, 200)


def test_training_curve_rejects_empty_history(tmp_path):
    with pytest.raises(ValueError, match="no epoch"):
        plot_training_curve([], tmp_path / "loss.png")
    with pytest.raises(ValueError, match="train_loss"):
        plot_training_curve([{"valid_loss": 1.0}], tmp_path / "loss.png")


def _curves(n_shops, channels=("tv", "search")):
    columns = pd.MultiIndex.from_product(
        [[f"shop_{s}" for s in range(n_shops)], list(channels)],
        names=["shop", "channel"],
    )
    factors = np.linspace(0.0, 2.0, 5)
    values = np.sqrt(factors)[:, None] * np.arange(1, len(columns) + 1)
    return pd.DataFrame(values, index=pd.Index(factors, name="factor"), columns=columns)


@pytest.mark.parametrize(
    ("n_shops", "n_columns", "expected"),
    [(1, 2, (400, 360)), (3, 2, (800, 720)), (4, 4, (1600, 360))],
)
def test_response_curves_one_panel_per_shop(tmp_path, n_shops, n_columns, expected):
    path = plot_response_curves(
        _curves(n_shops), tmp_path / "r.png", n_columns=n_columns
    )
    assert png_size(path) == expected


def test_response_curves_reject_malformed_input(tmp_path):
    curves = _curves(2)
    with pytest.raises(ValueError, match="MultiIndex columns"):
        plot_response_curves(curves.droplevel(0, axis=1), tmp_path / "r.png")
    with pytest.raises(ValueError, match="at least two factors"):
        plot_response_curves(curves.iloc[:1], tmp_path / "r.png")
    with pytest.raises(ValueError, match="n_columns"):
        plot_response_curves(curves, tmp_path / "r.png", n_columns=0)
    with pytest.raises(ValueError, match=r"\.png"):
        plot_response_curves(curves, tmp_path / "r.svg")
    assert not list(tmp_path.iterdir())


def test_forecast_bands_are_shaded_and_checked(tmp_path):
    history, truth, naive = _forecast_frames(2)
    plain = plot_forecasts(truth, {"model": naive}, tmp_path / "plain.png")
    band = (naive * 0.8, naive * 1.2)
    shaded = plot_forecasts(
        truth, {"model": naive}, tmp_path / "band.png", bands={"model": band}
    )
    assert png_size(shaded) == png_size(plain)
    assert shaded.read_bytes() != plain.read_bytes()
    with pytest.raises(ValueError, match="band 'other' has no forecast"):
        plot_forecasts(
            truth, {"model": naive}, tmp_path / "f.png", bands={"other": band}
        )
    with pytest.raises(ValueError, match="band 'model' must have the index"):
        plot_forecasts(
            truth,
            {"model": naive},
            tmp_path / "f.png",
            bands={"model": (naive.iloc[:-1], naive)},
        )


def _contributions(n_shops):
    index = pd.MultiIndex.from_product(
        [[f"shop {s}" for s in range(n_shops)], ["tv", "search"]],
        names=["shop", "channel"],
    )
    values = np.arange(2 * n_shops, dtype=float) - 1.0  # one negative part
    frame = pd.DataFrame({"contribution": values, "roi": values / 2}, index=index)
    frame.attrs["base"] = dict.fromkeys(index.get_level_values(0).unique(), 10.0)
    return frame


@pytest.mark.parametrize("n_shops", [1, 20])
def test_contributions_figure(tmp_path, n_shops):
    path = plot_contributions(_contributions(n_shops), tmp_path / "c.png")
    assert png_size(path) == (1000, 400)
    fewer = plot_contributions(
        _contributions(n_shops), tmp_path / "few.png", max_shops=1
    )
    assert (fewer.read_bytes() == path.read_bytes()) == (n_shops == 1)


def test_contributions_figure_rejects_malformed_input(tmp_path):
    frame = _contributions(2)
    with pytest.raises(ValueError, match="max_shops"):
        plot_contributions(frame, tmp_path / "c.png", max_shops=0)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['roi'\]"):
        plot_contributions(frame.drop(columns="roi"), tmp_path / "c.png")
    bare = frame.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="no 'base'"):
        plot_contributions(bare, tmp_path / "c.png")
    assert not list(tmp_path.iterdir())


def test_budget_figure(tmp_path):
    index = pd.MultiIndex.from_product([["a", "b"], ["tv", "search"]])
    allocation = BudgetAllocation(
        allocation=pd.DataFrame(
            {"planned_spend": [2.0, 2.0, 1.0, 3.0], "optimized_spend": [3, 1, 1, 3.0]},
            index=index.set_names(["shop", "channel"]),
        ),
        gmv=pd.DataFrame(
            {"planned": [10.0, 8.0], "optimized": [11.0, 8.0], "uplift": [0.1, 0.0]},
            index=pd.Index(["a", "b"], name="shop"),
        ),
        optimized_plan=pd.DataFrame(),
        n_rounds=3,
        converged=True,
    )
    assert allocation.uplift == pytest.approx(1.0 / 18.0)
    assert png_size(plot_budget(allocation, tmp_path / "b.png")) == (1000, 400)
    allocation.allocation = allocation.allocation.droplevel(0)
    with pytest.raises(ValueError, match=r"\(shop, channel\) MultiIndex"):
        plot_budget(allocation, tmp_path / "bad.png")

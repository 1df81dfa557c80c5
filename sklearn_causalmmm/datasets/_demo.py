"""The bundled demo panel: a small panel of the daily simulator, shipped as files."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from sklearn_causalmmm.datasets._daily import (
    _START_DATE,
    _TARGET_NAME,
    make_causal_mmm,
)

__all__ = ["load_demo"]

_DEMO_FRAME_FILE = "demo_mmm.csv.gz"
_DEMO_TRUTH_FILE = "demo_mmm_truth.npz"
_DEMO_KWARGS: dict[str, Any] = {
    "n_shops": 40,
    "n_channels": 5,
    "n_funnel": 1,
    "n_steps": 365,
    "n_graph_types": 3,
    "edge_density": 0.4,
    "random_state": 2068,
}


def _make_demo_frame() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Regenerate the bundled demo: the long frame and its ground truth.

    Writing the package data is ``_write_demo(directory)``; the test suite
    checks that the shipped files equal this regeneration.
    """
    data = make_causal_mmm(**_DEMO_KWARGS, as_frame=True)
    truth = {
        "adjacency": data.adjacency.astype(np.int8),
        "graph_type": data.graph_type.astype(np.int8),
        "graph_types": data.graph_types.astype(np.int8),
        "contributions": data.contributions,
        "node_names": np.array(data.node_names),
    }
    return data.frame, truth


def _write_demo(directory: Any) -> None:
    """Write the demo files into ``directory`` (used once to build the package)."""
    from pathlib import Path

    directory = Path(directory)
    frame, truth = _make_demo_frame()
    # Shortest repr of every float (pandas' default) round-trips exactly when
    # read back with float_precision="round_trip"; mtime=0 keeps the gzip
    # bytes reproducible.
    frame.to_csv(
        directory / _DEMO_FRAME_FILE,
        index=False,
        compression={"method": "gzip", "mtime": 0},
    )
    np.savez_compressed(directory / _DEMO_TRUTH_FILE, **truth)


def _read_demo_frame(source: Any) -> pd.DataFrame:
    return pd.read_csv(
        source,
        compression="gzip",
        parse_dates=["date"],
        float_precision="round_trip",
    )


def load_demo() -> Bunch:
    """Load the bundled demo panel: 40 shops, one year of daily data.

    The panel was made by :func:`make_causal_mmm` with a fixed seed: five
    channels (``brand``, ``display``, ``video``, ``feed``, ``search``), page
    views (``pv``) and ``gmv``, two context variables per shop and three causal
    graph types. It ships inside the package; nothing is downloaded.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        frame : DataFrame of shape (14600, 11)
            Long layout with columns ``shop_id``, ``date``, ``context_0``,
            ``context_1``, the channel columns, ``pv`` and ``gmv``.
        X : ndarray of shape (40, 6, 365)
            Channels and ``pv`` per shop (node order of ``node_names``).
        y : ndarray of shape (40, 365)
            GMV.
        context : ndarray of shape (40, 2)
        adjacency : ndarray of shape (40, 7, 7), int
            True graph; ``[s, i, j] = 1`` means node i drives node j.
        graph_type : ndarray of shape (40,), int
        graph_types : ndarray of shape (3, 7, 7), int
        contributions : ndarray of shape (40, 5, 365)
            True contribution of each channel to GMV.
        node_names : list of str
            Channels, ``pv``, ``gmv``.
        channel_columns, context_columns : list of str
        target : str
            ``"gmv"``.
        shop_column, time_column : str
            ``"shop_id"`` and ``"date"``.
        DESCR : str

    Examples
    --------
    >>> from sklearn_causalmmm.datasets import load_demo
    >>> demo = load_demo()
    >>> demo.frame.shape
    (14600, 11)
    >>> demo.channel_columns
    ['brand', 'display', 'video', 'feed', 'search']
    >>> demo.X.shape, demo.adjacency.shape
    ((40, 6, 365), (40, 7, 7))
    """
    data_dir = resources.files("sklearn_causalmmm").joinpath("data")
    with data_dir.joinpath(_DEMO_FRAME_FILE).open("rb") as handle:
        frame = _read_demo_frame(handle)
    with data_dir.joinpath(_DEMO_TRUTH_FILE).open("rb") as handle:
        with np.load(handle, allow_pickle=False) as npz:
            truth = {key: npz[key] for key in npz.files}

    node_names = [str(name) for name in truth["node_names"]]
    n_channels = _DEMO_KWARGS["n_channels"]
    channel_columns = node_names[:n_channels]
    context_columns = [c for c in frame.columns if c.startswith("context_")]
    n_shops = frame["shop_id"].nunique()
    n_steps = len(frame) // n_shops
    # Rows are shop-major and time-sorted, as written by make_causal_mmm.
    nodes = frame[node_names].to_numpy().reshape(n_shops, n_steps, len(node_names))
    nodes = np.ascontiguousarray(nodes.transpose(0, 2, 1))
    context = frame[context_columns].to_numpy()[::n_steps]
    descr = (
        "CausalMMM demo panel\n"
        "--------------------\n\n"
        f"{n_shops} shops x {n_steps} days (from {_START_DATE}), long layout: "
        f"shop_id, date, {', '.join(context_columns)}, "
        f"{', '.join(node_names)}.\n"
        "Simulated by sklearn_causalmmm.datasets.make_causal_mmm "
        f"({', '.join(f'{k}={v}' for k, v in _DEMO_KWARGS.items())}); "
        "ground truth: adjacency (adjacency[s, i, j] = 1 means i drives j, node "
        "order of node_names), graph_type, graph_types and the contribution of "
        "each channel to GMV.\n"
    )
    return Bunch(
        frame=frame,
        X=nodes[:, :-1],
        y=nodes[:, -1],
        context=context,
        adjacency=truth["adjacency"].astype(np.int64),
        graph_type=truth["graph_type"].astype(np.int64),
        graph_types=truth["graph_types"].astype(np.int64),
        contributions=truth["contributions"],
        node_names=node_names,
        channel_columns=channel_columns,
        context_columns=context_columns,
        target=_TARGET_NAME,
        shop_column="shop_id",
        time_column="date",
        DESCR=descr,
    )

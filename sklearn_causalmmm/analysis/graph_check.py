"""Does the learned graph drive the forecasts? A graph-swap test.

CausalMMM's claim is that GMV is forecast *through* the causal graph: a node
hears another node's past only along an edge. With soft edges the decoder can
learn to ignore the edge weights, and then a good forecast says nothing about
the graph. :func:`graph_reliance` forecasts the same plan with each shop's own
learned graph, with another shop's graph (and its edge gains), with every edge
cut and with every edge on (through :meth:`CausalMMMRegressor.predict
<sklearn_causalmmm.CausalMMMRegressor.predict>`'s ``edge_probabilities`` and
``edge_gains``), and compares the forecasts and their errors. A model whose
forecasts rely on its graph gets worse when the graph is swapped or cut; one
that ignores it does not change.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["SCENARIOS", "graph_reliance"]

#: The graphs :func:`graph_reliance` forecasts with, in the order of its rows.
SCENARIOS = ("learned", "other shops' graphs", "no edges", "all edges")


def _derangement(n: int, rng: np.random.RandomState) -> np.ndarray:
    """A random permutation of ``range(n)`` moving every element (n >= 2)."""
    while True:
        order = rng.permutation(n)
        if not np.any(order == np.arange(n)):
            return order


def graph_reliance(
    model,
    X_plan,
    y_true=None,
    *,
    n_swaps: int = 5,
    random_state: int | np.random.RandomState | None = 0,
) -> pd.DataFrame:
    """Forecast a plan with the learned graphs and with swapped or cut ones.

    Parameters
    ----------
    model : CausalMMMRegressor
        Fitted; ``X_plan`` should continue its fitted window (so that its own
        graphs reproduce ``model.predict``, up to float rounding).
    X_plan : array-like or DataFrame
        A channel plan ``model.predict`` accepts.
    y_true : array-like or Series, default=None
        Observed GMV over the plan, in the layout of ``model.predict(X_plan)``;
        None skips the error columns.
    n_swaps : int, default=5
        Random reassignments of the fitted shops' graphs (no shop keeps its
        own) averaged in the ``"other shops' graphs"`` row.
    random_state : int, RandomState or None, default=0
        Draws the reassignments.

    Returns
    -------
    reliance : DataFrame
        One row per graph of :data:`SCENARIOS`: ``"learned"`` (each shop's own
        graph), ``"other shops' graphs"`` (each with its shop's edge gains),
        ``"no edges"`` (every node hears only its own past) and ``"all
        edges"`` (every edge at probability 1).
        Columns: ``forecast_change`` (mean absolute difference from the
        learned graph's forecast, relative to its mean absolute value) and,
        with ``y_true``, ``mse`` and ``mse_ratio`` (MSE / the learned graph's
        MSE). Ratios above 1 mean the learned graph helps the forecast.

    Raises
    ------
    ValueError
        If the model has fewer than two shops to swap graphs between, or
        ``n_swaps`` is below 1.

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.analysis.graph_check import graph_reliance
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=6, n_steps=50, random_state=0)
    >>> model = CausalMMMRegressor(hidden=8, max_epochs=2, random_state=0).fit(
    ...     data.X[..., :43], data.y[:, :43], context=data.context)
    >>> reliance = graph_reliance(model, data.X[..., 43:], data.y[:, 43:])
    >>> list(reliance.index)
    ['learned', "other shops' graphs", 'no edges', 'all edges']
    >>> float(reliance.loc["learned", "mse_ratio"])
    1.0
    """
    learned_graphs = np.asarray(model.edge_probabilities_)
    n_shops, d, _ = learned_graphs.shape
    if n_shops < 2:
        raise ValueError("graph_reliance swaps graphs between shops: fit on >= 2.")
    if n_swaps < 1:
        raise ValueError(f"n_swaps must be at least 1, got {n_swaps}.")
    rng = check_random_state(random_state)

    # A shop's graph is read through its own edge gains: another shop's graph
    # comes with that shop's gains, or the swap would keep half of the shop.
    learned_gains = getattr(model, "edge_gains_", None)

    def forecast(graphs: np.ndarray, order=None) -> np.ndarray:
        overrides = {"edge_probabilities": graphs}
        if learned_gains is not None:
            gains = np.asarray(learned_gains)
            overrides["edge_gains"] = gains if order is None else gains[order]
        return np.asarray(model.predict(X_plan, **overrides), dtype=np.float64)

    def swapped() -> np.ndarray:
        order = _derangement(n_shops, rng)
        return forecast(learned_graphs[order], order)

    # every row through the same path (the override), so that differences
    # are the graphs' and not float rounding's
    learned = forecast(learned_graphs)
    scenarios = {
        "learned": [learned],
        "other shops' graphs": [swapped() for _ in range(n_swaps)],
        "no edges": [forecast(np.zeros_like(learned_graphs))],
        "all edges": [forecast(np.ones_like(learned_graphs))],
    }
    scale = np.mean(np.abs(learned))
    rows = {
        name: {
            "forecast_change": float(
                np.mean([np.mean(np.abs(f - learned)) for f in forecasts]) / scale
            )
        }
        for name, forecasts in scenarios.items()
    }
    if y_true is not None:
        truth = np.asarray(y_true, dtype=np.float64)
        if truth.shape != learned.shape:
            raise ValueError(
                f"y_true has shape {truth.shape}; the forecast of X_plan has "
                f"shape {learned.shape}."
            )
        errors = {
            name: float(np.mean([np.mean((f - truth) ** 2) for f in forecasts]))
            for name, forecasts in scenarios.items()
        }
        for name, row in rows.items():
            row["mse"] = errors[name]
            with np.errstate(divide="ignore", invalid="ignore"):
                row["mse_ratio"] = float(np.divide(errors[name], errors["learned"]))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "graph"
    return table

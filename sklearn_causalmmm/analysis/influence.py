"""Does the forecast follow the learned graph? Influence of each node's past.

A graph neural marketing mix model can learn a graph its forecasts do not
use: information then reaches a node around the learned edges, and
attributions read off the graph are wrong. :func:`influence_graph` measures
what the forecast does rather than what the graph says: it nudges node
``i``'s recent past, rolls every node forward, and records how far node
``j``'s forecast moves. An influence matrix that agrees with the learned
graph (:func:`influence_agreement`, an AUROC) says the forecast follows the
graph; on simulated data both can also be compared with the true graph.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from sklearn_causalmmm.metrics import edge_auroc

__all__ = ["influence_agreement", "influence_graph"]


def influence_graph(model, X, *, n_steps_past: int = 4, size: float = 0.5):
    """How much each node's past moves each node's forecast, per shop.

    For every node ``i`` (drivers and the target), the last ``n_steps_past``
    steps of the fitted history before the plan are raised by ``size`` times
    the shop's scale of ``i`` (its mean), and every node is rolled out over
    the steps of ``X`` with the shop's learned graph. The influence of ``i``
    on ``j`` is the mean absolute change of ``j``'s forecast over those
    steps, in units of ``j``'s scale, per unit of ``size``. Every driver is
    forecast in the rollout (the plan's values are not read), so that every
    node can respond; the graph is held at the learned one, so that the
    nudge acts through the forecast and not by changing the graph.

    Parameters
    ----------
    model : CausalMMMRegressor
        Fitted; the rollout is its own (as in
        :meth:`~sklearn_causalmmm.CausalMMMRegressor.rollout`).
    X : array-like or DataFrame
        A plan of fitted shops, as for
        :meth:`~sklearn_causalmmm.CausalMMMRegressor.predict`: it sets the
        shops and the steps of the rollout.
    n_steps_past : int, default=4
        Steps of history before the plan that are nudged.
    size : float, default=0.5
        The nudge, a fraction of each shop's mean of the node (> 0).

    Returns
    -------
    influence : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = influence of node ``i``'s past on node ``j``'s
        forecast in shop ``s`` (shops in the order of ``X``), nodes as in
        ``model.node_names_``, laid out as ``model.edge_probabilities_``;
        zero diagonal.

    Raises
    ------
    TypeError
        If ``model`` is not a fitted CausalMMM regressor.
    ValueError
        If ``n_steps_past`` or ``size`` is out of range, or the plan starts
        fewer than ``n_steps_past`` steps after the start of the history.

    See Also
    --------
    influence_agreement : AUROC of the influence against a graph.
    sklearn_causalmmm.analysis.graph_check.graph_reliance :
        The forecast error without edges or with other shops' graphs.

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.analysis.influence import influence_graph
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=4, n_steps=47, random_state=0)
    >>> model = CausalMMMRegressor(hidden=8, max_epochs=1, random_state=0)
    >>> model = model.fit(data.X[..., :40], data.y[:, :40])
    >>> influence = influence_graph(model, data.X[..., 40:])
    >>> influence.shape  # laid out as model.edge_probabilities_
    (4, 8, 8)
    >>> bool((influence >= 0).all())
    True
    """
    if not hasattr(model, "_forecast_nodes") or not hasattr(model, "panel_"):
        raise TypeError(
            "influence_graph needs a fitted CausalMMMRegressor (its rollout), got "
            f"{type(model).__name__}."
        )
    if (
        isinstance(n_steps_past, bool)
        or not isinstance(n_steps_past, numbers.Integral)
        or n_steps_past < 1
    ):
        raise ValueError(f"n_steps_past must be an int >= 1, got {n_steps_past!r}.")
    if not (isinstance(size, numbers.Real) and np.isfinite(size) and size > 0):
        raise ValueError(f"size must be a finite float > 0, got {size!r}.")
    # torch on first use: the analysis package stays quick to import
    import torch

    from sklearn_causalmmm.utils.random import small_ops

    plan, history, start, rows = model._locate_plan(X, None)
    if start < n_steps_past:
        raise ValueError(
            f"the plan starts {start} steps after the start of the fitted history; "
            f"n_steps_past={n_steps_past} steps of past are nudged: pass a smaller "
            "n_steps_past or a plan that starts later."
        )
    free = np.zeros(plan.values.shape, dtype=bool)
    graphs = model.edge_probabilities_[rows].astype(np.float32)
    scale = np.asarray(model._scale[rows], dtype=np.float64)

    def roll(past) -> np.ndarray:
        with torch.no_grad(), small_ops():
            nodes = model._forecast_nodes(
                past, plan.values, free, start, rows, graphs=graphs
            )
        return nodes.numpy().astype(np.float64) / scale[..., None]

    factual = roll(history)
    n_nodes = factual.shape[1]
    influence = np.zeros((len(rows), n_nodes, n_nodes))
    for i in range(n_nodes):
        values = history.values.copy()
        window = slice(start - n_steps_past, start)
        nudge = size * scale[:, i, None] * history.mask[:, window]
        values[:, i, window] += nudge.astype(values.dtype)
        nudged = roll(dataclasses.replace(history, values=values))
        influence[:, i] = np.abs(nudged - factual).mean(axis=-1) / size
    influence[:, np.arange(n_nodes), np.arange(n_nodes)] = 0.0
    return influence


def influence_agreement(influence, graph, *, threshold: float = 0.5) -> float:
    """AUROC of an influence matrix against a graph's edges, averaged over shops.

    Parameters
    ----------
    influence : array-like of shape (n_shops, d, d)
        As :func:`influence_graph` returns.
    graph : array-like of shape (n_shops, d, d) or (d, d)
        Edge probabilities (e.g. ``model.edge_probabilities_``), edges where
        they exceed ``threshold``, or a 0/1 adjacency (the truth).
    threshold : float, default=0.5
        A probability above which an edge counts as learned.

    Returns
    -------
    float
        :func:`~sklearn_causalmmm.metrics.edge_auroc` of the influence as the
        score of each edge ``i -> j`` (1: the forecast moves exactly along
        the graph's edges; 0.5: no relation). NaN when no shop's graph has
        both an edge and a non-edge.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.analysis.influence import influence_agreement
    >>> graph = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> influence = np.array([[0, 2.0, 0.1], [0, 0, 0.5], [0.2, 0, 0]])
    >>> influence_agreement(influence[None], graph)
    1.0
    """
    influence = np.asarray(influence, dtype=np.float64)
    graph = np.asarray(graph, dtype=np.float64)
    if graph.ndim == 2:
        graph = np.broadcast_to(graph, influence.shape)
    if graph.shape != influence.shape:
        raise ValueError(
            f"graph has shape {graph.shape}, influence {influence.shape}: they "
            "must describe the same shops and nodes."
        )
    edges = (graph > threshold).astype(int)
    d = edges.shape[-1]
    off = ~np.eye(d, dtype=bool)
    defined = [s for s in range(edges.shape[0]) if 0 < edges[s][off].sum() < off.sum()]
    if not defined:
        return float("nan")
    return float(edge_auroc(edges[defined], influence[defined]))

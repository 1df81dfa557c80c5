"""A zoo of panels with known Granger graphs, each breaking one assumption.

:func:`make_discovery_zoo` draws a panel of one of the families in
:data:`ZOO_FAMILIES`. Each family stresses something the daily simulator does
not have (signed series, long and mixed-sign lags, dense graphs, cycles,
same-step effects, near-deterministic children, shared roots, heavy tails,
non-monotone responses, a shared seasonal component, real weekly MMM panels,
data like the authors' released arrays and like NetSim fMRI networks), so
that causal discovery can be scored on data it was not designed for.

The families, and how each defines its truth, are described in
``docs/simulator.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import fftconvolve
from scipy.stats import gamma
from sklearn.utils import Bunch, check_random_state

from sklearn_causalmmm.datasets._checks import _check_int
from sklearn_causalmmm.datasets._daily import (
    _draw_distinct_graphs,
    _reachability,
    _simulate_spend,
)
from sklearn_causalmmm.datasets._weekly import make_weekly_mmm

__all__ = ["ZOO_FAMILIES", "make_discovery_zoo"]

# Steps simulated before the returned window, so that the zero start has
# left every series of the autoregressive families.
_BURN_IN = 100
# Largest modulus of the companion matrix's eigenvalues: every linear panel is
# stationary, with some persistence.
_SPECTRAL_RADIUS = 0.9
# Per-shop variation of an edge's coefficients around its graph type's value.
_SHOP_JITTER = 0.2
_OWN_AR_RANGE = (0.2, 0.5)
_N_TYPES = 3
# Lag-1 coefficient magnitude of an edge (unit noise): weak enough that a
# single shop's 150 steps leave some edges in doubt.
_EDGE_RANGE = (0.15, 0.35)
# Noise of a near-deterministic child, as a fraction of its signal's scale.
_NEAR_NOISE = 0.05


@dataclass(frozen=True)
class _Family:
    description: str
    n_shops: int
    n_nodes: int
    n_steps: int
    min_nodes: int
    build: Callable[..., dict[str, Any]]
    fixed_nodes: int | None = None


# ----------------------------------------------------------------------------
# Graphs and coefficients
# ----------------------------------------------------------------------------


def _random_dag(rng: np.random.Generator, d: int, density: float) -> np.ndarray:
    """A DAG in a random node order: each forward pair is an edge with ``density``."""
    order = rng.permutation(d)
    forward = np.triu(rng.random((d, d)) < density, k=1)
    adj = np.zeros((d, d), dtype=bool)
    adj[np.ix_(order, order)] = forward
    return adj


def _random_digraph(rng: np.random.Generator, d: int, density: float) -> np.ndarray:
    """Each ordered pair ``i != j`` is an edge with ``density`` (cycles allowed)."""
    adj = rng.random((d, d)) < density
    np.fill_diagonal(adj, False)
    return adj


def _typed_graphs(
    rng: np.random.Generator,
    n_shops: int,
    d: int,
    draw: Callable[[], np.ndarray],
    n_types: int = _N_TYPES,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct type graphs ``(n_types, d, d)`` and a balanced, shuffled assignment."""
    types = _draw_distinct_graphs(draw, n_types, d)
    graph_type = rng.permutation(np.arange(n_shops) % n_types)
    return types, graph_type


def _signed_magnitudes(
    rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float
) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def _short_lag_template(rng: np.random.Generator, types: np.ndarray) -> np.ndarray:
    """Lag-1 coefficient of each edge, plus a lag-2 one of either sign.

    Returns ``(n_types, 2, d, d)``; ``[r, l - 1, i, j]`` acts from ``x_i(t - l)``
    on ``x_j(t)``.
    """
    first = _signed_magnitudes(rng, types.shape, *_EDGE_RANGE)
    second = rng.uniform(-0.5, 0.5, size=types.shape) * np.abs(first)
    return np.stack([first, second], axis=1) * types[:, None]


def _long_lag_template(
    rng: np.random.Generator, types: np.ndarray, max_lag: int
) -> np.ndarray:
    """Distributed lags: each edge acts over 2-4 consecutive lags, with mixed signs.

    The first lag of an edge is uniform on ``1..max_lag - 2`` (so many edges
    act only beyond lag 5); signs vary within an edge, at least one change.
    """
    n_types, d, _ = types.shape
    template = np.zeros((n_types, max_lag, d, d))
    for r, i, j in np.argwhere(types):
        onset = rng.integers(1, max_lag - 1)
        width = min(rng.integers(2, 5), max_lag - onset + 1)
        signs = rng.choice([-1.0, 1.0], size=width)
        if (signs == signs[0]).all():
            signs[-1] = -signs[0]
        lags = np.arange(onset - 1, onset - 1 + width)
        template[r, lags, i, j] = signs * rng.uniform(0.25, 0.5, size=width)
    return template


def _shop_coefficients(
    rng: np.random.Generator,
    template: np.ndarray,
    graph_type: np.ndarray,
    own_ar: bool = True,
) -> np.ndarray:
    """Per-shop coefficients ``(n_shops, L, d, d)`` around the type template.

    Every edge's lags are scaled by one shop factor ``exp(N(0, 0.2^2))``; with
    ``own_ar`` each node also depends on its own last value (a diagonal that
    the adjacency does not count).
    """
    coef = template[graph_type].copy()
    n_shops, _, d, _ = coef.shape
    coef *= np.exp(rng.normal(0.0, _SHOP_JITTER, size=(n_shops, 1, d, d)))
    if own_ar:
        own = rng.uniform(*_OWN_AR_RANGE, size=(n_shops, d))
        coef[:, 0, np.arange(d), np.arange(d)] = own
    return coef


def _stabilize(coef: np.ndarray, radius: float = _SPECTRAL_RADIUS) -> np.ndarray:
    """Scale lag ``l`` by ``c**l`` so each shop's VAR has spectral radius <= ``radius``.

    Scaling lag ``l`` by ``c**l`` scales every eigenvalue of the companion
    matrix by exactly ``c``, so the graph and the lag profile are kept.
    """
    n_shops, n_lags, d, _ = coef.shape
    companion = np.zeros((n_shops, n_lags * d, n_lags * d))
    companion[:, :d, :] = coef.transpose(0, 3, 1, 2).reshape(n_shops, d, n_lags * d)
    companion[:, d:, :-d] = np.eye((n_lags - 1) * d)
    modulus = np.abs(np.linalg.eigvals(companion)).max(axis=1)
    factor = np.minimum(1.0, radius / np.maximum(modulus, 1e-300))
    powers = factor[:, None] ** np.arange(1, n_lags + 1)
    return coef * powers[:, :, None, None]


def _simulate(
    coef: np.ndarray,
    noise: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Run ``x(t) = features(x(t-1..t-L)) @ coef + noise(t)`` for every shop.

    ``coef`` is ``(n_shops, P, d)`` and ``noise`` ``(n_shops, d, n_time)``;
    ``features`` maps the lag window ``(n_shops, L, d)`` (lag 1 first) to
    ``(n_shops, P)``; by default the window itself, so that ``coef`` reshaped
    to ``(n_shops, L, d, d)`` holds ``[s, l - 1, i, j]``. Returns
    ``(n_shops, d, n_time)``; values before the first step are zero.
    """
    n_shops, d, n_time = noise.shape
    n_lags = coef.shape[1] // d if features is None else 1
    x = np.zeros((n_shops, n_time + n_lags, d))
    shocks = noise.transpose(0, 2, 1)
    for t in range(n_time):
        window = x[:, t : t + n_lags][:, ::-1]
        inputs = window.reshape(n_shops, -1) if features is None else features(window)
        x[:, t + n_lags] = np.matmul(inputs[:, None, :], coef)[:, 0] + shocks[:, t]
    return np.ascontiguousarray(x[:, n_lags:].transpose(0, 2, 1))


def _linear_var(coef: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Linear VAR with coefficients ``(n_shops, L, d, d)``, ``[s, l - 1, i, j]``."""
    n_shops, n_lags, d, _ = coef.shape
    return _simulate(coef.reshape(n_shops, n_lags * d, d), noise)


def _zscore(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    return (x - x.mean(axis=axis, keepdims=True)) / x.std(axis=axis, keepdims=True)


def _without_diagonal(adjacency: np.ndarray) -> np.ndarray:
    adjacency = adjacency.copy()
    d = adjacency.shape[-1]
    adjacency[..., np.arange(d), np.arange(d)] = False
    return adjacency


def _generic(
    adjacency: np.ndarray,
    X: np.ndarray,
    graph_type: np.ndarray,
    max_lag: int | None,
    **extra: Any,
) -> dict[str, Any]:
    d = X.shape[1]
    return dict(
        X=X,
        adjacency=adjacency,
        graph_type=graph_type,
        node_names=[f"x{k}" for k in range(d)],
        roles=["signed"] * d,
        max_lag=max_lag,
        **extra,
    )


# ----------------------------------------------------------------------------
# Families
# ----------------------------------------------------------------------------


def _short_var_family(
    rng: np.random.Generator,
    n_shops: int,
    d: int,
    n_steps: int,
    draw: Callable[[], np.ndarray],
    *,
    per_shop: bool = False,
    n_types: int = _N_TYPES,
    noise: Callable[[tuple[int, ...]], np.ndarray] | None = None,
) -> dict[str, Any]:
    """Linear VAR(2) panel on typed (or per-shop) graphs, unit noise by default."""
    if per_shop:
        types = np.stack([draw() for _ in range(n_shops)])
        graph_type = np.arange(n_shops)
    else:
        types, graph_type = _typed_graphs(rng, n_shops, d, draw, n_types)
    coef = _stabilize(
        _shop_coefficients(rng, _short_lag_template(rng, types), graph_type)
    )
    shape = (n_shops, d, _BURN_IN + n_steps)
    shocks = rng.standard_normal(shape) if noise is None else noise(shape)
    X = _linear_var(coef, shocks)[:, :, _BURN_IN:]
    return _generic(types[graph_type], X, graph_type, 2, var_coef=coef)


def _signed(rng, n_shops, d, n_steps):
    data = _short_var_family(rng, n_shops, d, n_steps, lambda: _random_dag(rng, d, 0.3))
    # Exports in growth rates or standardised units: shifted and rescaled per
    # shop and node, then z-scored over time (var_coef is of the raw series).
    shifted = data["X"] * np.exp(rng.normal(0.0, 0.5, (n_shops, d, 1)))
    data["X"] = _zscore(shifted + rng.normal(0.0, 3.0, (n_shops, d, 1)))
    return data


def _long_lags(rng, n_shops, d, n_steps):
    max_lag = 10
    types, graph_type = _typed_graphs(
        rng, n_shops, d, lambda: _random_dag(rng, d, 0.35)
    )
    template = _long_lag_template(rng, types, max_lag)
    coef = _stabilize(_shop_coefficients(rng, template, graph_type))
    shocks = rng.standard_normal((n_shops, d, _BURN_IN + n_steps))
    X = _linear_var(coef, shocks)[:, :, _BURN_IN:]
    return _generic(types[graph_type], X, graph_type, max_lag, var_coef=coef)


def _dense(rng, n_shops, d, n_steps):
    def draw() -> np.ndarray:
        while True:
            graph = _random_digraph(rng, d, 0.75)
            if graph.sum() > 0.55 * d * (d - 1):
                return graph

    return _short_var_family(rng, n_shops, d, n_steps, draw)


def _own_graph(rng, n_shops, d, n_steps):
    return _short_var_family(
        rng, n_shops, d, n_steps, lambda: _random_dag(rng, d, 0.3), per_shop=True
    )


def _one_graph(rng, n_shops, d, n_steps):
    return _short_var_family(
        rng, n_shops, d, n_steps, lambda: _random_dag(rng, d, 0.3), n_types=1
    )


def _cycles(rng, n_shops, d, n_steps):
    def draw() -> np.ndarray:
        graph = _random_digraph(rng, d, 0.15)
        # A directed ring through 3..d nodes, and one feedback pair.
        ring = rng.permutation(d)[: rng.integers(3, d + 1)]
        graph[ring, np.roll(ring, -1)] = True
        i, j = rng.choice(d, size=2, replace=False)
        graph[i, j] = graph[j, i] = True
        return graph

    return _short_var_family(rng, n_shops, d, n_steps, draw)


def _contemporaneous(rng, n_shops, d, n_steps):
    def draw() -> np.ndarray:
        return np.concatenate(
            [_random_dag(rng, d, 0.3), _random_digraph(rng, d, 0.2)], axis=1
        )

    # One draw holds both graphs side by side, so types differ in either.
    both, graph_type = _typed_graphs(rng, n_shops, 2 * d, _pad(draw, d))
    same_step = both[:, :d, :d]
    lagged = both[:, :d, d:]
    b0 = _signed_magnitudes(rng, same_step.shape, 0.5, 0.9) * same_step
    b1 = _signed_magnitudes(rng, lagged.shape, 0.3, 0.6) * lagged
    # No own lags: a same-step edge is then visible in the past only through
    # lagged edges, which the truth below follows.
    b1 = _shop_coefficients(rng, b1[:, None], graph_type, own_ar=False)[:, 0]
    # x(t) = x(t) B0 + x(t-1) B1 + e(t) in reduced form: x(t) = x(t-1) A + u(t)
    # with A = B1 (I - B0)^-1 and u = e (I - B0)^-1.
    mixing = np.linalg.inv(np.eye(d) - b0[graph_type])
    reduced = _stabilize((b1 @ mixing)[:, None])
    shocks = rng.standard_normal((n_shops, _BURN_IN + n_steps, d)) @ mixing
    X = _linear_var(reduced, shocks.transpose(0, 2, 1))[:, :, _BURN_IN:]
    # i's past predicts j when a lagged edge i -> k is followed by a same-step
    # path k -> ... -> j (k = j included).
    reach = _reachability(same_step).astype(np.int64)
    granger_types = (lagged.astype(np.int64) @ reach) > 0
    granger = _without_diagonal(granger_types)[graph_type]
    return _generic(
        granger,
        X,
        graph_type,
        1,
        var_coef=reduced,
        lagged_adjacency=_without_diagonal(lagged)[graph_type].astype(np.int64),
        contemporaneous_adjacency=same_step[graph_type].astype(np.int64),
    )


def _pad(draw: Callable[[], np.ndarray], d: int) -> Callable[[], np.ndarray]:
    """Square a ``(d, 2d)`` draw to ``(2d, 2d)`` for the distinct-graph check."""

    def padded() -> np.ndarray:
        out = np.zeros((2 * d, 2 * d), dtype=bool)
        out[:d] = draw()
        return out

    return padded


def _near_deterministic(rng, n_shops, d, n_steps):
    n_lags = 4
    types, graph_type = _typed_graphs(rng, n_shops, d, lambda: _random_dag(rng, d, 0.3))
    template = rng.normal(0.0, 1.0, (len(types), n_lags, d, d)) * types[:, None]
    coef = _shop_coefficients(rng, template, graph_type, own_ar=False)
    n_time = _BURN_IN + n_steps
    shocks = rng.standard_normal((n_shops, d, n_time))
    x = np.zeros((n_shops, d, n_time))
    # Acyclic and without own lags: each node follows from its parents' whole
    # series, in topological order (ancestors counts grow along every edge).
    for r, graph in enumerate(types):
        shops = np.flatnonzero(graph_type == r)
        for j in np.argsort(_reachability(graph).sum(axis=0), kind="stable"):
            parents = np.flatnonzero(graph[:, j])
            if parents.size == 0:
                x[shops, j] = shocks[shops, j]
                continue
            history = x[np.ix_(shops, parents)]
            signal = np.zeros((shops.size, n_time))
            for lag in range(1, n_lags + 1):
                weight = coef[shops, lag - 1][:, parents, j]
                signal[:, lag:] += np.einsum("sp,spt->st", weight, history[:, :, :-lag])
            # The signal is rescaled to unit variance and the noise is a
            # fixed small fraction of it.
            scale = signal[:, _BURN_IN:].std(axis=1)
            coef[shops, :, :, j] /= scale[:, None, None]
            x[shops, j] = signal / scale[:, None] + _NEAR_NOISE * shocks[shops, j]
    X = x[:, :, _BURN_IN:]
    return _generic(types[graph_type], X, graph_type, n_lags, var_coef=coef)


def _identical_roots(rng, n_shops, d, n_steps):
    n_roots = max(1, round(3 * d / 8))

    def draw() -> np.ndarray:
        graph = np.zeros((d, d), dtype=bool)
        graph[:n_roots, n_roots:] = rng.random((n_roots, d - n_roots)) < 0.4
        graph[n_roots:, n_roots:] = _random_dag(rng, d - n_roots, 0.3)
        # Every root drives some node.
        for i in np.flatnonzero(~graph[:n_roots].any(axis=1)):
            graph[i, n_roots + rng.integers(d - n_roots)] = True
        return graph

    types, graph_type = _typed_graphs(rng, n_shops, d, draw)
    coef = _stabilize(
        _shop_coefficients(rng, _short_lag_template(rng, types), graph_type)
    )
    coef[:, :, :, :n_roots] = 0.0
    n_time = _BURN_IN + n_steps
    # National campaigns: one bursty, non-negative series per root, the same
    # in every shop.
    campaigns = _simulate_spend(rng, np.ones((1, n_roots)), n_time)
    campaigns /= campaigns.std(axis=-1, keepdims=True)
    shocks = rng.standard_normal((n_shops, d, n_time))
    shocks[:, :n_roots] = campaigns
    X = _linear_var(coef, shocks)[:, :, _BURN_IN:]
    data = _generic(types[graph_type], X, graph_type, 2, var_coef=coef)
    data["roles"] = ["media"] * n_roots + ["signed"] * (d - n_roots)
    return data


def _heavy_tailed(rng, n_shops, d, n_steps):
    # Student t with 3 degrees of freedom, scaled to unit variance: infinite
    # fourth moment, so single shocks dominate a shop's series.
    def noise(shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_t(3.0, size=shape) / np.sqrt(3.0)

    return _short_var_family(
        rng, n_shops, d, n_steps, lambda: _random_dag(rng, d, 0.3), noise=noise
    )


# Non-monotone responses, each of unit order on a standard normal input.
_RESPONSES: tuple[Callable[[np.ndarray], np.ndarray], ...] = (
    lambda x: 2.0 * np.exp(-(x**2)),  # bump: even, no linear part
    lambda x: 1.5 * np.cos(2.0 * x),  # even, no linear part
    lambda x: 1.5 * np.sin(2.0 * x),  # odd, rises then falls
)


def _non_monotone(rng, n_shops, d, n_steps):
    types, graph_type = _typed_graphs(
        rng, n_shops, d, lambda: _random_dag(rng, d, 0.35)
    )
    n_kinds = len(_RESPONSES)
    kind = rng.integers(n_kinds, size=types.shape)
    sign = rng.choice([-1.0, 1.0], size=types.shape)
    coef = np.zeros((n_shops, n_kinds + 1, d, d))
    edges = types[graph_type]
    jitter = np.exp(rng.normal(0.0, _SHOP_JITTER, size=edges.shape))
    for k in range(n_kinds):
        chosen = edges & (kind[graph_type] == k)
        coef[:, k + 1] = np.where(chosen, sign[graph_type] * 0.8 * jitter, 0.0)
    own = rng.uniform(*_OWN_AR_RANGE, size=(n_shops, d))
    coef[:, 0, np.arange(d), np.arange(d)] = own

    def features(window: np.ndarray) -> np.ndarray:
        last = window[:, 0]
        return np.concatenate([last] + [f(last) for f in _RESPONSES], axis=1)

    shocks = rng.standard_normal((n_shops, d, _BURN_IN + n_steps))
    X = _simulate(coef.reshape(n_shops, -1, d), shocks, features)[:, :, _BURN_IN:]
    return _generic(
        edges, X, graph_type, 1, response_kind=np.where(edges, kind[graph_type], -1)
    )


def _shared_seasonal(rng, n_shops, d, n_steps, period: int = 7):
    data = _short_var_family(rng, n_shops, d, n_steps, lambda: _random_dag(rng, d, 0.3))
    profile = _zscore(rng.standard_normal(period))
    season = np.resize(profile, n_steps)
    loading = rng.uniform(1.0, 2.0, d) * np.exp(
        rng.normal(0.0, _SHOP_JITTER, (n_shops, d))
    )
    data["X"] = data["X"] + loading[:, :, None] * season
    data["seasonal_period"] = period
    return data


def _weekly(rng, n_shops, d, n_steps):
    seed = int(rng.integers(np.iinfo(np.int32).max))
    mmm = make_weekly_mmm(
        n_shops=n_shops,
        n_channels=d - 5,
        n_funnel=2,
        n_controls=2,
        n_steps=n_steps,
        random_state=seed,
    )
    roles = (
        ["media"] * len(mmm.media_columns)
        + ["funnel"] * len(mmm.funnel_columns)
        + ["control"] * len(mmm.control_columns)
        + ["target"]
    )
    return dict(
        X=np.concatenate([mmm.X, mmm.y[:, None]], axis=1),
        adjacency=mmm.adjacency.astype(bool),
        graph_type=mmm.graph_type,
        node_names=mmm.node_names,
        roles=roles,
        max_lag=8,
        mmm=mmm,
    )


# The three graphs of the released arrays (sender -> receivers), node 7 = GMV.
_RELEASED_GRAPHS = (
    {0: (5, 7), 1: (6, 7), 2: (6,), 3: (5,), 4: (6,), 5: (7,), 6: (5, 7)},
    {0: (5, 7), 1: (6, 7), 2: (5, 6), 3: (5, 7), 4: (5, 6, 7), 5: (6, 7), 6: (7,)},
    {0: (5, 7), 1: (6, 7), 2: (5, 6, 7), 3: (7,), 4: (5, 6, 7), 5: (7,), 6: (7,)},
)


def _released_arrays(rng, n_shops, d, n_steps):
    n_lags = 8
    types = np.zeros((3, 8, 8), dtype=bool)
    for r, graph in enumerate(_RELEASED_GRAPHS):
        for sender, receivers in graph.items():
            types[r, sender, list(receivers)] = True
    graph_type = rng.permutation(np.arange(n_shops) % 3)
    # One coefficient set per graph type: children follow their parents' last
    # eight values with mixed signs, plus two own lags.
    template = rng.normal(0.0, 0.3, (3, n_lags, 8, 8)) * types[:, None]
    coef = template[graph_type]
    nodes = np.arange(5, 8)
    coef[:, 0, nodes, nodes] = rng.uniform(0.2, 0.5, 3)
    coef[:, 1, nodes, nodes] = rng.uniform(-0.3, 0.0, 3)
    n_time = _BURN_IN + n_steps
    shocks = 0.3 * rng.standard_normal((n_shops, 8, n_time))
    # The five roots are one white-noise block shared by every sample.
    shocks[:, :5] = rng.standard_normal((5, n_time))
    X = _linear_var(coef, shocks)[:, :, _BURN_IN:]
    X = _zscore(X, axis=(0, 2))
    return dict(
        X=X,
        adjacency=types[graph_type],
        graph_type=graph_type,
        node_names=[f"x{k}" for k in range(7)] + ["gmv"],
        roles=["signed"] * 7 + ["target"],
        max_lag=n_lags,
        var_coef=coef,
        graph_types=types.astype(np.int64),
        # As in the released file, the context has no effect on the series.
        context=rng.random((n_shops, 2)),
    )


# NetSim-like fMRI: neural states every 50 ms, seen every 3 s through a
# haemodynamic response.
_NEURAL_STEP = 0.05
_REPETITION_TIME = 3.0
_HRF_LENGTH = 32.0


def _netsim_network(d: int, feedback: bool) -> np.ndarray:
    """Blocks of five nodes, each a chain with a shortcut first -> last.

    Block ``b`` feeds block ``b + 1`` from its second node; with ``feedback``
    each block's last node also drives its first, closing a cycle.
    """
    adj = np.zeros((d, d), dtype=bool)
    starts = list(range(0, d, 5))
    for b, start in enumerate(starts):
        block = np.arange(start, min(start + 5, d))
        adj[block[:-1], block[1:]] = True
        if block.size >= 3:
            adj[block[0], block[-1]] = True
            if feedback:
                adj[block[-1], block[0]] = True
        if b + 1 < len(starts) and block.size >= 2:
            adj[block[1], starts[b + 1]] = True
    return adj


def _hrf(times: np.ndarray) -> np.ndarray:
    """Canonical double-gamma haemodynamic response (peak near 5 s, undershoot)."""
    return gamma.pdf(times, 6.0) - gamma.pdf(times, 16.0) / 6.0


def _netsim(rng, n_shops, d, n_steps, *, feedback: bool = False):
    network = _netsim_network(d, feedback)
    ratio = round(_REPETITION_TIME / _NEURAL_STEP)
    lead = round(_HRF_LENGTH / _NEURAL_STEP)
    n_fine = lead + n_steps * ratio
    # Subject-specific coupling strengths on the shared network.
    strength = np.where(network, rng.normal(0.5, 0.1, (n_shops, d, d)), 0.0)
    # External inputs: each node switches between a rare "up" state (mean 2.5 s)
    # and a "down" state (mean 10 s), as in NetSim.
    p_up, p_down = _NEURAL_STEP / 10.0, _NEURAL_STEP / 2.5
    switch = rng.random((n_fine, n_shops, d))
    neural_noise = rng.standard_normal((n_fine, n_shops, d))
    z = np.zeros((n_fine, n_shops, d))
    state = np.zeros((n_shops, d), dtype=bool)
    current = np.zeros((n_shops, d))
    for t in range(n_fine):
        state = np.where(state, switch[t] >= p_down, switch[t] < p_up)
        drive = np.matmul(current[:, None, :], strength)[:, 0]
        # Neural activity forgets itself within a step (50 ms, NetSim's
        # neural lag): a region is its inputs of one step ago.
        current = drive + state + 0.1 * neural_noise[t]
        z[t] = current
    # Haemodynamic smoothing, with a response delay that varies by subject and
    # node (about 0.5 s): the delay can exceed the neural lag between regions.
    delay = rng.normal(0.0, 0.5, (n_shops, d, 1))
    times = np.arange(lead) * _NEURAL_STEP
    kernels = _hrf(np.maximum(times - delay, 0.0))
    bold = fftconvolve(z.transpose(1, 2, 0), kernels, mode="full", axes=-1)
    bold = bold[:, :, lead:n_fine:ratio][:, :, :n_steps]
    bold = bold + 0.2 * bold.std(axis=2, keepdims=True) * rng.standard_normal(
        bold.shape
    )
    return dict(
        X=_zscore(bold),
        adjacency=np.broadcast_to(network, (n_shops, d, d)).copy(),
        graph_type=np.zeros(n_shops, dtype=np.int64),
        node_names=[f"region_{k}" for k in range(d)],
        roles=["signed"] * d,
        max_lag=None,
    )


def _netsim_cycles(rng, n_shops, d, n_steps):
    return _netsim(rng, n_shops, d, n_steps, feedback=True)


_FAMILIES: dict[str, _Family] = {
    "signed": _Family(
        "Signed, standardised series (growth rates, z-scored exports): "
        "every series is shifted, rescaled and z-scored per shop and node, so "
        "half the values are negative. Linear VAR(2) on 3 DAG types.",
        200,
        8,
        150,
        3,
        _signed,
    ),
    "long_lags": _Family(
        "Distributed lags up to 10 steps with mixed signs: each edge acts over "
        "2-4 consecutive lags starting anywhere in 1..8 (many only beyond lag "
        "5), with at least one sign change, so a fixed short lag order or a "
        "sum over lags misses edges. 3 DAG types.",
        200,
        6,
        200,
        3,
        _long_lags,
    ),
    "dense": _Family(
        "Dense graphs: over 55 % of the ordered pairs are edges (cycles "
        "included), against the sparsity that median deflation and sparse "
        "priors assume. Linear VAR(2), 3 types.",
        200,
        6,
        150,
        3,
        _dense,
    ),
    "own_graph": _Family(
        "Every shop its own graph: no two shops need share a structure, "
        "against the assumption of a few graph types. Linear VAR(2).",
        200,
        8,
        150,
        3,
        _own_graph,
    ),
    "one_graph": _Family(
        "One graph for all shops (coefficients vary by shop): nothing to "
        "cluster, so pooling every shop should help. Linear VAR(2).",
        200,
        8,
        150,
        3,
        _one_graph,
    ),
    "cycles": _Family(
        "Cycles and feedback: each type has a directed ring through 3 or more "
        "nodes and one pair of nodes driving each other, plus random edges. "
        "Linear VAR(2), 3 types.",
        200,
        6,
        150,
        3,
        _cycles,
    ),
    "contemporaneous": _Family(
        "Same-step effects, as when effects faster than the sampling step "
        "(daily effects in weekly data) act within one step: x(t) = x(t) B0 + "
        "x(t-1) B1 + e(t). Truth is Granger truth, the lagged part only: i -> j "
        "when a lagged edge i -> k is followed by a same-step path k -> j (k = "
        "j included); lagged_adjacency and contemporaneous_adjacency hold B1 "
        "and B0. 3 types.",
        200,
        6,
        150,
        3,
        _contemporaneous,
    ),
    "near_deterministic": _Family(
        "Near-deterministic children: a child is a mixed-sign function of its "
        "parents' last 4 values plus noise of 5 % of its scale; roots are "
        "white noise. Residual variances near zero and non-parents' pasts "
        "nearly in the span of the parents'. 3 DAG types.",
        200,
        8,
        150,
        3,
        _near_deterministic,
    ),
    "identical_roots": _Family(
        "Identical root series across shops: the roots (role 'media') are "
        "national campaigns, bursty and non-negative, the same in every shop, "
        "so shops are not independent evidence about them. Children follow a "
        "linear VAR(2) with shop noise. 3 types.",
        200,
        8,
        150,
        4,
        _identical_roots,
    ),
    "heavy_tailed": _Family(
        "Heavy-tailed noise: Student t with 3 degrees of freedom (infinite "
        "kurtosis), so a few shocks dominate a series and Gaussian "
        "likelihoods overreact. Linear VAR(2) on 3 DAG types.",
        200,
        8,
        150,
        3,
        _heavy_tailed,
    ),
    "non_monotone": _Family(
        "Non-monotone responses: each edge acts through a bump exp(-x^2), "
        "cos(2x) or sin(2x) of the parent's last value; the even ones have no "
        "linear part, so linear and monotone (Hill) models miss them. 3 DAG "
        "types; response_kind gives each edge's function (0, 1, 2).",
        200,
        6,
        200,
        3,
        _non_monotone,
    ),
    "shared_seasonal": _Family(
        "A seasonal component shared by all nodes and shops (a period-7 "
        "profile with node loadings of 1-2 times the noise scale) added to a "
        "linear VAR(2): a common driver that makes unrelated nodes look "
        "predictive at short lags. It is periodic, so each node's own past "
        "predicts it and it adds no Granger edge. 3 DAG types.",
        200,
        8,
        150,
        3,
        _shared_seasonal,
    ),
    "weekly_mmm": _Family(
        "The weekly MMM mode (make_weekly_mmm): impressions, funnel nodes, "
        "holiday and price_index controls and revenue, with trend, yearly "
        "seasonality and a national shock; carryover of up to 8 weeks and "
        "same-week effects. Every edge also acts with a lag, so the graph is "
        "the Granger graph; control -> target edges count. mmm holds the full "
        "panel with contributions.",
        100,
        10,
        156,
        6,
        _weekly,
    ),
    "released_arrays": _Family(
        "Like the authors' released arrays: 8 nodes, 3 fixed graphs (100 "
        "samples each at 300), five white-noise roots identical in every "
        "sample, children near-deterministic functions of their parents' last "
        "8 values with mixed signs plus two own lags, all z-scored per node. "
        "Samples of one type differ only by the children's small noise; "
        "context has no effect.",
        300,
        8,
        100,
        8,
        _released_arrays,
        8,
    ),
    "netsim": _Family(
        "NetSim-like fMRI: one network for all subjects (chains of 5 nodes "
        "with a shortcut), neural effects within ~1 s seen through a "
        "haemodynamic response sampled every 3 s with subject- and "
        "node-specific delays: effects are mostly same-step and smoothed.",
        50,
        5,
        200,
        2,
        _netsim,
    ),
    "netsim_cycles": _Family(
        "NetSim-like fMRI with feedback: the netsim network plus an edge from "
        "each block's last node to its first (a directed cycle), 500 steps.",
        50,
        5,
        500,
        3,
        _netsim_cycles,
    ),
}

#: Names of the families of :func:`make_discovery_zoo`.
ZOO_FAMILIES: tuple[str, ...] = tuple(_FAMILIES)


def make_discovery_zoo(
    family: str,
    *,
    n_shops: int | None = None,
    n_nodes: int | None = None,
    n_steps: int | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> Bunch:
    """Simulate a panel of one zoo family, with its true Granger graphs.

    Each family of :data:`ZOO_FAMILIES` breaks one assumption of the daily
    simulator (see ``description``). The truth is the Granger graph:
    ``adjacency[s, i, j] = 1`` when node i's past helps predict node j in shop
    s given the past of every node. Self-dependence (a node's own lags) is not
    an edge: the diagonal is always 0.

    Default sizes:

    | family | shops | nodes | steps |
    |---|---|---|---|
    | signed, own_graph, one_graph | 200 | 8 | 150 |
    | near_deterministic, identical_roots, heavy_tailed, shared_seasonal | 200 | 8 \
| 150 |
    | dense, cycles, contemporaneous | 200 | 6 | 150 |
    | long_lags, non_monotone | 200 | 6 | 200 |
    | weekly_mmm | 100 | 10 | 156 |
    | released_arrays | 300 | 8 | 100 |
    | netsim | 50 | 5 | 200 |
    | netsim_cycles | 50 | 5 | 500 |

    Parameters
    ----------
    family : str
        One of :data:`ZOO_FAMILIES`.
    n_shops : int or None, default=None
        Number of shops (samples, subjects); None takes the family's default.
    n_nodes : int or None, default=None
        Number of nodes; None takes the family's default. ``released_arrays``
        has 8 nodes; ``weekly_mmm`` has ``n_nodes - 5`` media channels, 2
        funnel nodes, 2 controls and the target.
    n_steps : int or None, default=None
        Number of time steps; None takes the family's default.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives bit-identical data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        X : ndarray of shape (n_shops, n_nodes, n_steps)
            All node series (the target, when there is one, last).
        adjacency : ndarray of shape (n_shops, n_nodes, n_nodes), int
            ``[s, i, j] = 1`` means i drives j in shop s (Granger truth).
        graph_type : ndarray of shape (n_shops,), int
            Which shops share a graph (``own_graph``: every shop its own).
        node_names : list of str
        roles : list of str
            Per node: ``"media"`` (non-negative, exogenous, spend-like),
            ``"funnel"``, ``"control"``, ``"signed"`` (any other series) or
            ``"target"``.
        max_lag : int or None
            Longest lag of a true effect, in steps (None for the NetSim
            families, whose effects are faster than a step).
        family, description : str
        var_coef : ndarray of shape (n_shops, max_lag, n_nodes, n_nodes)
            Linear families only: ``[s, l - 1, i, j]`` is the coefficient of
            ``x_i(t - l)`` in ``x_j(t)`` (the diagonal holds own lags; for
            ``signed``, of the series before standardisation; for
            ``contemporaneous``, of the reduced form).
        lagged_adjacency, contemporaneous_adjacency : ndarray of shape \
(n_shops, n_nodes, n_nodes)
            ``contemporaneous`` only: the lagged and the same-step structural
            edges.
        response_kind : ndarray of shape (n_shops, n_nodes, n_nodes)
            ``non_monotone`` only: 0 bump, 1 cosine, 2 sine (-1 off the graph).
        seasonal_period : int
            ``shared_seasonal`` only.
        mmm : Bunch
            ``weekly_mmm`` only: the full output of :func:`make_weekly_mmm`
            (contributions, baseline, ``simulate``).
        graph_types : ndarray of shape (3, 8, 8); context : ndarray of shape \
(n_shops, 2)
            ``released_arrays`` only; the context has no effect on the data.

    See Also
    --------
    make_causal_mmm : The daily simulator.
    make_weekly_mmm : The weekly simulator behind ``weekly_mmm``.

    Examples
    --------
    >>> from sklearn_causalmmm.datasets import ZOO_FAMILIES, make_discovery_zoo
    >>> data = make_discovery_zoo("cycles", n_shops=10, n_steps=60, random_state=0)
    >>> data.X.shape, data.adjacency.shape
    ((10, 6, 60), (10, 6, 6))
    >>> data.roles[:2]
    ['signed', 'signed']
    >>> len(ZOO_FAMILIES)
    16
    """
    if family not in _FAMILIES:
        raise ValueError(
            f"family must be one of {', '.join(ZOO_FAMILIES)}; got {family!r}."
        )
    spec = _FAMILIES[family]
    n_shops = spec.n_shops if n_shops is None else _check_int(n_shops, "n_shops", 1)
    n_steps = spec.n_steps if n_steps is None else _check_int(n_steps, "n_steps", 2)
    if n_nodes is None:
        n_nodes = spec.n_nodes
    n_nodes = _check_int(n_nodes, "n_nodes", spec.min_nodes)
    if spec.fixed_nodes is not None and n_nodes != spec.fixed_nodes:
        raise ValueError(
            f"family {family!r} has {spec.fixed_nodes} nodes; pass n_nodes=None "
            f"or {spec.fixed_nodes}, got {n_nodes}."
        )
    try:
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    except ValueError as exc:
        raise ValueError(f"random_state: {exc}") from None
    # The family's name enters the seed: one random_state gives independent
    # panels across families.
    rng = np.random.default_rng([seed, zlib.crc32(family.encode())])
    data = spec.build(rng, n_shops, n_nodes, n_steps)
    data["adjacency"] = np.asarray(data["adjacency"]).astype(np.int64)
    data["graph_type"] = np.asarray(data["graph_type"]).astype(np.int64)
    return Bunch(family=family, description=spec.description, **data)

"""The daily simulator: many shops, each with a known causal graph.

:func:`make_causal_mmm` simulates many shops, each with its own causal graph over
advertising channels, funnel nodes (page views, clicks, ...) and GMV, with
carryover (adstock), saturation (Hill curves whose shape depends on the shop's
context) and lagged effects, so that the true graph is the Granger graph. It
returns the ground truth (graphs, response parameters and the true contribution
of every channel to GMV) next to the data.

The generative recipe, with all formulas, is in ``docs/simulator.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.sparse import csr_matrix
from scipy.special import expit
from sklearn.utils import Bunch, check_random_state

from sklearn_causalmmm.datasets._checks import _check_float, _check_int

__all__ = ["SIMULATION_SETTINGS", "make_causal_mmm"]

# Channel names in funnel order (upper-funnel awareness first, demand capture
# last). Channel -> channel edges only go forward in this order, so "brand ->
# search" is possible and "search -> brand" is not.
_CHANNEL_RANK = ("brand", "display", "video", "live", "feed", "search")
# Which channel names are used first when there are fewer than six channels.
_CHANNEL_PRIORITY = ("search", "display", "brand", "feed", "video", "live")
_FUNNEL_NAMES = ("pv", "clicks", "add_to_cart", "orders")
_TARGET_NAME = "gmv"

# Sum of the edge weights into a node at effect_strength=1. Hill outputs average
# about 0.3, so incoming effects are roughly 35-55 % of a node's level.
_EFFECT_GAIN = 3.0
# Ranges of the per-shop, per-edge carryover parameters.
_DECAY_RANGE = (0.2, 0.8)
_WEIBULL_SHAPE_RANGE = (1.5, 3.0)
# Per-shop campaign dynamics of each channel (Markov on/off flights).
_P_START_RANGE = (0.03, 0.15)
_P_STOP_RANGE = (0.05, 0.25)
_BASE_SPEND_RANGE = (0.02, 0.10)
_FLIGHT_SIGMA = 0.5
_DAILY_SPEND_SIGMA = 0.2
# Typical daily magnitudes, so that the numbers look like a real export.
_SPEND_LEVEL = 100.0
_FUNNEL_LEVEL = 5000.0
_GMV_LEVEL = 20000.0
_LEVEL_SIGMA = 0.5
_START_DATE = "2024-01-01"

SIMULATION_SETTINGS: dict[str, dict[str, Any]] = {
    # Easy setting in the spirit of the paper's "Simulation 1": 8 nodes
    # (5 channels, 2 funnel nodes, GMV), T=100, 3 graph types, no per-shop
    # deviation from the type graph.
    "sim1": {
        "n_shops": 300,
        "n_channels": 5,
        "n_funnel": 2,
        "n_steps": 100,
        "n_graph_types": 3,
        "edge_density": 0.3,
        "shop_deviation": 0.0,
        "n_context": 2,
        "noise_scale": 0.1,
        "effect_strength": 1.0,
        "max_lag": 3,
        "adstock": "geometric",
        "seasonality": 0.1,
    },
    # Harder setting ("Simulation 2"): more graph types, shops that deviate
    # from their type, twice the noise, weaker and delayed (Weibull) effects.
    "sim2": {
        "n_shops": 300,
        "n_channels": 5,
        "n_funnel": 2,
        "n_steps": 100,
        "n_graph_types": 5,
        "edge_density": 0.3,
        "shop_deviation": 0.05,
        "n_context": 2,
        "noise_scale": 0.2,
        "effect_strength": 0.6,
        "max_lag": 3,
        "adstock": "weibull",
        "seasonality": 0.15,
    },
}


# ----------------------------------------------------------------------------
# Names and graphs
# ----------------------------------------------------------------------------


def _channel_names(n_channels: int) -> list[str]:
    known = set(_CHANNEL_PRIORITY[:n_channels])
    names = [name for name in _CHANNEL_RANK if name in known]
    names += [f"channel_{k}" for k in range(len(names), n_channels)]
    return names


def _funnel_names(n_funnel: int) -> list[str]:
    names = list(_FUNNEL_NAMES[:n_funnel])
    names += [f"funnel_{k}" for k in range(len(names), n_funnel)]
    return names


def _edge_probabilities(
    n_channels: int, d: int, edge_density: float, channel_edge_density: float
) -> np.ndarray:
    """Probability of each edge ``i -> j``; zero where the funnel order forbids it.

    Nodes are ordered channels, funnel nodes, GMV, and every allowed edge goes
    from a lower to a higher index, so every graph is acyclic and GMV (the last
    node) drives nothing.
    """
    prob = np.triu(np.full((d, d), edge_density), k=1)
    prob[:n_channels, :n_channels] = np.triu(
        np.full((n_channels, n_channels), channel_edge_density), k=1
    )
    return prob


def _draw_graph(
    rng: np.random.Generator, prob: np.ndarray, n_channels: int
) -> np.ndarray:
    d = prob.shape[0]
    adj = rng.random((d, d)) < prob
    # Funnel nodes and GMV are outcomes: each needs at least one cause.
    for j in range(n_channels, d):
        if not adj[:j, j].any():
            adj[rng.integers(j), j] = True
    return adj


def _draw_distinct_graphs(
    draw: Callable[[], np.ndarray],
    n_graph_types: int,
    d: int,
    max_tries: int = 1000,
) -> np.ndarray:
    """``n_graph_types`` distinct graphs, each from ``draw()``, redrawn on a repeat."""
    types = np.zeros((n_graph_types, d, d), dtype=bool)
    for r in range(n_graph_types):
        for _ in range(max_tries):
            candidate = draw()
            if not any(np.array_equal(candidate, types[q]) for q in range(r)):
                types[r] = candidate
                break
        else:
            raise ValueError(
                f"n_graph_types={n_graph_types} distinct graphs could not be drawn "
                f"with {d} nodes and these edge densities; use fewer graph types, "
                "more nodes or an edge_density further from 0 and 1."
            )
    return types


def _draw_graph_types(
    rng: np.random.Generator,
    prob: np.ndarray,
    n_channels: int,
    n_graph_types: int,
) -> np.ndarray:
    return _draw_distinct_graphs(
        lambda: _draw_graph(rng, prob, n_channels), n_graph_types, prob.shape[0]
    )


def _reachability(adjacency: np.ndarray) -> np.ndarray:
    """``reach[s, i, j]`` is True when j == i or a directed path leads i -> j."""
    d = adjacency.shape[-1]
    reach = adjacency.astype(np.int64) | np.eye(d, dtype=np.int64)
    # Repeated squaring: after k rounds, paths of length up to 2**k are covered.
    for _ in range(max(1, int(np.ceil(np.log2(max(d, 2)))))):
        reach = ((reach @ reach) > 0).astype(np.int64)
    return reach.astype(bool)


# ----------------------------------------------------------------------------
# Response functions
# ----------------------------------------------------------------------------


def _adstock_kernels(
    adstock: str,
    decay: np.ndarray,
    weibull_shape: np.ndarray,
    weibull_scale: np.ndarray,
    max_lag: int,
) -> np.ndarray:
    """Normalised lag kernels ``k[..., l - 1]`` for lags ``l = 1..max_lag``."""
    lags = np.arange(1, max_lag + 1, dtype=np.float64)
    if adstock == "geometric":
        kernel = decay[..., None] ** (lags - 1.0)
    else:
        shape = weibull_shape[..., None]
        scale = weibull_scale[..., None]
        ratio = lags / scale
        kernel = shape / scale * ratio ** (shape - 1.0) * np.exp(-(ratio**shape))
    return kernel / kernel.sum(axis=-1, keepdims=True)


def _edge_responses(
    source: np.ndarray,
    index: np.ndarray,
    kernel: np.ndarray,
    alpha: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Weighted Hill responses of lagged, adstocked parent series, one row per edge.

    Row ``e`` uses the parent series ``source[index[e]]``. ``kernel`` is already
    divided by the parent's shop mean times the edge's half-saturation ``g``,
    so with ``v`` the adstocked series ``u / g`` the response
    ``w * u**a / (u**a + g**a)`` is ``w / (1 + exp(-a * log v))``.
    """
    n_edges, n_time = index.size, source.shape[1]
    out = np.empty((n_edges, n_time))
    # Blocks of edges small enough to stay in cache across the passes below.
    block = max(1, 2**15 // max(n_time, 1))
    scratch = np.empty((block, n_time))
    with np.errstate(divide="ignore", over="ignore"):
        for lo in range(0, n_edges, block):
            hi = min(lo + block, n_edges)
            v = out[lo:hi]
            tmp = scratch[: hi - lo]
            series = source[index[lo:hi]]
            # Lag l only sees values up to t - l: effects never arrive on the
            # same step, so the true graph is the Granger graph.
            v[:, :1] = 0.0
            np.multiply(kernel[lo:hi, 0, None], series[:, :-1], out=v[:, 1:])
            for lag in range(2, kernel.shape[1] + 1):
                np.multiply(
                    kernel[lo:hi, lag - 1, None],
                    series[:, :-lag],
                    out=tmp[:, lag:],
                )
                v[:, lag:] += tmp[:, lag:]
            # v = 0 gives log v = -inf, exp(+inf) = inf and a response of 0.
            np.log(v, out=v)
            np.multiply(v, -alpha[lo:hi, None], out=v)
            np.exp(v, out=v)
            v += 1.0
            np.divide(weight[lo:hi, None], v, out=v)
    return out


def _sum_by_rows(
    values: np.ndarray,
    shop: np.ndarray,
    index: np.ndarray,
    n_rows: int,
    sign: float = 1.0,
) -> np.ndarray:
    """``out[s] = sign * sum of values[index[e]] over the e with shop[e] == s``.

    A sparse product: it reads only the selected rows, in order, without
    copying them.
    """
    summing = csr_matrix(
        (np.full(index.size, sign), (shop, index)), shape=(n_rows, values.shape[0])
    )
    return np.asarray(summing @ values)


def _sum_by_shop(
    values: np.ndarray, shop: np.ndarray, n_rows: int, sign: float = 1.0
) -> np.ndarray:
    """Sum the rows of ``values`` (one per edge) that belong to each shop."""
    return _sum_by_rows(values, shop, np.arange(shop.size), n_rows, sign)


class _Mechanism:
    """Per-shop parameters of the structural equations, and how to evaluate them.

    The same object evaluates the factual world and every counterfactual (a
    channel's spend set to zero), with the same noise draws and the same scales.
    """

    def __init__(
        self,
        *,
        n_channels: int,
        adjacency: np.ndarray,
        kernel: np.ndarray,
        alpha: np.ndarray,
        half_saturation: np.ndarray,
        weight: np.ndarray,
        scale: np.ndarray,
        season: np.ndarray,
        exogenous_spend: np.ndarray,
        burn_in: int,
    ) -> None:
        self.n_channels = n_channels
        self.adjacency = adjacency
        self.kernel = kernel
        self.alpha = alpha
        self.half_saturation = half_saturation
        self.weight = weight
        # Baseline level times multiplicative noise, per shop, node and step.
        self.scale = scale
        self.season = season
        self.exogenous_spend = exogenous_spend
        self.burn_in = burn_in
        # Filled in by the factual run: kernels divided by the parent's shop
        # mean over the observed window (and by g). Counterfactuals keep these
        # scales, so the response to an unchanged parent is unchanged.
        self.scaled_kernel = np.empty_like(kernel)
        # Factual responses of the edges whose parent can itself change when a
        # channel is zeroed (funnel nodes and channel-driven channels), keyed by
        # shop * d + parent, per child node.
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _responses(
        self,
        source: np.ndarray,
        index: np.ndarray,
        shop: np.ndarray,
        parent: np.ndarray,
        j: int,
    ) -> np.ndarray:
        return _edge_responses(
            source,
            index,
            self.scaled_kernel[shop, parent, j],
            self.alpha[shop, parent, j],
            self.weight[shop, parent, j],
        )

    def factual(self) -> np.ndarray:
        """Simulate every node in topological order (the node index order)."""
        n_shops, d, n_time = self.scale.shape
        x = np.empty((n_shops, d, n_time))
        flat = x.reshape(n_shops * d, n_time)
        driven = self.adjacency[:, : self.n_channels, : self.n_channels].any(axis=1)
        for j in range(d):
            shop, parent = np.nonzero(self.adjacency[:, :j, j])
            response = self._responses(flat, shop * d + parent, shop, parent, j)
            effect = _sum_by_shop(response, shop, n_shops)
            changeable = parent >= self.n_channels
            channel_edge = ~changeable
            changeable[channel_edge] = driven[shop[channel_edge], parent[channel_edge]]
            self._cache[j] = (
                shop[changeable] * d + parent[changeable],
                response[changeable],
            )
            if j < self.n_channels:
                # Spend pulled by other channels comes on top of the own
                # campaigns.
                x[:, j] = self.exogenous_spend[:, j] + self.scale[:, j] * effect
            else:
                x[:, j] = self.scale[:, j] * (1.0 + self.season + effect)
            mean = x[:, j, self.burn_in :].mean(axis=1)
            mean = np.where(mean > 0, mean, 1.0)
            self.scaled_kernel[:, j] = self.kernel[:, j] / (
                mean[:, None, None] * self.half_saturation[:, j, :, None]
            )
        return x

    def zero_channel(
        self, x: np.ndarray, channel: int, reach: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """GMV change when ``channel`` is set to zero, for the shops it reaches.

        A node's value is linear in the sum of its edge responses (with the
        noisy level as coefficient), so replacing the responses of the edges
        whose parent changed gives the counterfactual exactly; all other edges
        keep their factual responses. Shops where the channel has no path to
        GMV are left out (their contribution is exactly zero).
        """
        d, n_time = x.shape[1], x.shape[2]
        flat = x.reshape(-1, n_time)
        rows = np.flatnonzero(reach[:, channel, -1])
        changed = reach[rows, channel]
        if rows.size == x.shape[0]:
            # Every shop is affected: views instead of gathered copies.
            factual_rows, scale = x, self.scale
        else:
            factual_rows, scale = x[rows], self.scale[rows]
        # Counterfactual series of the changed nodes (other nodes' slots stay
        # unwritten and are never read).
        moved = np.empty((rows.size, d, n_time))
        moved_flat = moved.reshape(-1, n_time)
        for j in range(channel + 1, d):
            sub, parent = np.nonzero(self.adjacency[rows, :j, j] & changed[:, :j])
            if sub.size == 0:
                continue
            shop = rows[sub]
            key = shop * d + parent
            keys, cached = self._cache[j]
            pos = np.minimum(np.searchsorted(keys, key), max(keys.size - 1, 0))
            hit = keys[pos] == key if keys.size else np.zeros(sub.size, dtype=bool)
            # New responses of the changed parents minus their factual ones.
            change = _sum_by_rows(cached, sub[hit], pos[hit], rows.size, -1.0)
            if not hit.all():
                miss = ~hit
                factual = self._responses(flat, key[miss], shop[miss], parent[miss], j)
                change += _sum_by_shop(factual, sub[miss], rows.size, -1.0)
            # A zeroed channel has a zero response; other changed parents are
            # re-evaluated on their counterfactual series.
            again = parent != channel
            if again.any():
                response = self._responses(
                    moved_flat,
                    sub[again] * d + parent[again],
                    shop[again],
                    parent[again],
                    j,
                )
                change += _sum_by_shop(response, sub[again], rows.size)
            # Rows whose parents did not change get change 0: factual values.
            change *= scale[:, j]
            np.add(factual_rows[:, j], change, out=moved[:, j])
        # GMV is a descendant in every row, so its slot has been written.
        return rows, x[rows, -1] - moved[:, -1]


def _simulate_spend(
    rng: np.random.Generator,
    level: np.ndarray,
    n_time: int,
    *,
    p_start_range: tuple[float, float] = _P_START_RANGE,
    p_stop_range: tuple[float, float] = _P_STOP_RANGE,
    base_range: tuple[float, float] = _BASE_SPEND_RANGE,
    step_sigma: float = _DAILY_SPEND_SIGMA,
) -> np.ndarray:
    """Bursty exogenous spend ``(n_shops, n_channels, n_time)``.

    Each shop and channel switches between campaign flights ("on") and a small
    always-on base ("off") with a two-state Markov chain; every flight draws a
    lognormal intensity, and each step adds lognormal noise. The ranges are
    per step (a day for the daily simulator, a week for the weekly one).
    """
    n_shops, n_channels = level.shape
    p_start = rng.uniform(*p_start_range, size=(n_shops, n_channels))
    p_stop = rng.uniform(*p_stop_range, size=(n_shops, n_channels))
    base = rng.uniform(*base_range, size=(n_shops, n_channels))
    switch = rng.random((n_time, n_shops, n_channels))
    flight = rng.lognormal(
        -0.5 * _FLIGHT_SIGMA**2, _FLIGHT_SIGMA, size=(n_time, n_shops, n_channels)
    )
    step_noise = rng.lognormal(
        -0.5 * step_sigma**2,
        step_sigma,
        size=(n_shops, n_channels, n_time),
    )
    # Start from the stationary on-probability so that no burn-in is needed for
    # the chain itself.
    on = np.empty((n_time, n_shops, n_channels), dtype=bool)
    intensity = np.empty((n_time, n_shops, n_channels))
    on[0] = switch[0] < p_start / (p_start + p_stop)
    intensity[0] = flight[0]
    for t in range(1, n_time):
        start = ~on[t - 1] & (switch[t] < p_start)
        on[t] = np.where(on[t - 1], switch[t] >= p_stop, start)
        intensity[t] = np.where(start, flight[t], intensity[t - 1])
    scale = np.where(on, intensity, base).transpose(1, 2, 0)
    return level[:, :, None] * scale * step_noise


def _ar1_noise(
    rng: np.random.Generator, shape: tuple[int, ...], rho: float
) -> np.ndarray:
    """Stationary AR(1) series with unit variance along the last axis."""
    z = rng.standard_normal(shape)
    gain = np.sqrt(1.0 - rho**2)
    # Initial state chosen so that e[0] = z[0] ~ N(0, 1): stationary from t = 0.
    zi = ((1.0 - gain) * z[..., :1]).astype(np.float64)
    e, _ = lfilter([gain], [1.0, -rho], z, axis=-1, zi=zi)
    return e


def _long_frame(
    X: np.ndarray,
    y: np.ndarray,
    context: np.ndarray,
    feature_names: list[str],
    context_names: list[str],
    *,
    dates: pd.DatetimeIndex | None = None,
    target_name: str = _TARGET_NAME,
) -> pd.DataFrame:
    """Long layout: one row per shop and step, shop-major, time-sorted.

    ``dates`` defaults to daily dates from ``_START_DATE``.
    """
    n_shops, _, n_steps = X.shape
    width = max(3, len(str(n_shops - 1)))
    shop_ids = [f"shop_{s:0{width}d}" for s in range(n_shops)]
    if dates is None:
        dates = pd.date_range(_START_DATE, periods=n_steps, freq="D")
    columns: dict[str, Any] = {
        "shop_id": np.repeat(shop_ids, n_steps),
        "date": np.tile(dates.to_numpy(), n_shops),
    }
    for k, name in enumerate(context_names):
        columns[name] = np.repeat(context[:, k], n_steps)
    for k, name in enumerate(feature_names):
        columns[name] = X[:, k].ravel()
    columns[target_name] = y.ravel()
    return pd.DataFrame(columns)


def make_causal_mmm(
    n_shops: int = 100,
    n_channels: int = 5,
    n_funnel: int = 2,
    n_steps: int = 100,
    n_graph_types: int = 3,
    edge_density: float = 0.3,
    *,
    channel_edge_density: float | None = None,
    shop_deviation: float = 0.0,
    n_context: int = 2,
    noise_scale: float = 0.1,
    noise_autocorrelation: float = 0.3,
    effect_strength: float = 1.0,
    max_lag: int = 3,
    adstock: str = "geometric",
    seasonality: float = 0.1,
    compute_contributions: bool = True,
    as_frame: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> Bunch:
    """Simulate a marketing panel of many shops with known causal graphs.

    Nodes are ``n_channels`` advertising channels (daily spend), ``n_funnel``
    funnel nodes (page views, clicks, ...) and GMV, in that order. Each shop
    follows one of ``n_graph_types`` random DAGs that respect the funnel order
    (channels may drive later channels, channels drive funnel nodes and GMV,
    funnel nodes drive later funnel nodes and GMV, GMV drives nothing). An edge
    ``i -> j`` passes the parent's series through a lag kernel (adstock, lags
    ``1..max_lag`` only) and a Hill curve whose shape and half-saturation depend
    on the shop's context, so the true graph is the Granger-causal graph. The
    full recipe is in ``docs/simulator.md``.

    Parameters
    ----------
    n_shops : int, default=100
        Number of shops (samples).
    n_channels : int, default=5
        Number of advertising channels (nodes ``0..n_channels-1``).
    n_funnel : int, default=2
        Number of funnel nodes between the channels and GMV.
    n_steps : int, default=100
        Number of daily time steps per shop.
    n_graph_types : int, default=3
        Number of distinct causal graphs; shops are assigned to them in
        balanced, shuffled groups.
    edge_density : float, default=0.3
        Probability of each allowed edge into a funnel node or GMV, in (0, 1].
    channel_edge_density : float or None, default=None
        Probability of each allowed channel -> channel edge, in [0, 1].
        ``None`` means ``edge_density / 2``: channels mostly run their own
        campaigns.
    shop_deviation : float, default=0.0
        Probability, in [0, 1), that a shop flips each allowed edge of its
        type's graph (funnel nodes and GMV keep at least one parent).
    n_context : int, default=2
        Number of context variables per shop, drawn from ``U(0, 1)``; they set
        the Hill parameters of every edge.
    noise_scale : float, default=0.1
        Standard deviation of the log of the multiplicative noise on funnel
        nodes, GMV and channel-driven spend.
    noise_autocorrelation : float, default=0.3
        Lag-1 autocorrelation of that log-noise, in [0, 1).
    effect_strength : float, default=1.0
        Multiplies every edge weight; at 1 the incoming effects are roughly
        35-55 % of a node's level.
    max_lag : int, default=3
        Longest lag through which a parent acts; effects use lags
        ``1..max_lag`` (never lag 0).
    adstock : {"geometric", "weibull"}, default="geometric"
        Lag kernel of each edge: geometric decay (decay rate in [0.2, 0.8]) or a
        delayed Weibull density (shape in [1.5, 3], scale in [1, max_lag]).
    seasonality : float, default=0.1
        Amplitude, in [0, 1), of the weekly cycle of funnel nodes and GMV.
    compute_contributions : bool, default=True
        Compute the true channel contributions to GMV (one counterfactual run
        per channel). ``False`` leaves ``contributions`` as None.
    as_frame : bool, default=False
        Also return the data as a long DataFrame in ``frame``.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives bit-identical data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``d = n_channels + n_funnel + 1`` nodes:

        X : ndarray of shape (n_shops, n_channels + n_funnel, n_steps)
            Channel spend then funnel nodes.
        y : ndarray of shape (n_shops, n_steps)
            GMV.
        context : ndarray of shape (n_shops, n_context)
        adjacency : ndarray of shape (n_shops, d, d), int
            True graph over the nodes of X followed by GMV; ``[s, i, j] = 1``
            means node i drives node j in shop s.
        graph_type : ndarray of shape (n_shops,), int
        graph_types : ndarray of shape (n_graph_types, d, d), int
        contributions : ndarray of shape (n_shops, n_channels, n_steps) or None
            GMV minus GMV re-simulated with that channel's spend set to zero
            (same noise draws, propagated through the whole graph).
        hill_alpha, hill_half_saturation : ndarray of shape (n_shops, d, d)
            Hill shape ``a`` and half-saturation ``g`` of each edge (NaN where
            there is no edge).
        hill_alpha_weights, hill_half_saturation_weights : ndarray of shape \
(d, d, n_context)
            Coefficients of the context map:
            ``a = 1 + 1.5 * expit(w_a . (c - 0.5))``,
            ``g = 0.5 + expit(w_g . (c - 0.5))``.
        decay : ndarray of shape (n_shops, d, d)
            Geometric decay of each edge (NaN where there is no edge or when
            ``adstock="weibull"``).
        weibull_shape, weibull_scale : ndarray of shape (n_shops, d, d)
            Weibull kernel parameters (NaN where there is no edge or when
            ``adstock="geometric"``).
        adstock_kernel : ndarray of shape (n_shops, d, d, max_lag)
            Normalised weight of lag ``l`` at index ``l - 1`` (NaN where there
            is no edge).
        edge_weight : ndarray of shape (n_shops, d, d)
            Positive weight of each edge (NaN where there is no edge).
        baseline : ndarray of shape (n_shops, d)
            Spend level of each channel, baseline level of other nodes.
        node_names, channel_names, funnel_names, feature_names, context_names :
            list of str
        target_name : str
        frame : DataFrame, only with ``as_frame=True``
            Long layout: ``shop_id``, ``date`` (daily from 2024-01-01), context
            columns, one column per channel and funnel node, ``gmv``.
        DESCR : str

    See Also
    --------
    load_demo : A small panel made by this simulator, bundled with the package.

    Examples
    --------
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=6, n_steps=50, random_state=0)
    >>> data.X.shape, data.y.shape, data.adjacency.shape
    ((6, 7, 50), (6, 50), (6, 8, 8))
    >>> data.node_names
    ['brand', 'display', 'video', 'feed', 'search', 'pv', 'clicks', 'gmv']
    >>> int(data.adjacency[:, -1].sum())  # GMV drives nothing
    0
    >>> bool((data.contributions >= 0).all())
    True
    """
    n_shops = _check_int(n_shops, "n_shops", 1)
    n_channels = _check_int(n_channels, "n_channels", 1)
    n_funnel = _check_int(n_funnel, "n_funnel", 0)
    n_steps = _check_int(n_steps, "n_steps", 1)
    n_graph_types = _check_int(n_graph_types, "n_graph_types", 1)
    edge_density = _check_float(edge_density, "edge_density", 0.0, 1.0, low_open=True)
    if channel_edge_density is None:
        channel_edge_density = edge_density / 2.0
    channel_edge_density = _check_float(
        channel_edge_density, "channel_edge_density", 0.0, 1.0
    )
    shop_deviation = _check_float(
        shop_deviation, "shop_deviation", 0.0, 1.0, high_open=True
    )
    n_context = _check_int(n_context, "n_context", 0)
    noise_scale = _check_float(noise_scale, "noise_scale", 0.0, np.inf, high_open=True)
    noise_autocorrelation = _check_float(
        noise_autocorrelation, "noise_autocorrelation", 0.0, 1.0, high_open=True
    )
    effect_strength = _check_float(
        effect_strength, "effect_strength", 0.0, np.inf, high_open=True
    )
    max_lag = _check_int(max_lag, "max_lag", 1)
    if adstock not in ("geometric", "weibull"):
        raise ValueError(f"adstock must be 'geometric' or 'weibull', got {adstock!r}.")
    seasonality = _check_float(seasonality, "seasonality", 0.0, 1.0, high_open=True)
    for flag, name in (
        (compute_contributions, "compute_contributions"),
        (as_frame, "as_frame"),
    ):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"{name} must be a bool, got {flag!r}.")
    try:
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    except ValueError as exc:
        raise ValueError(f"random_state: {exc}") from None

    d = n_channels + n_funnel + 1
    # Independent streams: changing, e.g., shop_deviation or noise_scale leaves
    # the spend, context and graph types of the same seed unchanged.
    rng_graph, rng_shop, rng_param, rng_spend, rng_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )

    # Graphs.
    prob = _edge_probabilities(n_channels, d, edge_density, channel_edge_density)
    allowed = prob > 0
    types = _draw_graph_types(rng_graph, prob, n_channels, n_graph_types)
    graph_type = rng_shop.permutation(np.arange(n_shops) % n_graph_types)
    adjacency = types[graph_type]
    flip_draw = rng_shop.random((n_shops, d, d))
    parent_draw = rng_shop.random((n_shops, d))
    if shop_deviation > 0:
        # Only allowed pairs flip, so the funnel order (and acyclicity) holds.
        adjacency = adjacency ^ ((flip_draw < shop_deviation) & allowed)
        orphan = ~adjacency.any(axis=1)
        orphan[:, :n_channels] = False
        shop, node = np.nonzero(orphan)
        adjacency[shop, (parent_draw[shop, node] * node).astype(int), node] = True

    # Per-shop context and per-edge response parameters (drawn for every pair,
    # masked to the shop's edges afterwards).
    context = rng_param.random((n_shops, n_context))
    coef_scale = 5.0 / np.sqrt(max(n_context, 1))
    alpha_weights = rng_param.normal(0.0, coef_scale, size=(d, d, n_context))
    half_weights = rng_param.normal(0.0, coef_scale, size=(d, d, n_context))
    centred = context - 0.5
    alpha = 1.0 + 1.5 * expit(np.einsum("sk,ijk->sij", centred, alpha_weights))
    half_saturation = 0.5 + expit(np.einsum("sk,ijk->sij", centred, half_weights))
    decay = rng_param.uniform(*_DECAY_RANGE, size=(n_shops, d, d))
    weibull_shape = rng_param.uniform(*_WEIBULL_SHAPE_RANGE, size=(n_shops, d, d))
    weibull_scale = rng_param.uniform(1.0, max_lag, size=(n_shops, d, d))
    raw_weight = rng_param.uniform(0.5, 1.5, size=(n_shops, d, d)) * adjacency
    log_level = rng_param.normal(0.0, _LEVEL_SIGMA, size=(n_shops, d))
    weekly_phase = rng_param.uniform(0.0, 7.0, size=n_shops)

    typical = np.empty(d)
    typical[:n_channels] = _SPEND_LEVEL
    typical[n_channels:-1] = _FUNNEL_LEVEL / 3.0 ** np.arange(n_funnel)
    typical[-1] = _GMV_LEVEL
    baseline = typical * np.exp(log_level)
    # Each node's incoming weights sum to _EFFECT_GAIN * effect_strength.
    total = raw_weight.sum(axis=1, keepdims=True)
    weight = (
        _EFFECT_GAIN
        * effect_strength
        * np.divide(raw_weight, total, out=np.zeros_like(raw_weight), where=total > 0)
    )
    kernel = _adstock_kernels(adstock, decay, weibull_shape, weibull_scale, max_lag)

    # Time: a burn-in long enough for the zero pre-history to have left every
    # node (a path has at most d - 1 edges of max_lag steps each).
    burn_in = (d - 1) * max_lag
    n_time = burn_in + n_steps
    t = np.arange(n_time) - burn_in
    season = seasonality * np.sin(2.0 * np.pi * (t + weekly_phase[:, None]) / 7.0)
    spend = _simulate_spend(rng_spend, baseline[:, :n_channels], n_time)
    noise = _ar1_noise(rng_noise, (n_shops, d, n_time), noise_autocorrelation)
    # Level times multiplicative noise, computed in place (the largest array).
    scale = noise
    scale *= noise_scale
    scale -= 0.5 * noise_scale**2
    np.exp(scale, out=scale)
    scale *= baseline[:, :, None]

    mechanism = _Mechanism(
        n_channels=n_channels,
        adjacency=adjacency,
        kernel=kernel,
        alpha=alpha,
        half_saturation=half_saturation,
        weight=weight,
        scale=scale,
        season=season,
        exogenous_spend=spend,
        burn_in=burn_in,
    )
    values = mechanism.factual()

    contributions = None
    if compute_contributions:
        reach = _reachability(adjacency)
        contributions = np.zeros((n_shops, n_channels, n_steps))
        for channel in range(n_channels):
            rows, change = mechanism.zero_channel(values, channel, reach)
            contributions[rows, channel] = change[:, burn_in:]

    values = values[:, :, burn_in:]
    no_edge = ~adjacency
    kernel = np.where(no_edge[..., None], np.nan, kernel)

    def on_edges(a: np.ndarray) -> np.ndarray:
        return np.where(no_edge, np.nan, a)

    def unused() -> np.ndarray:  # parameters of the kernel not in use
        return np.full((n_shops, d, d), np.nan)

    geometric = adstock == "geometric"

    channel_names = _channel_names(n_channels)
    funnel_names = _funnel_names(n_funnel)
    feature_names = channel_names + funnel_names
    node_names = feature_names + [_TARGET_NAME]
    context_names = [f"context_{k}" for k in range(n_context)]
    X = np.ascontiguousarray(values[:, :-1])
    y = np.ascontiguousarray(values[:, -1])
    bunch = Bunch(
        X=X,
        y=y,
        context=context,
        adjacency=adjacency.astype(np.int64),
        graph_type=graph_type.astype(np.int64),
        graph_types=types.astype(np.int64),
        contributions=contributions,
        hill_alpha=on_edges(alpha),
        hill_half_saturation=on_edges(half_saturation),
        hill_alpha_weights=alpha_weights,
        hill_half_saturation_weights=half_weights,
        decay=on_edges(decay) if geometric else unused(),
        weibull_shape=unused() if geometric else on_edges(weibull_shape),
        weibull_scale=unused() if geometric else on_edges(weibull_scale),
        adstock_kernel=kernel,
        edge_weight=on_edges(weight),
        baseline=baseline,
        node_names=node_names,
        channel_names=channel_names,
        funnel_names=funnel_names,
        feature_names=feature_names,
        context_names=context_names,
        target_name=_TARGET_NAME,
        DESCR=_describe(
            n_shops, n_channels, n_funnel, n_steps, n_graph_types, adstock, max_lag
        ),
    )
    if as_frame:
        bunch.frame = _long_frame(X, y, context, feature_names, context_names)
    return bunch


def _describe(
    n_shops: int,
    n_channels: int,
    n_funnel: int,
    n_steps: int,
    n_graph_types: int,
    adstock: str,
    max_lag: int,
) -> str:
    return (
        "Synthetic causal marketing mix panel\n"
        "------------------------------------\n\n"
        f"{n_shops} shops, {n_steps} daily steps, {n_channels} channels, "
        f"{n_funnel} funnel nodes and GMV; {n_graph_types} causal graph types.\n"
        f"Edges act through a {adstock} adstock over lags 1..{max_lag} and a Hill "
        "curve whose shape and half-saturation depend on the shop's context.\n"
        "Ground truth: per-shop adjacency (adjacency[s, i, j] = 1 means i drives "
        "j), response parameters, and the contribution of every channel to GMV "
        "(GMV minus GMV with that channel's spend set to zero).\n"
        "Recipe and formulas: docs/simulator.md."
    )

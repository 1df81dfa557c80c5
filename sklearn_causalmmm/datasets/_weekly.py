"""The weekly simulator: geo panels with a baseline, controls and funnel nodes.

:func:`make_weekly_mmm` simulates what a real weekly marketing mix panel holds
and the daily simulator does not: a baseline of trend (with changepoints),
yearly seasonality, holidays, signed controls and a national shock shared by
all shops, media measured in impressions with a cost per thousand, carryover
over several weeks, and funnel nodes (search volume, site visits) that media
drive and that drive the target. The truth comes with it: the graph over all
nodes, the baseline of the target, and each channel's total, direct and
mediated contribution, computed by re-simulating with the same noise draws.

The recipe, with all formulas, is in ``docs/simulator.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from sklearn_causalmmm.datasets._checks import _check_float, _check_int
from sklearn_causalmmm.datasets._daily import (
    _ar1_noise,
    _draw_distinct_graphs,
    _long_frame,
    _simulate_spend,
)

__all__ = ["make_weekly_mmm"]

# Media channels in the order they are used, with a typical cost per thousand
# impressions (currency units): the spend of a channel is impressions * CPM / 1000.
_MEDIA_CPM = {
    "tv": 25.0,
    "search": 40.0,
    "social": 8.0,
    "display": 3.0,
    "video": 15.0,
    "radio": 8.0,
    "ooh": 5.0,
    "print": 12.0,
    "podcast": 20.0,
    "affiliate": 10.0,
    "audio": 10.0,
    "cinema": 30.0,
    "influencer": 15.0,
}
_OTHER_CPM = 10.0
_CPM_SIGMA = 0.15
_FUNNEL_NAMES = ("search_volume", "site_visits")
_CONTROL_NAMES = ("holiday", "price_index", "temperature", "competitor_activity")
_TARGET_NAME = "revenue"
_WEEKS_PER_YEAR = 365.25 / 7.0

# Typical weekly magnitudes for a shop (geo) of average size.
_SPEND_LEVEL = 5000.0
_FUNNEL_LEVELS = (2000.0, 20000.0)
_OTHER_FUNNEL_LEVEL = 5000.0
_TARGET_LEVEL = 100000.0
_SIZE_SIGMA = 0.6
_LEVEL_SIGMA = 0.2
_SPEND_LEVEL_SIGMA = 0.5

# Weekly campaign flights: a flight lasts 3-7 weeks, a pause 3-10 weeks.
_P_START_RANGE = (0.10, 0.30)
_P_STOP_RANGE = (0.15, 0.35)
_BASE_RANGE = (0.05, 0.30)
_WEEKLY_SPEND_SIGMA = 0.25

# Sums of the edge weights into a node at effect_strength=1 (fractions of the
# node's level): media -> funnel node, media -> target directly, and funnel
# nodes -> target (mostly their organic part) or -> later funnel nodes.
_MEDIA_GAIN_FUNNEL = 1.0
_MEDIA_GAIN_TARGET = 0.4
_FUNNEL_GAIN = 0.3
_FUNNEL_MAX_LAG = 2
_DECAY_RANGE = (0.2, 0.7)
_FUNNEL_DECAY_RANGE = (0.2, 0.5)
_HILL_ALPHA_RANGE = (1.0, 2.5)
_HILL_HALF_RANGE = (0.5, 1.5)
# Funnel nodes follow the yearly cycle at half the target's amplitude, and
# vary organically (news, word of mouth) three times as much as the target.
_FUNNEL_NOISE_FACTOR = 3.0
_FUNNEL_SEASON = 0.5
# Largest trend excursion, as a fraction of the level, so the target stays
# positive whatever the slopes drawn.
_TREND_CAP = 0.4
_SHOCK_AUTOCORRELATION = 0.5

# (lower, upper) magnitude of the same-week coefficient of each named control,
# its sign, and the lag-1 coefficient as a multiple of the same-week one.
_CONTROL_EFFECTS = {
    # Sales pulled forward from the week after the event.
    "holiday": ((0.10, 0.30), 1.0, (-0.5, -0.2)),
    # A price cut sells more now and less the week after (stockpiling).
    "price_index": ((0.03, 0.08), -1.0, (-0.6, -0.3)),
    "temperature": ((0.02, 0.05), 0.0, (0.5, 0.5)),
    "competitor_activity": ((0.02, 0.05), -1.0, (0.5, 0.5)),
}
_OTHER_CONTROL_EFFECT = ((0.02, 0.05), 0.0, (0.5, 0.5))


def _media_names(n_channels: int) -> list[str]:
    known = list(_MEDIA_CPM)[:n_channels]
    names = [f"impressions_{name}" for name in known]
    return names + [f"impressions_channel_{k}" for k in range(len(names), n_channels)]


def _indexed_names(known: tuple[str, ...], prefix: str, n: int) -> list[str]:
    return list(known[:n]) + [f"{prefix}_{k}" for k in range(len(known), n)]


def _event_weeks(dates: pd.DatetimeIndex) -> np.ndarray:
    """1.0 for the weeks that hold an event date, else 0.0.

    Events of every year: 14 February, 15 July (a mid-year sale), the Friday
    after the fourth Thursday of November and 24 December.
    """
    events = []
    for year in range(dates[0].year - 1, dates[-1].year + 2):
        first = pd.Timestamp(year, 11, 1)
        thanksgiving = first + pd.Timedelta(days=(3 - first.weekday()) % 7 + 21)
        events += [
            pd.Timestamp(year, 2, 14),
            pd.Timestamp(year, 7, 15),
            thanksgiving + pd.Timedelta(days=1),
            pd.Timestamp(year, 12, 24),
        ]
    event_days = np.array(events, dtype="datetime64[D]")
    start = dates.to_numpy().astype("datetime64[D]")
    following = event_days[np.searchsorted(event_days, start)]
    return (following < start + np.timedelta64(7, "D")).astype(np.float64)


def _draw_weekly_graph(
    rng: np.random.Generator,
    n_media: int,
    n_funnel: int,
    n_controls: int,
    edge_density: float,
) -> np.ndarray:
    """One graph over media, funnel nodes, controls and the target (last)."""
    funnel = slice(n_media, n_media + n_funnel)
    d = n_media + n_funnel + n_controls + 1
    adj = np.zeros((d, d), dtype=bool)
    adj[:n_media, funnel] = rng.random((n_media, n_funnel)) < edge_density
    # A funnel node is caused by media: give an orphan one channel.
    for j in np.flatnonzero(~adj[:n_media, funnel].any(axis=0)):
        adj[rng.integers(n_media), n_media + j] = True
    adj[funnel, funnel] = np.triu(rng.random((n_funnel, n_funnel)) < edge_density, 1)
    adj[:n_media, -1] = rng.random(n_media) < edge_density
    # Every funnel node and every control drives the target.
    adj[n_media:-1, -1] = True
    if n_funnel == 0 and not adj[:n_media, -1].any():
        adj[rng.integers(n_media), -1] = True
    return adj


def _adstock(series: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``sum_l kernel[..., l] * series[..., t - l]`` over lags ``l = 0..L``.

    ``series`` is ``(..., n_time)`` and ``kernel`` ``(..., L + 1)``; values
    before the first step count as zero.
    """
    out = kernel[..., :1] * series
    for lag in range(1, kernel.shape[-1]):
        out[..., lag:] += kernel[..., lag, None] * series[..., :-lag]
    return out


def _impressions(spend: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Impressions bought by ``spend`` at ``costs`` per thousand."""
    return spend * 1000.0 / costs[:, None]


def _geometric_kernel(decay: np.ndarray, max_lag: int) -> np.ndarray:
    kernel = decay[..., None] ** np.arange(max_lag + 1, dtype=np.float64)
    return kernel / kernel.sum(axis=-1, keepdims=True)


class _WeeklyWorld:
    """The structural equations of one weekly panel, with its noise draws.

    It evaluates the factual panel and any intervention on the media (a
    channel set to zero, a new spend plan) with the same noise, baseline and
    scales, so that differences between runs are causal effects.
    """

    def __init__(
        self,
        *,
        adjacency: np.ndarray,
        n_media: int,
        n_funnel: int,
        weight: np.ndarray,
        media_kernel: np.ndarray,
        funnel_kernel: np.ndarray,
        hill_alpha: np.ndarray,
        hill_half_saturation: np.ndarray,
        funnel_organic: np.ndarray,
        target_level: np.ndarray,
        target_rest: np.ndarray,
        impressions: np.ndarray,
        controls: np.ndarray,
        costs: np.ndarray,
        burn_in: int,
        media_names: list[str],
        dates: pd.DatetimeIndex,
    ) -> None:
        self.adjacency = adjacency
        self.n_media = n_media
        self.n_funnel = n_funnel
        self.weight = weight
        self.media_kernel = media_kernel
        self.funnel_kernel = funnel_kernel
        self.hill_alpha = hill_alpha
        self.hill_half_saturation = hill_half_saturation
        # Each funnel node's organic level times its noise and season, and
        # all of the target's equation that is not media or funnel (relative).
        self.funnel_organic = funnel_organic
        self.target_level = target_level
        self.target_rest = target_rest
        self.impressions = impressions
        self.controls = controls
        self.costs = costs
        self.burn_in = burn_in
        self.media_names = media_names
        self.dates = dates
        # Shop means over the observed window of the factual series: inputs are
        # measured relative to them, and interventions keep them fixed.
        self.media_scale = impressions[:, :, burn_in:].mean(axis=2)
        self.funnel_scale = np.ones((impressions.shape[0], n_funnel))

    def _media_response(self, relative: np.ndarray, j: int) -> np.ndarray:
        """Sum over channels of ``w * Hill(u)`` into node ``j``, per shop and step."""
        total = np.zeros((relative.shape[0], relative.shape[2]))
        for m in np.flatnonzero(self.adjacency[:, : self.n_media, j].any(axis=0)):
            a = self.hill_alpha[:, m, j, None]
            g = self.hill_half_saturation[:, m, j, None]
            powered = relative[:, m] ** a
            weight = np.nan_to_num(self.weight[:, m, j])
            total += weight[:, None] * powered / (powered + g**a)
        return total

    def _funnel_response(self, funnel: np.ndarray, j: int, upto: int) -> np.ndarray:
        """Linear, carried-over effect of funnel nodes ``< upto`` on node ``j``."""
        total = np.zeros((funnel.shape[0], funnel.shape[2]))
        for k in range(upto):
            weight = np.nan_to_num(self.weight[:, self.n_media + k, j])
            carried = _adstock(funnel[:, k], self.funnel_kernel[:, k])
            total += weight[:, None] * carried / self.funnel_scale[:, k, None]
        return total

    def run(
        self,
        impressions: np.ndarray,
        funnel: np.ndarray | None = None,
        *,
        set_scales: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Funnel nodes and target over the whole simulated time.

        With ``funnel`` given, the funnel nodes are held at those values and
        only the target is re-evaluated (the direct effect of the media).
        ``set_scales`` (the factual run only) records each funnel node's mean
        as soon as it is computed, before later nodes read it.
        """
        relative = _adstock(impressions, self.media_kernel)
        relative /= self.media_scale[:, :, None]
        if funnel is None:
            funnel = np.empty(
                (impressions.shape[0], self.n_funnel, impressions.shape[2])
            )
            for k in range(self.n_funnel):
                j = self.n_media + k
                funnel[:, k] = self.funnel_organic[:, k] * (
                    1.0
                    + self._media_response(relative, j)
                    + self._funnel_response(funnel, j, k)
                )
                if set_scales:
                    self.funnel_scale[:, k] = funnel[:, k, self.burn_in :].mean(axis=1)
        target = self.target_level[:, None] * (
            self.target_rest
            + self._media_response(relative, -1)
            + self._funnel_response(funnel, -1, self.n_funnel)
        )
        return funnel, target

    def simulate(self, spend: Any) -> Bunch:
        """Replay the panel with another media plan and the same noise draws.

        Parameters
        ----------
        spend : array-like of shape (n_shops, n_channels, n_steps)
            Spend per shop, channel and week of the observed window, in the
            currency of ``costs``; impressions are ``spend * 1000 / costs``.
            Weeks before the window keep their factual impressions.

        Returns
        -------
        Bunch
            ``X`` (media, funnel nodes, controls), ``y``, ``spend`` and
            ``impressions`` under the plan.
        """
        n_shops, n_media, n_time = self.impressions.shape
        n_steps = n_time - self.burn_in
        spend = np.array(spend, dtype=np.float64)
        if spend.shape != (n_shops, n_media, n_steps):
            raise ValueError(
                f"spend must have shape (n_shops, n_channels, n_steps) = "
                f"{(n_shops, n_media, n_steps)}, got {spend.shape}."
            )
        bad = ~np.isfinite(spend) | (spend < 0)
        if bad.any():
            s, m, t = np.argwhere(bad)[0]
            raise ValueError(
                f"spend must be finite and >= 0; shop {s}, channel "
                f"{self.media_names[m]!r}, week {self.dates[t].date()} has "
                f"{spend[s, m, t]!r}."
            )
        impressions = self.impressions.copy()
        impressions[:, :, self.burn_in :] = _impressions(spend, self.costs)
        funnel, target = self.run(impressions)
        window = slice(self.burn_in, None)
        X = np.concatenate(
            [
                impressions[:, :, window],
                funnel[:, :, window],
                self.controls[:, :, window],
            ],
            axis=1,
        )
        return Bunch(
            X=X,
            y=target[:, window],
            spend=spend,
            impressions=np.ascontiguousarray(impressions[:, :, window]),
        )

    def lift_tests(self, start: int, end: int, lift_se: Any) -> pd.DataFrame:
        """Exact lift tests: every channel's spend raised by its mean over a window.

        The experiment a geo test would run, with the noise it cannot remove
        taken out: each channel's spend rises by its panel mean in every shop
        over weeks ``start`` to ``end`` (both included) and the lift is the
        replayed target's change over those weeks.

        Parameters
        ----------
        start, end : int
            First and last week of the test, as positions in the observed
            window.
        lift_se : float or array-like of shape (n_channels,)
            Standard error to declare for each test (the lift itself is exact).

        Returns
        -------
        DataFrame
            One row per channel in the layout of ``CausalMMMRegressor.fit``'s
            ``lift_tests``: ``channel`` (a position), ``start``, ``end``,
            ``spend_change`` (the extra impressions the extra spend buys),
            ``lift`` and ``lift_se``.
        """
        n_media = self.impressions.shape[1]
        errors = np.broadcast_to(np.asarray(lift_se, dtype=np.float64), (n_media,))
        observed = self.impressions[:, :, self.burn_in :]
        spend = observed * self.costs[:, None] / 1000.0
        factual = self.simulate(spend).y[:, start : end + 1].sum()
        rows = []
        for channel in range(n_media):
            extra = float(spend[:, channel].mean())
            plan = spend.copy()
            plan[:, channel, start : end + 1] += extra
            lift = self.simulate(plan).y[:, start : end + 1].sum() - factual
            rows.append(
                {
                    "channel": channel,
                    "start": start,
                    "end": end,
                    "spend_change": extra * 1000.0 / self.costs[channel],
                    "lift": float(lift),
                    "lift_se": float(errors[channel]),
                }
            )
        return pd.DataFrame(rows)


def make_weekly_mmm(
    n_shops: int = 100,
    n_channels: int = 8,
    n_funnel: int = 2,
    n_controls: int = 4,
    n_steps: int = 156,
    n_graph_types: int = 3,
    edge_density: float = 0.5,
    *,
    max_lag: int = 8,
    effect_strength: float = 1.0,
    seasonality: float = 0.15,
    trend: float = 0.1,
    n_changepoints: int = 2,
    shock_scale: float = 0.05,
    noise_scale: float = 0.05,
    noise_autocorrelation: float = 0.3,
    start_date: str = "2022-01-03",
    as_frame: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> Bunch:
    """Simulate a weekly marketing mix panel of many shops (geos), with its truth.

    What a real weekly export holds: media impressions with a cost per
    thousand, carried over for several weeks and saturating (Hill curves);
    funnel nodes (``search_volume``, ``site_visits``) that media drive and that
    drive the target; signed controls (``price_index``, ``temperature``,
    ``competitor_activity``) and a 0/1 ``holiday`` column, entering the target
    linearly in the same week and the week after; and a baseline of trend with
    changepoints, yearly seasonality and a national shock shared by all shops.
    Each shop follows one of ``n_graph_types`` graphs. The weekly counterpart
    of :func:`make_causal_mmm`; the recipe is in ``docs/simulator.md``.

    Parameters
    ----------
    n_shops : int, default=100
        Number of shops (geos, regions).
    n_channels : int, default=8
        Number of media channels: ``tv``, ``search``, ``social``, ``display``,
        ``video``, ``radio``, ``ooh``, ``print``, ``podcast``, ``affiliate``,
        ``audio``, ``cinema``, ``influencer``, then ``channel_13``, ...
    n_funnel : int, default=2
        Number of funnel nodes: ``search_volume``, ``site_visits``, then
        ``funnel_2``, ...
    n_controls : int, default=4
        Number of controls: ``holiday`` (0/1), ``price_index``,
        ``temperature``, ``competitor_activity``, then ``control_4``, ...
    n_steps : int, default=156
        Number of weeks.
    n_graph_types : int, default=3
        Number of distinct graphs; shops are assigned to them in balanced,
        shuffled groups.
    edge_density : float, default=0.5
        Probability, in (0, 1], of each edge media -> funnel node, media ->
        target and funnel node -> later funnel node. Funnel nodes and controls
        always drive the target; every funnel node has a media parent.
    max_lag : int, default=8
        Longest carryover of media, in weeks (lags ``0..max_lag``).
    effect_strength : float, default=1.0
        Multiplies every media effect.
    seasonality : float, default=0.15
        Typical amplitude of the yearly cycle, as a fraction of the level.
    trend : float, default=0.1
        Standard deviation of the yearly growth rate at the start and of its
        change at each changepoint (fraction of the level per year).
    n_changepoints : int, default=2
        Number of trend changepoints, at dates shared by all shops.
    shock_scale : float, default=0.05
        Standard deviation of the national shock (fraction of the level).
    noise_scale : float, default=0.05
        Standard deviation of the target's noise (fraction of its level) and of
        the log of the funnel nodes' multiplicative noise.
    noise_autocorrelation : float, default=0.3
        Lag-1 autocorrelation of the noise, in [0, 1).
    start_date : str, default="2022-01-03"
        First week (weeks start on this date's weekday).
    as_frame : bool, default=False
        Also return the data as a long DataFrame in ``frame``.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives bit-identical data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``C`` channels, ``F`` funnel nodes, ``K`` controls and
        ``d = C + F + K + 1`` nodes:

        X : ndarray of shape (n_shops, C + F + K, n_steps)
            Impressions, funnel nodes, controls (columns ``media_columns``,
            ``funnel_columns``, ``control_columns``).
        y : ndarray of shape (n_shops, n_steps)
            The target, ``revenue``.
        spend : ndarray of shape (n_shops, C, n_steps)
            ``impressions * costs / 1000``.
        costs : ndarray of shape (C,)
            Cost per thousand impressions of each channel (positive).
        dates : DatetimeIndex of length n_steps
            Weekly dates.
        adjacency : ndarray of shape (n_shops, d, d), int
            ``[s, i, j] = 1`` means node i drives node j in shop s, over the
            nodes of X then the target; control -> target edges count.
        graph_type : ndarray of shape (n_shops,), int
        graph_types : ndarray of shape (n_graph_types, d, d), int
        contributions : ndarray of shape (n_shops, C, n_steps)
            Target minus the target re-simulated with that channel's
            impressions set to zero, same noise, through the funnel nodes.
        direct_contributions, mediated_contributions : ndarray of shape \
(n_shops, C, n_steps)
            The part with the funnel nodes held at their factual values, and
            the rest (``contributions - direct_contributions``).
        baseline : ndarray of shape (n_shops, n_steps)
            The target re-simulated with every channel at zero; ``y -
            baseline`` is the media part.
        trend, seasonality : ndarray of shape (n_shops, n_steps)
            Fractions of ``target_level``.
        shock : ndarray of shape (n_steps,)
            National shock, a fraction of ``target_level``.
        control_effects : ndarray of shape (n_shops, K, n_steps)
            Each control's effect on the target (target units).
        control_coef : ndarray of shape (n_shops, K, 2)
            Same-week and previous-week coefficients (fractions of the level
            per unit of the control).
        target_level : ndarray of shape (n_shops,)
        decay : ndarray of shape (n_shops, C)
            Geometric carryover rate of each channel.
        hill_alpha, hill_half_saturation, edge_weight : ndarray of shape \
(n_shops, d, d)
            Hill shape, half-saturation (relative to the shop's mean carried-over
            impressions) and weight of the media edges (NaN elsewhere);
            ``edge_weight`` also holds the funnel edges' weights.
        node_names, feature_names, media_names, funnel_names, control_names : \
list of str
        media_columns, funnel_columns, control_columns : list of int
            Positions of each role in the second axis of X.
        target_name : str
        frequency : str
            ``"W"``.
        simulate : callable
            ``simulate(spend)`` replays the panel with another spend plan of
            shape ``(n_shops, C, n_steps)`` and the same noise; returns a Bunch
            with ``X``, ``y``, ``spend``, ``impressions``.
        lift_tests : callable
            ``lift_tests(start, end, lift_se)`` gives one exact lift test per
            channel (spend raised by its mean over weeks ``start..end``), in
            the layout ``CausalMMMRegressor.fit(..., lift_tests=)`` reads.
        frame : DataFrame, only with ``as_frame=True``
            Long layout: ``shop_id``, ``date``, media, funnel, control columns,
            ``revenue``.
        DESCR : str

    See Also
    --------
    make_causal_mmm : The daily simulator.

    Examples
    --------
    >>> from sklearn_causalmmm.datasets import make_weekly_mmm
    >>> data = make_weekly_mmm(n_shops=4, n_steps=60, random_state=0)
    >>> data.X.shape, data.y.shape, data.adjacency.shape
    ((4, 14, 60), (4, 60), (4, 15, 15))
    >>> data.control_names
    ['holiday', 'price_index', 'temperature', 'competitor_activity']
    >>> import numpy as np
    >>> no_tv = data.spend.copy()
    >>> no_tv[:, 0] = 0.0
    >>> lift = data.y - data.simulate(no_tv).y
    >>> bool(np.allclose(lift, data.contributions[:, 0]))
    True
    """
    n_shops = _check_int(n_shops, "n_shops", 1)
    n_media = _check_int(n_channels, "n_channels", 1)
    n_funnel = _check_int(n_funnel, "n_funnel", 0)
    n_controls = _check_int(n_controls, "n_controls", 0)
    n_steps = _check_int(n_steps, "n_steps", 2)
    n_graph_types = _check_int(n_graph_types, "n_graph_types", 1)
    edge_density = _check_float(edge_density, "edge_density", 0.0, 1.0, low_open=True)
    max_lag = _check_int(max_lag, "max_lag", 0)
    effect_strength = _check_float(
        effect_strength, "effect_strength", 0.0, np.inf, high_open=True
    )
    seasonality = _check_float(seasonality, "seasonality", 0.0, 0.5)
    trend = _check_float(trend, "trend", 0.0, np.inf, high_open=True)
    n_changepoints = _check_int(n_changepoints, "n_changepoints", 0)
    shock_scale = _check_float(shock_scale, "shock_scale", 0.0, np.inf, high_open=True)
    noise_scale = _check_float(noise_scale, "noise_scale", 0.0, np.inf, high_open=True)
    noise_autocorrelation = _check_float(
        noise_autocorrelation, "noise_autocorrelation", 0.0, 1.0, high_open=True
    )
    try:
        start = pd.Timestamp(start_date)
    except (TypeError, ValueError):
        raise ValueError(
            f"start_date must be a date such as '2022-01-03', got {start_date!r}."
        ) from None
    if not isinstance(as_frame, bool | np.bool_):
        raise ValueError(f"as_frame must be a bool, got {as_frame!r}.")
    try:
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    except ValueError as exc:
        raise ValueError(f"random_state: {exc}") from None

    d = n_media + n_funnel + n_controls + 1
    # Long enough for carried-over media and funnel effects to have reached
    # the target before the first observed week.
    burn_in = max_lag + _FUNNEL_MAX_LAG * n_funnel + 1
    n_time = burn_in + n_steps
    dates_all = pd.date_range(
        start - pd.Timedelta(weeks=burn_in), periods=n_time, freq="7D"
    )
    dates = dates_all[burn_in:]
    weeks = np.arange(n_time, dtype=np.float64) - burn_in
    rng_graph, rng_shop, rng_media, rng_base, rng_control, rng_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )

    # Graphs.
    types = _draw_distinct_graphs(
        lambda: _draw_weekly_graph(
            rng_graph, n_media, n_funnel, n_controls, edge_density
        ),
        n_graph_types,
        d,
    )
    graph_type = rng_shop.permutation(np.arange(n_shops) % n_graph_types)
    adjacency = types[graph_type]

    # Shop sizes scale spend, funnel nodes and the target alike.
    size = np.exp(rng_shop.normal(0.0, _SIZE_SIGMA, size=n_shops))
    target_level = (
        _TARGET_LEVEL * size * np.exp(rng_shop.normal(0.0, _LEVEL_SIGMA, n_shops))
    )
    typical_funnel = np.array(
        list(_FUNNEL_LEVELS[:n_funnel])
        + [_OTHER_FUNNEL_LEVEL] * max(0, n_funnel - len(_FUNNEL_LEVELS))
    )
    funnel_level = (
        typical_funnel
        * size[:, None]
        * np.exp(rng_shop.normal(0.0, _LEVEL_SIGMA, (n_shops, n_funnel)))
    )

    # Media: spend flights, costs, impressions and response parameters.
    known = list(_MEDIA_CPM)[:n_media]
    typical_cpm = np.array(
        [_MEDIA_CPM[name] for name in known] + [_OTHER_CPM] * (n_media - len(known))
    )
    costs = typical_cpm * np.exp(rng_media.normal(0.0, _CPM_SIGMA, n_media))
    spend_level = (
        _SPEND_LEVEL
        * size[:, None]
        * np.exp(rng_media.normal(0.0, _SPEND_LEVEL_SIGMA, (n_shops, n_media)))
    )
    spend = _simulate_spend(
        rng_media,
        spend_level,
        n_time,
        p_start_range=_P_START_RANGE,
        p_stop_range=_P_STOP_RANGE,
        base_range=_BASE_RANGE,
        step_sigma=_WEEKLY_SPEND_SIGMA,
    )
    impressions = _impressions(spend, costs)
    channel_decay = rng_media.uniform(*_DECAY_RANGE, size=n_media)
    decay = np.clip(
        channel_decay + rng_media.normal(0.0, 0.05, (n_shops, n_media)), 0.05, 0.9
    )
    media_kernel = _geometric_kernel(decay, max_lag)
    funnel_decay = rng_media.uniform(*_FUNNEL_DECAY_RANGE, size=(n_shops, n_funnel))
    funnel_kernel = _geometric_kernel(funnel_decay, _FUNNEL_MAX_LAG)
    hill_alpha = rng_media.uniform(*_HILL_ALPHA_RANGE, size=(n_shops, d, d))
    hill_half = rng_media.uniform(*_HILL_HALF_RANGE, size=(n_shops, d, d))
    weight = _edge_weights(
        rng_media.uniform(0.5, 1.5, size=(n_shops, d, d)),
        adjacency,
        n_media,
        n_funnel,
        effect_strength,
    )

    # Baseline of the target: trend with changepoints, yearly seasonality and
    # a national shock shared by all shops.
    trend_path, changepoints = _trend(rng_base, n_shops, weeks, trend, n_changepoints)
    season = _yearly_cycle(rng_base, n_shops, dates_all, seasonality)
    shock = shock_scale * _ar1_noise(rng_base, (n_time,), _SHOCK_AUTOCORRELATION)

    # Controls act in the same week and the week after.
    control_names = _indexed_names(_CONTROL_NAMES, "control", n_controls)
    controls, control_coef = _controls(rng_control, control_names, n_shops, dates_all)
    previous = np.zeros_like(controls)
    previous[:, :, 1:] = controls[:, :, :-1]
    control_relative = (
        control_coef[:, :, :1] * controls + control_coef[:, :, 1:] * previous
    )

    noise = _ar1_noise(
        rng_noise, (n_shops, n_funnel + 1, n_time), noise_autocorrelation
    )
    funnel_sigma = _FUNNEL_NOISE_FACTOR * noise_scale
    funnel_organic = (
        funnel_level[:, :, None]
        * np.exp(funnel_sigma * noise[:, :-1] - 0.5 * funnel_sigma**2)
        * (1.0 + _FUNNEL_SEASON * season[:, None, :])
    )
    target_rest = (
        1.0
        + trend_path
        + season
        + shock
        + control_relative.sum(axis=1)
        + noise_scale * noise[:, -1]
    )

    media_names = _media_names(n_media)
    world = _WeeklyWorld(
        adjacency=adjacency,
        n_media=n_media,
        n_funnel=n_funnel,
        weight=weight,
        media_kernel=media_kernel,
        funnel_kernel=funnel_kernel,
        hill_alpha=hill_alpha,
        hill_half_saturation=hill_half,
        funnel_organic=funnel_organic,
        target_level=target_level,
        target_rest=target_rest,
        impressions=impressions,
        controls=controls,
        costs=costs,
        burn_in=burn_in,
        media_names=media_names,
        dates=dates,
    )
    funnel, target = world.run(impressions, set_scales=True)

    # Interventions act on the observed weeks; the weeks before the window
    # keep their factual media, as in ``simulate``.
    window = slice(burn_in, None)
    contributions = np.empty((n_shops, n_media, n_steps))
    direct = np.empty((n_shops, n_media, n_steps))
    for m in range(n_media):
        zeroed = impressions.copy()
        zeroed[:, m, window] = 0.0
        contributions[:, m] = (target - world.run(zeroed)[1])[:, window]
        direct[:, m] = (target - world.run(zeroed, funnel)[1])[:, window]
    no_media = impressions.copy()
    no_media[:, :, window] = 0.0
    baseline = world.run(no_media)[1][:, window]

    funnel_names = _indexed_names(_FUNNEL_NAMES, "funnel", n_funnel)
    feature_names = media_names + funnel_names + control_names
    X = np.concatenate(
        [impressions[:, :, window], funnel[:, :, window], controls[:, :, window]],
        axis=1,
    )
    y = np.ascontiguousarray(target[:, window])
    media_edge = np.zeros((d, d), dtype=bool)
    media_edge[:n_media] = True
    media_edge = adjacency & media_edge

    bunch = Bunch(
        X=X,
        y=y,
        spend=np.ascontiguousarray(spend[:, :, window]),
        costs=costs,
        dates=dates,
        adjacency=adjacency.astype(np.int64),
        graph_type=graph_type.astype(np.int64),
        graph_types=types.astype(np.int64),
        contributions=contributions,
        direct_contributions=direct,
        mediated_contributions=contributions - direct,
        baseline=baseline,
        trend=trend_path[:, window],
        seasonality=season[:, window],
        shock=shock[window],
        changepoints=dates[changepoints],
        control_effects=target_level[:, None, None] * control_relative[:, :, window],
        control_coef=control_coef,
        target_level=target_level,
        decay=decay,
        hill_alpha=np.where(media_edge, hill_alpha, np.nan),
        hill_half_saturation=np.where(media_edge, hill_half, np.nan),
        edge_weight=weight,
        node_names=feature_names + [_TARGET_NAME],
        feature_names=feature_names,
        media_names=media_names,
        funnel_names=funnel_names,
        control_names=control_names,
        media_columns=list(range(n_media)),
        funnel_columns=list(range(n_media, n_media + n_funnel)),
        control_columns=list(range(n_media + n_funnel, d - 1)),
        target_name=_TARGET_NAME,
        frequency="W",
        simulate=world.simulate,
        lift_tests=world.lift_tests,
        DESCR=_describe(n_shops, n_steps, n_media, n_funnel, n_controls, dates),
    )
    if as_frame:
        bunch.frame = _long_frame(
            X,
            y,
            np.empty((n_shops, 0)),
            feature_names,
            [],
            dates=dates,
            target_name=_TARGET_NAME,
        )
    return bunch


def _edge_weights(
    raw: np.ndarray,
    adjacency: np.ndarray,
    n_media: int,
    n_funnel: int,
    effect_strength: float,
) -> np.ndarray:
    """Edge weights, normalised so each node's media and funnel inputs sum to a gain.

    NaN where there is no weighted edge (controls have coefficients instead).
    """
    n_shops, d, _ = raw.shape
    media = slice(0, n_media)
    funnel = slice(n_media, n_media + n_funnel)
    weight = np.full((n_shops, d, d), np.nan)
    for j in [*range(n_media, n_media + n_funnel), d - 1]:
        media_gain = _MEDIA_GAIN_TARGET if j == d - 1 else _MEDIA_GAIN_FUNNEL
        for rows, gain in (
            (media, effect_strength * media_gain),
            (funnel, _FUNNEL_GAIN),
        ):
            edges = adjacency[:, rows, j]
            masked = raw[:, rows, j] * edges
            total = masked.sum(axis=1, keepdims=True)
            share = np.divide(masked, total, out=np.zeros_like(masked), where=total > 0)
            weight[:, rows, j] = np.where(edges, gain * share, np.nan)
    return weight


def _trend(
    rng: np.random.Generator,
    n_shops: int,
    weeks: np.ndarray,
    scale: float,
    n_changepoints: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise linear trend per shop (fraction of the level), and its kinks.

    The changepoints are weeks of the observed window shared by all shops;
    slopes (per year) and their changes are per shop. A path whose largest
    excursion exceeds ``_TREND_CAP`` is scaled down to it.
    """
    n_steps = int(weeks[-1]) + 1
    kinks = np.sort(
        np.floor(rng.uniform(0.15, 0.85, n_changepoints) * n_steps).astype(np.int64)
    )
    slope = rng.normal(0.0, scale, n_shops)
    changes = rng.normal(0.0, scale, (n_shops, n_changepoints))
    path = slope[:, None] * weeks / _WEEKS_PER_YEAR
    for c, kink in enumerate(kinks):
        path += changes[:, c, None] * np.maximum(weeks - kink, 0.0) / _WEEKS_PER_YEAR
    peak = np.abs(path).max(axis=1, keepdims=True)
    path *= np.minimum(1.0, _TREND_CAP / np.maximum(peak, 1e-300))
    return path, kinks


def _yearly_cycle(
    rng: np.random.Generator,
    n_shops: int,
    dates: pd.DatetimeIndex,
    amplitude: float,
) -> np.ndarray:
    """Two yearly Fourier harmonics, national shape, per-shop amplitude and phase.

    The national shape is scaled to a largest absolute value of 1; shop ``s``
    multiplies it by ``amplitude * exp(N(0, 0.25^2))`` and shifts it by
    ``N(0, 1.5^2)`` weeks.
    """
    coef = rng.normal(size=(2, 2))
    shop_amplitude = amplitude * np.exp(rng.normal(0.0, 0.25, n_shops))
    shift = rng.normal(0.0, 1.5, n_shops)

    def shape(angle: np.ndarray) -> np.ndarray:
        return sum(
            coef[h, 0] * np.cos((h + 1) * angle) + coef[h, 1] * np.sin((h + 1) * angle)
            for h in range(2)
        )

    peak = np.abs(shape(np.linspace(0.0, 2.0 * np.pi, 1000))).max()
    position = (dates.dayofyear.to_numpy() - 1) / 7.0
    angle = 2.0 * np.pi * (position[None, :] + shift[:, None]) / _WEEKS_PER_YEAR
    return shop_amplitude[:, None] * shape(angle) / peak


def _controls(
    rng: np.random.Generator,
    names: list[str],
    n_shops: int,
    dates: pd.DatetimeIndex,
) -> tuple[np.ndarray, np.ndarray]:
    """Control series ``(n_shops, K, n_time)`` and coefficients ``(n_shops, K, 2)``.

    ``holiday`` marks the event weeks (0/1, all shops); ``price_index`` mixes a
    national and a local AR(1); ``temperature`` is a yearly cycle (peak in
    mid-July) plus local AR(1) weather; ``competitor_activity`` and further
    controls are AR(1). All but ``holiday`` are zero-mean and signed.
    """
    n_time = len(dates)
    controls = np.empty((n_shops, len(names), n_time))
    coef = np.empty((n_shops, len(names), 2))
    for k, name in enumerate(names):
        if name == "holiday":
            controls[:, k] = _event_weeks(dates)
        elif name == "price_index":
            controls[:, k] = 0.6 * _ar1_noise(rng, (n_time,), 0.9) + 0.8 * _ar1_noise(
                rng, (n_shops, n_time), 0.8
            )
        elif name == "temperature":
            day = dates.dayofyear.to_numpy()
            controls[:, k] = np.cos(2.0 * np.pi * (day - 196) / 365.25) + 0.5 * (
                _ar1_noise(rng, (n_shops, n_time), 0.6)
            )
        elif name == "competitor_activity":
            controls[:, k] = _ar1_noise(rng, (n_shops, n_time), 0.7)
        else:
            controls[:, k] = _ar1_noise(rng, (n_shops, n_time), rng.uniform(0.3, 0.9))
        magnitude, sign, lag_ratio = _CONTROL_EFFECTS.get(name, _OTHER_CONTROL_EFFECT)
        if sign == 0.0:
            sign = rng.choice([-1.0, 1.0])
        coef[:, k, 0] = sign * rng.uniform(*magnitude, n_shops)
        coef[:, k, 1] = rng.uniform(*lag_ratio, n_shops) * coef[:, k, 0]
    return controls, coef


def _describe(
    n_shops: int,
    n_steps: int,
    n_media: int,
    n_funnel: int,
    n_controls: int,
    dates: pd.DatetimeIndex,
) -> str:
    return (
        "Synthetic weekly marketing mix panel\n"
        "------------------------------------\n\n"
        f"{n_shops} shops, {n_steps} weeks from {dates[0].date()}, {n_media} media "
        f"channels (impressions), {n_funnel} funnel nodes, {n_controls} controls "
        f"and {_TARGET_NAME}.\n"
        "Baseline: trend with changepoints, yearly seasonality, holidays, signed "
        "controls and a national shock. Media act through geometric carryover "
        "and Hill saturation, directly and through the funnel nodes.\n"
        "Ground truth: per-shop adjacency over all nodes (control -> target edges "
        "count), baseline, total / direct / mediated contribution of every "
        "channel; simulate(spend) replays a spend plan with the same noise.\n"
        "Recipe and formulas: docs/simulator.md."
    )

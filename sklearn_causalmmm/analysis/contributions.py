"""Channel contributions: how much forecast target each channel's plan brings.

A contribution compares the model's forecast for the plan with its forecast
when channels are switched off (value 0 over the whole plan), through the
regressor's public ``predict``. In every forecast the **funnel nodes** the
model declares (``funnel_columns``: page views, search volume, ...) are
forecast by the model, so they respond to the channel's change: a channel's
contribution counts what it does through them (brand -> search volume ->
revenue) as well as its own edge into the target. Each contribution is split
into

* ``direct``: the forecast lost when the channel is off and the funnel nodes
  are held at their forecast under the plan as given (the factual forecast);
* ``mediated``: the rest, what the channel brings through the funnel nodes'
  response; ``direct + mediated == contribution`` exactly.

Two ways of sharing the target among channels:

* ``"removal"`` (default): the forecast lost when the channel alone is
  switched off, ``v(C) - v(C \\ {c})``. It costs ``k + 1`` forecasts for
  ``k`` channels, so it serves the 10-20 channels of a real plan, and it is
  what a hold-out experiment (a lift test that pauses one channel) measures.
  When channels interact the contributions need not add up to the plan's
  target minus the base.
* ``"shapley"``: the Shapley value,

  .. math::

      \\phi_c = \\sum_{S \\subseteq C \\setminus \\{c\\}}
          \\frac{|S|!\\,(k - |S| - 1)!}{k!} \\bigl(v(S \\cup \\{c\\}) - v(S)\\bigr),

  where :math:`v(S)` is the shop's total forecast over the plan with only the
  channels in :math:`S` as planned and the others off. The contributions of a
  shop add up to :math:`v(C) - v(\\emptyset)`, the forecast of the plan minus
  the forecast without any advertising (the *base*), but it needs ``2**k``
  forecasts: at most :data:`MAX_SHAPLEY_CHANNELS` channels.

Intervals come from the model's joint forecast draws (``predict_samples``):
draw ``i`` of the plan and draw ``i`` of each counterfactual share their
randomness (graphs, response coefficients, errors), so a contribution's draws
are paired differences, and its interval is their central ``coverage``
quantiles, widened if needed to hold the point value.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from sklearn_causalmmm.analysis._scenarios import ScenarioPlan
from sklearn_causalmmm.analysis._spend_plan import channel_costs

__all__ = [
    "MAX_SHAPLEY_CHANNELS",
    "channel_contributions",
    "contribution_table",
    "top_channels",
]

#: Exact Shapley values forecast the plan for each of the 2**k subsets of the
#: k channels; beyond this many channels use ``method="removal"``.
MAX_SHAPLEY_CHANNELS = 10

#: Relative increase of a channel's plan that measures its marginal ROI: small
#: against a response curve's bend, large against float32 forecasts.
MARGINAL_STEP = 0.01


def funnel_columns(model) -> list[str]:
    """The model's funnel nodes (forecast in a plan), by name; [] without roles."""
    names = getattr(model, "node_names_", None)
    roles = getattr(model, "node_roles_", None)
    if names is None or roles is None:
        return []
    return [str(n) for n, r in zip(names, roles, strict=False) if r == "funnel"]


class _Game:
    """The total forecast of each shop for any subset of channels switched on.

    ``value(on)`` returns the point totals ``(n_shops,)`` and, with
    ``n_samples``, the paired draws ``(n_samples, n_shops)`` (else None).
    """

    def __init__(self, model, plan, channels, n_samples, seed):
        self.scenarios = ScenarioPlan(model, plan, channels)
        self.model = model
        self.n_samples = n_samples
        self.seed = seed

    def value(self, factors) -> tuple[np.ndarray, np.ndarray | None]:
        scenarios = self.scenarios
        plan = scenarios.scaled(factors)
        point = scenarios._per_shop(
            np.asarray(self.model.predict(plan), dtype=np.float64).reshape(-1)
        )
        if not self.n_samples:
            return point, None
        draws = np.asarray(
            self.model.predict_samples(
                plan, n_samples=self.n_samples, random_state=self.seed
            ),
            dtype=np.float64,
        ).reshape(self.n_samples, -1)
        return point, scenarios._per_shop(draws.T).T


def channel_contributions(
    model,
    X_plan: pd.DataFrame,
    channels: Sequence[str],
    *,
    method: str = "removal",
    costs: Mapping[str, float] | str | None = None,
    coverage: float = 0.8,
    n_samples: int = 100,
    random_state=0,
) -> pd.DataFrame:
    """Forecast target each channel's plan brings, per shop, direct and mediated.

    Parameters
    ----------
    model : fitted regressor
        Any regressor of the package's forecasting contract (e.g.
        :class:`~sklearn_causalmmm.CausalMMMRegressor`) fitted on the plan's
        shops. ``predict`` forecasts every scenario; ``predict_samples``, when
        the model has it, gives the intervals; ``node_names_`` and
        ``node_roles_``, when it has them, name its funnel nodes.
    X_plan : DataFrame
        A plan ``model.predict`` accepts: long layout (shop column named by
        ``model.shop_column``) or a ``(shop, time)`` MultiIndex. It needs only
        the media and control columns: the model's funnel nodes are forecast
        in every scenario (a funnel column of the plan is not read). Other
        columns not in ``channels`` keep their planned values. Never modified.
    channels : sequence of str
        Columns of ``X_plan`` whose contributions are computed.
    method : {"removal", "shapley"}, default="removal"
        ``"removal"``: the forecast lost when the channel alone is switched
        off (``k + 1`` forecasts for ``k`` channels; the contributions need
        not add up when channels interact). ``"shapley"``: exact Shapley
        values (``2**k`` forecasts, at most :data:`MAX_SHAPLEY_CHANNELS`
        channels; a shop's contributions add up to its forecast of the plan
        minus the base). See the module's description.
    costs : mapping of str to float, or "money", default=None
        Money per unit of each channel's column (1.0 for spend, the cost per
        thousand / 1000 for impressions), or ``"money"`` when every column is
        spend in one currency, as for
        :func:`~sklearn_causalmmm.analysis.budget.optimize_budget`. None: ROI
        is per unit of the channel's own column.
    coverage : float, default=0.8
        Probability of the intervals of ``contribution`` and ``roi``, in (0, 1).
    n_samples : int, default=100
        Joint forecast draws per scenario for the intervals (0: no
        intervals). Models without ``predict_samples`` get none either.
    random_state : int, RandomState instance or None, default=0
        Seeds the draws, shared by every scenario so that they are paired;
        fixed by default so that a plan's intervals are the same every time.

    Returns
    -------
    contributions : DataFrame
        Index: ``(shop, channel)``, shops in order of first appearance in
        ``X_plan``. Columns:

        - ``spend``: the channel's planned value summed over the plan;
        - ``cost``: ``spend`` times the channel's cost per unit (``spend``
          itself without ``costs``);
        - ``contribution``: forecast target over the plan (the total),
          ``contribution_lower`` and ``contribution_upper`` its interval (NaN
          without draws);
        - ``direct`` and ``mediated``: the parts with the funnel nodes held
          at their factual forecast and through their response (``direct +
          mediated == contribution``; ``mediated`` is 0 without funnel nodes);
        - ``share``: contribution / the shop's forecast target of the plan;
        - ``roi``: contribution per unit of cost (NaN without spend),
          ``roi_lower`` and ``roi_upper`` its interval;
        - ``marginal_roi``: the extra forecast target per extra unit of cost
          when the channel's plan grows by :data:`MARGINAL_STEP` (1 %).

        The frame's ``attrs`` hold ``"gmv"`` (dict of shop to its forecast
        target of the plan), ``"base"`` (the same with every channel off),
        ``"method"``, ``"coverage"`` and ``"funnel"`` (the funnel nodes
        forecast in every scenario).

    Raises
    ------
    ValueError
        If a channel is not a column of ``X_plan`` or is a funnel node,
        ``method`` is unknown, more than :data:`MAX_SHAPLEY_CHANNELS`
        channels ask for Shapley values, or ``costs``, ``coverage`` or
        ``n_samples`` is invalid.

    See Also
    --------
    sklearn_causalmmm.analysis.response.response_curves :
        The forecast as one channel's spend is scaled.
    sklearn_causalmmm.analysis.budget.optimize_budget :
        Reallocate each shop's budget across channels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.analysis.contributions import channel_contributions
    >>> from sklearn_causalmmm.datasets import make_weekly_mmm
    >>> data = make_weekly_mmm(
    ...     n_shops=3, n_channels=2, n_steps=40, as_frame=True, random_state=0)
    >>> frame = data.frame
    >>> past = frame[frame["date"] < frame["date"].unique()[32]]
    >>> plan = frame.loc[frame["date"] >= frame["date"].unique()[32],
    ...                  ["shop_id", "date", *data.media_names, *data.control_names]]
    >>> model = CausalMMMRegressor(
    ...     hidden=4, max_epochs=1, funnel_columns=data.funnel_names,
    ...     control_columns=data.control_names, random_state=0,
    ... ).fit(past.drop(columns="revenue"), past["revenue"])
    >>> costs = dict(zip(data.media_names, data.costs / 1000))
    >>> contributions = channel_contributions(
    ...     model, plan, data.media_names, costs=costs, n_samples=20)
    >>> contributions.attrs["funnel"]  # forecast in every scenario
    ['search_volume', 'site_visits']
    >>> parts = contributions["direct"] + contributions["mediated"]
    >>> bool(np.allclose(parts, contributions["contribution"]))
    True
    >>> inside = contributions["contribution"].between(
    ...     contributions["contribution_lower"], contributions["contribution_upper"])
    >>> bool(inside.all())
    True
    """
    if method not in ("shapley", "removal"):
        raise ValueError(f"method must be 'removal' or 'shapley', got {method!r}.")
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must lie in (0, 1), got {coverage!r}.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise TypeError(f"n_samples must be an int, got {n_samples!r}.")
    if n_samples < 0 or n_samples == 1:
        raise ValueError(
            f"n_samples must be 0 (no intervals) or >= 2, got {n_samples}."
        )
    if not isinstance(X_plan, pd.DataFrame):
        raise TypeError(
            "X_plan must be a DataFrame (long or (shop, time) MultiIndex), "
            f"got {type(X_plan).__name__}."
        )
    channels = list(channels)
    funnel = funnel_columns(model)
    mediators = [c for c in channels if c in funnel]
    if mediators:
        raise ValueError(
            f"channels {mediators} are funnel nodes of the model, which it "
            "forecasts in every scenario; pass media or control columns."
        )
    # the funnel nodes respond to the channels: the model forecasts them
    plan = X_plan.drop(columns=[c for c in funnel if c in X_plan.columns])
    unit_costs = np.ones(len(channels)) if costs is None else None
    if costs is not None:
        unit_costs = channel_costs(channels, costs)
    k = len(channels)
    if method == "shapley" and k > MAX_SHAPLEY_CHANNELS:
        raise ValueError(
            f"exact Shapley values over {k} channels need 2**{k} forecasts; "
            f"pass at most {MAX_SHAPLEY_CHANNELS} channels or method='removal'."
        )
    if not hasattr(model, "predict_samples"):
        n_samples = 0
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    total = _Game(model, plan, channels, n_samples, seed)
    if funnel:
        # the funnel nodes held at their forecast under the plan as given
        factual = model.rollout(plan)
        held = plan.assign(
            **{name: np.asarray(factual[name], dtype=np.float64) for name in funnel}
        )
        direct_game = _Game(model, held, channels, 0, seed)
    everything = total.value(np.ones(k))
    shares, base = _shares(total, k, method, everything)
    if funnel:
        direct, _ = _shares(direct_game, k, method, direct_game.value(np.ones(k)))
        direct = direct[0]
    else:
        direct = shares[0]
    values, draws = shares
    gmv_point = everything[0]

    spend = total.scenarios.spend
    cost = spend * unit_costs[None]
    marginal = np.empty_like(values)
    for c in range(k):
        factors = np.ones(k)
        factors[c] += MARGINAL_STEP
        grown = _point(total, factors)
        with np.errstate(divide="ignore", invalid="ignore"):
            marginal[:, c] = np.where(
                cost[:, c] > 0,
                (grown - gmv_point) / (MARGINAL_STEP * cost[:, c]),
                np.nan,
            )
    lower = upper = np.full_like(values, np.nan)
    if draws is not None:
        tail = (1.0 - coverage) / 2.0
        lower, upper = np.quantile(draws, [tail, 1.0 - tail], axis=0)
        lower, upper = np.minimum(lower, values), np.maximum(upper, values)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = values / gmv_point[:, None]
        has_cost = cost > 0
        roi, roi_lower, roi_upper = (
            np.where(has_cost, v / cost, np.nan) for v in (values, lower, upper)
        )
    index = pd.MultiIndex.from_product(
        [total.scenarios.shops, channels], names=["shop", "channel"]
    )
    columns = {
        "spend": spend,
        "cost": cost,
        "contribution": values,
        "contribution_lower": lower,
        "contribution_upper": upper,
        "direct": direct,
        "mediated": values - direct,
        "share": share,
        "roi": roi,
        "roi_lower": roi_lower,
        "roi_upper": roi_upper,
        "marginal_roi": marginal,
    }
    result = pd.DataFrame({k_: v.ravel() for k_, v in columns.items()}, index=index)
    shops = total.scenarios.shops
    # Plain dicts rather than Series: pandas compares attrs when frames are
    # concatenated, and Series there cannot be compared.
    result.attrs = {
        "gmv": dict(zip(shops, gmv_point.tolist(), strict=True)),
        "base": dict(zip(shops, base.tolist(), strict=True)),
        "method": method,
        "coverage": float(coverage),
        "funnel": funnel,
    }
    return result


def _point(game: _Game, factors) -> np.ndarray:
    """The point totals of a scenario, without draws."""
    scenarios = game.scenarios
    return scenarios._per_shop(
        np.asarray(game.model.predict(scenarios.scaled(factors)), np.float64).reshape(
            -1
        )
    )


def _shares(game: _Game, k: int, method: str, everything):
    """Each channel's share of a game: ``((values, draws), base point)``.

    ``values`` ``(n_shops, k)``; ``draws`` ``(n_samples, n_shops, k)`` or None.
    """

    def value(on):
        mask = np.zeros(k)
        mask[list(on)] = 1.0
        return game.value(mask)

    point_all, draws_all = everything
    with_draws = draws_all is not None
    n_shops = point_all.shape[0]
    values = np.zeros((n_shops, k))
    draws = np.zeros((*draws_all.shape, k)) if with_draws else None
    if method == "removal":
        for c in range(k):
            point, sample = value([j for j in range(k) if j != c])
            values[:, c] = point_all - point
            if with_draws:
                draws[..., c] = draws_all - sample
        base = value(())[0]
        return (values, draws), base
    coalition = {tuple(range(k)): everything, (): value(())}
    for size in range(1, k):
        for members in combinations(range(k), size):
            coalition[members] = value(members)
    for members, (point_with, sample_with) in coalition.items():
        size = len(members)
        if size == 0:
            continue
        # the marginal gain of each member c over the coalition without it
        weight = factorial(size - 1) * factorial(k - size) / factorial(k)
        for c in members:
            point_without, sample_without = coalition[
                tuple(m for m in members if m != c)
            ]
            values[:, c] += weight * (point_with - point_without)
            if with_draws:
                draws[..., c] += weight * (sample_with - sample_without)
    return (values, draws), coalition[()][0]


def contribution_table(contributions: pd.DataFrame) -> pd.DataFrame:
    """Each shop's forecast GMV split into the base and each channel's part.

    Parameters
    ----------
    contributions : DataFrame
        As returned by
        :func:`~sklearn_causalmmm.analysis.contributions.channel_contributions`.

    Returns
    -------
    table : DataFrame
        Index: shops; columns: ``"base"`` (forecast without advertising)
        followed by the channels. With Shapley contributions a row adds up
        to the shop's forecast GMV of the plan.

    Raises
    ------
    ValueError
        If ``contributions`` is not a frame of :func:`channel_contributions`
        (no ``(shop, channel)`` MultiIndex, ``contribution`` column or
        ``attrs["base"]``).
    """
    if not isinstance(contributions.index, pd.MultiIndex) or (
        "contribution" not in contributions.columns
    ):
        raise ValueError(
            "contributions must have a (shop, channel) MultiIndex and a "
            "'contribution' column, as channel_contributions returns."
        )
    if "base" not in contributions.attrs:
        raise ValueError(
            "contributions.attrs has no 'base'; pass the frame returned by "
            "channel_contributions."
        )
    parts = contributions["contribution"].unstack(level=1)
    shops = list(contributions.index.get_level_values(0).unique())
    channels = list(contributions.index.get_level_values(1).unique())
    parts = parts.loc[shops, channels]
    base = [contributions.attrs["base"][shop] for shop in shops]
    return pd.concat([pd.DataFrame({"base": base}, index=parts.index), parts], axis=1)


def top_channels(
    contributions: pd.DataFrame, groups: Mapping[Hashable, Hashable] | None = None
) -> pd.DataFrame:
    """Channels ranked by their contribution summed over shops (or shop groups).

    Parameters
    ----------
    contributions : DataFrame
        As returned by :func:`channel_contributions`.
    groups : mapping of shop to group, default=None
        Each shop's group (shop type, region, brand): the sums are then per
        group and channel. Every shop of ``contributions`` needs a group.

    Returns
    -------
    ranking : DataFrame
        Index: channel, largest total contribution first (with ``groups``:
        ``(group, channel)``, groups in order of first appearance, channels
        ranked within each). Columns: the sums of ``spend``, ``cost`` (when
        present) and ``contribution`` (and of ``direct``, ``mediated`` and the
        interval bounds when present: the bounds of a sum add up, which
        assumes the shops' errors go together, a conservative interval),
        ``share`` (of the shops' total forecast target) and ``roi`` (total
        contribution / total cost, NaN without cost), with ``roi_lower`` and
        ``roi_upper`` when the bounds are present.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm.analysis.contributions import top_channels
    >>> index = pd.MultiIndex.from_product([["a", "b"], ["tv", "search"]],
    ...                                    names=["shop", "channel"])
    >>> contributions = pd.DataFrame(
    ...     {"spend": [2.0, 1.0, 2.0, 3.0], "contribution": [3.0, 1.0, 2.0, 5.0]},
    ...     index=index)
    >>> contributions.attrs["gmv"] = {"a": 10.0, "b": 10.0}
    >>> top_channels(contributions)
             spend  contribution  share   roi
    channel
    search     4.0           6.0   0.30  1.50
    tv         4.0           5.0   0.25  1.25
    >>> top_channels(contributions, groups={"a": "small", "b": "large"})
                   spend  contribution  share       roi
    group channel
    small tv         2.0           3.0    0.3  1.500000
          search     1.0           1.0    0.1  1.000000
    large search     3.0           5.0    0.5  1.666667
          tv         2.0           2.0    0.2  1.000000
    """
    if "gmv" not in contributions.attrs:
        raise ValueError(
            "contributions.attrs has no 'gmv'; pass the frame returned by "
            "channel_contributions."
        )
    summed = [
        c
        for c in (
            "spend",
            "cost",
            "contribution",
            "contribution_lower",
            "contribution_upper",
            "direct",
            "mediated",
        )
        if c in contributions.columns
    ]
    shops = contributions.index.get_level_values(0)
    gmv = contributions.attrs["gmv"]
    if groups is None:
        keys = [contributions.index.get_level_values(1)]
        names = ["channel"]
        denominators = None
    else:
        if not isinstance(groups, Mapping):
            raise TypeError(f"groups must be a mapping, got {type(groups).__name__}.")
        missing = [shop for shop in pd.unique(shops) if shop not in groups]
        if missing:
            raise ValueError(
                f"groups has no group for shop(s) {missing[:5]}; map every shop "
                "of contributions to its group."
            )
        group_of_row = pd.Index([groups[shop] for shop in shops], name="group")
        keys = [group_of_row, contributions.index.get_level_values(1)]
        names = ["group", "channel"]
        denominators = {}
        for shop in pd.unique(shops):
            denominators[groups[shop]] = denominators.get(groups[shop], 0.0) + gmv[shop]
    # min_count: bounds that are all NaN (no draws) stay NaN
    totals = contributions[summed].groupby(keys, sort=False).sum(min_count=1)
    totals.index.names = names
    if denominators is None:
        totals["share"] = totals["contribution"] / sum(gmv.values())
    else:
        totals["share"] = totals["contribution"] / np.array(
            [denominators[g] for g in totals.index.get_level_values(0)]
        )
    cost = totals["cost" if "cost" in totals.columns else "spend"]
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, source in (
            ("roi", "contribution"),
            ("roi_lower", "contribution_lower"),
            ("roi_upper", "contribution_upper"),
        ):
            if source in totals.columns:
                totals[name] = np.where(cost > 0, totals[source] / cost, np.nan)
    if groups is None:
        return totals.sort_values("contribution", ascending=False, kind="stable")
    order = {g: n for n, g in enumerate(pd.unique(totals.index.get_level_values(0)))}
    rank = totals.assign(
        _group=[order[g] for g in totals.index.get_level_values(0)],
        _neg=-totals["contribution"],
    )
    rank = rank.sort_values(["_group", "_neg"], kind="stable")
    return rank.drop(columns=["_group", "_neg"])

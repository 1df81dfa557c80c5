"""Channel contributions: how much forecast GMV each channel's plan brings.

A contribution compares the model's forecast for the plan with its forecast
when channels are switched off (spend 0 over the whole plan), through the
regressor's public ``predict`` only. Because carryover, saturation and the
causal graph make the response non-additive, "switch one channel off" does not
split the GMV the channels bring together; the Shapley value does:

.. math::

    \\phi_c = \\sum_{S \\subseteq C \\setminus \\{c\\}}
        \\frac{|S|!\\,(k - |S| - 1)!}{k!} \\bigl(v(S \\cup \\{c\\}) - v(S)\\bigr),

where :math:`v(S)` is the shop's total forecast GMV over the plan with only
the channels in :math:`S` as planned and the other ones off, and :math:`k` the
number of channels. The contributions of a shop add up to
:math:`v(C) - v(\\emptyset)`, the GMV of the plan minus the forecast without
any advertising (the *base*).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

from sklearn_causalmmm.analysis._scenarios import ScenarioPlan

__all__ = [
    "MAX_SHAPLEY_CHANNELS",
    "channel_contributions",
    "contribution_table",
    "top_channels",
]

#: Exact Shapley values forecast the plan for each of the 2**k subsets of the
#: k channels; beyond this many channels use ``method="removal"``.
MAX_SHAPLEY_CHANNELS = 10


def channel_contributions(
    model,
    X_plan: pd.DataFrame,
    channels: Sequence[str],
    *,
    method: str = "shapley",
) -> pd.DataFrame:
    """Forecast GMV each channel's plan brings, per shop.

    Parameters
    ----------
    model : fitted regressor
        Any regressor of the package's forecasting contract (e.g.
        :class:`~sklearn_causalmmm.CausalMMMRegressor`) fitted on the plan's
        shops; only its ``predict`` is called.
    X_plan : DataFrame
        A channel plan ``model.predict`` accepts: long layout (shop column
        named by ``model.shop_column``) or a ``(shop, time)`` MultiIndex.
        Columns not in ``channels`` (funnel nodes, other channels) keep their
        planned values in every scenario.
    channels : sequence of str
        Columns of ``X_plan`` whose contributions are computed.
    method : {"shapley", "removal"}, default="shapley"
        ``"shapley"``: exact Shapley values over ``channels`` (``2**k``
        forecasts of the plan; the contributions add up to the plan's GMV
        minus the base). ``"removal"``: the forecast lost when the channel
        alone is switched off (``k + 1`` forecasts; the contributions do not
        add up when channels interact).

    Returns
    -------
    contributions : DataFrame
        Index: ``(shop, channel)``, shops in order of first appearance in
        ``X_plan``. Columns: ``spend`` (the channel's planned spend summed
        over the plan), ``contribution`` (forecast GMV over the plan),
        ``share`` (contribution / the shop's forecast GMV of the plan) and
        ``roi`` (contribution per unit of spend, NaN without spend). The
        frame's ``attrs`` hold ``"gmv"`` (dict of shop to its forecast GMV
        of the plan), ``"base"`` (the same with every channel off) and
        ``"method"``.

    Raises
    ------
    ValueError
        If a channel is not a column of ``X_plan``, ``method`` is unknown,
        or more than :data:`MAX_SHAPLEY_CHANNELS` channels ask for Shapley
        values.

    See Also
    --------
    sklearn_causalmmm.analysis.response.response_curves :
        The forecast as one channel's spend is scaled.
    sklearn_causalmmm.analysis.budget.optimize_budget :
        Reallocate each shop's budget across channels.

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.analysis.contributions import channel_contributions
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> frame = make_causal_mmm(
    ...     n_shops=3, n_steps=40, as_frame=True, random_state=0).frame
    >>> past = frame[frame["date"] < "2024-02-03"]
    >>> plan = frame[frame["date"] >= "2024-02-03"].drop(columns="gmv")
    >>> model = CausalMMMRegressor(
    ...     hidden=4, max_epochs=1, context_columns=["context_0", "context_1"],
    ...     random_state=0).fit(past.drop(columns="gmv"), past["gmv"])
    >>> contributions = channel_contributions(model, plan, ["search", "display"])
    >>> list(contributions.columns)
    ['spend', 'contribution', 'share', 'roi']
    >>> # Shapley values add up to the plan's GMV minus the base, per shop.
    >>> added = contributions["contribution"].groupby(level="shop").sum()
    >>> gmv, base = (pd.Series(contributions.attrs[k]) for k in ("gmv", "base"))
    >>> bool(abs(added - (gmv - base)).max() < 1e-6 * gmv.max())
    True
    """
    if method not in ("shapley", "removal"):
        raise ValueError(f"method must be 'shapley' or 'removal', got {method!r}.")
    scenarios = ScenarioPlan(model, X_plan, channels)
    k = len(scenarios.channels)
    if method == "shapley" and k > MAX_SHAPLEY_CHANNELS:
        raise ValueError(
            f"exact Shapley values over {k} channels need 2**{k} forecasts; "
            f"pass at most {MAX_SHAPLEY_CHANNELS} channels or method='removal'."
        )

    def value(on: Sequence[int]) -> np.ndarray:
        """Total GMV per shop with only the channels ``on`` as planned."""
        mask = np.zeros(k)
        mask[list(on)] = 1.0
        return scenarios.total_gmv(mask)

    everything = value(range(k))
    base = value(())
    if method == "removal":
        values = np.column_stack(
            [everything - value([j for j in range(k) if j != c]) for c in range(k)]
        )
    else:
        coalition = {(): base, tuple(range(k)): everything}
        for size in range(1, k):
            for members in combinations(range(k), size):
                coalition[members] = value(members)
        values = np.zeros((scenarios.n_shops, k))
        for members, gmv_with in coalition.items():
            size = len(members)
            if size == 0:
                continue
            # the marginal gain of each member c over the coalition without it
            weight = factorial(size - 1) * factorial(k - size) / factorial(k)
            for c in members:
                without = tuple(m for m in members if m != c)
                values[:, c] += weight * (gmv_with - coalition[without])

    spend = scenarios.spend
    gmv = np.repeat(everything, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = values.ravel() / gmv
        roi = np.where(spend.ravel() > 0, values.ravel() / spend.ravel(), np.nan)
    index = pd.MultiIndex.from_product(
        [scenarios.shops, scenarios.channels], names=["shop", "channel"]
    )
    result = pd.DataFrame(
        {
            "spend": spend.ravel(),
            "contribution": values.ravel(),
            "share": share,
            "roi": roi,
        },
        index=index,
    )
    # Plain dicts rather than Series: pandas compares attrs when frames are
    # concatenated, and Series there cannot be compared.
    result.attrs = {
        "gmv": dict(zip(scenarios.shops, everything.tolist(), strict=True)),
        "base": dict(zip(scenarios.shops, base.tolist(), strict=True)),
        "method": method,
    }
    return result


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


def top_channels(contributions: pd.DataFrame) -> pd.DataFrame:
    """Channels ranked by their contribution summed over shops.

    Parameters
    ----------
    contributions : DataFrame
        As returned by :func:`channel_contributions`.

    Returns
    -------
    ranking : DataFrame
        Index: channel, largest total contribution first. Columns: ``spend``
        and ``contribution`` (sums over shops), ``share`` (of the shops'
        total forecast GMV) and ``roi`` (total contribution / total spend,
        NaN without spend).

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
    """
    if "gmv" not in contributions.attrs:
        raise ValueError(
            "contributions.attrs has no 'gmv'; pass the frame returned by "
            "channel_contributions."
        )
    totals = contributions.groupby(level=1, sort=False)[["spend", "contribution"]].sum()
    totals.index.name = "channel"
    totals["share"] = totals["contribution"] / sum(contributions.attrs["gmv"].values())
    with np.errstate(divide="ignore", invalid="ignore"):
        totals["roi"] = np.where(
            totals["spend"] > 0, totals["contribution"] / totals["spend"], np.nan
        )
    return totals.sort_values("contribution", ascending=False, kind="stable")

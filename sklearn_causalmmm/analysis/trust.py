"""Can the numbers be acted on? Checks a user should read before the advice.

A forecast, a causal graph and a budget recommendation are only as good as
the evidence behind them. Each function here turns one piece of that evidence
into a verdict, ``"ok"`` or ``"warning"`` (``"n/a"`` when the evidence is
missing), with a sentence that says what it means:

- :func:`check_coverage`: does the forecast band hold as many observed values
  as it claims (back-test coverage)?
- :func:`check_graph_reliance`: does the forecast get worse without the
  learned edges, or with other shops' graphs
  (:func:`~sklearn_causalmmm.analysis.graph_check.graph_reliance`)? If not,
  the graph is decoration.
- :func:`check_flat_graph`: did the edges move away from their prior at all?
- :func:`check_gain`: is a budget reallocation's gain larger than the model's
  uncertainty (:class:`~sklearn_causalmmm.analysis.budget.BudgetAllocation`)?
- :func:`check_units`: are channels of different units (impressions, clicks,
  spend) added up into one budget without costs?

:func:`trust_checks` runs those whose evidence it is given and returns one
table. Nothing here needs torch or a particular model: the checks read
numbers any fitted regressor of the package (or a user) can supply.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "TrustCheck",
    "check_coverage",
    "check_flat_graph",
    "check_gain",
    "check_graph_reliance",
    "check_units",
    "channel_unit",
    "trust_checks",
]

#: Verdicts of a check, best first.
VERDICTS = ("ok", "warning", "n/a")


@dataclass(frozen=True)
class TrustCheck:
    """One check's verdict.

    Attributes
    ----------
    check : str
        What was checked, e.g. ``"band coverage"``.
    value : str
        The measured figure, formatted (``""`` without one).
    verdict : {"ok", "warning", "n/a"}
    message : str
        What the verdict means for a user, in one or two sentences.
    """

    check: str
    value: str
    verdict: str
    message: str

    @property
    def warns(self) -> bool:
        """Whether the check found a reason for caution."""
        return self.verdict == "warning"


def check_coverage(
    y_true, lower, upper, *, coverage: float = 0.8, tolerance: float = 0.1
) -> TrustCheck:
    """Share of observed values inside a forecast band, against its nominal coverage.

    The band passes when the observed share lies within ``tolerance`` of
    ``coverage``, widened to two binomial standard errors when few values
    were observed (a share of 10 values is a coarse estimate).

    Parameters
    ----------
    y_true, lower, upper : array-like of one shape
        Observed values and the band's bounds; NaN cells are ignored.
    coverage : float, default=0.8
        The share the band claims to hold.
    tolerance : float, default=0.1
        Allowed distance between the observed and the claimed share.

    Returns
    -------
    check : TrustCheck

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.analysis.trust import check_coverage
    >>> truth = np.arange(100.0)
    >>> upper = np.where(truth < 25, truth - 0.5, truth)  # 25 values above
    >>> check = check_coverage(truth, truth - 1, upper)
    >>> check.value, check.verdict
    ('75% of 100 (claimed 80%)', 'ok')
    >>> check_coverage(truth, truth + 1, truth + 2).verdict
    'warning'
    """
    truth, low, high = (np.asarray(a, dtype=np.float64) for a in (y_true, lower, upper))
    if not truth.shape == low.shape == high.shape:
        raise ValueError(
            f"y_true {truth.shape}, lower {low.shape} and upper {high.shape} must "
            "have one shape."
        )
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must lie in (0, 1), got {coverage!r}.")
    seen = np.isfinite(truth) & np.isfinite(low) & np.isfinite(high)
    n = int(seen.sum())
    name = "back-test coverage of the band"
    if n == 0:
        return TrustCheck(
            name,
            "",
            "n/a",
            "No held-out value with a band: the band's coverage is unknown.",
        )
    share = float(((truth >= low) & (truth <= high))[seen].mean())
    allowed = max(tolerance, 2.0 * np.sqrt(coverage * (1.0 - coverage) / n))
    value = f"{share:.0%} of {n} (claimed {coverage:.0%})"
    if abs(share - coverage) <= allowed:
        return TrustCheck(
            name,
            value,
            "ok",
            f"The {coverage:.0%} band held {share:.0%} of the held-out values.",
        )
    if share < coverage:
        message = (
            f"The {coverage:.0%} band held only {share:.0%} of the held-out values: "
            "the forecast is less certain than the band says."
        )
    else:
        message = (
            f"The {coverage:.0%} band held {share:.0%} of the held-out values: it "
            "is wider than it needs to be."
        )
    return TrustCheck(name, value, "warning", message)


def check_graph_reliance(
    reliance: pd.DataFrame | None, *, min_ratio: float = 1.05
) -> TrustCheck:
    """Whether the forecast relies on the learned graph.

    Parameters
    ----------
    reliance : DataFrame or None
        From :func:`~sklearn_causalmmm.analysis.graph_check.graph_reliance`
        with ``y_true`` (an ``mse_ratio`` column; rows ``"no edges"`` and
        ``"other shops' graphs"``). None: the check could not run.
    min_ratio : float, default=1.05
        The forecast error without the edges must be at least this many
        times the error with them for the graph to count as used.

    Returns
    -------
    check : TrustCheck

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm.analysis.trust import check_graph_reliance
    >>> table = pd.DataFrame(
    ...     {"mse_ratio": [1.0, 1.01, 1.02]},
    ...     index=["learned", "other shops' graphs", "no edges"])
    >>> check_graph_reliance(table).verdict
    'warning'
    >>> table["mse_ratio"] = [1.0, 1.3, 2.5]
    >>> print(check_graph_reliance(table).value)
    error x2.50 without edges, x1.30 with other shops' graphs
    """
    name = "graph reliance"
    if reliance is None or "mse_ratio" not in reliance:
        return TrustCheck(
            name,
            "",
            "n/a",
            "Not measured (it needs a learned graph per shop, two shops or more, "
            "and observed values).",
        )
    none = float(reliance.loc["no edges", "mse_ratio"])
    other = float(reliance.loc["other shops' graphs", "mse_ratio"])
    value = f"error x{none:.2f} without edges, x{other:.2f} with other shops' graphs"
    if none >= min_ratio:
        extra = (
            ""
            if other >= min_ratio
            else " Other shops' graphs forecast as well as each shop's own: the "
            "differences between shops' graphs are not supported by the data."
        )
        return TrustCheck(
            name,
            value,
            "ok" if not extra else "warning",
            "The forecast gets worse without the learned edges: it uses the graph."
            + extra,
        )
    return TrustCheck(
        name,
        value,
        "warning",
        "The forecast is as good without the learned edges: the graph does not "
        "drive it, so read the graph and the effects routed through it with care.",
    )


def check_flat_graph(
    edge_probabilities, prior: float, *, tolerance: float = 0.05, min_share=0.05
) -> TrustCheck:
    """Whether the learned edges left their prior probability.

    An edge whose probability sits at the prior is one the data said nothing
    about. When almost every edge does, the graph is the prior, not a finding.

    Parameters
    ----------
    edge_probabilities : array-like of shape (n_shops, d, d) or (d, d)
        ``[s, i, j]`` = P(i -> j); the diagonal is ignored.
    prior : float
        The prior probability of an edge.
    tolerance : float, default=0.05
        An edge within this distance of the prior counts as at the prior.
    min_share : float, default=0.05
        The graph is flat when fewer than this share of the edges (over
        shops) left the prior.

    Returns
    -------
    check : TrustCheck

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.analysis.trust import check_flat_graph
    >>> check_flat_graph(np.full((3, 4, 4), 0.22), prior=0.2).verdict
    'warning'
    >>> graph = np.full((4, 4), 0.2)
    >>> graph[0, 3] = 0.9
    >>> check_flat_graph(graph, prior=0.2).value
    '1 of 12 edges (8%) away from the prior 0.2'
    """
    p = np.asarray(edge_probabilities, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3 or p.shape[1] != p.shape[2]:
        raise ValueError(
            "edge_probabilities must have shape (n_shops, d, d) or (d, d), got "
            f"{np.shape(edge_probabilities)}."
        )
    off = ~np.eye(p.shape[1], dtype=bool)
    edges = p[:, off]
    moved = np.abs(edges - prior) > tolerance
    share = float(moved.mean()) if edges.size else 0.0
    value = (
        f"{int(moved.sum())} of {edges.size} edges ({share:.0%}) away from the "
        f"prior {prior:g}"
    )
    if share >= min_share:
        return TrustCheck(
            "flat graph", value, "ok", "The data moved the edges away from the prior."
        )
    return TrustCheck(
        "flat graph",
        value,
        "warning",
        f"Almost every edge sits at its prior probability ({prior:g}): the data "
        "did not tell the model which channel drives which. The graph shows the "
        "prior, not a finding.",
    )


def check_gain(allocation) -> TrustCheck:
    """Whether a budget reallocation's forecast gain exceeds the model's uncertainty.

    Parameters
    ----------
    allocation : BudgetAllocation or None
        From :func:`~sklearn_causalmmm.analysis.budget.optimize_budget`.

    Returns
    -------
    check : TrustCheck
        ``"ok"`` when the gain's interval excludes 0 (change recommended),
        ``"warning"`` when it holds 0 (no change recommended), ``"n/a"``
        without an interval.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from sklearn_causalmmm.analysis.trust import check_gain
    >>> result = SimpleNamespace(
    ...     gain=30.0, gain_interval=(-5.0, 60.0), coverage=0.8,
    ...     no_change_recommended=True)
    >>> check_gain(result).message.split(":")[0]
    'No change recommended'
    """
    name = "reallocation gain vs noise"
    if allocation is None:
        return TrustCheck(name, "", "n/a", "No budget reallocation was run.")
    verdict = allocation.no_change_recommended
    if verdict is None or allocation.gain_interval is None:
        return TrustCheck(
            name,
            f"{allocation.gain:+,.4g}",
            "n/a",
            "The model gives no interval for the gain: its size cannot be told "
            "from noise.",
        )
    low, high = allocation.gain_interval
    value = (
        f"{allocation.gain:+,.4g} ({allocation.coverage:.0%} interval "
        f"{low:+,.4g} to {high:+,.4g})"
    )
    if verdict:
        return TrustCheck(
            name,
            value,
            "warning",
            "No change recommended: the gain is within the model's uncertainty "
            "(its interval holds 0).",
        )
    return TrustCheck(
        name, value, "ok", "The gain's interval excludes 0: the change is supported."
    )


# Words in a column name that tell its unit; the first match wins.
_UNIT_WORDS = (
    ("money", r"spend|cost|budget|usd|eur|gbp|dollar|investment|_s$"),
    ("impressions", r"impression|imps?$|_i$|views|grp|trp|reach"),
    ("clicks", r"click"),
)


def channel_unit(name: str) -> str | None:
    """The unit a channel column's name suggests, or None if it does not say.

    Examples
    --------
    >>> from sklearn_causalmmm.analysis.trust import channel_unit
    >>> [channel_unit(n) for n in ["tv_S", "Channel0_impression", "search_clicks_P",
    ...                            "radio"]]
    ['money', 'impressions', 'clicks', None]
    """
    lowered = str(name).lower()
    for unit, pattern in _UNIT_WORDS:
        if re.search(pattern, lowered):
            return unit
    return None


def check_units(
    channels: Sequence[str],
    costs: Mapping[str, float] | str | None = None,
    plan: pd.DataFrame | None = None,
    *,
    max_scale_ratio: float = 1000.0,
) -> TrustCheck:
    """Whether channels added up into one budget may be in different units.

    With ``costs`` (a mapping of cost per unit) the units are converted to
    money and the check passes. Without, it warns when the channels' names
    suggest different units (``channel_unit``: spend vs impressions vs
    clicks), or units other than money, or when the channels' typical values
    in ``plan`` differ by more than ``max_scale_ratio`` (a sign of units
    apart, such as impressions beside spend).

    Parameters
    ----------
    channels : sequence of str
        The channels of one budget.
    costs : mapping of str to float, "money" or None, default=None
        As :func:`~sklearn_causalmmm.analysis.budget.optimize_budget` takes it;
        ``"money"`` declares every column spend in one currency, and the check
        then only looks at the names.
    plan : DataFrame, default=None
        The channel plan, for the scale comparison.
    max_scale_ratio : float, default=1000.0

    Returns
    -------
    check : TrustCheck

    Examples
    --------
    >>> from sklearn_causalmmm.analysis.trust import check_units
    >>> check_units(["tv_spend", "search_impressions"]).verdict
    'warning'
    >>> check_units(["tv_spend", "search_impressions"],
    ...             costs={"tv_spend": 1.0, "search_impressions": 0.004}).verdict
    'ok'
    """
    channels = list(channels)
    name = "units of the budget"
    if len(channels) < 2:
        return TrustCheck(name, "", "ok", "One channel: nothing is added up.")
    if isinstance(costs, Mapping):
        return TrustCheck(
            name,
            "costs given",
            "ok",
            "Channels are converted to money with the given cost per unit.",
        )
    units = {c: channel_unit(c) for c in channels}
    named = {u for u in units.values() if u is not None}
    reasons = []
    if len(named) > 1:
        groups = {}
        for channel, unit in units.items():
            groups.setdefault(unit or "unknown unit", []).append(str(channel))
        reasons.append(
            "their names suggest different units ("
            + "; ".join(f"{u}: {', '.join(cs)}" for u, cs in groups.items())
            + ")"
        )
    elif named and named != {"money"}:
        reasons.append(f"their names suggest {next(iter(named))}, not money")
    if plan is not None and all(c in plan for c in channels):
        typical = plan[channels].abs().replace(0.0, np.nan).median()
        typical = typical[np.isfinite(typical) & (typical > 0)]
        if len(typical) > 1 and typical.max() / typical.min() > max_scale_ratio:
            reasons.append(
                f"their typical values differ {typical.max() / typical.min():,.0f}-"
                f"fold ({typical.idxmax()} vs {typical.idxmin()})"
            )
    if not reasons:
        value = "declared money" if costs == "money" else "no costs, names agree"
        return TrustCheck(
            name, value, "ok", "Nothing suggests the channels' units differ."
        )
    return TrustCheck(
        name,
        "no costs" if costs is None else "declared money",
        "warning",
        "The channels are added up as one budget, but "
        + " and ".join(reasons)
        + ": give each channel's cost per unit (costs=, --costs) so that "
        "the budget is money.",
    )


def trust_checks(checks: Sequence[TrustCheck]) -> pd.DataFrame:
    """Checks as one table, in the given order.

    Parameters
    ----------
    checks : sequence of TrustCheck

    Returns
    -------
    table : DataFrame
        Columns ``check``, ``value``, ``verdict``, ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.analysis.trust import (
    ...     check_flat_graph, check_units, trust_checks)
    >>> table = trust_checks([check_flat_graph(np.full((3, 3), 0.2), prior=0.2),
    ...                       check_units(["tv_spend", "radio_spend"])])
    >>> list(table["verdict"])
    ['warning', 'ok']
    """
    rows = [
        {
            "check": c.check,
            "value": c.value,
            "verdict": c.verdict,
            "message": c.message,
        }
        for c in checks
    ]
    return pd.DataFrame(rows, columns=["check", "value", "verdict", "message"])

"""Helpers shared by the per-shop statistical discoverers.

Linear Granger, PCMCI and VARLiNGAM all fit one small model per shop on the
shop's own observed span. This module cuts those spans out of a
:class:`~sklearn_causalmmm.panel.Panel`, checks the lag budget against them,
finds nodes that are constant inside a shop, and imports the optional
libraries with a message that names the extra to install.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import importlib
import numbers
from types import ModuleType

import numpy as np

from sklearn_causalmmm.panel import Panel

__all__ = [
    "DEFAULT_MAX_LAG",
    "check_max_lag",
    "check_series_length",
    "import_optional",
    "min_steps_for",
    "neg_log10",
    "shop_series",
    "varying_nodes",
]

# Every discoverer in the package gets the same lag budget by default, so that
# benchmark differences come from the methods and not from how far back they
# may look.
DEFAULT_MAX_LAG = 5

# A node whose scaled series has a standard deviation below this, inside one
# shop, is treated as constant there. ``Panel.scaled()`` divides by the mean
# absolute value, so the threshold is relative to the node's level; it sits
# well above float32 rounding noise (~1e-7).
_CONSTANT_STD = 1e-6

# p-values are clipped here before the log, so that a p-value that underflows
# to 0 still gives a finite score.
_MIN_P_VALUE = 1e-300

_CAUSAL_EXTRA_HINT = (
    "install the optional extra with `pip install sklearn-causalmmm[causal]` "
    "(it installs tigramite>=5.2 and lingam>=1.9)"
)


def check_max_lag(max_lag) -> int:
    """Return ``max_lag`` as an int, or raise a ValueError naming it."""
    if isinstance(max_lag, bool) or not isinstance(max_lag, numbers.Integral):
        raise ValueError(f"max_lag must be an integer >= 1, got {max_lag!r}.")
    if max_lag < 1:
        raise ValueError(f"max_lag must be an integer >= 1, got {max_lag}.")
    return int(max_lag)


def min_steps_for(max_lag: int, n_nodes: int) -> int:
    """Fewest observed steps a shop needs for a VAR(max_lag) on n_nodes nodes.

    A VAR(p) with an intercept has ``n_nodes * p + 1`` coefficients per
    equation and is fitted on ``n_steps - p`` rows; at least one residual
    degree of freedom must remain: ``n_steps >= (n_nodes + 1) * p + 2``.
    """
    return (n_nodes + 1) * max_lag + 2


def check_series_length(
    panel: Panel,
    max_lag: int,
    need: int | None = None,
    rule: str = "(n_nodes + 1) * max_lag + 2",
) -> None:
    """Raise a ValueError naming ``max_lag`` and the shops too short for it.

    ``need`` (steps a shop needs, described by ``rule``) defaults to
    :func:`min_steps_for`.
    """
    if need is None:
        need = min_steps_for(max_lag, panel.n_nodes)
    counts = panel.mask.sum(axis=1)
    short = np.flatnonzero(counts < need)
    if len(short) == 0:
        return
    first = short[0]
    others = ""
    if len(short) > 1:
        names = ", ".join(repr(panel.shop_ids[s]) for s in short[1:6])
        more = f" and {len(short) - 6} more" if len(short) > 6 else ""
        others = f" (shops {names}{more} are too short as well)"
    raise ValueError(
        f"max_lag={max_lag} is too large for the series: shop "
        f"{panel.shop_ids[first]!r} has {int(counts[first])} observed steps, but a "
        f"VAR({max_lag}) on {panel.n_nodes} nodes needs at least {need} "
        f"({rule}){others}. Lower max_lag or pass longer "
        "series."
    )


def shop_series(panel: Panel) -> list[np.ndarray]:
    """Each shop's scaled series over its observed span, as float64.

    Returns a list of ``n_shops`` arrays of shape ``(n_observed, n_nodes)``
    (time along rows, the layout of statsmodels, tigramite and lingam). The
    panel guarantees that a shop's observed steps are contiguous, so the span
    from its first to its last observed step holds no masked step.
    """
    scaled = panel.scaled()
    out = []
    for s in range(panel.n_shops):
        observed = np.flatnonzero(panel.mask[s])
        start, stop = observed[0], observed[-1] + 1
        out.append(np.asarray(scaled[s, :, start:stop].T, dtype=np.float64))
    return out


def varying_nodes(series: np.ndarray) -> np.ndarray:
    """Boolean mask of the nodes (columns) that are not constant in ``series``."""
    return series.std(axis=0) > _CONSTANT_STD


def neg_log10(p_values: np.ndarray) -> np.ndarray:
    """``-log10(p)`` with p clipped to ``[1e-300, 1]``; NaN p-values give 0."""
    p = np.where(np.isnan(p_values), 1.0, p_values)
    return -np.log10(np.clip(p, _MIN_P_VALUE, 1.0))


def import_optional(module: str, estimator: str) -> ModuleType:
    """Import an optional dependency or raise an ImportError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise ImportError(
            f"{estimator} needs the optional package {package!r}, which could not "
            f"be imported ({exc}); {_CAUSAL_EXTRA_HINT}."
        ) from exc

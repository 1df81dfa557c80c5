"""Synthetic marketing panels with a known causal graph, and a bundled demo.

:func:`make_causal_mmm` simulates many shops, each with its own causal graph over
advertising channels, funnel nodes (page views, clicks, ...) and GMV, with
carryover (adstock), saturation (Hill curves whose shape depends on the shop's
context) and lagged effects, so that the true graph is the Granger graph. It
returns the ground truth (graphs, response parameters and the true contribution
of every channel to GMV) next to the data. :func:`load_demo` loads a small panel
made by the same simulator and shipped with the package.

The generative recipe, with all formulas, is in ``docs/simulator.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn_causalmmm.datasets._daily import SIMULATION_SETTINGS, make_causal_mmm
from sklearn_causalmmm.datasets._demo import load_demo
from sklearn_causalmmm.datasets._weekly import make_weekly_mmm
from sklearn_causalmmm.datasets._zoo import ZOO_FAMILIES, make_discovery_zoo

__all__ = [
    "SIMULATION_SETTINGS",
    "ZOO_FAMILIES",
    "load_demo",
    "make_causal_mmm",
    "make_discovery_zoo",
    "make_weekly_mmm",
]

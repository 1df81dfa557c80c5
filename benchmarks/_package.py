"""The package's names the benchmarks use beyond its public API, spelled once.

The scripts reach into a few of the package's internal modules (a helper that
lays graphs out as rows, the series-length bounds of the VAR baselines, the
function that builds CausalMMM's skorch net). Modules move inside the package;
importing those names here, and only here, makes such a move one edit in one
file. Everything else the scripts use is public (``sklearn_causalmmm``,
``baselines``, ``datasets``, ``metrics``, ``forecasting``).

This module is the bottom of the benchmarks: it imports the package and no
script.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from sklearn_causalmmm.base import (
    flatten_off_diagonal,
    unflatten_off_diagonal,
)
from sklearn_causalmmm.baselines._timeseries import min_steps_for
from sklearn_causalmmm.baselines.adstock_hill import geometric_adstock
from sklearn_causalmmm.baselines.varlingam import varlingam_min_steps
from sklearn_causalmmm.estimators import GraphTypePooling

#: The weight the discoverer's default pooling gives a shop's own evidence.
SHOP_EVIDENCE_WEIGHT = GraphTypePooling().shop_evidence_weight

__all__ = [
    "NET_BUILDER_MODULE",
    "NRI_DISCOVERER",
    "SHOP_EVIDENCE_WEIGHT",
    "flatten_off_diagonal",
    "geometric_adstock",
    "min_steps_for",
    "unflatten_off_diagonal",
    "varlingam_min_steps",
]

#: Where ``NRIDiscoverer`` (the ablation of CausalMMM's discoverer) lives.
NRI_DISCOVERER = "sklearn_causalmmm.NRIDiscoverer"
#: The module whose ``build_net`` CausalMMM's estimators call: ``speed.py``
#: wraps it there to time every training batch.
NET_BUILDER_MODULE = "sklearn_causalmmm.estimators"

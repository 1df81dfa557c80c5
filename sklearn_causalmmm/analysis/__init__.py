"""Decision tools for any fitted regressor of the package.

Each tool asks a fitted regressor "what would GMV be under this other plan?"
through its public ``predict``, so it works with
:class:`~sklearn_causalmmm.CausalMMMRegressor` and with every forecasting
baseline alike:

- :mod:`~sklearn_causalmmm.analysis.contributions`: what each channel brought,
  directly and through the funnel nodes, with ROI and intervals;
- :mod:`~sklearn_causalmmm.analysis.response`: how GMV responds as a
  channel's spend grows;
- :mod:`~sklearn_causalmmm.analysis.budget`: where the same budget earns more;
- :mod:`~sklearn_causalmmm.analysis.graph_check`: whether the forecast goes
  through the learned graph (CausalMMM only);
- :mod:`~sklearn_causalmmm.analysis.influence`: how far each node's past moves
  each node's forecast, against the learned graph (CausalMMM only).

The back-tests, the demo, the figures and the HTML reports of the command line
are built on these in :mod:`sklearn_causalmmm.reporting`; nothing here imports
that wing.
"""

from sklearn_causalmmm.analysis.budget import BudgetAllocation, optimize_budget
from sklearn_causalmmm.analysis.contributions import (
    channel_contributions,
    contribution_table,
    top_channels,
)
from sklearn_causalmmm.analysis.graph_check import graph_reliance
from sklearn_causalmmm.analysis.influence import influence_agreement, influence_graph
from sklearn_causalmmm.analysis.response import response_curves

__all__ = [
    "BudgetAllocation",
    "channel_contributions",
    "contribution_table",
    "graph_reliance",
    "influence_agreement",
    "influence_graph",
    "optimize_budget",
    "response_curves",
    "top_channels",
]

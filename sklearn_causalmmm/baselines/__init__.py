"""Baselines under the package's API: graph discoverers and GMV forecasters.

Discoverers expose ``edge_probabilities_`` (``[s, i, j]`` = score of i -> j) like
:class:`~sklearn_causalmmm.CausalGraphDiscoverer`; forecasters follow the
``fit(X, y)`` / ``predict(X_plan)`` contract of
:class:`~sklearn_causalmmm.CausalMMMRegressor`, so one search or benchmark loop
compares them all.
"""

from sklearn_causalmmm.baselines.adstock_hill import AdstockHillRegressor
from sklearn_causalmmm.baselines.btvc import BTVCRegressor
from sklearn_causalmmm.baselines.gvar import GVARDiscoverer, GVARRegressor
from sklearn_causalmmm.baselines.ingra import InGRADiscoverer
from sklearn_causalmmm.baselines.linear_granger import LinearGrangerDiscoverer
from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
from sklearn_causalmmm.baselines.neural_granger import NeuralGrangerDiscoverer
from sklearn_causalmmm.baselines.pcmci import PCMCIDiscoverer
from sklearn_causalmmm.baselines.recurrent import LSTMRegressor
from sklearn_causalmmm.baselines.varlingam import VARLiNGAMDiscoverer
from sklearn_causalmmm.baselines.wide_deep import WideDeepRegressor

__all__ = [
    "AdstockHillRegressor",
    "BTVCRegressor",
    "GVARDiscoverer",
    "GVARRegressor",
    "InGRADiscoverer",
    "LSTMRegressor",
    "LinearGrangerDiscoverer",
    "NeuralGrangerDiscoverer",
    "PCMCIDiscoverer",
    "SeasonalNaiveRegressor",
    "VARLiNGAMDiscoverer",
    "WideDeepRegressor",
]

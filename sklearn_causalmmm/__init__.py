"""Causal marketing mix modeling (CausalMMM) for scikit-learn, skorch and sktime.

``CausalGraphDiscoverer`` learns a Granger-causal graph per shop,
``CausalMMMRegressor`` forecasts GMV from a channel plan and
``CausalMMMForecaster`` offers the same model through sktime, and
``PanelRegressorForecaster`` puts any of the package's regressors there.
"""

from sklearn_causalmmm.estimators import (
    PAPER_CONFIG,
    CausalGraphDiscoverer,
    CausalMMMRegressor,
)
from sklearn_causalmmm.forecasting import CausalMMMForecaster, PanelRegressorForecaster

__version__ = "0.1.0"

__all__ = [
    "PAPER_CONFIG",
    "CausalGraphDiscoverer",
    "CausalMMMForecaster",
    "CausalMMMRegressor",
    "PanelRegressorForecaster",
]

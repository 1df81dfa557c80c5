"""Causal marketing mix modeling (CausalMMM) for scikit-learn, skorch and sktime.

``CausalGraphDiscoverer`` learns a Granger-causal graph per shop,
``CausalMMMRegressor`` forecasts GMV from a channel plan and
``CausalMMMForecaster`` offers the same model through sktime, and
``PanelRegressorForecaster`` puts any of the package's regressors there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sklearn_causalmmm.estimators import (
        PAPER_CONFIG,
        Baseline,
        CausalGraphDiscoverer,
        CausalMMMRegressor,
        GraphTypePooling,
        NRIDiscoverer,
    )
    from sklearn_causalmmm.forecasting import (
        CausalMMMForecaster,
        PanelRegressorForecaster,
    )

__version__ = "0.1.0"

# The estimators are imported on first use: torch and sktime take seconds to
# import, which the command line's --help and its input checks need not wait for.
_LAZY_EXPORTS = {
    "PAPER_CONFIG": "estimators",
    "Baseline": "estimators",
    "CausalGraphDiscoverer": "estimators",
    "CausalMMMRegressor": "estimators",
    "GraphTypePooling": "estimators",
    "NRIDiscoverer": "estimators",
    "CausalMMMForecaster": "forecasting",
    "PanelRegressorForecaster": "forecasting",
}

__all__ = [
    "PAPER_CONFIG",
    "Baseline",
    "CausalGraphDiscoverer",
    "CausalMMMForecaster",
    "CausalMMMRegressor",
    "GraphTypePooling",
    "NRIDiscoverer",
    "PanelRegressorForecaster",
]


def __getattr__(name: str):
    if name not in _LAZY_EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_LAZY_EXPORTS[name]}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_EXPORTS})

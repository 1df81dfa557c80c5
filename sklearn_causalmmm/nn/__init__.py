"""Pure torch building blocks of CausalMMM (no scikit-learn here)."""

from sklearn_causalmmm.nn.decoder import MarketingResponseDecoder
from sklearn_causalmmm.nn.elbo import edge_kl, gaussian_nll, log_edge_prior
from sklearn_causalmmm.nn.encoder import (
    CausalRelationalEncoder,
    conditional_lag_coefficients,
    lag_feature_kinds,
    lagged_edge_features,
    summed_lag_coefficients,
)
from sklearn_causalmmm.nn.gumbel import edge_probability, sample_edges
from sklearn_causalmmm.nn.model import CausalMMM
from sklearn_causalmmm.nn.saturation import ContextHill, hill

__all__ = [
    "CausalMMM",
    "CausalRelationalEncoder",
    "ContextHill",
    "MarketingResponseDecoder",
    "conditional_lag_coefficients",
    "edge_kl",
    "edge_probability",
    "gaussian_nll",
    "hill",
    "lag_feature_kinds",
    "lagged_edge_features",
    "log_edge_prior",
    "sample_edges",
    "summed_lag_coefficients",
]

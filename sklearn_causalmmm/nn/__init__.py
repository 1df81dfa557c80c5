"""Pure torch building blocks of CausalMMM (no scikit-learn here)."""

from sklearn_causalmmm.nn.decoder import MarketingResponseDecoder
from sklearn_causalmmm.nn.elbo import edge_kl, gaussian_nll, log_edge_prior
from sklearn_causalmmm.nn.encoder import CausalRelationalEncoder
from sklearn_causalmmm.nn.gumbel import edge_probability, sample_edges
from sklearn_causalmmm.nn.model import CausalMMM
from sklearn_causalmmm.nn.saturation import ContextHill, hill

__all__ = [
    "CausalMMM",
    "CausalRelationalEncoder",
    "ContextHill",
    "MarketingResponseDecoder",
    "edge_kl",
    "edge_probability",
    "gaussian_nll",
    "hill",
    "log_edge_prior",
    "sample_edges",
]

"""Causal marketing mix modeling (CausalMMM) for scikit-learn, skorch and sktime."""

__version__ = "0.1.0"

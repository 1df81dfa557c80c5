"""Re-export of the discoverer base, which lives beside the estimators."""

from sklearn_causalmmm._discovery import BaseDiscoverer, flatten_off_diagonal

__all__ = ["BaseDiscoverer", "flatten_off_diagonal"]

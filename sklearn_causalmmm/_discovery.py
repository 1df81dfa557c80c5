"""What every discovery baseline shares: panel conversion and the graph API."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sklearn_causalmmm.panel import Panel, to_panel

__all__ = ["BaseDiscoverer", "flatten_off_diagonal", "unflatten_off_diagonal"]


def flatten_off_diagonal(graphs: np.ndarray) -> np.ndarray:
    """``(n_shops, d, d)`` -> ``(n_shops, d * (d - 1))``: row-major, no diagonal."""
    n_nodes = graphs.shape[-1]
    keep = ~np.eye(n_nodes, dtype=bool)
    return graphs[:, keep]


def unflatten_off_diagonal(rows: np.ndarray) -> np.ndarray:
    """Inverse of :func:`flatten_off_diagonal`, with a zero diagonal."""
    n_edges = rows.shape[-1]
    n_nodes = int(round((1 + np.sqrt(1 + 4 * n_edges)) / 2))
    if n_nodes * (n_nodes - 1) != n_edges:
        raise ValueError(f"{n_edges} edges are not d * (d - 1) for any d.")
    graphs = np.zeros((len(rows), n_nodes, n_nodes), dtype=rows.dtype)
    graphs[:, ~np.eye(n_nodes, dtype=bool)] = rows
    return graphs


class BaseDiscoverer(TransformerMixin, BaseEstimator):
    """Base class of graph discoverers: subclasses implement ``_score_graphs``.

    ``_score_graphs(panel, rng) -> ndarray (n_shops, d, d)`` returns, for every
    shop, the score of each edge ``[s, i, j]`` = i -> j (row = cause; transpose
    explicitly when a library returns the other orientation). Subclasses that
    can score new shops with a model fitted on others set
    ``_inductive = True`` and implement ``_score_new(panel)``.

    Subclasses must define ``context_columns``, ``shop_column`` and
    ``time_column`` parameters (may be fixed class attributes) and
    ``random_state``.
    """

    _inductive = False
    context_columns = None
    shop_column = "shop_id"
    time_column = "date"

    def _to_panel(self, X, y=None, context=None, min_steps: int = 3) -> Panel:
        return to_panel(
            X,
            y,
            context=context,
            context_columns=self.context_columns,
            shop_column=self.shop_column,
            time_column=self.time_column,
            min_steps=min_steps,
        )

    def fit(self, X, y=None, context=None):
        """Score every directed edge of every shop.

        Parameters
        ----------
        X : array-like or DataFrame
            A panel in any layout accepted by :func:`~sklearn_causalmmm.panel.to_panel`.
            The last node is the target (GMV).
        y : None
            Ignored: the target (GMV) is X's last node, so that ``transform``
            sees the same nodes as ``fit`` inside a Pipeline.
        context : array-like of shape (n_shops, n_context), default=None

        Returns
        -------
        self
        """
        from sklearn.utils import check_random_state

        panel = self._to_panel(X, None, context)
        rng = check_random_state(getattr(self, "random_state", None))
        self.edge_probabilities_ = np.asarray(
            self._score_graphs(panel, rng), dtype=np.float64
        )
        self.node_names_ = list(panel.node_names)
        self.shop_ids_ = list(panel.shop_ids)
        self.n_features_in_ = panel.n_nodes
        return self

    @property
    def adjacency_matrix_(self) -> np.ndarray:
        """Alias of ``edge_probabilities_`` (the name other causal libraries use)."""
        return self.edge_probabilities_

    def predict_graph(self, X, context=None) -> np.ndarray:
        """Edge scores ``(n_shops, d, d)`` for the shops in X.

        Inductive methods score new shops with the fitted model; the others
        refit on X (a clone, leaving this estimator unchanged).
        """
        check_is_fitted(self)
        panel = self._to_panel(X, None, context)
        if panel.n_nodes != self.n_features_in_:
            raise ValueError(
                f"X has {panel.n_nodes} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        if self._inductive:
            return np.asarray(self._score_new(panel), dtype=np.float64)
        from sklearn.base import clone

        return clone(self).fit(X, context=context).edge_probabilities_

    def transform(self, X, context=None) -> np.ndarray:
        """Off-diagonal edge scores, one row per shop, for clustering shops by graph."""
        return flatten_off_diagonal(self.predict_graph(X, context))

    def fit_transform(self, X, y=None, context=None):
        return flatten_off_diagonal(self.fit(X, y, context).edge_probabilities_)

"""NRI / amortised causal discovery: CausalMMM's encoder with a plain GNN decoder."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from sklearn_causalmmm.estimators import CausalGraphDiscoverer

__all__ = ["NRIDiscoverer"]


class NRIDiscoverer(CausalGraphDiscoverer):
    """CausalMMM minus the marketing decoder: the ACD/NRI comparison.

    The same amortised relational encoder and ELBO as
    :class:`~sklearn_causalmmm.CausalGraphDiscoverer`, but the decoder is a
    plain one-step graph network: no recurrent carryover state and no Hill
    saturation (``recurrent=False, saturation=False`` are fixed). Comparing the
    two isolates what the marketing response decoder adds to structure learning.

    Parameters are those of :class:`~sklearn_causalmmm.CausalGraphDiscoverer`
    (``recurrent`` and ``saturation`` are ignored), except that
    ``n_graph_types=None`` means 0: as published, NRI reads each graph from
    its own series, without pooling shops by graph type; and
    ``lag_features=None`` means ``"bivariate"``, the encoder's features when
    the benchmarks of ``docs/benchmarks.md`` were run.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.nri import NRIDiscoverer
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=6, n_steps=60, random_state=0)
    >>> X = np.concatenate([data.X, data.y[:, None]], axis=1)
    >>> model = NRIDiscoverer(hidden=8, max_epochs=1, random_state=0)
    >>> model.fit(X).edge_probabilities_.shape
    (6, 8, 8)
    """

    _defaults = {
        **CausalGraphDiscoverer._defaults,
        "n_graph_types": 0,
        "lag_features": "bivariate",
    }

    def _decoder_modules(self) -> dict[str, bool]:
        return {"saturation": False, "recurrent": False}

"""PCMCI (tigramite), run on every shop separately.

PCMCI (Runge et al., Science Advances 2019) first selects a superset of each
node's lagged parents with a PC-style search (``pc_alpha``), then tests every
lagged link ``X^i_{t-tau} -> X^j_t`` with the momentary conditional
independence (MCI) test, conditioning on the parents of both ends. This module
runs tigramite's implementation on each shop's scaled series over its observed
span, for lags ``1..max_lag``, and scores the edge ``i -> j`` by the strongest
lag: ``max over tau of -log10(p_matrix[i, j, tau])`` (p clipped at 1e-300).

Orientation: tigramite documents ``p_matrix`` (shape ``(N, N, tau_max + 1)``)
with the MCI test ``X^i_{t-tau} _||_ X^j_t | ...`` stored at ``[i, j, tau]``
(``PCMCI._run_mci_or_variants`` writes ``p_matrix[i, j, abs(tau)]`` for the
test of ``X = (i, -tau)`` against ``Y = (j, 0)``). So ``[i, j, tau]`` already
has the cause in the row, the package's convention, and is used as is;
``tests/test_pcmci.py`` checks it on a one-edge example.

tigramite is an optional dependency: ``pip install sklearn-causalmmm[causal]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import copy

import numpy as np
from joblib import Parallel, delayed

from sklearn_causalmmm.base import BaseDiscoverer
from sklearn_causalmmm.baselines._timeseries import (
    DEFAULT_MAX_LAG,
    check_max_lag,
    check_series_length,
    import_optional,
    neg_log10,
    shop_series,
    varying_nodes,
)
from sklearn_causalmmm.panel import Panel

__all__ = ["PCMCIDiscoverer"]

# Names accepted for ``cond_ind_test``: tigramite module and class.
_TESTS = {
    "parcorr": ("tigramite.independence_tests.parcorr", "ParCorr"),
    "robustparcorr": ("tigramite.independence_tests.robust_parcorr", "RobustParCorr"),
    "cmiknn": ("tigramite.independence_tests.cmiknn", "CMIknn"),
    "gpdc": ("tigramite.independence_tests.gpdc", "GPDC"),
}


def _check_pc_alpha(pc_alpha):
    if pc_alpha is None:
        return None
    values = np.atleast_1d(np.asarray(pc_alpha, dtype=object))
    for value in values:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | np.floating)
            or not 0.0 < float(value) <= 1.0
        ):
            raise ValueError(
                "pc_alpha must be None, a float in (0, 1] or a list of such floats, "
                f"got {pc_alpha!r}."
            )
    return pc_alpha if np.ndim(pc_alpha) == 0 else [float(v) for v in values]


def _pcmci_one_shop(
    series: np.ndarray, max_lag: int, pc_alpha, cond_ind_test, seed: int
) -> np.ndarray:
    """``(d, d)`` scores of one shop, row = cause."""
    from tigramite import data_processing as pp
    from tigramite.pcmci import PCMCI

    n_nodes = series.shape[1]
    scores = np.zeros((n_nodes, n_nodes))
    # tigramite's tests standardise every variable: a node that is constant in
    # this shop would divide by zero, and it carries no information anyway.
    keep = np.flatnonzero(varying_nodes(series))
    if len(keep) < 2:
        return scores
    if isinstance(cond_ind_test, str):
        module_name, class_name = _TESTS[cond_ind_test]
        test = getattr(import_optional(module_name, "PCMCIDiscoverer"), class_name)(
            seed=seed
        )
    else:
        test = copy.deepcopy(cond_ind_test)
    pcmci = PCMCI(
        dataframe=pp.DataFrame(series[:, keep]), cond_ind_test=test, verbosity=0
    )
    results = pcmci.run_pcmci(tau_min=1, tau_max=max_lag, pc_alpha=pc_alpha)
    # p_matrix[i, j, tau]: X^i at t - tau -> X^j at t; lag 0 is not tested.
    lagged = neg_log10(np.asarray(results["p_matrix"], dtype=np.float64)[:, :, 1:])
    scores[np.ix_(keep, keep)] = lagged.max(axis=-1)
    np.fill_diagonal(scores, 0.0)
    return scores


class PCMCIDiscoverer(BaseDiscoverer):
    """Per-shop PCMCI causal discovery with tigramite.

    Runs tigramite's PCMCI on every shop separately (lags ``1..max_lag``) and
    scores the edge ``i -> j`` by ``max over tau of -log10(p)``, the p-value of
    the MCI test of ``X^i_{t-tau} -> X^j_t``. The method is transductive:
    :meth:`predict_graph` on new shops refits on them.

    Requires the optional extra: ``pip install sklearn-causalmmm[causal]``
    (tigramite>=5.2). Without it, :meth:`fit` raises an ImportError that says
    so.

    Parameters
    ----------
    max_lag : int, default=5
        Largest lag tested (tigramite's ``tau_max``). 5 is the lag budget every
        discoverer in the package gets by default. Each shop needs at least
        ``(n_nodes + 1) * max_lag + 2`` observed steps; a shorter shop makes
        :meth:`fit` raise a ValueError.
    pc_alpha : float, list of float or None, default=None
        Significance level of the parent-selection (PC) phase. ``None`` lets
        tigramite choose it per node among 0.05, 0.1, 0.2, 0.3, 0.4 and 0.5 by
        the test's model-selection score; a list restricts that choice.
    cond_ind_test : {"parcorr", "robustparcorr", "cmiknn", "gpdc"} or \
tigramite CondIndTest, default="parcorr"
        Conditional independence test. ``"parcorr"`` is linear partial
        correlation with analytic p-values; the others are tigramite's robust
        (rank-transformed) partial correlation, conditional mutual information
        (kNN, shuffle test, slow) and Gaussian-process distance correlation.
        A CondIndTest instance is deep-copied for every shop.
    n_jobs : int or None, default=None
        Number of shops processed in parallel (joblib). ``None`` means 1.
    context_columns : sequence of str, default=None
        Columns of a DataFrame X holding shop context (not nodes). Context is
        not used by this method.
    shop_column : str, default="shop_id"
        Shop column of a long DataFrame.
    time_column : str, default="date"
        Time column of a long DataFrame.
    random_state : int, RandomState instance or None, default=None
        Seeds the test of every shop (only the shuffle-based tests draw random
        numbers). The same seed gives the same scores.

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` is the score of ``i -> j`` in shop ``s`` (row = cause),
        ``-log10`` of the smallest MCI p-value over lags, in ``[0, 300]``;
        the diagonal is 0. Not a probability: the name is shared by every
        discoverer; only the ranking matters for the graph metrics.
    adjacency_matrix_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        Alias of ``edge_probabilities_``.
    node_names_ : list of str
    shop_ids_ : list
    n_features_in_ : int
        Number of nodes.

    See Also
    --------
    sklearn_causalmmm.baselines.linear_granger.LinearGrangerDiscoverer :
        Pairwise VAR F-tests (no optional dependency).

    References
    ----------
    J. Runge, P. Nowack, M. Kretschmer, S. Flaxman, D. Sejdinovic. Detecting
    and quantifying causal associations in large nonlinear time series
    datasets. Science Advances 5, eaau4996 (2019).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.pcmci import PCMCIDiscoverer
    >>> rng = np.random.default_rng(0)
    >>> a = rng.gamma(2.0, size=(2, 150))
    >>> b = 1.0 + np.pad(0.8 * a[:, :-1], ((0, 0), (1, 0))) + rng.gamma(
    ...     2.0, size=(2, 150))
    >>> X = np.stack([a, b], axis=1)  # (n_shops, n_nodes, n_steps)
    >>> est = PCMCIDiscoverer(max_lag=2, random_state=0)
    >>> scores = est.fit(X).edge_probabilities_  # doctest: +SKIP
    >>> bool((scores[:, 0, 1] > scores[:, 1, 0]).all())  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        max_lag: int = DEFAULT_MAX_LAG,
        pc_alpha=None,
        cond_ind_test="parcorr",
        *,
        n_jobs: int | None = None,
        context_columns=None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        random_state=None,
    ) -> None:
        self.max_lag = max_lag
        self.pc_alpha = pc_alpha
        self.cond_ind_test = cond_ind_test
        self.n_jobs = n_jobs
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column
        self.random_state = random_state

    def _check_cond_ind_test(self):
        test = self.cond_ind_test
        if isinstance(test, str):
            key = test.lower().replace("_", "")
            if key not in _TESTS:
                raise ValueError(
                    f"cond_ind_test must be one of {sorted(_TESTS)} or a tigramite "
                    f"CondIndTest instance, got {test!r}."
                )
            return key
        base = import_optional(
            "tigramite.independence_tests.independence_tests_base", "PCMCIDiscoverer"
        )
        if not isinstance(test, base.CondIndTest):
            raise ValueError(
                f"cond_ind_test must be one of {sorted(_TESTS)} or a tigramite "
                f"CondIndTest instance, got {type(test).__name__}."
            )
        return test

    def _score_graphs(self, panel: Panel, rng) -> np.ndarray:
        import_optional("tigramite.pcmci", type(self).__name__)
        max_lag = check_max_lag(self.max_lag)
        pc_alpha = _check_pc_alpha(self.pc_alpha)
        test = self._check_cond_ind_test()
        check_series_length(panel, max_lag)
        series = shop_series(panel)
        # One seed per shop, drawn up front so that n_jobs does not change them.
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(series))
        scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_pcmci_one_shop)(x, max_lag, pc_alpha, test, int(seed))
            for x, seed in zip(series, seeds, strict=True)
        )
        return np.stack(scores)

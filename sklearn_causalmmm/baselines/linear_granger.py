"""Linear Granger causality: one VAR per shop and an F-test for every edge.

For every shop, a VAR(``max_lag``) with an intercept is fitted by least squares
to the shop's scaled series (``Panel.scaled()``) over its observed span. The
edge ``i -> j`` is scored by the Granger F-test of "the lags of node i do not
help to predict node j": the residual sums of squares of the full equation of
j and of the same equation without node i's lags give

``F = ((RSS_restricted - RSS_full) / max_lag) / (RSS_full / df_resid)``

with ``df_resid = n_rows - (n_nodes * max_lag + 1)``. The p-value is read from
the F distribution with ``(max_lag, n_nodes * df_resid)`` degrees of freedom,
Lütkepohl's (2005, Sec. 3.6.1) small-sample approximation and the one of
``statsmodels``' ``VARResults.test_causality(..., kind="f")``, which this module
reproduces (see ``tests/baselines/test_linear_granger.py``). One least-squares
fit per shop gives every F statistic: the drop in the residual sum of squares is
the Wald form of node i's coefficients, which
:func:`~sklearn_causalmmm.utils.lags.wald_statistics` computes for the pooled
type test of the discoverer too, on the same lag design.

The score of ``i -> j`` is ``-log10(p)`` (p clipped at 1e-300), so larger means
stronger evidence of an edge. A node that is constant inside a shop is left out
of that shop's VAR; its edges score 0 there.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
from scipy import stats

from sklearn_causalmmm.base import BaseDiscoverer
from sklearn_causalmmm.baselines._timeseries import (
    DEFAULT_MAX_LAG,
    check_max_lag,
    check_series_length,
    neg_log10,
    shop_series,
    varying_nodes,
)
from sklearn_causalmmm.panel import Panel
from sklearn_causalmmm.utils.lags import lag_design, normal_equations, wald_statistics

__all__ = ["LinearGrangerDiscoverer", "granger_f_test"]


def granger_f_test(series: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise Granger F-tests in a VAR(``max_lag``) with an intercept.

    Parameters
    ----------
    series : ndarray of shape (n_steps, n_nodes)
        One multivariate series, time along rows, no missing values. Constant
        columns are allowed: they are left out of the VAR and get F = 0, p = 1.
    max_lag : int
        VAR order.

    Returns
    -------
    f_stat : ndarray of shape (n_nodes, n_nodes)
        ``f_stat[i, j]`` tests ``i -> j`` (row = cause); the diagonal is 0.
    p_value : ndarray of shape (n_nodes, n_nodes)
        The matching p-values; 1 on the diagonal and for constant nodes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.linear_granger import granger_f_test
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=300)
    >>> b = np.r_[0.0, 0.8 * a[:-1]] + 0.5 * rng.normal(size=300)
    >>> f_stat, p_value = granger_f_test(np.c_[a, b], max_lag=2)
    >>> bool(p_value[0, 1] < 1e-10), bool(p_value[1, 0] > 0.01)
    (True, True)
    """
    series = np.asarray(series, dtype=np.float64)
    n_steps, n_nodes = series.shape
    f_stat = np.zeros((n_nodes, n_nodes))
    p_value = np.ones((n_nodes, n_nodes))
    keep = np.flatnonzero(varying_nodes(series))
    n_kept = len(keep)
    if n_kept < 2:
        return f_stat, p_value
    target, design, senders = lag_design(series[:, keep].T, max_lag)
    # the intercept is fitted but not tested
    design = np.column_stack([design, np.ones(len(design))])
    senders = np.r_[senders, -1]
    df_resid = design.shape[0] - design.shape[1]
    if df_resid < 1:
        raise ValueError(
            f"max_lag={max_lag} is too large for a series of {n_steps} steps and "
            f"{n_nodes} nodes: the VAR has no residual degree of freedom."
        )
    gram, cross, squares = normal_equations(design, target)
    f_kept = wald_statistics(gram, cross, squares, len(design), senders) / max_lag
    np.fill_diagonal(f_kept, 0.0)
    p_kept = stats.f.sf(f_kept, max_lag, n_kept * df_resid)
    np.fill_diagonal(p_kept, 1.0)
    f_stat[np.ix_(keep, keep)] = f_kept
    p_value[np.ix_(keep, keep)] = p_kept
    return f_stat, p_value


class LinearGrangerDiscoverer(BaseDiscoverer):
    """Per-shop linear Granger causality (VAR F-tests).

    Fits one VAR(``max_lag``) with an intercept per shop, on the shop's scaled
    series over its observed span, and scores each edge ``i -> j`` by the
    ``-log10`` p-value of the Granger F-test that node i's lags do not help
    predict node j. See the module docstring for the exact test. The method is
    transductive: :meth:`predict_graph` on new shops refits on them.

    Parameters
    ----------
    max_lag : int, default=5
        VAR order, the number of past steps of every node that may act on the
        present. 5 is the lag budget every discoverer in the package gets by
        default. Each shop needs at least ``(n_nodes + 1) * max_lag + 2``
        observed steps; a shorter shop makes :meth:`fit` raise a ValueError.
    context_columns : sequence of str, default=None
        Columns of a DataFrame X holding shop context (not nodes). Context is
        not used by this method.
    shop_column : str, default="shop_id"
        Shop column of a long DataFrame.
    time_column : str, default="date"
        Time column of a long DataFrame.
    random_state : int, RandomState instance or None, default=None
        Unused (the method is deterministic); accepted so that every
        discoverer takes the same parameters.

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` is ``-log10`` of the p-value of ``i -> j`` in shop ``s``
        (row = cause), in ``[0, 300]``; the diagonal is 0. Not a probability:
        the name is shared by every discoverer; only the ranking matters for
        the graph metrics.
    adjacency_matrix_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        Alias of ``edge_probabilities_``.
    node_names_ : list of str
    shop_ids_ : list
    n_features_in_ : int
        Number of nodes.

    See Also
    --------
    sklearn_causalmmm.baselines.pcmci.PCMCIDiscoverer : Conditional
        independence based discovery (tigramite).
    sklearn_causalmmm.baselines.varlingam.VARLiNGAMDiscoverer : VAR plus
        non-Gaussian instantaneous effects (lingam).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.linear_granger import (
    ...     LinearGrangerDiscoverer)
    >>> rng = np.random.default_rng(0)
    >>> a = rng.gamma(2.0, size=(3, 200))
    >>> b = 1.0 + np.pad(0.8 * a[:, :-1], ((0, 0), (1, 0))) + rng.gamma(
    ...     2.0, size=(3, 200))
    >>> X = np.stack([a, b], axis=1)  # (n_shops, n_nodes, n_steps)
    >>> scores = LinearGrangerDiscoverer(max_lag=2).fit(X).edge_probabilities_
    >>> scores.shape
    (3, 2, 2)
    >>> bool((scores[:, 0, 1] > scores[:, 1, 0]).all())  # a -> b, not b -> a
    True
    """

    def __init__(
        self,
        max_lag: int = DEFAULT_MAX_LAG,
        *,
        context_columns=None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        random_state=None,
    ) -> None:
        self.max_lag = max_lag
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column
        self.random_state = random_state

    def _score_graphs(self, panel: Panel, rng) -> np.ndarray:
        max_lag = check_max_lag(self.max_lag)
        check_series_length(panel, max_lag)
        scores = np.zeros((panel.n_shops, panel.n_nodes, panel.n_nodes))
        for s, series in enumerate(shop_series(panel)):
            _, p_value = granger_f_test(series, max_lag)
            scores[s] = neg_log10(p_value)
            np.fill_diagonal(scores[s], 0.0)
        return scores

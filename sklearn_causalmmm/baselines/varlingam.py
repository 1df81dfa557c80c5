"""VARLiNGAM (lingam), run on every shop separately.

VARLiNGAM (Hyvärinen et al., JMLR 2010) fits a VAR to the series, then runs
LiNGAM on the VAR residuals to find the instantaneous (lag 0) effects from
their non-Gaussianity, and combines both into structural matrices
``B_0, B_1, ..., B_p`` of ``x(t) = sum_tau B_tau x(t - tau) + e(t)``. This
module runs lingam's implementation on each shop's series over its observed
span and scores the edge ``i -> j`` by ``max over tau in 0..p of
|B_tau[j, i]|``.

Orientation: lingam's matrices are ``[effect, cause]`` (row = effect: the
equation of ``x_j(t)`` is row j, so ``B_tau[j, i]`` is the effect of
``x_i(t - tau)`` on ``x_j(t)``). The package's convention is
``[cause, effect]``, so the matrices are explicitly transposed;
``tests/test_varlingam.py`` checks it on a one-edge example.

lingam fits the VAR without an intercept, so each shop's scaled series is
z-scored (centred and divided by its standard deviation over the shop's
span) before the fit; the coefficients are then in standard-deviation units,
comparable from edge to edge. lingam is an optional dependency:
``pip install sklearn-causalmmm[causal]``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings

import numpy as np
from joblib import Parallel, delayed

from sklearn_causalmmm.base import BaseDiscoverer
from sklearn_causalmmm.baselines._timeseries import (
    DEFAULT_MAX_LAG,
    check_max_lag,
    check_series_length,
    import_optional,
    shop_series,
    varying_nodes,
)
from sklearn_causalmmm.panel import Panel

__all__ = ["VARLiNGAMDiscoverer", "lingam_to_cause_effect", "varlingam_min_steps"]


def varlingam_min_steps(max_lag: int, n_nodes: int) -> int:
    """Fewest observed steps a shop needs for VARLiNGAM with up to ``max_lag`` lags.

    Choosing the order by an information criterion needs a full-rank residual
    covariance at every order up to ``max_lag``: more residual rows
    (``n_steps - max_lag``) than coefficients per equation plus nodes
    (``n_nodes * max_lag + 1 + n_nodes``); so does the pruning regression.
    Hence ``n_steps >= (n_nodes + 1) * (max_lag + 1)``, stricter than
    :func:`~sklearn_causalmmm.baselines._timeseries.min_steps_for`.
    """
    return (n_nodes + 1) * (max_lag + 1)


_CRITERIA = ("aic", "fpe", "hqic", "bic")


def lingam_to_cause_effect(adjacency_matrices: np.ndarray) -> np.ndarray:
    """lingam's ``(n_lags + 1, effect, cause)`` matrices -> ``(cause, effect)`` scores.

    Parameters
    ----------
    adjacency_matrices : ndarray of shape (n_lags + 1, d, d)
        ``VARLiNGAM.adjacency_matrices_``: ``[tau, j, i]`` is the effect of
        node i at ``t - tau`` on node j at t.

    Returns
    -------
    scores : ndarray of shape (d, d)
        ``scores[i, j] = max over tau of |adjacency_matrices[tau, j, i]|``
        (row = cause); the diagonal is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.varlingam import lingam_to_cause_effect
    >>> B = np.zeros((2, 2, 2))
    >>> B[1, 1, 0] = -0.8  # x_1(t) = -0.8 x_0(t - 1) + e: node 0 drives node 1
    >>> lingam_to_cause_effect(B)
    array([[0. , 0.8],
           [0. , 0. ]])
    """
    effect_cause = np.abs(np.asarray(adjacency_matrices, dtype=np.float64)).max(axis=0)
    scores = np.nan_to_num(effect_cause.T, nan=0.0)
    np.fill_diagonal(scores, 0.0)
    return scores


def _varlingam_one_shop(
    series: np.ndarray, max_lag: int, criterion, prune: bool, seed: int
) -> np.ndarray:
    """``(d, d)`` scores of one shop, row = cause."""
    from lingam import VARLiNGAM

    n_nodes = series.shape[1]
    scores = np.zeros((n_nodes, n_nodes))
    # A constant node makes the VAR's normal equations singular; it carries no
    # information in this shop anyway.
    keep = np.flatnonzero(varying_nodes(series))
    if len(keep) < 2:
        return scores
    kept = series[:, keep]
    z = (kept - kept.mean(axis=0)) / kept.std(axis=0)
    model = VARLiNGAM(lags=max_lag, criterion=criterion, prune=prune, random_state=seed)
    with warnings.catch_warnings():
        # statsmodels and the adaptive lasso of the pruning step warn about
        # convergence and frequencies on these short, index-free series.
        warnings.simplefilter("ignore")
        model.fit(z)
    scores[np.ix_(keep, keep)] = lingam_to_cause_effect(model.adjacency_matrices_)
    np.fill_diagonal(scores, 0.0)
    return scores


class VARLiNGAMDiscoverer(BaseDiscoverer):
    """Per-shop VARLiNGAM causal discovery with lingam.

    Fits lingam's VARLiNGAM (lags up to ``max_lag``) on every shop's z-scored
    series and scores the edge ``i -> j`` by the largest absolute structural
    coefficient of node i on node j over lags ``0..max_lag``. lingam's
    ``[effect, cause]`` matrices are transposed to the package's
    ``[cause, effect]``. The method is transductive: :meth:`predict_graph` on
    new shops refits on them.

    Requires the optional extra: ``pip install sklearn-causalmmm[causal]``
    (lingam>=1.9). Without it, :meth:`fit` raises an ImportError that says so.

    Parameters
    ----------
    max_lag : int, default=5
        Largest VAR lag (lingam's ``lags``). 5 is the lag budget every
        discoverer in the package gets by default. Each shop needs at least
        ``(n_nodes + 1) * max_lag + 2`` observed steps; a shorter shop makes
        :meth:`fit` raise a ValueError.
    criterion : {"bic", "aic", "hqic", "fpe"} or None, default="bic"
        Information criterion that picks each shop's VAR order among
        ``1..max_lag`` (lingam's default); ``None`` always uses ``max_lag``.
    prune : bool, default=True
        Prune the structural matrices with the adaptive lasso (lingam's
        default), which sets weak coefficients to exactly 0.
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
        Seeds lingam for every shop. The same seed gives the same scores.

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` is the score of ``i -> j`` in shop ``s`` (row = cause):
        ``max over tau of |B_tau[j, i]|`` on z-scored series; the diagonal is
        0. Not a probability: the name is shared by every discoverer; only
        the ranking matters for the graph metrics.
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
    A. Hyvärinen, K. Zhang, S. Shimizu, P. O. Hoyer. Estimation of a
    structural vector autoregression model using non-Gaussianity. Journal of
    Machine Learning Research 11: 1709-1731 (2010).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.baselines.varlingam import VARLiNGAMDiscoverer
    >>> rng = np.random.default_rng(0)
    >>> a = rng.gamma(2.0, size=(2, 150))
    >>> b = 1.0 + np.pad(0.8 * a[:, :-1], ((0, 0), (1, 0))) + rng.gamma(
    ...     2.0, size=(2, 150))
    >>> X = np.stack([a, b], axis=1)  # (n_shops, n_nodes, n_steps)
    >>> est = VARLiNGAMDiscoverer(max_lag=2, random_state=0)
    >>> scores = est.fit(X).edge_probabilities_  # doctest: +SKIP
    >>> bool((scores[:, 0, 1] > scores[:, 1, 0]).all())  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        max_lag: int = DEFAULT_MAX_LAG,
        *,
        criterion: str | None = "bic",
        prune: bool = True,
        n_jobs: int | None = None,
        context_columns=None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        random_state=None,
    ) -> None:
        self.max_lag = max_lag
        self.criterion = criterion
        self.prune = prune
        self.n_jobs = n_jobs
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column
        self.random_state = random_state

    def _score_graphs(self, panel: Panel, rng) -> np.ndarray:
        import_optional("lingam", type(self).__name__)
        max_lag = check_max_lag(self.max_lag)
        if self.criterion is not None and self.criterion not in _CRITERIA:
            raise ValueError(
                f"criterion must be one of {list(_CRITERIA)} or None, "
                f"got {self.criterion!r}."
            )
        if not isinstance(self.prune, bool | np.bool_):
            raise ValueError(f"prune must be a bool, got {self.prune!r}.")
        check_series_length(
            panel,
            max_lag,
            need=varlingam_min_steps(max_lag, panel.n_nodes),
            rule="(n_nodes + 1) * (max_lag + 1)",
        )
        series = shop_series(panel)
        # One seed per shop, drawn up front so that n_jobs does not change them.
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(series))
        scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_varlingam_one_shop)(
                x, max_lag, self.criterion, bool(self.prune), int(seed)
            )
            for x, seed in zip(series, seeds, strict=True)
        )
        return np.stack(scores)

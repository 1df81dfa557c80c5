"""How the discoverer pools shops' graphs after its encoder.

:class:`GraphTypePooling` is the component ``CausalGraphDiscoverer(pooling=...)``
takes. It fits a :class:`GraphTypeMixture` to the encoder's posteriors and
pools each type with a Granger test on its shops' series
(:func:`type_granger_log_bayes_factors`).

Graph types
-----------

Pooling shops' graph posteriors through a mixture of graph types.

Shops of one business tend to share a few causal structures, but each shop's
posterior is read from its own short series. :class:`GraphTypeMixture` fits,
by EM, a mixture of ``K`` prototype graphs to the evidence the per-shop
posteriors carry, and returns each shop's posterior under that learned prior
(empirical Bayes): an edge its series leaves uncertain is decided by the
shops of its type, while strong evidence of its own still overrides them.

The evidence of edge ``e`` in shop ``s`` is the likelihood ratio implied by a
mean-field posterior ``q`` fitted under an independent prior ``rho`` with KL
weight ``w`` (the ELBO's optimum ``q / (1 - q) = LR**(1 / w) rho / (1 - rho)``)::

    log LR[s, e] = w * (logit q[s, e] - logit rho)

Under prototype ``k`` the edge is present with probability ``p[k, e]``, so

    P(shop s | type k) = prod_e (1 + p[k, e] (LR[s, e] - 1))   (up to a constant)
    P(edge | shop s, type k) = p[k, e] LR[s, e] / (1 + p[k, e] (LR[s, e] - 1))

and the pooled posterior averages the latter over the type's posterior
probability. ``n_types="auto"`` picks ``K`` by BIC.

``shop_evidence_weight`` raises a shop's own likelihood ratios to that power
in the reported edge posterior (the types are still chosen on the full
evidence). An amortised encoder's posterior is not the evidence of the shop's
series alone: the encoder learned from every shop which edges are common, and
the prototypes were fitted to those same posteriors, so at full weight what
the panel shares counts twice. The discoverer counts a shop's own evidence at
half weight (see :class:`~sklearn_causalmmm.CausalGraphDiscoverer`).

:meth:`GraphTypeMixture.pool_type_evidence` adds evidence read from each
type's own series (see :mod:`sklearn_causalmmm._causalmmm.pooling`): a type's edge
probability in :meth:`~GraphTypeMixture.posterior` becomes the logarithmic
opinion pool, with equal weights, of its prototype and the posterior that
evidence gives under ``rho``. The prototypes still choose the types.

Each type's own Granger test
----------------------------

Granger tests on the pooled series of every graph type.

A shop's own series are short: with 20 nodes and 100 days, a regression of a
receiver on every node's lags has as many unknowns as a shop has steps, so the
per-shop statistics the encoder reads cannot tell a sender from a sibling that
shares its parents. The shops of one graph type share their graph, though, so
one regression over all of them has a hundred times the data. For every type
``k`` and receiver ``j``, :func:`type_granger_log_bayes_factors` fits

    z_j(t) ~ sum_i sum_{l=1..L} b[i, l] z_i(t - l)

over every shop, each shop weighted by its probability of type ``k`` (``z``
is z-scored per shop and node), and tests ``b[i, :] = 0`` for each sender
``i`` with a Wald statistic ``chi2[k, i, j]`` (``L`` degrees of freedom).

Two corrections make the statistic usable as evidence:

- **Inflation.** The regression is linear while the shops' responses saturate
  and carry over, so with enough data even absent edges test as significant
  (at 720 steps, the median statistic of a type was up to 8 times its null
  median). As in genomic control, every statistic of a type is divided by
  ``max(1, median / chi2_L median)``, the median taken over the type's
  off-diagonal edges: most edges of a marketing graph are absent, so the
  median is a null edge's.
- **Bayes factor.** The deflated statistic becomes a log Bayes factor by
  Schwarz's approximation, ``chi2 / 2 - (L / 2) log n``, with ``n`` the
  type's weighted number of regression rows.
"""


# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import logging
import numbers

import numpy as np
from scipy.special import expit, logit, logsumexp
from scipy.stats import chi2 as chi2_distribution
from sklearn.base import BaseEstimator

from sklearn_causalmmm.base import flatten_off_diagonal, unflatten_off_diagonal
from sklearn_causalmmm.utils.lags import (
    lag_design,
    normal_equations,
    valid_windows,
    wald_statistics,
)
from sklearn_causalmmm.utils.series import standardise_observed
from sklearn_causalmmm.utils.validation import check_finite_non_negative

logger = logging.getLogger(__name__)

__all__ = [
    "GraphTypeMixture",
    "GraphTypePooling",
    "type_granger_log_bayes_factors",
    "type_wald_statistics",
]

# Posteriors are clipped away from 0 and 1: an exact 0 or 1 would be infinite
# evidence that no prototype could ever outweigh.
_CLIP = 1e-6
# Prototype probabilities stay inside (0, 1) for the same reason.
_PROTOTYPE_CLIP = 1e-4


class GraphTypeMixture:
    """Mixture of prototype graphs fitted to per-shop edge posteriors.

    Parameters
    ----------
    n_types : int or "auto", default="auto"
        Number of graph types; "auto" tries 1, 2, ... up to ``max_types`` and
        keeps the lowest BIC, stopping once two more types did not lower it.
    prior_edge_probability : float, default=0.2
        The independent prior ``rho`` the posteriors were fitted under.
    evidence_weight : float or ndarray of shape (n_shops,), default=1.0
        The KL weight ``w`` they were fitted with (per shop if it varies).
        Keep it near 1: with ``w = 3.6`` (the discoverer's weight on 360-step
        shops) 6 % of the pooled probabilities of a Sim-1-like panel reached
        exactly 1.0, whose ties cut the per-shop AUPRC from 0.976 to 0.890;
        with 1 it was 0.990. Posteriors clipped to ``[1e-6, 1 - 1e-6]`` and
        prototypes to ``[1e-4, 1 - 1e-4]`` keep the pooled log odds within
        +-25 at ``w = 1``, well inside float64's resolution near 1.
    shop_evidence_weight : float, default=1.0
        Power on each shop's likelihood ratios in :meth:`posterior`, once its
        types are known: 1 is Bayes' rule with the prototypes as the prior,
        values below 1 lean each shop toward its types' prototypes (0 reports
        them as they are). :meth:`type_probabilities` always weighs the full
        evidence.
    max_types : int, default=10
    n_init : int, default=3
        EM restarts from different shops; the best likelihood is kept.
    max_iter : int, default=300
    tol : float, default=1e-6
        Relative change of the log likelihood that ends EM.
    random_state : int or RandomState, default=None

    Attributes
    ----------
    n_types_ : int
    prototypes_ : ndarray of shape (n_types_, n_edges)
        Edge probability of each type, fitted to the shops' posteriors.
    edge_prototypes_ : ndarray of shape (n_types_, n_edges)
        The edge probability of each type that :meth:`posterior` uses:
        ``prototypes_``, pooled with the types' own evidence once
        :meth:`pool_type_evidence` was called.
    weights_ : ndarray of shape (n_types_,)
    bic_ : dict of int to float
        BIC of every number of types tried.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.pooling import GraphTypeMixture
    >>> rng = np.random.RandomState(0)
    >>> truth = np.repeat([[1, 0, 1, 0], [0, 1, 0, 1]], 50, axis=0)
    >>> noisy = np.clip(0.6 * truth + 0.2 + 0.15 * rng.randn(100, 4), 0.01, 0.99)
    >>> # posteriors at 0.2 are evidence against an edge only under a higher prior
    >>> mixture = GraphTypeMixture(prior_edge_probability=0.5, random_state=0)
    >>> mixture = mixture.fit(noisy)
    >>> mixture.n_types_
    2
    >>> bool((np.round(mixture.posterior(noisy)) == truth).all())
    True
    """

    def __init__(
        self,
        n_types: int | str = "auto",
        prior_edge_probability: float = 0.2,
        evidence_weight: float | np.ndarray = 1.0,
        shop_evidence_weight: float = 1.0,
        max_types: int = 10,
        n_init: int = 3,
        max_iter: int = 300,
        tol: float = 1e-6,
        random_state=None,
    ) -> None:
        self.n_types = n_types
        self.prior_edge_probability = prior_edge_probability
        self.evidence_weight = evidence_weight
        self.shop_evidence_weight = shop_evidence_weight
        self.max_types = max_types
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _likelihood_ratio(self, edge_probabilities, evidence_weight) -> np.ndarray:
        q = np.clip(np.asarray(edge_probabilities, dtype=np.float64), _CLIP, 1 - _CLIP)
        if evidence_weight is None:
            evidence_weight = self.evidence_weight
        weight = np.asarray(evidence_weight, dtype=np.float64).reshape(-1, 1)
        return np.exp(weight * (logit(q) - logit(self.prior_edge_probability)))

    def fit(self, edge_probabilities: np.ndarray) -> GraphTypeMixture:
        """Fit the types to posteriors of shape ``(n_shops, n_edges)``."""
        from sklearn.utils import check_random_state

        check_finite_non_negative(self.shop_evidence_weight, "shop_evidence_weight")
        ratio = self._likelihood_ratio(edge_probabilities, None)
        n_shops, n_edges = ratio.shape
        rng = check_random_state(self.random_state)
        if self.n_types == "auto":
            candidates = range(1, min(self.max_types, n_shops) + 1)
        elif (
            isinstance(self.n_types, numbers.Integral) and 1 <= self.n_types <= n_shops
        ):
            candidates = [int(self.n_types)]
        else:
            raise ValueError(
                f"n_types must be 'auto' or an int in [1, {n_shops}] (the number "
                f"of shops), got {self.n_types!r}."
            )
        self.bic_ = {}
        best = None
        for n_types in candidates:
            fit = self._best_of_restarts(ratio, n_types, rng)
            n_parameters = n_types * n_edges + n_types - 1
            self.bic_[n_types] = -2.0 * fit[0] + n_parameters * np.log(n_shops)
            if best is None or self.bic_[n_types] < self.bic_[best[0]]:
                best = (n_types, fit)
            elif n_types - best[0] >= 2:
                break
        self.n_types_, (_, self.prototypes_, self.weights_) = best
        self.edge_prototypes_ = self.prototypes_
        return self

    def pool_type_evidence(self, log_bayes_factors: np.ndarray) -> GraphTypeMixture:
        """Pool each type's prototype with evidence read from the type itself.

        Parameters
        ----------
        log_bayes_factors : ndarray of shape (n_types_, n_edges)
            Log Bayes factor of every edge of every type, e.g. from a test on
            the type's pooled series. A row of NaN (a type without enough
            data) leaves that type's prototype as it is.

        Returns
        -------
        self
            With ``edge_prototypes_`` = ``expit((logit(prototypes_) +
            logit(evidence posterior)) / 2)``, where the evidence posterior is
            that of the Bayes factors under ``prior_edge_probability``,
            clipped like the prototypes.
        """
        evidence = np.asarray(log_bayes_factors, dtype=np.float64)
        if evidence.shape != self.prototypes_.shape:
            raise ValueError(
                f"log_bayes_factors has shape {evidence.shape}, but the mixture "
                f"has {self.prototypes_.shape} (types, edges)."
            )
        bound = logit(1 - _PROTOTYPE_CLIP)
        posterior = np.clip(
            logit(self.prior_edge_probability) + evidence, -bound, bound
        )
        pooled = expit(0.5 * (logit(self.prototypes_) + posterior))
        usable = np.isfinite(evidence).all(axis=1)
        self.edge_prototypes_ = np.where(usable[:, None], pooled, self.prototypes_)
        return self

    def _best_of_restarts(self, ratio: np.ndarray, n_types: int, rng):
        best = None
        for _ in range(self.n_init):
            start = ratio[rng.choice(len(ratio), n_types, replace=False)]
            prior = self.prior_edge_probability
            prototypes = np.clip(_edge_posterior(start, prior), 0.05, 0.95)
            fit = self._em(ratio, prototypes)
            if best is None or fit[0] > best[0]:
                best = fit
        return best

    def _em(self, ratio: np.ndarray, prototypes: np.ndarray):
        n_types = len(prototypes)
        weights = np.full(n_types, 1.0 / n_types)
        previous = -np.inf
        for _ in range(self.max_iter):
            log_joint, edge_given_type = _e_step(ratio, prototypes, weights)
            log_likelihood = logsumexp(log_joint, axis=1)
            responsibilities = np.exp(log_joint - log_likelihood[:, None])
            total = log_likelihood.sum()
            counts = responsibilities.sum(axis=0) + 1e-12
            prototypes = np.einsum("sk,ske->ke", responsibilities, edge_given_type)
            prototypes = np.clip(
                prototypes / counts[:, None], _PROTOTYPE_CLIP, 1 - _PROTOTYPE_CLIP
            )
            weights = np.maximum(counts / len(ratio), 1e-12)
            if total - previous <= self.tol * abs(total):
                break
            previous = total
        return total, prototypes, weights

    def type_probabilities(
        self, edge_probabilities: np.ndarray, evidence_weight=None
    ) -> np.ndarray:
        """Posterior probability of each type for every shop, ``(n_shops, n_types_)``.

        ``evidence_weight`` defaults to the one given at construction.
        """
        ratio = self._likelihood_ratio(edge_probabilities, evidence_weight)
        log_joint, _ = _e_step(ratio, self.prototypes_, self.weights_)
        return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))

    def posterior(
        self, edge_probabilities: np.ndarray, evidence_weight=None
    ) -> np.ndarray:
        """Each shop's edge probabilities under the fitted mixture prior.

        ``evidence_weight`` defaults to the one given at construction; the
        edges given each type weigh it by ``shop_evidence_weight`` on top.
        """
        # checked here too: the weight may be changed on a fitted mixture
        check_finite_non_negative(self.shop_evidence_weight, "shop_evidence_weight")
        types = self.type_probabilities(edge_probabilities, evidence_weight)
        if evidence_weight is None:
            evidence_weight = self.evidence_weight
        shop_weight = np.asarray(evidence_weight) * self.shop_evidence_weight
        ratio = self._likelihood_ratio(edge_probabilities, shop_weight)
        edge_given_type = _edge_posterior(ratio[:, None], self.edge_prototypes_[None])
        return np.einsum("sk,ske->se", types, edge_given_type)


class GraphTypePooling(BaseEstimator):
    """Pool every shop's graph with the shops of its graph type.

    The component :class:`~sklearn_causalmmm.CausalGraphDiscoverer` applies
    after its encoder (``pooling="graph_types"`` is this class with its
    defaults). It fits a :class:`GraphTypeMixture` to the encoder's edge
    posteriors, optionally pools each type's prototype with a Granger test on
    the type's own series (:func:`type_granger_log_bayes_factors`), and reports
    each shop's posterior under its types, counting the shop's own evidence at
    ``shop_evidence_weight``.

    Parameters
    ----------
    n_types : int or "auto", default="auto"
        Number of graph types; "auto" picks it by BIC.
    shop_evidence_weight : float, default=0.5
        Power on each shop's own likelihood ratios in the reported posterior
        (1: Bayes' rule with the types as the prior; 0: the types' graphs).
        An amortised encoder learned from every shop which edges are common,
        so at full weight what the panel shares counts twice (the benchmark
        figures behind the default are in ``docs/model.md``).
    type_test : bool, default=True
        Pool each type's prototype with a Granger test on its shops' series
        (needs the encoder's ``n_lags > 0``).

    Notes
    -----
    The pooling checks its two assumptions on the data and stands down, with
    a log line (logger ``sklearn_causalmmm._causalmmm.pooling``, level INFO),
    when one fails:

    - *A few graph types.* If the BIC keeps improving up to the largest number
      of types tried (10), or the types' prototypes are no more certain about
      an edge than the prior (mean binary entropy, weighted by the types'
      shares, at least the prior's), the shops do not fall into a few
      structures (every shop may have its own graph): :meth:`transform`
      returns the encoder's posteriors as they are (``active_`` is False).
    - *Sparse graphs.* The type test's median deflation reads the median
      edge of a type as a null edge, so it assumes that fewer than half of
      the type's edges are present. A type whose prototype has half of its
      edges or more above 1/2 is tested without deflation
      (``deflated_types_``).

    Attributes
    ----------
    active_ : bool
        False when the pooling stood down (no few graph types).
    deflated_types_ : ndarray of bool, shape (n_types_,)
        Types whose type test was deflated by their median statistic.
    mixture_ : GraphTypeMixture
    n_types_ : int
    graph_types_ : ndarray of shape (n_types_, n_nodes, n_nodes)
        Edge probabilities of each type.
    type_probabilities_ : ndarray of shape (n_shops, n_types_)
        Posterior probability of each type for every fitted shop.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.estimators import GraphTypePooling
    >>> rng = np.random.RandomState(0)
    >>> truth = np.zeros((100, 3, 3))
    >>> truth[:50, 0, 1] = truth[50:, 1, 2] = 1
    >>> noisy = np.clip(0.6 * truth + 0.2 + 0.15 * rng.randn(100, 3, 3), 0.01, 0.99)
    >>> pooling = GraphTypePooling(type_test=False)
    >>> pooling = pooling.fit(noisy, prior_edge_probability=0.5, random_state=0)
    >>> pooling.n_types_
    2
    >>> off_diagonal = ~np.eye(3, dtype=bool)
    >>> pooled = pooling.transform(noisy)
    >>> bool((np.round(pooled[:, off_diagonal]) == truth[:, off_diagonal]).all())
    True
    """

    def __init__(
        self,
        n_types: int | str = "auto",
        shop_evidence_weight: float = 0.5,
        type_test: bool = True,
    ) -> None:
        self.n_types = n_types
        self.shop_evidence_weight = shop_evidence_weight
        self.type_test = type_test

    def fit(
        self,
        edge_probabilities: np.ndarray,
        values: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        *,
        prior_edge_probability: float,
        n_lags: int = 0,
        random_state=None,
    ) -> GraphTypePooling:
        """Fit the graph types to the encoder's posteriors of the fitted shops.

        Parameters
        ----------
        edge_probabilities : ndarray of shape (n_shops, n_nodes, n_nodes)
            The encoder's posterior of each shop.
        values : ndarray of shape (n_shops, n_nodes, n_steps), default=None
            The shops' series, for the type test.
        mask : ndarray of shape (n_shops, n_steps), default=None
            Their observed steps.
        prior_edge_probability : float
            The prior the posteriors were fitted under.
        n_lags : int, default=0
            Lags of the type test (0 skips it).
        random_state : int, RandomState or None, default=None

        Returns
        -------
        self
        """
        rows = flatten_off_diagonal(np.asarray(edge_probabilities, dtype=np.float64))
        mixture = GraphTypeMixture(
            self.n_types,
            prior_edge_probability=prior_edge_probability,
            shop_evidence_weight=self.shop_evidence_weight,
            random_state=random_state,
        ).fit(rows)
        self.type_probabilities_ = mixture.type_probabilities(rows)
        n_tried = max(mixture.bic_)
        # the types must say more about an edge than the prior does: BIC still
        # falling at the largest number of types, or prototypes no more
        # certain than the prior, mean the shops share no few graphs
        uncertainty = mixture.weights_ @ _entropy(mixture.prototypes_).mean(axis=1)
        many = (
            self.n_types == "auto"
            and mixture.n_types_ == n_tried
            and n_tried == mixture.max_types
        )
        vague = uncertainty >= _entropy(prior_edge_probability)
        self.active_ = not (many or vague)
        if not self.active_:
            logger.info(
                "graph-type pooling stands down: %s, so the shops share no few "
                "graphs; the encoder's graphs are reported as they are",
                f"the BIC kept falling up to {n_tried} types"
                if many
                else "the graph types are no more certain about an edge than the prior",
            )
        density = (mixture.prototypes_ > 0.5).mean(axis=1)
        self.deflated_types_ = density < 0.5
        if not self.deflated_types_.all():
            logger.info(
                "type test without median deflation for type(s) %s: half of "
                "their edges or more are present, so the median edge is no null",
                np.flatnonzero(~self.deflated_types_).tolist(),
            )
        if self.active_ and self.type_test and n_lags > 0 and values is not None:
            evidence = type_granger_log_bayes_factors(
                values,
                mask,
                self.type_probabilities_,
                n_lags,
                deflate=self.deflated_types_,
            )
            mixture.pool_type_evidence(flatten_off_diagonal(evidence))
        self.mixture_ = mixture
        self.n_types_ = mixture.n_types_
        self.graph_types_ = unflatten_off_diagonal(mixture.edge_prototypes_)
        return self

    def transform(self, edge_probabilities: np.ndarray) -> np.ndarray:
        """Each shop's pooled graph ``(n_shops, n_nodes, n_nodes)``.

        The encoder's posteriors unchanged when the pooling stood down.
        """
        if not getattr(self, "active_", True):
            return np.asarray(edge_probabilities, dtype=np.float64)
        rows = flatten_off_diagonal(np.asarray(edge_probabilities, dtype=np.float64))
        return unflatten_off_diagonal(self.mixture_.posterior(rows))


def _e_step(ratio: np.ndarray, prototypes: np.ndarray, weights: np.ndarray):
    """``log P(shop, type)`` ``(S, K)`` and ``P(edge | shop, type)`` ``(S, K, E)``."""
    denominator = 1.0 + prototypes[None] * (ratio[:, None] - 1.0)
    log_joint = np.log(weights)[None] + np.log(denominator).sum(axis=-1)
    return log_joint, prototypes[None] * ratio[:, None] / denominator


def _entropy(p) -> np.ndarray:
    """Binary entropy (nats) of edge probabilities."""
    p = np.clip(p, _CLIP, 1 - _CLIP)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


def _edge_posterior(ratio: np.ndarray, prior: float | np.ndarray) -> np.ndarray:
    """``P(edge)`` given likelihood ratios and a prior edge probability."""
    return prior * ratio / (1.0 + prior * (ratio - 1.0))


# Shops per block of the normal equations: bounds the memory of the lag design.
_SHOPS_PER_BLOCK = 64
# Ridge on the normal equations relative to the rows, only to keep collinear
# lags (a channel that is constant in every shop) solvable.
_RELATIVE_RIDGE = 1e-8


def type_granger_log_bayes_factors(
    values: np.ndarray,
    mask: np.ndarray,
    type_probabilities: np.ndarray,
    n_lags: int,
    deflate: bool | np.ndarray = True,
) -> np.ndarray:
    """Log Bayes factor of every edge of every graph type, from pooled series.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
    mask : ndarray of shape (n_shops, n_steps), bool
        Observed steps; a lag window counts only if all its steps are.
    type_probabilities : ndarray of shape (n_shops, n_types)
        Each shop's weight in each type's regression.
    n_lags : int
        Lags ``L`` of every node in the regression (``L >= 1``).
    deflate : bool or ndarray of bool, shape (n_types,), default=True
        Divide each type's statistics by their median over a null edge's
        (genomic control); only valid when most of the type's edges are
        absent.

    Returns
    -------
    log_bayes_factors : ndarray of shape (n_types, n_nodes, n_nodes)
        ``[k, i, j]`` is the log Bayes factor of ``i -> j`` in type ``k``,
        positive for evidence of the edge; 0 on the diagonal. A type whose
        weighted rows do not exceed the regression's unknowns gets NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.pooling import type_granger_log_bayes_factors
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(40, 3, 60)
    >>> x[:, 1, 1:] += 0.8 * x[:, 0, :-1]  # 0 -> 1 in every shop
    >>> mask = np.ones((40, 60), dtype=bool)
    >>> evidence = type_granger_log_bayes_factors(x, mask, np.ones((40, 1)), 2)
    >>> bool(evidence[0, 0, 1] > 100), bool(evidence[0, 1, 0] < 0)
    (True, True)
    """
    statistics, n_rows = type_wald_statistics(values, mask, type_probabilities, n_lags)
    deflate = np.broadcast_to(np.asarray(deflate, dtype=bool), n_rows.shape)
    triples = zip(statistics, n_rows, deflate, strict=True)
    return np.stack([_log_bayes_factor(s, n, n_lags, d) for s, n, d in triples])


def type_wald_statistics(
    values: np.ndarray,
    mask: np.ndarray,
    type_probabilities: np.ndarray,
    n_lags: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Wald statistic of every sender's lags in every type's pooled regression.

    Parameters are those of :func:`type_granger_log_bayes_factors`.

    Returns
    -------
    statistics : ndarray of shape (n_types, n_nodes, n_nodes)
        ``[k, i, j]``: the Wald statistic of ``b[i, :] = 0`` in the regression
        of receiver ``j`` (``L`` degrees of freedom under the null); NaN for a
        type whose weighted rows do not exceed the unknowns.
    n_rows : ndarray of shape (n_types,)
        Weighted number of regression rows of each type.
    """
    if n_lags < 1:
        raise ValueError(f"n_lags must be >= 1, got {n_lags}.")
    n_shops, n_nodes, n_steps = values.shape
    weights = np.asarray(type_probabilities, dtype=np.float64)
    if weights.shape[0] != n_shops:
        raise ValueError(
            f"type_probabilities has {weights.shape[0]} rows for {n_shops} shops."
        )
    n_types = weights.shape[1]
    n_columns = n_nodes * n_lags
    gram = np.zeros((n_types, n_columns, n_columns))
    cross = np.zeros((n_types, n_columns, n_nodes))
    squares = np.zeros((n_types, n_nodes))
    n_rows = np.zeros(n_types)
    # standardising is per shop, so a block of shops needs only its own series
    for start in range(0, n_shops, _SHOPS_PER_BLOCK):
        block = slice(start, start + _SHOPS_PER_BLOCK)
        values_block = np.asarray(values[block], dtype=np.float64)
        z = standardise_observed(values_block, mask[block], np.float64)
        rows = valid_windows(mask[block], n_lags).astype(np.float64)
        target, design, senders = lag_design(z, n_lags)
        design = design.reshape(-1, n_columns)
        target = target.reshape(-1, n_nodes)
        for k in range(n_types):
            row_weights = (weights[block, k, None] * rows).reshape(-1)
            sums = normal_equations(design, target, row_weights)
            gram[k] += sums[0]
            cross[k] += sums[1]
            squares[k] += sums[2]
        n_rows += np.einsum("sk,sw->k", weights[block], rows)
    statistics = np.full((n_types, n_nodes, n_nodes), np.nan)
    for k in range(n_types):
        if n_rows[k] > n_columns + 1:
            statistics[k] = wald_statistics(
                gram[k], cross[k], squares[k], n_rows[k], senders, ridge=_RELATIVE_RIDGE
            )
    return statistics, n_rows


def _log_bayes_factor(statistic, n_rows, n_lags, deflate=True) -> np.ndarray:
    """Deflate by the median off-diagonal statistic, then Schwarz's approximation."""
    if np.isnan(statistic).all():
        return statistic
    off_diagonal = ~np.eye(len(statistic), dtype=bool)
    null_median = chi2_distribution.ppf(0.5, n_lags)
    inflation = 1.0
    if deflate:
        inflation = max(1.0, np.median(statistic[off_diagonal]) / null_median)
    log_bayes_factor = statistic / (2.0 * inflation) - 0.5 * n_lags * np.log(n_rows)
    log_bayes_factor[~off_diagonal] = 0.0
    return log_bayes_factor

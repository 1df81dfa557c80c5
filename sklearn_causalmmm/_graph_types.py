"""Pooling shops' graph posteriors through a mixture of graph types.

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
type's own series (see :mod:`sklearn_causalmmm._type_granger`): a type's edge
probability in :meth:`~GraphTypeMixture.posterior` becomes the logarithmic
opinion pool, with equal weights, of its prototype and the posterior that
evidence gives under ``rho``. The prototypes still choose the types.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import expit, logit, logsumexp

from sklearn_causalmmm._validation import check_finite_non_negative

__all__ = ["GraphTypeMixture"]

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
    >>> from sklearn_causalmmm._graph_types import GraphTypeMixture
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


def _e_step(ratio: np.ndarray, prototypes: np.ndarray, weights: np.ndarray):
    """``log P(shop, type)`` ``(S, K)`` and ``P(edge | shop, type)`` ``(S, K, E)``."""
    denominator = 1.0 + prototypes[None] * (ratio[:, None] - 1.0)
    log_joint = np.log(weights)[None] + np.log(denominator).sum(axis=-1)
    return log_joint, prototypes[None] * ratio[:, None] / denominator


def _edge_posterior(ratio: np.ndarray, prior: float | np.ndarray) -> np.ndarray:
    """``P(edge)`` given likelihood ratios and a prior edge probability."""
    return prior * ratio / (1.0 + prior * (ratio - 1.0))

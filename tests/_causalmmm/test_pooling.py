import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, average_precision_score, roc_auc_score

from sklearn_causalmmm._causalmmm.pooling import GraphTypeMixture, GraphTypePooling


def _fitted(prototypes, weights, **params) -> GraphTypeMixture:
    mixture = GraphTypeMixture(**params)
    mixture.prototypes_ = np.asarray(prototypes, dtype=float)
    mixture.edge_prototypes_ = mixture.prototypes_
    mixture.weights_ = np.asarray(weights, dtype=float)
    mixture.n_types_ = len(mixture.weights_)
    return mixture


def test_posterior_is_the_hand_computed_prior_swap():
    # q = 0.5 under rho = 0.2 is a likelihood ratio of (1 / 1) / (1 / 4) = 4;
    # under a prototype with p = 0.9 the edge has odds 4 * 9 = 36
    mixture = _fitted([[0.9, 0.2]], [1.0], prior_edge_probability=0.2)
    np.testing.assert_allclose(
        mixture.posterior(np.array([[0.5, 0.7]])), [[36 / 37, 0.7]], rtol=1e-6
    )
    # fitted with KL weight 2 the same posterior is twice the evidence: 4**2 * 9
    np.testing.assert_allclose(
        mixture.posterior(np.array([[0.5, 0.5]]), evidence_weight=2.0)[0, 0],
        144 / 145,
        rtol=1e-6,
    )


def test_shop_evidence_weight_tempers_the_shops_own_evidence():
    # q = 0.5 under rho = 0.2: likelihood ratio 4, at half weight 4**0.5 = 2,
    # so under p = 0.9 the odds are 2 * 9 = 18
    half = _fitted([[0.9]], [1.0], prior_edge_probability=0.2, shop_evidence_weight=0.5)
    np.testing.assert_allclose(half.posterior(np.array([[0.5]])), [[18 / 19]])
    # weight 0 reports the prototypes, weighted by each shop's types
    mixture = _fitted(
        [[0.9, 0.2], [0.1, 0.6]],
        [0.5, 0.5],
        prior_edge_probability=0.2,
        shop_evidence_weight=0.0,
    )
    posteriors = np.array([[0.8, 0.1], [0.05, 0.3]])
    types = mixture.type_probabilities(posteriors)
    np.testing.assert_allclose(
        mixture.posterior(posteriors), types @ mixture.prototypes_, rtol=1e-12
    )


def _posteriors_of_types(seed, noise, deviation, n_shops=150):
    """Shops of 3 graph types, a share ``deviation`` of whose edges flip."""
    rng = np.random.RandomState(seed)
    types = rng.rand(3, 20) < 0.3
    truth = types[np.arange(n_shops) % 3] ^ (rng.rand(n_shops, 20) < deviation)
    logits = np.where(truth, 0.5, -2.5) + noise * rng.randn(n_shops, 20)
    return 1 / (1 + np.exp(-logits)), truth


def _mean_average_precision(truth, scores):
    return np.mean(
        [average_precision_score(t, s) for t, s in zip(truth, scores, strict=True)]
    )


@pytest.mark.parametrize(
    ("noise", "deviation", "better", "worse"),
    [
        # posteriors noisier than their odds claim, shops true to their type:
        # leaning on the type ranks edges better (measured 0.970 against 0.938)
        (2.5, 0.0, 0.5, 1.0),
        # milder noise and shops that deviate from their type: full weight keeps
        # the deviations (measured 0.970 against 0.959)
        (1.6, 0.05, 1.0, 0.5),
    ],
)
def test_shop_evidence_weight_trades_the_type_against_the_shop(
    noise, deviation, better, worse
):
    posteriors, truth = _posteriors_of_types(1, noise, deviation)
    mixture = GraphTypeMixture(random_state=0).fit(posteriors)
    scores = {}
    for weight in (0.5, 1.0):
        mixture.shop_evidence_weight = weight
        scores[weight] = _mean_average_precision(truth, mixture.posterior(posteriors))
    assert scores[better] > scores[worse] + 0.005


@pytest.mark.parametrize("weight", [-0.5, np.inf, np.nan, True, "half"])
def test_invalid_shop_evidence_weights_are_refused(weight):
    posteriors, _, _ = _noisy_posteriors(2, n_shops=20)
    with pytest.raises(ValueError, match="shop_evidence_weight"):
        GraphTypeMixture(shop_evidence_weight=weight).fit(posteriors)
    # also when set on a fitted mixture, as a sweep over weights does
    mixture = GraphTypeMixture(random_state=0).fit(posteriors)
    mixture.shop_evidence_weight = weight
    with pytest.raises(ValueError, match="shop_evidence_weight"):
        mixture.posterior(posteriors)


def test_type_probabilities_are_hand_computed():
    # one edge, q = 0.5 under rho = 0.5 (ratio 1, no evidence): types keep
    # their weights; q = 0.8 (ratio 4) favours the type with p = 0.9
    mixture = _fitted([[0.9], [0.1]], [0.25, 0.75], prior_edge_probability=0.5)
    types = mixture.type_probabilities(np.array([[0.5], [0.8]]))
    np.testing.assert_allclose(types[0], [0.25, 0.75], rtol=1e-6)
    first = 0.25 * (1 + 0.9 * 3)
    second = 0.75 * (1 + 0.1 * 3)
    np.testing.assert_allclose(types[1, 0], first / (first + second), rtol=1e-6)


def _noisy_posteriors(seed: int, n_shops: int = 150):
    rng = np.random.RandomState(seed)
    types = rng.rand(3, 20) < 0.3
    labels = np.arange(n_shops) % 3
    truth = types[labels]
    # each shop's posterior: weak, noisy evidence around its own graph
    logits = np.where(truth, 0.5, -2.5) + 1.6 * rng.randn(n_shops, 20)
    return 1 / (1 + np.exp(-logits)), truth, labels


def test_auto_finds_the_types_and_pooling_sharpens_every_shop():
    posteriors, truth, labels = _noisy_posteriors(2)
    mixture = GraphTypeMixture(random_state=0).fit(posteriors)
    assert mixture.n_types_ == 3
    assert min(mixture.bic_, key=mixture.bic_.get) == 3
    found = mixture.type_probabilities(posteriors).argmax(1)
    assert adjusted_rand_score(labels, found) == 1
    pooled = mixture.posterior(posteriors)
    before = np.mean(
        [roc_auc_score(t, p) for t, p in zip(truth, posteriors, strict=True)]
    )
    after = np.mean([roc_auc_score(t, p) for t, p in zip(truth, pooled, strict=True)])
    assert before < 0.92 and after > 0.99
    np.testing.assert_allclose(np.sort(mixture.weights_), [1 / 3] * 3, atol=1e-3)


def test_a_prototype_equal_to_the_prior_changes_nothing():
    posteriors, _, _ = _noisy_posteriors(1, n_shops=10)
    mixture = _fitted(np.full((1, 20), 0.2), [1.0], prior_edge_probability=0.2)
    np.testing.assert_allclose(mixture.posterior(posteriors), posteriors, rtol=1e-6)


def test_fits_are_reproducible_and_inputs_untouched():
    posteriors, _, _ = _noisy_posteriors(0, n_shops=60)
    copy = posteriors.copy()
    first = GraphTypeMixture(n_types=2, random_state=3).fit(posteriors)
    second = GraphTypeMixture(n_types=2, random_state=3).fit(posteriors)
    np.testing.assert_array_equal(first.prototypes_, second.prototypes_)
    np.testing.assert_array_equal(posteriors, copy)
    assert list(first.bic_) == [2]


@pytest.mark.parametrize("n_types", [0, 61, 2.5, "many"])
def test_invalid_numbers_of_types_are_refused(n_types):
    posteriors, _, _ = _noisy_posteriors(2, n_shops=60)
    with pytest.raises(ValueError, match="60"):
        GraphTypeMixture(n_types=n_types).fit(posteriors)


def test_type_evidence_is_pooled_with_the_prototypes_by_log_odds():
    # prior 0.2 and a Bayes factor of 4 give the type's evidence odds 1 (0.5);
    # pooled with a prototype of 0.8 (odds 4) at equal weights: odds 2, i.e. 2/3
    mixture = _fitted([[0.8, 0.3], [0.6, 0.1]], [0.5, 0.5], prior_edge_probability=0.2)
    evidence = np.array([[np.log(4.0), 0.0], [np.nan, np.nan]])
    mixture.pool_type_evidence(evidence)
    np.testing.assert_allclose(mixture.edge_prototypes_[0, 0], 2 / 3)
    # no evidence (log Bayes factor 0) pools the prototype with the prior
    np.testing.assert_allclose(
        mixture.edge_prototypes_[0, 1], 1 / (1 + np.sqrt(7 / 3 * 4))
    )
    # a type without evidence (NaN) keeps its prototype; the prototypes stay
    np.testing.assert_array_equal(mixture.edge_prototypes_[1], [0.6, 0.1])
    np.testing.assert_array_equal(mixture.prototypes_, [[0.8, 0.3], [0.6, 0.1]])
    # the posterior reads the pooled prototypes: weight 0 reports them
    mixture.shop_evidence_weight = 0.0
    np.testing.assert_allclose(
        mixture.posterior(np.array([[0.5, 0.5]])),
        mixture.type_probabilities(np.array([[0.5, 0.5]])) @ mixture.edge_prototypes_,
    )


def test_decisive_type_evidence_is_clipped_like_the_prototypes():
    mixture = _fitted([[0.5, 0.5]], [1.0], prior_edge_probability=0.5)
    mixture.pool_type_evidence(np.array([[1e6, -1e6]]))
    # logit 0 pooled with +-logit(1 - 1e-4): half of that log odds
    bound = np.log((1 - 1e-4) / 1e-4)
    np.testing.assert_allclose(
        mixture.edge_prototypes_,
        [[1 / (1 + np.exp(-bound / 2)), 1 / (1 + np.exp(bound / 2))]],
    )


def test_type_evidence_of_the_wrong_shape_is_refused():
    mixture = _fitted([[0.8, 0.3]], [1.0])
    with pytest.raises(ValueError, match=r"\(1, 2\) \(types, edges\)"):
        mixture.pool_type_evidence(np.zeros((2, 2)))


def test_fit_resets_the_pooled_prototypes():
    rng = np.random.RandomState(0)
    posteriors = np.clip(rng.rand(40, 4), 0.01, 0.99)
    mixture = GraphTypeMixture(n_types=2, random_state=0).fit(posteriors)
    np.testing.assert_array_equal(mixture.edge_prototypes_, mixture.prototypes_)
    mixture.pool_type_evidence(np.full((2, 4), 5.0))
    assert not np.allclose(mixture.edge_prototypes_, mixture.prototypes_)
    mixture.fit(posteriors)
    np.testing.assert_array_equal(mixture.edge_prototypes_, mixture.prototypes_)


def test_pooling_stands_down_when_every_shop_has_its_own_graph(caplog):
    rng = np.random.RandomState(0)
    own = rng.rand(60, 5, 5) < 0.3  # 60 shops, 60 unrelated graphs
    posteriors = np.where(own, 0.97, 0.03)
    pooling = GraphTypePooling(type_test=False)
    with caplog.at_level("INFO", logger="sklearn_causalmmm._causalmmm.pooling"):
        pooling.fit(posteriors, prior_edge_probability=0.2, random_state=0)
    assert not pooling.active_
    assert "stands down" in caplog.text
    np.testing.assert_array_equal(pooling.transform(posteriors), posteriors)
    # shops of three types: the pooling stays active and changes the graphs
    types = rng.rand(3, 5, 5) < 0.3
    typed = np.where(types[np.arange(60) % 3], 0.8, 0.05)
    pooling.fit(typed, prior_edge_probability=0.2, random_state=0)
    assert pooling.active_ and pooling.n_types_ == 3
    assert not np.allclose(pooling.transform(typed), typed)


def test_dense_types_are_tested_without_median_deflation(caplog):
    truth = np.ones((40, 4, 4))  # every edge present
    posteriors = np.where(truth, 0.9, 0.1)
    pooling = GraphTypePooling(type_test=False)
    with caplog.at_level("INFO", logger="sklearn_causalmmm._causalmmm.pooling"):
        pooling.fit(posteriors, prior_edge_probability=0.2, random_state=0)
    assert pooling.deflated_types_.tolist() == [False]
    assert "without median deflation" in caplog.text
    sparse = np.where(np.eye(4, k=1)[None].repeat(40, 0) > 0, 0.9, 0.1)
    assert GraphTypePooling(type_test=False).fit(
        sparse, prior_edge_probability=0.2, random_state=0
    ).deflated_types_.tolist() == [True]

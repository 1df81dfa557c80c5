"""CausalMMM under the scikit-learn API: a graph discoverer and a GMV regressor."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from sklearn_causalmmm._discovery import (
    BaseDiscoverer,
    flatten_off_diagonal,
    unflatten_off_diagonal,
)
from sklearn_causalmmm._forecast import PanelForecasterMixin
from sklearn_causalmmm._graph_types import GraphTypeMixture
from sklearn_causalmmm._training import (
    KL_REFERENCE_STEPS,
    PanelModule,
    build_net,
    make_inputs,
    seeded,
)
from sklearn_causalmmm._type_granger import type_granger_log_bayes_factors
from sklearn_causalmmm._validation import check_finite_non_negative
from sklearn_causalmmm.nn import CausalMMM, edge_probability
from sklearn_causalmmm.panel import Panel

#: With ``max_epochs=None`` training runs at least this many optimiser updates.
#: An epoch of a small panel is a few batches: 15 epochs of 50 Sim-1-like
#: shops (105 updates) left the graph at edge AUROC 0.68, 45 epochs (315
#: updates) reached 0.96, as 15 epochs of 300 shops (570 updates) do.
MIN_UPDATES = 300

#: With graph types, the discoverer counts a shop's own evidence at this power
#: against its types' prototypes (``GraphTypeMixture(shop_evidence_weight=...)``).
#: Over the 33 fits of the structure benchmark (11 panels, 3 seeds), half
#: weight raised the mean edge AUROC from 0.9930 to 0.9945 and the mean AUPRC
#: from 0.9765 to 0.9824 against full weight; a quarter scored 0.9948 / 0.9844
#: but lost 0.003 / 0.009 on Sim-2-like panels, whose shops deviate from their
#: types (``docs/model.md``).
SHOP_EVIDENCE_WEIGHT = 0.5

__all__ = [
    "CausalGraphDiscoverer",
    "CausalMMMRegressor",
    "MIN_UPDATES",
    "PAPER_CONFIG",
    "SHOP_EVIDENCE_WEIGHT",
]

#: Constructor arguments reproducing the settings of the authors' released code.
#: Differences of the defaults, and why, are listed in the class docstrings.
PAPER_CONFIG = {
    "hidden": 256,
    "tau": 0.5,
    "hard": False,
    "lr": 5e-4,
    "kl_weight": 100.0,
    "nll_variance": 5e-7,
    "horizon": 10,
    "edge_prior": None,
    "n_lags": 0,
    "encoder_norm": "batch",
    "residual": False,
    "messages": "pair",
    "edge_gain_scale": 0.0,
    "n_graph_types": 0,
    "lr_schedule": None,
}


class _CausalMMMBase(BaseEstimator):
    """Parameters, training and graph inference shared by both estimators."""

    def __init__(
        self,
        *,
        hidden: int = 64,
        tau: float = 0.5,
        hard: bool = False,
        kl_weight: float = 1.0,
        edge_prior: float | None = 0.2,
        nll_variance: float | str = "learned",
        n_lags: int = 5,
        lag_features: str | Sequence[str] | None = None,
        encoder_norm: str | None = "layer",
        dropout: float = 0.0,
        horizon: int | None = None,
        saturation: bool = True,
        recurrent: bool = True,
        residual: bool = True,
        messages: str = "sender",
        graph: str = "learned",
        edge_gain_scale: float | None = None,
        n_graph_types: int | str | None = None,
        lr: float = 3e-3,
        batch_size: int = 8,
        max_epochs: int | None = None,
        validation_fraction: float | None = None,
        patience: int = 10,
        warmup_epochs: int = 0,
        lr_schedule: str | None = "plateau",
        context_columns: list[str] | None = None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        target_name: str = "gmv",
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.hidden = hidden
        self.tau = tau
        self.hard = hard
        self.kl_weight = kl_weight
        self.edge_prior = edge_prior
        self.nll_variance = nll_variance
        self.n_lags = n_lags
        self.lag_features = lag_features
        self.encoder_norm = encoder_norm
        self.dropout = dropout
        self.horizon = horizon
        self.saturation = saturation
        self.recurrent = recurrent
        self.residual = residual
        self.messages = messages
        self.graph = graph
        self.edge_gain_scale = edge_gain_scale
        self.n_graph_types = n_graph_types
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.warmup_epochs = warmup_epochs
        self.lr_schedule = lr_schedule
        self.context_columns = context_columns
        self.shop_column = shop_column
        self.time_column = time_column
        self.target_name = target_name
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # spend, page views and GMV
        return tags

    # -- training -----------------------------------------------------------

    #: What ``None`` means for ``horizon``, ``max_epochs``,
    #: ``validation_fraction``, ``edge_gain_scale`` and ``n_graph_types``.
    _defaults = {
        "horizon": 1,
        "lag_features": "all",
        "max_epochs": 15,
        "validation_fraction": 0.0,
        "edge_gain_scale": 0.0,
        "n_graph_types": "auto",
    }

    #: The KL of a longer shop's graph counts once per this many of its
    #: observed steps (None: once per shop); see ``PanelNet``.
    _kl_reference_steps: int | None = KL_REFERENCE_STEPS

    def _resolved(self, name: str):
        value = getattr(self, name)
        return self._defaults[name] if value is None else value

    def _epoch_budget(self, n_shops: int) -> int:
        """``max_epochs``, or with None enough epochs for :data:`MIN_UPDATES` steps."""
        if self.max_epochs is not None:
            return self.max_epochs
        batches_per_epoch = -(-n_shops // self.batch_size)
        return max(self._defaults["max_epochs"], -(-MIN_UPDATES // batches_per_epoch))

    def _window_sizes(self, panel: Panel) -> tuple[int, int]:
        """Return ``(n_valid, n_history)``, or raise naming the shortfall."""
        n_steps = panel.n_steps
        horizon = self._resolved("horizon")
        fraction = self._resolved("validation_fraction")
        if not 0.0 <= fraction < 0.5:
            raise ValueError(
                f"validation_fraction must lie in [0, 0.5), got {fraction}."
            )
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}.")
        n_valid = max(horizon, round(n_steps * fraction)) if fraction > 0 else 0
        n_history = n_steps - n_valid - horizon
        needed = max(2, 2 * self.n_lags + 1)
        if n_history < needed:
            raise ValueError(
                f"{n_steps} time steps are too few: horizon={horizon} and "
                f"{n_valid} validation steps leave {n_history} steps of history, "
                f"but at least {needed} are needed (n_lags={self.n_lags}). Shops: "
                f"{list(panel.shop_ids)[:5]}."
            )
        return n_valid, n_history

    def _train(self, panel: Panel, rng, known_nodes: torch.Tensor | None) -> None:
        n_valid, n_history = self._window_sizes(panel)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        model = seeded(seed, self._make_model, panel, n_history)
        _init_variance(model, panel)
        net = build_net(
            PanelModule(model, known_nodes),
            lr=self.lr,
            max_epochs=self._epoch_budget(panel.n_shops),
            batch_size=self.batch_size,
            n_valid=n_valid,
            patience=self.patience,
            warmup_epochs=self.warmup_epochs,
            lr_schedule=self.lr_schedule,
            seed=seed,
            device=self.device,
            verbose=self.verbose,
            kl_weight=self.kl_weight,
            kl_reference_steps=self._kl_reference_steps,
            edge_prior=self.edge_prior,
            nll_variance=self.nll_variance,
            scored_nodes=None if known_nodes is None else ~known_nodes.numpy(),
        )
        inputs = make_inputs(
            panel.scaled(),
            panel.mask,
            panel.context,
            panel.n_steps - self._resolved("horizon"),
        )
        seeded(seed, net.fit, inputs, None)
        self.net_ = net
        self.model_ = net.module_.model.eval()
        self.n_history_ = n_history
        self.history_ = [
            {k: row[k] for k in ("train_loss", "valid_loss") if k in row}
            for row in net.history
        ]
        self.edge_probabilities_ = self._infer_graph(panel)

    def _edge_gain_scale(self) -> float:
        scale = self._resolved("edge_gain_scale")
        return check_finite_non_negative(scale, "edge_gain_scale")

    def _make_model(self, panel: Panel, n_history: int) -> CausalMMM:
        gain_scale = self._edge_gain_scale()
        return CausalMMM(
            n_nodes=panel.n_nodes,
            n_history=n_history,
            n_context=panel.context.shape[1],
            hidden=self.hidden,
            tau=self.tau,
            hard=self.hard,
            n_lags=self.n_lags,
            lag_features=self._resolved("lag_features"),
            encoder_norm=self.encoder_norm,
            dropout=self.dropout,
            graph=self.graph,
            residual=self.residual,
            messages=self.messages,
            n_shops=panel.n_shops if gain_scale > 0 else 0,
            edge_gain_scale=gain_scale or 1.0,
            **self._decoder_modules(),
        )

    def _decoder_modules(self) -> dict[str, bool]:
        """Which marketing modules the decoder has (subclasses may fix them)."""
        return {"saturation": self.saturation, "recurrent": self.recurrent}

    # -- graph inference ----------------------------------------------------

    def _infer_graph(self, panel: Panel) -> np.ndarray:
        """Edge probabilities ``(n_shops, d, d)`` from each shop's last window."""
        if panel.n_steps < self.n_history_:
            raise ValueError(
                f"the graph is read from the last {self.n_history_} steps of each "
                f"shop, but X has {panel.n_steps}."
            )
        scaled = torch.as_tensor(panel.scaled()[..., -self.n_history_ :])
        with torch.no_grad():
            logits = torch.cat(
                [self.model_.edge_logits(chunk) for chunk in scaled.split(256)]
            )
        probabilities = edge_probability(logits).numpy().astype(np.float64)
        probabilities[:, np.arange(panel.n_nodes), np.arange(panel.n_nodes)] = 0.0
        return probabilities


def _init_variance(model: CausalMMM, panel: Panel) -> None:
    """Start each node's likelihood variance at its one-step change variance.

    A variance of 1 for every node would weigh bursty spend and smooth GMV
    alike until the variances are learned, and by then the encoder has already
    learned to prefer edges that help predict spend.
    """
    scaled = panel.scaled()
    both = panel.mask[:, 1:] & panel.mask[:, :-1]
    change = np.diff(scaled, axis=-1) ** 2 * both[:, None, :]
    variance = change.sum(axis=(0, 2)) / max(int(both.sum()), 1)
    with torch.no_grad():
        model.log_variance.copy_(torch.as_tensor(np.log(np.maximum(variance, 1e-4))))


class CausalGraphDiscoverer(BaseDiscoverer, _CausalMMMBase):
    """Learn a Granger-causal graph per shop with CausalMMM.

    One amortised encoder reads every shop's series and outputs the
    probability of each directed edge; the Marketing Response Decoder, trained
    with it as a variational autoencoder, can only use an edge ``i -> j`` to
    predict ``j`` from ``i``'s past, so the learned edges are Granger-causal.
    New shops get their graph from :meth:`predict_graph` without retraining.

    Parameters
    ----------
    hidden : int, default=64
        Width of every layer (the authors use 256; 64 recovers graphs as well on
        the benchmarks at a fraction of the cost).
    tau : float, default=0.5
        Gumbel-Softmax temperature.
    hard : bool, default=False
        Straight-through one-hot edge samples (exactly Granger: an absent edge
        carries nothing) instead of soft ones (the authors' choice).
    kl_weight : float, default=1.0
        Weight of KL(q(edges) || prior) in the ELBO, counted once per shop
        and, beyond 100 observed steps, once per 100: the likelihood sums
        over steps, so a fixed weight would let the prior fade on long series
        (on 720-step Sim-1-like shops every edge probability then saturated
        at 1, edge AUROC 0.51). The regressor counts it once per shop (see
        there).
    edge_prior : float or None, default=0.2
        Prior probability of an edge (a sparsity prior, as the paper's text
        describes). None is the uniform prior of the authors' code.
    nll_variance : float or "learned", default="learned"
        Variance of the Gaussian reconstruction likelihood on scaled data:
        ``"learned"`` fits one variance per node, so that bursty spend does not
        drown the evidence about edges into GMV; the authors fix 5e-7, which
        also makes the KL term negligible.
    n_lags : int, default=5
        Lagged partial correlations fed to the encoder beside the node
        embeddings (0 reproduces the authors' encoder). They make the encoder
        see Granger evidence directly and speed up training.
    lag_features : str or sequence of str, default=None
        What those features are: each sender's lagged correlation with the
        receiver's residual after its own lags (``"bivariate"``), each
        sender's coefficients in a ridge regression of the receiver on every
        node's lags (``"conditional"``: a sender that reaches the receiver
        only through another node is explained away), the same regression on
        every node's sum of lags ``1..w``, for each window ``w``
        (``"summed"``: one unknown per node and window, so it stays well posed
        when nodes are many and series short), a sequence of these names,
        ``"both"`` (the first two) or ``"all"`` (the three). None means
        ``"all"`` for the discoverer and ``"bivariate"`` for the regressor.
        Against ``"both"``, ``"all"`` raised the discoverer's edge AUROC /
        AUPRC on 300 Sim-2-like shops from 0.974 / 0.935 to 0.984 / 0.951,
        and on 50 shops from 0.981 / 0.952 to 0.988 / 0.973 (3 seeds,
        ``docs/model.md``). With the regressor's edge gains, ``"both"``
        moved the 1 / 7 / 30-day errors on Sim-1-like shops from 0.0161 /
        0.0261 / 0.0254 to 0.0160 / 0.0262 / 0.0267 (3 seeds, the
        ablations), no gain, so the regressor keeps ``"bivariate"``.
    encoder_norm : {"layer", "batch", None}, default="layer"
        The authors use batch normalisation, which makes a shop's graph depend
        on the other shops in its batch; layer normalisation does not.
    dropout : float, default=0.0
    horizon : int, default=None
        Steps rolled out autoregressively at the end of every training window
        (the encoder never reads them). None means 1 for the discoverer: the
        Granger objective is one step ahead, and rolling out bursty spend the
        model cannot forecast would punish the edges it drives. The regressor
        uses 7, its channels teacher-forced from the plan.
    saturation : bool, default=True
        Context-shaped Hill curves on the decoder's non-target inputs.
    recurrent : bool, default=True
        Recurrent (carryover) state in the decoder.
    residual : bool, default=True
        The decoder predicts the change from the current value (the authors
        predict the value).
    messages : {"sender", "pair"}, default="sender"
        What an edge ``i -> j`` carries: a function of ``i``'s state only, or
        of ``[h_i, h_j]`` as in the authors' decoder (see
        :class:`~sklearn_causalmmm.nn.MarketingResponseDecoder`).
    graph : {"learned", "full"}, default="learned"
        ``"full"`` fixes the fully connected graph (an ablation).
    edge_gain_scale : float, default=None
        Shops that share a graph may still differ in how strongly a parent
        drives a child. With a positive value every fitted shop scales the
        message of each edge ``i -> j`` by its own gain ``exp(g)``, learned
        with the network under the prior ``g ~ N(0, edge_gain_scale**2)``
        (the shop-level coefficients of a hierarchical marketing mix model);
        0 shares the whole decoder across shops. An absent edge stays silent
        whatever its gain. None means 0 for the discoverer, whose graphs must
        carry over to new shops, and 2 for the regressor, which forecasts the
        shops it was fitted on: its 7-day error fell from 0.0265 to 0.0135
        on the demo data and from 0.0336 to 0.0261 on Sim-1-like shops (3
        seeds, ``docs/benchmarks.md``).
    n_graph_types : int, "auto" or None, default=None
        Shops of one business tend to share a few causal structures, while
        each shop's posterior is read from its own short series. With graph
        types, a mixture of that many prototype graphs is fitted by EM to the
        evidence the encoder's posteriors carry, and ``edge_probabilities_``
        is each shop's posterior under that learned prior (empirical Bayes;
        see :mod:`sklearn_causalmmm._graph_types`): an edge its own series
        leaves uncertain is decided by the shops of its type. A shop's own
        evidence counts at half weight there
        (:data:`~sklearn_causalmmm.estimators.SHOP_EVIDENCE_WEIGHT`): the
        encoder learned from every shop which edges are common, so its
        posteriors already lean on what the prototypes share. With
        ``n_lags > 0`` each type's graph also pools a Granger test on the
        series of its shops (see :mod:`sklearn_causalmmm._type_granger`):
        one regression over a type's shops has a hundred times a shop's data,
        enough to tell a parent from a sibling that shares its parents.
        ``"auto"`` picks the number by BIC (up to 10); 0 reports the
        encoder's posteriors as they are (the paper). None means ``"auto"``
        for the discoverer. Pooling takes seconds after training and changes
        nothing in the trained network; on 300 Sim-1-like shops it raised the
        edge AUROC from 0.983 to 1.000, and on 20 nodes from 0.890 to 1.000
        (3 seeds; ``docs/model.md``). The regressor takes only 0: its graph
        is the one its decoder forecasts with.
    lr : float, default=3e-3
    batch_size : int, default=8
        Shops per batch: small batches give the encoder enough updates on
        panels of a few hundred shops.
    max_epochs : int, default=None
        Upper bound on training epochs. None means 15 for the discoverer (on
        300 Sim-1-like shops: edge AUROC 0.97-0.98 in under two minutes on 2
        cores; see ``benchmarks/structure.py``) and 60 for the regressor,
        which early-stops on its validation forecasts (on 300 simulated shops
        its 7-step error kept falling until about epoch 45), or more on small
        panels: enough epochs for
        :data:`~sklearn_causalmmm.estimators.MIN_UPDATES` optimiser updates
        (e.g. 43 epochs of 50 shops at ``batch_size=8``): below about 160
        shops for the discoverer (40 for the regressor) the fit time stops
        shrinking, while the graph stays as good.
    validation_fraction : float, default=None
        Share of the final steps of every shop held out to early-stop on the
        forecast error; 0 trains on everything for ``max_epochs``. None means
        0 for the discoverer (forecast error stops structure learning too
        early) and 0.1 for the regressor, which early-stops on the mean
        squared error of its scaled GMV forecast only (the one-step errors of
        the channels, which it is given, would otherwise dominate).
    patience : int, default=10
        Early-stopping patience in epochs.
    warmup_epochs : int, default=0
        Epochs during which the decoder trains alone on random graphs before
        the encoder starts learning. Two epochs rescued an edge the encoder
        had switched off in every shop of its graph type (720-step
        Sim-1-like panel, seed 1: edge AUROC 0.985 to 1.000), but over the 33
        fits of the structure benchmark they left the mean edge AUROC
        unchanged and lowered the AUPRC by 0.002 (``docs/model.md``).
    lr_schedule : {"plateau", None}, default="plateau"
        Halve the learning rate when the monitored loss stops improving.
    context_columns : list of str, default=None
        DataFrame columns holding shop context (not graph nodes).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of a long DataFrame.
    target_name : str, default="gmv"
    device : str, default="cpu"
    random_state : int, RandomState or None, default=None
        Fixes initialisation, batch order and Gumbel noise: CPU fits on one
        machine with the same number of torch threads are bit-identical.
    verbose : int, default=0
        Show a progress bar and the training log.

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = P(node i -> node j) for shop s; zero diagonal. Pooled
        over graph types unless ``n_graph_types=0``.
    encoder_edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        The encoder's posterior of each shop, before pooling.
    n_graph_types_ : int
        Graph types used (0: no pooling).
    graph_types_ : ndarray of shape (n_graph_types_, n_nodes, n_nodes)
        Edge probabilities of each graph type (with graph types only): its
        prototype, pooled with a Granger test on its shops' series when
        ``n_lags > 0``.
    graph_type_probabilities_ : ndarray of shape (n_shops, n_graph_types_)
        Posterior probability of each graph type for every shop: which shops
        share a structure (with graph types only).
    graph_type_mixture_ : GraphTypeMixture or None
        The fitted mixture; it also pools the graphs of new shops in
        :meth:`predict_graph`.
    node_names_ : list of str
    shop_ids_ : list
    n_features_in_ : int
    n_history_ : int
        Steps of each shop the encoder reads.
    model_ : torch.nn.Module
        The trained :class:`~sklearn_causalmmm.nn.CausalMMM`.
    net_ : skorch.NeuralNet
    history_ : list of dict
        Training loss (negative ELBO) and validation loss per epoch.

    See Also
    --------
    CausalMMMRegressor : the same model, predicting GMV from a channel plan.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm import CausalGraphDiscoverer
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=8, n_steps=60, random_state=0)
    >>> X = np.concatenate([data.X, data.y[:, None]], axis=1)
    >>> discoverer = CausalGraphDiscoverer(hidden=16, max_epochs=2, random_state=0)
    >>> discoverer.fit(X, context=data.context).edge_probabilities_.shape
    (8, 8, 8)
    >>> discoverer.transform(X[:2], context=data.context[:2]).shape
    (2, 56)
    """

    _inductive = True

    def _score_graphs(self, panel: Panel, rng) -> np.ndarray:
        n_types = self._graph_type_count()
        self._train(panel, rng, known_nodes=None)
        self.encoder_edge_probabilities_ = self.edge_probabilities_
        self.graph_type_mixture_ = None
        self.n_graph_types_ = 0
        if n_types == 0:
            return self.encoder_edge_probabilities_
        mixture = GraphTypeMixture(
            n_types,
            prior_edge_probability=self._prior_edge_probability(),
            shop_evidence_weight=SHOP_EVIDENCE_WEIGHT,
            random_state=rng,
        )
        encoder_rows = flatten_off_diagonal(self.encoder_edge_probabilities_)
        self.graph_type_mixture_ = mixture.fit(encoder_rows)
        self.n_graph_types_ = mixture.n_types_
        self.graph_type_probabilities_ = mixture.type_probabilities(encoder_rows)
        if self.n_lags > 0:
            evidence = type_granger_log_bayes_factors(
                panel.values, panel.mask, self.graph_type_probabilities_, self.n_lags
            )
            mixture.pool_type_evidence(flatten_off_diagonal(evidence))
        self.graph_types_ = unflatten_off_diagonal(mixture.edge_prototypes_)
        return unflatten_off_diagonal(mixture.posterior(encoder_rows))

    def _score_new(self, panel: Panel) -> np.ndarray:
        return self._pooled(self._infer_graph(panel))

    def _pooled(self, encoder_graphs: np.ndarray) -> np.ndarray:
        """Each shop's graph under the fitted graph-type prior (if any)."""
        if self.graph_type_mixture_ is None:
            return encoder_graphs
        pooled = self.graph_type_mixture_.posterior(
            flatten_off_diagonal(encoder_graphs)
        )
        return unflatten_off_diagonal(pooled)

    def _graph_type_count(self) -> int | str:
        n_types = self._resolved("n_graph_types")
        valid = n_types == "auto" or (
            isinstance(n_types, numbers.Integral)
            and not isinstance(n_types, bool)
            and n_types >= 0
        )
        if not valid:
            raise ValueError(
                f"n_graph_types must be 'auto', None or an int >= 0, got {n_types!r}."
            )
        return n_types

    def _prior_edge_probability(self) -> float:
        # the uniform prior over the two edge types gives P(edge) = 1/2
        return 0.5 if self.edge_prior is None else float(self.edge_prior)


class CausalMMMRegressor(PanelForecasterMixin, RegressorMixin, _CausalMMMBase):
    """Forecast GMV from a channel plan with CausalMMM.

    The decoder reads each shop's fitted history, then rolls GMV forward over
    the steps of the plan passed to :meth:`predict`, with the planned channels
    teacher-forced. See :mod:`sklearn_causalmmm._forecast` for where a plan
    starts. Parameters are those of :class:`CausalGraphDiscoverer`, except
    that ``kl_weight`` weighs the KL once per shop, whatever its length: the
    graph serves the forecast here, and counting it per 100 steps raised the
    7-day error of the forecasting benchmark on the demo data (335 fitted
    steps) from 0.026 to 0.030 (one seed). ``n_graph_types`` must be 0 or
    None (see there). And ``edge_gain_scale`` is 2 by
    default: each fitted shop has its own edge gains (see
    :meth:`~sklearn_causalmmm.nn.CausalMMM.edge_gains`), so a forecast is for
    shops seen in ``fit``, as the forecasting contract already requires.

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        Learned graph over X's nodes followed by the target.
    edge_gains_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = the factor on the message of edge ``i -> j`` in shop
        ``s`` (1 on the diagonal, and everywhere with ``edge_gain_scale=0``):
        how much more or less strongly ``i`` drives ``j`` there than in the
        shared decoder. It matters only where the edge is present.
    node_names_ : list of str
    panel_ : Panel
        The fitted history (needed to continue each shop's series).
    model_, net_, history_, n_history_
        As in :class:`CausalGraphDiscoverer`.

    Examples
    --------
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=8, n_steps=67, random_state=0)
    >>> past, plan = data.X[..., :60], data.X[..., 60:]
    >>> model = CausalMMMRegressor(hidden=16, max_epochs=2, random_state=0)
    >>> model.fit(past, data.y[:, :60], context=data.context).predict(plan).shape
    (8, 7)
    """

    _defaults = {
        "horizon": 7,
        "lag_features": "bivariate",
        "max_epochs": 60,
        "validation_fraction": 0.1,
        "edge_gain_scale": 2.0,
        "n_graph_types": 0,
    }
    _kl_reference_steps = None

    def _fit_panel(self, panel: Panel, rng) -> None:
        if self._resolved("n_graph_types") != 0:
            raise ValueError(
                f"n_graph_types={self.n_graph_types!r}: graph types pool the "
                "graphs CausalGraphDiscoverer reports. The regressor's graph is "
                "the one its decoder forecasts with, so it takes only 0 or None."
            )
        self._train(panel, rng, known_nodes=self._known_nodes(panel.n_nodes))
        # panel_ may later be replaced by a longer history of the same shops
        self._shop_rows = {shop: row for row, shop in enumerate(panel.shop_ids)}
        with torch.no_grad():
            gains = self.model_.edge_gains(torch.arange(panel.n_shops))
        self.edge_gains_ = (
            np.ones(self.edge_probabilities_.shape)
            if gains is None
            else gains.numpy().astype(np.float64)
        )

    @staticmethod
    def _known_nodes(n_nodes: int) -> torch.Tensor:
        known = torch.ones(n_nodes, dtype=torch.bool)
        known[-1] = False
        return known

    def predict(self, X, context=None, *, edge_probabilities=None, edge_gains=None):
        """Forecast GMV over the steps of the channel plan ``X``.

        Parameters
        ----------
        X : array-like or DataFrame
            Channel plan of fitted shops (see :mod:`sklearn_causalmmm._forecast`
            for how its first step is placed after the fitted history).
        context : array-like, default=None
            Ignored for fitted shops (their context is known).
        edge_probabilities : array-like of shape (n_shops, n_nodes, n_nodes), \
default=None
            Graphs of the fitted shops, laid out as :attr:`edge_probabilities_`,
            that the decoder uses instead of the learned ones: cut an edge
            (0), force one (1), or give a shop another shop's graph, to see how
            much the forecast relies on the graph (see
            :func:`~sklearn_causalmmm.analysis.graph_check.graph_reliance`).
            Passing ``edge_probabilities_`` itself reproduces the forecast of a
            plan that continues the fitted window, up to float rounding.
            The diagonal is ignored.
        edge_gains : array-like of shape (n_shops, n_nodes, n_nodes), \
default=None
            Edge gains of the fitted shops, laid out as :attr:`edge_gains_`,
            used instead of the learned ones (e.g. another shop's, with its
            graph). Positive; the diagonal is ignored.

        Returns
        -------
        ndarray or Series
            GMV in the layout of ``X``.
        """
        if edge_probabilities is None and edge_gains is None:
            return super().predict(X, context)
        graphs = gains = None
        if edge_probabilities is not None:
            graphs = self._check_graphs(edge_probabilities, "edge_probabilities")
            if graphs.min() < 0 or graphs.max() > 1:
                raise ValueError("edge_probabilities must lie in [0, 1].")
        if edge_gains is not None:
            gains = self._check_graphs(edge_gains, "edge_gains").copy()
            if gains.min() <= 0:
                raise ValueError("edge_gains must be positive.")
            # a self-message (pair decoders) is not an edge: it keeps gain 1
            diagonal = np.arange(gains.shape[1])
            gains[:, diagonal, diagonal] = 1.0
        plan, history, start, rows = self._locate_plan(X, context)
        forecast = self._forecast(
            history,
            plan,
            start,
            None if graphs is None else graphs[rows],
            None if gains is None else gains[rows],
        )
        return plan.target_to_layout(np.asarray(forecast, dtype=np.float64))

    def _forecast(
        self, history: Panel, plan: Panel, start: int, graphs=None, gains=None
    ) -> np.ndarray:
        scale = history.scale
        past = history.scaled()[..., :start]
        if start == 0:
            # No history before the plan: start from the shop's average state,
            # which is 1 for every node under mean scaling.
            past = np.ones((history.n_shops, history.n_nodes, 1), np.float32)
        future = np.zeros((plan.n_shops, history.n_nodes, plan.n_steps), np.float32)
        future[:, :-1] = plan.values / scale[:, :-1, None]
        window = np.concatenate([past, future], axis=-1)
        graph_source = past if start >= self.n_history_ else history.scaled()
        start = past.shape[-1]
        known = self._known_nodes(history.n_nodes)
        # a shop's edge gains are its row among the shops it was fitted with
        shops = torch.as_tensor([self._shop_rows[shop] for shop in history.shop_ids])
        chunks = []
        with torch.no_grad():
            for rows in np.array_split(
                np.arange(plan.n_shops), max(1, plan.n_shops // 256)
            ):
                prediction, _ = self.model_(
                    torch.as_tensor(window[rows]),
                    torch.as_tensor(history.context[rows]),
                    start,
                    known,
                    torch.as_tensor(graph_source[rows]),
                    None if graphs is None else torch.as_tensor(graphs[rows]),
                    shops[rows],
                    None if gains is None else torch.as_tensor(gains[rows]),
                )
                chunks.append(prediction[:, -1, start - 1 :].numpy())
        return np.concatenate(chunks) * scale[:, -1, None]

    def _check_graphs(self, values, name: str) -> np.ndarray:
        """``values`` as float32 laid out like ``edge_probabilities_``, finite."""
        check_is_fitted(self, "panel_")
        graphs = np.asarray(values, dtype=np.float32)
        expected = self.edge_probabilities_.shape
        if graphs.shape != expected:
            raise ValueError(
                f"{name} must have the shape of {name}_, {expected} (one graph per "
                f"fitted shop), got {graphs.shape}."
            )
        if not np.all(np.isfinite(graphs)):
            raise ValueError(f"{name} must be finite.")
        return graphs

    def predict_graph(self, X, y, context=None) -> np.ndarray:
        """Edge probabilities ``(n_shops, d, d)`` of shops with channels X, GMV y."""
        check_is_fitted(self, "model_")
        return self._infer_graph(self._convert(X, y, context, min_steps=2))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.regressor_tags.poor_score = True
        return tags

    def plan_gradient(self, X, context=None):
        """Forecast the plan ``X`` and how its total responds to each planned value.

        The forecast is :meth:`predict`'s, computed in float64 (so equal to
        it up to float32 rounding, and smooth in the plan); the gradient is
        that of the forecast GMV summed over every shop and step of ``X``
        with respect to each value of ``X``, through the decoder's carryover
        and saturation (torch autograd). A shop's forecast depends on its own
        plan only, so the gradient of a shop's rows is also that of the
        shop's own total. Budget optimisers use it instead of one forecast
        per perturbed value.

        Parameters
        ----------
        X : array-like or DataFrame
            Channel plan of fitted shops, as for :meth:`predict`.
        context : array-like, default=None
            Ignored for fitted shops (their context is known).

        Returns
        -------
        forecast : ndarray or Series
            GMV in the layout of ``X``, as :meth:`predict` returns it.
        gradient : ndarray or DataFrame
            d(total forecast GMV) / d(value), in the layout of ``X`` (a
            DataFrame keeps X's index, shop, time and context columns).

        Examples
        --------
        >>> from sklearn_causalmmm import CausalMMMRegressor
        >>> from sklearn_causalmmm.datasets import make_causal_mmm
        >>> data = make_causal_mmm(n_shops=4, n_steps=47, random_state=0)
        >>> model = CausalMMMRegressor(hidden=8, max_epochs=1, random_state=0)
        >>> model = model.fit(data.X[..., :40], data.y[:, :40], context=data.context)
        >>> forecast, gradient = model.plan_gradient(data.X[..., 40:])
        >>> forecast.shape, gradient.shape  # (shops, steps), (shops, nodes, steps)
        ((4, 7), (4, 7, 7))
        """
        import copy

        plan, history, start, _ = self._locate_plan(X, context)
        # float64 keeps the forecast smooth in the plan: float32 rounding
        # would look like noise to an optimiser taking small steps
        network = copy.deepcopy(self.model_).double()
        scale = history.scale.astype(np.float64)
        past = history.scaled()[..., :start].astype(np.float64)
        if start == 0:  # as in predict: the shop's average state
            past = np.ones((history.n_shops, history.n_nodes, 1))
        graph_source = past if start >= self.n_history_ else history.scaled()
        graph_source = graph_source.astype(np.float64)
        n_past = past.shape[-1]
        known = self._known_nodes(history.n_nodes)
        shops = torch.as_tensor([self._shop_rows[shop] for shop in history.shop_ids])
        forecast = np.zeros((plan.n_shops, plan.n_steps))
        gradient = np.zeros(plan.values.shape)
        # autograd keeps every step's activations (in float64): chunks of 32
        # shops bound the memory, whatever the number of shops
        for rows in np.array_split(np.arange(plan.n_shops), -(-plan.n_shops // 32)):
            drivers = torch.tensor(
                plan.values[rows] / scale[rows, :-1, None], requires_grad=True
            )
            target = torch.zeros(len(rows), 1, plan.n_steps, dtype=torch.float64)
            window = torch.cat(
                [torch.as_tensor(past[rows]), torch.cat([drivers, target], 1)], -1
            )
            with torch.enable_grad():
                prediction, _ = network(
                    window,
                    torch.as_tensor(history.context[rows], dtype=torch.float64),
                    n_past,
                    known,
                    torch.as_tensor(graph_source[rows]),
                    None,
                    shops[rows],
                )
                gmv = prediction[:, -1, n_past - 1 :] * torch.as_tensor(
                    scale[rows, -1, None]
                )
                gmv.sum().backward()
            forecast[rows] = gmv.detach().numpy()
            gradient[rows] = drivers.grad.numpy() / scale[rows, :-1, None]
        return plan.target_to_layout(forecast), plan.nodes_to_layout(gradient)

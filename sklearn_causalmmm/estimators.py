"""CausalMMM under the scikit-learn API: a graph discoverer and a target regressor.

:class:`CausalGraphDiscoverer` learns a Granger-causal graph per shop,
:class:`CausalMMMRegressor` forecasts the target from a media plan through its
learned graph, and :class:`NRIDiscoverer` is the ablation without the marketing
decoder. Each class declares its own parameters with literal defaults; the
measurements behind the defaults are in ``docs/model.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from sklearn_causalmmm._causalmmm.baseline import Baseline, extend_grid
from sklearn_causalmmm._causalmmm.head import ScaledValues, TargetBlend, TargetHead
from sklearn_causalmmm._causalmmm.pooling import GraphTypePooling
from sklearn_causalmmm._causalmmm.selection import (
    GrangerEvidence,
    choose_graph_source,
)
from sklearn_causalmmm._causalmmm.training import (
    KL_REFERENCE_STEPS,
    SHOP_CHUNK,
    EncoderLagFeatures,
    PanelDataset,
    PanelModule,
    build_net,
)
from sklearn_causalmmm._causalmmm.uncertainty import edge_intervals, repooled
from sklearn_causalmmm.base import BaseDiscoverer, PanelForecasterMixin
from sklearn_causalmmm.nn import CausalMMM, edge_probability
from sklearn_causalmmm.panel import Panel, known_edges, to_panel
from sklearn_causalmmm.utils.lags import (
    MAX_AUTO_LAGS,
    lag_feature_kinds,
    select_lag_order,
)
from sklearn_causalmmm.utils.random import seeded, small_ops
from sklearn_causalmmm.utils.validation import Interval, Options, validate_params

logger = logging.getLogger(__name__)

__all__ = [
    "Baseline",
    "CausalGraphDiscoverer",
    "CausalMMMRegressor",
    "GraphTypePooling",
    "MIN_UPDATES",
    "NRIDiscoverer",
    "PAPER_CONFIG",
]

#: With ``max_epochs="auto"`` training runs at least this many optimiser
#: updates: an epoch of a small panel is a few batches (``docs/model.md``).
MIN_UPDATES = 300

#: Constructor arguments reproducing the settings of the authors' released code
#: (for :class:`CausalGraphDiscoverer` and :class:`CausalMMMRegressor` alike).
#: Differences of the defaults, and why, are in ``docs/model.md``.
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
    "lr_schedule": None,
}


def _is_lag_features(value) -> bool:
    """a name among 'bivariate', 'conditional', 'summed', 'both', 'all', or a list."""
    try:
        lag_feature_kinds(value)
    except ValueError:
        return False
    return True


def _is_variance(value) -> bool:
    """'learned' or a float > 0."""
    return value == "learned" or (
        isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0
    )


def _is_column_list(value) -> bool:
    """a list of column names."""
    return isinstance(value, str) or (
        isinstance(value, Sequence) and all(isinstance(v, str) for v in value)
    )


def _is_role_list(value) -> bool:
    """a column name, glob pattern or position, or a list of them."""
    items = [value] if isinstance(value, str | numbers.Integral) else value
    return isinstance(items, Sequence) and all(
        isinstance(v, str | numbers.Integral) and not isinstance(v, bool) for v in items
    )


#: The discoverer's graph source when the encoder's pooled graph wins on
#: held-out steps: its logarithmic pool with the shops' Granger graph.
_ENCODER_AND_GRANGER = "encoder+partial_granger"


def _pool_logits(first, second) -> np.ndarray:
    """Equal-weight logarithmic pool of two log-odds, each bounded to
    probabilities in [1e-6, 1 - 1e-6]."""
    from scipy.special import expit, logit

    bound = logit(1.0 - 1e-6)
    return expit(0.5 * (np.clip(first, -bound, bound) + np.clip(second, -bound, bound)))


def _logit(probabilities) -> np.ndarray:
    from scipy.special import logit

    return logit(np.clip(probabilities, 1e-6, 1 - 1e-6))


def _log_pool(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Equal-weight logarithmic pool of two graphs (zero diagonal)."""
    pooled = _pool_logits(_logit(first), _logit(second))
    diagonal = np.arange(pooled.shape[-1])
    pooled[..., diagonal, diagonal] = 0.0
    return pooled


def _pool_evidence(probabilities, evidence, prior: float) -> np.ndarray:
    """Equal-weight logarithmic pool of edge posteriors and a test's evidence.

    ``probabilities`` ``(n_shops, n_nodes)``, ``evidence`` log Bayes factors
    ``(n_nodes,)`` (0 leaves a node's edge at the pool of its posterior and the
    prior).
    """
    from scipy.special import logit

    return _pool_logits(_logit(probabilities), (logit(prior) + evidence)[None])


#: Columns of a lift-test table (``shop`` optional).
_LIFT_COLUMNS = ("shop", "channel", "start", "end", "spend_change", "lift", "lift_se")


def _read_lift_tests(lift_tests, panel: Panel, roles) -> list:
    """Lift tests as the target head reads them, or a ValueError naming the row."""

    from sklearn_causalmmm._causalmmm.head import LiftTest

    if lift_tests is None:
        return []
    if not isinstance(lift_tests, pd.DataFrame):
        raise TypeError("lift_tests must be a DataFrame, one row per experiment.")
    missing = [c for c in _LIFT_COLUMNS[1:] if c not in lift_tests.columns]
    if missing:
        raise ValueError(
            f"lift_tests lacks the column(s) {missing}; it needs "
            f"{list(_LIFT_COLUMNS[1:])} and optionally 'shop'."
        )
    names = list(panel.node_names)
    grid = panel.time_index
    tests = []
    for row_number, row in enumerate(lift_tests.itertuples(index=False)):
        where = f"lift_tests row {row_number}"
        channel = row.channel
        if isinstance(channel, numbers.Integral) and -len(names) < channel < len(names):
            # a position, as for numpy input (the target, last, is no channel)
            channel = names[int(channel)]
        channel = str(channel)
        if channel not in names or roles[names.index(channel)] not in (
            "media",
            "funnel",
        ):
            media = [n for n, r in zip(names, roles, strict=False) if r == "media"]
            raise ValueError(
                f"{where}: channel {channel!r} is not a media column ({media})"
            )
        node = names.index(channel)
        positions = grid.get_indexer([row.start, row.end])
        if (positions < 0).any() or positions[0] > positions[1]:
            raise ValueError(
                f"{where}: start {row.start!r} and end {row.end!r} must be steps "
                f"of the fitted time grid ({grid[0]!r} to {grid[-1]!r}), start first"
            )
        shop = getattr(row, "shop", None)
        if (
            shop is None
            or (isinstance(shop, float) and np.isnan(shop))
            or shop in ("", "*")
        ):
            shops = np.arange(panel.n_shops)
        else:
            if shop not in panel.shop_ids:
                raise ValueError(f"{where}: shop {shop!r} was not in the fitted data")
            shops = np.array([list(panel.shop_ids).index(shop)])
        values = [row.spend_change, row.lift, row.lift_se]
        if not np.all(np.isfinite(np.asarray(values, dtype=float))) or row.lift_se <= 0:
            raise ValueError(
                f"{where}: spend_change, lift and lift_se must be finite, lift_se > 0"
            )
        tests.append(
            LiftTest(
                shops=shops,
                node=node,
                start=int(positions[0]),
                stop=int(positions[1]) + 1,
                change=float(row.spend_change) / panel.scale[shops, node],
                target_scale=panel.scale[shops, -1].astype(np.float64),
                lift=float(row.lift),
                lift_se=float(row.lift_se),
            )
        )
    return tests


#: Shops below which the network's own forecast of the target is left out:
#: an amortised encoder and a recurrent decoder learn little from a few
#: series (the fit then says so in a log line).
_MIN_SHOPS_FOR_NETWORK = 5
#: Shops converted at once by predict_graph (a multiple of SHOP_CHUNK: the
#: network reads the same batches as from the whole panel).
_CONVERT_CHUNK = 16 * SHOP_CHUNK
#: Shops the regressor's edge bootstrap resamples at a time: its replicates
#: (``n_interval_replicates`` graphs per shop) stay a few MB at any panel size.
_INTERVAL_SHOPS = 4 * SHOP_CHUNK


def _is_edge_list(value) -> bool:
    """a list of (sender, receiver) pairs of node names, patterns or positions."""
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(
            isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2
            for pair in value
        )
    )


#: What the parameters every CausalMMM estimator shares accept.
_SHARED_CONSTRAINTS: dict[str, list] = {
    "hidden": [Interval(numbers.Integral, 1, None)],
    "tau": [Interval(numbers.Real, 0, None, closed="neither")],
    "hard": ["boolean"],
    "kl_weight": [Interval(numbers.Real, 0, None)],
    "edge_prior": [Interval(numbers.Real, 0, 1, closed="neither"), None],
    "nll_variance": [_is_variance],
    "n_lags": [Interval(numbers.Integral, 0, None)],
    "lag_features": [_is_lag_features],
    "encoder_norm": [Options(str, {"layer", "batch"}), None],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "horizon": [Interval(numbers.Integral, 1, None)],
    "residual": ["boolean"],
    "messages": [Options(str, {"sender", "pair"})],
    "graph": [Options(str, {"learned", "full"})],
    "required_edges": [_is_edge_list, None],
    "forbidden_edges": [_is_edge_list, None],
    "lr": [Interval(numbers.Real, 0, None, closed="neither")],
    "batch_size": [Interval(numbers.Integral, 1, None)],
    "max_epochs": [Interval(numbers.Integral, 1, None), Options(str, {"auto"})],
    "validation_fraction": [Interval(numbers.Real, 0, 0.5, closed="left")],
    "patience": [Interval(numbers.Integral, 0, None)],
    "warmup_epochs": [Interval(numbers.Integral, 0, None)],
    "lr_schedule": [Options(str, {"plateau"}), None],
    "context_columns": [_is_column_list, None],
    "shop_column": [str],
    "time_column": [str],
    "target_name": [str],
    "device": [str, torch.device],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

_DECODER_CONSTRAINTS: dict[str, list] = {
    "saturation": [Options(str, {"hill"}), None],
    "carryover": [Options(str, {"recurrent", "markov"})],
}


class _CausalMMMBase(BaseEstimator):
    """Training and graph inference shared by every CausalMMM estimator.

    Subclasses declare their parameters; this class reads them by name.
    """

    #: ``max_epochs="auto"``: at least this many epochs, or MIN_UPDATES updates.
    _auto_epochs = 15
    #: Edge gains per fitted shop (the regressor's ``edge_gain_scale``).
    _edge_gain_scale = 0.0
    #: The KL of a longer shop's graph counts once per this many of its
    #: observed steps (None: once per shop); see ``PanelNet``.
    _kl_reference_steps: int | None = KL_REFERENCE_STEPS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # spend, page views and GMV
        return tags

    # -- persistence ----------------------------------------------------------

    def __setstate__(self, state):
        # a fitted model holds torch modules and private arrays laid out by
        # the release that fitted it: load it only into that release line
        saved = state.get("_sklearn_causalmmm_version")
        if saved is not None:
            from sklearn_causalmmm import __version__

            if _release(saved) != _release(__version__):
                raise ValueError(
                    f"this {type(self).__name__} was fitted with sklearn-causalmmm "
                    f"{saved}, but sklearn-causalmmm {__version__} is installed; "
                    f"load it with sklearn-causalmmm=={saved}, or refit it with "
                    f"{__version__}"
                )
        super().__setstate__(state)

    # -- training -----------------------------------------------------------

    def _epoch_budget(self, n_shops: int) -> int:
        """``max_epochs``, or with "auto" enough epochs for :data:`MIN_UPDATES`."""
        if self.max_epochs != "auto":
            return self.max_epochs
        batches_per_epoch = -(-n_shops // self.batch_size)
        return max(self._auto_epochs, -(-MIN_UPDATES // batches_per_epoch))

    def _window_sizes(self, panel: Panel) -> tuple[int, int]:
        """Return ``(n_valid, n_history)``, or raise naming the shortfall."""
        n_steps = panel.n_steps
        horizon = self.horizon
        fraction = self.validation_fraction
        n_valid = max(horizon, round(n_steps * fraction)) if fraction > 0 else 0
        n_history = n_steps - n_valid - horizon
        # with n_lags="auto" the order adapts to the steps left (at least 1)
        n_lags = 1 if self.n_lags == "auto" else self.n_lags
        needed = max(2, 2 * n_lags + 1)
        if n_history < needed:
            raise ValueError(
                f"{n_steps} time steps are too few: horizon={horizon} and "
                f"{n_valid} validation steps leave {n_history} steps of history, "
                f"but at least {needed} are needed (n_lags={self.n_lags!r}). Shops: "
                f"{list(panel.shop_ids)[:5]}."
            )
        return n_valid, n_history

    def _train(self, panel: Panel, rng, known_nodes: torch.Tensor | None) -> None:
        from sklearn_causalmmm import __version__

        self._sklearn_causalmmm_version = __version__
        n_valid, n_history = self._window_sizes(panel)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self.n_lags_ = self._lag_order(panel, n_history)
        self._pair_features = (
            EncoderLagFeatures(n_history, self.n_lags_, self.lag_features)
            if self.n_lags_
            else None
        )
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
            scored_nodes=None if known_nodes is None else self._scored_nodes(panel),
        )
        # shops are scaled when their batch is read: no copy of the panel
        shops = PanelDataset(
            panel.values,
            panel.scale,
            panel.mask,
            panel.context,
            panel.n_steps - self.horizon,
            pair_features=self._pair_features,
        )
        seeded(seed, net.fit, shops, None)
        self.net_ = net
        self.model_ = net.module_.model.eval()
        self.n_history_ = n_history
        self.history_ = [
            {k: row[k] for k in ("train_loss", "valid_loss") if k in row}
            for row in net.history
        ]
        self.edge_probabilities_ = self._infer_graph(panel)

    def _lag_order(self, panel: Panel, n_history: int) -> int:
        """``n_lags``, or with "auto" the order chosen from the panel's series."""
        if self.n_lags != "auto":
            return self.n_lags
        # the encoder's statistics need more than 2 * n_lags steps of its window
        largest = min(MAX_AUTO_LAGS, (n_history - 1) // 2)
        n_lags, _ = select_lag_order(panel.values, panel.mask, largest)
        logger.info("n_lags='auto' chose %d lags (of 1..%d) by BIC", n_lags, largest)
        return n_lags

    def _baseline_component(self) -> Baseline | None:
        """The baseline component to fit, or None (the discoverer has none)."""
        baseline = getattr(self, "baseline", None)
        if baseline is None:
            return None
        return Baseline() if isinstance(baseline, str) else clone(baseline)

    def _known_edges(self, panel: Panel) -> np.ndarray:
        """Edges fixed before fitting: 1, 0, or NaN (learned); kept for later."""
        self.known_edges_ = known_edges(
            panel.node_names, self.required_edges, self.forbidden_edges
        )
        return self.known_edges_

    def _force_known(self, graphs: np.ndarray) -> np.ndarray:
        """``graphs`` with the known edges at exactly 1 or 0."""
        known = getattr(self, "known_edges_", None)
        if known is None or np.isnan(known).all():
            return graphs
        return np.where(np.isnan(known)[None], graphs, known[None])

    @staticmethod
    def _model_roles(panel: Panel) -> tuple[str, ...]:
        """Every node's role, the last node the target (the discoverer's too)."""
        roles = panel.roles or ("media",) * panel.n_nodes
        return (*roles[:-1], "target")

    @staticmethod
    def _scored_nodes(panel: Panel) -> np.ndarray:
        """The nodes a forecaster is judged on: the target."""
        scored = np.zeros(panel.n_nodes, dtype=bool)
        scored[-1] = True
        return scored

    def _make_model(self, panel: Panel, n_history: int) -> CausalMMM:
        gain_scale = self._edge_gain_scale
        features = self._pair_features
        return CausalMMM(
            n_nodes=panel.n_nodes,
            n_history=n_history,
            n_context=panel.context.shape[1],
            hidden=self.hidden,
            tau=self.tau,
            hard=self.hard,
            n_pair_features=0 if features is None else features.n_features,
            encoder_norm=self.encoder_norm,
            dropout=self.dropout,
            graph=self.graph,
            residual=self.residual,
            messages=self.messages,
            n_shops=panel.n_shops if gain_scale > 0 else 0,
            edge_gain_scale=gain_scale or 1.0,
            roles=self._model_roles(panel),
            known_edges=self._known_edges(panel),
            **self._decoder_modules(),
        )

    def _encoder_pair_features(
        self, values: np.ndarray, mask: np.ndarray
    ) -> torch.Tensor | None:
        """The encoder's pair features of the window ending with ``values``."""
        if self._pair_features is None:
            return None
        return torch.as_tensor(self._pair_features(values, mask))

    def _decoder_modules(self) -> dict[str, bool]:
        """Which marketing modules the decoder has (subclasses may fix them)."""
        return {
            "saturation": self.saturation == "hill",
            "recurrent": self.carryover == "recurrent",
        }

    # -- graph inference ----------------------------------------------------

    def _prior_edge_probability(self) -> float:
        # the uniform prior over the two edge types gives P(edge) = 1/2
        return 0.5 if self.edge_prior is None else float(self.edge_prior)

    def _infer_graph(self, panel: Panel) -> np.ndarray:
        """Edge probabilities ``(n_shops, d, d)`` from each shop's last window."""
        if panel.n_steps < self.n_history_:
            raise ValueError(
                f"the graph is read from the last {self.n_history_} steps of each "
                f"shop, but X has {panel.n_steps}."
            )
        logits = []
        # shops are independent: chunks keep the memory flat in their number
        for start in range(0, panel.n_shops, SHOP_CHUNK):
            rows = slice(start, start + SHOP_CHUNK)
            scaled = panel.scaled(rows)
            pair = self._encoder_pair_features(scaled, panel.mask[rows])
            window = torch.as_tensor(scaled[:, :, -self.n_history_ :])
            with torch.no_grad(), small_ops():
                logits.append(self.model_.edge_logits(window, pair))
        logits = torch.cat(logits)
        probabilities = edge_probability(logits).numpy().astype(np.float64)
        probabilities = self._force_known(probabilities)
        probabilities[:, np.arange(panel.n_nodes), np.arange(panel.n_nodes)] = 0.0
        return probabilities


def _init_variance(model: CausalMMM, panel: Panel) -> None:
    """Start each node's likelihood variance at its one-step change variance.

    A variance of 1 for every node would weigh bursty spend and smooth GMV
    alike until the variances are learned, and by then the encoder has already
    learned to prefer edges that help predict spend.
    """
    total, count = np.zeros(panel.n_nodes), 0
    for start in range(0, panel.n_shops, SHOP_CHUNK):
        rows = slice(start, start + SHOP_CHUNK)
        both = panel.mask[rows, 1:] & panel.mask[rows, :-1]
        change = np.diff(panel.scaled(rows), axis=-1) ** 2 * both[:, None, :]
        total += change.sum(axis=(0, 2), dtype=np.float64)
        count += int(both.sum())
    variance = total / max(count, 1)
    with torch.no_grad():
        model.log_variance.copy_(torch.as_tensor(np.log(np.maximum(variance, 1e-4))))


#: What the discoverers' edge-interval parameters accept.
_INTERVAL_CONSTRAINTS: dict[str, list] = {
    "interval_coverage": [Interval(numbers.Real, 0, 1, closed="neither")],
    "n_interval_replicates": [Interval(numbers.Integral, 0, None)],
}


class CausalGraphDiscoverer(BaseDiscoverer, _CausalMMMBase):
    """Learn a Granger-causal graph per shop with CausalMMM.

    One amortised encoder reads every shop's series and outputs the
    probability of each directed edge; the Marketing Response Decoder, trained
    with it as a variational autoencoder, can only use an edge ``i -> j`` to
    predict ``j`` from ``i``'s past, so the learned edges are Granger-causal.
    After training, a pooling component (by default
    :class:`GraphTypePooling`) reconciles each shop's graph with the shops of
    its graph type. New shops get their graph from :meth:`predict_graph`
    without retraining.

    Parameters
    ----------
    hidden : int, default=64
        Width of every layer (the authors use 256).
    tau : float, default=0.5
        Gumbel-Softmax temperature.
    hard : bool, default=False
        Straight-through one-hot edge samples (an absent edge carries nothing)
        instead of soft ones (the authors' choice).
    kl_weight : float, default=1.0
        Weight of KL(q(edges) || prior) in the ELBO, counted once per shop
        and, beyond 100 observed steps, once per 100, so that the prior does
        not fade on long series.
    edge_prior : float or None, default=0.2
        Prior probability of an edge (a sparsity prior). None is the uniform
        prior of the authors' code.
    nll_variance : float or "learned", default="learned"
        Variance of the Gaussian likelihood on scaled data: ``"learned"`` fits
        one per node, so that bursty spend does not drown the evidence about
        edges into the target; the authors fix 5e-7.
    n_lags : int or "auto", default="auto"
        Lags of the Granger statistics fed to the encoder beside the node
        embeddings and of the graph types' pooled test (0 reproduces the
        authors' encoder). "auto" chooses the order from the series: the BIC
        of one VAR pooled over the shops, among 1 to
        :data:`~sklearn_causalmmm.utils.lags.MAX_AUTO_LAGS` (10) lags
        (:func:`~sklearn_causalmmm.utils.lags.select_lag_order`).
    lag_features : str or sequence of str, default="all"
        Which statistics (see
        :func:`~sklearn_causalmmm.utils.lags.edge_lag_features`):
        ``"bivariate"`` (each sender's lagged correlation with the receiver's
        residual after its own lags), ``"conditional"`` (ridge VAR
        coefficients: indirect senders are explained away), ``"summed"``
        (the same on sums of lags, well posed with many nodes), a sequence of
        these, ``"both"`` (the first two) or ``"all"`` (the three).
    encoder_norm : {"layer", "batch"} or None, default="layer"
        Normalisation closing every encoder block. ``"batch"`` (the authors')
        makes a shop's graph depend on the other shops of its batch.
    dropout : float, default=0.0
    horizon : int, default=1
        Steps rolled out at the end of every training window: one step ahead
        is the Granger objective.
    saturation : {"hill"} or None, default="hill"
        Context-shaped Hill curves on the decoder's media inputs; None drops
        them (the paper's "CM-rw" ablation).
    carryover : {"recurrent", "markov"}, default="recurrent"
        The decoder's memory: a recurrent state, or one rebuilt from the
        current input at every step (the paper's "CM-markov" ablation).
    residual : bool, default=True
        The decoder predicts the change from the current value.
    messages : {"sender", "pair"}, default="sender"
        What an edge ``i -> j`` carries: a function of ``i``'s state only, or
        of ``[h_i, h_j]`` as in the authors' decoder.
    graph : {"learned", "full"}, default="learned"
        ``"full"`` fixes the fully connected graph (the "CM-full" ablation).
    required_edges, forbidden_edges : list of (sender, receiver), default=None
        Edges known before fitting, as pairs of node names, glob patterns or
        positions: ``("brand", "search")``; ``("gmv", "*")`` forbids every
        edge out of ``gmv``, ``("*", "tv")`` every edge into ``tv`` (a
        channel whose spend nothing in the data decides). They have
        probability exactly 1 or 0 in every shop, for fitted and new shops,
        and the decoder reads them so.
    pooling : "graph_types", GraphTypePooling or None, default="graph_types"
        What happens to the encoder's graphs after training:
        ``"graph_types"`` is :class:`GraphTypePooling` with its defaults; a
        :class:`GraphTypePooling` sets its options. With a pooling, the
        reported graph is then chosen from the data between the pooled
        encoder's graph and the shops' Granger statistics, partly pooled
        over the shops by their heterogeneity (see ``graph_source_``). None
        reports the encoder's posteriors as they are (the paper), with no
        choice made.
    interval_coverage : float, default=0.8
        Coverage of :attr:`edge_intervals_` and :meth:`predict_graph_interval`.
    n_interval_replicates : int, default=50
        Block-bootstrap replicates behind the edge intervals (0: no
        intervals, both bounds are the point estimate). Each costs about
        one reading of the graph, not a training.
    lr : float, default=3e-3
    batch_size : int, default=8
        Shops per batch.
    max_epochs : int or "auto", default="auto"
        Training epochs. "auto" is 15, or more on small panels: enough epochs
        for :data:`MIN_UPDATES` optimiser updates.
    validation_fraction : float, default=0.0
        Share of the final steps of every shop held out to early-stop on the
        forecast error (0: none; forecast error stops structure learning too
        early).
    patience : int, default=10
        Early-stopping patience in epochs (with a validation share).
    warmup_epochs : int, default=0
        Epochs during which the decoder trains alone on random graphs before
        the encoder starts learning.
    lr_schedule : {"plateau"} or None, default="plateau"
        Halve the learning rate when the monitored loss stops improving.
    context_columns : list of str, default=None
        DataFrame columns holding shop context (not graph nodes).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of a long DataFrame.
    target_name : str, default="gmv"
        Name of the target node when ``y`` is passed to :meth:`fit`.
    device : str, default="cpu"
    random_state : int, RandomState or None, default=None
        Fixes initialisation, batch order and Gumbel noise: CPU fits on one
        machine with the same number of torch threads are bit-identical.
    verbose : int, default=0
        Show a progress bar and the training log.

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = P(node i -> node j) for shop s; zero diagonal.
    edge_intervals_ : ndarray of shape (2, n_shops, n_nodes, n_nodes)
        Lower (``[0]``) and upper (``[1]``) bounds of every edge probability
        at ``interval_coverage``: how far ``edge_probabilities_`` moves when
        the shops' series are resampled in blocks of time (a moving-block
        bootstrap, :mod:`~sklearn_causalmmm._causalmmm.uncertainty`). Each
        replicate is combined as the point estimate is: same
        ``graph_source_``, the encoder re-read (not retrained), the graph
        types' own test and the Granger statistics re-estimated. Each
        interval contains its point estimate (the replicates are centred on
        it on the log-odds scale); known edges and the diagonal have
        zero-width intervals. An interval is the spread of the estimate, not
        a probability that the edge exists.
    encoder_edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        The encoder's posterior of each shop, before pooling.
    pooling_ : GraphTypePooling or None
        The fitted pooling component; it also pools new shops' graphs in
        :meth:`predict_graph`.
    graph_source_ : {"encoder+partial_granger", "partial_granger", "encoder"}
        Where ``edge_probabilities_`` come from: ``"encoder+partial_granger"``,
        the encoder's posteriors after the pooling, pooled (logarithmic pool,
        equal weights) with the Granger graph; ``"partial_granger"``, each shop's
        Granger statistics shrunk toward their mean over the shops by how
        much the shops disagree on each edge
        (:class:`~sklearn_causalmmm._causalmmm.selection.GrangerEvidence`).
        The Granger graph is reported alone unless the encoder's ranked senders
        predict held-out blocks of every shop clearly better (by more than
        two standard errors of the paired per-shop difference of one-step
        ridge VAR errors, see
        :func:`~sklearn_causalmmm._causalmmm.selection.choose_graph_source`;
        the encoder saw those blocks in training, so even then its graph is
        hedged with the Granger one); when the graph-type pooling stands down,
        the Granger graph is reported. Logged at level INFO. ``"encoder"``
        (its graph alone) only with ``pooling=None``.
    graph_source_errors_ : dict of str to float
        The held-out error of each candidate (empty when there was no
        choice).
    granger_evidence_ : GrangerEvidence
        The shops' Granger statistics (with a pooling); they also score new
        shops in :meth:`predict_graph` when they are the graph source.
    n_graph_types_ : int
        Graph types found by the pooling (0 without pooling).
    graph_types_ : ndarray of shape (n_graph_types_, n_nodes, n_nodes)
        Edge probabilities of each graph type (with graph-type pooling).
    graph_type_probabilities_ : ndarray of shape (n_shops, n_graph_types_)
        Posterior probability of each graph type for every shop (with
        graph-type pooling).
    node_names_ : list of str
    shop_ids_ : list
    n_features_in_ : int
    n_history_ : int
        Steps of each shop the encoder reads.
    n_lags_ : int
        The lag order used (``n_lags``, or the one "auto" chose).
    model_ : torch.nn.Module
        The trained :class:`~sklearn_causalmmm.nn.CausalMMM`.
    net_ : skorch.NeuralNet
    history_ : list of dict
        Training loss (negative ELBO) and validation loss per epoch.

    See Also
    --------
    CausalMMMRegressor : the same model, forecasting the target from a plan.

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
    _parameter_constraints: dict = {
        **_SHARED_CONSTRAINTS,
        **_DECODER_CONSTRAINTS,
        "n_lags": [Interval(numbers.Integral, 0, None), Options(str, {"auto"})],
        "pooling": [Options(str, {"graph_types"}), GraphTypePooling, None],
        **_INTERVAL_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden: int = 64,
        tau: float = 0.5,
        hard: bool = False,
        kl_weight: float = 1.0,
        edge_prior: float | None = 0.2,
        nll_variance: float | str = "learned",
        n_lags: int | str = "auto",
        lag_features: str | Sequence[str] = "all",
        encoder_norm: str | None = "layer",
        dropout: float = 0.0,
        horizon: int = 1,
        saturation: str | None = "hill",
        carryover: str = "recurrent",
        residual: bool = True,
        messages: str = "sender",
        graph: str = "learned",
        required_edges=None,
        forbidden_edges=None,
        pooling: str | GraphTypePooling | None = "graph_types",
        interval_coverage: float = 0.8,
        n_interval_replicates: int = 50,
        lr: float = 3e-3,
        batch_size: int = 8,
        max_epochs: int | str = "auto",
        validation_fraction: float = 0.0,
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
        self.carryover = carryover
        self.residual = residual
        self.messages = messages
        self.graph = graph
        self.required_edges = required_edges
        self.forbidden_edges = forbidden_edges
        self.pooling = pooling
        self.interval_coverage = interval_coverage
        self.n_interval_replicates = n_interval_replicates
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
        # a discoverer has no spend semantics: signed nodes are read as signed
        tags.input_tags.positive_only = False
        return tags

    def _score_graphs(self, panel: Panel, rng) -> np.ndarray:
        graphs = self._point_graphs(panel, rng)
        # drawn after the point estimate: its random stream is not changed
        self.edge_intervals_ = self._edge_intervals(panel, graphs, rng, refit=True)
        return graphs

    def _point_graphs(self, panel: Panel, rng) -> np.ndarray:
        validate_params(self)
        self._train(panel, rng, known_nodes=None)
        self.encoder_edge_probabilities_ = self.edge_probabilities_
        self.pooling_ = self._pooling_component()
        self.n_graph_types_ = 0
        self.graph_source_ = "encoder"
        if self.pooling_ is None:
            return self.encoder_edge_probabilities_
        self.pooling_.fit(
            self.encoder_edge_probabilities_,
            panel.values,
            panel.mask,
            prior_edge_probability=self._prior_edge_probability(),
            n_lags=self.n_lags_,
            random_state=rng,
        )
        self.n_graph_types_ = self.pooling_.n_types_
        self.graph_types_ = self.pooling_.graph_types_
        self.graph_type_probabilities_ = self.pooling_.type_probabilities_
        pooled = self._force_known(
            self.pooling_.transform(self.encoder_edge_probabilities_)
        )
        return self._choose_graph(panel, pooled, rng)

    def _choose_graph(self, panel: Panel, pooled: np.ndarray, rng) -> np.ndarray:
        """The pooled encoder's graph or the shops' Granger graphs, by tail error.

        When the graph-type pooling stood down, the encoder's graph is not a
        candidate: the Granger one is reported.
        """
        prior = self._prior_edge_probability()
        self.granger_evidence_ = GrangerEvidence(self.n_lags_, prior).fit(
            panel.values, panel.mask
        )
        self.graph_source_errors_ = {}
        if not self.pooling_.active_:
            source = "partial_granger"
            logger.info("graph source: %s (the graph-type pooling stood down)", source)
        else:
            # both candidates are re-estimated without each held-out block,
            # but for the encoder itself (trained on every step)
            seed = int(rng.randint(np.iinfo(np.int32).max))

            def encoder(train_mask):
                # the type test reads the series: refitted without the block
                pooling = clone(self.pooling_).fit(
                    self.encoder_edge_probabilities_,
                    panel.values,
                    train_mask,
                    prior_edge_probability=prior,
                    n_lags=self.n_lags_,
                    random_state=seed,
                )
                return pooling.transform(self.encoder_edge_probabilities_)

            def granger(train_mask):
                evidence = GrangerEvidence(self.n_lags_, prior)
                evidence.fit(panel.values, train_mask)
                return evidence.graphs(panel.values, train_mask, "partial_granger")

            # the encoder saw the held-out blocks in training: it is reported
            # only if it predicts them clearly better than the Granger graph
            source, self.graph_source_errors_, _ = choose_graph_source(
                panel.values,
                panel.mask,
                {"encoder": encoder, "partial_granger": granger},
                self.granger_evidence_.n_lags_,
                default="partial_granger",
            )
            logger.info(
                "graph source: %s (held-out one-step error %s)",
                source,
                ", ".join(
                    f"{name} {error:.4f}"
                    for name, error in self.graph_source_errors_.items()
                ),
            )
        if source == "encoder":
            # its win is measured on steps it trained on: it is hedged with
            # the Granger graph (an equal-weight logarithmic pool) rather
            # than reported alone
            source = _ENCODER_AND_GRANGER
        self.graph_source_ = source
        return self._graphs_of_source(panel, pooled)

    def _graphs_of_source(
        self, panel: Panel, pooled: np.ndarray, evidence: GrangerEvidence | None = None
    ) -> np.ndarray:
        """The graphs of :attr:`graph_source_` for ``panel``'s shops.

        ``evidence`` replaces the fitted ``granger_evidence_`` (a bootstrap
        replicate re-estimates it).
        """
        if self.graph_source_ == "encoder":
            return pooled
        evidence = self.granger_evidence_ if evidence is None else evidence
        granger = evidence.graphs(panel.values, panel.mask, "partial_granger")
        if self.graph_source_ == _ENCODER_AND_GRANGER:
            granger = _log_pool(pooled, granger)
        return self._force_known(granger)

    def _edge_intervals(self, panel: Panel, graphs, rng, refit: bool) -> np.ndarray:
        """Bootstrap intervals ``(2, n_shops, d, d)`` of ``graphs`` (see
        :attr:`edge_intervals_`); ``refit`` re-estimates the panel-level parts
        (the shops of the fit) instead of holding them (new shops)."""
        if self.n_interval_replicates == 0:
            return np.stack([graphs, graphs])
        evidence = getattr(self, "granger_evidence_", None)
        n_lags = max(self.n_lags_, 0 if evidence is None else evidence.n_lags_)
        prior = self._prior_edge_probability()

        def estimate(values, mask):
            resampled = panel.with_series(values, mask)
            pooled = None
            if self.graph_source_ != "partial_granger":
                pooling = self.pooling_
                if refit and pooling is not None:
                    pooling = repooled(pooling, values, mask, self.n_lags_)
                pooled = self._infer_graph(resampled)
                if pooling is not None:
                    pooled = self._force_known(pooling.transform(pooled))
            replicate = None
            if refit and self.graph_source_ != "encoder":
                replicate = GrangerEvidence(evidence.n_lags_, prior).fit(values, mask)
            return self._graphs_of_source(resampled, pooled, replicate)

        return edge_intervals(
            graphs,
            estimate,
            panel.values,
            panel.mask,
            n_lags,
            n_replicates=self.n_interval_replicates,
            coverage=self.interval_coverage,
            rng=rng,
        )

    def predict_graph_interval(self, X, context=None, *, y=None) -> np.ndarray:
        """Edge intervals ``(2, n_shops, d, d)`` for the shops in X.

        The counterpart of :attr:`edge_intervals_` for new shops, as
        ``predict_graph`` is of ``edge_probabilities_``: the shops'
        series are resampled in blocks of time and their graphs re-read with
        the fitted model (encoder, graph types and the panel's Granger
        statistics held as fitted), ``n_interval_replicates`` times, at
        ``interval_coverage``. The draws are fixed by ``random_state``.
        Each interval contains ``predict_graph``'s probability.

        Parameters
        ----------
        X, context, y
            As in ``predict_graph``.

        Returns
        -------
        intervals : ndarray of shape (2, n_shops, n_nodes, n_nodes)
            ``intervals[0]`` the lower and ``intervals[1]`` the upper bounds.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_causalmmm import CausalGraphDiscoverer
        >>> from sklearn_causalmmm.datasets import make_causal_mmm
        >>> data = make_causal_mmm(n_shops=8, n_steps=60, random_state=0)
        >>> X = np.concatenate([data.X, data.y[:, None]], axis=1)
        >>> discoverer = CausalGraphDiscoverer(
        ...     hidden=8, max_epochs=1, n_interval_replicates=10, random_state=0
        ... ).fit(X[:6], context=data.context[:6])
        >>> lower, upper = discoverer.predict_graph_interval(
        ...     X[6:], context=data.context[6:]
        ... )
        >>> point = discoverer.predict_graph(X[6:], context=data.context[6:])
        >>> bool((lower <= point).all() and (point <= upper).all())
        True
        """
        from sklearn.utils import check_random_state

        panel = self._new_shops_panel(X, context, y)
        graphs = np.asarray(self._score_new(panel), dtype=np.float64)
        rng = check_random_state(self.random_state)
        return self._edge_intervals(panel, graphs, rng, refit=False)

    def _pooling_component(self) -> GraphTypePooling | None:
        if self.pooling is None:
            return None
        if isinstance(self.pooling, str):
            return GraphTypePooling()
        return clone(self.pooling)

    def _score_new(self, panel: Panel) -> np.ndarray:
        if getattr(self, "graph_source_", "encoder") == "partial_granger":
            return self._graphs_of_source(panel, None)
        return self._graphs_of_source(panel, self._pooled(self._infer_graph(panel)))

    def _pooled(self, encoder_graphs: np.ndarray) -> np.ndarray:
        """Each shop's graph under the fitted pooling (if any)."""
        if self.pooling_ is None:
            return encoder_graphs
        return self._force_known(self.pooling_.transform(encoder_graphs))


class NRIDiscoverer(CausalGraphDiscoverer):
    """CausalMMM minus the marketing decoder: the ACD/NRI comparison.

    The same amortised relational encoder and ELBO as
    :class:`CausalGraphDiscoverer`, but the decoder is a plain one-step graph
    network: no recurrent carryover state and no Hill saturation. Comparing
    the two isolates what the marketing response decoder adds to structure
    learning. As published, NRI reads each graph from its own series
    (``pooling=None``) with the bivariate lag statistics.

    Parameters are those of :class:`CausalGraphDiscoverer` without
    ``saturation`` and ``carryover``; ``lag_features`` defaults to
    ``"bivariate"`` and ``pooling`` to None.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm.estimators import NRIDiscoverer
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> data = make_causal_mmm(n_shops=6, n_steps=60, random_state=0)
    >>> X = np.concatenate([data.X, data.y[:, None]], axis=1)
    >>> model = NRIDiscoverer(hidden=8, max_epochs=1, random_state=0)
    >>> model.fit(X).edge_probabilities_.shape
    (6, 8, 8)
    """

    _parameter_constraints: dict = {
        **_SHARED_CONSTRAINTS,
        "pooling": [Options(str, {"graph_types"}), GraphTypePooling, None],
        **_INTERVAL_CONSTRAINTS,
    }

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
        lag_features: str | Sequence[str] = "bivariate",
        encoder_norm: str | None = "layer",
        dropout: float = 0.0,
        horizon: int = 1,
        residual: bool = True,
        messages: str = "sender",
        graph: str = "learned",
        required_edges=None,
        forbidden_edges=None,
        pooling: str | GraphTypePooling | None = None,
        interval_coverage: float = 0.8,
        n_interval_replicates: int = 50,
        lr: float = 3e-3,
        batch_size: int = 8,
        max_epochs: int | str = "auto",
        validation_fraction: float = 0.0,
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
        self.residual = residual
        self.messages = messages
        self.graph = graph
        self.required_edges = required_edges
        self.forbidden_edges = forbidden_edges
        self.pooling = pooling
        self.interval_coverage = interval_coverage
        self.n_interval_replicates = n_interval_replicates
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

    def _decoder_modules(self) -> dict[str, bool]:
        return {"saturation": False, "recurrent": False}


class CausalMMMRegressor(PanelForecasterMixin, RegressorMixin, _CausalMMMBase):
    """Forecast the target from a media plan with CausalMMM.

    The decoder reads each shop's fitted history, then rolls the target
    forward over the steps of the plan passed to :meth:`predict`, with the
    planned drivers teacher-forced. Drivers the plan lacks (a column left out,
    or NaN cells) are forecast by the model along the way. See
    :mod:`sklearn_causalmmm.base` for where a plan starts; :meth:`extend`
    appends new observations to the history forecasts start from.

    Parameters
    ----------
    hidden : int, default=64
        Width of every layer (the authors use 256).
    tau : float, default=0.5
        Gumbel-Softmax temperature.
    hard : bool, default=False
        Straight-through one-hot edge samples instead of soft ones.
    kl_weight : float, default=1.0
        Weight of KL(q(edges) || prior) in the ELBO, counted once per shop
        whatever its length: the graph serves the forecast here.
    edge_prior : float or None, default=0.2
        Prior probability of an edge; None is the uniform prior.
    nll_variance : float or "learned", default="learned"
        Variance of the Gaussian likelihood on scaled data (one learned per
        node, or fixed).
    n_lags : int, default=5
        Lags of the Granger statistics fed to the encoder (0: none).
    lag_features : str or sequence of str, default="bivariate"
        Which statistics (see :class:`CausalGraphDiscoverer`).
    encoder_norm : {"layer", "batch"} or None, default="layer"
    dropout : float, default=0.0
    horizon : int, default=7
        Steps rolled out at the end of every training window, the drivers
        teacher-forced as in a plan; the forecasts of :meth:`predict` may be
        longer.
    saturation : {"hill"} or None, default="hill"
        Context-shaped Hill curves on the decoder's media inputs.
    carryover : {"recurrent", "markov"}, default="recurrent"
        The decoder's memory (see :class:`CausalGraphDiscoverer`).
    residual : bool, default=True
        The decoder predicts the change from the current value.
    messages : {"sender", "pair"}, default="sender"
    graph : {"learned", "full"}, default="learned"
    required_edges, forbidden_edges : list of (sender, receiver), default=None
        Edges known before fitting (see :class:`CausalGraphDiscoverer`);
        also exact in the target head's gates.
    edge_gain_scale : float, default=2.0
        Shops that share a graph may differ in how strongly a parent drives a
        child: every fitted shop scales the message of each edge ``i -> j`` by
        its own gain ``exp(g)``, learned under the prior
        ``g ~ N(0, edge_gain_scale**2)`` (the shop-level coefficients of a
        hierarchical marketing mix model); 0 shares the whole decoder across
        shops.
    baseline : "auto", Baseline or None, default="auto"
        What the target does without media: each shop's level, a trend,
        seasonality from the time index and shocks shared by every shop in a
        step (see :class:`Baseline`; "auto" is ``Baseline()``), plus the
        controls' effects. The target is forecast as that baseline plus its
        responses to media and funnel nodes through the learned graph
        (carryover, then saturation), plus a recurrent remainder. None
        forecasts the target with the recurrent decoder alone (the paper).
    media_columns, funnel_columns, control_columns : str, int or list, default=None
        The role of each column of X: column names, glob patterns such as
        ``"impressions_*"``, or positions for arrays. **Media** (spend,
        impressions; the default of every column no list names) are
        non-negative, carry over and saturate, and are known in a plan.
        **Funnel** nodes (page views, clicks) are caused by media and cause
        the target; they are forecast in a plan, never required.
        **Controls** (price, promotions, holidays, weather) may be signed,
        act linearly on the target whether or not the graph has their edge,
        and are known in a plan (or forecast by the model when a plan leaves
        them out).
    lr : float, default=3e-3
    batch_size : int, default=8
        Shops per batch.
    max_epochs : int or "auto", default="auto"
        Upper bound on training epochs, which early-stop on the validation
        forecasts. "auto" is 60, or more on small panels: enough epochs for
        :data:`MIN_UPDATES` optimiser updates.
    validation_fraction : float, default=0.1
        Share of the final steps of every shop held out to early-stop on the
        squared error of the target's forecast (0: train for ``max_epochs``).
    patience : int, default=10
        Early-stopping patience in epochs.
    warmup_epochs : int, default=0
        Epochs during which the decoder trains alone on random graphs.
    lr_schedule : {"plateau"} or None, default="plateau"
    context_columns : list of str, default=None
        DataFrame columns holding shop context (not graph nodes).
    shop_column, time_column : str, default="shop_id", "date"
        Columns of a long DataFrame.
    target_name : str, default="gmv"
        Name of the target when ``y`` is not a named Series or column.
    missing : {"error", "mask", "ffill"}, default="error"
        What NaN in the data of :meth:`fit` and :meth:`extend` (and, for
        DataFrames, a step a shop lacks inside its span) means. ``"error"``:
        a ``ValueError`` naming shop, node and time. ``"mask"``: a step with
        any missing value leaves the shop's observed steps, so the loss, the
        target head and the scales ignore it (the recurrent decoder reads
        the previous values there). ``"ffill"``: a missing media or control
        value is the shop's previous one (its next one before the first
        observation) and counts as observed; a step whose target is missing
        is masked as with ``"mask"``. Plans passed to :meth:`predict` are
        not affected (their NaN cells are forecast).
    device : str, default="cpu"
    random_state : int, RandomState or None, default=None
        Makes CPU fits on one machine with the same number of torch threads
        repeatable bit for bit.
    verbose : int, default=0

    Attributes
    ----------
    edge_probabilities_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        Learned graph over X's nodes followed by the target.
    edge_intervals_ : ndarray of shape (2, n_shops, n_nodes, n_nodes)
        Lower (``[0]``) and upper (``[1]``) bounds of each edge probability
        at ``interval_coverage``: the shops' series resampled in blocks of
        time ``n_interval_replicates`` times, each replicate's graph re-read
        by the fitted encoder and pooled with :attr:`edge_evidence_` as the
        point estimate is (see :attr:`CausalGraphDiscoverer.edge_intervals_`).
        Each interval contains ``edge_probabilities_``; the encoder is not
        retrained and the panel-level evidence is held, so the interval is
        what the shop's own series leave uncertain. The shops are resampled
        256 at a time, each chunk with its own random stream drawn from
        ``random_state``, so the replicates take a few MB at any panel size.
    edge_evidence_ : ndarray of shape (n_nodes, n_nodes)
        Log Bayes factor of each edge from the linear fits of the target and
        the funnel nodes, shared by all shops, that ``edge_probabilities_``
        pools with the encoder's posterior; NaN where the graph is the
        encoder's alone.
    edge_gains_ : ndarray of shape (n_shops, n_nodes, n_nodes)
        ``[s, i, j]`` = the factor on the message of edge ``i -> j`` in shop
        ``s`` (1 on the diagonal, and everywhere with ``edge_gain_scale=0``).
    node_names_ : list of str
    panel_ : Panel
        The history forecasts continue (the fitted one, or longer after
        :meth:`extend`).
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

    _auto_epochs = 60
    _kl_reference_steps = None
    _parameter_constraints: dict = {
        **_SHARED_CONSTRAINTS,
        **_DECODER_CONSTRAINTS,
        "edge_gain_scale": [Interval(numbers.Real, 0, np.inf, closed="left")],
        **_INTERVAL_CONSTRAINTS,
        "baseline": [Options(str, {"auto"}), Baseline, None],
        "media_columns": [_is_role_list, None],
        "funnel_columns": [_is_role_list, None],
        "control_columns": [_is_role_list, None],
        "missing": [Options(str, {"error", "mask", "ffill"})],
    }

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
        lag_features: str | Sequence[str] = "bivariate",
        encoder_norm: str | None = "layer",
        dropout: float = 0.0,
        horizon: int = 7,
        saturation: str | None = "hill",
        carryover: str = "recurrent",
        residual: bool = True,
        messages: str = "sender",
        graph: str = "learned",
        required_edges=None,
        forbidden_edges=None,
        edge_gain_scale: float = 2.0,
        interval_coverage: float = 0.8,
        n_interval_replicates: int = 50,
        baseline: str | Baseline | None = "auto",
        media_columns=None,
        funnel_columns=None,
        control_columns=None,
        lr: float = 3e-3,
        batch_size: int = 8,
        max_epochs: int | str = "auto",
        validation_fraction: float = 0.1,
        patience: int = 10,
        warmup_epochs: int = 0,
        lr_schedule: str | None = "plateau",
        context_columns: list[str] | None = None,
        shop_column: str = "shop_id",
        time_column: str = "date",
        target_name: str = "gmv",
        missing: str = "error",
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
        self.carryover = carryover
        self.residual = residual
        self.messages = messages
        self.graph = graph
        self.required_edges = required_edges
        self.forbidden_edges = forbidden_edges
        self.edge_gain_scale = edge_gain_scale
        self.interval_coverage = interval_coverage
        self.n_interval_replicates = n_interval_replicates
        self.baseline = baseline
        self.media_columns = media_columns
        self.funnel_columns = funnel_columns
        self.control_columns = control_columns
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
        self.missing = missing
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    _fills_plan = True

    #: Prior scales of a shop's deviation from the shared baseline
    #: coefficients, chosen among on the validation tail.
    _SHOP_SCALES = (0.01, 0.03, 0.1)

    @property
    def _edge_gain_scale(self) -> float:
        return float(self.edge_gain_scale)

    def fit(self, X, y, context=None, lift_tests=None):
        """Fit on the drivers ``X`` and the target ``y`` of every shop.

        Parameters
        ----------
        X : array-like or DataFrame
            Media, funnel nodes and controls in any panel layout.
        y : array-like or Series
            The target, aligned with X.
        context : array-like of shape (n_shops, n_context), default=None
        lift_tests : DataFrame, default=None
            Experiments that measured what changing a channel's spend did to
            the target, one row each, with columns ``channel``, ``start``,
            ``end`` (the first and last step of the change, on the time grid
            of X, both inclusive), ``spend_change`` (the change of the
            channel's value at each of those steps, in its own units),
            ``lift`` (the measured change of the target summed over those
            steps) and ``lift_se`` (its standard error); optionally ``shop``
            (the shop tested; absent, empty or ``"*"``: every shop at once).
            Each enters the target head's fit as the Gaussian likelihood of
            its lift, so the channel's response moves to agree with it (a
            test with a huge standard error changes nothing). After the fit,
            :attr:`lift_tests_` compares the model's lifts with the measured
            ones. Needs a baseline (``baseline`` not None).

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None: give the target (sales, GMV, ...) aligned with X."
            )
        self._lift_tests_input = lift_tests
        try:
            return super().fit(X, y, context)
        finally:
            del self._lift_tests_input

    def _convert(
        self, X, y, context, min_steps, check_constant=True, missing=None
    ) -> Panel:
        """The panel of X (and y); ``missing=None`` applies the ``missing``
        policy of fitted data (fit, extend), masking the steps with holes."""
        panel = to_panel(
            X,
            y,
            context=context,
            context_columns=self.context_columns,
            shop_column=self.shop_column,
            time_column=self.time_column,
            target_name=self.target_name,
            min_steps=min_steps,
            check_constant=check_constant,
            missing=self.missing if missing is None else missing,
            media_columns=self.media_columns,
            funnel_columns=self.funnel_columns,
            control_columns=self.control_columns,
        )
        return panel.mask_missing_steps() if missing is None else panel

    def _known_nodes(self) -> torch.Tensor:
        """Nodes a plan gives: media and controls (funnel nodes are forecast)."""
        return torch.tensor([role in ("media", "control") for role in self.node_roles_])

    def _given(self, plan_shape) -> np.ndarray:
        """Which drivers of a plan ``(n_shops, d - 1, n_steps)`` are given, as a
        real plan gives them (media and controls; funnel nodes forecast)."""
        return np.broadcast_to(self._known_nodes().numpy()[None, :-1, None], plan_shape)

    # -- fit ------------------------------------------------------------------

    def _fit_panel(self, panel: Panel, rng) -> None:
        validate_params(self)
        _warn_constant_target(panel)
        self.node_roles_ = self._model_roles(panel)
        self._scale = panel.scale.astype(np.float64)
        # panel_ may later be replaced by a longer history of the same shops
        self._shop_rows = {shop: row for row, shop in enumerate(panel.shop_ids)}
        n_valid, _ = self._window_sizes(panel)
        n_train = panel.n_steps - n_valid
        self.baseline_ = self._baseline_component()
        lift_tests = getattr(self, "_lift_tests_input", None)
        self._experiments = _read_lift_tests(lift_tests, panel, self.node_roles_)
        if self._experiments and self.baseline_ is None:
            raise ValueError(
                "lift_tests calibrate the target head, which baseline=None leaves "
                "out; keep the default baseline to use them."
            )
        network_panel = panel
        if self.baseline_ is not None:
            self.baseline_.fit(panel.time_index, panel.n_shops)
            self._fitted_grid = panel.time_index
            # divided chunk by chunk of shops as the heads read them
            scaled = ScaledValues(panel.values, self._scale)
            train = panel.mask & (np.arange(panel.n_steps) < n_train)
            shop_scale = self._choose_shop_scale(panel, scaled, train, n_valid)
            self.network_head_ = self._fit_head(scaled, train, shop_scale)
            network_panel = self._residual_panel(panel, scaled)
        self._network_scale = network_panel.scale.astype(np.float64)
        self._train(network_panel, rng, known_nodes=self._known_nodes())
        # a copy of the panel is not held through the heads' fits: the
        # bootstrap at the end makes it again
        del network_panel
        with torch.no_grad():
            gains = self.model_.edge_gains(torch.arange(panel.n_shops))
        self.edge_gains_ = (
            np.ones(self.edge_probabilities_.shape)
            if gains is None
            else gains.numpy().astype(np.float64)
        )
        self.calibration_errors_ = None
        self.encoder_edge_probabilities_ = self.edge_probabilities_.copy()
        self.edge_evidence_ = np.full(self.edge_probabilities_.shape[1:], np.nan)
        if self.baseline_ is None:
            if n_valid:
                self.calibration_errors_ = self._tail_errors(panel, n_train)
            self.edge_intervals_ = self._edge_intervals(panel, rng)
            return
        # an edge into the target pools the encoder's posterior with the
        # evidence of the linear fit (as the discoverer's graph types pool a
        # Granger test): a panel of one shop teaches the encoder little
        self.edge_evidence_[:, -1] = self.network_head_.evidence()
        # the target's own past enters through the baseline, not an edge
        self.edge_evidence_[-1, -1] = np.nan
        self.edge_probabilities_ = self._with_evidence(self.encoder_edge_probabilities_)
        # a shop's response to a driver goes through its edge into the target:
        # the edge's probability times the shop's gain on it
        gates = self.edge_probabilities_[:, :, -1] * self.edge_gains_[:, :, -1]
        self.head_ = self._fit_head(scaled, train, shop_scale, gates)
        # funnel nodes get heads of their own (baseline and media responses),
        # so a plan's change of spend moves them, and the target through them
        self._funnel_nodes = np.flatnonzero(np.asarray(self.node_roles_) == "funnel")
        self.funnel_heads_ = self._fit_funnel_heads(
            scaled, train, shop_scale, pool=True
        )
        self.funnel_blend_ = dict.fromkeys(self.funnel_heads_, 0.0)
        networked = panel.n_shops >= _MIN_SHOPS_FOR_NETWORK
        if not networked:
            logger.info(
                "%d shop(s): the network's own forecast of the target is left out "
                "(it needs at least %d shops); the forecast is the baseline and "
                "the media responses through the graph",
                panel.n_shops,
                _MIN_SHOPS_FOR_NETWORK,
            )
        self.blend_ = TargetBlend(linear=0.5, network=0.5 if networked else 0.0)
        self.calibration_errors_ = None
        if n_valid:
            # weigh the three estimates on forecasts of the tail the network
            # and the heads did not fit (funnel nodes forecast, as in a plan),
            # then refit the head on every step
            plan = panel.values[:, :-1, n_train:]
            given = self._given(plan.shape)
            shops = np.arange(panel.n_shops)
            with torch.no_grad(), small_ops():
                parts = self._target_parts(panel, plan, n_train, shops, given)
                if self.funnel_heads_:
                    self.funnel_blend_ = self._choose_funnel_blend(
                        panel, parts[3], n_train, shops
                    )
                    parts = self._target_parts(panel, plan, n_train, shops, given)
            truth = panel.values[:, -1, n_train:] / self._scale[:, -1:]
            estimates = [part.numpy() for part in parts[:3]]
            experiments = None
            if self._experiments:
                # the blend answers to the experiments too: a weight that
                # dilutes a calibrated response is a worse fit of the tests
                experiments = (
                    self._part_lifts(panel),
                    np.array([t.lift for t in self._experiments]),
                    np.array([t.lift_se for t in self._experiments]),
                    self.head_.noise_,
                )
            self.blend_ = TargetBlend.choose(
                truth,
                *estimates,
                panel.mask[:, n_train:],
                with_network=networked,
                experiments=experiments,
            )
            # the errors of forecasts of steps the model did not fit calibrate
            # its intervals (split conformal)
            errors = truth - self.blend_.combine(*estimates)
            self.calibration_errors_ = errors[panel.mask[:, n_train:]]
        else:
            self.funnel_blend_ = dict.fromkeys(self.funnel_heads_, 0.5)
        self.head_ = self._fit_head(scaled, panel.mask, shop_scale, gates)
        self.funnel_heads_ = self._fit_funnel_heads(scaled, panel.mask, shop_scale)
        self.lift_tests_ = self._compare_lift_tests(lift_tests, panel)
        # drawn last: the point estimates' random stream is not changed
        network_panel = self._residual_panel(panel, scaled)
        self.edge_intervals_ = self._edge_intervals(network_panel, rng)

    def _residual_panel(self, panel: Panel, scaled) -> Panel:
        """The panel the network trains on: the target less the network
        head's baseline."""
        base, _ = self._head_parts(self.network_head_, scaled, panel.time_index)
        residual = panel.values[:, -1] - base * self._scale[:, -1:]
        return panel.replace_target(residual)

    def _with_evidence(self, encoder_graphs: np.ndarray) -> np.ndarray:
        """The encoder's graphs pooled with :attr:`edge_evidence_` where the
        linear fits tested an edge (the reported ``edge_probabilities_``)."""
        graphs = encoder_graphs.copy()
        tested = np.isfinite(self.edge_evidence_)
        prior = self._prior_edge_probability()
        for j in np.flatnonzero(tested.any(axis=0)):
            senders = np.flatnonzero(tested[:, j])
            graphs[:, senders, j] = _pool_evidence(
                graphs[:, senders, j], self.edge_evidence_[senders, j], prior
            )
        return self._force_known(graphs)

    def _edge_intervals(self, network_panel: Panel, rng) -> np.ndarray:
        """Bootstrap intervals of ``edge_probabilities_`` (see
        :attr:`edge_intervals_`) over the panel the network was trained on."""
        if self.n_interval_replicates == 0:
            return np.stack([self.edge_probabilities_] * 2)

        def estimate(values, mask, rows):
            # a shop's graph reads its own series only (the encoder is
            # amortized, the evidence fixed): the shops are resampled chunk by
            # chunk, so no replicate of the whole panel is held
            resampled = network_panel.with_series(values, mask, rows)
            return self._with_evidence(self._infer_graph(resampled))

        return edge_intervals(
            self.edge_probabilities_,
            estimate,
            network_panel.values,
            network_panel.mask,
            self.n_lags_,
            n_replicates=self.n_interval_replicates,
            coverage=self.interval_coverage,
            rng=rng,
            shop_chunk=_INTERVAL_SHOPS,
        )

    def _fit_funnel_heads(self, scaled, mask, shop_scale, pool=False) -> dict:
        """A head per funnel node: the node's baseline and its responses to
        media and controls, gated by their edges into it.

        With ``pool``, the edges from media and controls into each funnel node
        first pool the encoder's posterior with the evidence of an ungated fit,
        as the edges into the target do.
        """
        roles = np.asarray(self.node_roles_).copy()
        roles[self._funnel_nodes] = "other"  # a funnel head reads media only
        features, shocks = self._time_inputs(self._fitted_grid)
        senders = np.flatnonzero(np.isin(roles, ("media", "control")))
        heads = {}
        for f in self._funnel_nodes:
            values = scaled.with_target(f)
            if pool:
                ungated = TargetHead(roles, with_responses=True, shop_scale=shop_scale)
                ungated.fit(values, mask, features, shocks)
                self.edge_evidence_[senders, f] = ungated.evidence()[senders]
                self.edge_probabilities_ = self._with_evidence(
                    self.encoder_edge_probabilities_
                )
            gates = self.edge_probabilities_[:, :, f] * self.edge_gains_[:, :, f]
            head = TargetHead(roles, with_responses=True, shop_scale=shop_scale)
            heads[int(f)] = head.fit(values, mask, features, shocks, gates)
        return heads

    def _funnel_forecasts(self, history, drivers, start, rows, graphs=None, gains=None):
        """Each funnel head's forecast over the plan, raw units ``{node: (n, T)}``."""
        window, grid = self._head_window(history, drivers, start, rows)
        forecasts = {}
        for f, head in self.funnel_heads_.items():
            probabilities, shop_gains = self._edges_into(f, rows, graphs, gains)
            gates = probabilities * shop_gains
            base, responses = self._head_parts(head, window, grid, gates, rows)
            scale = torch.as_tensor(self._scale[rows, f][:, None])
            forecasts[f] = (base + responses)[:, start:] * scale
        return forecasts

    def _with_funnel_heads(self, history, drivers, start, rows, given, graphs, gains):
        """``drivers`` with each forecast funnel node a blend of the network's
        forecast and its head's (weights chosen on the validation tail)."""
        heads = getattr(self, "funnel_heads_", None)
        if not heads or given is None:
            return drivers
        given = torch.as_tensor(
            np.broadcast_to(np.asarray(given), drivers.shape).copy()
        )
        forecasts = self._funnel_forecasts(history, drivers, start, rows, graphs, gains)
        columns = []
        for j in range(drivers.shape[1]):
            column = drivers[:, j]
            if j in forecasts:
                weight = self.funnel_blend_[j]
                mixed = weight * forecasts[j] + (1.0 - weight) * column
                column = torch.where(given[:, j], column, mixed)
            columns.append(column)
        return torch.stack(columns, 1)

    def _choose_funnel_blend(self, panel: Panel, drivers, n_train: int, rows) -> dict:
        """Per funnel node, the weight of its head against the network on the
        validation tail (quarters; ties: the network alone)."""
        forecasts = self._funnel_forecasts(panel, drivers, n_train, rows)
        blend = {}
        for f, head_forecast in forecasts.items():
            network = drivers[:, f].numpy()
            observed = (
                panel.mask[:, n_train:]
                if panel.observed is None
                else panel.observed[:, f, n_train:]
            )
            # the network as the blend's "baseline", the head as its "linear"
            # estimate, no third one
            choice = TargetBlend.choose(
                panel.values[:, f, n_train:],
                network,
                head_forecast.numpy(),
                np.zeros_like(network),
                observed,
                with_network=False,
            )
            blend[f] = choice.linear
        return blend

    def _part_lifts(self, panel: Panel) -> np.ndarray:
        """Each lift test's lift under the baseline, linear and network
        estimates of the target, raw units ``(n_tests, 3)``."""
        lifts = np.zeros((len(self._experiments), 3))
        for r, test in enumerate(self._experiments):
            rows = test.shops
            window = panel.values[rows, :-1, test.start : test.stop]
            changed = window.copy()
            changed[:, test.node] += (
                test.change[:, None] * self._scale[rows, test.node][:, None]
            )
            given = self._given(window.shape)
            with torch.no_grad(), small_ops():
                before, after = (
                    self._target_parts(
                        panel.subset(rows), plan, test.start, rows, given
                    )[:3]
                    for plan in (window, changed)
                )
            scale = self._scale[rows, -1:]
            lifts[r] = [
                float(((b - a).numpy() * scale).sum())
                for a, b in zip(before, after, strict=True)
            ]
        return lifts

    def _compare_lift_tests(self, lift_tests, panel: Panel):
        """The model's lift of every test beside the measured one (or None)."""
        if not self._experiments:
            return None
        weights = np.array(
            [self.blend_.baseline, self.blend_.linear, self.blend_.network]
        )
        report = lift_tests.reset_index(drop=True)[
            [c for c in _LIFT_COLUMNS if c in lift_tests.columns]
        ].copy()
        report["model_lift"] = self._part_lifts(panel) @ weights
        report["z"] = (report["model_lift"] - report["lift"]) / report["lift_se"]
        report["agrees"] = report["z"].abs() <= 2.0
        return report

    def _tail_errors(self, panel: Panel, n_train: int) -> np.ndarray:
        """Errors (scaled units) of the forecast of the steps after ``n_train``,
        the plan's funnel nodes forecast as in a real plan."""
        plan = panel.values[:, :-1, n_train:]
        given = self._given(plan.shape)
        with torch.no_grad(), small_ops():
            nodes = self._forecast_nodes(
                panel, plan, given, n_train, np.arange(panel.n_shops)
            ).numpy()
        errors = (panel.values[:, -1, n_train:] - nodes[:, -1]) / self._scale[:, -1:]
        return errors[panel.mask[:, n_train:]]

    def _fit_head(self, scaled, mask, shop_scale, gates=None) -> TargetHead:
        features, shocks = self._time_inputs(self._fitted_grid)
        head = TargetHead(self.node_roles_, with_responses=True, shop_scale=shop_scale)
        experiments = self._experiments if gates is not None else None
        return head.fit(scaled, mask, features, shocks, gates, experiments)

    def _choose_shop_scale(self, panel, scaled, train, n_valid) -> float:
        """The prior scale of shops' deviations that forecasts the tail best."""
        if not n_valid or panel.n_shops < 2:
            return 0.03
        errors = {}
        tail = panel.mask[:, -n_valid:]
        truth = scaled[:, -1, -n_valid:]
        for shop_scale in self._SHOP_SCALES:
            head = self._fit_head(scaled, train, shop_scale)
            base, responses = self._head_parts(head, scaled, panel.time_index)
            forecast = (base + responses)[:, -n_valid:]
            errors[shop_scale] = float((tail * (forecast - truth) ** 2).sum())
        return min(errors, key=errors.get)

    def _head_parts(self, head, scaled, grid, gates=None, shops=None):
        """A head's baseline and responses over a window from the first step."""
        features, shocks = self._time_inputs(grid)
        return head.predict(scaled, features, shocks, gates, shops)

    def _time_inputs(self, time_index) -> tuple[np.ndarray, np.ndarray]:
        """The baseline's time features and each step's shock (-1: none)."""
        features = self.baseline_.transform(time_index)
        positions = self._fitted_grid.get_indexer(time_index)
        if not self.baseline_.shocks_:
            positions = np.full(len(time_index), -1)
        return features, np.where(positions >= 0, positions, -1)

    # -- forecast -------------------------------------------------------------

    def _network_history(self, history: Panel, rows: np.ndarray) -> np.ndarray:
        """The history as the network reads it, scaled: the target minus the
        network head's baseline."""
        scaled = history.values / self._scale[rows][..., None]
        if self.baseline_ is not None:
            base, _ = self._head_parts(
                self.network_head_, scaled, history.time_index, shops=rows
            )
            scaled[:, -1] -= base
        scale = self._network_scale[rows]
        return (scaled * (self._scale[rows] / scale)[..., None]).astype(np.float32)

    def _rollout(
        self,
        history: Panel,
        plan_values: torch.Tensor,
        given: np.ndarray | None,
        start: int,
        rows: np.ndarray,
        graphs=None,
        gains=None,
    ) -> torch.Tensor:
        """The network's rollout over a plan, scaled as the network reads it.

        ``plan_values`` ``(n_shops, d - 1, n_plan)`` are raw driver values (a
        Tensor, differentiable). Returns ``(n_shops, d, n_plan)``: every
        node's forecast (the target's is its remainder over the network
        head's baseline), planned drivers as given.
        """
        network = self._network_history(history, rows)
        encoder = getattr(self, "encoder_edge_probabilities_", None)
        if graphs is not None and encoder is not None:
            # the network reads the encoder's graph, which the reported one
            # pools with the linear fit's evidence: where a given graph keeps
            # an edge as learned, the network keeps its own view of it, so
            # predict(edge_probabilities=edge_probabilities_) is predict()
            graphs = np.asarray(graphs, dtype=np.float64)
            kept = np.isclose(graphs, self.edge_probabilities_[rows], rtol=0, atol=1e-6)
            graphs = np.where(kept, encoder[rows], graphs).astype(np.float32)
        scale = torch.as_tensor(self._network_scale[rows], dtype=torch.float32)
        past = network[..., :start]
        if start == 0:
            # No history before the plan: start from the shop's average state,
            # which is 1 for every node under mean scaling.
            past = np.ones((len(rows), history.n_nodes, 1), np.float32)
        n_plan = plan_values.shape[-1]
        planned = plan_values.float() / scale[:, :-1, None]
        target = torch.zeros(len(rows), 1, n_plan)
        window = torch.cat([torch.as_tensor(past), torch.cat([planned, target], 1)], -1)
        if start >= self.n_history_:
            graph_source, graph_mask = past, history.mask[:, :start]
        else:
            graph_source, graph_mask = network, history.mask
        n_past = past.shape[-1]
        known = self._known_nodes()
        if given is not None and not given.all():
            steps = np.broadcast_to(
                known.numpy()[None, :, None],
                (len(rows), history.n_nodes, window.shape[-1]),
            ).copy()
            steps[:, :-1, n_past:] &= given
            known = torch.as_tensor(steps)
        # a shop's edge gains are its row among the shops it was fitted with
        shops = torch.as_tensor(rows)
        chunks = []
        for chunk in np.array_split(
            np.arange(len(rows)), max(1, -(-len(rows) // SHOP_CHUNK))
        ):
            pair = self._encoder_pair_features(graph_source[chunk], graph_mask[chunk])
            prediction, _ = self.model_(
                window[chunk],
                torch.as_tensor(history.context[chunk]),
                n_past,
                known if known.dim() == 1 else known[chunk],
                torch.as_tensor(graph_source[chunk]),
                None if graphs is None else torch.as_tensor(graphs[chunk]),
                shops[chunk],
                None if gains is None else torch.as_tensor(gains[chunk]),
                pair,
            )
            chunks.append(prediction[:, :, n_past - 1 :])
        rolled = torch.cat(chunks)
        # planned drivers stay as given
        if given is None:
            drivers = planned
        else:
            drivers = torch.where(
                torch.as_tensor(np.array(given)), planned, rolled[:, :-1]
            )
        return torch.cat([drivers, rolled[:, -1:]], 1)

    def _target_parts(
        self, history, plan_values, start, rows, given=None, graphs=None, gains=None
    ):
        """The baseline, linear and network estimates of the target over a plan
        (scaled units; None, None, network without a baseline), and every
        driver (raw units, forecast where the plan lacks it). Tensors."""
        plan_values = torch.as_tensor(plan_values)
        rolled = self._rollout(history, plan_values, given, start, rows, graphs, gains)
        network_scale = torch.as_tensor(self._network_scale[rows])
        scale = torch.as_tensor(self._scale[rows])
        drivers = rolled[:, :-1].double() * network_scale[:, :-1, None]
        remainder = rolled[:, -1].double() * network_scale[:, -1:] / scale[:, -1:]
        if self.baseline_ is None:
            return None, None, remainder, drivers
        drivers = self._with_funnel_heads(
            history, drivers, start, rows, given, graphs, gains
        )
        window, grid = self._head_window(history, drivers, start, rows)
        probabilities, shop_gains = self._edges_into(-1, rows, graphs, gains)
        gates = probabilities * shop_gains
        base, responses = self._head_parts(self.head_, window, grid, gates, rows)
        network_base, _ = self._head_parts(self.network_head_, window, grid, shops=rows)
        base, responses = base[:, start:], responses[:, start:]
        return base, base + responses, network_base[:, start:] + remainder, drivers

    def _head_window(self, history, drivers, start, rows):
        """The scaled window a head reads (history, then the plan's drivers)."""
        n_plan = drivers.shape[-1]
        scale = torch.as_tensor(self._scale[rows])
        past = torch.as_tensor(
            history.values[..., :start] / self._scale[rows][..., None]
        )
        empty_target = torch.zeros(len(rows), 1, n_plan, dtype=torch.float64)
        future = torch.cat([drivers / scale[:, :-1, None], empty_target], 1)
        grid = extend_grid(history.time_index, start + n_plan)
        return torch.cat([past, future], -1), grid

    def _edges_into(self, node: int, rows, graphs=None, gains=None):
        """Each shop's edge probabilities and gains into ``node`` ``(n, d)``
        (the learned ones, or ``graphs`` and ``gains`` of those shops)."""
        probabilities = self.edge_probabilities_[rows] if graphs is None else graphs
        shop_gains = self.edge_gains_[rows] if gains is None else gains
        return probabilities[:, :, node], shop_gains[:, :, node]

    def _forecast_nodes(
        self, history, plan_values, given, start, rows, graphs=None, gains=None
    ):
        """Every node over the plan, raw units ``(n_shops, d, n_steps)`` (Tensor)."""
        base, linear, network, drivers = self._target_parts(
            history, plan_values, start, rows, given, graphs, gains
        )
        target = (
            network
            if self.baseline_ is None
            else self.blend_.combine(base, linear, network)
        )
        target = target * torch.as_tensor(self._scale[rows, -1:])
        return torch.cat([drivers, target[:, None]], 1)

    def predict(self, X, context=None, *, edge_probabilities=None, edge_gains=None):
        """Forecast the target over the steps of the plan ``X``.

        Parameters
        ----------
        X : array-like or DataFrame
            Plan of fitted shops (see :mod:`sklearn_causalmmm.base` for how
            its first step is placed after the fitted history). A DataFrame
            may leave driver columns out (funnel nodes always may), or hold
            NaN in them: the model forecasts those values.
        context : array-like, default=None
            Ignored for fitted shops (their context is known).
        edge_probabilities : array-like of shape (n_shops, n_nodes, n_nodes), \
default=None
            Graphs of the fitted shops, laid out as :attr:`edge_probabilities_`,
            that the model uses instead of the learned ones: cut an edge (0),
            force one (1), or give a shop another shop's graph, to see how
            much the forecast relies on the graph (see
            :func:`~sklearn_causalmmm.analysis.graph_check.graph_reliance`).
            The diagonal is ignored.
        edge_gains : array-like of shape (n_shops, n_nodes, n_nodes), \
default=None
            Edge gains of the fitted shops, laid out as :attr:`edge_gains_`,
            used instead of the learned ones (e.g. another shop's, with its
            graph). Positive; the diagonal is ignored.

        Returns
        -------
        ndarray or Series
            The target in the layout of ``X``.
        """
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
        with torch.no_grad(), small_ops():
            nodes = self._forecast_nodes(
                history,
                plan.values,
                plan.observed,
                start,
                rows,
                None if graphs is None else graphs[rows],
                None if gains is None else gains[rows],
            ).numpy()
        return plan.target_to_layout(nodes[:, -1])

    def _forecast(self, history: Panel, plan: Panel, start: int) -> np.ndarray:
        rows = np.array([self._shop_rows[shop] for shop in history.shop_ids])
        with torch.no_grad(), small_ops():
            nodes = self._forecast_nodes(
                history, plan.values, plan.observed, start, rows
            )
        return nodes[:, -1].numpy()

    def predict_components(self, X, context=None) -> dict:
        """The forecast of the plan ``X`` split into base and incremental parts.

        Parameters
        ----------
        X : array-like or DataFrame
            A plan, as for :meth:`predict`.
        context : array-like, default=None
            Ignored for fitted shops.

        Returns
        -------
        dict of str to ndarray or Series, each in :meth:`predict`'s layout
            ``"baseline"``: level, trend, seasonality, shocks and controls;
            ``"media"``: the media and funnel responses through the graph
            (what the plan's spend adds); ``"dynamics"``: the network's
            forecast beyond its own baseline (the target's recent course and
            the effects the network carries), weighed as in the forecast.
            They add up to :meth:`predict`. Without a baseline
            (``baseline=None``) everything is ``"dynamics"``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_causalmmm import CausalMMMRegressor
        >>> from sklearn_causalmmm.datasets import make_weekly_mmm
        >>> data = make_weekly_mmm(n_shops=6, n_channels=3, n_steps=60, random_state=0)
        >>> model = CausalMMMRegressor(
        ...     hidden=8, max_epochs=2, control_columns=list(data.control_columns),
        ...     funnel_columns=list(data.funnel_columns), random_state=0,
        ... ).fit(data.X[..., :52], data.y[:, :52])
        >>> parts = model.predict_components(data.X[..., 52:])
        >>> sorted(parts)
        ['baseline', 'dynamics', 'media']
        >>> bool(np.allclose(sum(parts.values()), model.predict(data.X[..., 52:])))
        True
        """
        plan, history, start, rows = self._locate_plan(X, context)
        with torch.no_grad(), small_ops():
            base, linear, network, drivers = self._target_parts(
                history, plan.values, start, rows, plan.observed
            )
            if self.baseline_ is None:
                zero = np.zeros(network.shape)
                parts = {"baseline": zero, "media": zero, "dynamics": network.numpy()}
            else:
                window, grid = self._head_window(history, drivers, start, rows)
                network_base = self._head_parts(
                    self.network_head_, window, grid, shops=rows
                )[0][:, start:]
                blend = self.blend_
                parts = {
                    "baseline": (
                        (blend.baseline + blend.linear) * base
                        + blend.network * network_base
                    ).numpy(),
                    "media": (blend.linear * (linear - base)).numpy(),
                    "dynamics": (blend.network * (network - network_base)).numpy(),
                }
        scale = self._scale[rows, -1:]
        return {
            name: plan.target_to_layout(part * scale) for name, part in parts.items()
        }

    def predict_interval(self, X, context=None, *, coverage: float = 0.8):
        """A band around each forecast that holds the target with ``coverage``.

        The band is calibrated on the time tail the model did not fit (split
        conformal): the central ``coverage`` of the errors the model made
        forecasting those steps, each in units of its shop's mean, around
        the forecast. It always contains the point forecast. Without a
        validation tail (``validation_fraction=0``) the spread of the target
        head's in-sample residuals stands in, under a normal law.

        Parameters
        ----------
        X : array-like or DataFrame
            Plan of fitted shops, as for :meth:`predict`.
        context : array-like, default=None
            Ignored for fitted shops.
        coverage : float, default=0.8
            In (0, 1).

        Returns
        -------
        lower, upper : ndarray or Series
            In :meth:`predict`'s layout.

        Examples
        --------
        >>> from sklearn_causalmmm import CausalMMMRegressor
        >>> from sklearn_causalmmm.datasets import make_causal_mmm
        >>> data = make_causal_mmm(n_shops=8, n_steps=67, random_state=0)
        >>> model = CausalMMMRegressor(hidden=8, max_epochs=2, random_state=0)
        >>> model = model.fit(data.X[..., :60], data.y[:, :60])
        >>> lower, upper = model.predict_interval(data.X[..., 60:], coverage=0.8)
        >>> bool((lower <= model.predict(data.X[..., 60:])).all())
        True
        """
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage must lie in (0, 1), got {coverage!r}.")
        plan, history, start, rows = self._locate_plan(X, context)
        with torch.no_grad(), small_ops():
            nodes = self._forecast_nodes(
                history, plan.values, plan.observed, start, rows
            ).numpy()
        point = nodes[:, -1]
        low, high = self._error_quantiles(coverage)
        scale = self._scale[rows, -1:]
        lower = point + min(low, 0.0) * scale
        upper = point + max(high, 0.0) * scale
        return plan.target_to_layout(lower), plan.target_to_layout(upper)

    def _error_quantiles(self, coverage: float) -> tuple[float, float]:
        """Quantiles of the calibration errors (scaled units) bounding ``coverage``."""
        tail = (1.0 - coverage) / 2.0
        errors = getattr(self, "calibration_errors_", None)
        if errors is not None and errors.size >= 2:
            n = errors.size
            # the finite-sample correction of split conformal prediction
            level = min(1.0, np.ceil((n + 1) * (1.0 - tail)) / n)
            return (
                float(np.quantile(errors, 1.0 - level)),
                float(np.quantile(errors, level)),
            )
        from scipy.stats import norm

        spread = (
            np.sqrt(getattr(self.head_, "_residual_variance", 0.0))
            if (self.baseline_ is not None)
            else 0.0
        )
        z = float(norm.ppf(1.0 - tail))
        return -z * spread, z * spread

    def predict_samples(
        self, X, context=None, *, n_samples: int = 100, random_state=None
    ):
        """Joint draws of the forecast: graphs, response coefficients and errors.

        Each draw takes every shop's edges into the target and into each
        forecast funnel node from its graph, the target's and the funnel
        nodes' response coefficients from their posteriors (a funnel node's
        draw moves the target's response to it), and errors from
        those made on the time tail the model did not fit. Draws with the
        same ``random_state`` share that randomness across plans, so draw
        ``i`` of two plans is one possible world: the draws of a plan's gain
        over another are their differences.

        Parameters
        ----------
        X : array-like or DataFrame
            Plan of fitted shops, as for :meth:`predict`.
        context : array-like, default=None
            Ignored for fitted shops.
        n_samples : int, default=100
        random_state : int, RandomState or None, default=None

        Returns
        -------
        ndarray of shape (n_samples, *predict(X).shape)
        """
        from sklearn.utils import check_random_state

        rng = check_random_state(random_state)
        plan, history, start, rows = self._locate_plan(X, context)
        with torch.no_grad(), small_ops():
            base, linear, network, drivers = self._target_parts(
                history, plan.values, start, rows, plan.observed
            )
            if self.baseline_ is None:
                draws = np.repeat(network.numpy()[None], n_samples, axis=0)
            else:
                window, _ = self._head_window(history, drivers, start, rows)
                window = window.numpy()
                shifts = self._funnel_draws(
                    window, start, rows, plan.observed, n_samples, rng
                )
                probabilities, gains = self._edges_into(-1, rows)
                responses = self.head_.sample_responses(
                    window, probabilities, gains, n_samples, rng, shifts, rows
                )[..., start:]
                base, network = base.numpy(), network.numpy()
                # centred on the point forecast's responses: the draws spread
                # the forecast, they do not move it (the gain of a plan is
                # then centred on the forecast gain)
                responses += (linear.numpy() - base)[None] - responses.mean(0)
                draws = self.blend_.combine(
                    base[None], base[None] + responses, network[None]
                )
        errors = self.calibration_errors_
        if errors is not None and errors.size:
            draws = draws + rng.choice(errors, size=draws.shape)
        draws = draws * self._scale[rows, -1:][None]
        return np.stack([np.asarray(plan.target_to_layout(draw)) for draw in draws])

    def _funnel_draws(self, window, start, rows, given, n_samples, rng) -> dict:
        """Draws of each forecast funnel node's change from its point forecast
        ``{node: (n_samples, n_shops, n_steps)}`` (scaled, 0 before ``start``
        and where the plan gives the node).

        A funnel head's response coefficients and its edges from media are
        drawn as the target head's are, weighed by the head's share of the
        node's forecast, and centred on the point forecast: a channel's
        effect through the funnel is as uncertain as the funnel head's fit.
        """
        heads = getattr(self, "funnel_heads_", None)
        if not heads or given is None:
            return {}
        given = np.broadcast_to(np.asarray(given), window[:, :-1, start:].shape)
        shifts = {}
        for f, head in heads.items():
            weight = self.funnel_blend_[f]
            if not weight or given[:, f].all():
                continue
            probabilities, gains = self._edges_into(f, rows)
            draws = head.sample_responses(
                window, probabilities, gains, n_samples, rng, shops=rows
            )
            change = np.zeros_like(draws)
            plan = draws[..., start:]
            change[..., start:] = np.where(
                given[None, :, f], 0.0, weight * (plan - plan.mean(0))
            )
            shifts[f] = change
        return shifts

    def rollout(self, X, context=None):
        """Every node over the steps of the plan ``X``: drivers and the target.

        Drivers the plan gives are returned as given; those it lacks (left
        out of a DataFrame plan, or NaN) are the model's forecast, as
        :meth:`predict` uses them.

        Parameters
        ----------
        X : array-like or DataFrame
            A plan, as for :meth:`predict`.
        context : array-like, default=None
            Ignored for fitted shops.

        Returns
        -------
        ndarray or DataFrame
            ``(n_shops, n_nodes, n_steps)`` for arrays; for DataFrames, the
            plan's rows with every driver column filled and the target as the
            last column.
        """
        plan, history, start, rows = self._locate_plan(X, context)
        with torch.no_grad(), small_ops():
            nodes = self._forecast_nodes(
                history, plan.values, plan.observed, start, rows
            ).numpy()
        drivers = plan.nodes_to_layout(nodes[:, :-1])
        if not hasattr(drivers, "columns"):
            return nodes if plan.layout == "numpy3d" else nodes[0].T
        target = plan.target_to_layout(nodes[:, -1])
        return drivers.assign(**{self.node_names_[-1]: target.to_numpy()})

    def extend(self, X, y):
        """Append new observations of fitted shops to the history forecasts continue.

        The model is not refitted: the steps of ``X`` and ``y`` become the
        history that :meth:`predict` starts from (the encoder re-reads the
        graph from the latest window when a plan starts after it).

        Parameters
        ----------
        X : DataFrame
            Drivers of fitted shops for steps after (or overlapping) the
            current history, in the layout used in :meth:`fit`.
        y : Series or array-like
            The target on X's rows.

        Returns
        -------
        self
        """
        check_is_fitted(self, "panel_")
        new = self._convert(X, y, None, min_steps=1, check_constant=False)
        self.panel_ = _concatenate_history(self.panel_, new)
        return self

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
        """Edge probabilities ``(n_shops, d, d)`` of shops with drivers X, target y:
        the fitted encoder's reading, pooled with :attr:`edge_evidence_` as
        ``edge_probabilities_`` is.

        A ``(n_shops, n_nodes, n_steps)`` array is converted and scored chunk
        by chunk of shops, so the memory of a call on many new shops does not
        grow with their number beyond the input and the result.
        """
        check_is_fitted(self, "model_")
        chunks = _array_shop_chunks(X, y, context, _CONVERT_CHUNK)
        if chunks is not None:
            try:
                return np.concatenate(
                    [
                        self._with_evidence(
                            self._infer_graph(self._convert(*chunk, min_steps=2))
                        )
                        for chunk in chunks
                    ]
                )
            except ValueError:
                # a chunk's message counts shops from the chunk's first, and a
                # node may be constant in a chunk's shops only: the whole
                # panel names the culprit, or is fine
                pass
        graphs = self._infer_graph(self._convert(X, y, context, min_steps=2))
        return self._with_evidence(graphs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.regressor_tags.poor_score = True
        return tags

    def plan_gradient(self, X, context=None):
        """Forecast the plan ``X`` and how its total responds to each planned value.

        The forecast is :meth:`predict`'s; the gradient is that of the
        forecast target summed over every shop and step of ``X`` with respect
        to each value of ``X``, through the network's rollout and the target
        head's carryover and saturation (torch autograd). A shop's forecast
        depends on its own plan only, so the gradient of a shop's rows is also
        that of the shop's own total. Budget optimisers use it instead of one
        forecast per perturbed value.

        Parameters
        ----------
        X : array-like or DataFrame
            Plan of fitted shops, as for :meth:`predict`.
        context : array-like, default=None
            Ignored for fitted shops (their context is known).

        Returns
        -------
        forecast : ndarray or Series
            The target in the layout of ``X``, as :meth:`predict` returns it.
        gradient : ndarray or DataFrame
            d(total forecast) / d(value), in the layout of ``X`` (a DataFrame
            keeps X's index, shop, time and context columns).

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
        plan, history, start, rows = self._locate_plan(X, context)
        values = torch.tensor(plan.values, dtype=torch.float64, requires_grad=True)
        with torch.enable_grad(), small_ops():
            nodes = self._forecast_nodes(history, values, plan.observed, start, rows)
            nodes[:, -1].sum().backward()
        forecast = nodes[:, -1].detach().numpy()
        gradient = values.grad.numpy()
        return plan.target_to_layout(forecast), plan.nodes_to_layout(gradient)


def _release(version: str) -> tuple[str, ...]:
    """``"0.1.3"`` -> ``("0", "1")``: patch releases load each other's models."""
    return tuple(str(version).split(".")[:2])


def _warn_constant_target(panel: Panel) -> None:
    """Warn about shops whose target never changes: nothing in them to learn."""
    target = np.where(panel.mask, panel.values[:, -1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shops without steps
        constant = np.nanmax(target, axis=1) == np.nanmin(target, axis=1)
    if constant.any():
        shops = [panel.shop_ids[s] for s in np.flatnonzero(constant)]
        warnings.warn(
            f"the target {panel.target_name!r} is constant in {len(shops)} shop(s) "
            f"{shops[:5]}{' ...' if len(shops) > 5 else ''}: the model learns "
            "nothing about media from them, and forecasts them near that level; "
            "check the export (a target filled with one value?) or leave them out",
            UserWarning,
            stacklevel=4,
        )


def _array_shop_chunks(X, y, context, size: int):
    """``(X, y, context)`` of consecutive chunks of ``size`` shops of a
    ``(n_shops, n_nodes, n_steps)`` array panel, or None for any other input
    (frames name their shops; one chunk is the whole panel)."""
    if not (isinstance(X, np.ndarray) and X.ndim == 3 and len(X) > size):
        return None
    for part, ndim in ((y, 2), (context, 2)):
        if part is not None and not (
            isinstance(part, np.ndarray) and part.ndim == ndim and len(part) == len(X)
        ):
            return None
    return (
        tuple(
            None if part is None else part[start : start + size]
            for part in (X, y, context)
        )
        for start in range(0, len(X), size)
    )


def _concatenate_history(old: Panel, new: Panel) -> Panel:
    """``old`` continued by ``new`` (same shops, ``new`` wins where both hold)."""
    from sklearn_causalmmm.panel import concatenate_steps

    return concatenate_steps(old, new)

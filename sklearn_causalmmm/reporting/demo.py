"""The demo: CausalMMM on the bundled panel, scored against the simulator's truth.

:func:`run_demo` back-tests CausalMMM on :func:`~sklearn_causalmmm.datasets.load_demo`
(see :func:`~sklearn_causalmmm.reporting.holdout.fit_holdout`) and compares the
learned causal graphs with the true ones. A :class:`DemoResult` is a
back-test that knows the true graphs: the back-test's
:func:`~sklearn_causalmmm.reporting.holdout.format_summary` and
:func:`~sklearn_causalmmm.reporting.holdout.write_holdout_report` print it and
write its HTML report with the truth beside the learned graphs. The command
line's ``demo`` runs these three.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklearn_causalmmm.reporting.holdout import (
    HoldoutResult,
    _format_edges,
    fit_holdout,
    top_edges,
)

__all__ = ["DemoResult", "run_demo"]

#: Defaults of the demo, chosen so that it runs in about a minute on two CPU
#: cores (one torch thread). The decoder steps through every day of the
#: training window, so the window length times the number of epochs sets the
#: cost; 90 days and 30 epochs recover the graphs (edge AUROC ~0.84) and beat
#: the last-value forecast (MSE ratio ~0.34).
DEMO_MAX_EPOCHS = 30
DEMO_HIDDEN = 16
DEMO_TRAIN_DAYS = 90
DEMO_HORIZON = 7
#: Learned edges listed per shop type in the summary.
TOP_EDGES = 5


@dataclass
class DemoResult(HoldoutResult):
    """A back-test on the demo panel with the true graphs it was simulated from.

    Attributes
    ----------
    type_labels : list of str
        One label per shop type, e.g. ``"type 0"``.
    shops_by_type : dict of label to list of shop ids
    probabilities_by_type : dict of label to ndarray of shape (d, d)
        Learned edge probabilities averaged over the type's shops (node
        order of ``node_names``).
    truth_by_type : dict of label to ndarray of shape (d, d)
        Share of the type's shops having each true edge.
    edge_auroc, heterogeneity_auroc : float
        Of the learned per-shop graphs against the true ones.
    response_channels : list of str
        The advertising channels (the other nodes are funnel nodes).
    contribution_rank_correlation : float
        Spearman correlation, per shop and then averaged, between the
        channels' contributions the model finds over the held-out days
        (``decisions``: Shapley values, a channel switched off on those
        days only, funnel nodes as observed) and the simulator's true
        contributions over the same days (the channel switched off for the
        whole series, its effects through the funnel included). The two are
        different quantities, so this measures whether the model ranks the
        channels as the truth does, not whether it gets their size.

    The other attributes are those of
    :class:`~sklearn_causalmmm.reporting.holdout.HoldoutResult`.
    """

    type_labels: list = None
    shops_by_type: dict = None
    probabilities_by_type: dict = None
    truth_by_type: dict = None
    edge_auroc: float = np.nan
    heterogeneity_auroc: float = np.nan
    response_channels: list = None
    contribution_rank_correlation: float = np.nan

    def summary_rows(self) -> list[tuple[str, str]]:
        """The graph scores against the truth, then the back-test's scores."""
        return [
            ("edge AUROC (per shop, mean)", f"{self.edge_auroc:.3f}"),
            ("heterogeneity AUROC", f"{self.heterogeneity_auroc:.3f}"),
            (
                "contribution rank correlation with the truth (per shop, mean)",
                f"{self.contribution_rank_correlation:.2f}",
            ),
            *super().summary_rows(),
        ]

    # The summary and the report show each shop type's learned graph next to
    # its true one.
    _report_title = "CausalMMM demo report"

    def _headline(self, data_name: str) -> list[str]:
        n_shops = sum(len(shops) for shops in self.shops_by_type.values())
        lines = [
            f"CausalMMM demo: {n_shops} shops, nodes {', '.join(self.node_names)}",
            "",
            f"Causal graphs by shop type (strongest {TOP_EDGES} learned edges by "
            "mean P over the type's shops, * marks true edges):",
        ]
        for row in _graph_rows(self):
            lines += [
                f"  {row['shop type']} ({row['shops']} shops)",
                f"    learned: {row[_LEARNED]}",
                f"    true:    {row['true edges']}",
            ]
        return lines

    def _intro(self, data_name: str) -> str:
        return (
            f"CausalMMM fitted on the bundled demo panel ({len(self.history)} "
            f"days of {self.history.shape[1]} shops) with the last "
            f"{self.horizon} days held out; learned causal graphs compared "
            "with the simulator's truth, GMV forecasts with the last-value "
            "forecast, and the forecast's response to each channel's spend."
        )

    def _first_shops(self) -> list:
        # one shop of each type, so that every graph type is seen
        return [self.shops_by_type[label][0] for label in self.type_labels]

    def _response_channels(self) -> list[str]:
        return list(self.response_channels)

    def _graph_panels(self, shops: Sequence) -> tuple[str, dict, dict | None]:
        caption = (
            "Learned (left) and true (right) causal graph of each shop type; "
            "cell (i, j) is the edge i -> j."
        )
        return caption, self.probabilities_by_type, self.truth_by_type

    def _graph_tables(self) -> dict[str, pd.DataFrame]:
        return {"Causal graphs by shop type": pd.DataFrame(_graph_rows(self))}


def run_demo(
    *,
    horizon: int = DEMO_HORIZON,
    max_epochs: int = DEMO_MAX_EPOCHS,
    hidden: int = DEMO_HIDDEN,
    train_days: int | None = DEMO_TRAIN_DAYS,
    random_state: int | None = 0,
    verbose: int = 0,
) -> DemoResult:
    """Fit CausalMMM on the demo panel and score it against the truth.

    Parameters
    ----------
    horizon : int, default=7
        Days held out at the end of every shop, forecast from the channel
        plan and scored against the observed GMV.
    max_epochs, hidden : int, default=30, 16
        Passed to :class:`~sklearn_causalmmm.CausalMMMRegressor`.
    train_days : int or None, default=90
        Fit on the last ``train_days`` days before the held-out ones; None
        fits on the whole year.
    random_state : int or None, default=0
    verbose : int, default=0
        Show the training progress.

    Returns
    -------
    result : DemoResult
    """
    # Imported here so that importing the module (and the command line's
    # --help) does not load torch.
    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.datasets import load_demo
    from sklearn_causalmmm.metrics import edge_auroc, heterogeneity_auroc
    from sklearn_causalmmm.reporting.decisions import decide

    demo = load_demo()
    funnel = [
        name
        for name in demo.node_names
        if name not in demo.channel_columns and name != demo.target
    ]
    result = fit_holdout(
        demo.frame,
        target=demo.target,
        shop_column=demo.shop_column,
        time_column=demo.time_column,
        channel_columns=[*demo.channel_columns, *funnel],
        context_columns=demo.context_columns,
        horizon=horizon,
        train_days=train_days,
        estimator=CausalMMMRegressor(
            # the funnel nodes respond to the plan: forecast, never planned
            funnel_columns=funnel,
            max_epochs=max_epochs,
            hidden=hidden,
            random_state=random_state,
            verbose=verbose,
        ),
    )
    result.decisions = decide(result, demo.channel_columns)
    model = result.model

    # Put the truth in the model's node and shop order, whatever the demo's.
    nodes = [demo.node_names.index(name) for name in result.node_names]
    demo_shops = list(pd.unique(demo.frame[demo.shop_column]))
    rows = [demo_shops.index(s) for s in model.panel_.shop_ids]
    adjacency = demo.adjacency[rows][:, nodes][:, :, nodes]
    graph_type = demo.graph_type[rows]
    probabilities = model.edge_probabilities_

    shop_ids = list(model.panel_.shop_ids)
    labels, shops_by_type, learned_by_type, truth_by_type = [], {}, {}, {}
    for kind in np.unique(graph_type):
        label = f"type {kind}"
        members = graph_type == kind
        labels.append(label)
        shops_by_type[label] = [s for s, m in zip(shop_ids, members, strict=True) if m]
        learned_by_type[label] = probabilities[members].mean(axis=0)
        truth_by_type[label] = adjacency[members].mean(axis=0)

    return DemoResult(
        **vars(result),
        type_labels=labels,
        shops_by_type=shops_by_type,
        probabilities_by_type=learned_by_type,
        truth_by_type=truth_by_type,
        edge_auroc=edge_auroc(adjacency, probabilities),
        heterogeneity_auroc=heterogeneity_auroc(adjacency, probabilities),
        response_channels=list(demo.channel_columns),
        contribution_rank_correlation=_rank_agreement(
            result.decisions.contributions,
            pd.DataFrame(
                demo.contributions[..., -horizon:].sum(axis=-1),
                index=demo_shops,
                columns=demo.channel_columns,
            ),
        ),
    )


def _rank_agreement(contributions: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Mean over shops of the Spearman correlation of learned and true contributions.

    ``truth`` has one row per shop (index: shop ids) and one column per
    channel; shops whose contributions are all tied are skipped.
    """
    from scipy.stats import spearmanr

    learned = contributions["contribution"].unstack(level=1)[list(truth.columns)]
    truth = truth.loc[learned.index]
    correlations = [
        spearmanr(truth_row, learned_row).statistic
        for truth_row, learned_row in zip(
            truth.to_numpy(), learned.to_numpy(), strict=True
        )
        if np.ptp(truth_row) > 0 and np.ptp(learned_row) > 0
    ]
    return float(np.mean(correlations)) if correlations else np.nan


_LEARNED = f"strongest {TOP_EDGES} learned edges (mean P; * = true edge)"


def _graph_rows(result: DemoResult) -> list[dict]:
    rows = []
    for label in result.type_labels:
        true = top_edges(result.truth_by_type[label], result.node_names, threshold=0.5)
        truth = {(i, j) for i, j, _ in true}
        learned = top_edges(
            result.probabilities_by_type[label], result.node_names, k=TOP_EDGES
        )
        rows.append(
            {
                "shop type": label,
                "shops": len(result.shops_by_type[label]),
                _LEARNED: ", ".join(
                    f"{i} -> {j} ({p:.2f}){' *' if (i, j) in truth else ''}"
                    for i, j, p in learned
                ),
                "true edges": _format_edges(true, probabilities=False),
            }
        )
    return rows

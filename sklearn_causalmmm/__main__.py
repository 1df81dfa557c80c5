"""Command line interface: ``python -m sklearn_causalmmm`` or ``causalmmm``.

Subcommands
-----------
demo
    Fit :class:`~sklearn_causalmmm.CausalMMMRegressor` on the bundled demo
    panel (:func:`~sklearn_causalmmm.datasets.load_demo`) with the last
    ``--horizon`` days held out, print how well it recovers the true causal
    graphs and how its forecast compares with the last-value forecast, and
    write an HTML report with figures.

Each subcommand is one ``_command_<name>(args) -> int`` function registered in
:func:`build_parser`; the work itself lives in plain functions
(:func:`run_demo`, :func:`format_summary`, :func:`write_demo_report`) that can
be called from Python as well.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DemoResult",
    "build_parser",
    "edges_above",
    "format_summary",
    "main",
    "run_demo",
    "write_demo_report",
]

PROG = "causalmmm"

#: Defaults of ``demo``, chosen so that it finishes in about a minute on two
#: CPU cores. The decoder steps through every day of the training window, so
#: the window length, not the number of shops, sets the cost of an epoch.
DEMO_MAX_EPOCHS = 20
DEMO_HIDDEN = 16
DEMO_TRAIN_DAYS = 90
DEMO_HORIZON = 7
#: Shops shown in the forecast figure.
N_FORECAST_SHOPS = 4
#: An edge is listed in the summary when its probability exceeds this.
EDGE_THRESHOLD = 0.5


# -- the demo as functions ------------------------------------------------------


@dataclass
class DemoResult:
    """Everything the demo computes, for printing, reporting and testing.

    Attributes
    ----------
    model : CausalMMMRegressor
        The fitted model.
    naive : SeasonalNaiveRegressor
        The fitted last-value baseline.
    node_names : list of str
        Graph nodes (the model's order): channels, funnel nodes, target.
    type_labels : list of str
        One label per shop type, e.g. ``"type 0"``.
    shops_by_type : dict of label to list of shop ids
    probabilities_by_type : dict of label to ndarray of shape (d, d)
        Learned edge probabilities averaged over the type's shops.
    truth_by_type : dict of label to ndarray of shape (d, d)
        Share of the type's shops having each true edge.
    edge_auroc, heterogeneity_auroc : float
        Of the learned per-shop graphs against the true ones.
    horizon : int
        Held-out days; the MSE is scored at this horizon.
    mse_model, mse_naive : float
        MSE of GMV at ``horizon`` of the model and of the last-value forecast.
    truth, forecast, naive_forecast : DataFrame
        GMV over the held-out days (index: date, columns: shops).
    history : DataFrame
        GMV of the fitted days (index: date, columns: shops).
    fit_seconds : float
        Wall time of the model's fit.
    """

    model: object
    naive: object
    node_names: list
    type_labels: list
    shops_by_type: dict
    probabilities_by_type: dict
    truth_by_type: dict
    edge_auroc: float
    heterogeneity_auroc: float
    horizon: int
    mse_model: float
    mse_naive: float
    truth: pd.DataFrame
    forecast: pd.DataFrame
    naive_forecast: pd.DataFrame
    history: pd.DataFrame
    fit_seconds: float

    @property
    def mse_ratio(self) -> float:
        """MSE of the model divided by that of the last-value forecast."""
        return self.mse_model / self.mse_naive


def edges_above(
    probabilities: np.ndarray,
    node_names: Sequence[str],
    threshold: float = EDGE_THRESHOLD,
) -> list[tuple[str, str, float]]:
    """List the edges ``i -> j`` whose probability exceeds ``threshold``.

    Parameters
    ----------
    probabilities : ndarray of shape (d, d)
        ``[i, j]`` scores the edge ``i -> j``; the diagonal is ignored.
    node_names : sequence of str of length d
    threshold : float, default=0.5

    Returns
    -------
    edges : list of (cause, effect, probability)
        Strongest first.

    Examples
    --------
    >>> import numpy as np
    >>> edges_above(np.array([[0.0, 0.9], [0.2, 0.0]]), ["tv", "gmv"])
    [('tv', 'gmv', 0.9)]
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    edges = [
        (node_names[i], node_names[j], float(probabilities[i, j]))
        for i, j in zip(*np.nonzero(probabilities > threshold), strict=True)
        if i != j
    ]
    return sorted(edges, key=lambda edge: -edge[2])


def _wide(values: pd.Series, frame: pd.DataFrame, shop: str, time: str):
    """Pivot a long Series aligned with ``frame`` to (time x shop)."""
    table = pd.DataFrame(
        {"shop": frame[shop].to_numpy(), "time": frame[time].to_numpy()}
    )
    table["value"] = np.asarray(values, dtype=np.float64)
    wide = table.pivot(index="time", columns="shop", values="value")
    wide.index.name, wide.columns.name = time, shop
    return wide


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
    max_epochs, hidden : int
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
    # Imported here so that ``--help`` and argument errors answer at once,
    # without loading torch.
    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.baselines.naive import SeasonalNaiveRegressor
    from sklearn_causalmmm.datasets import load_demo
    from sklearn_causalmmm.metrics import (
        edge_auroc,
        heterogeneity_auroc,
        mse_at_horizon,
    )

    demo = load_demo()
    frame, shop, time_column = demo.frame, demo.shop_column, demo.time_column
    dates = np.sort(frame[time_column].unique())
    if not 1 <= horizon < len(dates) - 1:
        raise ValueError(
            f"horizon must lie in [1, {len(dates) - 2}] for the {len(dates)} days "
            f"of the demo, got {horizon}."
        )
    first_test = dates[-horizon]
    in_train = frame[time_column] < first_test
    if train_days is not None:
        if train_days < 2:
            raise ValueError(f"train_days must be at least 2, got {train_days}.")
        first_train = dates[max(0, len(dates) - horizon - train_days)]
        in_train &= frame[time_column] >= first_train
    train, test = frame[in_train], frame[~(frame[time_column] < first_test)]

    funnel = [
        name
        for name in demo.node_names
        if name not in demo.channel_columns and name != demo.target
    ]
    columns = [shop, time_column, *demo.context_columns, *demo.channel_columns, *funnel]
    model = CausalMMMRegressor(
        horizon=horizon,
        max_epochs=max_epochs,
        hidden=hidden,
        context_columns=list(demo.context_columns),
        shop_column=shop,
        time_column=time_column,
        target_name=demo.target,
        random_state=random_state,
        verbose=verbose,
    )
    started = time.perf_counter()
    model.fit(train[columns], train[demo.target])
    fit_seconds = time.perf_counter() - started
    naive = SeasonalNaiveRegressor(
        strategy="last",
        context_columns=list(demo.context_columns),
        shop_column=shop,
        time_column=time_column,
    ).fit(train[columns], train[demo.target])

    truth = _wide(test[demo.target], test, shop, time_column)
    forecast = _wide(model.predict(test[columns]), test, shop, time_column)
    naive_forecast = _wide(naive.predict(test[columns]), test, shop, time_column)
    history = _wide(train[demo.target], train, shop, time_column)

    # Put the truth in the model's node and shop order, whatever the demo's.
    node_names = list(model.node_names_)
    nodes = [demo.node_names.index(name) for name in node_names]
    demo_shops = list(pd.unique(frame[shop]))
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

    def score(prediction: pd.DataFrame) -> float:
        # shops as rows, days as horizons 1..horizon
        return mse_at_horizon(
            truth.to_numpy().T, prediction.to_numpy().T, horizon=horizon
        )

    return DemoResult(
        model=model,
        naive=naive,
        node_names=node_names,
        type_labels=labels,
        shops_by_type=shops_by_type,
        probabilities_by_type=learned_by_type,
        truth_by_type=truth_by_type,
        edge_auroc=edge_auroc(adjacency, probabilities),
        heterogeneity_auroc=heterogeneity_auroc(adjacency, probabilities),
        horizon=horizon,
        mse_model=score(forecast),
        mse_naive=score(naive_forecast),
        truth=truth,
        forecast=forecast,
        naive_forecast=naive_forecast,
        history=history,
        fit_seconds=fit_seconds,
    )


def _edge_list(edges: list[tuple[str, str, float]], probabilities: bool) -> str:
    if not edges:
        return "(none)"
    if probabilities:
        return ", ".join(f"{i} -> {j} ({p:.2f})" for i, j, p in edges)
    return ", ".join(f"{i} -> {j}" for i, j, _ in edges)


def _graph_rows(result: DemoResult) -> list[dict]:
    rows = []
    for label in result.type_labels:
        learned = edges_above(result.probabilities_by_type[label], result.node_names)
        true = edges_above(result.truth_by_type[label], result.node_names)
        rows.append(
            {
                "shop type": label,
                "shops": len(result.shops_by_type[label]),
                f"learned edges (P > {EDGE_THRESHOLD})": _edge_list(learned, True),
                "true edges": _edge_list(true, False),
            }
        )
    return rows


def _metric_rows(result: DemoResult) -> list[tuple[str, str]]:
    h = result.horizon
    return [
        ("edge AUROC (per shop, mean)", f"{result.edge_auroc:.3f}"),
        ("heterogeneity AUROC", f"{result.heterogeneity_auroc:.3f}"),
        (f"GMV MSE at horizon {h}, CausalMMM", f"{result.mse_model:.4g}"),
        (f"GMV MSE at horizon {h}, last value", f"{result.mse_naive:.4g}"),
        ("MSE ratio CausalMMM / last value", f"{result.mse_ratio:.3f}"),
        ("epochs trained", str(len(result.model.history_))),
        ("fit time (s)", f"{result.fit_seconds:.1f}"),
    ]


def format_summary(result: DemoResult) -> str:
    """The demo's results as plain text, one fact per line.

    Parameters
    ----------
    result : DemoResult

    Returns
    -------
    text : str
    """
    n_shops = sum(len(shops) for shops in result.shops_by_type.values())
    lines = [
        f"CausalMMM demo: {n_shops} shops, nodes {', '.join(result.node_names)}",
        "",
        f"Causal graphs by shop type (edges with mean P > {EDGE_THRESHOLD}):",
    ]
    for row in _graph_rows(result):
        lines += [
            f"  {row['shop type']} ({row['shops']} shops)",
            f"    learned: {row[f'learned edges (P > {EDGE_THRESHOLD})']}",
            f"    true:    {row['true edges']}",
        ]
    lines.append("")
    metrics = _metric_rows(result)
    width = max(len(name) for name, _ in metrics)
    lines += [f"{name:<{width}}  {value}" for name, value in metrics]
    return "\n".join(lines)


def write_demo_report(result: DemoResult, output: str | Path) -> Path:
    """Write ``report.html`` and its PNG figures into the folder ``output``.

    Parameters
    ----------
    result : DemoResult
    output : str or Path
        Created if missing; files of an earlier report are overwritten.

    Returns
    -------
    path : Path
        The HTML file.
    """
    from sklearn_causalmmm.analysis.plots import (
        plot_forecasts,
        plot_graph_heatmaps,
        plot_training_curve,
    )
    from sklearn_causalmmm.analysis.report import write_report

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    # One shop of each type first, so that every graph type is seen.
    shops = [result.shops_by_type[label][0] for label in result.type_labels]
    others = [s for s in result.truth.columns if s not in shops]
    shops = (shops + others)[:N_FORECAST_SHOPS]
    context_days = 4 * result.horizon
    figures = {
        "Learned (left) and true (right) causal graph of each shop type; "
        "cell (i, j) is the edge i -> j.": plot_graph_heatmaps(
            result.probabilities_by_type,
            result.truth_by_type,
            result.node_names,
            output / "graphs.png",
        ),
        f"GMV over the {result.horizon} held-out days: observed, CausalMMM "
        "forecast from the channel plan, and the last-value forecast.": (
            plot_forecasts(
                result.truth[shops],
                {
                    "CausalMMM": result.forecast[shops],
                    "last value": result.naive_forecast[shops],
                },
                output / "forecasts.png",
                history=result.history[shops].iloc[-context_days:],
            )
        ),
        "Training and validation loss per epoch.": plot_training_curve(
            result.model.history_, output / "training_curve.png"
        ),
    }
    metrics = pd.DataFrame(_metric_rows(result), columns=["metric", "value"])
    return write_report(
        output / "report.html",
        title="CausalMMM demo report",
        intro=(
            f"CausalMMM fitted on the bundled demo panel with the last "
            f"{result.horizon} days held out; learned causal graphs compared "
            "with the simulator's truth, and GMV forecasts with the last-value "
            "forecast."
        ),
        tables={
            "Summary": metrics,
            "Causal graphs by shop type": pd.DataFrame(_graph_rows(result)),
        },
        figures=figures,
    )


# -- command line -----------------------------------------------------------------


def _int_at_least(minimum: int):
    """An argparse ``type`` accepting integers ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)


def _command_demo(args: argparse.Namespace) -> int:
    """Run ``demo``: fit, print the summary, write the report."""
    result = run_demo(
        horizon=args.horizon,
        max_epochs=args.max_epochs,
        hidden=args.hidden,
        train_days=args.train_days or None,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    print(format_summary(result))
    report = write_demo_report(result, args.output)
    print(f"\nReport written to {report}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Causal marketing mix modeling (CausalMMM) from the command line.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="fit on the bundled demo data, print a summary, write an HTML report",
        description=(
            "Fit CausalMMM on the bundled demo panel (40 shops, one year) with the "
            "last --horizon days held out; print the learned causal graphs next "
            "to the true ones, edge and heterogeneity AUROC, and the forecast MSE "
            "against the last-value forecast; write report.html with figures."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("causalmmm-report"),
        help="folder for report.html and its figures",
    )
    demo.add_argument(
        "--max-epochs", type=_positive_int, default=DEMO_MAX_EPOCHS, metavar="N"
    )
    demo.add_argument(
        "--hidden",
        type=_positive_int,
        default=DEMO_HIDDEN,
        metavar="H",
        help="width of the network's layers",
    )
    demo.add_argument(
        "--horizon",
        type=_positive_int,
        default=DEMO_HORIZON,
        help="days held out and forecast",
    )
    demo.add_argument(
        "--train-days",
        type=_int_at_least(0),
        default=DEMO_TRAIN_DAYS,
        metavar="DAYS",
        help="fit on the last DAYS days before the held-out ones (0: all)",
    )
    demo.add_argument("--random-state", type=int, default=0, metavar="SEED")
    demo.add_argument("--quiet", "-q", action="store_true", help="no training progress")
    demo.set_defaults(handler=_command_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    code : int
        0 on success, 1 when the work fails (the reason is printed), 2 for
        bad arguments (argparse's convention).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse has printed the usage and the error (or the help).
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return args.handler(args)
    except (ValueError, OSError) as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

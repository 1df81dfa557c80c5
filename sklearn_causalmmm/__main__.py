"""Command line interface: ``python -m sklearn_causalmmm`` or ``causalmmm``.

Subcommands
-----------
demo
    Back-test CausalMMM on the bundled demo panel, print how well it recovers
    the true causal graphs and how its forecast compares with the last-value
    forecast, and write an HTML report
    (:mod:`sklearn_causalmmm.reporting.demo`).
fit
    The same on a user's long CSV (one row per shop and day, one column per
    channel), without a true graph; save the model for ``predict``
    (:mod:`sklearn_causalmmm.reporting.holdout`).
predict
    Forecast GMV from a saved model for a future channel plan (CSV).
optimize
    Rank a plan's channels by contribution and reallocate its budget
    (:mod:`sklearn_causalmmm.reporting.decisions`).

Each subcommand is one ``_command_<name>(args) -> int`` function registered in
:func:`build_parser`; the work lives in :mod:`sklearn_causalmmm.reporting`, so
that it can be called from Python as well. Nothing in the package imports this
module.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

from sklearn_causalmmm.reporting.decisions import BUDGET_BOUNDS

# fit uses the demo's training defaults (chosen for about a minute's run).
from sklearn_causalmmm.reporting.demo import (
    DEMO_HIDDEN,
    DEMO_HORIZON,
    DEMO_MAX_EPOCHS,
    DEMO_TRAIN_DAYS,
)

__all__ = ["build_parser", "main"]

PROG = "causalmmm"
#: File names inside the folder written by ``fit``.
MODEL_FILE = "model.pkl"
ROLES_FILE = "model.json"


# -- helpers ------------------------------------------------------------------------


def _set_threads(n_threads: int) -> None:
    # The model's tensors are small: with more than one thread, the threads'
    # per-operation synchronisation costs more than they compute, and on a
    # busy machine OpenMP spin-waiting slows training down several times.
    import torch

    torch.set_num_threads(n_threads)


def _read_csv(path: Path):
    """Read a CSV file, naming the file in every error."""
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as error:  # pandas' parser errors
        raise ValueError(f"{path}: cannot read it as CSV: {error}") from None
    # Spreadsheets export "1,234.5": a column whose every value is a number
    # with comma-grouped thousands is read as numbers. A decimal comma
    # ("1,5") never matches, so it is left as text and refused by name later.
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind in "biufcmM":
            continue
        text = values.dropna()
        if not len(text) or not all(isinstance(v, str) for v in text):
            continue
        text = text.str.strip()
        grouped = text.str.fullmatch(_THOUSANDS)
        if grouped.all() and text.str.contains(",", regex=False).any():
            frame[column] = pd.to_numeric(values.str.replace(",", "", regex=False))
    return frame


#: A number with comma-grouped thousands, or a plain number.
_THOUSANDS = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?"


def _names(text: str) -> list[str]:
    """An argparse ``type``: comma-separated column names."""
    return [name.strip() for name in text.split(",") if name.strip()]


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


# -- demo ---------------------------------------------------------------------------


def _command_demo(args: argparse.Namespace) -> int:
    """Run ``demo``: fit, print the summary, write the report."""
    from sklearn_causalmmm.reporting.demo import run_demo
    from sklearn_causalmmm.reporting.holdout import (
        format_summary,
        write_holdout_report,
    )

    _set_threads(args.threads)
    result = run_demo(
        horizon=args.horizon,
        max_epochs=args.max_epochs,
        hidden=args.hidden,
        train_days=args.train_days or None,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    print(format_summary(result))
    report = write_holdout_report(result, args.output)
    print(f"\nReport written to {report}")
    return 0


# -- fit ----------------------------------------------------------------------------


def _save_model(model, result, folder: Path, *, refitted: bool) -> Path:
    """Pickle the model and write its column roles beside it (JSON)."""
    import sklearn_causalmmm
    from sklearn_causalmmm.reporting.holdout import _day

    path = folder / MODEL_FILE
    with path.open("wb") as handle:
        pickle.dump(model, handle)
    grid = model.panel_.time_index
    roles = {
        "shop_column": result.shop_column,
        "time_column": result.time_column,
        "target": result.target,
        "channel_columns": list(result.channel_columns),
        "spend_columns": list(
            result.decisions.spend_columns
            if result.decisions is not None
            else result.channel_columns
        ),
        "context_columns": list(result.context_columns),
        "fitted_from": _day(grid[0]),
        "fitted_to": _day(grid[-1]),
        "refitted_through_last_day": refitted,
        "version": getattr(sklearn_causalmmm, "__version__", "unknown"),
    }
    (folder / ROLES_FILE).write_text(json.dumps(roles, indent=2) + "\n")
    return path


def _check_spend_columns(frame, args: argparse.Namespace) -> None:
    """Refuse spend columns that are missing or not channels, before training."""
    from sklearn_causalmmm.reporting.holdout import check_columns

    spend = args.spend_columns or []
    check_columns(frame, {"spend": spend})
    others = {args.target, args.shop_column, args.time_column, *args.context_columns}
    outside = [
        c
        for c in spend
        if c in others or (args.channel_columns and c not in args.channel_columns)
    ]
    if outside:
        raise ValueError(
            f"spend column(s) {outside} are not channel columns; spend columns "
            "are the advertising channels among the model's inputs."
        )


def _command_fit(args: argparse.Namespace) -> int:
    """Run ``fit``: back-test, report, (refit,) save the model."""
    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.reporting.decisions import decide
    from sklearn_causalmmm.reporting.holdout import (
        _day,
        fit_holdout,
        format_summary,
        refit,
        write_holdout_report,
    )

    frame = _read_csv(args.data)
    _set_threads(args.threads)
    estimator = CausalMMMRegressor(
        max_epochs=args.max_epochs,
        hidden=args.hidden,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    try:
        _check_spend_columns(frame, args)
        result = fit_holdout(
            frame,
            target=args.target,
            shop_column=args.shop_column,
            time_column=args.time_column,
            channel_columns=args.channel_columns or None,
            context_columns=args.context_columns,
            horizon=args.horizon,
            train_days=args.train_days or None,
            estimator=estimator,
        )
        result.decisions = decide(result, args.spend_columns or None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{args.data}: {error}") from None
    print(format_summary(result, data_name=str(args.data)))
    if not args.spend_columns:
        print(
            "(every channel column was treated as spend; name the advertising "
            "channels with --spend-columns to leave funnel nodes out)"
        )
    report = write_holdout_report(result, args.output, data_name=str(args.data))
    model = result.model
    if args.refit:
        window = f"last {args.train_days}" if args.train_days else "all"
        print(f"\nRefitting on {window} days of the data ...", flush=True)
        model = refit(result, frame)
    path = _save_model(model, result, args.output, refitted=args.refit)
    print(
        f"\nModel saved to {path} (column roles: {args.output / ROLES_FILE}); "
        f"forecasts continue after {_day(model.panel_.time_index[-1])}."
    )
    print(f"Report written to {report}")
    return 0


# -- predict ------------------------------------------------------------------------


def _load_model(path: Path):
    """The model pickled by ``fit`` and its column roles."""
    if path.is_dir():
        path = path / MODEL_FILE
    roles_path = path.with_name(ROLES_FILE)
    for needed in (path, roles_path):
        if not needed.is_file():
            raise ValueError(
                f"{needed}: no such file; MODEL is the folder (or the {MODEL_FILE} "
                f"in it) written by '{PROG} fit'."
            )
    try:
        with path.open("rb") as handle:
            model = pickle.load(handle)
        roles = json.loads(roles_path.read_text())
    except Exception as error:  # a damaged or foreign file, whatever the cause
        raise ValueError(
            f"{path}: not a model saved by '{PROG} fit' ({error})."
        ) from None
    keys = ["shop_column", "time_column", "target", "channel_columns"]
    lacking = [key for key in keys if key not in roles]
    if lacking or not hasattr(model, "predict"):
        raise ValueError(
            f"{roles_path}: not the column roles of a model saved by '{PROG} fit' "
            f"(no {', '.join(lacking) or 'model'})."
        )
    return model, roles


def _plan_frame(model, roles: dict, frame):
    """The model's inputs from a plan CSV; context may be left out of the file."""
    from sklearn_causalmmm.panel import fill_context
    from sklearn_causalmmm.reporting.holdout import check_columns

    shop, time = roles["shop_column"], roles["time_column"]
    context, channels = roles.get("context_columns", []), roles["channel_columns"]
    check_columns(
        frame,
        {"shop column": [shop], "time column": [time], "channel": channels},
    )
    given = [c for c in context if c in frame]
    # predict reads a fitted shop's context from the fit, not from the plan
    plan = fill_context(
        frame[[shop, time, *given, *channels]], model.panel_, shop_column=shop
    )
    return plan[[shop, time, *context, *channels]]


def _command_predict(args: argparse.Namespace) -> int:
    """Run ``predict``: forecast GMV over a future channel plan."""
    import numpy as np
    import pandas as pd

    model, roles = _load_model(args.model)
    frame = _read_csv(args.data)
    _set_threads(1)
    shop, time, target = roles["shop_column"], roles["time_column"], roles["target"]
    try:
        gmv = model.predict(_plan_frame(model, roles, frame))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{args.data}: {error}") from None
    forecast = pd.DataFrame(
        {
            shop: frame[shop].to_numpy(),
            time: frame[time].to_numpy(),
            target: np.asarray(gmv, dtype=np.float64),
        }
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    forecast.to_csv(args.output, index=False)
    n_shops, n_days = forecast[shop].nunique(), forecast[time].nunique()
    print(
        f"Forecast of {target} for {n_shops} shop(s) x {n_days} day(s) written to "
        f"{args.output}"
    )
    return 0


# -- optimize -----------------------------------------------------------------------


def _bounds(text: str) -> tuple[float, float]:
    """``LOW,HIGH`` multipliers of the planned spend, with LOW <= 1 <= HIGH."""
    try:
        lower, upper = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH such as 0.5,1.5, got {text!r}"
        ) from None
    if not 0.0 <= lower <= 1.0 <= upper < float("inf"):
        raise argparse.ArgumentTypeError(f"need 0 <= LOW <= 1 <= HIGH, got {text!r}")
    return lower, upper


def _command_optimize(args: argparse.Namespace) -> int:
    """Run ``optimize``: a plan's contributions, and its budget reallocated."""
    from sklearn_causalmmm.reporting.decisions import plan_decisions

    model, roles = _load_model(args.model)
    frame = _read_csv(args.data)
    _set_threads(1)
    channels = roles["channel_columns"]
    spend = args.spend_columns or roles.get("spend_columns") or channels
    try:
        outside = [c for c in spend if c not in channels]
        if outside:
            raise ValueError(
                f"spend column(s) {outside} are not channel columns of the model "
                f"({', '.join(channels)})."
            )
        plan = _plan_frame(model, roles, frame)
        decisions = plan_decisions(model, plan, spend, bounds=args.bounds)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{args.data}: {error}") from None
    optimized = frame.copy()
    optimized[spend] = decisions.budget.optimized_plan[spend].to_numpy()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    optimized.to_csv(args.output, index=False)
    print("\n".join(decisions.summary_lines()))
    print(f"\nReallocated plan written to {args.output}")
    return 0


# -- command line -------------------------------------------------------------------


def _add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """MODEL and --data, shared by the commands that read a saved model's plan."""
    parser.add_argument(
        "model",
        type=Path,
        metavar="MODEL",
        help=f"folder written by 'fit' (or the {MODEL_FILE} in it)",
    )
    parser.add_argument(
        "--data", type=Path, required=True, metavar="PLAN.csv", help="channel plan"
    )


def _add_training_options(parser: argparse.ArgumentParser, train_days: int) -> None:
    parser.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=DEMO_MAX_EPOCHS,
        metavar="N",
        help="training epochs (fewer when the validation loss stops improving)",
    )
    parser.add_argument(
        "--hidden",
        type=_positive_int,
        default=DEMO_HIDDEN,
        metavar="H",
        help="width of the network's layers",
    )
    parser.add_argument(
        "--horizon",
        type=_positive_int,
        default=DEMO_HORIZON,
        metavar="DAYS",
        help="days held out at the end, forecast and scored",
    )
    parser.add_argument(
        "--train-days",
        type=_int_at_least(0),
        default=train_days,
        metavar="DAYS",
        help="fit on the last DAYS days before the held-out ones (0: all); the "
        "cost of an epoch grows with the window",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed: the same seed repeats a fit exactly",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        metavar="N",
        help="torch threads (the model's small tensors train fastest on one)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no training progress"
    )


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show every default, except empty ones and those of on/off flags."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default == [] or action.nargs == 0:
            return action.help or ""
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Causal marketing mix modeling (CausalMMM) from the command line.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    defaults = _HelpFormatter

    demo = commands.add_parser(
        "demo",
        help="fit on the bundled demo data, print a summary, write an HTML report",
        description=(
            "Fit CausalMMM on the bundled demo panel (40 shops, one year) with the "
            "last --horizon days held out; print the strongest learned causal "
            "edges of each shop type next to the true ones, edge and "
            "heterogeneity AUROC, and the forecast MSE against the last-value "
            "forecast; write report.html with figures (graphs, forecasts, "
            "response curves, training curve)."
        ),
        formatter_class=defaults,
    )
    demo.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("causalmmm-report"),
        help="folder for report.html and its figures",
    )
    _add_training_options(demo, DEMO_TRAIN_DAYS)
    demo.set_defaults(handler=_command_demo)

    fit = commands.add_parser(
        "fit",
        help="fit on your CSV, write a report, save the model",
        description=(
            "Fit CausalMMM on DATA, a long CSV with one row per shop and day and "
            "one column per channel (spend; funnel nodes such as page views "
            "count as channels), the target and optional per-shop context. The "
            "last --horizon days are held out: the model is fitted on the days "
            "before, its forecast of the held-out days (from their channel plan) "
            "is scored against the observed target and the last-value forecast, "
            "and report.html shows the scores, the learned causal graph, "
            "forecasts, response curves and the training curve. The model is "
            f"then refitted on the same number of days ending on the last day "
            f"(unless --no-refit) and saved as {MODEL_FILE} with its column "
            f"roles in {ROLES_FILE}, so that 'predict' forecasts from the day "
            "after the data's last day. With --no-refit the back-tested model is "
            "saved and forecasts start on the first held-out day. Only load "
            "model files you trust: they are pickles."
        ),
        formatter_class=defaults,
    )
    fit.add_argument("data", type=Path, metavar="DATA.csv", help="the long CSV")
    fit.add_argument("--target", default="gmv", help="the column to forecast")
    fit.add_argument(
        "--shop-column", default="shop_id", metavar="NAME", help="shop identifiers"
    )
    fit.add_argument(
        "--time-column",
        default="date",
        metavar="NAME",
        help="dates (e.g. 2024-01-31) or integer steps, one regular grid",
    )
    fit.add_argument(
        "--channel-columns",
        type=_names,
        action="extend",
        metavar="A,B,...",
        help="graph nodes besides the target (default: every numeric column "
        "that is not the shop, time, target or context)",
    )
    fit.add_argument(
        "--spend-columns",
        type=_names,
        action="extend",
        metavar="A,B,...",
        help="the advertising channels among the channel columns, for the "
        "contributions and the budget reallocation (default: every channel "
        "column; leave out funnel nodes such as page views)",
    )
    fit.add_argument(
        "--context-columns",
        type=_names,
        action="extend",
        default=[],
        metavar="A,B,...",
        help="per-shop context columns (constant over time)",
    )
    fit.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("causalmmm-model"),
        help="folder for the model, its column roles, report.html and figures",
    )
    fit.add_argument(
        "--no-refit",
        dest="refit",
        action="store_false",
        help="save the back-tested model instead of refitting on every day",
    )
    _add_training_options(fit, 0)
    fit.set_defaults(handler=_command_fit)

    predict = commands.add_parser(
        "predict",
        help="forecast from a saved model for a future channel plan",
        description=(
            "Forecast the target for the channel plan in --data, a CSV with the "
            "shop, time and channel columns the model was fitted with (context "
            "columns may be left out; other columns are ignored), for shops "
            "seen in fit. The plan starts on the day after the fitted period "
            "(a forecast), or inside it (a back-test). Writes a CSV with the "
            "shop, time and forecast target per row of the plan. Only load "
            "model files you trust: they are pickles."
        ),
        formatter_class=defaults,
    )
    _add_plan_arguments(predict)
    predict.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("causalmmm-forecast.csv"),
        help="CSV file to write",
    )
    predict.set_defaults(handler=_command_predict)

    optimize = commands.add_parser(
        "optimize",
        help="rank a plan's channels by contribution and reallocate its budget",
        description=(
            "For the channel plan in --data (as for 'predict'), print each "
            "channel's contribution to the forecast (Shapley values) and move "
            "every shop's spend between the spend columns, each scaled within "
            "--bounds of its plan and the shop's total unchanged, to raise the "
            "forecast. Writes the plan with the reallocated spend as a CSV that "
            "'predict' reads. Only load model files you trust: they are pickles."
        ),
        formatter_class=defaults,
    )
    _add_plan_arguments(optimize)
    optimize.add_argument(
        "--spend-columns",
        type=_names,
        action="extend",
        metavar="A,B,...",
        help="channels whose spend may move (default: those of 'fit')",
    )
    optimize.add_argument(
        "--bounds",
        type=_bounds,
        default=BUDGET_BOUNDS,
        metavar="LOW,HIGH",
        help="lowest and highest multiple of a channel's planned spend",
    )
    optimize.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("causalmmm-optimized-plan.csv"),
        help="CSV file to write",
    )
    optimize.set_defaults(handler=_command_optimize)
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
    except (ValueError, TypeError, OSError) as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

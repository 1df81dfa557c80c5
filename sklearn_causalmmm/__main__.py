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

from sklearn_causalmmm.analysis.budget import OBJECTIVES
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
#: The shop column and shop of data fitted with ``--shop-column none``.
SINGLE_SHOP_COLUMN = "shop"
SINGLE_SHOP = "all"


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


def _values(text: str) -> dict[str, float]:
    """An argparse ``type``: ``NAME=NUMBER,NAME=NUMBER``."""
    values = {}
    for item in _names(text):
        name, sep, number = item.rpartition("=")
        try:
            values[name.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(
                f"expected NAME=NUMBER pairs such as tv=0.5,search=1, got {item!r}"
            )
    return values


def _costs(text: str) -> dict[str, float]:
    """An argparse ``type``: ``channel=cost,...`` or a CSV of channel and cost."""
    path = Path(text)
    if path.suffix.lower() == ".csv" or path.is_file():
        frame = _read_csv(path)
        if list(frame.columns[:2]) != ["channel", "cost"]:
            raise argparse.ArgumentTypeError(
                f"{path}: needs the columns channel and cost (money per unit of "
                f"the channel's column), got {[str(c) for c in frame.columns]}"
            )
        return dict(
            zip(frame["channel"].astype(str), frame["cost"].astype(float), strict=True)
        )
    return _values(text)


def _expand(columns, patterns, option: str) -> list[str]:
    """Column names matching ``patterns`` (names or globs), in the file's order."""
    import fnmatch

    found = []
    for pattern in patterns or []:
        matches = [c for c in columns if c == pattern] or [
            c for c in columns if fnmatch.fnmatchcase(str(c), pattern)
        ]
        if not matches:
            raise ValueError(
                f"{option} {pattern!r} matches no column; the data has columns "
                f"{[str(c) for c in columns]}."
            )
        found += [c for c in matches if c not in found]
    order = {c: k for k, c in enumerate(columns)}
    return sorted(found, key=order.__getitem__)


def _roles(frame, args: argparse.Namespace) -> dict[str, list[str]]:
    """The columns of each role named by --media, --funnel and --controls."""
    roles = {
        role: _expand(list(frame.columns), getattr(args, role), f"--{role}")
        for role in ("media", "funnel", "controls")
    }
    seen: dict[str, str] = {}
    for role, names in roles.items():
        for name in names:
            if name in seen:
                raise ValueError(
                    f"column {name!r} matches both --{seen[name]} and --{role}: "
                    "give it one role."
                )
            seen[name] = role
    keys = {args.target, args.shop_column, args.time_column, *args.context_columns}
    clash = [name for name in seen if name in keys]
    if clash:
        raise ValueError(
            f"column(s) {clash} are the target, shop, time or context column and "
            f"cannot be {'/'.join('--' + seen[c] for c in clash)}."
        )
    return roles


def _lift_tests(path: Path | None):
    """The lift tests CSV, or None."""
    if path is None:
        return None
    tests = _read_csv(path)
    needed = ["channel", "start", "end", "spend_change", "lift", "lift_se"]
    missing = [c for c in needed if c not in tests.columns]
    if missing:
        raise ValueError(
            f"{path}: lacks the column(s) {missing}; a lift-test file has the "
            f"columns {needed} and optionally shop."
        )
    return tests


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
    result.currency = result.decisions.currency = args.currency
    print(format_summary(result))
    report = write_holdout_report(result, args.output)
    print(f"\nReport written to {report}")
    return 0


# -- fit ----------------------------------------------------------------------------


def _save_model(model, result, folder: Path, *, refitted: bool, args=None) -> Path:
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
        "single_series": result.shop_column == SINGLE_SHOP_COLUMN
        and getattr(args, "shop_column", None) == SINGLE_SHOP_COLUMN,
        "node_roles": list(getattr(model, "node_roles_", [])),
        "costs": getattr(args, "costs", None),
        "currency": getattr(args, "currency", None),
        "time_unit": result.time_unit,
        "fitted_from": _day(grid[0]),
        "fitted_to": _day(grid[-1]),
        "refitted_through_last_day": refitted,
        "version": getattr(sklearn_causalmmm, "__version__", "unknown"),
    }
    (folder / ROLES_FILE).write_text(json.dumps(roles, indent=2) + "\n")
    return path


def _check_spend_columns(frame, args: argparse.Namespace, spend, channels) -> None:
    """Refuse spend columns that are missing or not channels, before training."""
    from sklearn_causalmmm.reporting.holdout import check_columns

    spend = spend or []
    check_columns(frame, {"spend": spend})
    others = {args.target, args.shop_column, args.time_column, *args.context_columns}
    outside = [c for c in spend if c in others or (channels and c not in channels)]
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
        lift_table,
        refit,
        write_holdout_report,
    )

    frame = _read_csv(args.data)
    if args.shop_column.lower() == "none":
        # one series (one brand): every row is the same shop
        args.shop_column = SINGLE_SHOP_COLUMN
        frame = frame.assign(**{SINGLE_SHOP_COLUMN: SINGLE_SHOP})
    elif args.shop_column not in frame:
        raise ValueError(
            f"{args.data}: no shop column {args.shop_column!r}; name it with "
            "--shop-column, or pass --shop-column none for one series (one "
            f"brand). The data has columns {[str(c) for c in frame.columns]}."
        )
    _set_threads(args.threads)
    try:
        roles = _roles(frame, args)
        lift_tests = _lift_tests(args.lift_tests)
    except ValueError as error:
        raise ValueError(f"{args.data}: {error}") from None
    named = [*roles["media"], *roles["funnel"], *roles["controls"]]
    channels = args.channel_columns or None
    if named and channels is None:
        # the columns the roles name are the model's inputs
        channels = [c for c in frame.columns if c in named]
    spend = args.spend_columns or roles["media"] or None
    if spend is None and (roles["funnel"] or roles["controls"]):
        others = {*roles["funnel"], *roles["controls"]}
        spend = [c for c in channels or [] if c not in others] or None
    estimator = CausalMMMRegressor(
        max_epochs=args.max_epochs,
        hidden=args.hidden,
        media_columns=roles["media"] or None,
        funnel_columns=roles["funnel"] or None,
        control_columns=roles["controls"] or None,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    try:
        _check_spend_columns(frame, args, spend, channels)
        result = fit_holdout(
            frame,
            target=args.target,
            shop_column=args.shop_column,
            time_column=args.time_column,
            channel_columns=channels,
            context_columns=args.context_columns,
            horizon=args.horizon,
            train_days=args.train_days or None,
            estimator=estimator,
            lift_tests=lift_tests,
        )
        result.currency = args.currency
        result.decisions = decide(
            result, spend, costs=args.costs, currency=args.currency
        )
    except (ValueError, TypeError) as error:
        raise ValueError(f"{args.data}: {error}") from None
    print(format_summary(result, data_name=str(args.data)))
    if spend is None:
        print(
            "(every input column was treated as media spend; name the roles "
            "with --media, --funnel and --controls)"
        )
    if lift_tests is not None:
        fitted = getattr(result.model, "lift_tests_", None)
        if fitted is None:
            print("\nNo lift test lies inside the back-test's fitted window.")
        else:
            print("\nLift tests, measured against the model's lift:")
            print(lift_table(fitted).to_string(index=False))
    report = write_holdout_report(result, args.output, data_name=str(args.data))
    model = result.model
    unit = result.time_unit
    if args.refit:
        window = f"last {args.train_days}" if args.train_days else "all"
        print(f"\nRefitting on {window} {unit}s of the data ...", flush=True)
        model = refit(result, frame, lift_tests=lift_tests)
    path = _save_model(model, result, args.output, refitted=args.refit, args=args)
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
    if roles.get("single_series") and shop not in frame:
        frame = frame.assign(**{shop: SINGLE_SHOP})
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
    if roles.get("single_series") and shop not in frame:
        frame = frame.assign(**{shop: SINGLE_SHOP})
    forecast = pd.DataFrame(
        {
            shop: frame[shop].to_numpy(),
            time: frame[time].to_numpy(),
            target: np.asarray(gmv, dtype=np.float64),
        }
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    forecast.to_csv(args.output, index=False)
    n_shops, n_steps = forecast[shop].nunique(), forecast[time].nunique()
    unit = roles.get("time_unit", "step")
    print(
        f"Forecast of {target} for {n_shops} shop(s) x {n_steps} {unit}(s) "
        f"written to {args.output}"
    )
    return 0


# -- optimize -----------------------------------------------------------------------


def _bounds(text: str) -> tuple[float, float] | None:
    """``LOW,HIGH`` multipliers of the planned spend, with LOW <= 1 <= HIGH."""
    if text.strip().lower() == "none":
        return None
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
    costs = args.costs if args.costs is not None else roles.get("costs")
    currency = args.currency if args.currency is not None else roles.get("currency")
    constraints = {
        "objective": args.objective,
        "budget": args.budget,
        "min_spend": args.min_spend,
        "max_spend": args.max_spend,
        "fixed": args.fixed or (),
        "goal": args.goal,
        "min_roi": args.min_roi,
    }
    try:
        outside = [c for c in spend if c not in channels]
        if outside:
            raise ValueError(
                f"spend column(s) {outside} are not channel columns of the model "
                f"({', '.join(channels)})."
            )
        named = [
            *(args.min_spend or {}),
            *(args.max_spend or {}),
            *(args.fixed or []),
            *(costs or {}),
        ]
        outside += [c for c in named if c not in spend and c not in outside]
        if outside:
            raise ValueError(
                f"--min-spend, --max-spend, --fixed or --costs name(s) {outside}, "
                f"which are not spend columns ({', '.join(spend)}); "
                "--spend-columns chooses them among the model's channels "
                f"({', '.join(channels)})."
            )
        if costs is not None:
            costs = {c: costs[c] for c in spend if c in costs}
        plan = _plan_frame(model, roles, frame)
        decisions = plan_decisions(
            model,
            plan,
            spend,
            bounds=args.bounds,
            costs=costs,
            target=roles["target"],
            currency=currency,
            **constraints,
        )
    except (ValueError, TypeError) as error:
        raise ValueError(f"{args.data}: {error}") from None
    optimized = frame.copy()
    optimized[spend] = decisions.budget.optimized_plan[spend].to_numpy()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    optimized.to_csv(args.output, index=False)
    print("\n".join(decisions.summary_lines()))
    check = decisions.unit_check()
    if check.warns:
        print(f"Warning: {check.message}")
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
        metavar="STEPS",
        help="steps (days or weeks, as the data) held out at the end, forecast "
        "and scored",
    )
    parser.add_argument(
        "--train-days",
        type=_int_at_least(0),
        default=train_days,
        metavar="STEPS",
        help="fit on the last STEPS steps (days or weeks) before the held-out "
        "ones (0: all); the cost of an epoch grows with the window",
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


def _add_money_options(parser: argparse.ArgumentParser, saved: bool = False) -> None:
    """--costs and --currency, shared by fit and optimize."""
    default = " (default: those given to 'fit')" if saved else ""
    parser.add_argument(
        "--costs",
        type=_costs,
        metavar="CH=COST,... or COSTS.csv",
        help="money per unit of each spend column (1 for spend, the cost per "
        "thousand / 1000 for impressions), as pairs or a CSV with the columns "
        "channel and cost; without it the spend columns are summed as money" + default,
    )
    parser.add_argument(
        "--currency",
        metavar="CODE",
        help="shown before money in the report and summary, e.g. EUR "
        "(default: plain numbers)" + default.replace(" (default", "; default"),
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
    demo.add_argument(
        "--currency",
        metavar="CODE",
        help="shown before money in the report (default: plain numbers)",
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
        "--shop-column",
        default="shop_id",
        metavar="NAME",
        help="shop (geo, region, brand) identifiers; 'none' for one series",
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
    for role, what in (
        (
            "media",
            "spend or impressions per channel: non-negative, carry over "
            "and saturate, known in a plan",
        ),
        (
            "funnel",
            "mediators such as page views or clicks: caused by media, "
            "forecast by the model in a plan",
        ),
        (
            "controls",
            "price, promotions, holidays, weather: may be signed, no "
            "saturation, known in a plan",
        ),
    ):
        # the estimators' parameter names work too (--funnel-columns, ...)
        parameter = {"media": "media", "funnel": "funnel", "controls": "control"}[role]
        fit.add_argument(
            f"--{role}",
            f"--{parameter}-columns",
            dest=role,
            type=_names,
            action="extend",
            metavar="A,B,...",
            help=f"{role} columns ({what}); names or glob patterns such as "
            "'*_spend'. With any of --media, --funnel, --controls the model's "
            "inputs are exactly the columns they name (unnamed --channel-columns "
            "are media)",
        )
    fit.add_argument(
        "--lift-tests",
        type=Path,
        metavar="LIFT.csv",
        help="experiments the fit must agree with: columns shop (optional), "
        "channel, start, end, spend_change, lift, lift_se; tests inside the "
        "fitted window are used, and the model's lift is printed beside each",
    )
    _add_money_options(fit)
    fit.add_argument(
        "--spend-columns",
        type=_names,
        action="extend",
        metavar="A,B,...",
        help="the advertising channels among the channel columns, for the "
        "contributions and the budget reallocation (default: the --media "
        "columns, else every channel column that is not --funnel or --controls)",
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
        help="lowest and highest multiple of a channel's planned spend "
        "('none': no relative limit)",
    )
    optimize.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default="target",
        help="target: the largest forecast for the budget; cost: the cheapest "
        "plan whose forecast reaches --goal; roi: the largest forecast whose "
        "return per unit of money stays above --min-roi",
    )
    optimize.add_argument(
        "--budget",
        type=float,
        metavar="MONEY",
        help="total money over all shops and the plan (default: each shop "
        "keeps its planned money)",
    )
    optimize.add_argument(
        "--min-spend",
        type=_values,
        metavar="CH=MONEY,...",
        help="least money of a channel in each shop over the plan",
    )
    optimize.add_argument(
        "--max-spend",
        type=_values,
        metavar="CH=MONEY,...",
        help="most money of a channel in each shop over the plan",
    )
    optimize.add_argument(
        "--fixed",
        type=_names,
        action="extend",
        metavar="A,B,...",
        help="channels kept exactly as planned",
    )
    optimize.add_argument(
        "--goal",
        type=float,
        metavar="VALUE",
        help="with --objective cost: the total forecast target to reach "
        "(default: the plan's own forecast)",
    )
    optimize.add_argument(
        "--min-roi",
        type=float,
        metavar="RATIO",
        help="with --objective roi: the least forecast target per unit of money",
    )
    _add_money_options(optimize, saved=True)
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

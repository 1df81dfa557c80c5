"""Budget planning: how close the optimiser gets to the true optimum, and how fast.

Part 1, accuracy. Simulated shops whose response to spend is known exactly
(:class:`~sklearn_causalmmm.analysis._known_curves.KnownCurves`: per shop and
channel ``a * log(1 + stock / h)`` with geometric carryover and seasonality)
give the true optimum of each problem:

* ``whole plan``: each shop's channels scaled over a flat 13-week plan, one
  budget over all shops, 0.2x-3x per channel; without carryover the optimum
  equalises marginal returns (water filling).
* ``per step, seasonal``: spend chosen per week, shop and channel under a
  seasonal demand; without carryover every cell is its own curve (water
  filling again).
* ``per step, carryover``: spend works from the next week on and carries
  over; no closed form, so the reference is SLSQP run to convergence on a
  problem small enough for its dense algebra.
* ``least cost``: the cheapest plan whose forecast reaches the best forecast
  of 80 % of the budget: the truth is that 80 %.
* ``minimum ROI``: the largest forecast whose return on spend stays at 1.5x
  the return at the highest spend allowed; the truth is found by bisection on
  the water-filling path.

Part 2, time for 100 shops x 10 channels x 13 weeks, spend per week (13,000
variables, one budget over all shops, 0.2x-3x per cell): the known curves
with their exact gradient (the solver's own cost), the same through
``predict`` only (finite differences batched over shops), and a
:class:`~sklearn_causalmmm.CausalMMMRegressor` (gradients through torch,
``plan_gradient``) fitted on a simulated panel of that size.

Part 3, lift-test calibration: on the weekly simulator
(:func:`~sklearn_causalmmm.datasets.make_weekly_mmm`), the true lift of an
8-week test of each channel (spend raised by its mean, replayed with the same
noise) against the model's, fitted with every test vague (a standard error
of 1e12: the uncalibrated model) and then with one precise test (a 5 %
standard error) of the channel it gets most wrong. ``--part calibration``
runs this part alone and keeps the other rows of the results file.

Writes ``benchmarks/results/planning.json`` (``--quick``:
``benchmarks/results/quick/planning.json``) and prints a markdown table.

Usage::

    python benchmarks/planning.py --quick
    python benchmarks/planning.py
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import LinearConstraint, minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import QUICK_RESULTS, RESULTS, machine, set_threads  # noqa: E402

from sklearn_causalmmm.analysis._known_curves import KnownCurves  # noqa: E402
from sklearn_causalmmm.analysis.budget import optimize_budget  # noqa: E402

#: Sizes of the full run and of ``--quick``.
FULL = {"shops": 100, "channels": 10, "weeks": 13, "small": (10, 3, 8), "seeds": 3}
QUICK = {"shops": 8, "channels": 3, "weeks": 6, "small": (3, 2, 5), "seeds": 1}
#: Part 3's weekly panel: shops, channels, weeks, epochs, seeds.
CALIBRATION = {"full": (24, 4, 104, 30, 3), "quick": (8, 3, 60, 2, 1)}


def weekly_plan(shops, channels, spend) -> pd.DataFrame:
    """A long plan of ``spend`` ``(n_shops, n_weeks, n_channels)``."""
    n_weeks = spend.shape[1]
    dates = pd.date_range("2025-01-06", periods=n_weeks, freq="W-MON")
    plan = pd.DataFrame(
        {"shop_id": np.repeat(shops, n_weeks), "date": np.tile(dates, len(shops))}
    )
    plan[list(channels)] = spend.reshape(-1, len(channels))
    return plan


def known_shops(n_shops, n_channels, n_weeks, seed, carryover=False, **curve):
    """Known curves and a flat plan (the same spend every week).

    With ``carryover``, spend works from the next week on and carries over
    30 % to 70 % of itself, from a stock the history left.
    """
    rng = np.random.default_rng(seed)
    shops = [f"shop_{s:03d}" for s in range(n_shops)]
    channels = [f"channel_{k}" for k in range(n_channels)]
    shape = (n_shops, n_channels)
    if carryover:
        curve.update(
            lag=1,
            carryover=rng.uniform(0.3, 0.7, shape),
            stock=rng.uniform(0, 50, shape),
        )
    model = KnownCurves(
        shops,
        channels,
        gain=rng.uniform(50, 200, shape),
        half=rng.uniform(20, 100, shape),
        base=1000.0,
        **curve,
    )
    spend = np.repeat(rng.uniform(10, 100, shape)[:, None], n_weeks, 1)
    return model, weekly_plan(shops, channels, spend), spend


def _row(name, result, model, truth_gain, started, **extra):
    return {
        "problem": name,
        "gain": result.gain,
        "true_gain": truth_gain,
        "gain_ratio": result.gain / truth_gain,
        "seconds": time.perf_counter() - started,
        "forecasts": model.n_predictions,
        "rounds": result.n_rounds,
        "converged": result.converged,
        **extra,
    }


def _sizes(sizes):
    return sizes["shops"], sizes["channels"], sizes["weeks"]


def whole_plan(sizes, seed):
    model, plan, spend = known_shops(*_sizes(sizes), seed)
    planned = spend.sum(axis=1)
    started = time.perf_counter()
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        budget=spend.sum(),
        bounds=(0.2, 3.0),
    )
    best = model.optimum(spend, spend.sum(), 0.2 * planned, 3.0 * planned)
    truth = model.forecast(best).sum() - model.forecast(spend).sum()
    return _row("whole plan", result, model, truth, started)


def seasonal(sizes, seed):
    weeks = sizes["weeks"]
    season = 1.0 + 0.5 * np.sin(np.arange(weeks) * 2 * np.pi / weeks)
    model, plan, spend = known_shops(*_sizes(sizes), seed, season=season)
    started = time.perf_counter()
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        budget=spend.sum(),
        per_step=True,
        bounds=None,
    )
    best = model.optimum(spend, spend.sum(), per_step=True)
    truth = model.forecast(best).sum() - model.forecast(spend).sum()
    return _row("per step, seasonal", result, model, truth, started)


def carryover(sizes, seed):
    n, k, weeks = sizes["small"]
    season = np.ones(weeks)
    season[-2] = 3.0  # a peak week near the end
    model, plan, spend = known_shops(n, k, weeks, seed, carryover=True, season=season)
    total = spend.sum()
    started = time.perf_counter()
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        budget=total,
        per_step=True,
        bounds=(0.0, 4.0),
    )
    seconds = time.perf_counter() - started
    # the reference: SLSQP to convergence on the same problem
    reference = minimize(
        lambda x: -model.forecast(x.reshape(spend.shape)).sum(),
        spend.ravel(),
        jac=lambda x: -model.gradient(x.reshape(spend.shape)).ravel(),
        method="SLSQP",
        bounds=list(zip(np.zeros(spend.size), 4.0 * spend.ravel(), strict=True)),
        constraints=[LinearConstraint(np.ones((1, spend.size)), total, total)],
        options={"ftol": 1e-12, "maxiter": 2000},
    )
    truth = -reference.fun - model.forecast(spend).sum()
    row = _row("per step, carryover", result, model, truth, started)
    row["seconds"] = seconds
    row["reference"] = "SLSQP" + ("" if reference.success else " (not converged)")
    return row


def least_cost(sizes, seed):
    model, plan, spend = known_shops(*_sizes(sizes), seed)
    planned = spend.sum(axis=1)
    cheaper = 0.8 * spend.sum()
    best = model.optimum(spend, cheaper, 0.2 * planned, 3.0 * planned)
    target = model.forecast(best).sum()
    started = time.perf_counter()
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        objective="cost",
        target=target,
        bounds=(0.2, 3.0),
    )
    spent = result.allocation["optimized_spend"].sum()
    reached = model.predict(result.optimized_plan).sum()
    row = _row("least cost", result, model, result.gain, started)
    row.update(spend_ratio=spent / cheaper, target_reached=bool(reached >= target))
    del row["true_gain"], row["gain_ratio"]
    return row


def minimum_roi(sizes, seed):
    model, plan, spend = known_shops(*_sizes(sizes), seed)
    upper = 3.0 * spend.sum(axis=1)
    base = model.forecast(0.0 * spend).sum()
    most = model.forecast(model.optimum(spend, upper.sum(), 0.0, upper)).sum()
    min_roi = 1.5 * (most - base) / upper.sum()
    money = model.roi_budget(spend, min_roi, upper)
    truth = model.forecast(model.optimum(spend, money, 0.0, upper)).sum() - (
        model.forecast(spend).sum()
    )
    started = time.perf_counter()
    result = optimize_budget(
        model,
        plan,
        model.channels,
        costs="money",
        objective="roi",
        min_roi=min_roi,
        bounds=(0.0, 3.0),
    )
    forecast = model.predict(result.optimized_plan).sum()
    spent = result.allocation["optimized_spend"].sum()
    row = _row("minimum ROI", result, model, truth, started)
    row["roi_met"] = bool(forecast - base >= min_roi * spent)
    return row


def timing_known(sizes, seed, gradient: bool):
    weeks = sizes["weeks"]
    season = 1.0 + 0.3 * np.sin(np.arange(weeks) / 2)
    model, plan, spend = known_shops(
        *_sizes(sizes), seed, carryover=True, season=season
    )

    class PredictOnly:
        shop_column = "shop_id"
        predict = staticmethod(model.predict)

    started = time.perf_counter()
    result = optimize_budget(
        model if gradient else PredictOnly(),
        plan,
        model.channels,
        costs="money",
        budget=spend.sum(),
        per_step=True,
        bounds=(0.2, 3.0),
    )
    name = "known curves, " + ("exact gradient" if gradient else "finite differences")
    return _timing_row(name, result, model.n_predictions, started, *_sizes(sizes))


def _timing_row(name, result, forecasts, started, n, k, weeks):
    return {
        "problem": "time",
        "model": name,
        "variables": n * k * weeks,
        "seconds": time.perf_counter() - started,
        "forecasts": forecasts,
        "rounds": result.n_rounds,
        "converged": result.converged,
        "gain": result.gain,
        "uplift": result.uplift,
    }


def timing_causal_mmm(sizes, seed, quick: bool):
    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.datasets import make_causal_mmm

    n, k, weeks = sizes["shops"], sizes["channels"], sizes["weeks"]
    history = 40 if quick else 100
    data = make_causal_mmm(
        n_shops=n,
        n_channels=k,
        n_steps=history + weeks,
        as_frame=True,
        compute_contributions=False,
        random_state=seed,
    )
    frame, channels = data.frame, list(data.channel_names)
    dates = np.sort(frame["date"].unique())
    past = frame[frame["date"] < dates[history]]
    plan = frame[frame["date"] >= dates[history]].drop(columns="gmv")
    hidden = 8 if quick else 64
    model = CausalMMMRegressor(
        hidden=hidden,
        max_epochs=1 if quick else 5,
        context_columns=list(data.context_names),
        random_state=seed,
    ).fit(past.drop(columns="gmv"), past["gmv"])
    calls = {"n": 0}

    def counted(method):
        def call(X):
            calls["n"] += 1
            return method(X)

        return call

    # the estimator's methods, counted (instance attributes shadow them)
    model.plan_gradient = counted(model.plan_gradient)
    model.predict = counted(model.predict)
    total = float(plan[channels].to_numpy().sum())
    started = time.perf_counter()
    result = optimize_budget(
        model,
        plan,
        channels,
        costs="money",
        budget=total,
        per_step=True,
        bounds=(0.2, 3.0),
    )
    row = _timing_row(
        f"CausalMMMRegressor (hidden={hidden})",
        result,
        calls["n"],
        started,
        n,
        k,
        weeks,
    )
    row["budget_error"] = (
        abs(result.optimized_plan[channels].to_numpy().sum() - total) / total
    )
    return row


def calibration(seed, quick: bool) -> dict:
    """Part 3: one precise lift test of the channel the model gets most wrong."""
    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.datasets import make_weekly_mmm

    n_shops, n_channels, n_weeks, epochs, _ = CALIBRATION["quick" if quick else "full"]
    data = make_weekly_mmm(
        n_shops=n_shops,
        n_channels=n_channels,
        n_funnel=1,
        n_controls=2,
        n_steps=n_weeks,
        random_state=seed,
    )
    start, end = n_weeks - 20, n_weeks - 13
    vague = data.lift_tests(start, end, lift_se=1e12)
    truth = vague["lift"].to_numpy()
    settings = dict(
        hidden=16,
        max_epochs=epochs,
        random_state=seed,
        funnel_columns=list(data.funnel_columns),
        control_columns=list(data.control_columns),
    )
    started = time.perf_counter()
    before = CausalMMMRegressor(**settings).fit(data.X, data.y, lift_tests=vague)
    model_before = before.lift_tests_["model_lift"].to_numpy()
    error_before = np.abs(model_before - truth) / np.abs(truth)
    tested = int(np.argmax(error_before))
    precise = vague.assign(
        lift_se=np.where(vague.index == tested, 0.05 * np.abs(truth), 1e12)
    )
    after = CausalMMMRegressor(**settings).fit(data.X, data.y, lift_tests=precise)
    model_after = after.lift_tests_["model_lift"].to_numpy()
    error_after = np.abs(model_after - truth) / np.abs(truth)
    others = np.arange(n_channels) != tested
    return {
        "problem": "lift-test calibration",
        "seed": seed,
        "size": [n_shops, n_channels, n_weeks],
        "tested_channel": data.media_names[tested],
        "true_lift": truth.tolist(),
        "model_lift_before": model_before.tolist(),
        "model_lift_after": model_after.tolist(),
        "tested_error_before": float(error_before[tested]),
        "tested_error_after": float(error_after[tested]),
        "others_error_before": float(error_before[others].mean()),
        "others_error_after": float(error_after[others].mean()),
        "agrees_after": bool(after.lift_tests_.loc[tested, "agrees"]),
        "seconds": time.perf_counter() - started,
    }


def calibration_table(rows) -> str:
    lines = [
        "| seed | tested channel | its lift error, uncalibrated | calibrated "
        "| other channels' mean error, uncalibrated | calibrated |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['seed']} | {row['tested_channel']} "
            f"| {row['tested_error_before']:.0%} | {row['tested_error_after']:.0%} "
            f"| {row['others_error_before']:.0%} | {row['others_error_after']:.0%} |"
        )
    return "\n".join(lines)


def table(rows) -> str:
    lines = [
        "| problem | gain / true gain | seconds | forecasts | rounds |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        if row["problem"] == "time":
            continue
        ratio = (
            f"{row['gain_ratio']:.5f}"
            if "gain_ratio" in row
            else f"spend / least spend {row['spend_ratio']:.5f}"
        )
        lines.append(
            f"| {row['problem']} (seed {row['seed']}) | {ratio} | "
            f"{row['seconds']:.2f} | {row['forecasts']} | {row['rounds']} |"
        )
    lines += [
        "",
        "| time for | variables | seconds | forecasts | rounds | gain | uplift |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row["problem"] == "time":
            lines.append(
                f"| {row['model']} | {row['variables']:,} | {row['seconds']:.1f} | "
                f"{row['forecasts']} | {row['rounds']} | {row['gain']:+,.1f} | "
                f"{row['uplift']:+.2%} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes, seconds")
    parser.add_argument("--results", type=Path, default=None, help="results folder")
    parser.add_argument(
        "--part",
        choices=("all", "calibration"),
        default="all",
        help="calibration: part 3 alone, other rows of the results kept",
    )
    args = parser.parse_args(argv)
    set_threads(1)
    sizes = QUICK if args.quick else FULL
    folder = args.results or (QUICK_RESULTS if args.quick else RESULTS)
    path = folder / "planning.json"
    n_seeds = CALIBRATION["quick" if args.quick else "full"][-1]
    calibrated = [calibration(seed, args.quick) for seed in range(n_seeds)]
    print(calibration_table(calibrated))
    if args.part == "calibration":
        content = json.loads(path.read_text())
        content["calibration"] = calibrated
        path.write_text(json.dumps(content, indent=1, default=float) + "\n")
        print(f"\nwritten to {path}", file=sys.stderr)
        return 0
    rows = []
    for seed in range(sizes["seeds"]):
        for problem in (whole_plan, seasonal, carryover, least_cost, minimum_roi):
            rows.append({**problem(sizes, seed), "seed": seed})
            print(f"done: {rows[-1]['problem']}, seed {seed}", file=sys.stderr)
    for gradient in (True, False):
        rows.append({**timing_known(sizes, 0, gradient), "seed": 0})
    rows.append({**timing_causal_mmm(sizes, 0, args.quick), "seed": 0})
    folder.mkdir(parents=True, exist_ok=True)
    content = {
        "quick": args.quick,
        "machine": machine(),
        "command": " ".join(
            ["python", "benchmarks/planning.py", *(argv or sys.argv[1:])]
        ),
        "sizes": {key: value for key, value in sizes.items()},
        "rows": rows,
        "calibration": calibrated,
    }
    path.write_text(json.dumps(content, indent=1, default=float) + "\n")
    print(table(rows))
    print(f"\nwritten to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

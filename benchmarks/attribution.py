"""Attribution against known contributions, calibrated bands, influence vs graph.

Three questions, scored with the package's public APIs only
(:func:`~sklearn_causalmmm.analysis.contributions.channel_contributions`,
``CausalMMMRegressor.predict_interval``,
:func:`~sklearn_causalmmm.analysis.influence.influence_graph`):

``weekly_sim``
    ``make_weekly_mmm`` (media impressions with costs, funnel nodes, signed
    controls). The model is fitted on all weeks but the last
    :data:`PLAN_WEEKS`; the plan is those weeks' media and controls (no
    funnel nodes). The truth of a channel's contribution replays the
    simulator with the channel's spend set to zero over the plan's weeks,
    same noise (``simulate``); its direct part holds the funnel nodes at
    their factual values (the simulator's structural equations). Scores: the
    error of each channel's total over shops, ``|model - truth| / |truth|``
    (averaged over channels), the Spearman correlation of the channels'
    ranking per shop (averaged over shops), the mediated share of each
    channel's total (model and truth), the coverage of the 80 % band of the
    held-out target, and the AUROC of the influence matrix against the
    learned graph (edges with probability > 0.5) and against the truth.
``daily_sim``
    ``make_causal_mmm`` (daily spend, funnel nodes, graph types), the last
    :data:`PLAN_DAYS` days held out. Its true contributions replay the
    simulator with the channel's spend at zero on every day, same noise;
    summed over the plan they also count the carryover of spend made before
    the plan (lags of 1-3 days). Same scores as ``weekly_sim`` except the
    direct/mediated split and the influence graph.
``pymc_tvp``
    PyMC-Marketing's ``media_tvp_data.csv`` (one brand, 179 weeks, ``x1`` and
    ``x2`` with their true contributions ``x1_contribution``,
    ``x2_contribution``). Same protocol; the truth of a channel over the plan
    is the sum of its true contribution over the plan's weeks (which counts
    the carryover of spend made before the plan, so it is an approximation
    of "the channel off over the plan").
``meridian``
    Google Meridian's geo panel (conversions): the coverage of the 80 % band
    over the last :data:`PLAN_WEEKS` weeks.

Usage::

    python benchmarks/attribution.py            # about 8 minutes on 2 cores
    python benchmarks/attribution.py --quick    # toy sizes

Writes ``benchmarks/results/attribution.json`` (``--quick``:
``benchmarks/results/quick/attribution.json``); the table is in
``docs/attribution.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sklearn_causalmmm import CausalMMMRegressor  # noqa: E402
from sklearn_causalmmm.analysis.contributions import channel_contributions  # noqa: E402
from sklearn_causalmmm.analysis.influence import (  # noqa: E402
    influence_agreement,
    influence_graph,
)
from sklearn_causalmmm.datasets import make_causal_mmm, make_weekly_mmm  # noqa: E402

#: Weeks of the held-out plan.
PLAN_WEEKS = 14
COVERAGE = 0.8
#: Model settings of every panel (small: one run stays within minutes).
MODEL = {"hidden": 16, "max_epochs": 60, "horizon": 8, "random_state": 0}
WEEKLY = {"n_shops": 24, "n_channels": 6, "n_steps": 120}
QUICK_WEEKLY = {"n_shops": 6, "n_channels": 3, "n_steps": 60}
#: Days of the daily simulator's held-out plan: its lags are 1-3 days, so the
#: truth's carryover from before the plan is a small part of four weeks.
PLAN_DAYS = 28
DAILY = {
    "n_shops": 24,
    "n_channels": 5,
    "n_funnel": 2,
    "n_steps": 160,
    "n_graph_types": 3,
    "edge_density": 0.4,
}
QUICK_DAILY = {"n_shops": 6, "n_channels": 3, "n_funnel": 1, "n_steps": 60}
SHARED = Path("/work/shared/data/pymc_marketing/media_tvp_data.csv")
GOALS = {
    "total_error": 0.15,
    "rank_correlation": 0.8,
    "coverage": (0.7, 0.9),
    "influence_auroc_learned": 0.9,
}


def coverage_of(model, plan, truth) -> float:
    lower, upper = model.predict_interval(plan, coverage=COVERAGE)
    lower, upper = np.asarray(lower), np.asarray(upper)
    truth = np.asarray(truth)
    return float(np.mean((truth >= lower) & (truth <= upper)))


def weekly_truth(data, start: int):
    """True total and direct contribution ``(n_shops, C)`` over steps ``start:``."""
    world = data.simulate.__self__
    offset = world.burn_in + start
    factual_funnel, factual = world.run(world.impressions)
    total = np.empty((data.y.shape[0], len(data.media_names)))
    direct = np.empty_like(total)
    for m in range(len(data.media_names)):
        spend = data.spend.copy()
        spend[:, m, start:] = 0.0
        total[:, m] = (data.y[:, start:] - data.simulate(spend).y[:, start:]).sum(1)
        zeroed = world.impressions.copy()
        zeroed[:, m, offset:] = 0.0
        held = world.run(zeroed, factual_funnel)[1]
        direct[:, m] = (factual[:, offset:] - held[:, offset:]).sum(1)
    return total, direct


def attribution_scores(model_total, true_total, model_mediated, true_mediated):
    """Per-channel total error, per-shop rank correlation, mediated shares."""
    sums_model, sums_true = model_total.sum(0), true_total.sum(0)
    errors = np.abs(sums_model - sums_true) / np.abs(sums_true)
    ranks = [
        spearmanr(model_total[s], true_total[s]).statistic
        for s in range(true_total.shape[0])
        if np.ptp(true_total[s]) > 0 and np.ptp(model_total[s]) > 0
    ]
    scores = {
        "total_error_per_channel": errors.round(4).tolist(),
        "total_error": float(np.mean(errors)),
        "rank_correlation": float(np.mean(ranks)) if ranks else None,
        "model_total_per_channel": sums_model.round(2).tolist(),
        "true_total_per_channel": sums_true.round(2).tolist(),
    }
    if model_mediated is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores["model_mediated_share"] = (
                (model_mediated.sum(0) / sums_model).round(3).tolist()
            )
            scores["true_mediated_share"] = (
                (true_mediated.sum(0) / sums_true).round(3).tolist()
            )
    return scores


def run_weekly(quick: bool, seed: int) -> dict:
    size = QUICK_WEEKLY if quick else WEEKLY
    data = make_weekly_mmm(**size, as_frame=True, random_state=seed)
    frame = data.frame
    dates = np.sort(frame["date"].unique())
    start = len(dates) - PLAN_WEEKS
    past = frame[frame["date"] < dates[start]]
    future = frame[frame["date"] >= dates[start]]
    plan = future[["shop_id", "date", *data.media_names, *data.control_names]]
    params = {**MODEL, "max_epochs": 2 if quick else MODEL["max_epochs"]}
    model = CausalMMMRegressor(
        **params,
        funnel_columns=list(data.funnel_names),
        control_columns=list(data.control_names),
    )
    began = time.perf_counter()
    model.fit(past.drop(columns=data.target_name), past[data.target_name])
    fit_seconds = time.perf_counter() - began
    costs = dict(zip(data.media_names, data.costs / 1000.0, strict=True))
    began = time.perf_counter()
    result = channel_contributions(model, plan, data.media_names, costs=costs)
    attribution_seconds = time.perf_counter() - began
    shape = (data.y.shape[0], len(data.media_names))
    model_total = result["contribution"].to_numpy().reshape(shape)
    model_mediated = result["mediated"].to_numpy().reshape(shape)
    true_total, true_direct = weekly_truth(data, start)
    scores = attribution_scores(
        model_total, true_total, model_mediated, true_total - true_direct
    )
    inside = (true_total >= result["contribution_lower"].to_numpy().reshape(shape)) & (
        true_total <= result["contribution_upper"].to_numpy().reshape(shape)
    )
    scores["contribution_interval_coverage"] = float(inside.mean())
    scores["coverage"] = coverage_of(model, plan, future[data.target_name])
    influence = influence_graph(model, plan)
    scores["influence_auroc_learned"] = influence_agreement(
        influence, model.edge_probabilities_
    )
    scores["influence_auroc_truth"] = influence_agreement(influence, data.adjacency)
    scores["learned_graph_auroc_truth"] = influence_agreement(
        model.edge_probabilities_, data.adjacency
    )
    return {
        "panel": "weekly_sim",
        "seed": seed,
        "size": size,
        "fit_seconds": round(fit_seconds, 1),
        "attribution_seconds": round(attribution_seconds, 1),
        **scores,
    }


def run_daily(quick: bool, seed: int) -> dict:
    """``make_causal_mmm``: true contributions from its replay with the
    channel's spend at zero (same noise), summed over the plan's days."""
    size = QUICK_DAILY if quick else DAILY
    data = make_causal_mmm(**size, as_frame=True, random_state=seed)
    frame = data.frame
    dates = np.sort(frame["date"].unique())
    start = len(dates) - PLAN_DAYS
    past = frame[frame["date"] < dates[start]]
    future = frame[frame["date"] >= dates[start]]
    context = list(data.context_names)
    plan = future[["shop_id", "date", *context, *data.channel_names]]
    params = {**MODEL, "max_epochs": 2 if quick else MODEL["max_epochs"]}
    model = CausalMMMRegressor(
        **params, funnel_columns=list(data.funnel_names), context_columns=context
    )
    began = time.perf_counter()
    model.fit(past.drop(columns=data.target_name), past[data.target_name])
    fit_seconds = time.perf_counter() - began
    began = time.perf_counter()
    result = channel_contributions(model, plan, data.channel_names)
    attribution_seconds = time.perf_counter() - began
    shape = (data.y.shape[0], len(data.channel_names))
    model_total = result["contribution"].to_numpy().reshape(shape)
    # the replay zeroes the channel on every day, so the plan's first days
    # also lose the carryover of spend made before it (lags of 1-3 days)
    true_total = data.contributions[:, :, start:].sum(-1)
    scores = attribution_scores(model_total, true_total, None, None)
    scores["model_mediated_share"] = (
        (result["mediated"].to_numpy().reshape(shape).sum(0) / model_total.sum(0))
        .round(3)
        .tolist()
    )
    inside = (true_total >= result["contribution_lower"].to_numpy().reshape(shape)) & (
        true_total <= result["contribution_upper"].to_numpy().reshape(shape)
    )
    scores["contribution_interval_coverage"] = float(inside.mean())
    scores["coverage"] = coverage_of(model, plan, future[data.target_name])
    return {
        "panel": "daily_sim",
        "seed": seed,
        "size": size,
        "plan_days": PLAN_DAYS,
        "fit_seconds": round(fit_seconds, 1),
        "attribution_seconds": round(attribution_seconds, 1),
        **scores,
    }


def run_pymc(quick: bool) -> dict:
    raw = pd.read_csv(SHARED)
    raw["date_week"] = pd.to_datetime(raw["date_week"])
    raw.insert(0, "shop_id", "brand")
    media, controls = ["x1", "x2"], ["event_1", "event_2"]
    start = len(raw) - PLAN_WEEKS
    past, future = raw.iloc[:start], raw.iloc[start:]
    params = {**MODEL, "max_epochs": 2 if quick else MODEL["max_epochs"]}
    model = CausalMMMRegressor(
        **params, control_columns=controls, time_column="date_week", target_name="y"
    )
    began = time.perf_counter()
    model.fit(past[["shop_id", "date_week", *media, *controls]], past["y"])
    fit_seconds = time.perf_counter() - began
    plan = future[["shop_id", "date_week", *media, *controls]]
    result = channel_contributions(model, plan, media, costs="money")
    model_total = result["contribution"].to_numpy()[None]
    true_total = future[["x1_contribution", "x2_contribution"]].sum().to_numpy()[None]
    scores = attribution_scores(model_total, true_total, None, None)
    scores["rank_correlation"] = None  # two channels, one shop: no ranking to score
    scores["coverage"] = coverage_of(model, plan, future["y"])
    return {"panel": "pymc_tvp", "fit_seconds": round(fit_seconds, 1), **scores}


def run_meridian(quick: bool) -> dict:
    from real_panels import load_meridian

    panel = load_meridian("conversions", 4 if quick else None)
    frame = panel.frame
    times = panel.times
    start = len(times) - PLAN_WEEKS
    past = frame[frame[panel.time] < times[start]]
    future = frame[frame[panel.time] >= times[start]]
    columns = [panel.shop, panel.time, *panel.columns, *panel.context]
    params = {**MODEL, "max_epochs": 2 if quick else MODEL["max_epochs"]}
    model = CausalMMMRegressor(
        **params,
        shop_column=panel.shop,
        time_column=panel.time,
        target_name=panel.target,
        context_columns=list(panel.context) or None,
        funnel_columns=list(panel.funnel) or None,
        control_columns=list(panel.controls) or None,
    )
    began = time.perf_counter()
    model.fit(past[columns], past[panel.target])
    fit_seconds = time.perf_counter() - began
    coverage = coverage_of(model, future[columns], future[panel.target])
    return {
        "panel": "meridian",
        "n_geos": int(frame[panel.shop].nunique()),
        "fit_seconds": round(fit_seconds, 1),
        "coverage": coverage,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--panels", default="weekly_sim,daily_sim,pymc_tvp,meridian")
    args = parser.parse_args(argv)
    panels = args.panels.split(",")
    rows = []
    if "weekly_sim" in panels:
        for seed in range(args.seeds):
            rows.append(run_weekly(args.quick, seed))
            print(json.dumps(rows[-1]), flush=True)
    if "daily_sim" in panels:
        for seed in range(args.seeds):
            rows.append(run_daily(args.quick, seed))
            print(json.dumps(rows[-1]), flush=True)
    if "pymc_tvp" in panels:
        rows.append(run_pymc(args.quick))
        print(json.dumps(rows[-1]), flush=True)
    if "meridian" in panels:
        rows.append(run_meridian(args.quick))
        print(json.dumps(rows[-1]), flush=True)
    folder = HERE / "results" / ("quick" if args.quick else "")
    folder.mkdir(parents=True, exist_ok=True)
    content = {
        "settings": {
            "model": MODEL,
            "weekly": QUICK_WEEKLY if args.quick else WEEKLY,
            "daily": QUICK_DAILY if args.quick else DAILY,
            "plan_days": PLAN_DAYS,
            "plan_weeks": PLAN_WEEKS,
            "coverage": COVERAGE,
        },
        "goals": GOALS,
        "rows": rows,
    }
    (folder / "attribution.json").write_text(json.dumps(content, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Cost of every method: fit time per shop-epoch, predict throughput, peak memory.

Part 1, every discoverer and forecaster on the Sim-1-like panel (300 shops,
8 nodes, T = 100): fit time, time per shop and per shop-epoch, predict
throughput and peak resident memory. Iterative methods are fitted for fewer
epochs than in the accuracy benchmarks (``Method.cost`` in ``_common.py``):
the time per shop-epoch does not depend on how many epochs are run. An epoch
is one pass over every shop's training data; for GVAR, NGC and BTVC, which
train all shops as one batch, it is one full-batch step. Predict throughput
is shops per second: a discoverer scores the graphs of 50 new shops
(``predict_graph``: a forward pass for the inductive CausalMMM, NRI and InGRA,
a refit for the others), a forecaster forecasts 30 steps for every shop.

Part 2, CausalMMM's growth with the number of shops: 1x, 2x, 4x and 10x a
base of 100 shops, 3 epochs each.

In the full run every measurement runs in a fresh process (so its peak memory
is its own) with one torch thread; ``--quick`` measures in-process, resetting
the peak between methods where Linux allows it.

Usage::

    python benchmarks/cost.py --quick
    python benchmarks/cost.py
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import report
from _common import (
    DISCOVERERS,
    FORECASTERS,
    QUICK_SHOPS,
    ResultsFile,
    Timer,
    base_parser,
    data_config,
    discovery_panel,
    epochs_run,
    forecast_split,
    peak_memory,
    reset_peak_memory,
    resolve_paths,
    run_script,
    select,
    set_threads,
    simulate,
)

SCRIPT = "cost.py"
RESULTS_FILE = "cost.json"
SHOPS = 300
NEW_SHOPS = 50
GROWTH_BASE = 100
GROWTH_FACTORS = (1, 2, 4, 10)
GROWTH_EPOCHS = 3


def _methods(kind: str):
    return DISCOVERERS if kind == "discoverer" else FORECASTERS


def _per_epoch_seconds(model) -> float | None:
    """Fastest epoch after the first (set-up): other tenants only add time."""
    history = getattr(getattr(model, "net_", None), "history", None)
    if not history:
        return None
    durations = [row["dur"] for row in history]
    return float(min(durations[1:] or durations))


def measure(spec: dict) -> dict:
    """Fit, predict and measure one method as described by ``spec``."""
    kind, name, quick = spec["kind"], spec["method"], spec["quick"]
    method = select(_methods(kind), name)[0]
    row = dict(spec)
    if not method.available():
        row["skipped"] = f"not installed ({method.requires})"
        return row
    overrides = spec.get("overrides", {})
    params = method.configuration(quick, cost=True, **overrides)
    config = data_config("sim1", n_shops=spec["n_shops"])
    data = simulate(config, 0)
    gc.collect()
    rss_before = reset_peak_memory()
    model = method.build(quick, 0, cost=True, **overrides)
    if kind == "discoverer":
        n_new = spec["n_new"]
        new = simulate(data_config("sim1", n_shops=n_new), 1) if n_new else data
        n_new = n_new or spec["n_shops"]
        with Timer() as fit_timer:
            model.fit(discovery_panel(data), context=data.context)
        with Timer() as predict_timer:
            model.predict_graph(discovery_panel(new), context=new.context)
        row["predict_refits"] = not getattr(model, "_inductive", False)
    else:
        X_fit, y_fit, plan, _, _ = forecast_split(data.X, data.y)
        n_new = spec["n_shops"]
        with Timer() as fit_timer:
            model.fit(X_fit, y_fit, context=data.context)
        with Timer() as predict_timer:
            model.predict(plan)
        row["predict_refits"] = False
    peak = peak_memory()
    epochs = epochs_run(model, method, params)
    n_shops = spec["n_shops"]
    row.update(
        params=json.loads(json.dumps(params, default=str)),
        epochs=epochs,
        fit_seconds=fit_timer.seconds,
        seconds_per_shop=fit_timer.seconds / n_shops,
        seconds_per_shop_epoch=(
            fit_timer.seconds / (n_shops * epochs) if epochs else None
        ),
        seconds_per_epoch=_per_epoch_seconds(model),
        predict_shops=n_new,
        predict_seconds=predict_timer.seconds,
        predict_shops_per_second=n_new / max(predict_timer.seconds, 1e-9),
        rss_before_mb=rss_before,
        peak_rss_mb=peak,
        peak_added_mb=None if None in (peak, rss_before) else peak - rss_before,
        torch_threads=_torch_threads(),
    )
    return row


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _in_subprocess(spec: dict, threads: int) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        json.dumps(spec),
        "--threads",
        str(threads),
    ]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _chosen(kind: str, names: str | None) -> list:
    """The methods of ``kind`` among ``names``; a name no kind has is an error."""
    chosen = {
        m.name
        for m in select([*_methods("discoverer"), *_methods("forecaster")], names)
    }
    return [m for m in _methods(kind) if m.name in chosen]


def specs(quick: bool, methods: str | None, parts: list[str]):
    shops = QUICK_SHOPS if quick else SHOPS
    if "methods" in parts:
        for kind in ("discoverer", "forecaster"):
            for method in _chosen(kind, methods):
                yield {
                    "part": "methods",
                    "kind": kind,
                    "method": method.name,
                    "n_shops": shops,
                    "n_new": QUICK_SHOPS if quick else NEW_SHOPS,
                    "quick": quick,
                }
    if "growth" in parts:
        base = QUICK_SHOPS if quick else GROWTH_BASE
        for factor in GROWTH_FACTORS:
            yield {
                "part": "growth",
                "kind": "discoverer",
                "method": "CausalMMM",
                "factor": factor,
                "n_shops": base * factor,
                "n_new": 0,  # graphs of the fitted shops: pure inference
                "quick": quick,
                "overrides": {"max_epochs": 1 if quick else GROWTH_EPOCHS},
            }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--parts", default="methods,growth", help="methods,growth")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure in this process (default with --quick)",
    )
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.child:
        print(json.dumps(measure(json.loads(args.child))))
        return 0
    results_dir, _ = resolve_paths(args)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    in_process = args.in_process or args.quick
    results = ResultsFile(
        results_dir / RESULTS_FILE,
        args.quick,
        meta={
            "n_shops": QUICK_SHOPS if args.quick else SHOPS,
            "n_new": QUICK_SHOPS if args.quick else NEW_SHOPS,
            "growth_base": QUICK_SHOPS if args.quick else GROWTH_BASE,
            "growth_factors": list(GROWTH_FACTORS),
            "isolated": not in_process,
            "discoverers": [m.name for m in DISCOVERERS],
            "forecasters": [m.name for m in FORECASTERS],
        },
    )

    def job(spec: dict) -> dict:
        return measure(spec) if in_process else _in_subprocess(spec, args.threads)

    pairs = (
        (spec, partial(job, spec)) for spec in specs(args.quick, args.methods, parts)
    )
    run_script(SCRIPT, args, argv, results, pairs, "cost")
    report.update_docs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scale in the number of shops: time per epoch, forecast throughput, peak memory.

Usage::

    python benchmarks/scale.py                      # 1k, 2k, 10k, 20k shops
    python benchmarks/scale.py --sizes 1000,2000 --graph-shops 5000
    python benchmarks/scale.py --quick              # toy sizes, seconds

Every size runs in a fresh subprocess, so that its peak resident memory is its
own. A size simulates ``n`` shops of 8 nodes (5 channels, 2 funnel nodes, GMV)
over T = 100 fitted steps plus a 10-step plan, fits
:class:`~sklearn_causalmmm.CausalMMMRegressor` (default configuration,
``max_epochs`` epochs, no validation tail), then forecasts the plan of every
shop (``predict``) and reads every shop's graph (``predict_graph``). The peak
of the fit is the process's peak resident memory from the start of ``fit`` to
its end (``VmHWM`` reset before the call, see ``_common.reset_peak_memory``).
Before the reset, the heap the simulator freed is handed back to the system
(``malloc_trim``), so that the resident memory before the fit is Python, torch
and the input panel, and the fit cannot hide its own allocations in the
simulator's freed pages: what the fit adds (its peak less the memory before
it) is the figure the memory goal is judged on; the peak itself is reported
beside it. A last
subprocess fits on the smallest size and reads the graphs of ``--graph-shops``
new shops in one ``predict_graph`` call.

Writes ``benchmarks/results/scale.json`` and the "Scale" section of
``docs/benchmarks.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import peak_memory, replace_section, reset_peak_memory

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
N_STEPS = 100
PLAN_STEPS = 10
#: Goals of issue 26: epoch time at 10x the shops <= 11x, peak memory <= 1.5x.
TIME_GOAL, MEMORY_GOAL = 11.0, 1.5


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _trim_heap() -> None:
    """Collect garbage and return the freed heap to the system (glibc), so
    that the resident memory is what is alive."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the heap stays as it is
        pass


def _simulate(n_shops: int, seed: int):
    from sklearn_causalmmm.datasets import make_causal_mmm

    return make_causal_mmm(
        n_shops=n_shops,
        n_channels=5,
        n_funnel=2,
        n_steps=N_STEPS + PLAN_STEPS,
        random_state=seed,
    )


def _fit(X, y, context, epochs: int):
    from sklearn_causalmmm import CausalMMMRegressor

    model = CausalMMMRegressor(
        max_epochs=epochs, validation_fraction=0.0, random_state=0
    )
    start = time.perf_counter()
    model.fit(X[..., :N_STEPS], y[:, :N_STEPS], context=context)
    return model, time.perf_counter() - start


def measure_fit(n_shops: int, epochs: int) -> dict:
    """Fit on ``n_shops`` shops; time an epoch, predict and predict_graph."""
    import numpy as np
    import torch

    data = _simulate(n_shops, seed=0)
    # keep the panel only: the peaks below are the package's, with its input
    X, y, context = data.X, data.y, data.context
    del data
    after_data = _peak_mb()
    _trim_heap()
    before_fit = reset_peak_memory()
    model, fit_seconds = _fit(X, y, context, epochs)
    fit_peak = peak_memory()
    epoch_times = [row["dur"] for row in model.net_.history]
    steady = epoch_times[1:] or epoch_times
    reset_peak_memory()
    start = time.perf_counter()
    forecast = model.predict(X[..., N_STEPS:])
    predict_seconds = time.perf_counter() - start
    predict_peak = peak_memory()
    reset_peak_memory()
    start = time.perf_counter()
    graphs = model.predict_graph(X[..., :N_STEPS], y[:, :N_STEPS], context=context)
    graph_seconds = time.perf_counter() - start
    graph_peak = peak_memory()
    return {
        "n_shops": n_shops,
        "epochs": len(epoch_times),
        "seconds_per_epoch": float(np.min(steady)),
        "fit_seconds": fit_seconds,
        "predict_shops_per_second": n_shops / predict_seconds,
        "predict_graph_shops_per_second": n_shops / graph_seconds,
        "forecast_finite": bool(np.isfinite(forecast).all()),
        "graphs_finite": bool(np.isfinite(graphs).all()),
        "data_mb": float(X.nbytes + y.nbytes) / 2**20,
        "peak_rss_after_data_mb": after_data,
        "rss_before_fit_mb": before_fit,
        "peak_rss_fit_mb": fit_peak,
        "added_by_fit_mb": fit_peak - before_fit,
        "peak_rss_predict_mb": predict_peak,
        "peak_rss_predict_graph_mb": graph_peak,
        "peak_rss_mb": _peak_mb(),
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg()[0],
    }


def measure_new_graphs(n_fit: int, n_new: int, epochs: int) -> dict:
    """Fit on ``n_fit`` shops, then read ``n_new`` new shops' graphs in one call."""
    import numpy as np

    fitted = _simulate(n_fit, seed=0)
    model, _ = _fit(fitted.X, fitted.y, fitted.context, epochs)
    del fitted
    new = _simulate(n_new, seed=1)
    after_data = _peak_mb()
    # keep the inputs only, so that the peak below is predict_graph's own
    X, y = new.X[..., :N_STEPS].copy(), new.y[:, :N_STEPS].copy()
    context, data_mb = new.context, float(new.X.nbytes + new.y.nbytes) / 2**20
    del new
    _trim_heap()
    before_call = reset_peak_memory()
    start = time.perf_counter()
    graphs = model.predict_graph(X, y, context=context)
    seconds = time.perf_counter() - start
    call_peak = peak_memory()
    return {
        "n_fit_shops": n_fit,
        "n_new_shops": n_new,
        "predict_graph_seconds": seconds,
        "predict_graph_shops_per_second": n_new / seconds,
        "graphs_finite": bool(np.isfinite(graphs).all()),
        "graphs_mb": graphs.nbytes / 2**20,
        "data_mb": data_mb,
        "peak_rss_after_data_mb": after_data,
        "rss_before_call_mb": before_call,
        "peak_rss_during_call_mb": call_peak,
        "peak_rss_mb": _peak_mb(),
    }


def _in_subprocess(kind: str, *args, timeout: float | None = None) -> dict | None:
    """The measure of a child process, or None when it ran out of ``timeout``."""
    command = [sys.executable, __file__, "--child", json.dumps([kind, *args])]
    try:
        out = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        print(f"{kind} {args}: stopped after {timeout:.0f} s", flush=True)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(
    sizes: list[int],
    graph_shops: int,
    epochs: int,
    quick: bool,
    child_timeout: float | None = None,
) -> dict:
    rows = []
    for n_shops in sizes:
        row = _in_subprocess("fit", n_shops, epochs, timeout=child_timeout)
        if row is None:
            continue  # a size that did not finish is reported missing
        print(json.dumps(row), flush=True)
        rows.append(row)
    by_size = {row["n_shops"]: row for row in rows}
    for row in rows:
        # against a tenth of the shops when it ran, else the smallest size
        base = by_size.get(row["n_shops"] // 10, rows[0])
        if row["n_shops"] % 10:
            base = rows[0]
        row["reference_shops"] = base["n_shops"]
        row["shops_ratio"] = row["n_shops"] / base["n_shops"]
        row["time_ratio"] = row["seconds_per_epoch"] / base["seconds_per_epoch"]
        # the goal is judged on what the fit adds to the process; the ratio
        # of the peaks (which hold Python, torch and the input) is reported too
        row["memory_ratio"] = row["added_by_fit_mb"] / base["added_by_fit_mb"]
        row["peak_memory_ratio"] = row["peak_rss_fit_mb"] / base["peak_rss_fit_mb"]
    graphs = _in_subprocess("graphs", sizes[0], graph_shops, epochs)
    print(json.dumps(graphs), flush=True)
    return {"quick": quick, "epochs": epochs, "fits": rows, "new_graphs": graphs}


def section(result: dict) -> str:
    """The "Scale" section of ``docs/benchmarks.md``."""
    fits, graphs = result["fits"], result["new_graphs"]
    lines = [
        "## Scale",
        "",
        "Produced by `python benchmarks/scale.py` "
        f"({'quick' if result['quick'] else 'full'} run, 2 shared CPU cores, one "
        f"torch thread, 8 nodes, T = {N_STEPS}, default `CausalMMMRegressor` "
        f"without a validation tail, {result['epochs']} epochs, every size in its "
        "own process). Seconds per epoch are the fastest epoch after the first; "
        "throughputs are shops per second of one `predict` call (a "
        f"{PLAN_STEPS}-step plan of every shop) and one `predict_graph` call "
        "(every fitted shop). Memory is resident memory: before the fit (Python, "
        "torch and the simulated panel, once the heap the simulator freed is "
        "returned to the system), the peak from the start of `fit` to its end, "
        "and what the fit added (the peak less the memory before it). Ratios "
        "are against the run with a tenth of the shops: the memory goal is "
        "judged on what the fit added (the fit's own memory, not Python, torch "
        "and the caller's data); the ratio of the peaks is given beside it.",
        "",
        "| shops | s / epoch | time ratio | fit (s) | predict (shops/s) "
        "| predict_graph (shops/s) | before the fit (MB) | peak of the fit (MB) "
        "| added by the fit (MB) | ratio of the added | ratio of the peaks "
        "| load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in fits:
        lines.append(
            f"| {row['n_shops']:,} | {row['seconds_per_epoch']:.1f} | "
            f"{row['time_ratio']:.2f} | {row['fit_seconds']:.0f} | "
            f"{row['predict_shops_per_second']:,.0f} | "
            f"{row['predict_graph_shops_per_second']:,.0f} | "
            f"{row['rss_before_fit_mb']:,.0f} | {row['peak_rss_fit_mb']:,.0f} | "
            f"{row['added_by_fit_mb']:,.0f} | {row['memory_ratio']:.2f} | "
            f"{row['peak_memory_ratio']:.2f} | {row['load_average']:.1f} |"
        )
    lines.append("")
    for row in fits:
        if row["shops_ratio"] != 10:
            continue
        time_ok = row["time_ratio"] <= TIME_GOAL
        memory_ok = row["memory_ratio"] <= MEMORY_GOAL
        lines.append(
            f"Goals at {row['n_shops']:,} shops against {row['reference_shops']:,}: "
            f"epoch time ≤ {TIME_GOAL:g}x: {row['time_ratio']:.2f}x "
            f"({'met' if time_ok else 'not met'}); memory the fit added ≤ "
            f"{MEMORY_GOAL:g}x: {row['memory_ratio']:.2f}x "
            f"({'met' if memory_ok else 'not met'}; the peaks: "
            f"{row['peak_memory_ratio']:.2f}x)."
        )
        lines.append("")
    sizes = {row["n_shops"] for row in fits}
    missing = [n for n in (1000, 2000, 10000, 20000) if n not in sizes]
    if missing:
        lines += [
            "Sizes of the issue not in this run: "
            + ", ".join(f"{n:,}" for n in missing)
            + " (not extrapolated; `python benchmarks/scale.py` runs them all, "
            + "`--child-timeout` gives up on a size that takes longer).",
            "",
        ]
    loads = [row["load_average"] for row in fits]
    lines += [
        f"The 1-minute load average ranged from {min(loads):.1f} to "
        f"{max(loads):.1f} on the 2 cores during the run (other tenants' jobs), "
        "so the time ratios are indicative. Before the fit a process holds "
        "Python and torch and the input panel (the simulator's own peak, "
        "before its freed heap is returned: "
        + ", ".join(
            f"{row['peak_rss_after_data_mb']:,.0f} MB at {row['n_shops']:,}"
            for row in fits
        )
        + " shops). Training builds each shop's scaled series and loss mask "
        "when its batch is read (`PanelDataset`); the target and funnel heads "
        "read the scaled panel chunk by chunk of shops (`ScaledValues`: no "
        "scaled copy of the panel, none per funnel head) and eliminate each "
        "shop's own coefficients chunk by chunk (no design matrix over every "
        "(shop, step) row); the edge bootstrap (`n_interval_replicates` "
        "replicates) resamples and re-reads 256 shops at a time; the input "
        "checks and scales run chunk by chunk; graphs and forecasts are "
        "computed in chunks of shops. What still grows with the shops during "
        "a fit: the float64 array `to_panel` assembles from X and y (freed "
        "once the float32 panel is made), the float32 panel and the residual "
        "panel the network trains on (the target less the head's baseline), "
        "the encoder's pair features `(shops, d, d, features)`, the "
        "per-shop edge gains with their optimizer state, and the edge "
        "probabilities, gains and intervals `(shops, d, d)`.",
    ]
    reference = ([row for row in fits if row["n_shops"] == 2000] or fits[:1])[0]
    fit_peak = reference["peak_rss_fit_mb"]
    call_peak = graphs["peak_rss_during_call_mb"]
    call_added = call_peak - graphs["rss_before_call_mb"]
    fit_added = fit_peak - reference["rss_before_fit_mb"]
    lines += [
        "",
        f"`predict_graph` on {graphs['n_new_shops']:,} new shops in one call "
        f"(model fitted on {graphs['n_fit_shops']:,}): "
        f"{graphs['predict_graph_seconds']:.0f} s "
        f"({graphs['predict_graph_shops_per_second']:,.0f} shops/s). Its process "
        f"held {graphs['rss_before_call_mb']:,.0f} MB with the input panel "
        f"({graphs['data_mb']:,.0f} MB as float64) and peaked at "
        f"{call_peak:,.0f} MB during the call: the call added "
        f"{call_added:,.0f} MB. The fit on "
        f"{reference['n_shops']:,} shops peaked at {fit_peak:,.0f} MB (it added "
        f"{fit_added:,.0f} MB to its "
        f"{reference['rss_before_fit_mb']:,.0f} MB). Goal, the call's peak not "
        f"above the fit's: {'met' if call_peak <= fit_peak else 'not met'}; "
        f"what the call added is "
        f"{'not above' if call_added <= fit_added else 'above'} what the fit "
        "added" + ". A `(n_shops, n_nodes, n_steps)` array is converted and scored "
        "chunk by chunk of shops; what grows with the shops is the input and "
        "the `(n_shops, d, d)` result. A DataFrame is still converted whole.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default=None, help="comma-separated shop counts")
    parser.add_argument("--graph-shops", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--child-timeout",
        type=float,
        default=None,
        help="seconds after which a size is given up (and reported missing)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--docs", type=Path, default=ROOT.parent / "docs" / "benchmarks.md"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.child:
        kind, *rest = json.loads(args.child)
        measure = measure_fit if kind == "fit" else measure_new_graphs
        print(json.dumps(measure(*rest)))
        return 0
    default_sizes = "20,40,200" if args.quick else "1000,2000,10000,20000"
    sizes = [int(n) for n in (args.sizes or default_sizes).split(",")]
    graph_shops = args.graph_shops or (400 if args.quick else 50_000)
    result = run(sizes, graph_shops, args.epochs, args.quick, args.child_timeout)
    output = args.output or (
        RESULTS / "quick" / "scale.json" if args.quick else RESULTS / "scale.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    if not args.quick:
        replace_section(args.docs, "## Scale", section(result))
    print(section(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

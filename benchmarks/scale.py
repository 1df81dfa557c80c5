"""Scale in the number of shops: time per epoch, forecast throughput, peak memory.

Usage::

    python benchmarks/scale.py                      # 1k, 2k, 10k, 20k shops
    python benchmarks/scale.py --sizes 1000,2000 --graph-shops 5000
    python benchmarks/scale.py --quick              # toy sizes, seconds

Every size runs in a fresh subprocess, so that its peak resident memory
(``ru_maxrss``) is its own. A size simulates ``n`` shops of 8 nodes (5 channels,
2 funnel nodes, GMV) over T = 100 fitted steps plus a 10-step plan, fits
:class:`~sklearn_causalmmm.CausalMMMRegressor` (default configuration,
``max_epochs`` epochs, no validation tail), then forecasts the plan of every
shop (``predict``) and reads every shop's graph (``predict_graph``). A last
subprocess fits on the smallest size and reads the graphs of ``--graph-shops``
new shops in one ``predict_graph`` call.

Writes ``benchmarks/results/scale.json`` and the "Scale" section of
``docs/benchmarks.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import gc
import json
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


def _simulate(n_shops: int, seed: int):
    from sklearn_causalmmm.datasets import make_causal_mmm

    return make_causal_mmm(
        n_shops=n_shops,
        n_channels=5,
        n_funnel=2,
        n_steps=N_STEPS + PLAN_STEPS,
        random_state=seed,
    )


def _fit(data, epochs: int):
    from sklearn_causalmmm import CausalMMMRegressor

    model = CausalMMMRegressor(
        max_epochs=epochs, validation_fraction=0.0, random_state=0
    )
    start = time.perf_counter()
    model.fit(data.X[..., :N_STEPS], data.y[:, :N_STEPS], context=data.context)
    return model, time.perf_counter() - start


def measure_fit(n_shops: int, epochs: int) -> dict:
    """Fit on ``n_shops`` shops; time an epoch, predict and predict_graph."""
    import numpy as np
    import torch

    data = _simulate(n_shops, seed=0)
    after_data = _peak_mb()
    model, fit_seconds = _fit(data, epochs)
    epoch_times = [row["dur"] for row in model.net_.history]
    steady = epoch_times[1:] or epoch_times
    start = time.perf_counter()
    forecast = model.predict(data.X[..., N_STEPS:])
    predict_seconds = time.perf_counter() - start
    start = time.perf_counter()
    graphs = model.predict_graph(
        data.X[..., :N_STEPS], data.y[:, :N_STEPS], context=data.context
    )
    graph_seconds = time.perf_counter() - start
    return {
        "n_shops": n_shops,
        "epochs": len(epoch_times),
        "seconds_per_epoch": float(np.min(steady)),
        "fit_seconds": fit_seconds,
        "predict_shops_per_second": n_shops / predict_seconds,
        "predict_graph_shops_per_second": n_shops / graph_seconds,
        "forecast_finite": bool(np.isfinite(forecast).all()),
        "graphs_finite": bool(np.isfinite(graphs).all()),
        "data_mb": float(data.X.nbytes + data.y.nbytes) / 2**20,
        "peak_rss_after_data_mb": after_data,
        "peak_rss_mb": _peak_mb(),
        "torch_threads": torch.get_num_threads(),
    }


def measure_new_graphs(n_fit: int, n_new: int, epochs: int) -> dict:
    """Fit on ``n_fit`` shops, then read ``n_new`` new shops' graphs in one call."""
    import numpy as np

    model, _ = _fit(_simulate(n_fit, seed=0), epochs)
    new = _simulate(n_new, seed=1)
    after_data = _peak_mb()
    # keep the inputs only, so that the peak below is predict_graph's own
    X, y = new.X[..., :N_STEPS].copy(), new.y[:, :N_STEPS].copy()
    context, data_mb = new.context, float(new.X.nbytes + new.y.nbytes) / 2**20
    del new
    gc.collect()
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


def _in_subprocess(kind: str, *args) -> dict:
    command = [sys.executable, __file__, "--child", json.dumps([kind, *args])]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes: list[int], graph_shops: int, epochs: int, quick: bool) -> dict:
    rows = []
    for n_shops in sizes:
        row = _in_subprocess("fit", n_shops, epochs)
        print(json.dumps(row), flush=True)
        rows.append(row)
    first = rows[0]
    for row in rows:
        row["shops_ratio"] = row["n_shops"] / first["n_shops"]
        row["time_ratio"] = row["seconds_per_epoch"] / first["seconds_per_epoch"]
        row["memory_ratio"] = row["peak_rss_mb"] / first["peak_rss_mb"]
    graphs = _in_subprocess("graphs", sizes[0], graph_shops, epochs)
    print(json.dumps(graphs), flush=True)
    return {"quick": quick, "epochs": epochs, "fits": rows, "new_graphs": graphs}


def section(result: dict) -> str:
    """The "Scale" section of ``docs/benchmarks.md``."""
    fits, graphs = result["fits"], result["new_graphs"]
    first = fits[0]
    lines = [
        "## Scale",
        "",
        "Produced by `python benchmarks/scale.py` "
        f"({'quick' if result['quick'] else 'full'} run, 2 shared CPU cores, one "
        f"torch thread, 8 nodes, T = {N_STEPS}, default `CausalMMMRegressor`, "
        f"{result['epochs']} epochs, every size in its own process). Seconds "
        "per epoch are the fastest epoch after the first; throughputs are shops "
        f"per second of one `predict` call (a {PLAN_STEPS}-step plan of every "
        "shop) and one `predict_graph` call (every fitted shop).",
        "",
        "| shops | s / epoch | time ratio | predict (shops/s) "
        "| predict_graph (shops/s) | fit (s) | memory after the data (MB) "
        "| peak memory (MB) | memory ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in fits:
        lines.append(
            f"| {row['n_shops']:,} | {row['seconds_per_epoch']:.1f} | "
            f"{row['time_ratio']:.2f} | {row['predict_shops_per_second']:,.0f} | "
            f"{row['predict_graph_shops_per_second']:,.0f} | "
            f"{row['fit_seconds']:.0f} | {row['peak_rss_after_data_mb']:,.0f} | "
            f"{row['peak_rss_mb']:,.0f} | {row['memory_ratio']:.2f} |"
        )
    tenfold = [row for row in fits if row["n_shops"] == 10 * first["n_shops"]]
    lines.append("")
    if tenfold:
        row = tenfold[0]
        time_ok = row["time_ratio"] <= TIME_GOAL
        memory_ok = row["memory_ratio"] <= MEMORY_GOAL
        lines.append(
            f"Goals at {row['n_shops']:,} shops against {first['n_shops']:,}: "
            f"epoch time ≤ {TIME_GOAL:g}x: {row['time_ratio']:.2f}x "
            f"({'met' if time_ok else 'not met'}); peak memory ≤ "
            f"{MEMORY_GOAL:g}x: {row['memory_ratio']:.2f}x "
            f"({'met' if memory_ok else 'not met'})."
        )
    lines += [
        "",
        "Sizes are the run's `--sizes`. The issue's 2k/20k/50k shops did not "
        "fit the time budget of the shared 2-core machine (a 2,000-shop fit "
        "took minutes); `python benchmarks/scale.py --sizes 2000,20000` runs "
        "them. Other tenants' load varied during the run, so the time ratios "
        "are indicative. The fit's memory grows with the shops through the "
        "target head: its sparse least squares over every (shop, step) row "
        "(about two hundred non-zeros a row, copied inside "
        "`scipy.optimize.lsq_linear`) is where the fit peaks; training itself "
        "reads mini-batches, and forecasts run in chunks of shops.",
    ]
    largest = max(row["peak_rss_mb"] for row in fits)
    lines += [
        "",
        f"`predict_graph` on {graphs['n_new_shops']:,} new shops in one call "
        f"(model fitted on {graphs['n_fit_shops']:,}): "
        f"{graphs['predict_graph_seconds']:.0f} s "
        f"({graphs['predict_graph_shops_per_second']:,.0f} shops/s). Its process "
        f"held {graphs['rss_before_call_mb']:,.0f} MB with the input panel "
        f"({graphs['data_mb']:,.0f} MB as float64) and peaked at "
        f"{graphs['peak_rss_during_call_mb']:,.0f} MB during the call (the "
        f"largest fit above peaked at {largest:,.0f} MB). The network reads "
        "shops in chunks of 64; what grows with the shops is the panel "
        "conversion (a float64 and a float32 copy of the input, and the "
        "scaled values) and the `(n_shops, d, d)` result.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default=None, help="comma-separated shop counts")
    parser.add_argument("--graph-shops", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=2)
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
    result = run(sizes, graph_shops, args.epochs, args.quick)
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

"""Data-parallel training: time per epoch with 1 and more torchrun processes.

Usage::

    python benchmarks/ddp.py                         # 1,000 shops, 1 and 2 processes
    python benchmarks/ddp.py --shops 4000 --processes 1,2,4
    python benchmarks/ddp.py --quick                 # toy sizes, seconds

Each row fits :class:`~sklearn_causalmmm.CausalGraphDiscoverer` (``hidden``,
``batch_size`` and epochs below, no validation tail) on ``--shops`` simulated
shops of 8 nodes over 100 steps: one process alone, or ``n`` processes
launched by ``torchrun --standalone`` (gloo, one thread each), which train
data-parallel (docs/reliability.md). It records, per process, the wall and
CPU seconds of each training epoch (the part that is divided) and of the
whole fit, and the machine's load average: on a machine whose cores are busy
with other work, processes wait for a core and wall time does not fall.

Writes ``benchmarks/results/ddp.json`` (``--quick``: ``results/quick/``).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def measure(n_shops: int, epochs: int, hidden: int, batch_size: int) -> dict:
    """One process's figures (run inside each torchrun process, or alone)."""
    import torch.distributed as dist

    from sklearn_causalmmm import CausalGraphDiscoverer
    from sklearn_causalmmm._causalmmm.training import PanelNet
    from sklearn_causalmmm.datasets import make_causal_mmm

    launched = "RANK" in os.environ
    if launched:
        dist.init_process_group("gloo")
    epoch_cpu = []
    run_single_epoch = PanelNet.run_single_epoch

    def timed(net, iterator, training, *args, **kwargs):
        start = time.process_time()
        result = run_single_epoch(net, iterator, training, *args, **kwargs)
        if training:
            epoch_cpu.append(time.process_time() - start)
        return result

    PanelNet.run_single_epoch = timed  # the skorch hook every epoch goes through
    data = make_causal_mmm(
        n_shops=n_shops,
        n_channels=5,
        n_funnel=2,
        n_steps=100,
        compute_contributions=False,
        random_state=0,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    model = CausalGraphDiscoverer(
        hidden=hidden, max_epochs=epochs, batch_size=batch_size, random_state=0
    ).fit(data.X, context=data.context)
    row = {
        "rank": dist.get_rank() if launched else 0,
        "fit_wall_s": time.perf_counter() - wall,
        "fit_cpu_s": time.process_time() - cpu,
        "epoch_wall_s": [r["dur"] for r in model.net_.history],
        "epoch_cpu_s": epoch_cpu,
    }
    if launched:
        dist.destroy_process_group()
    return row


def run(n_processes: int, args: argparse.Namespace) -> dict:
    settings = [
        str(args.shops),
        str(args.epochs),
        str(args.hidden),
        str(args.batch_size),
    ]
    child = [__file__, "--child", *settings]
    if n_processes > 1:
        child = [
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(n_processes),
            *child,
        ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TORCH_CPP_LOG_LEVEL": "ERROR",
    }
    load = os.getloadavg()[0]
    output = subprocess.run(
        [sys.executable, *child],
        env=env,
        capture_output=True,
        text=True,
        timeout=args.timeout,
        check=True,
    ).stdout
    ranks = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {
        "processes": n_processes,
        "load_average_1min": load,
        # the first epoch pays for warming up the allocator: left out
        "epoch_wall_s": statistics.median(
            x for r in ranks for x in r["epoch_wall_s"][1:] or r["epoch_wall_s"]
        ),
        "epoch_cpu_s_per_process": statistics.median(
            x for r in ranks for x in r["epoch_cpu_s"][1:] or r["epoch_cpu_s"]
        ),
        "fit_wall_s": max(r["fit_wall_s"] for r in ranks),
        "fit_cpu_s_per_process": statistics.mean(r["fit_cpu_s"] for r in ranks),
        "ranks": ranks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(*args.child)), flush=True)
        return 0
    if args.quick:
        args.shops, args.epochs, args.hidden, args.batch_size = 32, 2, 8, 8
    rows = [run(int(n), args) for n in args.processes.split(",")]
    for row in rows:
        print(
            f"{row['processes']} process(es): {row['epoch_wall_s']:.2f} s wall and "
            f"{row['epoch_cpu_s_per_process']:.2f} s CPU per process per epoch; "
            f"fit {row['fit_wall_s']:.1f} s (load average "
            f"{row['load_average_1min']:.1f}, {os.cpu_count()} cores)"
        )
    result = {
        "settings": {
            "shops": args.shops,
            "nodes": 8,
            "steps": 100,
            "epochs": args.epochs,
            "hidden": args.hidden,
            "batch_size": args.batch_size,
            "cores": os.cpu_count(),
        },
        "rows": rows,
    }
    folder = ROOT / "results" / ("quick" if args.quick else "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ddp.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

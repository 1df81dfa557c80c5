"""Training cost of CausalMMM: seconds per shop-epoch, scaling in shops, peak memory.

Usage::

    python benchmarks/speed.py            # full run (a few minutes on 2 cores)
    python benchmarks/speed.py --quick    # toy sizes, seconds

Writes ``benchmarks/results/speed.json`` and the "Speed" section of
``docs/benchmarks.md``. Every measurement runs in a fresh subprocess so that its
peak resident memory is its own.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import AUTHORS_SECONDS_PER_SHOP_EPOCH, replace_section

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"

#: Shops per batch tried at the authors' configuration (8 is the default;
#: the authors' code trains one shop at a time).
PAPER_BATCH_SIZES = (8, 32)


def measure(
    config: str, n_shops: int, n_steps: int, epochs: int, batch_size: int
) -> dict:
    """Fit once and report time per epoch and peak memory.

    The time per epoch is the fastest epoch after the first (which pays for
    one-time set-up): on a shared machine, other tenants only ever add time.
    """
    import numpy as np
    import torch

    from sklearn_causalmmm import PAPER_CONFIG, CausalGraphDiscoverer
    from sklearn_causalmmm.datasets import make_causal_mmm

    data = make_causal_mmm(
        n_shops=n_shops, n_channels=5, n_funnel=2, n_steps=n_steps, random_state=0
    )
    X = np.concatenate([data.X, data.y[:, None]], axis=1)
    params = dict(PAPER_CONFIG) if config == "paper" else {}
    params.update(
        max_epochs=epochs,
        validation_fraction=0.0,
        batch_size=batch_size,
        random_state=0,
    )
    model = CausalGraphDiscoverer(**params)
    batch_times = _time_batches()
    start = time.perf_counter()
    model.fit(X, context=data.context)
    total = time.perf_counter() - start
    epoch_times = [row["dur"] for row in model.net_.history]
    steady = epoch_times[1:] or epoch_times
    per_epoch = float(np.min(steady))
    n_batches = -(-n_shops // batch_size)
    return {
        "config": config,
        "n_shops": n_shops,
        "n_steps": n_steps,
        "hidden": params.get("hidden", model.hidden),
        "batch_size": model.batch_size,
        "epochs": epochs,
        "fit_seconds": total,
        "seconds_per_epoch": per_epoch,
        "seconds_per_shop_epoch": per_epoch / n_shops,
        # Bursts of other tenants' load hit whole epochs; the median batch
        # is immune to them, and an epoch is n_batches equal batches.
        "median_batch_seconds": float(np.median(batch_times)),
        "median_batch_epoch_seconds": float(np.median(batch_times)) * n_batches,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_threads": torch.get_num_threads(),
    }


def _time_batches() -> list[float]:
    """Durations of every training batch of the next fit, in seconds.

    The estimators build their skorch net internally; the benchmark adds a
    timing callback by wrapping the builder in this (child) process.
    """
    from _package import NET_BUILDER_MODULE
    from skorch.callbacks import Callback

    estimators = importlib.import_module(NET_BUILDER_MODULE)

    durations: list[float] = []

    class BatchTimer(Callback):
        def on_batch_begin(self, net, **kwargs):
            self.started = time.perf_counter()

        def on_batch_end(self, net, **kwargs):
            durations.append(time.perf_counter() - self.started)

    build = estimators.build_net

    def build_with_timer(*args, **kwargs):
        net = build(*args, **kwargs)
        net.callbacks = [*net.callbacks, ("batch_timer", BatchTimer())]
        return net

    estimators.build_net = build_with_timer
    return durations


def _in_subprocess(
    config: str, n_shops: int, n_steps: int, epochs: int, batch_size: int = 8
) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        json.dumps([config, n_shops, n_steps, epochs, batch_size]),
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict:
    base_shops, epochs = (16, 2) if quick else (240, 4)
    paper = [
        _in_subprocess("paper", base_shops, 100, epochs, batch_size)
        for batch_size in PAPER_BATCH_SIZES
    ]
    scaling = [
        _in_subprocess("default", base_shops * factor, 100, epochs)
        for factor in (1, 2, 4)
    ]
    for row in scaling:
        row["time_ratio"] = row["seconds_per_epoch"] / scaling[0]["seconds_per_epoch"]
        row["median_batch_time_ratio"] = (
            row["median_batch_epoch_seconds"] / scaling[0]["median_batch_epoch_seconds"]
        )
    best = min(row["seconds_per_shop_epoch"] for row in paper)
    return {
        "quick": quick,
        "paper_config": paper,
        "speedup_vs_authors": AUTHORS_SECONDS_PER_SHOP_EPOCH / best,
        "scaling": scaling,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS / "speed.json")
    parser.add_argument(
        "--docs", type=Path, default=ROOT.parent / "docs" / "benchmarks.md"
    )
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(*json.loads(args.child))))
        return 0
    result = run(args.quick)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    import report

    replace_section(args.docs, "## Speed", report.speed_section(result))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-edge intervals of the discoverer, scored against the true graphs.

For a few families of :func:`~sklearn_causalmmm.datasets.make_discovery_zoo`
(and the project's own simulator, ``sim1``), one panel is simulated and
``CausalGraphDiscoverer()`` is fitted with its defaults (``random_state``
set): 80 % intervals from 50 block-bootstrap replicates. Per family:

- ``true lower > prior``: the share of true edges whose lower bound is above
  the prior edge probability (0.2): the interval says "more likely than a
  priori";
- ``absent upper < prior``: the share of absent edges whose upper bound is
  below it;
- ``separated pairs``: within a shop, the share of (true, absent) edge pairs
  whose intervals do not overlap, true above;
- the mean width of true and absent edges' intervals, and whether every
  interval contains its point estimate.

``--steps`` fits each family at several series lengths (the same seed): more
data should give narrower intervals. ``--timing`` times the default fit of
300 shops x 8 nodes x 100 steps (``released_arrays``) with and without the
intervals.

Usage::

    python benchmarks/edge_intervals.py                       # defaults below
    python benchmarks/edge_intervals.py --families signed --steps 75,300
    python benchmarks/edge_intervals.py --timing
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from _common import (
    DOCS,
    RESULTS,
    data_config,
    discovery_panel,
    machine,
    replace_section,
    set_threads,
    simulate,
)

RESULTS_FILE = RESULTS / "edge_intervals.json"
HEADING = "## Edge intervals"


def load(family: str, n_shops: int, n_steps: int | None, seed: int):
    """``(X, adjacency)`` of one family (``sim1``: the project simulator)."""
    from sklearn_causalmmm.datasets import make_discovery_zoo

    if family == "sim1":
        changes = {"n_shops": n_shops}
        if n_steps is not None:
            changes["n_steps"] = n_steps
        data = simulate(data_config("sim1", **changes), seed)
        return discovery_panel(data), data.adjacency
    data = make_discovery_zoo(
        family, n_shops=n_shops, n_steps=n_steps, random_state=seed
    )
    return data.X, data.adjacency


def interval_scores(truth, point, intervals, prior: float) -> dict:
    """The figures of one fit (see the module docstring)."""
    lower, upper = intervals
    off = ~np.eye(truth.shape[-1], dtype=bool)
    present = (truth == 1) & off
    absent = (truth == 0) & off
    pairs = [
        (lower[s][present[s]][:, None] > upper[s][absent[s]][None, :]).mean()
        for s in range(len(truth))
        if present[s].any() and absent[s].any()
    ]
    width = upper - lower
    return {
        "true_lower_above_prior": float((lower[present] > prior).mean()),
        "absent_upper_below_prior": float((upper[absent] < prior).mean()),
        "separated_pairs": float(np.mean(pairs)),
        "width_true": float(width[present].mean()),
        "width_absent": float(width[absent].mean()),
        "contains_point": bool(((lower <= point) & (point <= upper)).all()),
    }


def run(family: str, n_shops: int, n_steps: int | None, seed: int) -> dict:
    from sklearn_causalmmm import CausalGraphDiscoverer
    from sklearn_causalmmm.metrics import edge_auroc

    X, truth = load(family, n_shops, n_steps, seed)
    start = time.perf_counter()
    model = CausalGraphDiscoverer(random_state=seed).fit(X)
    seconds = time.perf_counter() - start
    prior = model.get_params()["edge_prior"]
    return {
        "family": family,
        "seed": seed,
        "shape": list(X.shape),
        "graph_source": model.graph_source_,
        "edge_auroc": float(edge_auroc(truth, model.edge_probabilities_)),
        "fit_seconds": seconds,
        **interval_scores(
            truth, model.edge_probabilities_, model.edge_intervals_, prior
        ),
    }


def time_default_fit(seed: int = 0) -> dict:
    """Seconds of the default fit of 300 x 8 x 100, with and without intervals."""
    from sklearn_causalmmm import CausalGraphDiscoverer

    X, _ = load("released_arrays", 300, None, seed)
    out = {"shape": list(X.shape)}
    for replicates in (0, 50):
        start, cpu = time.perf_counter(), time.process_time()
        model = CausalGraphDiscoverer(
            n_interval_replicates=replicates, random_state=seed
        ).fit(X)
        out[f"seconds_{replicates}"] = time.perf_counter() - start
        # the two fits train identically (same seed): on a shared machine the
        # difference of their CPU times is the intervals' cost, the wall times
        # also carry the other tenants' load
        out[f"cpu_seconds_{replicates}"] = time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    model.predict_graph_interval(X)
    out["predict_graph_interval_seconds"] = time.perf_counter() - start
    out["predict_graph_interval_cpu_seconds"] = time.process_time() - cpu
    out["load_average"] = list(os.getloadavg())
    return out


def render(results: dict) -> str:
    lines = [
        HEADING,
        "",
        "How the discoverer's 80 % edge intervals (`edge_intervals_`, defaults: "
        "50 block-bootstrap replicates) separate true from absent edges, on "
        "panels with known graphs. Written by `benchmarks/edge_intervals.py` "
        f"({results['n_shops']} shops per panel, seed 0, {results['machine']}). "
        "`true lo > prior`: share of true edges whose lower bound exceeds the "
        "prior edge probability (0.2); `absent hi < prior`: share of absent "
        "edges whose upper bound is below it; `separated`: within a shop, "
        "share of (true, absent) pairs whose intervals do not overlap; widths "
        "are means over true and absent edges; `source` is `graph_source_`.",
        "",
        "| family | shops x nodes x steps | source | AUROC | true lo > prior "
        "| absent hi < prior | separated | width true | width absent "
        "| contains point | fit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = list(dict.fromkeys(row["family"] for row in results["rows"]))
    rows = sorted(
        results["rows"], key=lambda row: (order.index(row["family"]), row["shape"])
    )
    for row in rows:
        lines.append(
            f"| {row['family']} | {' x '.join(map(str, row['shape']))} "
            f"| {row['graph_source']} | {row['edge_auroc']:.3f} "
            f"| {row['true_lower_above_prior']:.3f} "
            f"| {row['absent_upper_below_prior']:.3f} "
            f"| {row['separated_pairs']:.3f} | {row['width_true']:.3f} "
            f"| {row['width_absent']:.3f} "
            f"| {'yes' if row['contains_point'] else '**no**'} "
            f"| {row['fit_seconds']:.0f} |"
        )
    timing = results.get("timing")
    if timing and "cpu_seconds_50" in timing:
        lines += [
            "",
            f"Default fit of {' x '.join(map(str, timing['shape']))} "
            f"(`released_arrays`, seed 0): CPU time {timing['cpu_seconds_50']:.0f} s "
            f"with the intervals, {timing['cpu_seconds_0']:.0f} s with "
            "`n_interval_replicates=0` (the same training: the difference is "
            "the intervals' cost); wall time "
            f"{timing['seconds_50']:.0f} s and {timing['seconds_0']:.0f} s "
            "on the shared machine (load average "
            f"{timing['load_average'][0]:.1f} at the end). "
            "`predict_graph_interval` on the same 300 shops: "
            f"{timing['predict_graph_interval_cpu_seconds']:.1f} s CPU.",
        ]
    runs = results.get("runs", [])
    if runs:
        lines += ["", "Commands (wall time; 1-minute load average at the end):", ""]
        lines += [
            f"- `{run['command']}`: {run['seconds'] / 60:.1f} min"
            + (
                ""
                if run.get("load_average") is None
                else f"; load {run['load_average'][0]:.1f}"
            )
            for run in runs
        ]
    if results.get("notes"):
        lines += ["", results["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="sim1,signed,own_graph")
    parser.add_argument("--shops", type=int, default=30)
    parser.add_argument(
        "--steps", default="", help="comma-separated lengths (default: the family's)"
    )
    parser.add_argument("--output", default=str(RESULTS_FILE))
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--notes", default=None, help="text shown under the table")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    output = Path(args.output)
    previous = json.loads(output.read_text()) if output.exists() else {}
    lengths = [int(n) for n in args.steps.split(",") if n] or [None]
    started = time.perf_counter()
    results = {
        "n_shops": args.shops,
        "machine": machine(),
        "rows": previous.get("rows", [])
        if previous.get("n_shops") == args.shops
        else [],
        "timing": previous.get("timing"),
        "notes": args.notes or previous.get("notes"),
        "runs": previous.get("runs", []),
    }
    for family in [f for f in args.families.split(",") if f]:
        for n_steps in lengths:
            row = run(family, args.shops, n_steps, 0)
            # a rerun of a panel (family and shape) replaces its row
            results["rows"] = [
                old
                for old in results["rows"]
                if (old["family"], old["shape"]) != (row["family"], row["shape"])
            ] + [row]
            print(json.dumps(row), flush=True)
            output.write_text(json.dumps(results, indent=1) + "\n")
    if args.timing:
        results["timing"] = time_default_fit()
        print("timing", results["timing"], flush=True)
    command = ["python", "benchmarks/edge_intervals.py", *(argv or sys.argv[1:])]
    results["runs"].append(
        {
            "command": " ".join(command),
            "seconds": time.perf_counter() - started,
            "load_average": list(os.getloadavg()),
        }
    )
    output.write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_docs:
        replace_section(DOCS, HEADING, render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

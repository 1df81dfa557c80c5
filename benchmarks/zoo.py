"""Causal discovery on the zoo: families the discoverer was not built on.

For every family of :data:`~sklearn_causalmmm.datasets.ZOO_FAMILIES` (and the
project's own Sim-1-like simulator, row ``sim1``) one panel is simulated and
scored, per shop, by edge AUROC:

``CausalMMM``
    ``CausalGraphDiscoverer()`` with its defaults only (``random_state`` set);
    from the same fit, its encoder's own posteriors (``encoder``) and the
    graph-type pooling at every shop evidence weight of
    :data:`POOLING_WEIGHTS` (``pooling``), which is what justifies, or not, the
    default weight on the whole zoo.
``Linear Granger``
    ``LinearGrangerDiscoverer()``: one VAR(5) per shop, F-tests.
``Pooled Granger``
    The reference of issue 23: the per-shop Granger statistic (``-log10 p``)
    averaged over all shops, the same score for every shop.
``NRI``, ``GVAR``, ``NGC-cMLP``
    With ``--methods``; their defaults.

The goals: on every family CausalMMM at least both references; mean over the
zoo at least 0.95; ``sim1`` at least 0.99. ``--timing`` also times the
default fit of 300 shops x 8 nodes x 100 steps (``released_arrays``, its
default size).

Usage::

    python benchmarks/zoo.py --shops 40            # every family, 1 seed
    python benchmarks/zoo.py --families signed,dense --seeds 3
    python benchmarks/zoo.py --timing              # the 300-shop default fit
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _common import (
    DISCOVERERS,
    DOCS,
    POOLING_WEIGHTS,
    RESULTS,
    data_config,
    discovery_panel,
    machine,
    replace_section,
    set_threads,
    simulate,
)
from _package import flatten_off_diagonal, unflatten_off_diagonal

RESULTS_FILE = RESULTS / "zoo.json"
HEADING = "## Discovery zoo"
REFERENCES = ("Linear Granger", "Pooled Granger")
OPTIONAL = ("NRI", "GVAR", "NGC-cMLP")


def load(family: str, n_shops: int, seed: int):
    """``(X, adjacency)`` of one family (``sim1``: the project simulator)."""
    from sklearn_causalmmm.datasets import make_discovery_zoo

    if family == "sim1":
        data = simulate(data_config("sim1", n_shops=n_shops), seed)
        return discovery_panel(data), data.adjacency
    data = make_discovery_zoo(family, n_shops=n_shops, random_state=seed)
    return data.X, data.adjacency


def _auroc(truth, scores) -> float:
    from sklearn_causalmmm.metrics import edge_auroc

    return float(edge_auroc(truth, scores))


def _pooling_scores(model, truth) -> dict:
    """AUROC of the pooled graphs at every shop evidence weight, one fit."""
    import copy

    pooling = model.pooling_
    if pooling is None or not pooling.active_:
        return {}
    rows = flatten_off_diagonal(model.encoder_edge_probabilities_)
    out = {}
    for weight in POOLING_WEIGHTS:
        mixture = copy.copy(pooling.mixture_)
        mixture.shop_evidence_weight = weight
        out[str(weight)] = _auroc(
            truth, unflatten_off_diagonal(mixture.posterior(rows))
        )
    return out


def _granger_scores(model, X, truth) -> dict:
    """AUROC of every Granger estimate the discoverer computed, whole series."""
    from sklearn_causalmmm._causalmmm.selection import GRANGER_SOURCES

    panel = model._to_panel(X, None, None)
    evidence = model.granger_evidence_
    return {
        source: _auroc(truth, evidence.graphs(panel.values, panel.mask, source))
        for source in GRANGER_SOURCES
    }


def run_family(
    family: str,
    n_shops: int,
    seed: int,
    methods: list[str],
    baseline_shops: int | None = None,
    references: bool = True,
) -> list:
    """Rows of one family and seed.

    The optional neural baselines fit the first ``baseline_shops`` shops of
    the same panel (all with None) and are scored on them; without
    ``references`` only those baselines run.
    """
    X, truth = load(family, n_shops, seed)
    base = {"family": family, "seed": seed, "shape": list(X.shape)}
    rows = _discoverer_and_references(X, truth, base, seed) if references else []
    X, truth = X[:baseline_shops], truth[:baseline_shops]
    for method in DISCOVERERS:
        if method.name not in methods or method.name not in OPTIONAL:
            continue
        start = time.perf_counter()
        scores = method.build(False, seed).fit(X).edge_probabilities_
        rows.append(
            {
                **base,
                "shape": list(X.shape),
                "method": method.name,
                "edge_auroc": _auroc(truth, scores),
                "fit_seconds": time.perf_counter() - start,
            }
        )
    return rows


def _discoverer_and_references(X, truth, base: dict, seed: int) -> list:
    from sklearn_causalmmm import CausalGraphDiscoverer
    from sklearn_causalmmm.baselines import LinearGrangerDiscoverer

    rows = []
    start = time.perf_counter()
    model = CausalGraphDiscoverer(random_state=seed).fit(X)
    rows.append(
        {
            **base,
            "method": "CausalMMM",
            "edge_auroc": _auroc(truth, model.edge_probabilities_),
            "encoder_auroc": _auroc(truth, model.encoder_edge_probabilities_),
            "pooling": _pooling_scores(model, truth),
            "pooling_active": bool(model.pooling_.active_),
            "graph_source": model.graph_source_,
            "graph_source_errors": model.graph_source_errors_,
            "granger": _granger_scores(model, X, truth),
            "n_graph_types": int(model.n_graph_types_),
            "n_lags": int(model.n_lags_),
            "fit_seconds": time.perf_counter() - start,
        }
    )
    start = time.perf_counter()
    granger = LinearGrangerDiscoverer().fit(X).edge_probabilities_
    seconds = time.perf_counter() - start
    rows.append(
        {
            **base,
            "method": "Linear Granger",
            "edge_auroc": _auroc(truth, granger),
            "fit_seconds": seconds,
        }
    )
    pooled = np.broadcast_to(granger.mean(axis=0), granger.shape)
    rows.append(
        {
            **base,
            "method": "Pooled Granger",
            "edge_auroc": _auroc(truth, pooled),
            "fit_seconds": seconds,
        }
    )
    return rows


def time_default_fit(seed: int = 0) -> dict:
    """Seconds of the default fit of 300 shops x 8 nodes x 100 steps."""
    from sklearn_causalmmm import CausalGraphDiscoverer

    X, truth = load("released_arrays", 300, seed)
    start = time.perf_counter()
    model = CausalGraphDiscoverer(random_state=seed).fit(X)
    seconds = time.perf_counter() - start
    return {
        "shape": list(X.shape),
        "fit_seconds": seconds,
        "edge_auroc": _auroc(truth, model.edge_probabilities_),
        "n_lags": int(model.n_lags_),
        "epochs": len(model.history_),
    }


def _summary(rows: list) -> dict:
    """family -> method -> mean AUROC over seeds (and the number of seeds)."""
    table: dict = {}
    for row in rows:
        cell = table.setdefault(row["family"], {}).setdefault(row["method"], [])
        cell.append(row["edge_auroc"])
    return {
        family: {m: (float(np.mean(v)), len(v)) for m, v in methods.items()}
        for family, methods in table.items()
    }


def render(results: dict) -> str:
    summary = _summary(results["rows"])
    methods = ["CausalMMM", *REFERENCES, *OPTIONAL]
    present = [m for m in methods if any(m in row for row in summary.values())]
    lines = [
        HEADING,
        "",
        "Per-shop edge AUROC on every family of `make_discovery_zoo` (defaults "
        "only, no family-specific setting) and on the project simulator "
        "(`sim1`). Written by `benchmarks/zoo.py`; "
        f"{results['n_shops']} shops per family, seeds: "
        f"{results['seeds']} ({results['machine']}). `>= refs` is whether "
        "CausalMMM reaches both references (Linear Granger per shop, and the "
        "Granger statistic averaged over all shops). `encoder` is the "
        "discoverer's encoder before pooling, from the same fit; `source` the "
        "graph the discoverer reported, chosen by held-out one-step error "
        "(`encoder+partial_granger`: the encoder pooled with its graph types, "
        "which predicted held-out steps better, pooled with the Granger graph; "
        "`partial_granger`: the shops' Granger statistics partly pooled by "
        "their heterogeneity); the next column scores the discoverer's three "
        "Granger estimates (lags chosen from the data).",
        "",
        "| family | "
        + " | ".join(present)
        + " | encoder | source | shop / pooled / partial Granger | lags | >= refs |",
        "|---|" + "---|" * (len(present) + 5),
    ]
    extra = {}
    for row in results["rows"]:
        if row["method"] == "CausalMMM":
            extra.setdefault(row["family"], []).append(row)
    met = []
    for family, cells in summary.items():
        values = [f"{cells[m][0]:.3f}" if m in cells else "-" for m in present]
        ours = cells["CausalMMM"][0]
        refs = max(cells[m][0] for m in REFERENCES)
        met.append(ours >= refs)
        fits = extra[family]
        encoder = np.mean([r["encoder_auroc"] for r in fits])
        lags = sorted({r["n_lags"] for r in fits})
        sources = ",".join(sorted({r.get("graph_source", "-") for r in fits}))
        granger = " / ".join(
            f"{np.mean([r['granger'][k] for r in fits]):.3f}"
            if all("granger" in r for r in fits)
            else "-"
            for k in ("shop_granger", "pooled_granger", "partial_granger")
        )
        lines.append(
            f"| {family} | "
            + " | ".join(values)
            + f" | {encoder:.3f} | {sources} | {granger} | "
            + f"{','.join(map(str, lags))} | "
            + ("yes" if ours >= refs else "**no**")
            + " |"
        )
    zoo = [c["CausalMMM"][0] for f, c in summary.items() if f != "sim1"]
    refs_mean = {
        m: np.mean([c[m][0] for f, c in summary.items() if f != "sim1"])
        for m in REFERENCES
    }
    lines += [
        "",
        f"Mean over the {len(zoo)} zoo families: CausalMMM {np.mean(zoo):.3f}, "
        + ", ".join(f"{m} {v:.3f}" for m, v in refs_mean.items())
        + f"; CausalMMM reaches both references on {sum(met)} of {len(met)} rows.",
    ]
    timing = results.get("timing")
    if timing:
        lines += [
            "",
            f"Default fit of {' x '.join(map(str, timing['shape']))} "
            f"(shops x nodes x steps, `released_arrays`): "
            f"{timing['fit_seconds']:.0f} s ({timing['epochs']} epochs, "
            f"{timing['n_lags']} lags chosen, AUROC {timing['edge_auroc']:.3f}).",
        ]
    weights = {}
    for row in results["rows"]:
        for weight, value in row.get("pooling", {}).items():
            weights.setdefault(weight, []).append(value)
    if weights:
        lines += [
            "",
            "Shop evidence weight of the graph-type pooling, mean AUROC over the "
            "rows where the pooling was active (one fit serves every weight): "
            + ", ".join(f"{w}: {np.mean(v):.3f}" for w, v in weights.items())
            + ".",
        ]
    if results.get("notes"):
        lines += ["", results["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from sklearn_causalmmm.datasets import ZOO_FAMILIES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=None, help="comma-separated")
    parser.add_argument("--output", default=str(RESULTS_FILE))
    parser.add_argument("--shops", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--methods", default="", help="among NRI, GVAR, NGC-cMLP")
    parser.add_argument(
        "--baseline-shops",
        type=int,
        default=None,
        help="fit the --methods baselines on this many of the panel's shops",
    )
    parser.add_argument(
        "--baselines-only",
        action="store_true",
        help="run only the --methods baselines (to --merge into a full run)",
    )
    parser.add_argument(
        "--baseline-seeds", type=int, default=None, help="seeds of the baselines"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="fit nothing: write the --merge files' rows and the table",
    )
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--notes", default=None, help="text shown under the table")
    parser.add_argument(
        "--merge", nargs="*", default=(), help="result files of parallel runs to add"
    )
    args = parser.parse_args(argv)
    set_threads(args.threads)
    families = args.families.split(",") if args.families else [*ZOO_FAMILIES, "sim1"]
    methods = [m for m in args.methods.split(",") if m]
    output = Path(args.output)
    previous = json.loads(output.read_text()) if output.exists() else {}
    rows = [
        row
        for row in previous.get("rows", [])
        if row["family"] not in families and previous.get("n_shops") == args.shops
    ]
    results = {
        "n_shops": args.shops,
        "seeds": args.seeds,
        "machine": machine(),
        "rows": rows,
        "timing": previous.get("timing"),
        "notes": args.notes or previous.get("notes"),
    }
    baseline_seeds = args.baseline_seeds or args.seeds
    for family in [] if args.report_only else families:
        for seed in range(max(args.seeds, baseline_seeds)):
            new = run_family(
                family,
                args.shops,
                seed,
                methods if seed < baseline_seeds else [],
                args.baseline_shops,
                references=seed < args.seeds and not args.baselines_only,
            )
            rows += new
            print(
                family,
                seed,
                {r["method"]: round(r["edge_auroc"], 3) for r in new},
                flush=True,
            )
            # written after every fit: an interrupted run keeps what it did
            output.write_text(json.dumps(results, indent=1) + "\n")
    for path in args.merge:
        # rows of a family and method this run did not produce
        other = json.loads(open(path).read())
        done = {(r["family"], r["method"]) for r in rows}
        rows += [r for r in other["rows"] if (r["family"], r["method"]) not in done]
        # a merged run's timing is newer than the output file's
        results["timing"] = other.get("timing") or results["timing"]
    if args.timing:
        results["timing"] = time_default_fit()
        print("timing", results["timing"], flush=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    if not args.no_docs:
        replace_section(DOCS, HEADING, render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

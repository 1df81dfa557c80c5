"""Regenerate the benchmark sections and plots of ``docs/benchmarks.md`` from JSON.

Usage::

    python benchmarks/report.py                 # benchmarks/results -> docs/
    python benchmarks/report.py --results DIR --docs FILE

Reads ``discovery.json``, ``forecasting.json``, ``ablations.json``,
``cost.json`` and ``real_panels.json`` from the results folder (a missing file
leaves its section saying how to produce it) and writes the sections
"Reproducing the benchmarks", "Causal structure", "GMV forecasting",
"Ablations", "Cost" and "Real panels", plus the PNG
plots in ``img/benchmarks/`` next to the markdown file. The "Speed" and
"sktime forecasting" sections are rebuilt from ``speed.json`` and
``sktime.json`` (``speed.py`` and ``sktime_benchmark.py`` write them with the
same functions); every other section (e.g. "Structure", whose script writes it
itself) is kept as it is.

This module imports only ``_common.py``: the scripts import it, never the
other way round.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from _common import (
    AUTHORS_SECONDS_PER_SHOP_EPOCH,
    DOCS,
    HORIZONS,
    NO_TYPE_TEST,
    RESULTS,
    config_key,
    mean_std,
    replace_section,
)

IMAGES = Path("img") / "benchmarks"
SKTIME_HEADING = "## sktime forecasting"
STRUCTURE_METRICS = (
    ("edge_auroc", "edge AUROC"),
    ("pooled_edge_auroc", "pooled AUROC"),
    ("edge_auprc", "AUPRC (chance)"),
    ("heterogeneity_auroc", "heterogeneity AUROC"),
)
#: The paper's Table (AUROC, mean ± std) on its Simulation 1 / Simulation 2.
PAPER_STRUCTURE = {
    "CausalMMM": ("0.935 ± 0.012", "0.903 ± 0.015"),
    "InGRA": ("0.863 ± 0.082", "0.854 ± 0.083"),
    "GVAR": ("≈ 0.82", "≈ 0.80"),
    "NGC": ("< 0.80", "< 0.80"),
}
#: Which of our rows answers each of the paper's rows.
PAPER_MATCH = {
    "CausalMMM": "CausalMMM",
    "InGRA": "InGRA",
    "GVAR": "GVAR",
    "NGC": "NGC-cMLP",
}
SETTING_NAMES = {"sim1": "Sim-1-like", "sim2": "Sim-2-like"}
SETTING_KEYS = (
    ("n_graph_types", "graph types R"),
    ("shop_deviation", "per-shop edge flips δ"),
    ("noise_scale", "noise σ"),
    ("effect_strength", "effect strength β"),
    ("adstock", "carryover"),
    ("seasonality", "weekly seasonality A"),
)
SCRIPTS = (
    ("discovery.py", "discovery.json", "causal structure: main table and sweeps"),
    ("forecasting.py", "forecasting.json", "GMV forecasting, MSE by horizon"),
    ("ablations.py", "ablations.json", "ablations and sensitivity of CausalMMM"),
    ("cost.py", "cost.json", "fit time, predict throughput, memory"),
    ("real_panels.py", "real_panels.json", "forecasts on public marketing panels"),
)
AXIS_LABELS = {
    "setting": "setting",
    "n_graph_types": "R",
    "n_nodes": "d",
    "n_steps": "T",
    "n_shops": "N",
}


# -- formatting -------------------------------------------------------------------


def fmt(mean: float, std: float, n: int, digits: int = 3) -> str:
    """``mean ± std`` (sample std over seeds), or ``mean`` for one seed.

    Examples
    --------
    >>> fmt(0.9625, 0.0041, 3)
    '0.963 ± 0.004'
    >>> fmt(0.9625, 0.0, 1)
    '0.963'
    >>> fmt(float("nan"), float("nan"), 0)
    '—'
    """
    if n == 0 or math.isnan(mean):
        return "—"
    if n == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def fmt_seconds(seconds: float | None) -> str:
    """Seconds as ``42 s``, ``12.5 min`` or ``2.1 h``."""
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds < 120:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def load(results: Path, name: str) -> dict | None:
    path = results / name
    if not path.exists():
        return None
    return json.loads(path.read_text())


def ok(rows: list[dict]) -> list[dict]:
    return [row for row in rows if "error" not in row and "skipped" not in row]


def aggregate(rows: list[dict], by: tuple[str, ...], metrics) -> dict:
    """``{group: {metric: (mean, std, n)}}`` over the finished rows."""
    groups = defaultdict(list)
    for row in ok(rows):
        groups[tuple(row[key] for key in by)].append(row)
    return {
        group: {
            metric: mean_std(row.get(metric) for row in members) for metric in metrics
        }
        for group, members in groups.items()
    }


def status(rows: list[dict], **match) -> str | None:
    """Why a method has no finished row (not installed, failed), if it has none."""
    matching = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    if not matching or ok(matching):
        return None
    row = matching[-1]
    if "skipped" in row:
        return row["skipped"]
    return "failed: " + row["error"].splitlines()[0][:80]


def bold_best(cells: dict, values: dict, higher: bool = True) -> dict:
    """Bold the cell with the best mean."""
    finite = {k: v for k, v in values.items() if v is not None and not math.isnan(v)}
    if len(finite) < 2:
        return cells
    best = (max if higher else min)(finite, key=finite.get)
    cells = dict(cells)
    cells[best] = f"**{cells[best]}**"
    return cells


def run_durations(content: dict | None) -> tuple[float, float]:
    """Seconds of recorded commands, and the sum of the rows' fit times."""
    if not content:
        return 0.0, 0.0
    commands = sum(run["seconds"] for run in content.get("runs", []))
    fits = sum(
        row.get("fit_seconds") or 0.0 for row in content["rows"] if "error" not in row
    )
    return commands, fits


# -- plots ------------------------------------------------------------------------


def _figure(n_panels: int = 1, width: float = 6.0, height: float = 4.2):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * n_panels, height), layout="constrained")
    axes = [figure.add_subplot(1, n_panels, k + 1) for k in range(n_panels)]
    return figure, axes


def _save(figure, docs: Path, name: str) -> str:
    path = docs.parent / IMAGES / name
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, format="png")
    return (IMAGES / name).as_posix()


def plot_metric_vs_axis(
    series: dict, axis_label: str, ylabel: str, docs: Path, name: str, log_y=False
):
    """One line (mean, error bar = std over seeds) per method."""
    figure, (ax,) = _figure()
    for label, points in series.items():
        points = sorted(p for p in points if not math.isnan(p[1]))
        if not points:
            continue
        x, mean, std = zip(*points, strict=True)
        ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=label)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(axis_label)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(figure, docs, name)


# -- sections ---------------------------------------------------------------------


QUICK_BANNER = (
    "**Quick run (toy sizes): these numbers only show that the scripts work.**"
)


def _not_run(lines: list[str], script: str) -> str:
    """A section whose results file is missing: its text, and how to run it."""
    return "\n".join([*lines, f"Not run yet: `python benchmarks/{script}`."]) + "\n"


def _banner(content: dict | None) -> list[str]:
    return [QUICK_BANNER, ""] if content and content.get("quick") else []


def reproducing_section(results: Path, contents: dict) -> str:
    lines = [
        "## Reproducing the benchmarks",
        "",
        "Every number below comes from a script in `benchmarks/` that writes "
        "`benchmarks/results/*.json`; `python benchmarks/report.py` rebuilds these "
        "sections and the plots in `docs/img/benchmarks/` from the JSON files. "
        "`python benchmarks/run_all.py --quick` runs every script at toy size "
        "(6 shops, 2 epochs, hidden 8; about a minute) into "
        "`benchmarks/results/quick/`, so toy numbers never replace these; the test "
        "suite runs it. Each script writes a row as soon as a fit finishes, "
        "`--resume` skips finished rows and `--time-budget MINUTES` stops starting "
        "new fits, so long runs can be done in pieces. Runs use one torch thread "
        "per process on a shared 2-core machine (at most two processes at a time); "
        "the times are wall-clock times and include the other tenants' load.",
        "",
    ]
    rows = []
    for script, name, what in SCRIPTS:
        content = contents.get(name)
        if content is None:
            rows.append([f"`{script}`", what, "not run", "—", "—"])
            continue
        commands, fits = run_durations(content)
        n_rows = len(ok(content["rows"]))
        mode = "quick" if content.get("quick") else "full size"
        rows.append(
            [
                f"`{script}`",
                what,
                f"{n_rows} rows ({mode})",
                fmt_seconds(commands),
                fmt_seconds(fits),
            ]
        )
    lines += table(
        [
            "script",
            "what",
            "results",
            "time of the recorded commands",
            "sum of fit times",
        ],
        rows,
    )
    loads = [
        row["load_average"][0]
        for content in contents.values()
        if content
        for row in content["rows"]
        if "load_average" in row
    ]
    if loads:
        lines += [
            "",
            f"The 1-minute load average at the end of the fits ranged from "
            f"{min(loads):.1f} to {max(loads):.1f} (on 2 cores: above 2, the fits "
            "shared the cores with other jobs and their wall times are inflated "
            "accordingly; rows record it as `load_average`).",
        ]
    lines += _machines_note(contents)
    commands = [
        run
        for _, name, _ in SCRIPTS
        for run in (contents.get(name) or {}).get("runs", [])
    ]
    if commands:
        lines += ["", "Commands that produced the results, with their wall times:", ""]
        lines += table(
            ["command", "finished", "wall time", "rows"],
            [
                [
                    f"`{run['command']}`",
                    run["finished"],
                    fmt_seconds(run["seconds"]),
                    run["rows"],
                ]
                for run in commands
            ],
        )
    return "\n".join(lines) + "\n"


def _machines_note(contents: dict) -> list[str]:
    """Which rows each machine computed (rows before this was recorded: none)."""
    counts = defaultdict(int)
    methods = defaultdict(set)
    for results_file, content in contents.items():
        for row in ok((content or {}).get("rows", [])):
            where = row.get("machine", "not recorded")
            counts[where] += 1
            name = row.get("method") or row.get("variant")
            if name:
                methods[where].add(f"{name} ({results_file.removesuffix('.json')})")
    if not counts:
        return []
    return [
        "",
        "A seed makes a fit bit-identical on one kind of machine (CPU and library "
        "builds) with one number of torch threads, not across machines: torch "
        "picks its kernels, hence the order of floating-point sums, by CPU, and "
        "training carries the last-digit differences on. Rows record the machine "
        "that computed them (`machine`):",
        "",
        *(
            f"- {machine}: {n} rows: " + ", ".join(sorted(methods[machine]))
            for machine, n in sorted(counts.items(), key=lambda kv: -kv[1])
        ),
    ]


def _settings_table() -> list[str]:
    from sklearn_causalmmm.datasets import SIMULATION_SETTINGS

    rows = [
        [
            label,
            str(SIMULATION_SETTINGS["sim1"][key]),
            str(SIMULATION_SETTINGS["sim2"][key]),
        ]
        for key, label in SETTING_KEYS
    ]
    return table(["", "Sim-1-like (`sim1`)", "Sim-2-like (`sim2`)"], rows)


def _structure_rows(rows, config_key, methods, with_time=True):
    """Table rows (one per method) of the structure metrics at one data point."""
    here = [r for r in rows if r["config_key"] == config_key]
    stats = aggregate(
        here,
        ("method",),
        [m for m, _ in STRUCTURE_METRICS] + ["edge_density", "fit_seconds"],
    )
    cells = {}
    for metric, _ in STRUCTURE_METRICS:
        column = {}
        means = {}
        for method in methods:
            got = stats.get((method,))
            if got is None:
                continue
            mean, std, n = got[metric]
            column[method] = fmt(mean, std, n)
            if metric == "edge_auprc":
                column[method] += f" ({got['edge_density'][0]:.3f})"
            means[method] = mean
        cells[metric] = bold_best(column, means)
    out = []
    for method in methods:
        got = stats.get((method,))
        if got is None:
            why = status(here, method=method) or "not run yet"
            out.append(
                [method, *([why] + ["—"] * (len(STRUCTURE_METRICS) - 1))]
                + (["—", "0"] if with_time else [])
            )
            continue
        row = [method, *(cells[m][method] for m, _ in STRUCTURE_METRICS)]
        if with_time:
            row += [fmt_seconds(got["fit_seconds"][0]), str(got["edge_auroc"][2])]
        out.append(row)
    return out, stats


def _goal_best(stats: dict, methods, target="CausalMMM") -> str:
    """Is ``target`` best in every structure column? Names who beats it.

    Its own variants (``"CausalMMM (...)"``) are configurations of it, not
    competitors.
    """
    if (target,) not in stats:
        return "not run"
    rivals = [m for m in methods if m.split(" (")[0] != target]
    losses = []
    for metric, label in STRUCTURE_METRICS:
        mine = stats[(target,)][metric][0]
        others = {
            m: stats[(m,)][metric][0]
            for m in rivals
            if (m,) in stats and not math.isnan(stats[(m,)][metric][0])
        }
        if not others:
            continue
        best = max(others, key=others.get)
        if others[best] > mine:
            # enough digits that the two numbers differ on the page
            digits = 3
            while f"{others[best]:.{digits}f}" == f"{mine:.{digits}f}" and digits < 6:
                digits += 1
            losses.append(
                f"{label}: {best} {others[best]:.{digits}f} > {mine:.{digits}f}"
            )
    return "yes" if not losses else "no (" + "; ".join(losses) + ")"


def structure_section(content: dict | None, docs: Path) -> str:
    lines = [
        "## Causal structure",
        "",
        *_banner(content),
        "Produced by `python benchmarks/discovery.py`. Every discoverer gets the "
        "panel of channels, funnel nodes and GMV (last node) with the shops' "
        "context, and scores every directed edge of every shop. Metrics "
        "(`sklearn_causalmmm.metrics`): **edge AUROC**, the per-shop AUROC of the "
        "edge scores against the shop's true graph, averaged over shops (the "
        "paper's metric); **pooled AUROC**, one AUROC over all shops' edges "
        "(rewards scores that are comparable across shops); **AUPRC**, per-shop "
        "average precision, with the edge density, its chance level, in "
        "parentheses; **heterogeneity AUROC**, for each edge slot whose truth "
        "differs between shops, how well the scores rank the shops that have the "
        "edge above those that do not (0.5 for any method that gives every shop "
        "the same graph). Values are mean ± sample std over seeds (one number when "
        "a single seed was run; the last column counts seeds); the seed draws both "
        "the panel and the model's initialisation. The best mean of each column is "
        "in bold. Fit times are wall-clock on one thread.",
        "",
        "The paper's generator is not published; the two presets of "
        "`SIMULATION_SETTINGS` (see `docs/simulator.md`) are built in its spirit, "
        "both with 300 shops, 8 nodes (5 channels, 2 funnel nodes, GMV), T = 100 "
        "and edge density 0.3. **Sim-2-like** is harder than Sim-1-like in every "
        "respect the issue names: more graph types, shops that deviate from their "
        "type's graph, twice the noise, weaker and delayed (Weibull) effects:",
        "",
        *_settings_table(),
        "",
    ]
    if content is None:
        return _not_run(lines, "discovery.py")
    rows = content["rows"]
    experiments = content["meta"]["experiments"]
    methods = [m["name"] for m in content["meta"]["methods"]]
    notes = {m["name"]: m["note"] for m in content["meta"]["methods"] if m["note"]}

    header = ["method", *(label for _, label in STRUCTURE_METRICS), "fit", "seeds"]
    main_stats = {}
    for config in experiments["main"]["configs"]:
        key = config_key(config)
        table_rows, stats = _structure_rows(rows, key, methods)
        main_stats[config["setting"]] = (config, stats)
        name = SETTING_NAMES.get(config["setting"], config["setting"])
        lines += [
            f"### {name} ({config['n_shops']} shops, d = {config['n_nodes']}, "
            f"T = {config['n_steps']}, R = {config['n_graph_types']})",
            "",
        ]
        lines += (
            table(header, table_rows)
            if table_rows
            else [
                f"Not run yet: `python benchmarks/discovery.py --experiments main "
                f"--setting {config['setting']}`."
            ]
        )
        lines.append("")
    if notes:
        lines += [
            "Notes: " + "; ".join(f"{k}: {v}" for k, v in notes.items()) + ".",
            "",
        ]

    # The paper's table next to ours.
    lines += ["### Against the paper's table", ""]
    paper_rows = []
    for paper_name, (s1, s2) in PAPER_STRUCTURE.items():
        ours = PAPER_MATCH[paper_name]
        cells = []
        for setting in ("sim1", "sim2"):
            stats = main_stats.get(setting, (None, {}))[1]
            got = stats.get((ours,))
            cells.append(fmt(*got["edge_auroc"]) if got else "—")
        paper_rows.append([paper_name, s1, s2, ours, *cells])
    lines += table(
        [
            "paper's method",
            "paper Sim 1",
            "paper Sim 2",
            "our method",
            "ours Sim-1-like",
            "ours Sim-2-like",
        ],
        paper_rows,
    )
    lines += [
        "",
        *_ranking_sentences(main_stats),
        "",
        "### Goals",
        "",
    ]
    sim1 = main_stats.get("sim1")
    if sim1 and ("CausalMMM",) in sim1[1]:
        value = sim1[1][("CausalMMM",)]["edge_auroc"][0]
        lines.append(
            f"- Edge AUROC ≥ 0.93 on Sim-1-like: "
            f"{'yes' if value >= 0.93 else 'no'} ({value:.3f})."
        )
    else:
        lines.append("- Edge AUROC ≥ 0.93 on Sim-1-like: not run.")
    checked = []
    for experiment in experiments.values():
        for config in experiment["configs"]:
            if config["n_shops"] < 300 and not content.get("quick"):
                continue
            key = config_key(config)
            if key in [c for c, _ in checked]:
                continue
            stats = aggregate(
                [r for r in rows if r["config_key"] == key],
                ("method",),
                [m for m, _ in STRUCTURE_METRICS],
            )
            if stats:
                checked.append(
                    (key, _describe(config) + ": " + _goal_best(stats, methods))
                )
    at_size = "every size of this quick run" if content.get("quick") else "N ≥ 300"
    lines.append(
        f"- CausalMMM (default) best in every column at {at_size}:"
        + ("" if checked else " not run.")
    )
    lines += [f"  - {text}" for _, text in checked]
    lines.append("")

    lines += _pooling_table(rows, experiments, methods)

    # Sweeps.
    plots = []
    for name, experiment in experiments.items():
        if name == "main":
            continue
        axis = experiment["axis"]
        sweep_methods = [m for m in methods if _is_sweep(content, m)]
        lines += [f"### {experiment['title']}", ""]
        table_rows = []
        for config in experiment["configs"]:
            key = config_key(config)
            part, _ = _structure_rows(rows, key, sweep_methods)
            table_rows += [[f"{AXIS_LABELS[axis]} = {config[axis]}", *r] for r in part]
        if table_rows:
            lines += table([AXIS_LABELS[axis], *header], table_rows)
        else:
            lines.append(
                f"Not run yet: `python benchmarks/discovery.py --experiments {name}`."
            )
        lines += _lag_notes(rows, experiment["configs"], axis)
        if name == "length":
            lines += [
                "",
                "CausalMMM's discoverer counts the KL of a shop's graph once per 100 "
                "observed steps beyond the first 100 (see the model page). Counted "
                "once per shop, as in its first runs, the prior faded on long "
                "series: at T = 720 one seed of two saturated every edge "
                "probability at 1 (edge AUROC 0.51).",
            ]
        lines.append("")
        if name == "shops":
            series = defaultdict(list)
            times = defaultdict(list)
            for config in experiment["configs"]:
                stats = aggregate(
                    [r for r in rows if r["config_key"] == config_key(config)],
                    ("method",),
                    ["edge_auroc", "fit_seconds"],
                )
                for (method,), got in stats.items():
                    series[method].append((config["n_shops"], *got["edge_auroc"][:2]))
                    times[method].append((config["n_shops"], *got["fit_seconds"][:2]))
            if series:
                path = plot_metric_vs_axis(
                    series,
                    "shops N",
                    "edge AUROC (per shop, mean)",
                    docs,
                    "auroc_vs_shops.png",
                )
                plots.append(("Edge AUROC against the number of shops", path))
            if times:
                path = plot_metric_vs_axis(
                    times,
                    "shops N",
                    "fit time (s)",
                    docs,
                    "fit_time_vs_shops.png",
                    log_y=True,
                )
                plots.append(("Fit time against the number of shops", path))
    for caption, path in plots:
        lines += [
            f"![{caption}]({path})",
            "",
            f"*{caption} (Sim-1-like otherwise).*",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _pooling_table(rows: list[dict], experiments: dict, methods) -> list[str]:
    """CausalMMM's structure metrics at every weight of a shop's own evidence.

    Read from the ``pooling`` field of its rows: one fit, pooled at each weight.
    """
    pooled = [r for r in ok(rows) if r["method"] == "CausalMMM" and "pooling" in r]
    if not pooled:
        return []
    choices = list(pooled[0]["pooling"])
    configs = {}
    for experiment in experiments.values():
        for config in experiment["configs"]:
            configs.setdefault(config_key(config), config)

    def cell(members: list[dict], choice: str) -> str:
        auroc = np.mean([r["pooling"][choice]["edge_auroc"] for r in members])
        auprc = np.mean([r["pooling"][choice]["edge_auprc"] for r in members])
        return f"{auroc:.4f} / {auprc:.4f}"

    table_rows = []
    for key, config in configs.items():
        members = [r for r in pooled if r["config_key"] == key]
        if members:
            table_rows.append(
                [_describe(config), *(cell(members, c) for c in choices), len(members)]
            )
    table_rows.append(
        ["**all fits**", *(cell(pooled, c) for c in choices), len(pooled)]
    )

    def label(choice: str) -> str:
        if choice == "encoder":
            return "encoder (no pooling)"
        if choice == NO_TYPE_TEST:
            return "weight 0.5, no type test"
        return f"weight {float(choice):g}"

    labels = [label(c) for c in choices]
    return [
        "### Pooling over graph types",
        "",
        "CausalMMM's discoverer pools each shop's graph over graph types after "
        "training, counting the shop's own evidence at half weight against its "
        "types' graphs (`SHOP_EVIDENCE_WEIGHT`); a type's graph pools the "
        "prototype fitted to the encoder's posteriors with a Granger test on the "
        "series of the type's shops (`sklearn_causalmmm/_causalmmm/pooling.py`). Every "
        "CausalMMM row above also scores, from the same fit, the encoder's own "
        "posteriors, the pooled graphs at other weights (0 reports each shop's "
        "type graphs, 1 is Bayes' rule with the shop's evidence at full weight) "
        "and the default weight with the prototypes alone (no type test). Edge "
        "AUROC / AUPRC, mean over seeds; the last column counts fits.",
        "",
        *table(["panel", *labels, "fits"], table_rows),
        "",
    ]


def _lag_notes(rows: list[dict], configs: list[dict], axis: str) -> list[str]:
    """Say where a method ran with a lower lag than its default (short series)."""
    keys = {config_key(c): c for c in configs}
    notes = sorted(
        {
            (r["method"], keys[r["config_key"]][axis], r["params"]["max_lag"])
            for r in ok(rows)
            if r["config_key"] in keys and "max_lag" in r.get("params", {})
        },
        key=str,
    )
    return (
        [
            "",
            *(
                f"{method} at {AXIS_LABELS[axis]} = {value} runs with max_lag = {lag}, "
                "the largest lag its VAR can fit on series this short for that "
                "many nodes."
                for method, value, lag in notes
            ),
        ]
        if notes
        else []
    )


def _ranking_sentences(main_stats: dict) -> list[str]:
    """Where CausalMMM ranks by edge AUROC on each main-table panel."""
    out = []
    for setting, (_, stats) in main_stats.items():
        means = {
            method: got["edge_auroc"][0]
            for (method,), got in stats.items()
            if not math.isnan(got["edge_auroc"][0])
        }
        if "CausalMMM" not in means:
            continue
        ranked = sorted(means, key=means.get, reverse=True)
        best = ranked[0]
        out.append(
            f"- On our {SETTING_NAMES.get(setting, setting)} panel, CausalMMM "
            f"(default) ranks {ranked.index('CausalMMM') + 1} of {len(ranked)} "
            f"by edge AUROC ({means['CausalMMM']:.3f}); the best is {best} "
            f"({means[best]:.3f})."
        )
    return out


def _is_sweep(content: dict, method: str) -> bool:
    for m in content["meta"]["methods"]:
        if m["name"] == method:
            return m["sweep"]
    return True


def _describe(config: dict) -> str:
    name = SETTING_NAMES.get(config["setting"], config["setting"])
    return (
        f"{name}, N = {config['n_shops']}, d = {config['n_nodes']}, "
        f"T = {config['n_steps']}, R = {config['n_graph_types']}"
    )


def forecasting_section(content: dict | None, docs: Path) -> str:
    lines = [
        "## GMV forecasting",
        "",
        *_banner(content),
        "Produced by `python benchmarks/forecasting.py`. Every model is fitted on "
        "all but the last 30 steps of every shop (channels and funnel nodes as `X`, "
        "GMV as `y`, with the shops' context) and forecasts those 30 steps of GMV "
        "from their plan `X` (the package's regressors take every non-target node "
        "as known over the plan). MSE at horizon h is over shops, of the h-th "
        "forecast step of GMV divided by the shop's mean absolute GMV over its "
        "training window (so 0.01 is a 10 % error). `sim1` is a new 300-shop "
        "Sim-1-like panel per seed (70 fitted steps); `demo` is the bundled panel "
        "(40 shops, 335 fitted days), where the seed only changes the models. "
        "Mean ± sample std over seeds, best mean of each column in bold.",
        "",
    ]
    if content is None:
        return _not_run(lines, "forecasting.py")
    rows = content["rows"]
    methods = content["meta"]["methods"]
    order = ["sim1", "sim2", "demo"]
    datasets = sorted(
        {row["dataset"] for row in rows},
        key=lambda d: (order.index(d) if d in order else len(order), d),
    )
    metrics = [f"mse_{h}" for h in HORIZONS] + ["fit_seconds", "n_shops", "epochs"]
    curves = {}
    goals = []
    for dataset in datasets:
        here = [r for r in rows if r["dataset"] == dataset]
        stats = aggregate(here, ("method",), metrics)
        n_shops = next((int(g["n_shops"][0]) for g in stats.values()), 0)
        lines += [f"### `{dataset}` ({n_shops} shops)", ""]
        cells = {}
        for h in HORIZONS:
            column = {
                m: fmt(*stats[(m,)][f"mse_{h}"], digits=4)
                for m in methods
                if (m,) in stats
            }
            means = {m: stats[(m,)][f"mse_{h}"][0] for m in methods if (m,) in stats}
            cells[h] = bold_best(column, means, higher=False)
        table_rows = []
        for method in methods:
            if (method,) not in stats:
                why = status(here, method=method)
                table_rows.append(
                    [method, why or "not run yet", "—", "—", "—", "—", "0"]
                )
                continue
            got = stats[(method,)]
            epochs = got["epochs"]
            table_rows.append(
                [
                    method,
                    *(cells[h][method] for h in HORIZONS),
                    fmt_seconds(got["fit_seconds"][0]),
                    "—" if epochs[2] == 0 else f"{epochs[0]:.0f}",
                    str(got["mse_7"][2]),
                ]
            )
        lines += table(
            ["method", *(f"MSE@{h}" for h in HORIZONS), "fit", "epochs", "seeds"],
            table_rows,
        )
        lines.append("")
        baselines = {
            m: stats[(m,)]["mse_7"][0]
            for m in methods
            if m != "CausalMMM" and (m,) in stats
        }
        if ("CausalMMM",) in stats and baselines:
            best = min(baselines, key=baselines.get)
            ratio = stats[("CausalMMM",)]["mse_7"][0] / baselines[best]
            goals.append(
                f"- `{dataset}`: CausalMMM MSE@7 / best baseline ({best}) = "
                f"{ratio:.2f}: goal ≤ 0.9 {'met' if ratio <= 0.9 else 'not met'}."
            )
        # mean curve over seeds for the plot
        curve = {}
        for method in methods:
            members = [r["mse"] for r in ok(here) if r["method"] == method]
            if members:
                curve[method] = [
                    sum(values) / len(values) for values in zip(*members, strict=True)
                ]
        curves[dataset] = curve
    if goals:
        lines += ["Goal (CausalMMM MSE@7 ≤ 0.9 × the best baseline):", "", *goals, ""]
    lines += [
        "For scale only (different data): the paper reports on its proprietary "
        "AirMMM panel MSE@7 1.80 for CausalMMM against 1.91 (GVAR) and 2.07 (BTVC), "
        "in units it does not give.",
        "",
    ]
    if curves:
        figure, axes = _figure(len(curves))
        for ax, (dataset, curve) in zip(axes, curves.items(), strict=True):
            for method, values in curve.items():
                ax.plot(range(1, len(values) + 1), values, marker=".", label=method)
            ax.set_yscale("log")
            ax.set_xlabel("horizon (steps ahead)")
            ax.set_ylabel("MSE of scaled GMV")
            ax.set_title(dataset)
            ax.grid(True, alpha=0.3)
        # one legend below the panels: inside, it hides the naive forecasts' curves
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
        path = _save(figure, docs, "mse_vs_horizon.png")
        lines += [
            f"![MSE against the horizon]({path})",
            "",
            "*MSE of scaled GMV at every horizon 1..30 (mean over seeds).*",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def ablations_section(content: dict | None) -> str:
    lines = [
        "## Ablations",
        "",
        *_banner(content),
        "Produced by `python benchmarks/ablations.py`: CausalMMM with one change of "
        "its default configuration, scored for structure (`CausalGraphDiscoverer`, "
        "metrics of the structure section) and forecasting (`CausalMMMRegressor`, "
        "protocol of the forecasting section) on the Sim-1-like panel. CM-full "
        'fixes the fully connected graph (`graph="full"`; its edge scores are all '
        "equal, so its AUROCs are 0.5 by construction), CM-markov drops the "
        "decoder's recurrent memory (`recurrent=False`), CM-rw drops the saturation "
        "module (`saturation=False`); hard edges are straight-through one-hot "
        "samples (`hard=True`) against the default soft ones; then the Gumbel "
        "temperature `tau` (default 0.5) and the KL weight (default 1); the "
        "decoder warm-up trains the decoder alone on random graphs for two epochs "
        "before the encoder learns (`warmup_epochs=2`, off by default). The "
        "ablations take modules away from the paper's model, whose decoder every "
        "shop shares and whose graphs are read shop by shop, so every variant "
        "keeps `edge_gain_scale=0`, `n_graph_types=0` and "
        "`lag_features='bivariate'` unless it changes them: edge gains give each "
        "shop its own, as the regressor does by default (the forecasting "
        "section's CausalMMM); graph types pool the discoverer's graphs, "
        "conditional lags add each sender's ridge VAR coefficients to the "
        "encoder's features, and all lag statistics add the coefficients of "
        "every node's summed lags too, as the discoverer does by default (the "
        "structure section's CausalMMM has graph types and all lag statistics; "
        "the regressor has no graph types, hence no forecast).",
        "",
    ]
    if content is None:
        return _not_run(lines, "ablations.py")
    rows = content["rows"]
    variants = content["meta"]["variants"]
    metrics = [m for m, _ in STRUCTURE_METRICS] + [f"mse_{h}" for h in HORIZONS]
    structure = aggregate(
        [r for r in rows if r["task"] == "structure"], ("variant",), metrics
    )
    forecast = aggregate(
        [r for r in rows if r["task"] == "forecast"], ("variant",), metrics
    )
    table_rows = []
    for variant in variants:
        name = variant["name"]
        change = ", ".join(f"`{k}={v!r}`" for k, v in variant["change"].items())
        got_s = structure.get((name,))
        got_f = forecast.get((name,))
        if got_s is None and got_f is None:
            continue
        cells = [fmt(*got_s[m]) if got_s else "—" for m, _ in STRUCTURE_METRICS] + [
            fmt(*got_f[f"mse_{h}"], digits=4) if got_f else "—" for h in HORIZONS
        ]
        seeds = max(
            got_s["edge_auroc"][2] if got_s else 0, got_f["mse_7"][2] if got_f else 0
        )
        table_rows.append([name, change or "default", *cells, str(seeds)])
    lines += table(
        [
            "variant",
            "change",
            *(label for _, label in STRUCTURE_METRICS),
            *(f"MSE@{h}" for h in HORIZONS),
            "seeds",
        ],
        table_rows,
    )
    lines += [
        "",
        "The paper reports for these ablations only MSE@7 on AirMMM: full model "
        "1.80, CM-full 2.65, CM-markov 2.85, CM-rw 3.09.",
    ]
    return "\n".join(lines) + "\n"


def cost_section(content: dict | None, discovery: dict | None, docs: Path) -> str:
    lines = [
        "## Cost",
        "",
        *_banner(content),
        "Produced by `python benchmarks/cost.py` on the Sim-1-like panel (8 nodes, "
        "T = 100), one torch thread, each measurement in a fresh process so that "
        "its peak resident memory is its own (`--quick` measures in one process). "
        "Iterative methods run fewer epochs than in the accuracy benchmarks (their "
        "time per shop-epoch does not depend on it); an epoch is one pass over "
        "every shop's training data, i.e. one full-batch step for GVAR, NGC and "
        "BTVC. Predict throughput is in shops per second: a discoverer scores the "
        "graphs of new shops (inductive methods run a forward pass; the others "
        'refit, marked "refit"), a forecaster forecasts 30 steps of every shop. '
        "Peak memory is the process's peak resident set size (torch, data and "
        'model included); "added" is the increase over the process before the '
        "fit.",
        "",
    ]
    if content is None:
        return _not_run(lines, "cost.py")
    rows = content["rows"]
    methods_rows = [r for r in rows if r["part"] == "methods"]
    if methods_rows:
        n_shops = methods_rows[0]["n_shops"]
        lines += [f"### Every method ({n_shops} shops)", ""]
        table_rows = []
        for row in methods_rows:
            label = f"{row['method']} ({row['kind']})"
            if "error" in row or "skipped" in row:
                table_rows.append([label, status([row]) or "—", *["—"] * 6])
                continue
            per_epoch = row["seconds_per_shop_epoch"]
            throughput = f"{row['predict_shops_per_second']:.3g}"
            if row["predict_refits"]:
                throughput += " (refit)"
            table_rows.append(
                [
                    label,
                    str(row["epochs"] or "—"),
                    fmt_seconds(row["fit_seconds"]),
                    f"{row['seconds_per_shop']:.3g}",
                    f"{per_epoch:.3g}" if per_epoch else "—",
                    throughput,
                    _mb(row["peak_rss_mb"]),
                    _mb(row["peak_added_mb"]),
                ]
            )
        lines += table(
            [
                "method",
                "epochs",
                "fit",
                "s / shop",
                "s / shop-epoch",
                "predict (shops/s)",
                "peak memory (MB)",
                "added (MB)",
            ],
            table_rows,
        )
        lines.append("")
    growth = [r for r in ok(rows) if r["part"] == "growth"]
    if growth:
        growth.sort(key=lambda r: r["n_shops"])
        first = growth[0]
        lines += [
            f"### CausalMMM's growth with the number of shops "
            f"(epochs: {growth[0]['epochs']})",
            "",
        ]
        table_rows = []
        for row in growth:
            per_epoch = row["seconds_per_epoch"] or row["fit_seconds"] / row["epochs"]
            base = first["seconds_per_epoch"] or first["fit_seconds"] / first["epochs"]
            table_rows.append(
                [
                    f"{row['factor']}x",
                    str(row["n_shops"]),
                    fmt_seconds(row["fit_seconds"]),
                    f"{per_epoch:.3g}",
                    f"{per_epoch / base:.2f}",
                    f"{per_epoch / row['n_shops']:.3g}",
                    f"{row['predict_shops_per_second']:.3g}",
                    _mb(row["peak_rss_mb"]),
                ]
            )
        lines += table(
            [
                "shops",
                "N",
                "fit",
                "s / epoch",
                "time ratio",
                "s / shop-epoch",
                "graph inference (shops/s)",
                "peak memory (MB)",
            ],
            table_rows,
        )
        lines += [
            "",
            "Seconds per epoch are the fastest epoch after the first (which pays "
            "for set-up); linear growth means the time ratio equals the shop "
            "ratio.",
            "",
        ]
        series = {
            "CausalMMM, s / epoch": [
                (r["n_shops"], r["seconds_per_epoch"] or math.nan, 0.0) for r in growth
            ],
            "linear in N": [
                (
                    r["n_shops"],
                    (first["seconds_per_epoch"] or math.nan)
                    * r["n_shops"]
                    / first["n_shops"],
                    0.0,
                )
                for r in growth
            ],
        }
        path = plot_metric_vs_axis(
            series,
            "shops N",
            "seconds per epoch",
            docs,
            "time_vs_shops.png",
            log_y=True,
        )
        lines += [
            f"![Time against the number of shops]({path})",
            "",
            "*CausalMMM's seconds per epoch against the number of shops, with the "
            "linear reference.*",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


# -- real panels -----------------------------------------------------------------

PANEL_TITLES = {
    "meridian": "Meridian geo panel, target conversions",
    "meridian_revenue": "Meridian geo panel, target revenue",
    "robyn": "Robyn weekly brand",
    "pymc": "PyMC-Marketing example",
    "weekly_sim": "Weekly simulator",
}
#: The method the goals are about, and the one a single brand compares it with.
REAL_PANELS_TARGET = "CausalMMMRegressor"
ONE_BRAND_RIVAL = "AdstockHillRegressor"
#: A single brand: CausalMMMRegressor may not lose to the rival by more than 5 %.
ONE_BRAND_GOAL = 1.05


def real_panels_section(content: dict | None) -> str:
    """The "Real panels" section from ``real_panels.json``."""
    lines = [
        "## Real panels",
        "",
        *_banner(content),
        "Produced by `python benchmarks/real_panels.py` on public panels nobody on "
        "this project generated (copies, licences and provenance in "
        "`benchmarks/data/`), and on the package's simulator in its weekly mode "
        "when it has one. Every method forecasts 8 weeks from 4 non-overlapping "
        "origins at the end of the panel (the forecast weeks are T-8..T-1, "
        "T-16..T-9, T-24..T-17 and T-32..T-25, each fit on every week before its "
        "origin). Scores are the MSE, over entities and the 8 weeks, of the "
        "target standardized per entity with its training window's mean and "
        "(population) standard deviation, per origin and averaged over the "
        "origins. Reference forecasts are computed in the same run: the last "
        "value, the value 52 weeks earlier, the entity's training mean, and a "
        "ridge of the standardized target on log1p of every media column at "
        "lags 1-4 with slopes pooled over entities and an unpenalized intercept "
        "per entity (`RidgeCV`); ÷ best reference divides a mean MSE by the "
        "best reference's. The media plan and the controls of the forecast "
        "weeks are known to every method; funnel nodes are not. A method gets "
        "`media_columns`, `funnel_columns` and `control_columns` when it has "
        "them; otherwise funnel nodes are left out and signed controls are "
        "shifted up by minus their lowest value (the package's estimators "
        "refuse negative values). The last column says what each method was "
        "given; fit times are the sum of the 4 fits.",
        "",
    ]
    if content is None:
        return _not_run(lines, "real_panels.py")
    meta, rows = content["meta"], content["rows"]
    panels = [p for p in meta["panels"] if any(r["panel"] == p for r in rows)]
    lines += table(
        [
            "panel",
            "entities × weeks",
            "target",
            "media",
            "funnel",
            "controls (signed)",
            "context",
            "notes",
        ],
        [_panel_roles(name, meta["panels"][name]) for name in panels],
    )
    lines += ["", *_runs_where(rows), "", "### Goals", ""]
    lines += _real_panel_goals(meta, rows, panels)
    for name in panels:
        here = [r for r in rows if r["panel"] == name]
        described = meta["panels"][name]
        lines += [
            "",
            f"### {PANEL_TITLES.get(name, name)} ({described['n_entities']} × "
            f"{described['n_weeks']} weeks)",
            "",
            *_real_panel_table(here, meta),
        ]
    return "\n".join(lines) + "\n"


def _names(columns: list[str], signed=()) -> str:
    if not columns:
        return "—"
    return ", ".join(f"`{c}`" + (" (signed)" if c in signed else "") for c in columns)


def _panel_roles(name: str, described: dict) -> list[str]:
    return [
        PANEL_TITLES.get(name, name),
        f"{described['n_entities']} × {described['n_weeks']}",
        f"`{described['target']}`",
        _names(described["media"]),
        _names(described["funnel"]),
        _names(described["controls"], described["signed_controls"]),
        _names(described["context"]),
        described["notes"],
    ]


def _runs_where(rows: list[dict]) -> list[str]:
    where = sorted(
        {(r["machine"], r["torch_threads"]) for r in rows if "machine" in r}, key=str
    )
    return [
        f"Rows computed on {machine} with {threads} torch thread(s)."
        for machine, threads in where
    ]


def _mean_ratio(rows: list[dict], method: str) -> tuple[float | None, str | None]:
    """Mean (over seeds) of a method's ratio to the best reference, or its error."""
    mine = [r for r in rows if r["method"] == method]
    done = ok(mine)
    if done:
        return float(np.mean([r["ratio_to_best_reference"] for r in done])), None
    return None, status(mine, method=method) if mine else "not run"


def _real_panel_goals(meta: dict, rows: list[dict], panels: list[str]) -> list[str]:
    table_rows = []
    for name, goal in meta["goals"].items():
        here = [r for r in rows if r["panel"] == name]
        if name not in panels:
            why = meta.get(name) if name == "weekly_sim" else None
            table_rows.append(
                [PANEL_TITLES.get(name, name), "—", "—", f"≤ {goal}", why or "not run"]
            )
            continue
        ratio, why = _mean_ratio(here, REAL_PANELS_TARGET)
        best = next((r["best_reference"] for r in ok(here)), "—")
        verdict = why or ("met" if ratio <= goal else "not met")
        table_rows.append(
            [
                PANEL_TITLES.get(name, name),
                "—" if ratio is None else f"{ratio:.2f}",
                best,
                f"≤ {goal}",
                verdict,
            ]
        )
    lines = table(
        [
            "panel",
            f"{REAL_PANELS_TARGET} ÷ best simple baseline",
            "best simple baseline",
            "goal",
            "verdict",
        ],
        table_rows,
    )
    one_brand = [name for name in panels if meta["panels"][name]["n_entities"] == 1]
    for name in one_brand:
        here = [r for r in rows if r["panel"] == name]
        ours = [r["mse"] for r in ok(here) if r["method"] == REAL_PANELS_TARGET]
        rival = [r["mse"] for r in ok(here) if r["method"] == ONE_BRAND_RIVAL]
        if ours and rival:
            ratio = np.mean(ours) / np.mean(rival)
            verdict = "met" if ratio <= ONE_BRAND_GOAL else "not met"
            lines.append("")
            lines.append(
                f"One brand, {PANEL_TITLES.get(name, name)}: {REAL_PANELS_TARGET} ÷ "
                f"{ONE_BRAND_RIVAL} = {ratio:.2f} (goal ≤ {ONE_BRAND_GOAL}: "
                f"{verdict})."
            )
    return lines


def _origin_labels(meta: dict) -> list[str]:
    """``T-8``, ``T-16``, ...: where each origin's forecast weeks start."""
    return [f"T-{meta['horizon'] * k}" for k in range(1, meta["n_origins"] + 1)]


def _mse(value: float) -> str:
    # a diverged fit's error runs to many digits: keep the column narrow
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:.3g}"


def _real_panel_table(rows: list[dict], meta: dict) -> list[str]:
    labels = _origin_labels(meta)
    table_rows = []
    means = {}
    for method in [*meta["references"], *meta["methods"]]:
        mine = [r for r in rows if r["method"] == method]
        done = ok(mine)
        if not done:
            if mine:
                why = status(mine, method=method)
                table_rows.append([method, why, *["—"] * (len(labels) + 4), "0"])
            continue
        by_origin = np.mean([r["mse_by_origin"] for r in done], axis=0)
        means[method] = float(np.mean([r["mse"] for r in done]))
        ratio = float(np.mean([r["ratio_to_best_reference"] for r in done]))
        fit = (
            np.mean([r["fit_seconds"] for r in done])
            if "fit_seconds" in done[0]
            else None
        )
        table_rows.append(
            [
                method,
                *(_mse(value) for value in by_origin),
                _mse(means[method]),
                f"{ratio:.2f}" if ratio < 1000 else f"{ratio:.3g}",
                fmt_seconds(fit),
                _given(done[0], labels),
                str(len(done)),
            ]
        )
    best = min(means, key=means.get) if means else None
    for row in table_rows:
        if row[0] == best:
            row[len(labels) + 1] = f"**{row[len(labels) + 1]}**"
    return table(
        [
            "method",
            *(f"MSE {label}" for label in labels),
            "mean MSE",
            "÷ best reference",
            "fit",
            "given",
            "seeds",
        ],
        table_rows,
    )


def _given(row: dict, labels: list[str]) -> str:
    """What a method was given, in a few words (``—`` for a reference forecast)."""
    given = row.get("given_by_origin")
    if not given:
        return "—"
    roles = [
        p
        for p in ("media_columns", "funnel_columns", "control_columns")
        if p in given[0]["params"]
    ]
    parts = [f"`{p}`" for p in roles]
    funnel = sorted({c for g in given for c in g["funnel_left_out"]})
    if funnel:
        parts.append("no funnel (" + ", ".join(f"`{c}`" for c in funnel) + ")")
    if given[0]["shifted"]:
        parts.append(
            "shifted "
            + ", ".join(f"`{c}` +{v:.3g}" for c, v in given[0]["shifted"].items())
        )
    constant = defaultdict(list)
    for label, g in zip(labels, given, strict=True):
        for column in g["constant"]:
            constant[column].append(label)
    if constant:
        parts.append(
            "constant, left out: "
            + "; ".join(f"`{c}` ({', '.join(at)})" for c, at in constant.items())
        )
    return "; ".join(parts) or "media and controls as X"


# -- sections of speed.py and sktime_benchmark.py --------------------------------


def speed_section(result: dict) -> str:
    """The "Speed" section from ``speed.json``."""
    lines = [
        "## Speed",
        "",
        "Produced by `python benchmarks/speed.py` "
        f"({'quick' if result['quick'] else 'full'} run, 2 CPU cores, 8 nodes, "
        "T = 100). Seconds per epoch are the fastest epoch after the first: the "
        "machine is shared, and other tenants only ever add time.",
        "",
        "| configuration | shops | hidden | batch | s / shop-epoch "
        "| vs authors' 2.23 s | peak memory (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["paper_config"]:
        lines.append(
            f"| PAPER_CONFIG | {row['n_shops']} | {row['hidden']} | "
            f"{row['batch_size']} | {row['seconds_per_shop_epoch']:.4f} | "
            f"{AUTHORS_SECONDS_PER_SHOP_EPOCH / row['seconds_per_shop_epoch']:.0f}x "
            f"faster | {row['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "Default configuration (hidden 64, batch 8), growing the panel:",
        "",
        "| shops | s / epoch (fastest) | time ratio | s / shop-epoch "
        "| median batch (s) | time ratio (median batch) | fit time (s) "
        "| peak memory (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["scaling"]:
        lines.append(
            f"| {row['n_shops']} | {row['seconds_per_epoch']:.2f} | "
            f"{row['time_ratio']:.2f} | {row['seconds_per_shop_epoch']:.4f} | "
            f"{row['median_batch_seconds']:.3f} | "
            f"{row['median_batch_time_ratio']:.2f} | "
            f"{row['fit_seconds']:.1f} | {row['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "The time ratio from the median batch (batches of equal size, times "
        "the number of batches) is immune to bursts of other tenants' load, "
        "which hit whole epochs and make the fastest-epoch ratio noisy. "
        "Linear scaling means 2 and 4 at 2x and 4x shops.",
    ]
    return "\n".join(lines) + "\n"


def _sktime_cell(scores: dict, h: str) -> str:
    return f"{scores['mean'][h]:.4f} ± {scores['std'][h]:.4f}"


def _sktime_findings(methods: dict, horizons: list[str]) -> str:
    """One sentence: the best forecaster per horizon, CausalMMM against it."""
    scored = {m: s["mean"] for m, s in methods.items() if "mean" in s}
    best = {h: min(scored, key=lambda m: scored[m][h]) for h in horizons}
    text = "Lowest MSE: " + ", ".join(f"@{h} {best[h]}" for h in horizons) + "."
    ours = scored.get("CausalMMMForecaster")
    others = {m: s for m, s in scored.items() if m != "CausalMMMForecaster"}
    if ours and others:
        ratios = [
            f"@{h} {ours[h] / min(s[h] for s in others.values()):.2f}" for h in horizons
        ]
        text += (
            " CausalMMMForecaster's MSE over the best other forecaster's: "
            + ", ".join(ratios)
            + "."
        )
    return text


def sktime_section(result: dict) -> str:
    """The "sktime forecasting" section from ``sktime.json``."""
    minutes = result["seconds"] / 60
    kind = result["run"]
    command = "python benchmarks/sktime_benchmark.py"
    if kind != "full":
        command += f" --{kind}"
    lines = [
        SKTIME_HEADING,
        "",
        f"Produced by `{command}` ({kind} run, "
        f"{minutes:.1f} min on 2 shared CPU cores, torch threads "
        f"{result['torch_threads']}). Every forecaster runs through sktime's "
        "`evaluate` with an `ExpandingWindowSplitter` (refit on every window, "
        "fh = 1..30) and receives the same X over the forecast steps: the "
        "channel plan (spend, funnel nodes, context). MSE is on GMV divided by "
        "each shop's mean |GMV| over the window's training steps, at 1, 7 and 30 "
        "steps ahead, mean ± std over the windows; ÷ naive is the ratio of the "
        'mean to `NaiveForecaster(strategy="last")`\'s (below 1 beats it). The '
        "ridge is sktime's `YfromX` around `GeometricAdstock(decay=0.5, "
        "max_lag=6)` + `StandardScaler` + `Ridge(alpha=1)`, one per shop; the "
        "package's baselines run through `PanelRegressorForecaster`. Training "
        f"budgets: `{json.dumps(result['budget'])}` (defaults otherwise). "
        "Without a flag the script runs the full sizes (100 simulated shops x "
        "160 days and the whole demo year, 4 and 5 windows); `--reduced` fits "
        "fewer shops, days and windows with smaller budgets.",
    ]
    titles = {
        "sim1": 'Simulator, `SIMULATION_SETTINGS["sim1"]`',
        "demo": "Bundled demo data (`load_demo()`)",
    }
    for name, data in result["datasets"].items():
        lines += [
            "",
            f"### {titles.get(name, name)}",
            "",
            f"{data['n_shops']} shops x {data['n_steps']} days, "
            f"{data['n_windows']} windows (first fit on {data['initial_window']} "
            f"days, then every {data['step_length']} days).",
            "",
            "| forecaster | MSE@1 | MSE@7 | MSE@30 | ÷ naive @1 | ÷ naive @7 "
            "| ÷ naive @30 | fit s / window |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for method, scores in data["methods"].items():
            if "error" in scores:
                lines.append(f"| {method} | failed: {scores['error'][:80]} |||||||")
                continue
            hs = [str(h) for h in result["horizons"]]
            ratio = scores.get("ratio_to_naive", {})
            lines.append(
                f"| {method} | "
                + " | ".join(_sktime_cell(scores, h) for h in hs)
                + " | "
                + " | ".join(f"{ratio[h]:.2f}" if h in ratio else "-" for h in hs)
                + f" | {scores['fit_seconds']:.1f} |"
            )
        horizons = [str(h) for h in result["horizons"]]
        lines += ["", _sktime_findings(data["methods"], horizons)]
    return "\n".join(lines) + "\n"


# -- entry point ------------------------------------------------------------------


#: Sections of the scripts that write their own JSON (no rows), by results file.
OTHER_SECTIONS = (("speed.json", speed_section), ("sktime.json", sktime_section))


def write_docs(results: Path, docs: Path) -> list[str]:
    """Rebuild every section this script owns; return the headings written."""
    contents = {name: load(results, name) for _, name, _ in SCRIPTS}
    docs.parent.mkdir(parents=True, exist_ok=True)
    sections = []
    for name, render in OTHER_SECTIONS:
        content = load(results, name)
        if content is None:
            continue
        try:
            sections.append(render(content))
        except Exception as exc:  # leave that section as it is
            print(f"kept the section of {name} as it is ({exc!r})")
    sections += [
        reproducing_section(results, contents),
        structure_section(contents["discovery.json"], docs),
        forecasting_section(contents["forecasting.json"], docs),
        ablations_section(contents["ablations.json"]),
        cost_section(contents["cost.json"], contents["discovery.json"], docs),
        real_panels_section(contents["real_panels.json"]),
    ]
    for text in sections:
        replace_section(docs, text.splitlines()[0], text)
    return [text.splitlines()[0] for text in sections]


def update_docs(args: argparse.Namespace) -> None:
    """Rebuild the docs after a script's run, unless it was told ``--no-docs``."""
    if not args.no_docs:
        main(["--results", str(args.results), "--docs", str(args.docs)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    for heading in write_docs(args.results, args.docs):
        print(f"wrote {heading} in {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

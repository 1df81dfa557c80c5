"""Causal structure recovery: every discoverer on simulated panels with known graphs.

Experiments (``--experiments``, comma-separated):

``main``
    Sim-1-like and Sim-2-like panels (``SIMULATION_SETTINGS["sim1"]`` and
    ``["sim2"]``: 300 shops, 8 nodes, T = 100), every discoverer.
``graph_types``, ``nodes``, ``length``, ``shops``
    Sim-1-like panels with one axis changed: graph types R in {3, 5, 10},
    nodes d in {8, 12, 20}, length T in {100, 360, 720}, shops N in
    {50, 100, 300, 1000}; every discoverer except the slow cLSTM and the
    PAPER_CONFIG variant.

Each fit gives one row of ``discovery.json``: per-shop mean edge AUROC, pooled
AUROC, AUPRC with the edge density as its chance level, heterogeneity AUROC
and the fit time. A discoverer that pools graph types (CausalMMM's default)
also scores, from the same fit, its encoder's own posteriors and the pooled
graphs at every weight of :data:`POOLING_WEIGHTS` and without the types'
Granger tests (``pooling`` in the row): pooling happens after training, so one
fit serves them all. Points shared by
several experiments (the Sim-1-like panel is in all of them) are fitted once.
``CausalMMM (lag_features='both')`` is the discoverer without summed lags, its
default before them; the goals count CausalMMM's own variants as
configurations, not rivals.

Usage::

    python benchmarks/discovery.py --quick                  # toy sizes, seconds
    python benchmarks/discovery.py --experiments main --seeds 1
    python benchmarks/discovery.py --experiments main --setting sim2 --resume
    python benchmarks/discovery.py                          # all, 3 seeds: hours

Optional methods (PCMCI, VARLiNGAM: ``pip install sklearn-causalmmm[causal]``)
are recorded as "not installed" when their library is missing.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import copy
import json
import sys
from functools import cache, partial

import report
from _common import (
    DISCOVERERS,
    NO_TYPE_TEST,
    POOLING_WEIGHTS,
    QUICK_SHOPS,
    ResultsFile,
    Timer,
    base_parser,
    comma_separated,
    config_key,
    data_config,
    discovery_panel,
    epochs_run,
    parse_script_args,
    run_script,
    select,
    simulate,
    structure_metrics,
)
from _package import (
    flatten_off_diagonal,
    min_steps_for,
    unflatten_off_diagonal,
    varlingam_min_steps,
)

SCRIPT = "discovery.py"
RESULTS_FILE = "discovery.json"
#: The size of the main table and the base point of every sweep.
MAIN_SHOPS = 300


def experiments(quick: bool) -> dict[str, dict]:
    """Experiment name -> title, swept axis, data configurations, methods."""
    n_shops = QUICK_SHOPS if quick else MAIN_SHOPS
    sweeps = {
        "graph_types": ("n_graph_types", (3, 5) if quick else (3, 5, 10)),
        "nodes": ("n_nodes", (8, 12) if quick else (8, 12, 20)),
        "length": ("n_steps", (60, 100) if quick else (100, 360, 720)),
        "shops": (
            "n_shops",
            (QUICK_SHOPS, 2 * QUICK_SHOPS) if quick else (50, 100, 300, 1000),
        ),
    }
    titles = {
        "graph_types": "Graph types R (Sim-1-like otherwise)",
        "nodes": "Nodes d (Sim-1-like otherwise)",
        "length": "Series length T (Sim-1-like otherwise)",
        "shops": "Shops N (Sim-1-like otherwise)",
    }
    out = {
        "main": {
            "title": "Sim-1-like and Sim-2-like panels",
            "axis": "setting",
            "configs": [
                data_config("sim1", n_shops=n_shops),
                data_config("sim2", n_shops=n_shops),
            ],
            "sweep_only": False,
        }
    }
    for name, (axis, values) in sweeps.items():
        changes = [{axis: value} for value in values]
        out[name] = {
            "title": titles[name],
            "axis": axis,
            "configs": [
                data_config("sim1", **{"n_shops": n_shops, **change})
                for change in changes
            ],
            "sweep_only": True,
        }
    return out


#: The fewest steps each VAR-based discoverer needs for a lag on a number of
#: nodes: the bound its ``check_series_length`` call enforces.
_VAR_MIN_STEPS = {
    "Linear Granger": min_steps_for,
    "VARLiNGAM": varlingam_min_steps,
}


def _fitting_lag(method, n_nodes: int, n_steps: int) -> dict:
    """A lower ``max_lag`` for the VAR-based methods when the series are too short.

    The largest lag whose bound the series meet: at d = 20 and T = 100 Linear
    Granger runs with p = 4 and VARLiNGAM with p = 3 instead of failing.
    """
    if method.name not in _VAR_MIN_STEPS:
        return {}
    min_steps = _VAR_MIN_STEPS[method.name]
    default = method.configuration(False).get("max_lag", 5)
    fitting = default
    while fitting > 1 and min_steps(fitting, n_nodes) > n_steps:
        fitting -= 1
    return {"max_lag": fitting} if fitting < default else {}


def pooling_metrics(model, truth) -> dict:
    """Structure metrics of the encoder's posteriors and of each pooling weight.

    Empty for a discoverer without graph types.
    """
    pooling = getattr(model, "pooling_", None)
    if pooling is None:
        return {}
    mixture = pooling.mixture_
    encoder = model.encoder_edge_probabilities_
    rows = flatten_off_diagonal(encoder)
    scores = {"encoder": structure_metrics(truth, encoder)}
    for weight in POOLING_WEIGHTS:
        reweighted = copy.copy(mixture)
        reweighted.shop_evidence_weight = weight
        pooled = unflatten_off_diagonal(reweighted.posterior(rows))
        scores[str(weight)] = structure_metrics(truth, pooled)
    # the discoverer's own weight, with the prototypes alone as the types' graphs
    untested = copy.copy(mixture)
    untested.edge_prototypes_ = mixture.prototypes_
    pooled = unflatten_off_diagonal(untested.posterior(rows))
    scores[NO_TYPE_TEST] = structure_metrics(truth, pooled)
    # the graph the discoverer reports: its types' pooling, or the Granger
    # estimate it chose instead on held-out steps
    return {"pooling": scores, "graph_source": getattr(model, "graph_source_", None)}


def evaluate(method, seed: int, quick: bool, load) -> dict:
    """Fit one discoverer on the simulated panel ``load()`` and score its graphs."""
    if not method.available():
        return {
            "skipped": f"not installed ({method.requires}: "
            "pip install sklearn-causalmmm[causal])"
        }
    data = load()
    overrides = _fitting_lag(method, *discovery_panel(data).shape[1:])
    params = method.configuration(quick, **overrides)
    model = method.build(quick, seed, **overrides)
    with Timer() as timer:
        model.fit(discovery_panel(data), context=data.context)
    return {
        "params": json.loads(json.dumps(params, default=str)),
        "fit_seconds": timer.seconds,
        "epochs": epochs_run(model, method, params),
        **structure_metrics(data.adjacency, model.edge_probabilities_),
        **pooling_metrics(model, data.adjacency),
    }


def jobs(plan: dict, methods, seeds, quick: bool, setting: str | None):
    """``(identity, job)`` pairs; each simulated panel is built once for all methods."""
    seen = set()
    for experiment in plan.values():
        for config in experiment["configs"]:
            if setting and config["setting"] != setting:
                continue
            for seed in seeds:
                if (config_key(config), seed) in seen:
                    continue
                seen.add((config_key(config), seed))
                load = cache(partial(simulate, config, seed))
                for method in methods:
                    if experiment["sweep_only"] and not method.sweep:
                        continue
                    identity = {
                        "method": method.name,
                        "config": config,
                        "config_key": config_key(config),
                        "seed": seed,
                    }
                    yield identity, partial(evaluate, method, seed, quick, load)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--experiments",
        default=None,
        help="comma-separated among main, graph_types, nodes, length, shops",
    )
    parser.add_argument("--setting", choices=("sim1", "sim2"), default=None)
    args, results_dir = parse_script_args(parser, argv)
    plan = experiments(args.quick)
    chosen = plan
    if args.experiments:
        names = comma_separated(parser, args.experiments, list(plan), "experiment(s)")
        chosen = {name: plan[name] for name in names}
    methods = select(DISCOVERERS, args.methods)
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    results = ResultsFile(
        results_dir / RESULTS_FILE,
        args.quick,
        meta={
            "experiments": plan,
            "methods": [
                {"name": m.name, "sweep": m.sweep, "note": m.note} for m in DISCOVERERS
            ],
        },
    )
    run_script(
        SCRIPT,
        args,
        argv,
        results,
        jobs(chosen, methods, range(n_seeds), args.quick, args.setting),
        "discovery",
    )
    report.update_docs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

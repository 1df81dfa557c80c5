"""Ablations of CausalMMM as the paper names them, and sensitivity to tau and KL weight.

Variants (each a change of the default configuration):

* ``CM-full``: a fixed, fully connected graph (``graph="full"``): no learned
  structure, so its edge scores cannot rank edges (AUROC 0.5);
* ``CM-markov``: no recurrent (carryover) memory in the decoder
  (``carryover="markov"``);
* ``CM-rw``: no saturation (Hill) module (``saturation=None``);
* ``hard edges``: straight-through one-hot edge samples (``hard=True``)
  against the default soft ones;
* Gumbel temperature ``tau`` in {0.1, 0.5 (default), 1, 2} and KL weight in
  {0.1, 1 (default), 10, 100};
* ``edge gains``: each shop's own edge gains (``edge_gain_scale=2``; forecast
  only, the discoverer has none);
* ``graph types``: the discoverer's graphs pooled over graph types
  (``pooling="graph_types"``; structure only, the regressor has none);
* ``conditional lags``: the encoder also reads each sender's coefficients in a
  ridge regression of the receiver on every node's lags
  (``lag_features="both"``);
* ``all lag statistics``: it also reads the coefficients of every node's summed
  lags (``lag_features="all"``, the discoverer's default);
* ``decoder warm-up``: the decoder first trains alone on random graphs for two
  epochs (``warmup_epochs=2``);
* ``edge gains + conditional lags``: the regressor's default configuration
  (edge gains) with both lag features.

The ablations take away modules of the paper's model, whose decoder is shared
by every shop and whose graphs are read shop by shop: each variant keeps
``edge_gain_scale=0`` (forecast), ``pooling=None`` (structure) and
``lag_features="bivariate"``
unless it says otherwise, so the references are not the estimators' defaults
(the discoverer pools graph types and reads all three lag statistics, the
regressor has edge gains).

Every variant is scored on both tasks on the Sim-1-like panel (300 shops):
structure (``CausalGraphDiscoverer``, the metrics of ``discovery.py``) and
forecasting (``CausalMMMRegressor``, the protocol of ``forecasting.py``).

Usage::

    python benchmarks/ablations.py --quick
    python benchmarks/ablations.py --seeds 1
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import json
import sys
from functools import cache, partial

import report
from _common import (
    DISCOVERERS,
    FORECAST_STEPS,
    FORECASTERS,
    QUICK_SHOPS,
    ResultsFile,
    Timer,
    base_parser,
    data_config,
    discovery_panel,
    epochs_run,
    forecast_split,
    parse_script_args,
    run_script,
    scaled_mse,
    simulate,
    structure_metrics,
)

SCRIPT = "ablations.py"
RESULTS_FILE = "ablations.json"
SHOPS = 300
REFERENCE = "CausalMMM (default)"

#: (name, group, change of the default configuration)
VARIANTS = (
    (REFERENCE, "reference", {}),
    ("CM-full", "module", {"graph": "full"}),
    ("CM-markov", "module", {"carryover": "markov"}),
    ("CM-rw", "module", {"saturation": None}),
    ("hard edges", "edges", {"hard": True}),
    ("tau=0.1", "tau", {"tau": 0.1}),
    ("tau=1", "tau", {"tau": 1.0}),
    ("tau=2", "tau", {"tau": 2.0}),
    ("kl_weight=0.1", "kl_weight", {"kl_weight": 0.1}),
    ("kl_weight=10", "kl_weight", {"kl_weight": 10.0}),
    ("kl_weight=100", "kl_weight", {"kl_weight": 100.0}),
    ("edge gains", "edge gains", {"edge_gain_scale": 2.0}),
    ("graph types", "graph types", {"pooling": "graph_types"}),
    ("conditional lags", "lag features", {"lag_features": "both"}),
    ("all lag statistics", "lag features", {"lag_features": "all"}),
    ("decoder warm-up", "training", {"warmup_epochs": 2}),
    (
        "edge gains + conditional lags",
        "lag features",
        {"edge_gain_scale": 2.0, "lag_features": "both"},
    ),
)
#: What every variant starts from: the paper's decoder, shared by all shops,
#: and graphs read shop by shop.
BASE = {
    "structure": {"pooling": None, "lag_features": "bivariate"},
    "forecast": {"edge_gain_scale": 0.0, "lag_features": "bivariate"},
}
TASKS = ("structure", "forecast")
#: Variants that change only what the discoverer reports.
STRUCTURE_ONLY = {"graph types"}
#: Variants of a parameter only the regressor has.
FORECAST_ONLY = {"edge gains", "edge gains + conditional lags"}


def _causalmmm(methods) -> object:
    return next(method for method in methods if method.name == "CausalMMM")


def evaluate(variant, task: str, seed: int, quick: bool, load) -> dict:
    """Fit one variant on the Sim-1-like panel ``load()`` for one task."""
    data = load()
    change = {**BASE[task], **variant[2]}
    method = _causalmmm(DISCOVERERS if task == "structure" else FORECASTERS)
    params = method.configuration(quick, **change)
    model = method.build(quick, seed, **change)
    row = {
        "n_shops": int(data.y.shape[0]),
        "params": json.loads(json.dumps(params, default=str)),
    }
    if task == "structure":
        with Timer() as timer:
            model.fit(discovery_panel(data), context=data.context)
        row.update(structure_metrics(data.adjacency, model.edge_probabilities_))
    else:
        X_fit, y_fit, plan, y_true, scale = forecast_split(data.X, data.y)
        with Timer() as timer:
            model.fit(X_fit, y_fit, context=data.context)
        mse = scaled_mse(y_true, model.predict(plan), scale)
        row["mse"] = mse
        row.update({f"mse_{h}": mse[h - 1] for h in (1, 7, FORECAST_STEPS)})
    row["fit_seconds"] = timer.seconds
    row["epochs"] = epochs_run(model, method, params)
    return row


def jobs(variants, tasks, seeds, quick: bool):
    config = data_config("sim1", n_shops=QUICK_SHOPS if quick else SHOPS)
    for seed in seeds:
        load = cache(partial(simulate, config, seed))
        for task in tasks:
            for variant in variants:
                name, group, change = variant
                if task == "forecast" and name in STRUCTURE_ONLY:
                    continue
                if task == "structure" and name in FORECAST_ONLY:
                    continue
                identity = {
                    "variant": name,
                    "group": group,
                    "change": change,
                    "task": task,
                    "seed": seed,
                }
                yield identity, partial(evaluate, variant, task, seed, quick, load)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help="structure,forecast")
    args, results_dir = parse_script_args(parser, argv)
    variants = VARIANTS
    if args.methods:
        wanted = [name.strip() for name in args.methods.split(",")]
        variants = [v for v in VARIANTS if v[0] in wanted]
        if len(variants) != len(wanted):
            parser.error(f"variants are {[v[0] for v in VARIANTS]}")
    tasks = [task.strip() for task in args.tasks.split(",") if task.strip()]
    if any(task not in TASKS for task in tasks):
        parser.error(f"tasks are {TASKS}")
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    results = ResultsFile(
        results_dir / RESULTS_FILE,
        args.quick,
        meta={
            "variants": [{"name": n, "group": g, "change": c} for n, g, c in VARIANTS],
            "reference": REFERENCE,
            "n_shops": QUICK_SHOPS if args.quick else SHOPS,
        },
    )
    run_script(
        SCRIPT,
        args,
        argv,
        results,
        jobs(variants, tasks, range(n_seeds), args.quick),
        "ablations",
    )
    report.update_docs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

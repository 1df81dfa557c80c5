"""GMV forecasting: CausalMMM against the forecasting baselines, MSE by horizon.

Protocol: every model is fitted on all but the last 30 steps of every shop
(channels, funnel nodes and context as ``X``, GMV as ``y``) and predicts the
last 30 steps of GMV from the plan of those steps (``X``: the package's
regressors take every non-target node as known over the plan). The error at
horizon h is the MSE, over shops, of the h-th forecast step of GMV divided by
the shop's mean absolute GMV over its training window, so that every shop
weighs the same. All 30 horizons are kept in ``forecasting.json``; the tables
show 1, 7 and 30.

Datasets (``--datasets``): ``sim1`` and ``sim2`` (300 simulated shops,
T = 100, so 70 fitted steps; a new panel per seed) and ``demo`` (the bundled
40-shop, 365-day panel; the seed only changes the models).

Usage::

    python benchmarks/forecasting.py --quick
    python benchmarks/forecasting.py --datasets sim1,demo --seeds 1
    python benchmarks/forecasting.py                 # sim1 and demo, 3 seeds
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import json
import sys
from functools import cache, partial

import report
from _common import (
    FORECAST_STEPS,
    FORECASTERS,
    QUICK_SHOPS,
    ResultsFile,
    Timer,
    base_parser,
    comma_separated,
    data_config,
    epochs_run,
    forecast_split,
    parse_script_args,
    run_script,
    scaled_mse,
    select,
    simulate,
)

SCRIPT = "forecasting.py"
RESULTS_FILE = "forecasting.json"
DATASETS = ("sim1", "sim2", "demo")
DEFAULT_DATASETS = ("sim1", "demo")
SIM_SHOPS = 300
#: The quick demo keeps the last 100 days of its first shops.
QUICK_DEMO_STEPS = 100


def load_dataset(name: str, seed: int, quick: bool) -> dict:
    """Channels ``X``, GMV ``y`` and ``context`` of a forecasting dataset."""
    if name == "demo":
        from sklearn_causalmmm.datasets import load_demo

        demo = load_demo()
        X, y, context = demo.X, demo.y, demo.context
        if quick:
            X = X[:QUICK_SHOPS, :, -QUICK_DEMO_STEPS:]
            y = y[:QUICK_SHOPS, -QUICK_DEMO_STEPS:]
            context = context[:QUICK_SHOPS]
        return {"X": X, "y": y, "context": context}
    config = data_config(name, n_shops=QUICK_SHOPS if quick else SIM_SHOPS)
    data = simulate(config, seed)
    return {"X": data.X, "y": data.y, "context": data.context}


def evaluate(method, seed: int, quick: bool, load) -> dict:
    """Fit one forecaster on ``load()``, forecast the held-out steps, score them."""
    data = load()
    X_fit, y_fit, plan, y_true, scale = forecast_split(data["X"], data["y"])
    params = method.configuration(quick)
    model = method.build(quick, seed)
    with Timer() as fit_timer:
        model.fit(X_fit, y_fit, context=data["context"])
    with Timer() as predict_timer:
        y_pred = model.predict(plan)
    mse = scaled_mse(y_true, y_pred, scale)
    return {
        "n_shops": int(y_fit.shape[0]),
        "n_fit_steps": int(y_fit.shape[1]),
        "params": json.loads(json.dumps(params, default=str)),
        "fit_seconds": fit_timer.seconds,
        "predict_seconds": predict_timer.seconds,
        "epochs": epochs_run(model, method, params),
        "mse": mse,
        **{f"mse_{h}": mse[h - 1] for h in (1, 7, FORECAST_STEPS)},
    }


def jobs(datasets, methods, seeds, quick: bool):
    for dataset in datasets:
        for seed in seeds:
            load = cache(partial(load_dataset, dataset, seed, quick))
            for method in methods:
                identity = {"method": method.name, "dataset": dataset, "seed": seed}
                yield identity, partial(evaluate, method, seed, quick, load)


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        default=",".join(DEFAULT_DATASETS),
        help=f"comma-separated among {', '.join(DATASETS)}",
    )
    args, results_dir = parse_script_args(parser, argv)
    datasets = comma_separated(parser, args.datasets, DATASETS, "dataset(s)")
    methods = select(FORECASTERS, args.methods)
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    results = ResultsFile(
        results_dir / RESULTS_FILE,
        args.quick,
        meta={
            "forecast_steps": FORECAST_STEPS,
            "methods": [m.name for m in FORECASTERS],
            "sim_shops": QUICK_SHOPS if args.quick else SIM_SHOPS,
        },
    )
    run_script(
        SCRIPT,
        args,
        argv,
        results,
        jobs(datasets, methods, range(n_seeds), args.quick),
        "forecasting",
    )
    report.update_docs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the benchmark scripts share: methods, panels, metrics and results files.

The layers go one way: this module (with ``_package.py``, the package's
internal names) imports no script; ``report.py`` imports only this module;
every script imports this module and ``report.py``; ``run_all.py`` imports the
scripts. Scripts run as ``python benchmarks/<script>.py``, which puts this
folder on ``sys.path``.

``discovery.py``, ``forecasting.py``, ``ablations.py`` and ``cost.py`` append
one JSON row per finished fit to their results file (under a file lock, so two
processes may share a file), and ``report.py`` rebuilds ``docs/benchmarks.md``
from those files. A run that is stopped keeps every finished row; ``--resume``
skips the rows already there.

Every script has a ``--quick`` mode (toy sizes, seconds) that writes to
``benchmarks/results/quick/`` unless told otherwise, so that toy numbers never
overwrite the real ones.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import fcntl
import functools
import importlib
import json
import math
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from _package import NRI_DISCOVERER

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
QUICK_RESULTS = RESULTS / "quick"
DOCS = ROOT.parent / "docs" / "benchmarks.md"

#: Steps held out at the end of every shop and forecast from the channel plan.
FORECAST_STEPS = 30
#: Horizons reported in the tables (all 1..FORECAST_STEPS are kept in the JSON).
HORIZONS = (1, 7, 30)
#: Channels and funnel nodes for a graph of d nodes (GMV is the last node).
NODE_SPLITS = {8: (5, 2), 12: (8, 3), 20: (15, 4)}
#: Sizes of the quick mode: tiny panels and networks, a few epochs.
QUICK_SHOPS = 6
#: Weights of a shop's own evidence against its graph types scored in every row
#: of a pooling discoverer (``GraphTypeMixture(shop_evidence_weight=...)``).
POOLING_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Key of the pooled graphs without the types' Granger tests (default weight).
NO_TYPE_TEST = "no type test"
#: The authors' released implementation on this kind of machine (issue figure),
#: in seconds per shop-epoch: what ``speed.py`` compares CausalMMM with.
AUTHORS_SECONDS_PER_SHOP_EPOCH = 2.23


# -- methods ---------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A benchmarked estimator: where it lives and how it is configured.

    ``params`` is the benchmark configuration, ``quick`` what ``--quick``
    changes, ``cost`` what ``cost.py`` changes (fewer epochs: it measures time
    per shop-epoch, not accuracy). ``epochs`` names the parameter that counts
    passes over the data (None for methods without epochs).
    """

    name: str
    estimator: str
    params: dict = field(default_factory=dict)
    quick: dict = field(default_factory=dict)
    cost: dict = field(default_factory=dict)
    epochs: str | None = None
    sweep: bool = True
    requires: str | None = None
    note: str = ""

    def available(self) -> bool:
        """False when the method's optional dependency is not installed."""
        if self.requires is None:
            return True
        try:
            importlib.import_module(self.requires)
        except ImportError:
            return False
        return True

    def configuration(self, quick: bool, cost: bool = False, **overrides) -> dict:
        params = dict(self.params)
        if cost:
            params.update(self.cost)
        if quick:
            params.update(self.quick)
        params.update(overrides)
        return params

    def build(self, quick: bool, seed: int, cost: bool = False, **overrides):
        module, _, name = self.estimator.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        params = self.configuration(quick, cost, **overrides)
        if "random_state" in cls().get_params():  # deterministic methods have none
            params["random_state"] = seed
        return cls(**params)


_TINY_NET = {"hidden": 8, "max_epochs": 2}
_CAUSALMMM_COST = {"max_epochs": 3}


def _paper_config() -> dict:
    from sklearn_causalmmm import PAPER_CONFIG

    # the authors train for 10 epochs and read each shop's graph on its own
    return {**PAPER_CONFIG, "max_epochs": 10, "pooling": None}


DISCOVERERS = (
    Method(
        "CausalMMM",
        "sklearn_causalmmm.CausalGraphDiscoverer",
        quick=_TINY_NET,
        cost=_CAUSALMMM_COST,
        epochs="max_epochs",
        note="bivariate, conditional and summed lag features, graphs pooled over "
        "graph types (the defaults)",
    ),
    Method(
        "CausalMMM (lag_features='both')",
        "sklearn_causalmmm.CausalGraphDiscoverer",
        params={"lag_features": "both"},
        quick=_TINY_NET,
        cost=_CAUSALMMM_COST,
        epochs="max_epochs",
        note="bivariate and conditional lag features only (the discoverer's "
        "default before summed lags), graphs pooled over graph types",
    ),
    Method(
        "CausalMMM (PAPER_CONFIG)",
        "sklearn_causalmmm.CausalGraphDiscoverer",
        params=_paper_config(),
        quick=_TINY_NET,
        cost=_CAUSALMMM_COST,
        epochs="max_epochs",
        sweep=False,
        note="the authors' settings: hidden 256, soft edges, 10 epochs, no pooling",
    ),
    Method(
        "NRI",
        NRI_DISCOVERER,
        quick=_TINY_NET,
        cost=_CAUSALMMM_COST,
        epochs="max_epochs",
        note="CausalMMM's encoder with a plain one-step decoder, bivariate lag "
        "features only, graphs not pooled",
    ),
    Method(
        "InGRA",
        "sklearn_causalmmm.baselines.InGRADiscoverer",
        quick=_TINY_NET,
        cost={"max_epochs": 10},
        epochs="max_epochs",
    ),
    Method(
        "GVAR",
        "sklearn_causalmmm.baselines.GVARDiscoverer",
        quick={"hidden": 4, "max_epochs": 5},
        cost={"max_epochs": 30},
        epochs="max_epochs",
    ),
    Method(
        "NGC-cMLP",
        "sklearn_causalmmm.baselines.NeuralGrangerDiscoverer",
        params={"model": "mlp"},
        quick={"hidden": 4, "max_iter": 5},
        cost={"max_iter": 50},
        epochs="max_iter",
    ),
    Method(
        "NGC-cLSTM",
        "sklearn_causalmmm.baselines.NeuralGrangerDiscoverer",
        params={"model": "lstm"},
        quick={"hidden": 4, "max_iter": 3},
        cost={"max_iter": 20},
        epochs="max_iter",
        sweep=False,
        note="about 20 times slower than the cMLP: main table only",
    ),
    Method("Linear Granger", "sklearn_causalmmm.baselines.LinearGrangerDiscoverer"),
    Method(
        "PCMCI",
        "sklearn_causalmmm.baselines.PCMCIDiscoverer",
        requires="tigramite",
        sweep=False,
        note="about 2.5 s per shop at one thread (13 min per 300-shop fit): "
        "main table only",
    ),
    Method(
        "VARLiNGAM",
        "sklearn_causalmmm.baselines.VARLiNGAMDiscoverer",
        requires="lingam",
    ),
)

FORECASTERS = (
    Method(
        "CausalMMM",
        "sklearn_causalmmm.CausalMMMRegressor",
        quick=_TINY_NET,
        cost=_CAUSALMMM_COST,
        epochs="max_epochs",
    ),
    Method(
        "LSTM",
        "sklearn_causalmmm.baselines.LSTMRegressor",
        quick=_TINY_NET,
        cost={"max_epochs": 5},
        epochs="max_epochs",
    ),
    Method(
        "Wide&Deep",
        "sklearn_causalmmm.baselines.WideDeepRegressor",
        quick={"hidden_layer_sizes": (8,), "max_epochs": 2},
        cost={"max_epochs": 5},
        epochs="max_epochs",
    ),
    Method(
        "BTVC",
        "sklearn_causalmmm.baselines.BTVCRegressor",
        quick={"max_iter": 10},
        cost={"max_iter": 60},
        epochs="max_iter",
    ),
    Method(
        "GVAR",
        "sklearn_causalmmm.baselines.GVARRegressor",
        quick={"hidden": 4, "max_epochs": 5},
        cost={"max_epochs": 30},
        epochs="max_epochs",
    ),
    Method(
        "Adstock+Hill ridge",
        "sklearn_causalmmm.baselines.AdstockHillRegressor",
        quick={"n_init": 1, "max_iter": 10},
    ),
    Method(
        "Naive (last value)",
        "sklearn_causalmmm.baselines.SeasonalNaiveRegressor",
        params={"strategy": "last"},
    ),
    Method(
        "Seasonal naive (7 days)",
        "sklearn_causalmmm.baselines.SeasonalNaiveRegressor",
        params={"strategy": "seasonal", "season_length": 7},
    ),
)


def select(methods: Sequence[Method], names: str | None) -> list[Method]:
    """The methods named in a comma-separated list (all when ``names`` is None)."""
    if not names:
        return list(methods)
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {method.name: method for method in methods}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"unknown method(s) {unknown}; choose among {list(known)}")
    return [known[name] for name in wanted]


def comma_separated(
    parser: argparse.ArgumentParser, text: str, choices: Sequence[str], what: str
) -> list[str]:
    """The names of a comma-separated option, each one of ``choices``.

    Examples
    --------
    >>> comma_separated(argparse.ArgumentParser(), "sim1, demo", ("sim1", "demo"), "x")
    ['sim1', 'demo']
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in choices]
    if unknown:
        parser.error(f"unknown {what} {unknown}; choose among {tuple(choices)}")
    return names


def epochs_run(model, method: Method, params: dict) -> int | None:
    """Passes over the data a fitted model made (early stopping included)."""
    net = getattr(model, "net_", None)
    if net is not None and getattr(net, "history", None) is not None:
        return len(net.history)
    if method.epochs is None:
        return None
    return int(params.get(method.epochs, getattr(model, method.epochs)))


# -- data ------------------------------------------------------------------------


def data_config(setting: str, **changes) -> dict:
    """A simulator configuration: a preset of ``SIMULATION_SETTINGS`` and changes.

    ``n_nodes`` is translated to ``n_channels``/``n_funnel`` with
    :data:`NODE_SPLITS`.
    """
    from sklearn_causalmmm.datasets import SIMULATION_SETTINGS

    base = SIMULATION_SETTINGS[setting]
    config = {
        "setting": setting,
        "n_shops": base["n_shops"],
        "n_nodes": base["n_channels"] + base["n_funnel"] + 1,
        "n_graph_types": base["n_graph_types"],
        "n_steps": base["n_steps"],
    }
    config.update(changes)
    return config


def config_key(config: dict) -> str:
    return json.dumps(config, sort_keys=True)


def simulate(config: dict, seed: int):
    """Simulate the panel of a :func:`data_config` (contributions skipped)."""
    from sklearn_causalmmm.datasets import SIMULATION_SETTINGS, make_causal_mmm

    settings = dict(SIMULATION_SETTINGS[config["setting"]])
    n_channels, n_funnel = NODE_SPLITS.get(
        config["n_nodes"], (settings["n_channels"], settings["n_funnel"])
    )
    if n_channels + n_funnel + 1 != config["n_nodes"]:
        raise ValueError(f"no channel/funnel split for {config['n_nodes']} nodes")
    settings.update(
        n_shops=config["n_shops"],
        n_channels=n_channels,
        n_funnel=n_funnel,
        n_graph_types=config["n_graph_types"],
        n_steps=config["n_steps"],
    )
    return make_causal_mmm(**settings, random_state=seed, compute_contributions=False)


def discovery_panel(data) -> np.ndarray:
    """Channels, funnel nodes and GMV as one ``(n_shops, d, n_steps)`` array."""
    return np.concatenate([data.X, data.y[:, None]], axis=1)


# -- metrics ---------------------------------------------------------------------


def structure_metrics(truth: np.ndarray, scores: np.ndarray) -> dict:
    """Edge AUROC (per shop and pooled), AUPRC with its chance level, heterogeneity.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.zeros((2, 3, 3), dtype=int)
    >>> truth[:, 0, 1] = 1
    >>> truth[0, 1, 2] = 1
    >>> structure_metrics(truth, truth.astype(float))["edge_auroc"]
    1.0
    """
    from sklearn_causalmmm.metrics import (
        edge_auprc,
        edge_auroc,
        edge_density,
        heterogeneity_auroc,
        pooled_edge_auroc,
    )

    try:
        heterogeneity = heterogeneity_auroc(truth, scores)
    except ValueError:  # every shop has the same graph: nothing to score
        heterogeneity = None
    return {
        "edge_auroc": float(edge_auroc(truth, scores)),
        "pooled_edge_auroc": float(pooled_edge_auroc(truth, scores)),
        "edge_auprc": float(edge_auprc(truth, scores)),
        "edge_density": float(edge_density(truth)),
        "heterogeneity_auroc": heterogeneity,
    }


def forecast_split(X: np.ndarray, y: np.ndarray, steps: int = FORECAST_STEPS):
    """Training window, channel plan, held-out GMV and each shop's GMV scale.

    The scale is the shop's mean absolute GMV over the training window: errors
    are reported on GMV divided by it, so that every shop weighs the same.
    """
    if y.shape[-1] <= steps:
        raise ValueError(f"{y.shape[-1]} steps leave nothing to fit before {steps}")
    scale = np.abs(y[:, :-steps]).mean(axis=1)
    return X[..., :-steps], y[:, :-steps], X[..., -steps:], y[:, -steps:], scale


def scaled_mse(y_true: np.ndarray, y_pred: np.ndarray, scale: np.ndarray) -> list:
    """MSE at every horizon ``1..n_steps`` of GMV divided by each shop's scale."""
    from sklearn_causalmmm.metrics import mse_at_horizon

    mse = mse_at_horizon(y_true / scale[:, None], y_pred / scale[:, None])
    return [float(value) for value in mse]


def mean_std(values: Iterable[float | None]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for one value) and count; None skipped.

    Examples
    --------
    >>> mean_std([1.0, 2.0, 3.0])
    (2.0, 1.0, 3)
    >>> mean_std([0.5, None])
    (0.5, 0.0, 1)
    """
    kept = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not kept:
        return math.nan, math.nan, 0
    std = float(np.std(kept, ddof=1)) if len(kept) > 1 else 0.0
    return float(np.mean(kept)), std, len(kept)


# -- measurements ----------------------------------------------------------------


def set_threads(n_threads: int) -> None:
    """Limit torch and BLAS to ``n_threads`` for the rest of the process.

    The benchmarks run on 2 shared cores, at most two processes at a time:
    oversubscribed OpenMP threads spin-wait and slow everything down.
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n_threads)
    threadpool_limits(limits=n_threads)


def _status_mb(field_name: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_memory() -> float | None:
    """Reset the process's peak resident memory (Linux); return the current RSS.

    Writing 5 to ``/proc/self/clear_refs`` resets ``VmHWM`` to the current
    resident size, so that one process can measure the peak of each method in
    turn. Returns None when the kernel does not allow it.
    """
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return None
    return _status_mb("VmRSS")


def peak_memory() -> float | None:
    """Peak resident memory (MB) since the last :func:`reset_peak_memory`."""
    return _status_mb("VmHWM")


class Timer:
    """Wall time of a ``with`` block, in ``seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# -- results files ---------------------------------------------------------------


class ResultsFile:
    """A JSON file of result rows, shared safely by concurrent processes.

    The file holds ``{"quick": bool, "meta": {...}, "rows": [...], "runs": [...]}``.
    Each row has a ``key``; adding a row replaces the row with the same key.
    """

    def __init__(self, path: Path, quick: bool, meta: dict | None = None):
        self.path = Path(path)
        self.quick = quick
        self.meta = meta or {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            content = self._read()
            if content["rows"] and content["quick"] != quick:
                raise SystemExit(
                    f"{self.path} holds {'quick' if content['quick'] else 'full'} "
                    f"results; write {'quick' if quick else 'full'} results to "
                    "another --results folder."
                )
            content["quick"] = quick
            content["meta"].update(self.meta)
            self._write(content)

    def _locked(self):
        # a separate file: the results file itself is replaced on every write
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        lock = open(lock_path, "w")  # noqa: SIM115

        class _Lock:
            def __enter__(self_inner):
                fcntl.flock(lock, fcntl.LOCK_EX)

            def __exit__(self_inner, *exc):
                fcntl.flock(lock, fcntl.LOCK_UN)
                lock.close()

        return _Lock()

    def _read(self) -> dict:
        if self.path.exists() and self.path.stat().st_size:
            content = json.loads(self.path.read_text())
        else:
            content = {}
        content.setdefault("quick", self.quick)
        content.setdefault("meta", {})
        content.setdefault("rows", [])
        content.setdefault("runs", [])
        return content

    def _write(self, content: dict) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(content, indent=1) + "\n")
        tmp.replace(self.path)

    def keys(self) -> set[str]:
        """Keys of the rows that finished (not those that failed or were skipped)."""
        with self._locked():
            return {
                row["key"]
                for row in self._read()["rows"]
                if "error" not in row and "skipped" not in row
            }

    def add(self, row: dict) -> None:
        with self._locked():
            content = self._read()
            content["rows"] = [r for r in content["rows"] if r["key"] != row["key"]]
            content["rows"].append(row)
            self._write(content)

    def add_run(self, run: dict) -> None:
        with self._locked():
            content = self._read()
            content["runs"].append(run)
            self._write(content)


def run_rows(
    results: ResultsFile,
    jobs: Iterable[tuple[dict, Callable[[], dict]]],
    *,
    resume: bool,
    time_budget: float | None,
    label: str,
) -> int:
    """Run ``(identity, job)`` pairs, adding each row as soon as its job finishes.

    A row is the identity (which method, data and seed; its JSON is the row's
    key) updated with what the job returns. A job that raises is recorded as
    a row with its ``error`` (and the run goes on). With ``resume``, keys of
    finished rows are skipped. No new job starts once ``time_budget`` seconds
    have passed. Returns the number of rows added.

    ``kill PID`` (SIGTERM) stops like Ctrl-C: finished rows are kept and the
    run recorded. The job running at that moment leaves no row, even when it
    returns: skorch ends training quietly on Ctrl-C, so a fit cut short would
    otherwise pass for a finished one.
    """
    done = results.keys() if resume else set()
    start = time.perf_counter()
    _StopRequest.requested = False
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    previous_int = signal.signal(signal.SIGINT, _interrupt)
    try:
        added = _run_jobs(results, jobs, done, start, time_budget, label)
    except _Interrupted as stop:
        added = stop.added
        print(f"[{label}] interrupted; finished rows are kept", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
    return added


class _Interrupted(Exception):
    def __init__(self, added: int):
        self.added = added


class _StopRequest:
    """Set by :func:`_interrupt`; read after each job, which may have caught it."""

    requested = False


def _interrupt(signum, frame):
    _StopRequest.requested = True
    raise KeyboardInterrupt


def _run_jobs(results, jobs, done, start, time_budget, label) -> int:
    added = 0
    for identity, job in jobs:
        key = json.dumps(identity, sort_keys=True)
        if key in done:
            continue
        if time_budget is not None and time.perf_counter() - start > time_budget:
            print(f"[{label}] time budget spent; stopping before {key}", flush=True)
            break
        row = dict(identity)
        try:
            row.update(job())
        except KeyboardInterrupt:
            raise _Interrupted(added) from None
        except Exception as exc:  # recorded, so that one failure keeps the rest
            if _StopRequest.requested:
                raise _Interrupted(added) from None
            traceback.print_exc()
            row["error"] = f"{type(exc).__name__}: {exc}"
        if _StopRequest.requested:  # the job caught the interrupt and returned early
            raise _Interrupted(added)
        # the machine is shared: the load says how much the times are inflated
        row["load_average"] = list(os.getloadavg())
        row["machine"] = machine()
        row["torch_threads"] = _torch_threads()
        row["key"] = key
        results.add(row)
        added += 1
        shown = {
            k: v
            for k, v in row.items()
            if not isinstance(v, list | dict) and k not in ("key", "config_key")
        }
        print(f"[{label}] {json.dumps(shown, default=str)}", flush=True)
    return added


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


@functools.cache
def machine() -> str:
    """The CPU and library builds a row was computed with, as one label.

    Fits are bit-identical for a seed only on the same CPU kind and builds (and
    number of threads): torch and BLAS pick their kernels, hence the order of
    floating-point sums, by CPU. The same code and seed gave the default
    discoverer an edge AUROC of 0.9886 on one machine and 0.9903 on another
    (50 Sim-1-like shops, seed 0), so tables compare rows of one machine.
    """
    import torch

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    capability = torch.backends.cpu.get_cpu_capability()
    return f"{model} ({capability}), torch {torch.__version__}, numpy {np.__version__}"


def run_info(
    script: str, argv: Sequence[str] | None, seconds: float, rows: int, threads: int
) -> dict:
    """What a finished command ran, for the durations listed in the docs."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    return {
        "command": " ".join(["python", f"benchmarks/{script}", *arguments]),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": seconds,
        "rows": rows,
        "load_average": list(os.getloadavg()),
        "torch_threads": threads,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "machine": machine(),
    }


def base_parser(description: str) -> argparse.ArgumentParser:
    """Options every benchmark script has."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="toy sizes, seconds")
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..n-1")
    parser.add_argument("--methods", help="comma-separated method names")
    parser.add_argument(
        "--resume", action="store_true", help="skip rows already in the results"
    )
    parser.add_argument(
        "--results", type=Path, default=None, help="folder of the JSON results"
    )
    parser.add_argument(
        "--docs", type=Path, default=None, help="markdown file to regenerate"
    )
    parser.add_argument("--no-docs", action="store_true", help="JSON only")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="minutes after which no new fit starts (finished rows are kept)",
    )
    return parser


def parse_script_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, Path]:
    """Parse a script's options, resolve its paths, set its threads."""
    args = parser.parse_args(argv)
    results_dir, _ = resolve_paths(args)
    set_threads(args.threads)
    return args, results_dir


def resolve_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """Results folder and docs file: the real ones, or ``results/quick/``."""
    if args.results is None:
        args.results = QUICK_RESULTS if args.quick else RESULTS
    if args.docs is None:
        args.docs = args.results / "benchmarks.md" if args.quick else DOCS
    return args.results, args.docs


def run_script(
    script: str,
    args: argparse.Namespace,
    argv,
    results: ResultsFile,
    jobs: Iterable[tuple[dict, Callable[[], dict]]],
    label: str,
) -> None:
    """Run a script's jobs under its ``--resume``/``--time-budget``, then finish."""
    start = time.perf_counter()
    added = run_rows(
        results,
        jobs,
        resume=args.resume,
        time_budget=None if args.time_budget is None else 60 * args.time_budget,
        label=label,
    )
    finish(script, args, results, argv, time.perf_counter() - start, added)


def finish(
    script: str, args: argparse.Namespace, results: ResultsFile, argv, seconds, rows
) -> None:
    """Record the run (the script then regenerates the docs with ``report.py``)."""
    results.add_run(run_info(script, argv, seconds, rows, args.threads))


# -- markdown ----------------------------------------------------------------------


def replace_section(path: Path, heading: str, text: str) -> None:
    r"""Replace one ``## `` section of a markdown file, keeping the others.

    The new section goes at the end; a missing file starts as ``# Benchmarks``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "page.md"
    >>> replace_section(path, "## A", "## A\n\nold\n")
    >>> replace_section(path, "## B", "## B\n\nkept\n")
    >>> replace_section(path, "## A", "## A\n\nnew\n")
    >>> print(path.read_text())
    # Benchmarks
    <BLANKLINE>
    ## B
    <BLANKLINE>
    kept
    <BLANKLINE>
    ## A
    <BLANKLINE>
    new
    <BLANKLINE>
    """
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    sections = old.split("\n## ")
    kept = [s for s in sections[1:] if not ("## " + s).startswith(heading)]
    body = "\n## ".join([sections[0].rstrip("\n") + "\n", *kept])
    path.write_text(body.rstrip("\n") + "\n\n" + text)

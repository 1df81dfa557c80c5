"""Run every benchmark script, then rebuild ``docs/benchmarks.md`` once.

Usage::

    python benchmarks/run_all.py --quick                       # toy sizes, ~1 min
    python benchmarks/run_all.py --quick --results DIR --docs FILE
    python benchmarks/run_all.py --resume                      # full size: many hours

Runs ``discovery.py``, ``forecasting.py``, ``ablations.py`` and ``cost.py`` in
this process, one after the other, into one results folder (default
``benchmarks/results``, or ``benchmarks/results/quick`` with ``--quick``),
then ``report.py``. ``speed.py``, ``structure.py``, ``sktime_benchmark.py``
and ``real_panels.py`` are run on their own; the report keeps their sections.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ablations
import cost
import discovery
import forecasting
import report
from _common import resolve_paths

SCRIPTS = (discovery, forecasting, ablations, cost)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--docs", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    results, docs = resolve_paths(args)
    common = ["--results", str(results), "--no-docs", "--threads", str(args.threads)]
    if args.quick:
        common.append("--quick")
    if args.resume:
        common.append("--resume")
    for script in SCRIPTS:
        start = time.perf_counter()
        script.main(list(common))
        print(f"{script.__name__}: {time.perf_counter() - start:.1f} s", flush=True)
    report.main(["--results", str(results), "--docs", str(docs)])
    return 0


if __name__ == "__main__":
    sys.exit(main())

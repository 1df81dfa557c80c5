"""The property-based tests with many more examples than CI runs.

Usage::

    python benchmarks/properties.py                  # 500 examples per test
    python benchmarks/properties.py --examples 2000

Runs ``tests/test_properties.py`` with ``HYPOTHESIS_MAX_EXAMPLES`` set (the
seed stays fixed, so a run is repeatable) and writes
``benchmarks/results/properties.json``: the examples per test, the seconds it
took and pytest's summary line (a failure prints hypothesis's smallest
failing example).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--output", type=Path, default=RESULTS / "properties.json")
    args = parser.parse_args(argv)
    env = {**os.environ, "HYPOTHESIS_MAX_EXAMPLES": str(args.examples)}
    start = time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(ROOT.parent / "tests" / "test_properties.py"),
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
    )
    seconds = time.perf_counter() - start
    print(run.stdout[-5000:])
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    result = {
        "examples_per_test": args.examples,
        "seconds": seconds,
        "passed": run.returncode == 0,
        "summary": summary,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())

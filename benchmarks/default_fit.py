"""Time of a default fit on a panel of a real size, and what the fit prints.

``CausalMMMRegressor()`` with its defaults (only the roles given) on a weekly
panel of 200 shops x 104 weeks x 15 nodes (10 media, 2 funnel nodes,
2 controls and the target; ``make_weekly_mmm``), one torch thread as the
package runs its small tensors. The goal of the real-panels work: at most
60 s on 2 cores.

Usage::

    python benchmarks/default_fit.py            # 200 x 104 x 15
    python benchmarks/default_fit.py --quick    # 20 shops, seconds

Writes ``benchmarks/results/default_fit.json`` and the "Default fit" section
of ``docs/benchmarks.md``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from _common import DOCS, QUICK_RESULTS, RESULTS, machine, replace_section, set_threads

GOAL_SECONDS = 60.0


def run(quick: bool) -> dict:
    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm.datasets import make_weekly_mmm

    n_shops = 20 if quick else 200
    data = make_weekly_mmm(
        n_shops=n_shops,
        n_channels=10,
        n_funnel=2,
        n_controls=2,
        n_steps=104,
        random_state=0,
    )
    model = CausalMMMRegressor(
        funnel_columns=list(data.funnel_columns),
        control_columns=list(data.control_columns),
        random_state=0,
    )
    started = time.perf_counter()
    model.fit(data.X, data.y)
    seconds = time.perf_counter() - started
    return {
        "n_shops": n_shops,
        "n_steps": 104,
        "n_nodes": data.X.shape[1] + 1,
        "seconds": seconds,
        "epochs": len(model.history_) if hasattr(model, "history_") else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "goal_seconds": GOAL_SECONDS,
        "machine": machine(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    set_threads(1)
    row = run(args.quick)
    folder = QUICK_RESULTS if args.quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "default_fit.json").write_text(json.dumps(row, indent=1) + "\n")
    print(json.dumps(row, indent=1))
    if not args.quick:
        met = "met" if row["seconds"] <= GOAL_SECONDS else "not met"
        replace_section(
            DOCS,
            "## Default fit",
            "## Default fit\n\n"
            "`CausalMMMRegressor()` with its defaults (roles only) on "
            f"`make_weekly_mmm`: {row['n_shops']} shops x {row['n_steps']} weeks x "
            f"{row['n_nodes']} nodes, one torch thread ({row['machine']}): "
            f"**{row['seconds']:.0f} s**, {row['epochs']} epochs, peak memory "
            f"{row['peak_rss_mb']:.0f} MB. Goal: at most {GOAL_SECONDS:.0f} s "
            f"on 2 cores: {met}. Written by `benchmarks/default_fit.py`.\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Set up the environment and run the project's jobs: ``python3 tasks.py demo|test``.

Each job first makes sure ``.venv`` exists and matches ``pyproject.toml``
(it is rebuilt when the dependencies change), so both commands work on a fresh
machine with nothing but Python 3.11.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed"
# torch first and pinned: an unpinned resolve pulls several GB of CUDA wheels.
TORCH = "torch==2.13.0"
# dev: the test tools; docs: the test suite also builds the documentation site.
EXTRAS = "dev,docs"


def _requirements_hash() -> str:
    pinned = (ROOT / "pyproject.toml").read_bytes() + f"{TORCH}[{EXTRAS}]".encode()
    return hashlib.sha256(pinned).hexdigest()


def ensure_environment() -> None:
    """Create or refresh ``.venv`` when ``pyproject.toml`` changed."""
    wanted = _requirements_hash()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet"]
    constraints = VENV / "constraints.txt"
    constraints.write_text(TORCH + "\n")
    subprocess.run([*pip, TORCH], check=True)
    subprocess.run(
        [*pip, "-c", str(constraints), "-e", f"{ROOT}[{EXTRAS}]"], check=True, cwd=ROOT
    )
    STAMP.write_text(wanted)


def run(*args: str) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    jobs = {
        "demo": lambda extra: run("-m", "sklearn_causalmmm", "demo", *extra),
        "test": lambda extra: run("-m", "pytest", "-q", "-n", "2", *extra),
        "setup": lambda extra: 0,
    }
    if not argv or argv[0] not in jobs:
        print(f"usage: python3 tasks.py {{{'|'.join(jobs)}}} [args...]")
        return 2
    ensure_environment()
    return jobs[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

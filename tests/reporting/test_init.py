"""The layers around the reporting wing: analysis <- reporting <- command line."""

# SPDX-License-Identifier: BSD-3-Clause

import ast
from pathlib import Path

import pytest

import sklearn_causalmmm

PACKAGE = Path(sklearn_causalmmm.__file__).parent


def _imported(path: Path) -> set[str]:
    """Every module a source file imports, at its top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # "from sklearn_causalmmm import reporting" imports the subpackage
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _reaches(names: set[str], module: str) -> bool:
    return any(name == module or name.startswith(module + ".") for name in names)


@pytest.mark.parametrize("path", _modules(PACKAGE / "analysis"), ids=str)
def test_analysis_does_not_import_the_reporting_wing_or_the_cli(path):
    names = _imported(path)
    assert not _reaches(names, "sklearn_causalmmm.reporting")
    assert not _reaches(names, "sklearn_causalmmm.__main__")


def test_nothing_imports_the_cli_and_only_the_cli_uses_the_wing():
    importers = [
        path.relative_to(PACKAGE).as_posix()
        for path in _modules(PACKAGE)
        if path.name != "__main__.py"
        and _reaches(_imported(path), "sklearn_causalmmm.__main__")
    ]
    assert importers == []
    # the wing is used by the command line and by nothing below it
    users = {
        path.relative_to(PACKAGE).parts[0]
        for path in _modules(PACKAGE)
        if _reaches(_imported(path), "sklearn_causalmmm.reporting")
    }
    assert users == {"reporting", "__main__.py"}


def test_the_scan_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "def f():\n"
        "    from sklearn_causalmmm.reporting.demo import run_demo\n"
        "    from sklearn_causalmmm import reporting\n"
    )
    names = _imported(source)
    assert _reaches(names, "sklearn_causalmmm.reporting")
    assert not _reaches(names, "sklearn_causalmmm.report")

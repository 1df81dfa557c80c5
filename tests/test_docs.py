"""The documentation site: it builds with warnings as errors, and its examples run.

Every fenced code block of a page in ``docs/`` is an example: ```` ```python ````
blocks are executed and ```` ```pycon ```` blocks (``>>>`` prompts with their
output) are run as doctests, in page order and in one namespace per page, like
a reader typing them into one session. Other fences must name a language that
is not Python (``bash``, ``text``), so no Python example can escape the test.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))

RUN = {"python", "pycon"}
NOT_PYTHON = {"bash", "console", "text", "toml", "yaml"}
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$"
)


@dataclass
class Block:
    language: str
    line: int  # of the first line of code, 1-based
    code: str


def code_blocks(text: str) -> list[Block]:
    """Fenced code blocks of a markdown text, with their language and line."""
    blocks, lines, k = [], text.splitlines(), 0
    while k < len(lines):
        opening = _FENCE.match(lines[k])
        if opening is None:
            k += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = opening["info"].split()[0] if opening["info"].strip() else ""
        body, k = [], k + 1
        start = k + 1
        while k < len(lines) and not (
            lines[k].strip().startswith(fence)
            and lines[k].strip().strip(fence[0]) == ""
        ):
            body.append(lines[k].removeprefix(indent))
            k += 1
        if k == len(lines):
            raise ValueError(f"code block opened on line {start - 1} is never closed")
        blocks.append(Block(language, start, "\n".join(body) + "\n"))
        k += 1
    return blocks


def run_examples(page: Path) -> int:
    """Run a page's examples in one namespace; return how many blocks ran."""
    namespace = {"__name__": f"docs.{page.stem}"}
    name = str(page.relative_to(ROOT) if page.is_relative_to(ROOT) else page)
    ran = 0
    for block in code_blocks(page.read_text(encoding="utf-8")):
        where = f"{name}:{block.line}"
        if block.language == "python":
            # Blank lines keep tracebacks pointing at the page's own line numbers.
            source = "\n" * (block.line - 1) + block.code
            exec(compile(source, name, "exec"), namespace)
        elif block.language == "pycon":
            test = doctest.DocTestParser().get_doctest(
                block.code, namespace, where, str(page), block.line - 1
            )
            report: list[str] = []
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS
                | doctest.NORMALIZE_WHITESPACE
                | doctest.FAIL_FAST
            )
            result = runner.run(test, out=report.append, clear_globs=False)
            namespace.update(test.globs)  # DocTest ran on a copy
            if result.failed:
                pytest.fail(
                    f"doctest failed at {where}:\n{''.join(report)}", pytrace=False
                )
        else:
            assert block.language in NOT_PYTHON, (
                f"{where}: a code block must say which language it is "
                f"({sorted(RUN | NOT_PYTHON)}); python and pycon blocks are run"
            )
            continue
        ran += 1
    return ran


# -- the parser itself -------------------------------------------------------------


def test_code_blocks_finds_every_fence_with_its_line():
    text = (
        "# Title\n"
        "```python\n"
        "x = 1\n"
        "```\n"
        "\n"
        "!!! note\n"
        "    ````pycon\n"
        "    >>> x + 1\n"
        "    2\n"
        "    ````\n"
        "```\n"
        "plain\n"
        "```\n"
    )
    assert code_blocks(text) == [
        Block("python", 3, "x = 1\n"),
        Block("pycon", 8, ">>> x + 1\n2\n"),
        Block("", 12, "plain\n"),
    ]
    with pytest.raises(ValueError, match="line 2 is never closed"):
        code_blocks("text\n```python\nx = 1\n")


def test_examples_share_a_namespace_and_wrong_output_fails(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nvalues = [1, 2, 3]\n```\n\n```pycon\n>>> total = sum(values)\n```\n"
        "\n```pycon\n>>> total\n6\n```\n"
    )
    assert run_examples(page) == 3
    page.write_text("```pycon\n>>> 1 + 1\n3\n```\n")
    with pytest.raises(pytest.fail.Exception, match="Expected:\n    3\nGot:\n    2"):
        run_examples(page)
    page.write_text("```py\nprint(1)\n```\n")
    with pytest.raises(AssertionError, match="must say which language"):
        run_examples(page)


# -- the pages ---------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_examples_of_the_page_run(page, tmp_path, monkeypatch):
    # Examples that write files write them into a scratch folder.
    monkeypatch.chdir(tmp_path)
    run_examples(page)


def test_every_user_guide_page_has_examples():
    without = [
        page.name
        for page in PAGES
        if not page.name.startswith("api")
        and page.name != "benchmarks.md"
        and not any(b.language in RUN for b in code_blocks(page.read_text("utf-8")))
    ]
    assert without == []


# -- the site ------------------------------------------------------------------------

#: Pages (nav order) that the built site must contain, and text each must show.
EXPECTED = {
    "index.html": "CausalGraphDiscoverer",
    "getting-started/index.html": "load_demo",
    "data-layouts/index.html": "MultiIndex",
    "model/index.html": "Marketing Response Decoder",
    "simulator/index.html": "make_causal_mmm",
    "sklearn/index.html": "PanelTimeSplit",
    "sktime/index.html": "CausalMMMForecaster",
    "decisions/index.html": "optimize_budget",
    "baselines/index.html": "LinearGrangerDiscoverer",
    "benchmarks/index.html": "Benchmarks",
    # API pages are rendered from docstrings: parameters, attributes, examples.
    "api-estimators/index.html": "edge_probabilities_",
    "api-forecasting/index.html": "context_columns",
    "api-baselines/index.html": "AdstockHillRegressor",
    "api-panel/index.html": "drop_short",
    "api-datasets/index.html": "SIMULATION_SETTINGS",
    "api-metrics/index.html": "heterogeneity_auroc",
    "api-model-selection/index.html": "max_train_size",
    "api-analysis/index.html": "channel_contributions",
    "api-nn/index.html": "MarketingResponseDecoder",
}


def test_site_builds_strict_with_every_page_api_and_figure(tmp_path):
    # One test, one build: a module fixture would build once per xdist worker.
    site = tmp_path / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        # Material prints a banner about MkDocs 2.0 on every build otherwise.
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert done.returncode == 0, (
        "mkdocs build --strict failed (pip install -e .[docs] if mkdocs is "
        f"missing):\n{done.stdout}\n{done.stderr}"
    )

    for page, text in EXPECTED.items():
        assert (site / page).is_file(), page
        assert text in (site / page).read_text(encoding="utf-8"), (page, text)

    # numpydoc sections were parsed, doctest examples became code blocks, and
    # Sphinx roles became links (docs/griffe_roles.py).
    api = (site / "api-estimators" / "index.html").read_text(encoding="utf-8")
    for needle in ("Parameters:", "Attributes:", "Examples:", "&gt;&gt;&gt;"):
        assert needle in api, needle
    assert 'href="#sklearn_causalmmm.CausalGraphDiscoverer.predict_graph"' in api
    pages = {page: page.read_text("utf-8") for page in site.rglob("*.html")}
    assert not [page for page, text in pages.items() if ":class:`" in text]

    # Every image of every page resolves to a file of the site.
    linked = 0
    for page, text in pages.items():
        for source in re.findall(r'<img [^>]*src="([^"]+)"', text):
            if source.startswith(("http:", "https:", "data:")):
                continue
            assert (page.parent / source).resolve().is_file(), (page, source)
            linked += 1
    assert linked >= 5  # the figures of the home and model pages at least

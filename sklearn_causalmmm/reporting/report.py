"""A self-contained HTML report: tables of numbers and the PNG figures beside it.

The report is one ``report.html`` in a folder that also holds its figures;
images are linked by relative paths, so the folder can be moved, zipped or
served as it is. Nothing is fetched from the network (no scripts, no fonts).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import pandas as pd

__all__ = ["Section", "write_report"]


@dataclass
class Section:
    """A headed part of a report: paragraphs, then tables, then figures.

    Attributes
    ----------
    heading : str
    paragraphs : sequence of str
        Plain text; a paragraph starting with ``"Warning: "`` is highlighted.
    tables : mapping of caption to DataFrame
        The index is not shown: put labels in a column.
    figures : mapping of caption to path
        As ``write_report``'s ``figures``.
    """

    heading: str
    paragraphs: Sequence[str] = ()
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    figures: Mapping[str, str | PathLike] = field(default_factory=dict)


_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1em 0 2em; }
img { max-width: 100%; border: 1px solid #eee; box-sizing: border-box; }
figcaption { color: #555; font-size: 0.9em; }
h3 { font-size: 1em; margin-bottom: 0.2em; }
p.warning { background: #fff4e0; border-left: 4px solid #e8a33d; padding: 0.4em 0.8em; }
p.lead { font-size: 1.15em; }
td { overflow-wrap: anywhere; }
td:not(:first-child) { overflow-wrap: normal; }
"""


def write_report(
    path: str | PathLike,
    *,
    title: str,
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, str | PathLike],
    intro: str = "",
    sections: Sequence[Section] = (),
) -> Path:
    """Write an HTML page with captioned tables and figures.

    Parameters
    ----------
    path : str or path-like
        The HTML file to write; parent folders are created.
    title : str
        Page title and top heading.
    tables : mapping of heading to DataFrame
        Tables in display order; the index is not shown, so put labels in a
        column.
    figures : mapping of caption to path
        Image files in display order. Each must exist inside the report's
        folder (or below it) so that the relative link keeps working when the
        folder is moved.
    intro : str, default=""
        A paragraph of plain text under the title.
    sections : sequence of Section, default=()
        Headed parts shown after the intro and before ``tables`` and
        ``figures``, in order; each shows its paragraphs, tables and figures.

    Returns
    -------
    path : Path

    Raises
    ------
    ValueError
        If a figure does not exist or lies outside the report's folder.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from sklearn_causalmmm.reporting.report import write_report
    >>> table = pd.DataFrame({"metric": ["edge AUROC"], "value": [0.91]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     page = write_report(f"{folder}/report.html", title="Demo",
    ...                         tables={"Summary": table}, figures={})
    ...     "<td>edge AUROC</td>" in page.read_text()
    True
    """
    path = Path(path)
    folder = path.parent.resolve()
    sources = _sources(figures, folder)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if intro:
        parts.append(f"<p>{html.escape(intro)}</p>")
    for section in sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        for paragraph in section.paragraphs:
            kind = ' class="warning"' if paragraph.startswith("Warning: ") else ""
            parts.append(f"<p{kind}>{html.escape(paragraph)}</p>")
        for caption, table in section.tables.items():
            if caption:
                parts.append(f"<h3>{html.escape(caption)}</h3>")
            parts.append(table.to_html(index=False, border=0, escape=True))
        parts += _figure_tags(_sources(section.figures, folder))
    for heading, table in tables.items():
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(table.to_html(index=False, border=0, escape=True))
    if sources:
        parts.append("<h2>Figures</h2>")
    parts += _figure_tags(sources)
    parts += ["</body>", "</html>", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _figure_tags(sources: Mapping[str, str]) -> list[str]:
    tags = []
    for caption, source in sources.items():
        escaped = html.escape(caption)
        tags.append(
            f'<figure><img src="{html.escape(source)}" alt="{escaped}">'
            f"<figcaption>{escaped}</figcaption></figure>"
        )
    return tags


def _sources(figures: Mapping[str, str | PathLike], folder: Path) -> dict[str, str]:
    """Each figure's link relative to the report's folder, checked."""
    sources = {}
    for caption, figure in figures.items():
        figure = Path(figure)
        if not figure.is_absolute():
            # Relative figure paths are read like any path (from the working
            # directory), as callers naturally pass the paths they just saved.
            figure = figure.resolve()
        if not figure.is_file():
            raise ValueError(f"figure {caption!r}: {str(figure)!r} does not exist.")
        try:
            relative = figure.resolve().relative_to(folder)
        except ValueError:
            raise ValueError(
                f"figure {caption!r}: {str(figure)!r} lies outside the report "
                f"folder {str(folder)!r}; a moved report would lose it."
            ) from None
        # Forward slashes whatever the OS: these are URLs, not file paths.
        sources[caption] = relative.as_posix()
    return sources

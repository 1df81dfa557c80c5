"""Tests of the HTML report writer."""

# SPDX-License-Identifier: BSD-3-Clause

import re

import pandas as pd
import pytest

from sklearn_causalmmm.reporting.plots import plot_training_curve
from sklearn_causalmmm.reporting.report import write_report


def test_report_links_figures_relatively_and_escapes_text(tmp_path):
    figure = plot_training_curve([{"train_loss": 1.0}], tmp_path / "img" / "a.png")
    table = pd.DataFrame({"metric": ["a <b>"], "value": [0.5]})
    page = write_report(
        tmp_path / "report.html",
        title="T & T",
        tables={"Numbers": table},
        figures={"loss <curve>": figure},
        intro="x < y",
    )
    text = page.read_text(encoding="utf-8")
    assert re.findall(r'<img src="([^"]+)"', text) == ["img/a.png"]
    assert "<title>T &amp; T</title>" in text
    assert "<td>a &lt;b&gt;</td>" in text
    assert "<figcaption>loss &lt;curve&gt;</figcaption>" in text
    assert "<p>x &lt; y</p>" in text


def test_report_rejects_missing_or_outside_figures(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        write_report(
            tmp_path / "r.html", title="t", tables={}, figures={"x": tmp_path / "x.png"}
        )
    outside = plot_training_curve([{"train_loss": 1.0}], tmp_path / "a.png")
    with pytest.raises(ValueError, match="outside the report folder"):
        write_report(
            tmp_path / "sub" / "r.html", title="t", tables={}, figures={"x": outside}
        )
    assert not (tmp_path / "sub" / "r.html").exists()

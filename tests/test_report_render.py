"""Look at the HTML report as a person would: in a real browser.

``write_report`` is rendered by headless Chromium (Debian's ``chromium``
package; ``.ci/run`` installs it): every figure must load and nothing may be
cut off or need horizontal scrolling at a laptop's window width, and a
full-page screenshot is saved and checked for content.

The same check runs on any report from the command line, e.g. the demo's::

    python -m sklearn_causalmmm demo
    .venv/bin/python tests/test_report_render.py causalmmm-report/report.html
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from sklearn_causalmmm.analysis.budget import BudgetAllocation
from sklearn_causalmmm.reporting.holdout import figure_aliases
from sklearn_causalmmm.reporting.plots import (
    plot_budget,
    plot_contributions,
    plot_forecasts,
    plot_graph_heatmaps,
    plot_response_curves,
    plot_training_curve,
)
from sklearn_causalmmm.reporting.report import Section, write_report

#: A laptop's browser window.
WIDTH, HEIGHT = 1280, 900

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Containers often have a tiny /dev/shm, where Chromium's renderer crashes.
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]

# Runs once the page and all its images have loaded (the load event waits for
# images) and leaves its findings in an attribute that --dump-dom prints.
_CHECK = """<script>
window.addEventListener("load", () => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const overflowing = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && (box.right > width + 0.5 || box.left < -0.5)) {
      const source = element.getAttribute("src");
      overflowing.push(element.tagName.toLowerCase() +
        (source ? "[src=" + source + "]" : "") +
        " spans x = " + Math.round(box.left) + ".." + Math.round(box.right));
    }
  }
  const images = Array.from(document.images, (image) => ({
    src: image.getAttribute("src"),
    loaded: image.complete && image.naturalWidth > 0,
    naturalWidth: image.naturalWidth,
    naturalHeight: image.naturalHeight,
    width: image.width,  // content box, without the border
  }));
  root.setAttribute("data-render-check", JSON.stringify({
    viewportWidth: width,
    scrollWidth: root.scrollWidth,
    scrollHeight: root.scrollHeight,
    images: images,
    overflowing: overflowing,
  }));
});
</script>"""


def find_chromium() -> str | None:
    """Return Debian's Chromium executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = find_chromium()


def _chromium(*args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"chromium exited with {done.returncode}: {done.stderr[-2000:]}"
        )
    return done.stdout


def render_check(page: Path, width: int = WIDTH, height: int = HEIGHT) -> dict:
    """Load ``page`` in headless Chromium; return what its layout looks like.

    A copy of the page with the checking script is written beside it (so that
    its relative image links still resolve) and removed afterwards.
    """
    page = Path(page).resolve()
    text = page.read_text(encoding="utf-8")
    probe = page.with_name(f".render-check-{page.name}")
    if "</body>" in text:
        probe.write_text(text.replace("</body>", _CHECK + "</body>", 1), "utf-8")
    else:
        probe.write_text(text + _CHECK, "utf-8")
    try:
        dom = _chromium(
            f"--window-size={width},{height}",
            # Lets any timers run out before the DOM is printed.
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        )
    finally:
        probe.unlink()
    found = re.search(r'data-render-check="([^"]*)"', dom)
    if found is None:
        raise RuntimeError(f"the check script did not run on {page}:\n{dom[:2000]}")
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, path: Path, width: int, height: int) -> Path:
    """Save a ``width x height`` screenshot of ``page`` (the top of the page)."""
    _chromium(
        f"--window-size={width},{height}",
        f"--screenshot={Path(path).resolve()}",
        Path(page).resolve().as_uri(),
    )
    return Path(path)


def problems(check: dict) -> list[str]:
    """What a reader would notice: broken figures, content off the page."""
    found = [
        f"figure {image['src']!r} did not load"
        for image in check["images"]
        if not image["loaded"]
    ]
    if check["scrollWidth"] > check["viewportWidth"]:
        found.append(
            f"the page is {check['scrollWidth']} px wide in a "
            f"{check['viewportWidth']} px window: it scrolls sideways"
        )
    found += [f"cut off: {element}" for element in check["overflowing"]]
    return found


def check_report(page: Path, screenshot_path: Path, width: int = WIDTH) -> dict:
    """Render ``page``, save a full-page screenshot, return the layout check."""
    check = render_check(page, width)
    # Tall enough for the whole page, so the screenshot shows all of it.
    screenshot(page, screenshot_path, width, max(HEIGHT, check["scrollHeight"]))
    return check


# -- tests ---------------------------------------------------------------------

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium; "
    ".ci/run installs it)",
)


def _report(folder: Path) -> tuple[Path, dict[str, tuple[int, int]]]:
    """A report like the demo's, with figures in a subfolder."""
    rng = np.random.default_rng(0)
    names = ["brand", "display", "video", "feed", "search", "pv", "gmv"]
    d = len(names)
    truth = {f"type {k}": np.triu(rng.random((d, d)) < 0.4, 1) for k in range(3)}
    learned = {label: 0.1 + 0.8 * graph for label, graph in truth.items()}
    dates = pd.date_range("2024-03-01", periods=7, freq="D")
    shops = [f"shop_{k:03d}" for k in range(4)]
    observed = pd.DataFrame(rng.gamma(20, 1000, (7, 4)), dates, shops)
    past = pd.DataFrame(
        rng.gamma(20, 1000, (21, 4)), pd.date_range(end="2024-02-29", periods=21)
    )
    past.columns = shops
    channels = names[:5]
    index = pd.MultiIndex.from_product([shops, channels], names=["shop", "channel"])
    spend = rng.gamma(5, 100, len(index))
    contributions = pd.DataFrame(
        {"contribution": spend * rng.uniform(0.5, 3.0, len(index)), "spend": spend},
        index=index,
    )
    contributions["roi"] = contributions["contribution"] / spend
    contributions.attrs["base"] = dict.fromkeys(shops, 50000.0)
    budget = BudgetAllocation(
        allocation=pd.DataFrame(
            {"planned_spend": spend, "optimized_spend": spend * 1.1}, index=index
        ),
        gmv=pd.DataFrame(
            {"planned": 1.0, "optimized": 1.05, "uplift": 0.05},
            index=pd.Index(shops, name="shop"),
        ),
        optimized_plan=pd.DataFrame(),
        n_rounds=10,
        converged=True,
    )
    figures = {
        "Learned and true causal graph of each shop type.": plot_graph_heatmaps(
            learned, truth, names, folder / "figures" / "graphs.png"
        ),
        # Four panels in a row: a figure wider than the window.
        "GMV forecasts over the held-out week.": plot_forecasts(
            observed,
            {"CausalMMM": observed * 1.05, "last value": observed * 0 + 20000},
            folder / "figures" / "forecasts.png",
            history=past,
            n_columns=4,
        ),
        "Contributions per shop and return on spend.": plot_contributions(
            contributions, folder / "figures" / "contributions.png"
        ),
        "Budget reallocation.": plot_budget(budget, folder / "figures" / "budget.png"),
        "Training loss per epoch.": plot_training_curve(
            [{"train_loss": 3.0 / k, "valid_loss": 3.5 / k} for k in range(1, 21)],
            folder / "figures" / "training_curve.png",
        ),
    }
    sizes = {
        "figures/graphs.png": (800, 1080),
        "figures/forecasts.png": (1600, 360),
        "figures/contributions.png": (1000, 400),
        "figures/budget.png": (1000, 400),
        "figures/training_curve.png": (640, 400),
    }
    tables = {
        "Summary": pd.DataFrame(
            {
                "metric": ["edge AUROC", "heterogeneity AUROC", "MSE at day 7"],
                "value": ["0.912", "0.874", "1.23e+06"],
            }
        ),
        "Causal graphs by shop type": pd.DataFrame(
            {
                "shop type": list(truth),
                "learned edges (P > 0.5)": [
                    ", ".join(
                        f"{names[i]} -> {names[j]}"
                        for i, j in zip(*np.nonzero(graph), strict=True)
                    )
                    for graph in truth.values()
                ],
            }
        ),
    }
    page = write_report(
        folder / "report.html",
        title="CausalMMM report",
        intro="Learned causal graphs against the truth, and GMV forecasts.",
        tables=tables,
        figures=figures,
    )
    return page, sizes


def test_report_renders_with_every_figure_and_nothing_cut_off(tmp_path):
    page, sizes = _report(tmp_path / "report")
    shot = tmp_path / "report-screenshot.png"
    check = check_report(page, shot)

    assert problems(check) == [], f"screenshot: {shot}"
    assert check["viewportWidth"] == WIDTH
    # Every figure is shown, at its own pixel size or scaled down to fit.
    shown = {
        image["src"]: (image["naturalWidth"], image["naturalHeight"])
        for image in check["images"]
    }
    assert shown == sizes
    for image in check["images"]:
        assert 0 < image["width"] <= min(image["naturalWidth"], WIDTH)
    wide = next(i for i in check["images"] if i["src"] == "figures/forecasts.png")
    assert wide["width"] < 1600  # scaled into the page, not cropped

    # The screenshot shows the whole page, and it is not blank.
    pixels = imread(shot)
    assert pixels.shape[:2] == (max(HEIGHT, check["scrollHeight"]), WIDTH)
    assert pixels[..., :3].std() > 0.05


def _wide_report(folder: Path, n_channels: int = 20) -> Path:
    """A report of 20 channels with 60-character names, as a real export has."""
    rng = np.random.default_rng(1)
    channels = [
        (f"impressions_{k:02d}_" + "_".join(["campaign"] * 6))[:57] + "_wk"
        for k in range(n_channels)
    ]
    assert all(len(c) == 60 for c in channels)
    nodes = [*channels, "revenue"]
    aliases = figure_aliases(nodes)
    short = [aliases[n] for n in nodes]
    shops = [f"geo_{k}" for k in range(30)]
    index = pd.MultiIndex.from_product([shops, short[:-1]], names=["shop", "channel"])
    spend = rng.gamma(5, 100, len(index))
    contributions = pd.DataFrame(
        {"contribution": spend * rng.uniform(0.1, 2.0, len(index)), "spend": spend},
        index=index,
    )
    contributions["roi"] = contributions["contribution"] / spend
    contributions.attrs["base"] = dict.fromkeys(shops, 5e5)
    budget = BudgetAllocation(
        allocation=pd.DataFrame(
            {"planned_spend": spend, "optimized_spend": spend * 1.1}, index=index
        ),
        gmv=pd.DataFrame(
            {"planned": 1.0, "optimized": 1.01, "uplift": 0.01},
            index=pd.Index(shops, name="shop"),
        ),
        optimized_plan=pd.DataFrame(),
        n_rounds=10,
        converged=True,
    )
    graph = rng.uniform(0, 1, (len(nodes), len(nodes)))
    curves = pd.DataFrame(
        np.outer(np.linspace(0, 2, 9), rng.uniform(0.5, 1.5, 4 * n_channels)) + 10,
        index=np.linspace(0, 2, 9),
        columns=pd.MultiIndex.from_product([shops[:4], short[:-1]]),
    )
    figures = folder / "figures"
    sections = [
        Section(
            "Contributions",
            tables={"": pd.DataFrame({"channel": channels, "share": "1.0%"})},
            figures={
                "Contributions (12 of 30 shops).": plot_contributions(
                    contributions, figures / "contributions.png", target="revenue"
                ),
                "Budget.": plot_budget(budget, figures / "budget.png"),
            },
        ),
        Section(
            "Response and graph",
            figures={
                "Response curves (4 of 30 shops).": plot_response_curves(
                    curves, figures / "response.png"
                ),
                "Graph.": plot_graph_heatmaps(
                    {"mean over all shops": graph}, None, short, figures / "g.png"
                ),
            },
        ),
        Section(
            "Names in the figures",
            tables={"": pd.DataFrame({"label": short, "column": nodes})},
        ),
    ]
    return write_report(
        folder / "report.html",
        title="CausalMMM report",
        tables={},
        figures={},
        sections=sections,
    )


def test_a_report_of_20_long_named_channels_stays_readable(tmp_path):
    page = _wide_report(tmp_path / "wide")
    shot = tmp_path / "wide-screenshot.png"
    check = check_report(page, shot)
    assert problems(check) == [], f"screenshot: {shot}"
    assert len(check["images"]) == 4
    # every figure is drawn at a readable scale, not squeezed
    for image in check["images"]:
        assert image["width"] >= 0.5 * min(image["naturalWidth"], WIDTH - 100)
    assert imread(shot)[..., :3].std() > 0.05


def test_report_fits_a_narrow_window(tmp_path):
    page, _ = _report(tmp_path / "report")
    assert problems(render_check(page, width=800)) == []


def test_the_check_catches_broken_figures_and_overflow(tmp_path):
    plot_training_curve([{"train_loss": 1.0}], tmp_path / "ok.png")
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body>"
        '<img src="ok.png"><img src="missing.png">'
        '<div style="width: 3000px">a very wide table</div>'
        "</body></html>",
        encoding="utf-8",
    )
    found = problems(render_check(page))
    assert found[0] == "figure 'missing.png' did not load"
    assert found[1].startswith("the page is 3008 px wide in a 1280 px window")
    assert any(line.startswith("cut off: div spans") for line in found[2:])
    assert not any("ok.png" in line for line in found)
    # The probe copy is cleaned up; the page itself is untouched.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.html", "ok.png"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/test_report_render.py REPORT.html")
        return 2
    if CHROMIUM is None:
        print("chromium is not installed (apt-get install chromium)")
        return 2
    page = Path(argv[0])
    if argv[0] == "--wide":  # the 20-channel report, to look at
        page = _wide_report(Path(tempfile.mkdtemp()))
    shot = page.with_name(page.stem + "-screenshot.png")
    found = problems(check_report(page, shot))
    print(f"screenshot: {shot}")
    print("\n".join(found) if found else "ok: every figure loaded, nothing cut off")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

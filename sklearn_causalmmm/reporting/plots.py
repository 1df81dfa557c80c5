"""Figures of a fitted CausalMMM model, each written to a PNG file.

The functions build figures with matplotlib's object-oriented API
(:class:`matplotlib.figure.Figure`) rather than :mod:`matplotlib.pyplot`, so
they touch no global figure state, need no interactive backend and are safe to
call from scripts, servers and tests alike. Every function saves one PNG of a
fixed pixel size (``figsize * dpi``) and returns its path.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "plot_budget",
    "plot_contributions",
    "plot_forecasts",
    "plot_graph_heatmaps",
    "plot_response_curves",
    "plot_training_curve",
]

_PANEL_WIDTH = 4.0  # inches per heatmap or forecast panel
_PANEL_HEIGHT = 3.6
#: Nodes up to which a heatmap prints each cell's value.
_ANNOTATED_NODES = 10
#: Channels up to which a legend fits inside its axes.
_LEGEND_INSIDE = 6


def _colors(n: int) -> list:
    """``n`` distinct colours: matplotlib's cycle, tab20 beyond 10."""
    from matplotlib import colormaps

    if n <= 10:
        return [f"C{k}" for k in range(n)]
    cmap = colormaps["tab20"]
    return [cmap(k % 20) for k in range(n)]


def _legend(figure: Figure, ax, n_entries: int) -> None:
    """A legend inside ``ax`` when it is short, else to the figure's right."""
    if n_entries <= _LEGEND_INSIDE:
        ax.legend(fontsize=7, ncols=1 if n_entries < 4 else 2)
    else:
        handles, labels = ax.get_legend_handles_labels()
        figure.legend(
            handles,
            labels,
            loc="outside right upper",
            fontsize=7,
            ncols=1 if n_entries <= 24 else 2,
        )


def _save(figure: Figure, path: str | PathLike, dpi: int) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must name a .png file, got {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    # No bbox_inches="tight": it would crop to the content and make the pixel
    # size depend on label lengths, which callers (and HTML layouts) rely on.
    figure.savefig(path, dpi=dpi, format="png")
    return path


def plot_graph_heatmaps(
    probabilities_by_type: Mapping[object, np.ndarray],
    truth_by_type: Mapping[object, np.ndarray] | None,
    node_names: Sequence[str],
    path: str | PathLike,
    *,
    dpi: int = 100,
) -> Path:
    """Draw the learned next to the true graph of every shop type.

    One row per shop type: on the left the learned edge probabilities
    (typically averaged over the type's shops), on the right the true graph
    (or the share of the type's shops having each edge). Cell ``(i, j)`` is
    the edge ``i -> j``: rows are causes, columns effects. Without a truth
    (real data), the learned graphs fill a grid of two panels per row.

    Parameters
    ----------
    probabilities_by_type : mapping of label to ndarray of shape (d, d)
        Learned edge probabilities per shop type (or per shop, or averaged
        over all shops), in display order.
    truth_by_type : mapping of label to ndarray of shape (d, d) or None
        True graphs (0/1 or shares in [0, 1]) with the same labels; None when
        the truth is unknown.
    node_names : sequence of str of length d
    path : str or path-like
        Where to write the PNG; parent folders are created.
    dpi : int, default=100
        The image is ``800 x 360 * n_rows`` pixels at ``dpi=100``, with one
        row per label (``ceil(n_labels / 2)`` rows without a truth).

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn_causalmmm.reporting.plots import plot_graph_heatmaps
    >>> truth = {"type 0": np.array([[0, 1], [0, 0]])}
    >>> learned = {"type 0": np.array([[0.0, 0.8], [0.3, 0.0]])}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_graph_heatmaps(learned, truth, ["tv", "gmv"], f"{folder}/g.png").name
    'g.png'
    """
    labels = list(probabilities_by_type)
    if not labels:
        raise ValueError("probabilities_by_type holds no shop type.")
    if truth_by_type is not None:
        missing = [label for label in labels if label not in truth_by_type]
        if missing:
            raise ValueError(f"truth_by_type lacks the shop type(s) {missing}.")
    d = len(node_names)
    sources = [("probabilities_by_type", probabilities_by_type, "learned P(i -> j)")]
    if truth_by_type is not None:
        sources.append(("truth_by_type", truth_by_type, "true graph"))
    panels = []  # (title, graph), two per row
    for label in labels:
        for name, source, what in sources:
            graph = source[label]
            if np.shape(graph) != (d, d):
                raise ValueError(
                    f"{name}[{label!r}] has shape {np.shape(graph)}; expected "
                    f"({d}, {d}) for the {d} node names."
                )
            panels.append((f"{label}: {what}", graph))

    n_columns = min(2, len(panels))
    n_rows = -(-len(panels) // n_columns)
    # Beyond _ANNOTATED_NODES cells the numbers no longer fit in a cell, and
    # the panels grow so that every node's label stays readable.
    grow = max(1.0, d / _ANNOTATED_NODES)
    figure = Figure(
        figsize=(n_columns * _PANEL_WIDTH * grow, _PANEL_HEIGHT * grow * n_rows),
        layout="constrained",
    )
    axes = figure.subplots(n_rows, n_columns, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    image = None
    for ax, (title, graph) in zip(axes, panels, strict=False):
        values = np.array(graph, dtype=np.float64)
        # Self loops are never scored; blank them rather than show a 0.
        np.fill_diagonal(values, np.nan)
        image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="Blues")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(d), node_names, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(d), node_names, fontsize=8)
        ax.set_xlabel("effect j", fontsize=8)
        ax.set_ylabel("cause i", fontsize=8)
        for i in range(d if d <= _ANNOTATED_NODES else 0):
            for j in range(d):
                if i != j:
                    ax.text(
                        j,
                        i,
                        f"{values[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if values[i, j] > 0.6 else "black",
                    )
    figure.colorbar(image, ax=axes, shrink=0.8, label="edge probability")
    return _save(figure, path, dpi)


def plot_forecasts(
    truth: pd.DataFrame,
    forecasts: Mapping[str, pd.DataFrame],
    path: str | PathLike,
    *,
    history: pd.DataFrame | None = None,
    bands: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]] | None = None,
    n_columns: int = 2,
    ylabel: str = "GMV",
    dpi: int = 100,
) -> Path:
    """Plot forecasts of a few shops against the observed values.

    One panel per shop (column of ``truth``): the observed history before the
    forecast in grey, the observed values over the forecast in black, and one
    line per forecaster, shaded between its band where one is given.

    Parameters
    ----------
    truth : DataFrame
        Observed values over the forecast period; index = time, one column
        per shop.
    forecasts : mapping of name to DataFrame
        Each forecaster's predictions, with the index and columns of ``truth``.
    path : str or path-like
        Where to write the PNG; parent folders are created.
    history : DataFrame, default=None
        Observed values before the forecast (same columns), for context.
    bands : mapping of name to (lower, upper) DataFrames, default=None
        Bands of some of the forecasters, with the index and columns of
        ``truth``.
    n_columns : int, default=2
        Panels per row.
    ylabel : str, default="GMV"
    dpi : int, default=100
        Each panel is ``400 x 360`` pixels at ``dpi=100``.

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from sklearn_causalmmm.reporting.plots import plot_forecasts
    >>> truth = pd.DataFrame({"shop_a": [3.0, 4.0]})
    >>> naive = pd.DataFrame({"shop_a": [2.0, 2.0]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_forecasts(truth, {"naive": naive}, f"{folder}/f.png").name
    'f.png'
    """
    shops = list(truth.columns)
    if not shops:
        raise ValueError("truth holds no shop (no column).")
    if n_columns < 1:
        raise ValueError(f"n_columns must be at least 1, got {n_columns}.")

    def check_aligned(frame: pd.DataFrame, what: str) -> None:
        if list(frame.columns) != shops or not frame.index.equals(truth.index):
            raise ValueError(f"{what} must have the index and columns of truth.")

    for name, frame in forecasts.items():
        check_aligned(frame, f"forecast {name!r}")
    bands = dict(bands or {})
    for name, pair in bands.items():
        if name not in forecasts:
            raise ValueError(f"band {name!r} has no forecast of that name.")
        for frame in pair:
            check_aligned(frame, f"band {name!r}")
    if history is not None and list(history.columns) != shops:
        raise ValueError("history must have the columns of truth.")

    n_columns = min(n_columns, len(shops))
    n_rows = -(-len(shops) // n_columns)
    figure = Figure(
        figsize=(_PANEL_WIDTH * n_columns, _PANEL_HEIGHT * n_rows),
        layout="constrained",
    )
    axes = figure.subplots(n_rows, n_columns, squeeze=False).ravel()
    for ax, shop in zip(axes, shops, strict=False):
        if history is not None:
            # Join the history to the first observed step so the line is unbroken.
            observed = pd.concat([history[shop], truth[shop].iloc[:1]])
            ax.plot(observed.index, observed.to_numpy(), color="0.6", label="history")
        ax.plot(truth.index, truth[shop].to_numpy(), color="black", label="observed")
        for name, frame in forecasts.items():
            (line,) = ax.plot(
                frame.index, frame[shop].to_numpy(), marker=".", label=name
            )
            if name in bands:
                lower, upper = bands[name]
                ax.fill_between(
                    frame.index,
                    lower[shop].to_numpy(),
                    upper[shop].to_numpy(),
                    color=line.get_color(),
                    alpha=0.2,
                    linewidth=0,
                )
        ax.set_title(str(shop), fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        if isinstance(truth.index, pd.DatetimeIndex):
            # Full dates on every tick overlap in a 4-inch panel.
            locator = mdates.AutoDateLocator(maxticks=6)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    for ax in axes[len(shops) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    return _save(figure, path, dpi)


def plot_response_curves(
    curves: pd.DataFrame,
    path: str | PathLike,
    *,
    n_columns: int = 2,
    ylabel: str = "total GMV over the plan",
    dpi: int = 100,
) -> Path:
    """Plot each shop's forecast total against the scaling of each channel.

    One panel per shop, one line per channel: the total forecast when that
    channel's planned spend is multiplied by the factor on the x axis (the
    other channels as planned). A dashed line marks factor 1, the plan itself.

    Parameters
    ----------
    curves : DataFrame
        As returned by :func:`~sklearn_causalmmm.analysis.response.response_curves`:
        index = factors, columns = MultiIndex ``(shop, channel)``.
    path : str or path-like
        Where to write the PNG; parent folders are created.
    n_columns : int, default=2
        Panels per row.
    ylabel : str, default="total GMV over the plan"
    dpi : int, default=100
        Each panel is ``400 x 360`` pixels at ``dpi=100``.

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from sklearn_causalmmm.reporting.plots import plot_response_curves
    >>> columns = pd.MultiIndex.from_product([["shop_a"], ["tv", "search"]])
    >>> curves = pd.DataFrame([[10.0, 10.0], [12.0, 11.0], [13.0, 11.5]],
    ...                       index=[0.0, 1.0, 2.0], columns=columns)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_response_curves(curves, f"{folder}/r.png").name
    'r.png'
    """
    if not isinstance(curves.columns, pd.MultiIndex) or curves.columns.nlevels != 2:
        raise ValueError("curves must have (shop, channel) MultiIndex columns.")
    if len(curves.index) < 2:
        raise ValueError("curves needs at least two factors to draw a curve.")
    if n_columns < 1:
        raise ValueError(f"n_columns must be at least 1, got {n_columns}.")
    shops = list(curves.columns.get_level_values(0).unique())
    factors = np.asarray(curves.index, dtype=np.float64)

    n_columns = min(n_columns, len(shops))
    n_rows = -(-len(shops) // n_columns)
    figure = Figure(
        figsize=(_PANEL_WIDTH * n_columns, _PANEL_HEIGHT * n_rows),
        layout="constrained",
    )
    axes = figure.subplots(n_rows, n_columns, squeeze=False).ravel()
    n_channels = curves.columns.get_level_values(1).nunique()
    colors = _colors(n_channels)
    for ax, shop in zip(axes, shops, strict=False):
        for k, (channel, values) in enumerate(curves[shop].items()):
            ax.plot(
                factors,
                values.to_numpy(),
                marker=".",
                label=str(channel),
                color=colors[k % len(colors)],
            )
        ax.axvline(1.0, color="0.6", linestyle="--", linewidth=1)
        ax.set_title(str(shop), fontsize=10)
        ax.set_xlabel("planned spend x factor", fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(shops) :]:
        ax.set_visible(False)
    _legend(figure, axes[0], n_channels)
    return _save(figure, path, dpi)


def plot_training_curve(
    history: Sequence[Mapping[str, float]],
    path: str | PathLike,
    *,
    dpi: int = 100,
) -> Path:
    """Plot the training and validation loss per epoch.

    Parameters
    ----------
    history : sequence of dict
        One entry per epoch with ``"train_loss"`` and, optionally,
        ``"valid_loss"`` (the ``history_`` attribute of the estimators).
    path : str or path-like
        Where to write the PNG; parent folders are created.
    dpi : int, default=100
        The image is ``640 x 400`` pixels at ``dpi=100``.

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_causalmmm.reporting.plots import plot_training_curve
    >>> history = [{"train_loss": 2.0, "valid_loss": 2.5},
    ...            {"train_loss": 1.0, "valid_loss": 1.5}]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_training_curve(history, f"{folder}/loss.png").name
    'loss.png'
    """
    if len(history) == 0:
        raise ValueError("history holds no epoch.")
    if any("train_loss" not in row for row in history):
        raise ValueError("every epoch of history needs a 'train_loss'.")
    epochs = np.arange(1, len(history) + 1)
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = figure.subplots()
    train = np.array([row["train_loss"] for row in history], dtype=float)
    ax.plot(epochs, train, marker="o", markersize=3, label="training")
    ax.set_ylabel("training loss (negative ELBO)")
    valid = np.array([row.get("valid_loss", np.nan) for row in history], dtype=float)
    lines = ax.get_lines()
    if np.isfinite(valid).any():
        # Its own axis: a regressor validates on its GMV forecast error, a
        # quantity on another scale than the ELBO.
        other = ax.twinx()
        other.plot(
            epochs, valid, marker="o", markersize=3, color="C1", label="validation"
        )
        other.set_ylabel("validation loss")
        lines = lines + other.get_lines()
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Training curve", fontsize=10)
    ax.legend(lines, [line.get_label() for line in lines])
    ax.grid(alpha=0.3)
    return _save(figure, path, dpi)


def _check_shop_channel_index(frame: pd.DataFrame, columns: Sequence[str], what: str):
    if not isinstance(frame.index, pd.MultiIndex) or frame.index.nlevels != 2:
        raise ValueError(f"{what} must have a (shop, channel) MultiIndex.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {missing}.")


def plot_contributions(
    contributions: pd.DataFrame,
    path: str | PathLike,
    *,
    max_shops: int = 12,
    target: str = "GMV",
    dpi: int = 100,
) -> Path:
    """Plot what each channel brings: GMV by source per shop, and return on spend.

    Left: one stacked bar per shop, the forecast GMV without advertising
    (base) and each channel's contribution on top (negative contributions
    below zero). Right: each channel's return on spend (contribution per
    unit of spend) across shops, as a box plot.

    Parameters
    ----------
    contributions : DataFrame
        As returned by
        :func:`~sklearn_causalmmm.analysis.contributions.channel_contributions`.
    path : str or path-like
        Where to write the PNG; parent folders are created.
    max_shops : int, default=12
        Bars drawn (the first shops); the box plot uses every shop.
    target : str, default="GMV"
        The target's name, in the labels.
    dpi : int, default=100
        The image is ``1000 x 400`` pixels at ``dpi=100`` (``1000 x 560``
        beyond six channels, whose legend goes to the right).

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from sklearn_causalmmm.reporting.plots import plot_contributions
    >>> index = pd.MultiIndex.from_product([["a", "b"], ["tv", "search"]],
    ...                                    names=["shop", "channel"])
    >>> contributions = pd.DataFrame(
    ...     {"contribution": [3.0, 1.0, 2.0, 2.0], "roi": [1.5, 0.5, 1.0, 2.0]},
    ...     index=index)
    >>> contributions.attrs["base"] = {"a": 10.0, "b": 8.0}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     plot_contributions(contributions, f"{folder}/c.png").name
    'c.png'
    """
    if max_shops < 1:
        raise ValueError(f"max_shops must be at least 1, got {max_shops}.")
    from sklearn_causalmmm.analysis.contributions import contribution_table

    _check_shop_channel_index(contributions, ["roi"], "contributions")
    table = contribution_table(contributions)
    shown = table.iloc[:max_shops]
    many = table.shape[1] - 1 > _LEGEND_INSIDE
    figure = Figure(figsize=(10.0, 5.6 if many else 4.0), layout="constrained")
    bars, boxes = figure.subplots(1, 2, width_ratios=[3, 2])
    positions = np.arange(len(shown))
    above = np.zeros(len(shown))
    below = np.zeros(len(shown))
    colors = _colors(table.shape[1] - 1)
    for k, column in enumerate(shown.columns):
        values = shown[column].to_numpy(dtype=float)
        bottom = np.where(values >= 0, above, below)
        color = "0.75" if column == "base" else colors[k - 1]
        bars.bar(positions, values, bottom=bottom, color=color, label=str(column))
        above += np.clip(values, 0, None)
        below += np.clip(values, None, 0)
    bars.axhline(0.0, color="0.3", linewidth=0.8)
    bars.set_xticks(positions, [str(s) for s in shown.index], rotation=45, ha="right")
    bars.set_ylabel(f"forecast {target} over the plan")
    title = f"{target} by source, per shop"
    if len(table) > len(shown):
        title += f" ({len(shown)} of {len(table)} shops)"
    bars.set_title(title, fontsize=10)
    _legend(figure, bars, table.shape[1])
    bars.tick_params(labelsize=7)

    channels = list(table.columns[1:])
    roi = contributions["roi"].unstack("channel")[channels]
    boxes.boxplot(
        [roi[c].dropna().to_numpy() for c in channels],
        tick_labels=[str(c) for c in channels],
    )
    if many:
        boxes.tick_params(axis="x", labelrotation=90)
    boxes.axhline(0.0, color="0.6", linestyle="--", linewidth=1)
    boxes.set_ylabel(f"{target} per unit of spend")
    boxes.set_title("Return on spend across shops", fontsize=10)
    boxes.tick_params(labelsize=7)
    boxes.grid(alpha=0.3)
    return _save(figure, path, dpi)


def plot_budget(
    allocation, path: str | PathLike, *, target: str = "GMV", dpi: int = 100
) -> Path:
    """Plot a budget reallocation: spend per channel and GMV uplift per shop.

    Left: total spend per channel over all shops, planned and optimized.
    Right: each shop's forecast GMV uplift (optimized / planned - 1), sorted.

    Parameters
    ----------
    allocation : BudgetAllocation
        As returned by :func:`~sklearn_causalmmm.analysis.budget.optimize_budget`.
    path : str or path-like
        Where to write the PNG; parent folders are created.
    target : str, default="GMV"
        The target's name, in the labels.
    dpi : int, default=100
        The image is ``1000 x 400`` pixels at ``dpi=100`` (``1000 x 480``
        beyond six channels, whose names are turned upright).

    Returns
    -------
    path : Path
    """
    _check_shop_channel_index(
        allocation.allocation,
        ["planned_spend", "optimized_spend"],
        "allocation.allocation",
    )
    by_channel = allocation.spend_by_channel()
    many = len(by_channel) > _LEGEND_INSIDE
    figure = Figure(figsize=(10.0, 4.8 if many else 4.0), layout="constrained")
    bars, uplift = figure.subplots(1, 2)
    positions = np.arange(len(by_channel))
    width = 0.4
    bars.bar(positions - width / 2, by_channel["planned_spend"], width, label="planned")
    bars.bar(
        positions + width / 2, by_channel["optimized_spend"], width, label="optimized"
    )
    bars.set_xticks(
        positions,
        [str(c) for c in by_channel.index],
        rotation=90 if many else 0,
    )
    bars.set_ylabel("spend over the plan, all shops")
    bars.set_title("Spend per channel", fontsize=10)
    bars.legend(fontsize=7)
    bars.tick_params(labelsize=7)

    gains = 100 * allocation.gmv["uplift"].sort_values(ascending=False)
    uplift.bar(np.arange(len(gains)), gains.to_numpy(), color="C2")
    uplift.set_xlabel("shops, by uplift")
    uplift.set_xticks([])
    uplift.set_ylabel(f"forecast {target} uplift (%)")
    uplift.set_title(
        f"Same budget, reallocated: {100 * allocation.uplift:+.1f} % overall",
        fontsize=10,
    )
    uplift.grid(alpha=0.3, axis="y")
    return _save(figure, path, dpi)

"""Draw the figures of the documentation from our own runs on the simulator.

Usage::

    .venv/bin/python docs/make_figures.py     # a few minutes on two CPU cores

Fits CausalMMM (default parameters) on a Sim-1-like panel of
:func:`~sklearn_causalmmm.datasets.make_causal_mmm`, writes the PNGs below into
``docs/img/`` and prints the numbers that ``docs/model.md`` quotes:

``graphs.png``
    Learned against true causal graph of each of the three shop types.
``hill_curves.png``
    Saturation: the simulator's Hill curves of one edge for shops of different
    context, and the curves the model learned for the same shops.
``carryover.png``
    Carryover: the simulator's lag kernels, and the GMV the fitted regressor
    forecasts after a one-day spend pulse.
``forecast.png``
    GMV forecasts of held-out days against the truth and the last-value
    forecast.
``decisions_contributions.png``, ``decisions_budget.png``
    The demo's channel contributions and budget reallocation (the command
    line's ``demo`` with its defaults), quoted by ``docs/decisions.md``.

``python docs/make_figures.py decisions`` draws the last two only.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from sklearn_causalmmm import CausalGraphDiscoverer, CausalMMMRegressor
from sklearn_causalmmm.baselines import SeasonalNaiveRegressor
from sklearn_causalmmm.datasets import SIMULATION_SETTINGS, make_causal_mmm
from sklearn_causalmmm.metrics import edge_auroc, heterogeneity_auroc, mse_at_horizon
from sklearn_causalmmm.reporting.plots import plot_forecasts, plot_graph_heatmaps

IMG = Path(__file__).resolve().parent / "img"
SEED = 0
N_SHOPS = 120
HORIZON = 7
MAX_EPOCHS = 30
DPI = 80  # keeps every PNG well under 200 KB


def _save(figure: Figure, name: str) -> Path:
    path = IMG / name
    figure.savefig(path, dpi=DPI)
    print(f"wrote {path.name} ({path.stat().st_size // 1024} KB)")
    return path


def draw_graphs(data, discoverer) -> None:
    probabilities = discoverer.edge_probabilities_
    learned, truth = {}, {}
    for kind in range(len(data.graph_types)):
        members = data.graph_type == kind
        learned[f"type {kind}"] = probabilities[members].mean(axis=0)
        truth[f"type {kind}"] = data.graph_types[kind]
    path = plot_graph_heatmaps(
        learned, truth, data.node_names, IMG / "graphs.png", dpi=DPI
    )
    print(f"wrote {path.name} ({path.stat().st_size // 1024} KB)")
    print(
        f"  edge AUROC {edge_auroc(data.adjacency, probabilities):.3f}, "
        f"heterogeneity AUROC {heterogeneity_auroc(data.adjacency, probabilities):.3f}"
    )


def _most_common_edge(data, into: int) -> tuple[int, int]:
    """The channel -> ``into`` edge that the most shops have."""
    n_channels = len(data.channel_names)
    counts = data.adjacency[:, :n_channels, into].sum(axis=0)
    return int(np.argmax(counts)), into


def draw_hill_curves(data, discoverer) -> None:
    gmv = len(data.node_names) - 1
    sender, receiver = _most_common_edge(data, gmv)
    has_edge = np.flatnonzero(data.adjacency[:, sender, receiver] == 1)
    # Shops spread over the range of the true shape parameter.
    alpha = data.hill_alpha[has_edge, sender, receiver]
    shops = has_edge[np.argsort(alpha)[np.linspace(0, len(alpha) - 1, 4).astype(int)]]
    context = torch.as_tensor(data.context, dtype=torch.float32)
    with torch.no_grad():
        learned_alpha, learned_g = discoverer.model_.decoder.saturation.parameters_for(
            context
        )
    u = np.linspace(0.0, 3.0, 200)
    figure = Figure(figsize=(9.0, 3.6), layout="constrained")
    truth_ax, learned_ax = figure.subplots(1, 2, sharey=True)
    for k, shop in enumerate(shops):
        label = "context " + ", ".join(f"{c:.2f}" for c in data.context[shop])
        a = data.hill_alpha[shop, sender, receiver]
        g = data.hill_half_saturation[shop, sender, receiver]
        truth_ax.plot(u, u**a / (u**a + g**a), color=f"C{k}", label=label)
        a, g = (float(p[shop, sender]) for p in (learned_alpha, learned_g))
        learned_ax.plot(u, u**a / (u**a + g**a), color=f"C{k}", label=label)
    name = f"{data.node_names[sender]} -> {data.node_names[receiver]}"
    truth_ax.set_title(f"simulator: Hill curve of {name}", fontsize=10)
    learned_ax.set_title(
        f"learned: saturation of {data.node_names[sender]}", fontsize=10
    )
    for ax in (truth_ax, learned_ax):
        ax.set_xlabel("spend / the shop's mean spend")
        ax.grid(alpha=0.3)
    truth_ax.set_ylabel("response")
    truth_ax.legend(fontsize=8)
    _save(figure, "hill_curves.png")


def draw_carryover(data, regressor) -> None:
    figure = Figure(figsize=(9.0, 3.6), layout="constrained")
    kernel_ax, pulse_ax = figure.subplots(1, 2)

    # Lag kernels of a few true edges: geometric (Sim 1) and Weibull (Sim 2).
    sim2 = make_causal_mmm(
        **{**SIMULATION_SETTINGS["sim2"], "n_shops": 20},
        compute_contributions=False,
        random_state=SEED,
    )
    lags = np.arange(1, data.adstock_kernel.shape[-1] + 1)
    for source, style, name in ((data, "-", "geometric"), (sim2, "--", "Weibull")):
        shops, senders, receivers = np.nonzero(source.adjacency)
        for k in range(3):
            kernel = source.adstock_kernel[shops[k], senders[k], receivers[k]]
            kernel_ax.plot(
                lags, kernel, style, marker="o", color=f"C{k}", label=f"{name} {k}"
            )
    kernel_ax.set_xticks(lags)
    kernel_ax.set_xlabel("lag (days)")
    kernel_ax.set_ylabel("weight of the spend that many days ago")
    kernel_ax.set_title("simulator: lag kernels (adstock)", fontsize=10)
    kernel_ax.legend(fontsize=8, ncol=2)
    kernel_ax.grid(alpha=0.3)

    # The fitted model's answer to "what if we double one day's spend?".
    gmv = len(data.node_names) - 1
    channel, _ = _most_common_edge(data, gmv)
    plan = data.X[..., -HORIZON:].copy()
    pulsed = plan.copy()
    pulsed[:, channel, 0] += data.X[:, channel].mean(axis=1)
    extra = regressor.predict(pulsed) - regressor.predict(plan)
    extra = 100 * extra / data.y.mean(axis=1, keepdims=True)
    days = np.arange(HORIZON)
    has_path = _reaches(data.adjacency, channel, gmv)
    for mask, label, color in (
        (has_path, "path to GMV", "C0"),
        (~has_path, "no path", "C7"),
    ):
        mean = extra[mask].mean(axis=0)
        low, high = np.percentile(extra[mask], [25, 75], axis=0)
        pulse_ax.plot(
            days, mean, marker="o", color=color, label=f"{label} ({mask.sum()} shops)"
        )
        pulse_ax.fill_between(days, low, high, color=color, alpha=0.2)
    pulse_ax.axhline(0.0, color="black", linewidth=0.8)
    pulse_ax.set_xticks(days)
    pulse_ax.set_xlabel(
        f"days after a one-day pulse of {data.node_names[channel]} spend"
    )
    pulse_ax.set_ylabel("extra GMV forecast (% of mean GMV)")
    pulse_ax.set_title("learned: response to a spend pulse", fontsize=10)
    pulse_ax.legend(fontsize=8)
    pulse_ax.grid(alpha=0.3)
    _save(figure, "carryover.png")
    print(
        f"  pulse on {data.node_names[channel]}: peak extra GMV "
        f"{extra[has_path].mean(axis=0).max():.2f} % with a path, "
        f"{np.abs(extra[~has_path].mean(axis=0)).max():.2f} % without"
    )


def _reaches(adjacency: np.ndarray, source: int, target: int) -> np.ndarray:
    """Per shop: is there a directed path ``source -> ... -> target``?"""
    reached = adjacency[:, source].astype(bool)
    for _ in range(adjacency.shape[1]):
        reached = reached | np.einsum("si,sij->sj", reached, adjacency).astype(bool)
    return reached[:, target]


def draw_forecast(data, regressor) -> None:
    past, plan = data.X[..., :-HORIZON], data.X[..., -HORIZON:]
    naive = SeasonalNaiveRegressor(strategy="last").fit(
        past, data.y[:, :-HORIZON], context=data.context
    )
    dates = pd.date_range("2024-01-01", periods=data.y.shape[1], freq="D")
    shops = [f"shop {s}" for s in range(data.y.shape[0])]

    def frame(values: np.ndarray, days: slice) -> pd.DataFrame:
        return pd.DataFrame(values.T, index=dates[days], columns=shops)

    future = slice(-HORIZON, None)
    truth = frame(data.y[:, future], future)
    forecast = regressor.predict(plan)
    baseline = naive.predict(plan)
    shown = shops[:4]
    plot_forecasts(
        truth[shown],
        {
            "CausalMMM": frame(forecast, future)[shown],
            "last value": frame(baseline, future)[shown],
        },
        IMG / "forecast.png",
        history=frame(
            data.y[:, -5 * HORIZON : -HORIZON], slice(-5 * HORIZON, -HORIZON)
        )[shown],
        dpi=DPI,
    )
    print(f"wrote forecast.png ({(IMG / 'forecast.png').stat().st_size // 1024} KB)")
    truth_t, model_t, naive_t = data.y[:, future], forecast, baseline
    mse = [mse_at_horizon(truth_t, p, horizon=HORIZON) for p in (model_t, naive_t)]
    print(f"  MSE of GMV at day {HORIZON}: CausalMMM {mse[0]:.4g}, naive {mse[1]:.4g}")


def draw_decisions() -> None:
    """The demo's contributions and budget figures, and the numbers quoted."""
    from sklearn_causalmmm.reporting.demo import run_demo
    from sklearn_causalmmm.reporting.plots import plot_budget, plot_contributions

    started = time.perf_counter()
    result = run_demo()
    print(f"demo fitted in {time.perf_counter() - started:.0f} s")
    decisions = result.decisions
    plot_contributions(decisions.contributions, IMG / "decisions_contributions.png")
    plot_budget(decisions.budget, IMG / "decisions_budget.png")
    print("\n".join(decisions.summary_lines()))
    print(
        "  contribution rank correlation with the truth: "
        f"{result.contribution_rank_correlation:.2f}"
    )


def main(parts: list[str]) -> None:
    # One thread: the figures are then bit-for-bit those of any other CPU run.
    torch.set_num_threads(1)
    IMG.mkdir(exist_ok=True)
    if "decisions" in parts or not parts:
        draw_decisions()
    if parts == ["decisions"]:
        return
    data = make_causal_mmm(
        **{**SIMULATION_SETTINGS["sim1"], "n_shops": N_SHOPS}, random_state=SEED
    )
    nodes = np.concatenate([data.X, data.y[:, None]], axis=1)

    started = time.perf_counter()
    discoverer = CausalGraphDiscoverer(max_epochs=MAX_EPOCHS, random_state=SEED)
    discoverer.fit(nodes, context=data.context)
    print(f"discoverer fitted in {time.perf_counter() - started:.0f} s")
    draw_graphs(data, discoverer)
    draw_hill_curves(data, discoverer)
    if parts == ["graphs"]:
        return

    started = time.perf_counter()
    regressor = CausalMMMRegressor(
        horizon=HORIZON, max_epochs=MAX_EPOCHS, random_state=SEED
    )
    regressor.fit(data.X[..., :-HORIZON], data.y[:, :-HORIZON], context=data.context)
    print(f"regressor fitted in {time.perf_counter() - started:.0f} s")
    draw_carryover(data, regressor)
    draw_forecast(data, regressor)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

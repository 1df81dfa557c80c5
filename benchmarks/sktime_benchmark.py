"""GMV forecasting in sktime: CausalMMM against sktime's and the package's forecasters.

Usage::

    python benchmarks/sktime_benchmark.py            # full run (see FULL)
    python benchmarks/sktime_benchmark.py --reduced  # fewer shops, days and windows
    python benchmarks/sktime_benchmark.py --quick    # toy sizes, well under a minute

Every forecaster runs through sktime's ``evaluate`` with an
``ExpandingWindowSplitter`` (refit on every window, forecast 1 to 30 steps
ahead) on two panels: the simulator's ``"sim1"`` setting, where spend drives
GMV, and the bundled demo data. Compared are :class:`CausalMMMForecaster`,
sktime's ``NaiveForecaster`` (last value), sktime's ``YfromX`` around a ridge
regression on geometrically adstocked X, and the package's forecasting
baselines through :class:`PanelRegressorForecaster`. Every forecaster is given
the same X over the forecast steps: the channel plan (spend, funnel nodes,
context). Scores are the MSE of GMV divided by each shop's mean absolute GMV
over the window's training steps (so every shop weighs the same) at 1, 7 and
30 steps ahead, mean and standard deviation over the windows, and the ratio of
the mean to NaiveForecaster's.

Writes ``benchmarks/results/sktime.json`` and the "sktime forecasting" section
of ``docs/benchmarks.md`` (other sections are kept).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import report
from _common import replace_section
from _package import geometric_adstock
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sktime.forecasting.compose import YfromX
from sktime.forecasting.model_evaluation import evaluate
from sktime.forecasting.naive import NaiveForecaster
from sktime.split import ExpandingWindowSplitter
from threadpoolctl import threadpool_limits

from sklearn_causalmmm.baselines import (
    AdstockHillRegressor,
    BTVCRegressor,
    GVARRegressor,
    LSTMRegressor,
    SeasonalNaiveRegressor,
    WideDeepRegressor,
)
from sklearn_causalmmm.datasets import SIMULATION_SETTINGS, load_demo, make_causal_mmm
from sklearn_causalmmm.forecasting import CausalMMMForecaster, PanelRegressorForecaster
from sklearn_causalmmm.metrics import mse_at_horizon

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
HORIZONS = (1, 7, 30)
NAIVE = "NaiveForecaster (last value)"

#: Panels and splitters. ``sim1``: the simulator's Sim-1-like setting with
#: fewer shops (the cost is per window and method) and steps enough for
#: 30-step horizons; ``demo``: the bundled demo data (40 shops, 365 days),
#: all of it or, with ``n_shops``/``n_steps``, its first shops and last days.
FULL = {
    "sim1": {"n_shops": 100, "n_steps": 160, "initial_window": 100, "step_length": 10},
    "demo": {
        "n_shops": None,
        "n_steps": None,
        "initial_window": 275,
        "step_length": 15,
    },
}
REDUCED = {
    "sim1": {"n_shops": 40, "n_steps": 160, "initial_window": 100, "step_length": 15},
    "demo": {"n_shops": None, "n_steps": 200, "initial_window": 140, "step_length": 15},
}
QUICK = {
    "sim1": {"n_shops": 6, "n_steps": 70, "initial_window": 35, "step_length": 5},
    "demo": {"n_shops": 6, "n_steps": 75, "initial_window": 40, "step_length": 5},
}

#: Training budgets of the trained forecasters (their defaults otherwise).
FULL_BUDGET = {
    "causalmmm": {},
    "windowed": {"max_epochs": 20, "batch_size": 256},
    "btvc": {},
    "gvar": {},
    "adstock_hill": {},
}
REDUCED_BUDGET = {
    # The default epoch budget gives 40 shops the optimiser updates they need.
    "causalmmm": {},
    "windowed": {"max_epochs": 20, "batch_size": 256},
    "btvc": {},
    "gvar": {"max_epochs": 150},
    "adstock_hill": {},
}
QUICK_BUDGET = {
    "causalmmm": {"hidden": 8, "max_epochs": 2},
    "windowed": {"max_epochs": 2, "batch_size": 256, "window": 7},
    "btvc": {"max_iter": 20},
    "gvar": {"max_epochs": 5},
    "adstock_hill": {"n_init": 1, "max_iter": 20},
}

#: What each kind of run uses: panels and splitters, training budgets.
RUNS = {
    "full": (FULL, FULL_BUDGET),
    "reduced": (REDUCED, REDUCED_BUDGET),
    "quick": (QUICK, QUICK_BUDGET),
}


class GeometricAdstock(TransformerMixin, BaseEstimator):
    """Geometric adstock of every column of X along its rows (time steps).

    A thin scikit-learn wrapper of
    :func:`~sklearn_causalmmm.baselines.adstock_hill.geometric_adstock`.
    ``YfromX`` hands its regressor the rows of the forecast steps only, so
    ``fit`` keeps the last ``max_lag`` rows of the training X and
    ``transform`` lets them carry over into rows indexed after them (the
    forecast steps of the same series); other rows start from zero.

    Parameters
    ----------
    decay : float, default=0.5
        Carryover per step, in [0, 1).
    max_lag : int, default=6
        Longest carryover in steps.

    Examples
    --------
    >>> import pandas as pd
    >>> adstock = GeometricAdstock(decay=0.5, max_lag=2)
    >>> past = pd.DataFrame({"spend": [0.0, 0.0, 7.0]})
    >>> adstock.fit_transform(past).ravel()
    array([0., 0., 4.])
    >>> adstock.transform(pd.DataFrame({"spend": [0.0]}, index=[3])).ravel()
    array([2.])
    """

    def __init__(self, decay: float = 0.5, max_lag: int = 6) -> None:
        self.decay = decay
        self.max_lag = max_lag

    def fit(self, X, y=None):
        """Remember the last ``max_lag`` rows of X for later rows."""
        self.tail_ = pd.DataFrame(X).iloc[max(len(X) - self.max_lag, 0) :]
        self.n_features_in_ = self.tail_.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """Adstocked X, ``(n_rows, n_columns)``."""
        frame = pd.DataFrame(X)
        values = frame.to_numpy(dtype=np.float64)
        tail = self.tail_
        carry = 0
        if len(tail) and len(frame) and frame.index[0] > tail.index[-1]:
            values = np.vstack([tail.to_numpy(dtype=np.float64), values])
            carry = len(tail)
        return geometric_adstock(values.T, self.decay, self.max_lag).T[carry:]


def forecasters(context: list[str], budget: dict) -> dict:
    """The forecasters to compare, by display name."""
    common = {"context_columns": context, "random_state": 0}
    windowed = {**common, **budget["windowed"]}
    ridge = make_pipeline(
        GeometricAdstock(decay=0.5, max_lag=6), StandardScaler(), Ridge(alpha=1.0)
    )
    return {
        "CausalMMMForecaster": CausalMMMForecaster(**common, **budget["causalmmm"]),
        NAIVE: NaiveForecaster(strategy="last"),
        "YfromX(adstock + ridge)": YfromX(ridge),
        "LSTM": PanelRegressorForecaster(LSTMRegressor(**windowed)),
        "Wide&Deep": PanelRegressorForecaster(WideDeepRegressor(**windowed)),
        "BTVC": PanelRegressorForecaster(BTVCRegressor(**common, **budget["btvc"])),
        "GVAR": PanelRegressorForecaster(GVARRegressor(**common, **budget["gvar"])),
        "Adstock + Hill ridge": PanelRegressorForecaster(
            AdstockHillRegressor(**common, **budget["adstock_hill"])
        ),
        "Seasonal naive (7 days)": PanelRegressorForecaster(
            SeasonalNaiveRegressor(strategy="seasonal", context_columns=context)
        ),
    }


def load_panel(name: str, n_shops: int | None, n_steps: int | None):
    """GMV ``y`` and exogenous ``X`` on a (shop, day) MultiIndex, context names."""
    if name == "sim1":
        settings = {
            **SIMULATION_SETTINGS["sim1"],
            "n_shops": n_shops,
            "n_steps": n_steps,
        }
        data = make_causal_mmm(
            **settings, compute_contributions=False, as_frame=True, random_state=0
        )
        frame, target = data.frame, "gmv"
        shop, time_ = "shop_id", "date"
        context = [c for c in frame.columns if c.startswith("context_")]
    else:
        demo = load_demo()
        frame, target = demo.frame, demo.target
        shop, time_ = demo.shop_column, demo.time_column
        context = list(demo.context_columns)
        if n_shops is not None:
            frame = frame[frame[shop].isin(frame[shop].unique()[:n_shops])]
        if n_steps is not None:
            frame = frame.groupby(shop).tail(n_steps)
    frame = frame.assign(**{time_: frame[time_].dt.to_period("D")})
    frame = frame.set_index([shop, time_]).sort_index()
    return frame[[target]], frame.drop(columns=target), context


def scaled_mse(result: pd.DataFrame, n_ahead: int) -> np.ndarray:
    """MSE per window and step ahead, ``(n_windows, n_ahead)``, on scaled GMV."""
    rows = []
    for y_train, y_test, y_pred in zip(
        result["y_train"], result["y_test"], result["y_pred"], strict=True
    ):
        shops = y_test.index.get_level_values(0)
        scale = y_train.iloc[:, 0].abs().groupby(level=0).mean()
        scale = scale.reindex(shops).to_numpy()
        truth = y_test.iloc[:, 0].to_numpy() / scale
        forecast = y_pred.loc[y_test.index].iloc[:, 0].to_numpy() / scale
        n_shops = len(shops.unique())
        rows.append(
            mse_at_horizon(
                truth.reshape(n_shops, n_ahead), forecast.reshape(n_shops, n_ahead)
            )
        )
    return np.array(rows)


def run_dataset(name: str, config: dict, budget: dict) -> dict:
    """Evaluate every forecaster on one panel."""
    y, X, context = load_panel(name, config["n_shops"], config["n_steps"])
    n_ahead = max(HORIZONS)
    cv = ExpandingWindowSplitter(
        fh=list(range(1, n_ahead + 1)),
        initial_window=config["initial_window"],
        step_length=config["step_length"],
    )
    shops = y.index.get_level_values(0).unique()
    times = y.index.get_level_values(1).unique()
    out = {
        "n_shops": len(shops),
        "n_steps": len(times),
        "first_day": str(times[0]),
        "initial_window": config["initial_window"],
        "step_length": config["step_length"],
        "n_windows": cv.get_n_splits(y.loc[shops[0]]),
        "x_columns": list(X.columns),
        "methods": {},
    }
    for method, forecaster in forecasters(context, budget).items():
        start = time.perf_counter()
        try:
            result = evaluate(
                forecaster, cv, y, X=X, return_data=True, error_score="raise"
            )
        except Exception as error:  # a failing method is reported, not fatal
            out["methods"][method] = {
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(limit=5),
            }
            print(f"{name:5s} {method}: FAILED {error}", flush=True)
            continue
        mse = scaled_mse(result, n_ahead)
        out["methods"][method] = {
            "mse": {str(h): mse[:, h - 1].tolist() for h in HORIZONS},
            "mean": {str(h): float(mse[:, h - 1].mean()) for h in HORIZONS},
            "std": {str(h): float(mse[:, h - 1].std()) for h in HORIZONS},
            "fit_seconds": float(result["fit_time"].mean()),
            "seconds": time.perf_counter() - start,
        }
        summary = ", ".join(
            f"@{h} {out['methods'][method]['mean'][str(h)]:.4f}" for h in HORIZONS
        )
        print(f"{name:5s} {method}: {summary}", flush=True)
    naive = out["methods"].get(NAIVE, {}).get("mean")
    for scores in out["methods"].values():
        if naive and "mean" in scores:
            scores["ratio_to_naive"] = {
                h: scores["mean"][h] / naive[h] for h in scores["mean"]
            }
    return out


def run(kind: str = "full") -> dict:
    """Run the benchmark; ``kind`` is a key of :data:`RUNS`."""
    import torch

    torch.set_num_threads(1)  # other work shares the 2 cores
    configs, budget = RUNS[kind]
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        datasets = {
            name: run_dataset(name, config, budget) for name, config in configs.items()
        }
    return {
        "run": kind,
        "quick": kind == "quick",
        "horizons": list(HORIZONS),
        "seconds": time.perf_counter() - start,
        "torch_threads": torch.get_num_threads(),
        "budget": budget,
        "datasets": datasets,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="toy sizes, < 60 s")
    size.add_argument(
        "--reduced", action="store_true", help="fewer shops, days and windows"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "sktime.json")
    parser.add_argument(
        "--docs", type=Path, default=ROOT.parent / "docs" / "benchmarks.md"
    )
    args = parser.parse_args(argv)
    result = run("quick" if args.quick else "reduced" if args.reduced else "full")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    text = report.sktime_section(result)
    replace_section(args.docs, text.splitlines()[0], text)
    print(f"{result['seconds']:.1f} s; wrote {args.output} and {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

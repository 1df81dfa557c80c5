"""How sure the model is of a plan's forecast gain over another plan.

The interval comes from the model, never from the optimiser: it depends on
what the model can say about its own uncertainty.

* ``model.predict_samples(X, n_samples=..., random_state=...)`` (preferred):
  joint draws of the forecast, an array ``(n_samples, len(X))`` for a
  DataFrame plan (or ``(n_samples, *predict(X).shape)``). Draws made with the
  same ``random_state`` must share their randomness (graphs, parameters,
  noise) across plans, so that draw ``i`` of two plans is the same possible
  world: the gain's draws are then their differences, and the interval is
  their central quantiles.
* ``model.predict_interval(X, coverage=...)``: only a band around each
  forecast, not how the two plans' errors go together. The gain then lies in
  ``[low(new) - high(old), high(new) - low(old)]`` whenever both totals lie
  in their bands; with each band at ``1 - (1 - coverage) / 2`` that happens
  with probability at least ``coverage`` (Bonferroni). A shop's band over
  the plan is the sum of its steps' bands, exact when its errors move
  together from step to step. The interval is conservative: errors that hit
  both plans alike cancel in the gain, and this bound cannot know it.
* neither: no interval, and the result says so.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["GainInterval", "gain_interval"]

#: The model method that returns joint forecast draws (see the module).
SAMPLES_METHOD = "predict_samples"


@dataclass(frozen=True)
class GainInterval:
    lower: float
    upper: float
    method: str  # "samples" or "bands"


def gain_interval(
    model,
    old: pd.DataFrame,
    new: pd.DataFrame,
    *,
    coverage: float,
    n_samples: int,
    random_state,
) -> GainInterval | None:
    """Interval of ``sum(forecast(new)) - sum(forecast(old))`` at ``coverage``.

    None when the model can neither sample forecasts nor band them.
    """
    tail = (1.0 - coverage) / 2.0
    if hasattr(model, SAMPLES_METHOD):
        sample = getattr(model, SAMPLES_METHOD)
        seed = _seed(random_state)
        draws = [
            np.asarray(
                sample(plan, n_samples=n_samples, random_state=seed), dtype=np.float64
            )
            for plan in (old, new)
        ]
        gains = draws[1].reshape(n_samples, -1).sum(1) - draws[0].reshape(
            n_samples, -1
        ).sum(1)
        lower, upper = np.quantile(gains, [tail, 1.0 - tail])
        return GainInterval(float(lower), float(upper), "samples")
    if hasattr(model, "predict_interval"):
        bands = [
            [
                float(np.sum(np.asarray(bound, dtype=np.float64)))
                for bound in model.predict_interval(plan, coverage=1.0 - tail)
            ]
            for plan in (old, new)
        ]
        (old_low, old_high), (new_low, new_high) = bands
        return GainInterval(new_low - old_high, new_high - old_low, "bands")
    return None


def _seed(random_state) -> int:
    """One integer seed, so both plans' draws share their randomness."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))

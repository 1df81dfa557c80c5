"""Response curves: forecast GMV under counterfactual channel plans.

A response curve answers "what if this channel's planned spend were scaled by
``f``, everything else unchanged?": the fitted regressor forecasts GMV for the
modified plan through its public ``predict`` only, so the curve reflects what
the model learned (carryover, saturation, the causal graph) and works for every
regressor of the package's forecasting contract.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sklearn_causalmmm.analysis._scenarios import ScenarioPlan

__all__ = ["response_curves"]


def response_curves(
    model,
    X_plan: pd.DataFrame,
    channels: Sequence[str],
    factors: Sequence[float] | np.ndarray = np.linspace(0.0, 2.0, 9),
) -> pd.DataFrame:
    """Total forecast GMV per shop when one channel's plan is scaled.

    For every channel and factor ``f``, the channel's column of ``X_plan`` is
    multiplied by ``f`` (the other columns unchanged), ``model.predict`` forecasts
    GMV over the plan, and the forecast is summed over each shop's steps.

    Parameters
    ----------
    model : fitted regressor
        Any regressor of the package's forecasting contract (e.g.
        :class:`~sklearn_causalmmm.CausalMMMRegressor`) fitted on the plan's
        shops; only its ``predict`` is called.
    X_plan : DataFrame
        A channel plan ``model.predict`` accepts: long layout (shop column
        named by ``model.shop_column``) or a ``(shop, time)`` MultiIndex.
    channels : sequence of str
        Columns of ``X_plan`` to scale, one at a time.
    factors : sequence of float, default=np.linspace(0, 2, 9)
        Non-negative multipliers of the planned spend; 1 is the plan itself.

    Returns
    -------
    curves : DataFrame
        Index: the factors (named ``"factor"``). Columns: a MultiIndex
        ``(shop, channel)``, shops in order of first appearance in
        ``X_plan``. Values: the shop's total forecast GMV over the plan.

    Raises
    ------
    ValueError
        If a channel is not a column of ``X_plan``, a factor is negative or
        not finite, or no channel or factor is given.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm import CausalMMMRegressor
    >>> from sklearn_causalmmm.analysis.response import response_curves
    >>> from sklearn_causalmmm.datasets import make_causal_mmm
    >>> frame = make_causal_mmm(
    ...     n_shops=3, n_steps=40, as_frame=True, random_state=0).frame
    >>> past, plan = frame[frame["date"] < "2024-02-03"], frame[
    ...     frame["date"] >= "2024-02-03"]
    >>> context = ["context_0", "context_1"]
    >>> model = CausalMMMRegressor(
    ...     hidden=4, max_epochs=1, context_columns=context, random_state=0)
    >>> model = model.fit(past.drop(columns="gmv"), past["gmv"])
    >>> curves = response_curves(
    ...     model, plan.drop(columns="gmv"), ["search", "display"], [0.0, 1.0, 2.0])
    >>> curves.shape  # 3 factors x (3 shops x 2 channels)
    (3, 6)
    >>> # Factor 1 is the plan itself: the total of the model's own forecast.
    >>> total = model.predict(plan.drop(columns="gmv")).groupby(plan["shop_id"]).sum()
    >>> bool(np.allclose(curves.loc[1.0].xs("search", level="channel"), total))
    True
    """
    scenarios = ScenarioPlan(model, X_plan, channels)
    factors = np.asarray(factors, dtype=np.float64).ravel()
    if factors.size == 0:
        raise ValueError("factors is empty.")
    if not np.all(np.isfinite(factors)) or np.any(factors < 0):
        raise ValueError(f"factors must be finite and >= 0, got {factors.tolist()}.")

    channels = scenarios.channels
    # Factor 1 of every channel is the same plan: predict it once.
    base = scenarios.total_gmv() if np.any(factors == 1.0) else None
    values = np.empty((factors.size, scenarios.n_shops, len(channels)))
    for k in range(len(channels)):
        for f, factor in enumerate(factors):
            if factor == 1.0:
                values[f, :, k] = base
                continue
            scaling = np.ones(len(channels))
            scaling[k] = factor
            values[f, :, k] = scenarios.total_gmv(scaling)
    columns = pd.MultiIndex.from_product(
        [scenarios.shops, channels], names=["shop", "channel"]
    )
    return pd.DataFrame(
        values.reshape(factors.size, -1),
        index=pd.Index(factors, name="factor"),
        columns=columns,
    )

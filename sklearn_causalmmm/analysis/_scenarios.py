"""Forecast GMV per shop for channel plans scaled channel by channel.

Response curves, contributions and the budget optimiser all ask the same
question of a fitted regressor: "what total GMV does it forecast for each shop
if channel ``c``'s planned spend is multiplied by ``f[shop, c]``?".
:class:`ScenarioPlan` answers it through the regressor's public ``predict``
only, so every regressor of the package's forecasting contract can be used.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["ScenarioPlan", "shop_of_rows"]


def shop_of_rows(model, X_plan: pd.DataFrame) -> np.ndarray:
    """The shop of every row of a DataFrame plan (shop column or first level)."""
    shop_column = getattr(model, "shop_column", "shop_id")
    if shop_column in X_plan.columns:
        return X_plan[shop_column].to_numpy()
    if isinstance(X_plan.index, pd.MultiIndex):
        return X_plan.index.get_level_values(0).to_numpy()
    raise ValueError(
        f"X_plan has no shop column {shop_column!r} (model.shop_column) "
        "and no (shop, time) MultiIndex: cannot total the forecast per shop."
    )


class ScenarioPlan:
    """A channel plan whose channels can be scaled per shop, and its forecasts.

    Parameters
    ----------
    model : fitted regressor
        Only ``model.predict`` is called; ``model.shop_column`` (default
        ``"shop_id"``) names the shop column of a long plan.
    X_plan : DataFrame
        A plan ``model.predict`` accepts: long layout or a ``(shop, time)``
        MultiIndex. Never modified.
    channels : sequence of str
        Columns of ``X_plan`` that scenarios may scale.

    Attributes
    ----------
    shops : ndarray
        Shops in order of first appearance in ``X_plan``.
    channels : list of str
    spend : ndarray of shape (n_shops, n_channels)
        Planned spend of each shop and channel, summed over the plan's steps.
    n_predictions : int
        Calls of ``model.predict`` so far.
    """

    def __init__(self, model, X_plan: pd.DataFrame, channels: Sequence[str]):
        if not isinstance(X_plan, pd.DataFrame):
            raise TypeError(
                "X_plan must be a DataFrame (long or (shop, time) MultiIndex), "
                f"got {type(X_plan).__name__}."
            )
        channels = list(channels)
        if not channels:
            raise ValueError("channels is empty; name at least one column of X_plan.")
        missing = [c for c in channels if c not in X_plan.columns]
        if missing:
            raise ValueError(f"channels {missing} are not columns of X_plan.")
        if len(set(channels)) < len(channels):
            raise ValueError(f"channels {channels} name a column more than once.")

        shop_of_row = shop_of_rows(model, X_plan)
        self.model = model
        self.channels = channels
        self.shops = pd.unique(shop_of_row)
        self._plan = X_plan
        self._shop_of_row = shop_of_row
        self._row_shop = pd.Index(self.shops).get_indexer(shop_of_row)
        self._channel_values = X_plan[channels].to_numpy(dtype=np.float64)
        self.spend = self._per_shop(self._channel_values)
        self.n_predictions = 0

    @property
    def n_shops(self) -> int:
        return len(self.shops)

    def _per_shop(self, values: np.ndarray) -> np.ndarray:
        """Sum rows of ``values`` per shop, in the order of :attr:`shops`."""
        totals = np.zeros((self.n_shops, *values.shape[1:]))
        np.add.at(totals, self._row_shop, values)
        return totals

    def factors(self, factors) -> np.ndarray:
        """Broadcast ``factors`` to shape ``(n_shops, n_channels)`` and check them."""
        factors = np.broadcast_to(
            np.asarray(factors, dtype=np.float64), (self.n_shops, len(self.channels))
        )
        if not np.all(np.isfinite(factors)) or np.any(factors < 0):
            raise ValueError("spend factors must be finite and >= 0.")
        return factors

    def scaled(self, factors) -> pd.DataFrame:
        """A copy of the plan with channel ``c`` of shop ``s`` times ``factors[s, c]``.

        ``factors`` broadcasts to ``(n_shops, n_channels)``: a scalar, one
        factor per channel, or one per shop and channel.
        """
        factors = self.factors(factors)
        plan = self._plan.copy()
        plan[self.channels] = self._channel_values * factors[self._row_shop]
        return plan

    def total_gmv(self, factors=1.0) -> np.ndarray:
        """Forecast GMV of each shop summed over the plan's steps, shape (n_shops,)."""
        gmv = np.asarray(self.model.predict(self.scaled(factors)), dtype=np.float64)
        self.n_predictions += 1
        return self._per_shop(gmv.reshape(-1))

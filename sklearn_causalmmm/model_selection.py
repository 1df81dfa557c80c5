"""Cross-validation over time for panels of shops."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

__all__ = ["PanelTimeSplit"]


class PanelTimeSplit:
    """Expanding-window splits on the time axis of a panel, for every shop at once.

    Fold ``k`` trains on every shop's rows before a cutoff and tests on the
    ``test_size`` steps that follow it (after ``gap`` skipped steps), so a
    forecaster is always scored on the future of the shops it was fitted on.
    Plain :class:`~sklearn.model_selection.TimeSeriesSplit` is wrong on a
    panel: it splits rows, and rows of different shops interleave.

    Works on the row-per-(shop, time) layouts: a DataFrame with a ``(shop,
    time)`` MultiIndex, a long DataFrame with a time column, or a 2D array of
    one shop (rows are steps). A 3D array has no rows per step; convert it to
    a MultiIndex frame first.

    Parameters
    ----------
    n_splits : int, default=3
    test_size : int, default=7
        Steps per test fold.
    gap : int, default=0
        Steps skipped between the training rows and the test rows.
    time_column : str, default="date"
        Time column of a long DataFrame (a MultiIndex uses its last level).
    max_train_size : int, default=None
        Keep at most this many most recent steps for training.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_causalmmm.model_selection import PanelTimeSplit
    >>> index = pd.MultiIndex.from_product([["a", "b"], range(10)])
    >>> X = pd.DataFrame({"search": range(20)}, index=index)
    >>> for train, test in PanelTimeSplit(n_splits=2, test_size=3).split(X):
    ...     print(sorted(set(index[test].get_level_values(1))), len(train))
    [4, 5, 6] 8
    [7, 8, 9] 14
    """

    def __init__(
        self,
        n_splits: int = 3,
        test_size: int = 7,
        gap: int = 0,
        time_column: str = "date",
        max_train_size: int | None = None,
    ) -> None:
        self.n_splits = n_splits
        self.test_size = test_size
        self.gap = gap
        self.time_column = time_column
        self.max_train_size = max_train_size

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_rows, test_rows)`` positional indices."""
        times = self._times(X)
        grid = np.unique(times)
        needed = self.n_splits * self.test_size + self.gap + 1
        if self.n_splits < 1 or self.test_size < 1 or self.gap < 0:
            raise ValueError(
                "n_splits and test_size must be >= 1 and gap >= 0, got "
                f"{self.n_splits}, {self.test_size}, {self.gap}."
            )
        if len(grid) < needed:
            raise ValueError(
                f"{len(grid)} time steps are too few for n_splits={self.n_splits}, "
                f"test_size={self.test_size} and gap={self.gap} (need {needed})."
            )
        position = np.searchsorted(grid, times)
        for fold in range(self.n_splits):
            test_start = len(grid) - (self.n_splits - fold) * self.test_size
            train_end = test_start - self.gap
            train_start = 0
            if self.max_train_size is not None:
                train_start = max(0, train_end - self.max_train_size)
            train = (position >= train_start) & (position < train_end)
            test = (position >= test_start) & (position < test_start + self.test_size)
            yield np.flatnonzero(train), np.flatnonzero(test)

    def _times(self, X) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            if isinstance(X.index, pd.MultiIndex):
                return np.asarray(X.index.get_level_values(-1))
            if self.time_column in X.columns:
                return np.asarray(X[self.time_column])
            return np.asarray(X.index)
        array = np.asarray(X)
        if array.ndim == 2:
            return np.arange(len(array))
        raise ValueError(
            "PanelTimeSplit needs rows per (shop, time): pass a MultiIndex or long "
            f"DataFrame, or one shop's 2D array; got an array with ndim={array.ndim}."
        )

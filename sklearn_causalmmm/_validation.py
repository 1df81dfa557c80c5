"""Checks of scalar parameters shared by the estimators and their helpers."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np


def check_finite_non_negative(value, name: str) -> float:
    """``value`` as a float, or a ValueError naming ``name``.

    Bools are refused although Python counts them as numbers: ``True`` for a
    weight or a scale is a mistake, not 1.0.
    """
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (valid and 0.0 <= value < np.inf):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)

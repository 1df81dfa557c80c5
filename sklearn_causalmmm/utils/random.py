"""Seeding torch without disturbing the caller's random state."""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["seeded"]


def seeded(seed: int, fn: Callable, *args, **kwargs):
    """Run ``fn`` with torch's global RNG seeded, restoring the caller's state.

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.utils.random import seeded
    >>> first = seeded(0, torch.rand, 2)
    >>> bool(torch.equal(first, seeded(0, torch.rand, 2)))
    True
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fn(*args, **kwargs)

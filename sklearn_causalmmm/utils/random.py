"""Running torch code repeatably and fast, without disturbing the caller.

:func:`seeded` fixes torch's global random state for one call and restores the
caller's; :func:`small_ops` runs a block of code as the package's small tensors
run fastest. Both leave torch's global settings as they found them.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

__all__ = ["seeded", "small_ops"]


@contextlib.contextmanager
def small_ops() -> Iterator[None]:
    """Run the block on one torch thread, subnormal floats flushed to zero.

    The network's tensors are small (a batch of shops, a few nodes, a few
    dozen units): with more threads, each operation's synchronisation costs
    more than it computes, and on a loaded machine far more (a tanh of 2,560
    values took 2 us on one thread and 1,500 us on two). Edge weights near 0
    also make values below float32's normal range, on which CPUs compute a
    hundred times slower. Parallelism across fits belongs to processes
    (joblib, dask).

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.utils.random import small_ops
    >>> threads = torch.get_num_threads()
    >>> with small_ops():
    ...     inside = torch.get_num_threads()
    >>> inside, torch.get_num_threads() == threads
    (1, True)
    """
    threads = torch.get_num_threads()
    flushed = torch.set_flush_denormal(True)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if flushed:
            torch.set_flush_denormal(False)


def seeded(seed: int, fn: Callable, *args, **kwargs):
    """Run ``fn`` with torch's global RNG seeded, restoring the caller's state.

    It runs as :func:`small_ops` runs a block.

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.utils.random import seeded
    >>> first = seeded(0, torch.rand, 2)
    >>> bool(torch.equal(first, seeded(0, torch.rand, 2)))
    True
    """
    with torch.random.fork_rng(devices=[]), small_ops():
        torch.manual_seed(seed)
        return fn(*args, **kwargs)

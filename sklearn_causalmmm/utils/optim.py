"""The training loop of the package's torch baselines.

BTVC, InGRA and GVAR minimise a loss of their own with a ``torch.optim``
optimiser, over full batches or over a :class:`torch.utils.data.DataLoader`;
:func:`minimise` is that loop, written once. (The CausalMMM estimators train
through skorch instead, whose callbacks they use: validation on the time tail,
early stopping, a decoder warm-up.)
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

__all__ = ["minimise"]


def minimise(
    loss: Callable[..., torch.Tensor],
    optimizer: torch.optim.Optimizer,
    n_epochs: int,
    batches: Iterable | None = None,
    *,
    verbose: int = 0,
) -> list[float]:
    """Run ``optimizer`` on ``loss`` for ``n_epochs`` passes over ``batches``.

    Parameters
    ----------
    loss : callable
        ``loss(*batch)`` returns the scalar to minimise on one batch.
    optimizer : torch.optim.Optimizer
        Over the parameters ``loss`` depends on.
    n_epochs : int
        Passes over ``batches``.
    batches : iterable, default=None
        Iterated anew every epoch (a DataLoader reshuffles): each item is a
        tuple of the arguments of ``loss``. None is one full batch per epoch,
        ``loss()`` without arguments.
    verbose : int, default=0
        Print the epoch's loss every ``verbose`` epochs (0: silent).

    Returns
    -------
    list of float
        The mean loss over each epoch's batches, before each step.

    Examples
    --------
    >>> import torch
    >>> from sklearn_causalmmm.utils.optim import minimise
    >>> weight = torch.zeros(2, requires_grad=True)
    >>> target = torch.tensor([1.0, -2.0])
    >>> curve = minimise(
    ...     lambda: ((weight - target) ** 2).sum(),
    ...     torch.optim.Adam([weight], lr=0.1),
    ...     n_epochs=300,
    ... )
    >>> curve[0], round(curve[-1], 4)
    (5.0, 0.0)
    """
    curve = []
    for epoch in range(n_epochs):
        total, n_batches = 0.0, 0
        for batch in [()] if batches is None else batches:
            optimizer.zero_grad()
            value = loss(*batch)
            value.backward()
            optimizer.step()
            total += float(value.detach())
            n_batches += 1
        curve.append(total / n_batches)
        if verbose and (epoch + 1) % verbose == 0:
            print(f"epoch {epoch + 1:4d}  loss {curve[-1]:.5f}")
    return curve

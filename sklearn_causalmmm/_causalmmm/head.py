"""The regressor's target head: a linear marketing mix model on the learned graph.

The target's forecast combines three estimates, weighed on the time tail the
network did not fit (:class:`TargetBlend`):

- the **baseline**: each shop's level, the time features of
  :class:`~sklearn_causalmmm._causalmmm.baseline.Baseline` (trend,
  seasonality; shared coefficients plus each shop's deviation), shocks shared
  by every shop in a fitted step, and the controls' linear effects;
- the **linear** estimate: the baseline plus each media and funnel node's
  response (carryover, then saturation) weighed by the probability of its edge
  into the target in that shop's learned graph;
- the **network**'s rollout of the target (CausalMMM's decoder, trained on the
  target minus its baseline).

:class:`TargetHead` fits the first two by penalised least squares (Gaussian
priors on every coefficient but the levels, non-negative media and funnel
responses), in closed form: a gradient method would need hundreds of steps for
an effect to grow. Everything is in the panel's scaled units (each node divided
by its mean absolute value in the shop).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.optimize import lsq_linear

__all__ = [
    "RESPONSE_KERNELS",
    "LiftTest",
    "ScaledValues",
    "TargetBlend",
    "TargetHead",
    "response_features",
]

#: The response kernels every media and funnel node gets: (carryover decay,
#: half-saturation in units of the shop's mean, delay in steps, Hill shape;
#: the shape is 1 when left out). Their non-negative mixture spans fast and
#: slow carryover, mild and strong saturation, responses that peak in the
#: step of the spend or the next, and S-shaped responses (shape 2, as
#: Meridian's Hill curve allows): a response that is flat at low spend is
#: not extrapolated to zero spend by a concave curve, which would overstate
#: what removing the channel loses.
RESPONSE_KERNELS = (
    (0.0, 1.0, 0),
    (0.5, 1.0, 0),
    (0.85, 1.0, 0),
    (0.0, 4.0, 0),
    (0.5, 4.0, 0),
    (0.0, 1.0, 1),
    (0.5, 4.0, 1),
    (0.0, 1.0, 0, 2.0),
    (0.5, 1.0, 0, 2.0),
)
#: Elements (float64) of one chunk of the head's design: chunks of shops keep
#: a fit's memory flat in their number (8 MB a chunk).
_CHUNK_ELEMENTS = 2**20
#: The smallest multiplier of a shop's response (the shared one is 1).
_MIN_SHOP_RESPONSE = 0.1
#: Prior standard deviations (scaled units) of the head's coefficients.
_PRIOR_SCALE = {
    "time": 1.0,
    "time_shop": 0.1,
    "shock": 0.1,
    "control": 1.0,
    "response": 1.0,
}


class ScaledValues:
    """A panel's scaled values ``values / scale[..., None]``, divided when read.

    Stands for the ``(n_shops, n_nodes, n_steps)`` float64 array a head fits
    on and predicts from, which index it by shops first (``x[shops]``,
    ``x[a:b, -1]``, ``x[:, -1, -k:]``): a read divides the rows it returns
    only, so a fit holds one chunk of scaled shops at a time rather than a
    scaled copy of the whole panel. Every element equals the whole array's.

    Parameters
    ----------
    values : ndarray of shape (n_shops, n_nodes, n_steps)
        Raw values (not copied).
    scale : ndarray of shape (n_shops, n_nodes)
    target : int, default=-1
        The node read as the last one (a funnel node for a funnel head, whose
        target it is); the last node itself by default.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_causalmmm._causalmmm.head import ScaledValues
    >>> values = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    >>> scale = np.array([[1.0, 2.0], [4.0, 5.0]])
    >>> x = ScaledValues(values, scale)
    >>> x.shape, x[1:, -1].tolist()
    ((2, 2, 3), [[1.8, 2.0, 2.2]])
    >>> bool((x[:] == values / scale[..., None]).all())
    True
    >>> x.with_target(0)[0].tolist()  # node 0 read as the target
    [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    """

    def __init__(self, values: np.ndarray, scale: np.ndarray, target: int = -1):
        self.values = values
        self.scale = scale
        self.shape = values.shape
        self.target = target % self.shape[1]

    def __len__(self) -> int:
        return self.shape[0]

    def with_target(self, node: int) -> ScaledValues:
        """The same values with ``node`` read as the last node."""
        return ScaledValues(self.values, self.scale, node)

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        shops, rest = key[0], key[1:]
        if isinstance(shops, (int, np.integer)):
            shops = [shops]
            one = True
        else:
            one = False
        if rest and isinstance(rest[0], (int, np.integer)):
            # one node: divide that row only
            node = rest[0] % self.shape[1]
            if node == self.shape[1] - 1:
                node = self.target
            x = self.values[shops, node] / self.scale[shops, node][..., None]
            rest = rest[1:]
        else:
            x = self.values[shops] / self.scale[shops][..., None]
            if self.target != self.shape[1] - 1:
                x[:, -1] = x[:, self.target]
        x = x[(slice(None), *rest)]
        return x[0] if one else x


def response_features(values, known, kernels=RESPONSE_KERNELS):
    """Every node's responses under every kernel, ``(n_shops, n_nodes, K, T)``.

    Parameters
    ----------
    values : ndarray or Tensor of shape (n_shops, n_nodes, n_steps)
        Scaled values (the window from the first fitted step); negative values
        count as 0.
    known : ndarray of shape (n_nodes,), bool
        Nodes known when the target of a step is forecast (they may act in
        that step); the others act one step later at the earliest.
    kernels : sequence of (decay, half_saturation, delay[, shape])
        ``shape`` (default 1) is the Hill exponent: ``a ** shape / (a **
        shape + half_saturation ** shape)`` of the carried-over value ``a``.

    Returns
    -------
    ndarray or Tensor (as ``values``) of shape (n_shops, n_nodes, n_kernels, n_steps)
        Differentiable in ``values`` for a Tensor.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 1, 4)); x[0, 0, 1] = 1.0
    >>> response_features(x, np.array([True]), [(0.0, 1.0, 0), (0.0, 1.0, 1)])[0, 0]
    array([[0. , 0.5, 0. , 0. ],
           [0. , 0. , 0.5, 0. ]])
    """
    as_array = not isinstance(values, torch.Tensor)
    x = torch.as_tensor(values).clamp_min(0.0)
    n_steps = x.shape[-1]
    adstocks: dict[float, torch.Tensor] = {}
    out = []
    for kernel in kernels:
        decay, half, delay = kernel[:3]
        shape = kernel[3] if len(kernel) > 3 else 1.0
        if decay not in adstocks:
            state, steps = x[..., 0], []
            for t in range(n_steps):
                state = decay * state + (1.0 - decay) * x[..., t]
                steps.append(state)
            adstocks[decay] = torch.stack(steps, -1)
        if shape == 1.0:
            response = adstocks[decay] / (adstocks[decay] + half)
        else:
            powered = adstocks[decay] ** shape
            response = powered / (powered + half**shape)
        # unknown drivers act one step later than known ones at the earliest
        by_node = []
        for j, is_known in enumerate(np.asarray(known, dtype=bool)):
            shift = delay + (not is_known)
            series = response[:, j]
            if shift:
                series = torch.nn.functional.pad(
                    series[..., : n_steps - shift], (shift, 0)
                )
            by_node.append(series)
        out.append(torch.stack(by_node, 1))
    features = torch.stack(out, 2)
    return features.numpy() if as_array else features


@dataclass
class LiftTest:
    """A lift test as the head reads it (scaled units, positions).

    ``shops`` (positions), ``node`` (the tested driver), steps
    ``start``..``stop - 1`` on the fitted grid, ``change`` per shop in the
    driver's scaled units, ``target_scale`` per shop (raw target per scaled
    unit), ``lift`` and ``lift_se`` in raw target units.
    """

    shops: np.ndarray
    node: int
    start: int
    stop: int
    change: np.ndarray
    target_scale: np.ndarray
    lift: float
    lift_se: float


@dataclass
class _Design:
    """Columns of the head's regression, by block."""

    n_shops: int
    n_features: int
    n_shocks: int
    controls: np.ndarray  # node positions of the controls
    responders: np.ndarray  # node positions of media and funnel nodes
    n_kernels: int

    @property
    def blocks(self) -> dict[str, slice]:
        sizes = {
            "level": self.n_shops,
            "time": self.n_features,
            "time_shop": self.n_shops * self.n_features,
            "shock": self.n_shocks,
            "control": len(self.controls),
            "response": len(self.responders) * self.n_kernels,
        }
        blocks, start = {}, 0
        for name, size in sizes.items():
            blocks[name] = slice(start, start + size)
            start += size
        return blocks

    @property
    def n_columns(self) -> int:
        return list(self.blocks.values())[-1].stop


def solve_nonnegative(gram, rhs, bounded, max_rounds: int = 200):
    """``argmin x' G x / 2 - rhs' x`` with ``x[bounded] >= 0``, or None.

    Block principal pivoting (Kim and Park's scheme for non-negative least
    squares) on the normal equations: every round solves the free columns
    exactly (one sparse LU), then moves every bounded column that went
    negative to 0 and frees every column at 0 whose gradient asks to grow;
    when that stops reducing the infeasible count, one column moves at a time
    (the last one), which cannot cycle. A positive definite ``gram`` (the
    penalties make it so) has one solution, the same as a general bounded
    solver's, reached in a few LU solves instead of hundreds of iterations.

    Parameters
    ----------
    gram : sparse matrix of shape (n, n)
        Symmetric positive definite.
    rhs : ndarray of shape (n,)
    bounded : ndarray of shape (n,), bool
        Columns that must be non-negative.
    max_rounds : int, default=200

    Returns
    -------
    ndarray of shape (n,) or None
        None when the pivoting did not settle within ``max_rounds``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> gram = sp.csc_matrix(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> solve_nonnegative(gram, np.array([-1.0, 3.0]), np.array([True, True]))
    array([0. , 1.5])
    """
    from scipy.sparse.linalg import splu

    gram = sp.csc_matrix(gram)
    n = gram.shape[0]
    scale = max(float(np.abs(rhs).max()), 1e-300)
    at_zero = np.zeros(n, dtype=bool)
    best, stalled = n + 1, 0
    for _ in range(max_rounds):
        free = np.flatnonzero(~at_zero)
        x = np.zeros(n)
        if len(free):
            x[free] = splu(gram[free][:, free].tocsc()).solve(rhs[free])
        gradient = rhs - gram @ x  # > 0: growing the column lowers the loss
        negative = bounded & ~at_zero & (x < 0.0)
        grows = at_zero & (gradient > 1e-10 * scale)
        infeasible = negative | grows
        count = int(infeasible.sum())
        if count == 0:
            return x
        if count < best:
            best, stalled = count, 0
        else:
            stalled += 1
        if stalled >= 3:
            last = np.flatnonzero(infeasible)[-1]
            infeasible = np.zeros(n, dtype=bool)
            infeasible[last] = True
        at_zero ^= infeasible
    return None


class TargetHead:
    """Penalised least squares of the scaled target on baseline and responses.

    Parameters
    ----------
    roles : sequence of str
        Every node's role (the target last).
    with_responses : bool
        Include the media and funnel responses (the linear estimate) or fit
        the baseline alone.
    kernels : sequence of (decay, half_saturation, delay[, shape]), \
default=RESPONSE_KERNELS
    shop_scale : float, default=0.1
        Prior standard deviation of a shop's deviation from the shared time
        coefficients (the regressor chooses it on its validation tail).

    Attributes
    ----------
    shop_response_ : ndarray of shape (n_shops, n_responders)
        Each shop's multiplier of each responder's shared response (1: the
        shared one). Shops' responses to a channel differ (their graphs, their
        customers): a shop's multiplier is ``1 + delta``, ``delta`` with a
        Gaussian prior of variance ``tau_j ** 2`` per responder, estimated
        from the panel (empirical Bayes, by expectation maximisation of the
        marginal likelihood of the residuals), so shops whose responses
        really differ keep their own while noise is shrunk to the shared
        response. At least 0.1: whether a driver acts in a shop is its edge's
        to say, how strongly the multiplier's.
    """

    def __init__(
        self,
        roles,
        with_responses: bool,
        kernels=RESPONSE_KERNELS,
        shop_scale: float = _PRIOR_SCALE["time_shop"],
    ):
        roles = np.asarray(roles)
        self.shop_scale = shop_scale
        self.roles = roles
        self.with_responses = with_responses
        self.kernels = tuple(kernels)
        self.controls = np.flatnonzero(roles == "control")
        self.responders = (
            np.flatnonzero(np.isin(roles, ("media", "funnel")))
            if with_responses
            else np.zeros(0, dtype=int)
        )
        # a funnel node acts on the target in its own step, as media do: in a
        # plan the head reads the node's forecast (a function of the plan's
        # media), so a channel's same-step effect through the funnel is
        # credited to the funnel (mediated), not to the channel's own edge
        self.known = np.isin(roles, ("media", "control", "funnel"))

    def _shared_columns(self, design: _Design) -> np.ndarray:
        """Positions of the columns every shop shares (time, shocks, controls,
        responses); the others are one shop's own (its level and deviations)."""
        blocks = design.blocks
        return np.concatenate(
            [
                np.arange(blocks[name].start, blocks[name].stop)
                for name in ("time", "shock", "control", "response")
            ]
        )

    def _chunks(self, values, mask, features, shocks, gates, n_shared: int):
        """The design of each chunk of shops: ``(shops, w, y, own, shared)``.

        ``own`` ``(n_steps, 1 + n_features)`` holds a row's columns of its
        shop's own coefficients (level, deviations), the same for every shop;
        ``shared`` ``(n, n_steps, n_shared)`` the columns every shop shares;
        ``w`` ``(n, n_steps)`` weighs the fitted rows (1) and the others (0).
        Chunks keep the memory of a fit flat in the number of shops: no
        design matrix over every (shop, step) row is ever built.
        """
        n_shops, _, n_steps = values.shape
        own = np.column_stack([np.ones(n_steps), features.T])
        shock = np.zeros((n_steps, self.n_shocks_))
        shock[np.flatnonzero(shocks >= 0), shocks[shocks >= 0]] = 1.0
        per_step = np.hstack([features.T, shock])  # (T, F + n_shocks)
        size = max(1, _CHUNK_ELEMENTS // max(n_steps * n_shared, 1))
        for start in range(0, n_shops, size):
            shops = np.arange(start, min(start + size, n_shops))
            x = values[shops]
            parts = [
                np.broadcast_to(per_step, (len(shops), *per_step.shape)),
                x[:, self.controls].transpose(0, 2, 1),
            ]
            if len(self.responders):
                responses = response_features(x, self.known, self.kernels)
                responses = (
                    responses[:, self.responders]
                    * gates[shops][:, self.responders, None, None]
                )
                parts.append(
                    responses.transpose(0, 3, 1, 2).reshape(len(shops), n_steps, -1)
                )
            shared = np.concatenate(parts, axis=-1)
            w = mask[shops].astype(np.float64)
            yield shops, w, x[:, -1] * w, own, shared

    @staticmethod
    def _own_system(w, y, own, shared, own_penalty):
        """Each shop's normal equations of its own coefficients, ``(A, B, b)``:
        ``A`` ``(n, p, p)`` (with their penalties), ``B`` ``(n, p, n_shared)``
        coupling them to the shared ones, ``b`` ``(n, p)``."""
        n_own = own.shape[1]
        outer = (own[:, :, None] * own[:, None, :]).reshape(len(own), -1)
        A = (w @ outer).reshape(-1, n_own, n_own) + np.diag(own_penalty)
        # a shop without a fitted step: its level is not identified, keep it 0
        empty = w.sum(axis=1) == 0
        A[empty, 0, 0] += 1.0
        B = np.matmul(own.T, shared * w[..., None])
        b = y @ own
        return A, B, b

    def fit(
        self,
        values: np.ndarray,
        mask: np.ndarray,
        features: np.ndarray,
        shocks: np.ndarray,
        gates: np.ndarray | None = None,
        experiments: list[LiftTest] | None = None,
    ) -> TargetHead:
        """Fit on a window that starts at the first fitted step.

        The least squares separate into each shop's own coefficients (level,
        deviations from the shared time coefficients) and the shared ones
        (time, shocks, controls, responses). Each shop's are eliminated in
        closed form, chunk by chunk of shops (a Schur complement of the
        normal equations), which leaves a small bounded problem in the shared
        coefficients, then recovered given them: the optimum of the whole
        problem, in memory that does not grow with the number of shops
        beyond the coefficients.

        Parameters
        ----------
        values : ndarray of shape (n_shops, n_nodes, n_steps)
            Scaled values, the target last.
        mask : ndarray of shape (n_shops, n_steps), bool
            Steps to fit (observed, and in the fitted window).
        features : ndarray of shape (n_features, n_steps)
            The baseline's time features.
        shocks : ndarray of shape (n_steps,), int
            Each step's shock (its fitted step), -1 for none.
        gates : ndarray of shape (n_shops, n_nodes), default=None
            Each node's edge probability into the target (1 if None).
        experiments : list of LiftTest, default=None
            Lift tests: each adds to the least squares the Gaussian likelihood
            of its measured lift under the head's responses (one row, weighed
            by the residual scale over the test's standard error).

        Returns
        -------
        self
        """
        n_shops, n_nodes, n_steps = values.shape
        self.n_shocks_ = int(shocks.max()) + 1 if shocks.size else 0
        if gates is None:
            gates = np.ones((n_shops, n_nodes))
        n_features = features.shape[0]
        design = _Design(
            n_shops,
            n_features,
            self.n_shocks_,
            self.controls,
            self.responders,
            len(self.kernels),
        )
        blocks = design.blocks
        shared_columns = self._shared_columns(design)
        n_shared = len(shared_columns)
        target = values[:, -1][mask]
        # the noise scale that sets the penalties: a fit of levels and shared
        # time features alone, solved within shops (the levels take each
        # shop's mean), from its normal equations
        within_gram = np.zeros((n_features, n_features))
        within_cross = np.zeros(n_features)
        squares = 0.0
        size = max(1, _CHUNK_ELEMENTS // max(n_steps * n_features, 1))
        for start in range(0, n_shops, size):
            w = mask[start : start + size].astype(np.float64)
            y = values[start : start + size, -1] * w
            counts = np.maximum(w.sum(axis=1), 1.0)[:, None]
            centred_y = (y - y.sum(axis=1, keepdims=True) / counts) * w
            shop_means = (w @ features.T) / counts  # (shops, F)
            centred = (features.T[None] - shop_means[:, None]) * w[..., None]
            centred = centred.reshape(w.size, n_features)
            within_gram += centred.T @ centred
            within_cross += centred.T @ centred_y.reshape(-1)
            squares += float((centred_y**2).sum())
        coef, *_ = np.linalg.lstsq(within_gram, within_cross, rcond=None)
        squares += float(coef @ within_gram @ coef) - 2.0 * float(coef @ within_cross)
        noise = max(squares / max(len(target), 1), 1e-8)
        penalty = np.zeros(design.n_columns)
        scales = {**_PRIOR_SCALE, "time_shop": self.shop_scale}
        for name, scale in scales.items():
            if name == "shock":
                scale = scale * max(float(np.std(target)), 1e-3)
            penalty[blocks[name]] = noise / scale**2
        own_penalty = np.concatenate([[0.0], penalty[blocks["time_shop"]][:n_features]])
        lower = np.full(design.n_columns, -np.inf)
        lower[blocks["response"]] = 0.0
        # the shared coefficients' normal equations, each shop's own
        # coefficients eliminated (Schur complement)
        gram = np.zeros((n_shared, n_shared))
        rhs = np.zeros(n_shared)
        chunks = (values, mask, features, shocks, gates, n_shared)
        for _, w, y, own, shared in self._chunks(*chunks):
            A, B, b = self._own_system(w, y, own, shared, own_penalty)
            rows = shared.reshape(w.size, n_shared)
            gram += (rows * w.reshape(-1, 1)).T @ rows
            rhs += rows.T @ y.reshape(-1)
            solved = np.linalg.solve(A, np.concatenate([B, b[..., None]], axis=-1))
            n_own = B.shape[0] * B.shape[1]
            coupling = B.reshape(n_own, n_shared).T  # (n_shared, n * p)
            gram -= coupling @ solved[..., :-1].reshape(n_own, n_shared)
            rhs -= coupling @ solved[..., -1].reshape(-1)
        n_rows = len(target)
        if experiments:
            lift_rows, lifts = self._lift_rows(
                values, gates, experiments, design, noise
            )
            lift_rows = lift_rows[:, shared_columns]
            gram += lift_rows.T @ lift_rows
            rhs += lift_rows.T @ lifts
            n_rows += len(lifts)
        gram += np.diag(penalty[shared_columns])
        gram = 0.5 * (gram + gram.T)
        bounded = lower[shared_columns] == 0.0
        shared_coef = np.zeros(0)
        if n_shared:
            shared_coef = solve_nonnegative(sp.csc_matrix(gram), rhs, bounded)
        if shared_coef is None:  # pivoting did not settle: the general solver
            root = np.linalg.cholesky(gram)
            shared_coef = lsq_linear(
                root.T,
                np.linalg.solve(root, rhs),
                bounds=(lower[shared_columns], np.inf),
                lsmr_tol="auto",
                max_iter=500,
            ).x
        # each shop's own coefficients given the shared ones, and the residual
        self.coef_ = np.zeros(design.n_columns)
        self.coef_[shared_columns] = shared_coef
        levels = self.coef_[blocks["level"]]
        deviations = self.coef_[blocks["time_shop"]].reshape(n_shops, n_features)
        squares = 0.0
        n_responders = len(self.responders)
        statistics = (
            np.zeros((n_shops, n_responders, n_responders)),  # grams
            np.zeros((n_shops, n_responders)),  # moments
            np.zeros((n_shops, n_responders)),  # mean responses
        )
        weights = shared_coef[n_shared - n_responders * len(self.kernels) :]
        weights = weights.reshape(n_responders, len(self.kernels))
        for shops, w, y, own, shared in self._chunks(*chunks):
            A, B, b = self._own_system(w, y, own, shared, own_penalty)
            own_coef = np.linalg.solve(A, (b - B @ shared_coef)[..., None])[..., 0]
            levels[shops] = own_coef[:, 0]
            deviations[shops] = own_coef[:, 1:]
            fitted = own_coef @ own.T + shared @ shared_coef
            residual = (y - fitted) * w
            squares += float((residual**2).sum())
            if not n_responders:
                continue
            # each shop's responses and residuals, centred within the shop,
            # for its response multipliers
            responses = shared[..., n_shared - weights.size :].reshape(
                *w.shape, n_responders, -1
            )
            responses = np.einsum("stjk,jk->stj", responses, weights)
            counts = np.maximum(w.sum(axis=1), 1.0)[:, None]
            mean = (responses * w[..., None]).sum(axis=1) / counts
            centred = (responses - mean[:, None]) * w[..., None]
            residual = (residual - residual.sum(axis=1, keepdims=True) / counts) * w
            statistics[0][shops] = np.einsum("stj,stk->sjk", centred, centred)
            statistics[1][shops] = np.einsum("stj,st->sj", centred, residual)
            statistics[2][shops] = mean
        data_squares = squares
        if experiments:
            squares += float(((lifts - lift_rows @ shared_coef) ** 2).sum())
        self.design_ = design
        self.noise_ = noise
        # the shared coefficients' posterior precision (their covariance is
        # its inverse: each shop's own coefficients marginalised)
        self._shared = shared_columns
        self._shared_gram = gram
        self._residual_variance = max(squares / max(n_rows, 1), 1e-12)
        self._n_rows = n_rows
        # from the observed rows only (lift tests calibrate the shared
        # response, which the multipliers spread around)
        self.shop_response_ = self._shop_multipliers(
            *statistics, max(data_squares / max(len(target), 1), 1e-12), len(target)
        )
        return self

    def _covariance(self, columns) -> np.ndarray:
        """Posterior covariance of shared ``columns`` (positions in ``coef_``)."""
        positions = np.searchsorted(self._shared, columns)
        unit = np.zeros((len(self._shared), len(positions)))
        unit[positions, np.arange(len(positions))] = 1.0
        inverse = np.linalg.solve(self._shared_gram, unit)[positions]
        return inverse * self._residual_variance

    def _shop_multipliers(
        self, grams, moments, mean_response, noise, n_data, n_rounds=100
    ):
        """Each shop's multiplier of each responder's response (empirical Bayes).

        The residual of the shared fit in shop ``s`` is regressed on the shop's
        responses ``R_s`` (one column per responder, the shared kernels'
        mixture times the gate), both centred within the shop (its level
        absorbed the mean of a different response): ``e_s = R_s delta_s +
        noise``, ``delta_sj ~ N(0, tau_j ** 2)``. Expectation maximisation of
        the marginal likelihood estimates every ``tau_j ** 2`` (the
        between-shop variance of the responder's effect); the multipliers are
        ``1 + E[delta_s]`` under it, and each shop's level gives back the mean
        response its multipliers add. ``grams`` ``(n_shops, r, r)`` and
        ``moments`` ``(n_shops, r)`` are each shop's centred responses' normal
        equations (gathered chunk by chunk of shops), ``mean_response`` their
        means, ``noise`` the residual variance over the ``n_data`` rows.
        """
        n_shops, n_responders = mean_response.shape
        ones = np.ones((n_shops, n_responders))
        if not n_responders or n_shops < 3:
            return ones
        active = np.einsum("sjj->j", grams) > 1e-12 * n_data
        if not active.any():
            return ones
        grams = grams[:, active][:, :, active] / noise
        moments = moments[:, active] / noise
        variance = np.full(int(active.sum()), 0.25)
        for _ in range(n_rounds):
            precision = grams + np.eye(len(variance)) / variance
            covariance = np.linalg.inv(precision)
            means = np.einsum("sij,sj->si", covariance, moments)
            updated = np.mean(means**2 + np.einsum("sjj->sj", covariance), axis=0)
            updated = np.maximum(updated, 1e-8)
            done = np.allclose(updated, variance, rtol=1e-4, atol=1e-10)
            variance = updated
            if done:
                break
        # the graph says whether a driver acts in a shop, the multiplier how
        # strongly: an edge the graph keeps never loses its response (a tenth
        # of the shared one at least), so the forecast follows the graph
        ones[:, active] = np.maximum(1.0 + means, _MIN_SHOP_RESPONSE)
        levels = self.design_.blocks["level"]
        self.coef_[levels] -= ((ones - 1.0) * mean_response).sum(1)
        return ones

    def _multipliers(self, shops):
        """The shops' response multipliers (ones for a head fitted before them)."""
        multipliers = getattr(self, "shop_response_", None)
        if multipliers is None:
            return np.ones((len(np.asarray(shops)), len(self.responders)))
        return multipliers[np.asarray(shops)]

    def _lift_rows(self, values, gates, experiments, design, noise_variance):
        """One least-squares row per lift test, scaled to unit-variance noise.

        A test's lift is linear in the response coefficients: each shop's
        change in its responses to the tested driver over the test's steps,
        times its gate and its target's scale, summed over the test's shops.
        """
        noise = np.sqrt(noise_variance)
        start = design.blocks["response"].start
        n_kernels = len(self.kernels)
        rows = np.zeros((len(experiments), design.n_columns))
        lifts = np.zeros(len(experiments))
        position = {node: k for k, node in enumerate(self.responders)}
        for r, test in enumerate(experiments):
            if test.node not in position:
                continue
            changed = values[test.shops].copy()
            steps = slice(test.start, test.stop)
            changed[:, test.node, steps] += test.change[:, None]
            before = response_features(values[test.shops], self.known, self.kernels)
            after = response_features(changed, self.known, self.kernels)
            delta = (after - before)[:, test.node, :, steps].sum(-1)  # (shops, K)
            weight = gates[test.shops, test.node] * test.target_scale
            columns = start + position[test.node] * n_kernels + np.arange(n_kernels)
            rows[r, columns] = weight @ delta
            scale = noise / test.lift_se
            rows[r] *= scale
            lifts[r] = test.lift * scale
        return rows, lifts

    def evidence(self) -> np.ndarray:
        """Each driver's log Bayes factor for acting on the target, ``(n_nodes,)``.

        A Wald statistic of the driver's coefficients (its response kernels,
        or its control coefficient) under the fit's posterior covariance,
        turned into a log Bayes factor. A driver's ``k`` kernels are
        alternative shapes of one response (collinear, not ``k`` effects), so
        it is Schwarz's approximation for one coefficient among ``k`` shapes:
        ``(chi2 - (k - 1)) / 2 - log(n) / 2 - log(k)`` (``chi2`` less its null
        mean beyond one degree of freedom; ``log k`` pays for the choice of
        shape). 0 for nodes the head has no terms for.
        """
        blocks = self.design_.blocks
        evidence = np.zeros(len(self.roles))
        groups = [
            (node, [blocks["control"].start + k])
            for k, node in enumerate(self.controls)
        ]
        n_kernels = len(self.kernels)
        start = blocks["response"].start
        groups += [
            (node, list(range(start + k * n_kernels, start + (k + 1) * n_kernels)))
            for k, node in enumerate(self.responders)
        ]
        for node, columns in groups:
            covariance = self._covariance(columns)
            coef = self.coef_[columns]
            statistic = float(coef @ np.linalg.solve(covariance, coef))
            k = len(columns)
            evidence[node] = (
                (statistic - (k - 1)) / 2.0 - np.log(self._n_rows) / 2.0 - np.log(k)
            )
        return evidence

    def predict(self, values, features, shocks, gates=None, shops=None):
        """The baseline and the responses of the target, ``(n_shops, n_steps)`` each.

        ``values`` (ndarray, or a Tensor to differentiate through) is a window
        from the first fitted step (the target's row is not read);
        ``features`` and ``shocks`` are the window's; ``gates`` each node's
        edge probability into the target (1 if None); ``shops`` the windows'
        rows among the fitted shops.
        """
        as_array = not isinstance(values, torch.Tensor)
        n_shops, n_nodes, n_steps = values.shape
        if gates is None:
            gates = np.ones((n_shops, n_nodes))
        if shops is None:
            shops = np.arange(n_shops)
        # the responses of every node under every kernel are the big part:
        # chunks of shops keep them flat in the number of shops
        size = max(1, _CHUNK_ELEMENTS // (n_nodes * len(self.kernels) * n_steps))
        if n_shops > size:
            parts = [
                self.predict(
                    torch.as_tensor(values[start : start + size]),
                    features,
                    shocks,
                    gates[start : start + size],
                    shops[start : start + size],
                )
                for start in range(0, n_shops, size)
            ]
            baseline, responses = (torch.cat(part) for part in zip(*parts, strict=True))
            if as_array:
                return baseline.numpy(), responses.numpy()
            return baseline, responses
        x = torch.as_tensor(values[:] if isinstance(values, ScaledValues) else values)
        blocks = self.design_.blocks
        coef = torch.as_tensor(self.coef_, dtype=x.dtype)
        features = torch.as_tensor(features, dtype=x.dtype)
        n_features = features.shape[0]
        shops = torch.as_tensor(shops)
        level = coef[blocks["level"]][shops]
        shared = coef[blocks["time"]]
        own = coef[blocks["time_shop"]].reshape(-1, n_features)[shops]
        baseline = level[:, None] + (shared[None] + own) @ features
        if self.n_shocks_:
            shocks = torch.as_tensor(shocks)
            shock = coef[blocks["shock"]][shocks.clamp_min(0)] * (shocks >= 0)
            baseline = baseline + shock[None]
        if len(self.controls):
            effect = coef[blocks["control"]]
            baseline = baseline + torch.einsum("c,sct->st", effect, x[:, self.controls])
        responses = torch.zeros_like(baseline)
        if len(self.responders):
            drivers = response_features(x, self.known, self.kernels)[:, self.responders]
            gate = torch.as_tensor(gates, dtype=x.dtype)[:, self.responders]
            gate = gate * torch.as_tensor(self._multipliers(shops), dtype=x.dtype)
            weights = coef[blocks["response"]].reshape(len(self.responders), -1)
            responses = torch.einsum("jk,sj,sjkt->st", weights, gate, drivers)
        if as_array:
            return baseline.numpy(), responses.numpy()
        return baseline, responses

    def sample_responses(
        self, values, probabilities, gains, n_samples: int, rng, shifts=None, shops=None
    ) -> np.ndarray:
        """Draws of the responses ``(n_samples, n_shops, n_steps)`` (ndarray).

        Each draw takes the response coefficients from their posterior (a
        Gaussian around the fit, with the fit's covariance, cut at 0 as the
        fit is) and each shop's edges into the target from its graph: driver
        ``i``'s edge is present with its probability ``probabilities[s, i]``
        and then acts with the shop's gain ``gains[s, i]``. ``shifts`` maps a
        driver to draws of its change ``(n_samples, n_shops, n_steps)``
        (scaled units): draw ``n`` reads the driver as ``values`` plus its
        ``n``-th change, so an uncertain forecast driver (a funnel node)
        carries its uncertainty into the responses. ``shops``: the windows'
        rows among the fitted shops (their response multipliers).
        """
        x = np.asarray(values, dtype=np.float64)
        n_shops, _, n_steps = x.shape
        if not len(self.responders):
            return np.zeros((n_samples, n_shops, n_steps))
        blocks = self.design_.blocks
        columns = np.arange(blocks["response"].start, blocks["response"].stop)
        covariance = self._covariance(columns)
        covariance = 0.5 * (covariance + covariance.T)
        eigen, vectors = np.linalg.eigh(covariance)
        root = vectors * np.sqrt(np.clip(eigen, 0.0, None))
        mean = self.coef_[columns]
        draws = mean + rng.standard_normal((n_samples, len(columns))) @ root.T
        # not clipped at the fit's bound of 0: a clipped draw's mean is above
        # the fitted coefficient, and the draws would not be centred on it
        draws = draws.reshape(n_samples, len(self.responders), -1)
        probability = np.asarray(probabilities, dtype=np.float64)[:, self.responders]
        size = np.asarray(gains, dtype=np.float64)[:, self.responders]
        present = rng.random_sample((n_samples, *probability.shape)) < probability
        if shops is None:
            shops = np.arange(n_shops)
        weights = present * size * self._multipliers(shops)
        drivers = response_features(x, self.known, self.kernels)[:, self.responders]
        responses = np.einsum("njk,nsj,sjkt->nst", draws, weights, drivers)
        position = {node: k for k, node in enumerate(self.responders)}
        for node, shift in (shifts or {}).items():
            if node not in position:
                continue
            j = position[node]
            moved = (x[None, :, node] + np.asarray(shift)).reshape(-1, 1, n_steps)
            features = response_features(moved, self.known[[node]], self.kernels)
            change = features.reshape(n_samples, n_shops, -1, n_steps) - drivers[:, j]
            responses += np.einsum(
                "nk,ns,nskt->nst", draws[:, j], weights[..., j], change
            )
        return responses


@dataclass
class TargetBlend:
    """Weights of the target's three estimates, chosen on the validation tail.

    ``forecast = base * baseline + linear * (baseline + responses) + network *
    (network's baseline + network's rollout)``, with non-negative weights that
    sum to 1. A network that forecasts worse than the linear model, or media
    that explain nothing, get weight 0.
    """

    baseline: float = 0.0
    linear: float = 1.0
    network: float = 0.0

    @classmethod
    def choose(
        cls,
        truth,
        baseline,
        linear,
        network,
        mask,
        step: float = 0.25,
        with_network: bool = True,
        experiments=None,
    ) -> TargetBlend:
        """The grid point of lowest validation error (ties: the simpler).

        All arrays are ``(n_shops, n_steps)`` in scaled units; ``mask`` marks
        the validated steps. A coarse grid (quarters): the tail is short, and
        finer weights would fit its noise. ``experiments`` = (lifts of the three
        estimates ``(n_tests, 3)``, measured lifts, their standard errors, the
        noise variance of a scaled step) adds the tests' Gaussian likelihood:
        the error becomes ``sum(errors**2) + noise * sum(z**2)``.
        """
        grid = np.round(np.arange(0.0, 1.0 + 1e-9, step), 10)
        best = None
        weight = mask.astype(np.float64)
        for a, c in itertools.product(grid, grid):
            if a + c > 1.0 + 1e-9 or (c and not with_network):
                continue
            forecast = (1.0 - a - c) * baseline + a * linear + c * network
            error = float((weight * (forecast - truth) ** 2).sum())
            if experiments is not None:
                lifts, measured, se, noise = experiments
                z = (lifts @ np.array([1.0 - a - c, a, c]) - measured) / se
                error += noise * float((z**2).sum())
            # prefer fewer and smaller components on (near) ties
            key = (round(error, 10), c, a)
            if best is None or key < best[0]:
                best = (key, cls(baseline=1.0 - a - c, linear=a, network=c))
        return best[1]

    def combine(self, baseline, linear, network):
        return self.baseline * baseline + self.linear * linear + self.network * network

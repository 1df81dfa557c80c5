"""Checks of the parameters estimators take: declarative constraints and scalars.

Estimators declare what each constructor parameter accepts in a class attribute
``_parameter_constraints`` (a mapping of name to a list of constraints, any of
which may hold) and call :func:`validate_params` at the start of ``fit``, as
scikit-learn's own estimators do. A constraint is one of:

- :class:`Interval` (a number of a given type within bounds),
- :class:`Options` (one of a set of values, e.g. strings),
- ``None`` (the value None), ``"boolean"`` (a bool), ``"random_state"``
  (None, an int or a :class:`numpy.random.RandomState`), ``"verbose"`` (a
  bool or an int >= 0),
- a type (an instance of it), or a callable returning whether a value is valid
  (its docstring's first line names what it accepts).
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

__all__ = [
    "Interval",
    "Options",
    "check_finite_non_negative",
    "validate_params",
]


class Interval:
    """Numbers of ``kind`` between ``left`` and ``right``.

    Parameters
    ----------
    kind : {numbers.Integral, numbers.Real}
        Integral accepts ints (not bools); Real accepts any real number (not
        bools, not NaN).
    left, right : float or None
        Bounds; None is unbounded.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the interval.

    Examples
    --------
    >>> import numbers
    >>> from sklearn_causalmmm.utils.validation import Interval
    >>> Interval(numbers.Integral, 1, None, closed="left").is_satisfied_by(3)
    True
    >>> str(Interval(numbers.Real, 0, 1, closed="left"))
    'a float in the range [0, 1)'
    """

    def __init__(self, kind, left, right, *, closed: str = "both") -> None:
        if kind not in (numbers.Integral, numbers.Real):
            raise ValueError("kind must be numbers.Integral or numbers.Real.")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both, left, right or neither: {closed}")
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if isinstance(value, numbers.Real) and np.isnan(value):
            return False
        if self.left is not None:
            if value < self.left or (
                value == self.left and self.closed not in ("both", "left")
            ):
                return False
        if self.right is not None:
            if value > self.right or (
                value == self.right and self.closed not in ("both", "right")
            ):
                return False
        return True

    def __str__(self) -> str:
        what = "an int" if self.kind is numbers.Integral else "a float"
        left = "-inf" if self.left is None else f"{self.left:g}"
        right = "inf" if self.right is None else f"{self.right:g}"
        closed_left = self.closed in ("both", "left") and self.left is not None
        closed_right = self.closed in ("both", "right") and self.right is not None
        opening, closing = "[" if closed_left else "(", "]" if closed_right else ")"
        return f"{what} in the range {opening}{left}, {right}{closing}"


class Options:
    """One of a set of values (compared with ``==`` and of type ``kind``).

    Examples
    --------
    >>> from sklearn_causalmmm.utils.validation import Options
    >>> Options(str, {"layer", "batch"}).is_satisfied_by("layer")
    True
    >>> str(Options(str, {"layer", "batch"}))
    "a str among {'batch', 'layer'}"
    """

    def __init__(self, kind: type, options: Iterable) -> None:
        self.kind = kind
        self.options = set(options)

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.kind) and value in self.options

    def __str__(self) -> str:
        listed = ", ".join(repr(option) for option in sorted(self.options, key=str))
        return f"a {self.kind.__name__} among {{{listed}}}"


def _satisfied(constraint, value) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, Interval | Options):
        return constraint.is_satisfied_by(value)
    if constraint == "boolean":
        return isinstance(value, bool | np.bool_)
    if constraint == "random_state":
        return (
            value is None
            or isinstance(value, np.random.RandomState)
            or (isinstance(value, numbers.Integral) and not isinstance(value, bool))
        )
    if constraint == "verbose":
        return isinstance(value, bool | np.bool_) or (
            isinstance(value, numbers.Integral) and value >= 0
        )
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    if callable(constraint):
        return bool(constraint(value))
    raise TypeError(f"unknown parameter constraint {constraint!r}")


def _describe(constraint) -> str:
    if constraint is None:
        return "None"
    if constraint == "boolean":
        return "a bool"
    if constraint == "random_state":
        return "an int, a numpy RandomState or None"
    if constraint == "verbose":
        return "a bool or an int >= 0"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__}"
    if isinstance(constraint, Interval | Options):
        return str(constraint)
    doc = (getattr(constraint, "__doc__", None) or "").strip().splitlines()
    return doc[0].rstrip(".") if doc else getattr(constraint, "__name__", "valid")


def validate_params(estimator) -> None:
    """Check every constructor parameter against the class's constraints.

    Parameters
    ----------
    estimator : object
        An estimator with ``get_params`` and a ``_parameter_constraints``
        mapping; parameters it does not list are not checked.

    Raises
    ------
    ValueError
        Naming the parameter, the estimator, what it accepts and the value.

    Examples
    --------
    >>> import numbers
    >>> from sklearn.base import BaseEstimator
    >>> from sklearn_causalmmm.utils.validation import Interval, validate_params
    >>> class Model(BaseEstimator):
    ...     _parameter_constraints = {"hidden": [Interval(numbers.Integral, 1, None)]}
    ...     def __init__(self, hidden=8):
    ...         self.hidden = hidden
    >>> validate_params(Model(hidden=0))
    Traceback (most recent call last):
    ...
    ValueError: The 'hidden' parameter of Model must be an int in the range [1, ...
    """
    constraints: dict = getattr(type(estimator), "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if any(_satisfied(constraint, value) for constraint in allowed):
            continue
        described = [_describe(constraint) for constraint in allowed]
        accepted = (
            described[0]
            if len(described) == 1
            else ", ".join(described[:-1]) + " or " + described[-1]
        )
        raise ValueError(
            f"The {name!r} parameter of {type(estimator).__name__} must be "
            f"{accepted}. Got {value!r} instead."
        )


def check_finite_non_negative(value, name: str) -> float:
    """``value`` as a float, or a ValueError naming ``name``.

    Bools are refused although Python counts them as numbers: ``True`` for a
    weight or a scale is a mistake, not 1.0.
    """
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (valid and 0.0 <= value < np.inf):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)

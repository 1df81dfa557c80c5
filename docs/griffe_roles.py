"""Griffe extension: render the Sphinx roles of numpydoc docstrings as links.

The package's docstrings follow numpydoc and scikit-learn, whose cross-references
are Sphinx roles (``:class:`~sklearn_causalmmm.CausalMMMRegressor```,
``:meth:`fit```). mkdocstrings would print them verbatim; this extension,
listed in ``mkdocs.yml``, turns each into inline code linked to the object's
API entry when the object belongs to the package, and into plain inline code
otherwise (``:class:`~sklearn.utils.Bunch```). Links are optional
cross-references: one to an object that no page renders stays unlinked
rather than failing the strict build.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from griffe import Extension, Module, NameResolutionError, Object

ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|mod|attr|data|obj|exc|const):`(?P<tilde>~?)"
    r"(?P<target>[^`<>]+?)(?:\(\))?`"
)


def _objects(obj: Object) -> Iterator[Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


def _resolve(obj: Object, target: str, known: set[str]) -> str | None:
    """Full path of ``target`` as read in ``obj``'s docstring, if in the package."""
    if target in known:
        return target
    head, _, rest = target.partition(".")
    scopes = [obj] + ([obj.parent] if obj.parent is not None else [])
    for scope in scopes:
        try:
            path = scope.resolve(head)
        except NameResolutionError:
            continue
        path = f"{path}.{rest}" if rest else path
        if path in known:
            return path
    # A method or attribute named alone, inherited by the documented class.
    for scope in scopes:
        if not scope.is_class:
            continue
        try:
            bases = scope.mro()
        except Exception:  # bases outside the package cannot be resolved
            continue
        for base in bases:
            if f"{base.path}.{target}" in known:
                return f"{scope.path}.{target}"
    return None


class SphinxRoles(Extension):
    """Replace Sphinx roles in every docstring of the package."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        objects = list(_objects(pkg))
        known = {obj.path for obj in objects}
        known |= {
            f"{obj.path}.{name}"
            for obj in objects
            for name, member in obj.members.items()
            if member.is_alias
        }
        for obj in objects:
            if obj.docstring is None:
                continue

            def link(match: re.Match, obj: Object = obj) -> str:
                target = match["target"].strip()
                shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
                path = _resolve(obj, target, known)
                if path is None:
                    return f"`{shown}`"
                return f'<autoref identifier="{path}" optional>`{shown}`</autoref>'

            obj.docstring.value = ROLE.sub(link, obj.docstring.value)

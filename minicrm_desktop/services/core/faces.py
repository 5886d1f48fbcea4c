"""Lazy public faces (PEP 562). A feature's __init__ names what the rest of the app may use
from it; with `lazy_face` each name's module is imported only when the name is first
asked for, so importing a face costs nothing at start-up and two faces may name each
other without an import cycle. The face lists the same names under TYPE_CHECKING so mypy
(and readers) see them with their types."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_face(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], object]:
    """The module `__getattr__` of `package`, whose names are `modules[module]` found in
    `package.module`."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__

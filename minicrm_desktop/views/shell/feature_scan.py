"""Spare start-up PySide6's source scan of every imported module.

PySide6 wraps `import`: the first time any module is imported (or named in an import)
after Qt loaded, it reads that module's source file and searches it for "PySide6", to
know which modules may switch its optional `__feature__` modes (snake_case,
true_property). MiniCRM uses neither, and the scan costs 0.1-0.2 ms a module: some
300 modules, 25-55 ms of CPU, before the window is first painted.

`use_cheap_scan()` answers the same question from the module's globals instead (does it
hold anything from PySide6?), which needs no file read. A module that imports PySide6
only inside functions is then counted as not using it; with no module asking for a
feature, PySide6 behaves the same either way. PySide6 versions without this hook are
left alone.
"""

from __future__ import annotations

import sys
from types import ModuleType

_QT_PREFIXES = ("PySide6", "shiboken6")


def _uses_pyside(module: ModuleType) -> bool:
    if module.__name__.startswith(_QT_PREFIXES):
        return True
    for value in list(vars(module).values()):
        name = getattr(value, "__module__", None) if not isinstance(value, ModuleType) \
            else value.__name__
        if isinstance(name, str) and name.startswith(_QT_PREFIXES):
            return True
    return False


def use_cheap_scan() -> bool:
    """Install the cheap check; False when this PySide6 has no such scan to replace."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    setattr(feature, "_mod_uses_pyside", _uses_pyside)  # noqa: B010 - a private name
    return True

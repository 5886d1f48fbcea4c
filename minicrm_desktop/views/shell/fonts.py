"""Fonts that are there when the machine has none.

PySide6's Linux wheels carry no fonts, and a desktop without any (a minimal install, a
container) draws every letter as an empty box. The packaged app bundles DejaVu Sans in
resources/fonts (build.spec copies it from the build machine); it is registered only when
the system offers no real font family, so the app looks native everywhere else.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontDatabase

from minicrm_desktop.views.common.resources import resources_dir

# Names fontconfig answers with even when no font file exists at all.
GENERIC_FAMILIES = frozenset({"Sans Serif", "Serif", "Monospace", "Sans", "Mono", "System-ui"})
_registered: list[str] = []


def real_families() -> list[str]:
    """Installed font families, without the generic aliases that have no file behind them."""
    return [f for f in QFontDatabase.families() if f not in GENERIC_FAMILIES]


def bundled_font_files() -> list[Path]:
    try:
        folder = resources_dir() / "fonts"
    except FileNotFoundError:
        return []
    return sorted(folder.glob("*.ttf")) + sorted(folder.glob("*.otf"))


def ensure_fonts() -> list[str]:
    """Register the bundled fonts if the system has none; returns the families registered
    (empty when the system's own fonts are used or nothing is bundled). Needs a
    QGuiApplication."""
    if real_families():
        return []
    registered: list[str] = []
    for path in bundled_font_files():
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id >= 0:
            registered += QFontDatabase.applicationFontFamilies(font_id)
    _registered[:] = sorted(set(registered))
    return list(_registered)


def registered_fonts() -> list[str]:
    """The bundled families ensure_fonts() registered in this process."""
    return list(_registered)

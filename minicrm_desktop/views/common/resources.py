"""Finding bundled resources (icons) and turning SVG icons into crisp, themed QIcons."""

from __future__ import annotations

import importlib.util
import sys
import weakref
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

_ICON_SIZES = (16, 20, 24, 32, 48, 64)


@cache  # where it is does not change while the app runs; each look asks the import system
def resources_dir() -> Path:
    """The `resources/` folder: in the unpacked bundle of a PyInstaller build (which sets
    sys._MEIPASS); installed as the package data `minicrm_desktop.resources` (a wheel, or
    an editable install, which maps the top-level folder there: see setup.py); or beside
    the package in a checkout run from source."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = []
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates += _installed_resources()
    package = Path(__file__).resolve().parents[2]
    candidates += [package / "resources", package.parent / "resources"]
    for candidate in candidates:
        if (candidate / "icons").is_dir():
            return candidate
    raise FileNotFoundError("the resources folder is missing: " + ", ".join(map(str, candidates)))


def _installed_resources() -> list[Path]:
    """Where the import system finds the `minicrm_desktop.resources` package data (a
    namespace package: the folder holds no Python)."""
    try:
        spec = importlib.util.find_spec("minicrm_desktop.resources")
    except (ImportError, ValueError):
        return []
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [Path(p) for p in spec.submodule_search_locations]


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


def icon(name: str, color: QColor | str | None = None) -> QIcon:
    """An icon from resources/icons/NAME.svg. Line icons draw in `currentColor`, which is
    replaced by `color` (the palette's text colour by default) so they suit light and dark
    themes; each size is rendered from the vector, so they stay sharp on high-DPI screens."""
    hex_color = QColor(color).name() if color is not None else _default_color()
    return _icon(name, hex_color)


def _default_color() -> str:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app.palette().windowText().color().name()
    return "#333333"


@cache
def _icon(name: str, hex_color: str) -> QIcon:
    svg = icon_path(name).read_text(encoding="utf-8").replace("currentColor", hex_color)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in _ICON_SIZES:
        for scale in _scales():
            pixmap = QPixmap(size * scale, size * scale)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(0, 0, size * scale, size * scale))
            painter.end()
            pixmap.setDevicePixelRatio(scale)
            result.addPixmap(pixmap)
    return result


def _scales() -> tuple[int, ...]:
    """The device pixel ratios to render for: 2 as well as 1 only when a screen needs it
    (half the rendering at start on ordinary screens; high-DPI ones still get sharp icons)."""
    from PySide6.QtGui import QGuiApplication

    if any(screen.devicePixelRatio() > 1 for screen in QGuiApplication.screens()):
        return (1, 2)
    return (1,)


_themed: list[tuple[weakref.ref[QObject], str, Callable[[Any, QIcon], None]]] = []


def themed_icon(target: QObject, name: str,
                apply: Callable[[Any, QIcon], None] | None = None) -> None:
    """Give `target` (an action or button, or anything with `apply`) the icon `name`, and
    give it again, in the new text colour, when `refresh_themed_icons()` runs after the
    palette changed (the OS switched between light and dark)."""
    setter = apply or (lambda widget, ic: widget.setIcon(ic))
    setter(target, icon(name))
    _themed.append((weakref.ref(target), name, setter))


def refresh_themed_icons() -> None:
    alive = []
    for ref, name, setter in _themed:
        target = ref()
        if target is None:
            continue
        try:
            setter(target, icon(name))
        except RuntimeError:  # the C++ object is gone
            continue
        alive.append((ref, name, setter))
    _themed[:] = alive


def app_icon() -> QIcon:
    return QIcon(str(icon_path("app")))

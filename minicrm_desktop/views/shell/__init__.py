"""The application's frame: the main window that hosts every page, the status bar,
palette and fonts, the global error hook and the startup probe.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
The face is lazy (services/core/faces.py): a module loads when one of its names is
first used, so importing the face costs nothing at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minicrm_desktop.services.core.faces import lazy_face

if TYPE_CHECKING:
    from .main_window import MainWindow, Services

__getattr__ = lazy_face(__name__, {
    "main_window": ("MainWindow", "Services",),
})

__all__ = ["MainWindow", "Services"]

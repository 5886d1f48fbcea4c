"""The application's frame: the main window that hosts every page, the status bar,
palette and fonts, the global error hook and the startup probe.

The names below are this folder's public face: other view folders import only these
(tests/test_layers.py checks it).
"""

from minicrm_desktop.views.shell.main_window import MainWindow, Services

__all__ = ["MainWindow", "Services"]

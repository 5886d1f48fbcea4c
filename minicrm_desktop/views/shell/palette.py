"""Light and dark palettes on the Fusion style, following the OS colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor("#2f6fde")


def is_dark(app: QApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication) -> None:
    """Fusion looks the same everywhere and takes a palette fully; pick the palette from
    the OS scheme now and whenever it changes."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if is_dark(app) else light_palette())
    if not app.property("minicrm_theme_hooked"):
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
        app.setProperty("minicrm_theme_hooked", True)


def restyle_style_sheets(app: QApplication) -> None:
    """A widget with a style sheet keeps the palette it had when the sheet was set (its
    colours and `palette(...)` in the sheet): set each sheet again after a palette change,
    or a dark theme leaves white buttons, chips and headers behind."""
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet(sheet)


def light_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, c in (
        (role.Window, "#f4f5f7"), (role.WindowText, "#1f2328"), (role.Base, "#ffffff"),
        (role.AlternateBase, "#f6f8fa"), (role.Text, "#1f2328"), (role.Button, "#f4f5f7"),
        (role.ButtonText, "#1f2328"), (role.ToolTipBase, "#ffffff"), (role.ToolTipText, "#1f2328"),
        (role.PlaceholderText, "#6e7781"), (role.Highlight, ACCENT.name()),
        (role.HighlightedText, "#ffffff"), (role.Link, ACCENT.name()), (role.Mid, "#d0d7de"),
        (role.Midlight, "#e6e9ed"), (role.Dark, "#8c959f"), (role.Light, "#ffffff"),
    ):
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#8c959f"))
    return p


def dark_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, c in (
        (role.Window, "#1e2126"), (role.WindowText, "#e6e8eb"), (role.Base, "#16181c"),
        (role.AlternateBase, "#1c1f24"), (role.Text, "#e6e8eb"), (role.Button, "#2a2e35"),
        (role.ButtonText, "#e6e8eb"), (role.ToolTipBase, "#2a2e35"), (role.ToolTipText, "#e6e8eb"),
        (role.PlaceholderText, "#8b949e"), (role.Highlight, "#3d7be6"),
        (role.HighlightedText, "#ffffff"), (role.Link, "#7aa7ff"), (role.Mid, "#3a3f47"),
        (role.Midlight, "#30343b"), (role.Dark, "#0f1114"), (role.Light, "#3a3f47"),
    ):
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#6e7681"))
    return p

"""What a person sees on each page (issue 16): the dark palette reaches every table,
header and button, and the keyboard focus shows on every control Tab reaches.

Only keys and clicks act (the palette change is the OS switching to dark); asserts read
the pixels drawn.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext
from minicrm_desktop.views.shell.main_window import ADMIN_PAGES, PAGES
from minicrm_desktop.views.shell.palette import dark_palette, light_palette

from .person import Key, Mod, click, describe, focusable_controls, press

NAMES = [*PAGES, *ADMIN_PAGES]


def _lightness(widget: QWidget) -> float:
    """The mean lightness (0-255) of what the widget draws, every 3rd pixel."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    total, count = 0, 0
    for y in range(0, image.height(), 3):
        for x in range(0, image.width(), 3):
            total += image.pixelColor(x, y).lightness()
            count += 1
    return total / max(count, 1)


@pytest.fixture
def dark(qtbot: QtBot) -> Iterator[None]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setPalette(dark_palette())  # what palette.apply_theme does when the OS goes dark
    yield
    app.setPalette(light_palette())


@pytest.mark.parametrize("name", NAMES)
def test_dark_palette_reaches_every_table_header_and_button(
        person_app: AppContext, qtbot: QtBot, dark: None, name: str) -> None:
    window = person_app.window
    press(Key(Key.Key_0.value + NAMES.index(name) + 1), Mod.ControlModifier, window)
    page = window.stack.currentWidget()
    assert page is not None
    qtbot.wait(200)  # let the page's first rows arrive (drawn either way)
    shown = [w for w in page.findChildren(QWidget) if w.isVisible() and w.width() > 4
             and isinstance(w, QAbstractItemView | QHeaderView | QAbstractButton)]
    assert shown
    light = [f"{describe(w)}: {_lightness(w):.0f}" for w in shown if _lightness(w) > 110]
    assert not light, f"light on the dark palette: {light}"


def _seen_on_screen(widget: QWidget) -> QImage:
    """The widget as it shows in its window, with a few pixels around it (a focus frame
    may be drawn just outside)."""
    window = widget.window()
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.grab(QRect(top_left, widget.size()).adjusted(-3, -3, 3, 3)).toImage()


@pytest.mark.parametrize("name", NAMES)
def test_focus_is_visible_on_every_control(person_app: AppContext, qtbot: QtBot,
                                           name: str) -> None:
    window = person_app.window
    press(Key(Key.Key_0.value + NAMES.index(name) + 1), Mod.ControlModifier, window)
    page = window.stack.currentWidget()
    assert page is not None
    qtbot.wait(300)  # the page's first reads land before the pictures are taken
    sidebar = window.sidebar
    click(sidebar.viewport(), sidebar.visualItemRect(sidebar.currentItem()).center())
    controls = focusable_controls(page)
    unfocused = {id(c): _seen_on_screen(c) for c in controls}
    press(Key.Key_Tab)  # from the sidebar into the page, then through it by Tab
    invisible: list[str] = []
    seen: set[int] = set()
    for _ in range(len(controls) + 4):
        focus = QApplication.focusWidget()
        assert focus is not None
        if id(focus) in unfocused and id(focus) not in seen:
            seen.add(id(focus))
            if _seen_on_screen(focus) == unfocused[id(focus)]:
                invisible.append(describe(focus))
        press(Key.Key_Tab)
    assert seen, "Tab reached no control of the page"
    assert not invisible, f"the focus does not show on {invisible}"

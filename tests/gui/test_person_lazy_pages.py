"""Pages are built when first shown: at start only Customers exists; each shortcut builds
its page, shows it with the keyboard focus inside, and the page reads its data."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext
from minicrm_desktop.views.shell.main_window import ADMIN_PAGES, PAGES

from .person import Key, Mod, click, press

NAMES = (*PAGES, *ADMIN_PAGES)


def _page_shown(name: str) -> QWidget | None:
    """The page as a person sees it: visible in the active window."""
    window = QApplication.activeWindow()
    page = window.findChild(QWidget, f"{name}_page") if window is not None else None
    return page if page is not None and page.isVisible() else None


def _shown(name: str) -> bool:
    return _page_shown(name) is not None


def _says_entries(label: QLabel) -> bool:
    return label.text().endswith("entries")


def test_only_the_first_page_is_built_at_start(person_app: AppContext) -> None:
    window = person_app.window
    assert window.findChild(QWidget, "customers_page") is not None
    for name in NAMES[1:]:
        assert window.findChild(QWidget, f"{name}_page") is None, name


def test_each_shortcut_builds_and_shows_its_page(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    for number, name in enumerate(NAMES, start=1):
        press(getattr(Key, f"Key_{number}"), Mod.ControlModifier, window)
        qtbot.waitUntil(partial(_shown, name), timeout=5000)
        page = _page_shown(name)
        assert page is not None
        # Still the active window, the focus in the page just built (keys keep working).
        assert QApplication.activeWindow() is window, name
        focus = QApplication.focusWidget()
        assert focus is not None, name
        assert page.isAncestorOf(focus), name
        assert window.sidebar.currentItem().text() == window.sidebar.item(number - 1).text()
        # A page built after the database opened still reads its data.
        if name == "segments":
            qtbot.waitUntil(lambda: window.segments_page.segment_list.count() == 2,
                            timeout=10_000)
        elif name == "audit":
            audit = window.audit_page
            assert audit is not None
            qtbot.waitUntil(partial(_says_entries, audit.message), timeout=10_000)
    # Back to a page already built: the same page, not a second one.
    press(Key.Key_2, Mod.ControlModifier, window)
    assert len(window.findChildren(QWidget, "segments_page")) == 1
    qtbot.waitUntil(lambda: _page_shown("segments") is not None, timeout=5000)


def test_clicking_the_sidebar_builds_the_page(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    sidebar = window.sidebar
    item = sidebar.item(NAMES.index("settings"))
    click(sidebar.viewport(), sidebar.visualItemRect(item).center())
    qtbot.waitUntil(lambda: _page_shown("settings") is not None, timeout=5000)
    assert QApplication.activeWindow() is window

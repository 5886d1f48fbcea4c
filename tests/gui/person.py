"""Acting like a person on the real window: keys and clicks only, then reading what is
on screen. No slot is called and no state is set by these helpers.

Modal dialogs run their own event loop, so a test says beforehand how it will answer the
next one (`answer_dialog`): a timer finds the dialog once it is up and presses the key or
clicks the button, as a person would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QMenu,
    QMenuBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from minicrm_desktop.views.campaigns.wizard.drafts import KeepDraftDialog
from minicrm_desktop.views.segments.dialogs import (
    ConfirmDeleteDialog,
    SegmentNameDialog,
    UnsavedChangesDialog,
)

Key = Qt.Key
Mod = Qt.KeyboardModifier


def press(key: Qt.Key, modifier: Qt.KeyboardModifier = Mod.NoModifier,
          widget: QWidget | None = None) -> None:
    """Press a key where the keyboard focus is (or on `widget`)."""
    target = widget or QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "nothing has the keyboard focus"
    QTest.keyClick(target, key, modifier)


def type_text(text: str, widget: QWidget | None = None) -> None:
    target = widget or QApplication.focusWidget()
    assert target is not None
    QTest.keyClicks(target, text)


def click(widget: QWidget, pos: QPoint | None = None) -> None:
    assert widget.isVisible(), f"cannot click the hidden {widget!r}"
    assert widget.isEnabled(), f"cannot click the disabled {widget!r}"
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Mod.NoModifier,
                     pos if pos is not None else widget.rect().center())


def click_menu(menubar: QMenuBar, title: str, item: str, qtbot: QtBot) -> None:
    """Open a menu of the menu bar with the mouse and click one of its entries."""
    menu_action = next(a for a in menubar.actions() if a.text().replace("&", "") == title)
    QTest.mouseClick(menubar, Qt.MouseButton.LeftButton, Mod.NoModifier,
                     menubar.actionGeometry(menu_action).center())
    menu = menu_action.menu()
    assert isinstance(menu, QMenu)
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    action = next(a for a in menu.actions() if a.text().replace("&", "") == item)
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, Mod.NoModifier,
                     menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=3000)


@dataclass
class DialogLog:
    """What the scheduled answers met: each dialog's title and text."""

    seen: list[str] = field(default_factory=list)


def _dialog_text(dialog: QWidget) -> str:
    texts = [dialog.windowTitle()]
    text = getattr(dialog, "text", None)
    if callable(text):
        with contextlib.suppress(TypeError):
            texts.append(str(text()))
    return " | ".join(texts)


def answer_dialog(log: DialogLog, *, key: Qt.Key | None = None, button: str | None = None,
                  type_first: str | None = None) -> None:
    """Once a modal dialog is up, answer it: type `type_first`, then press `key` or click
    the button whose text contains `button`."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(20, act)
            return
        log.seen.append(_dialog_text(dialog))
        # Keys go where the dialog's focus is (offscreen, the dialog may not be the
        # active window, so QApplication.focusWidget() can still be in the main window).
        focus = dialog.focusWidget() or dialog
        if type_first is not None:
            QTest.keyClicks(focus, type_first)
        if button is not None:
            match = [b for b in dialog.findChildren(QAbstractButton)
                     if button.lower() in b.text().replace("&", "").lower() and b.isVisible()]
            assert match, f"no button {button!r} in {_dialog_text(dialog)}"
            QTest.mouseClick(match[0], Qt.MouseButton.LeftButton)
        else:
            QTest.keyClick(focus, key or Key.Key_Escape)

    QTimer.singleShot(0, act)


class DialogAnswerer:
    """Answers every modal dialog that comes up with `key` until stopped, logging each:
    a dialog that keeps coming back is counted instead of hanging the test."""

    def __init__(self, log: DialogLog, key: Qt.Key = Key.Key_Escape) -> None:
        self.log = log
        self.key = key
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and dialog.isVisible():
            self.log.seen.append(_dialog_text(dialog))
            QTest.keyClick(dialog.focusWidget() or dialog, self.key)

    def stop(self) -> None:
        self.timer.stop()


def answer_popup(log: DialogLog, key: Qt.Key = Key.Key_Escape,
                 choose: str | None = None) -> None:
    """Once a popup menu is up (a menu button's menu runs its own event loop), log its
    entries and press `key` on it; or with `choose`, press Down until that entry is
    highlighted, then Return."""

    def act() -> None:
        popup = QApplication.activePopupWidget()
        if popup is None or not popup.isVisible():
            QTimer.singleShot(20, act)
            return
        if isinstance(popup, QMenu):
            log.seen.append(" | ".join(a.text() for a in popup.actions()))
            if choose is not None:
                for _ in range(len(popup.actions()) + 1):
                    active = popup.activeAction()
                    if active is not None and active.text() == choose:
                        QTest.keyClick(popup, Key.Key_Return)
                        return
                    QTest.keyClick(popup, Key.Key_Down)
        QTest.keyClick(popup, key)

    QTimer.singleShot(0, act)


def back_to(window: QWidget, qtbot: QtBot) -> None:
    """A closed dialog hands the activation back to its window, as a window manager does
    (offscreen, nothing does, and keys would go nowhere)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)


def no_dialog_open() -> bool:
    modal = QApplication.activeModalWidget()
    return modal is None or not modal.isVisible()


def visible_dialogs() -> list[QDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QDialog) and w.isVisible()]


def tab_walk(start: QWidget, steps: int, backwards: bool = False) -> list[QWidget]:
    """Press Tab `steps` times from `start` and return where the focus went each time."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    seen: list[QWidget] = []
    for _ in range(steps):
        target = QApplication.focusWidget()
        assert target is not None, "the focus was lost"
        QTest.keyClick(target, Key.Key_Backtab if backwards else Key.Key_Tab,
                       Mod.ShiftModifier if backwards else Mod.NoModifier)
        focus = QApplication.focusWidget()
        assert focus is not None, "the focus was lost"
        seen.append(focus)
    return seen


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader announces (Qt derives it from text, buddies, tooltips)."""
    iface = QAccessible.queryAccessibleInterface(widget)
    return "" if iface is None else iface.text(QAccessible.Text.Name).strip()


def focusable_controls(root: QWidget) -> list[QWidget]:
    """Controls inside `root` that Tab can reach and a person can see."""
    return [w for w in root.findChildren(QWidget)
            if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus
            and w.window() is root.window() and not w.focusProxy()]


def describe(widget: QWidget) -> str:
    return f"{type(widget).__name__}({widget.objectName() or accessible_name(widget)!r})"


Waiter = Callable[[], bool]


# --- what the person_app fixture (conftest.py) starts with -----------------------------------

PUNE = {"combinator": "and", "rules": [{"field": "city", "operator": "=", "value": "Pune"}]}
LONG = "Big spenders in Pune who ordered twice this year"
# The real questions, before the suite's autouse fixtures replace them with answers.
REAL_ASK = {cls: cls.__dict__["ask"] for cls in (UnsavedChangesDialog, ConfirmDeleteDialog,
                                                  SegmentNameDialog, KeepDraftDialog)}

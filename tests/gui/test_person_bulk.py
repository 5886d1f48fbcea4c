"""Bulk actions on a saved segment, as a person uses them (issue 17): "Tag everyone…" and
"Unsubscribe everyone…" from the Segments page ask with the count of customers they would
change, say the result, and the Customers page shows it; Escape on the question changes
nobody. (A viewer is offered neither: tests/access/test_gui_access.py.)

Only keys and clicks act; asserts read what is shown (and what the database then holds).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.tables import customers_table
from minicrm_desktop.views.common.widgets import TagChip
from minicrm_desktop.views.segments import SegmentsPage

from .person import LONG, DialogLog, Key, Mod, answer_popup, click, press

cu = customers_table.c


def _answer(log: DialogLog, title: str, *, button: str | None = None,
            type_first: str | None = None) -> None:
    """Once the modal dialog titled `title` is up: type, then click `button` (else press
    Escape). Several answers can wait at once, each for its own dialog."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible() or dialog.windowTitle() != title:
            QTimer.singleShot(20, act)
            return
        text = getattr(dialog, "text", None)
        log.seen.append(f"{title} | {text() if callable(text) else ''}")
        focus = dialog.focusWidget() or dialog
        if type_first is not None:
            QTest.keyClicks(focus, type_first)
        if button is None:
            QTest.keyClick(focus, Key.Key_Escape)
            return
        match = [b for b in dialog.findChildren(QAbstractButton)
                 if button in b.text() and b.isVisible()]
        assert match, f"no button {button!r} in {title}"
        QTest.mouseClick(match[0], Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, act)


def _activate(ctx: AppContext, qtbot: QtBot) -> None:
    """As the window system does when a dialog closes: the main window is active again."""
    ctx.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ctx.window, timeout=3000)


def _segments_page(ctx: AppContext, qtbot: QtBot) -> SegmentsPage:
    _activate(ctx, qtbot)
    press(Key.Key_2, Mod.ControlModifier, ctx.window)
    page = ctx.window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    lst = page.segment_list
    click(lst.viewport(), lst.visualItemRect(lst.item(0)).center())
    assert lst.currentItem().text() == LONG
    qtbot.waitUntil(lambda: page.bulk.button.isEnabled(), timeout=5000)
    return page


def _pune(ctx: AppContext, *, subscribed: bool | None = None) -> int:
    where = [cu.city == "Pune"]
    if subscribed is not None:
        where.append(cu.subscribed.is_(subscribed))
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(*where)).scalar_one())


def _customers_in_pune(ctx: AppContext, qtbot: QtBot) -> list[tuple[str, str]]:
    """Ctrl+1, search "Pune": (city, subscribed) of each row shown."""
    _activate(ctx, qtbot)
    press(Key.Key_1, Mod.ControlModifier, ctx.window)
    page = ctx.window.customers_page
    press(Key.Key_F, Mod.ControlModifier, ctx.window)
    search = page.search
    search.selectAll()
    QTest.keyClicks(search, "Pune")
    model = page.table.model()
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    city, sub = titles.index("City"), titles.index("Subscribed")
    qtbot.waitUntil(lambda: model.rowCount() > 0 and all(
        model.index(r, city).data() == "Pune" for r in range(model.rowCount())), timeout=10_000)
    return [(model.index(r, city).data(), model.index(r, sub).data())
            for r in range(model.rowCount())]


def test_tag_everyone_asks_with_the_count_and_the_customers_show_it(
        person_app: AppContext, qtbot: QtBot) -> None:
    pune = _pune(person_app)
    assert pune > 0
    page = _segments_page(person_app, qtbot)
    seen = DialogLog()
    answer_popup(seen, choose="Tag everyone…")
    _answer(seen, "Tag everyone", type_first="vip-diwali", button="Count customers")
    _answer(seen, "Confirm tagging", button="Tag ")  # once counted
    click(page.bulk.button)
    qtbot.waitUntil(lambda: len(seen.seen) == 3, timeout=10_000)
    assert f"Tag {pune:,} of the {pune:,} customers in “{LONG}” with “vip-diwali”?" \
        in seen.seen[2]
    qtbot.waitUntil(lambda: page.bulk.result.text().startswith("Tagged"), timeout=20_000)
    assert page.bulk.result.text() == f"Tagged {pune:,} customers with “vip-diwali”."

    # The Customers page read them again: a Pune customer's detail shows the tag.
    rows = _customers_in_pune(person_app, qtbot)
    customers = person_app.window.customers_page
    table = customers.table
    click(table.viewport(), table.visualRect(table.model().index(0, 0)).center())
    qtbot.waitUntil(lambda: "vip-diwali" in [chip.text() for chip in
                                             customers.detail.findChildren(TagChip)],
                    timeout=10_000)
    assert len(rows) == pune

    # Again: nobody left to tag, so nothing is asked.
    page = _segments_page(person_app, qtbot)
    answer_popup(seen, choose="Tag everyone…")
    _answer(seen, "Tag everyone", type_first="VIP-Diwali", button="Count customers")
    click(page.bulk.button)
    qtbot.waitUntil(lambda: page.bulk.result.text().startswith("Nobody to tag"),
                    timeout=10_000)
    assert len(seen.seen) == 5  # the popup and the tag question, no confirmation


def test_unsubscribe_everyone_asks_and_escape_changes_nobody(person_app: AppContext,
                                                             qtbot: QtBot) -> None:
    subscribed = _pune(person_app, subscribed=True)
    total = _pune(person_app)
    assert subscribed > 0
    page = _segments_page(person_app, qtbot)
    seen = DialogLog()
    # By keyboard (Space on the menu button): Escape on the question changes nobody.
    answer_popup(seen, choose="Unsubscribe everyone…")
    _answer(seen, "Confirm unsubscribing")
    press(Key.Key_Space, widget=page.bulk.button)
    qtbot.waitUntil(lambda: len(seen.seen) == 2, timeout=10_000)
    assert f"Unsubscribe {subscribed:,} of the {total:,} customers in “{LONG}”?" \
        in seen.seen[1]
    qtbot.waitUntil(lambda: page.bulk.button.isEnabled(), timeout=5000)
    assert page.bulk.result.text() == ""
    assert _pune(person_app, subscribed=True) == subscribed

    answer_popup(seen, choose="Unsubscribe everyone…")
    _answer(seen, "Confirm unsubscribing", button="Unsubscribe ")
    click(page.bulk.button)
    qtbot.waitUntil(lambda: page.bulk.result.text().startswith("Unsubscribed"),
                    timeout=20_000)
    assert page.bulk.result.text() == f"Unsubscribed {subscribed:,} customers."
    assert _pune(person_app, subscribed=True) == 0
    rows = _customers_in_pune(person_app, qtbot)
    qtbot.waitUntil(lambda: all(sub == "No" for _city, sub in
                                _customers_in_pune(person_app, qtbot)), timeout=10_000)
    assert len(rows) == total

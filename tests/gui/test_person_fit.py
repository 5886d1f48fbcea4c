"""What fits on screen, as a person sees it (issue 16): every customers column beside the
open detail panel at 1280x800, and elided cells that show their whole text as a tooltip
when hovered."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QTableView,
    QToolTip,
    QWidget,
)
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import create_campaign
from minicrm_desktop.services.core.database import create_db_engine
from tests.campaigns.conftest import draft

from .person import click


def _select_first_customer(ctx: AppContext, qtbot: QtBot) -> QTableView:
    page = ctx.window.customers_page
    qtbot.waitUntil(lambda: page.count_label.text() == "3,000 customers", timeout=20_000)
    table = page.table
    click(table.viewport(), table.visualRect(page.model.index(0, 0)).center())
    qtbot.waitUntil(page.detail.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: page.detail.name_label.text() != "", timeout=10_000)
    return table


def _customers_at(ctx: AppContext, qtbot: QtBot, width: int, height: int) -> QTableView:
    """The window at `width` x `height`, with a customer's detail panel open beside the
    table; the table, its columns fitted."""
    window = ctx.window
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width, timeout=3000)
    table = _select_first_customer(ctx, qtbot)
    QTest.qWait(0)  # the columns fit on the resize's event-loop turn
    return table


def test_every_column_shows_beside_the_detail_panel_at_1280(person_app: AppContext,
                                                           qtbot: QtBot) -> None:
    table = _customers_at(person_app, qtbot, 1280, 800)
    model = table.model()
    viewport = table.viewport().width()
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        title = model.headerData(column, Qt.Orientation.Horizontal)
        right = table.columnViewportPosition(column) + table.columnWidth(column)
        assert table.columnViewportPosition(column) >= 0, title
        assert right <= viewport, f"{title} ends at {right}, the table shows {viewport}"
    assert not table.horizontalScrollBar().isVisible()
    # The detail panel's orders table stays readable.
    detail = person_app.window.customers_page.detail
    assert detail.width() >= 240


def test_who_the_customer_is_stays_readable_at_1024(person_app: AppContext,
                                                   qtbot: QtBot) -> None:
    """At 1024x640 beside the detail panel, names read whole for most rows and emails show
    their mailbox (the last columns scroll instead of every column shrinking to its title)."""
    table = _customers_at(person_app, qtbot, 1024, 640)
    model = table.model()
    metrics = table.fontMetrics()
    rows = range(min(15, model.rowCount()))
    for column in (0, 1):
        assert table.columnViewportPosition(column) + table.columnWidth(column) \
            <= table.viewport().width()
    whole = [row for row in rows if metrics.horizontalAdvance(str(model.index(row, 0).data()))
             + 8 <= table.columnWidth(0)]
    assert len(whole) >= 0.6 * len(rows), f"{len(whole)} of {len(rows)} names read whole"
    assert table.columnWidth(1) >= metrics.horizontalAdvance("firstname.lastname")  # mailbox


def _hover_tooltip(view: QAbstractItemView, index: QModelIndex, qtbot: QtBot) -> str:
    """Rest the mouse on a cell and wait for the tooltip, as a person does."""
    viewport = view.viewport()
    pos = view.visualRect(index).center()
    QTest.mouseMove(viewport, pos)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(lambda: QToolTip.isVisible() and QToolTip.text() != "", timeout=3000)
    text = QToolTip.text()
    QToolTip.hideText()
    return text


def _elided(view: QAbstractItemView, index: QModelIndex) -> bool:
    text = str(index.data())
    return view.fontMetrics().horizontalAdvance(text) > view.visualRect(index).width() - 8


def test_elided_cells_show_their_whole_text_when_hovered(person_app: AppContext,
                                                         qtbot: QtBot) -> None:
    from minicrm_desktop.models.rules import parse_rule
    from minicrm_desktop.services.campaigns.vendor import VendorConfig
    from minicrm_desktop.services.segments.saved import create_segment

    from .person import LONG, PUNE, Key, Mod, press
    window = person_app.window
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    # Customers: beside the detail panel the e-mail column elides; hovering shows it all.
    table = _select_first_customer(person_app, qtbot)
    model = table.model()
    email = next(i for i in range(model.columnCount())
                 if model.headerData(i, Qt.Orientation.Horizontal) == "Email")
    cells = [model.index(row, email) for row in range(20)]
    elided = [c for c in cells if _elided(table, c)]
    assert elided, "no e-mail is elided at 1024 px beside the detail panel"
    assert _hover_tooltip(table, elided[0], qtbot) == elided[0].data()

    # The campaigns list: a long campaign name.
    name = f"{LONG} — the autumn offer for everyone who bought twice"
    engine = create_db_engine(person_app.url)
    try:
        create_campaign(engine, draft(name=name, vendor=VendorConfig()), actor=LOCAL_ADMIN)
    finally:
        engine.dispose()
    press(Key.Key_3, Mod.ControlModifier, window)
    page = window.campaigns_page
    press(Key.Key_F5, widget=QApplication.focusWidget() or window)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0
                    and page.model.index(0, 0).data() == name, timeout=15_000)
    cell = page.model.index(0, 0)
    assert _elided(page.table, cell)
    assert _hover_tooltip(page.table, cell, qtbot).startswith(name)

    # The saved-segment list: a name longer than the list is wide, saved elsewhere.
    engine = create_db_engine(person_app.url)
    try:
        create_segment(engine, f"{LONG}, and in Mumbai, and everyone who opened the last "
                       "three newsletters", parse_rule(PUNE), actor=LOCAL_ADMIN)
    finally:
        engine.dispose()
    press(Key.Key_2, Mod.ControlModifier, window)
    press(Key.Key_F5, widget=QApplication.focusWidget() or window)
    segments = window.segments_page.segment_list
    qtbot.waitUntil(lambda: segments.count() == 3, timeout=10_000)
    rows = [segments.model().index(row, 0) for row in range(3)]
    elided = [i for i in rows if _elided(segments, i)]
    assert elided, "the list is wide enough for the long names"
    for index in elided:
        assert _hover_tooltip(segments, index, qtbot).startswith(str(index.data()))


def _rows_on_screen(view: QAbstractItemView, area: QWidget) -> int:
    """Rows of `view` a person sees: its viewport clipped by the scrolling page area."""
    viewport = view.viewport()
    top_left = viewport.mapTo(area.window(), QPoint(0, 0))
    mine = QRect(top_left, viewport.size())
    seen = QRect(area.mapTo(area.window(), QPoint(0, 0)), area.size()).intersected(mine)
    return max(0, seen.height()) // view.sizeHintForRow(0)


def test_a_campaign_page_fits_1024_by_640(person_app: AppContext, qtbot: QtBot) -> None:
    """At the smallest size the app is made for, the campaign page does not scroll: the
    Overview tab's charts draw with whole tick labels, and a click on the Recipients tab
    (or Alt+R) shows a screenful of the log."""
    from PySide6.QtCharts import QBarCategoryAxis

    from minicrm_desktop.services.campaigns.vendor import VendorConfig

    from .person import press
    from .test_person_campaign import _launch_elsewhere, _open_from_list

    window = person_app.window
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 640, timeout=3000)
    _launch_elsewhere(person_app, VendorConfig(success_rate=0.8, seed=3))
    detail = _open_from_list(person_app, qtbot, "Autumn offer")
    click(detail.resume_button)
    qtbot.waitUntil(lambda: "Completed" in detail.header.subtitle.text(), timeout=30_000)
    area = window.page_area
    assert not area.verticalScrollBar().isVisible(), "the campaign page scrolls at 1024x640"
    assert not area.horizontalScrollBar().isVisible()
    tabs = detail.tabs
    assert tabs.tabText(tabs.currentIndex()) == "&Overview"
    chart = detail.timeline_chart
    assert chart.plotArea().height() > 100, "the charts are squeezed"
    times = next(a for a in chart.axes() if isinstance(a, QBarCategoryAxis))
    assert all(label and "…" not in label and "..." not in label
               for label in times.categories())

    bar = tabs.tabBar()
    click(bar, bar.tabRect(1).center())
    assert tabs.currentWidget() is detail.recipients
    assert tabs.tabText(1).startswith("&Recipients (")
    qtbot.waitUntil(lambda: detail.log_model.rowCount() >= 12, timeout=10_000)
    rows = _rows_on_screen(detail.log, area.viewport())
    assert rows >= 10, f"the recipients log shows {rows} rows at 1024x640"
    assert not area.verticalScrollBar().isVisible()
    press(Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier, window)  # and back by its key
    qtbot.waitUntil(lambda: tabs.currentIndex() == 0, timeout=3000)
    press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier, window)
    qtbot.waitUntil(lambda: tabs.currentIndex() == 1, timeout=3000)

"""What fits on screen, as a person sees it (issue 16): every customers column beside the
open detail panel at 1280x800, the recipients log's rows at 1024x640, and elided cells
that show their whole text as a tooltip when hovered."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext

from .person import click


def _select_first_customer(ctx: AppContext, qtbot: QtBot) -> QTableView:
    page = ctx.window.customers_page
    qtbot.waitUntil(lambda: page.count_label.text() == "3,000 customers", timeout=20_000)
    table = page.table
    click(table.viewport(), table.visualRect(page.model.index(0, 0)).center())
    qtbot.waitUntil(page.detail.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: page.detail.name_label.text() != "", timeout=10_000)
    return table


def test_every_column_shows_beside_the_detail_panel_at_1280(person_app: AppContext,
                                                           qtbot: QtBot) -> None:
    window = person_app.window
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=3000)
    table = _select_first_customer(person_app, qtbot)
    QTest.qWait(0)
    model = table.model()
    viewport = table.viewport().width()
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        title = model.headerData(column, 1)
        right = table.columnViewportPosition(column) + table.columnWidth(column)
        assert 0 <= table.columnViewportPosition(column), title
        assert right <= viewport, f"{title} ends at {right}, the table shows {viewport}"
    assert not table.horizontalScrollBar().isVisible()
    # The detail panel's orders table stays readable.
    detail = person_app.window.customers_page.detail
    assert detail.width() >= 240


def test_the_recipients_log_shows_rows_at_1024_by_640(person_app: AppContext,
                                                      qtbot: QtBot) -> None:
    from minicrm_desktop.services.campaigns.vendor import VendorConfig

    from .test_person_campaign import _launch_elsewhere, _open_from_list

    window = person_app.window
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 640, timeout=3000)
    _launch_elsewhere(person_app, VendorConfig(success_rate=0.8, seed=3))
    detail = _open_from_list(person_app, qtbot, "Autumn offer")
    click(detail.resume_button)
    qtbot.waitUntil(lambda: "Completed" in detail.header.subtitle.text(), timeout=30_000)
    log = detail.log
    qtbot.waitUntil(lambda: detail.log_model.rowCount() >= 8, timeout=10_000)
    row_height = log.verticalHeader().defaultSectionSize()
    rows = log.viewport().height() // row_height
    assert rows >= 6, f"the recipients log shows {rows} rows at 1024x640"
    assert detail.timeline_chart.plotArea().height() > 40  # the charts still draw

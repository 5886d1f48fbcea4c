"""A campaign's own page, as a person uses it (issue 16): Enter opens a campaign from the
list, Resume / Pause / Cancel sit on its page, Cancel asks first (Escape keeps it sending),
every figure on the page and in the list is the same number, a cancel counts the unsent
as cancelled (not skipped), the sidebar goes back to the list, and the charts follow the
dark palette with readable ticks.

Only keys and clicks act; asserts read what is shown.
"""

from __future__ import annotations

import re

from PySide6.QtCharts import QAbstractBarSeries, QBarCategoryAxis, QChart, QValueAxis
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QTableWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.campaign import deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.views.campaigns.detail import CampaignDetail
from minicrm_desktop.views.shell.palette import dark_palette, light_palette
from tests.campaigns.conftest import draft

from .person import (
    DialogLog,
    Key,
    Mod,
    answer_dialog,
    back_to,
    click,
    no_dialog_open,
    press,
    type_text,
)

d = deliveries_table.c


def _launch_elsewhere(ctx: AppContext, vendor: VendorConfig) -> int:
    """A campaign launched by another process that nobody sends yet (Resume sends it)."""
    engine = create_db_engine(ctx.url)
    try:
        campaign_id = create_campaign(engine, draft(name="Autumn offer", vendor=vendor),
                                      actor=LOCAL_ADMIN)
        launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    finally:
        engine.dispose()
    return campaign_id


def _sent_in_db(ctx: AppContext, campaign_id: int) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(
            d.campaign_id == campaign_id, d.status == "sent")).scalar_one())


def _open_from_list(ctx: AppContext, qtbot: QtBot, name: str) -> CampaignDetail:
    """Ctrl+3, F5, click the campaign's row, Enter."""
    window = ctx.window
    press(Key.Key_3, Mod.ControlModifier, window)
    page = window.campaigns_page
    press(Key.Key_F5, widget=QApplication.focusWidget() or window)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0
                    and page.model.index(0, 0).data() == name, timeout=15_000)
    table = page.table
    click(table.viewport(), table.visualRect(page.model.index(0, 0)).center())
    press(Key.Key_Return, widget=table)
    detail = page.detail
    assert detail is not None
    assert page.stack.currentWidget() is detail  # Enter opened it
    qtbot.waitUntil(lambda: detail.report is not None and detail.header.title.text() == name,
                    timeout=10_000)
    return detail


def _figure(detail: CampaignDetail, key: str) -> int:
    return int(detail.figure_labels[key].text().replace(",", ""))


def _column_sum(table: QTableWidget, title: str) -> int:
    titles = [table.model().headerData(c, Qt.Orientation.Horizontal)
              for c in range(table.columnCount())]
    column = titles.index(title)
    return sum(int(str(table.model().index(r, column).data()).replace(",", ""))
               for r in range(table.rowCount()))


def _consistent(detail: CampaignDetail) -> bool:
    """Header, variant table and summary show the same numbers."""
    sent, failed = _figure(detail, "sent"), _figure(detail, "failed")
    skipped = _figure(detail, "skipped")
    table = detail.variants
    summary = detail.summary_panel.text.text()
    return (_column_sum(table, "Sent") == sent and _column_sum(table, "Failed") == failed
            and _column_sum(table, "Skipped") == skipped
            and f"reached {sent:,} of its {_figure(detail, 'audience'):,}" in summary
            and (failed == 0 or f"{failed:,} failed" in summary)
            and (not detail.figure_labels["cancelled"].isVisible()
                 or _column_sum(table, "Cancelled") == _figure(detail, "cancelled")))


def test_campaign_controls_confirm_and_one_set_of_figures(person_app: AppContext,
                                                          qtbot: QtBot) -> None:
    campaign_id = _launch_elsewhere(person_app, VendorConfig(success_rate=0.9, latency_ms=40,
                                                             seed=7))
    detail = _open_from_list(person_app, qtbot, "Autumn offer")
    # Running in the database, sent by nobody: Resume sends it from here.
    assert detail.resume_button.isEnabled()
    assert detail.pause_button.isEnabled()
    assert detail.cancel_button.isEnabled()
    click(detail.resume_button)
    qtbot.waitUntil(lambda: _figure(detail, "sent") > 0, timeout=20_000)
    assert "Running" in detail.header.subtitle.text()
    # Pause on its own page stops the sending; Resume sends again.
    click(detail.pause_button)
    qtbot.waitUntil(lambda: "Paused" in detail.header.subtitle.text(), timeout=20_000)
    qtbot.waitUntil(lambda: not person_app.campaigns.is_running(campaign_id), timeout=20_000)
    qtbot.waitUntil(lambda: not detail.busy, timeout=20_000)
    # The last outcomes recorded before the pause reach the page; then nothing moves.
    qtbot.waitUntil(lambda: _figure(detail, "sent") == _sent_in_db(person_app, campaign_id),
                    timeout=20_000)
    paused_at = _figure(detail, "sent")
    qtbot.wait(300)  # a paused campaign sends nothing meanwhile
    assert _figure(detail, "sent") == paused_at
    assert not detail.pause_button.isEnabled()
    click(detail.resume_button)
    qtbot.waitUntil(lambda: _figure(detail, "sent") > paused_at, timeout=20_000)
    assert "Running" in detail.header.subtitle.text()

    # Cancel asks; Escape answers "no" and the campaign keeps sending.
    seen = DialogLog()
    answer_dialog(seen, key=Key.Key_Escape)
    click(detail.cancel_button)
    assert seen.seen
    assert "cannot be undone" in seen.seen[0]
    sent_then = _figure(detail, "sent")
    qtbot.waitUntil(lambda: _figure(detail, "sent") > sent_then, timeout=20_000)
    assert "Running" in detail.header.subtitle.text()
    assert person_app.campaigns.is_running(campaign_id)

    # While it sends: header, variant table and summary agree (one snapshot).
    qtbot.waitUntil(lambda: _consistent(detail), timeout=20_000)
    assert "Running" in detail.header.subtitle.text()

    # Confirmed: cancelled, and the unsent are counted as cancelled, not skipped.
    finished: list[tuple[int, str]] = []
    person_app.bus.campaign_finished.connect(lambda cid, status: finished.append((cid, status)))
    answer_dialog(seen, button="Cancel campaign")
    click(detail.cancel_button)
    qtbot.waitUntil(lambda: "Cancelled" in detail.header.subtitle.text()
                    and detail.figure_labels["cancelled"].isVisible(), timeout=20_000)
    qtbot.waitUntil(lambda: (campaign_id, "cancelled") in finished, timeout=20_000)
    # Settled: the page read it again once the last message in flight was recorded.
    qtbot.waitUntil(lambda: not detail.busy and _consistent(detail), timeout=20_000)
    with person_app.engine.connect() as conn:
        suppressed = conn.execute(select(func.count()).where(
            d.campaign_id == campaign_id, d.status == "skipped")).scalar_one()
    audience, sent = _figure(detail, "audience"), _figure(detail, "sent")
    failed, cancelled = _figure(detail, "failed"), _figure(detail, "cancelled")
    assert _figure(detail, "skipped") == suppressed  # launch suppressions only
    assert cancelled == audience - sent - failed - suppressed
    assert cancelled > 0
    assert _column_sum(detail.variants, "Cancelled") == cancelled
    summary = detail.summary_panel.text.text()
    assert f"reached {sent:,} of its {audience:,} customers" in summary
    assert f"{cancelled:,} never sent because the campaign was cancelled" in summary
    assert not detail.pause_button.isEnabled()
    assert not detail.resume_button.isEnabled()
    assert not detail.cancel_button.isEnabled()

    # The sidebar's "Campaigns" goes back to the list, whose row says the same.
    window = person_app.window
    sidebar = window.sidebar
    item = sidebar.item(window.page_names.index("campaigns"))
    click(sidebar.viewport(), sidebar.visualItemRect(item).center())
    page = window.campaigns_page
    assert page.stack.currentWidget() is page.list_page
    model = page.model
    qtbot.waitUntil(lambda: model.rowCount() > 0
                    and model.index(0, 1).data() == "Cancelled", timeout=10_000)
    shown = [model.index(0, column).data() for column in range(model.columnCount())]
    assert shown[3:7] == [f"{audience:,}", f"{sent:,}", f"{failed:,}", f"{suppressed:,}"]
    assert str(shown[2]).startswith("started ")


def _chart_image(chart: QChart) -> QImage:
    view = chart.scene().views()[0]
    image = QImage(view.size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("magenta"))
    painter = QPainter(image)
    view.render(painter)
    painter.end()
    return image


def test_charts_follow_the_dark_palette_with_readable_ticks(person_app: AppContext,
                                                            qtbot: QtBot) -> None:
    _launch_elsewhere(person_app, VendorConfig(success_rate=0.8, seed=3))
    detail = _open_from_list(person_app, qtbot, "Autumn offer")
    click(detail.resume_button)
    qtbot.waitUntil(lambda: "Completed" in detail.header.subtitle.text(), timeout=30_000)
    # Export CSV… of the recipients (on their tab) asks where; Escape writes nothing.
    bar = detail.tabs.tabBar()
    click(bar, bar.tabRect(1).center())
    seen = DialogLog()
    answer_dialog(seen, key=Key.Key_Escape)
    click(detail.export_button)
    qtbot.waitUntil(lambda: len(seen.seen) == 1, timeout=10_000)
    qtbot.waitUntil(no_dialog_open, timeout=3000)
    assert detail.export_button.isEnabled()  # no export running
    back_to(person_app.window, qtbot)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    dark = dark_palette()
    try:
        app.setPalette(dark)  # the OS switched to dark (palette.apply_theme does this)
        qtbot.waitUntil(lambda: detail.timeline_chart.backgroundBrush().color()
                        == dark.base().color(), timeout=5_000)
        for chart in (detail.timeline_chart, detail.reasons_chart):
            image = _chart_image(chart)
            corner = image.pixelColor(2, 2)
            assert corner == dark.base().color(), (chart.title(), corner.name())
            white = sum(image.pixelColor(x, y).lightness() > 240
                        for x in range(0, image.width(), 4) for y in range(0, image.height(), 4))
            assert white < image.width() * image.height() / 16 / 100  # no white panel
            assert chart.titleBrush().color() == dark.text().color()
            for axis in chart.axes():
                assert axis.labelsColor() == dark.text().color()

        # Suppressed (skipped) in grey, failures in red: never the same colour.
        (reasons,) = detail.reasons_chart.series()
        assert isinstance(reasons, QAbstractBarSeries)
        failed_set, skipped_set = reasons.barSets()
        assert failed_set.label() == "Failed"
        assert skipped_set.label() == "Skipped"
        assert failed_set.color().red() > 200 > failed_set.color().green()
        grey = skipped_set.color()
        assert abs(grey.red() - grey.blue()) < 30
        categories = next(a for a in detail.reasons_chart.axes()
                          if isinstance(a, QBarCategoryAxis)).categories()
        unsubscribed = categories.index("unsubscribed")
        assert skipped_set.at(unsubscribed) > 0
        assert failed_set.at(unsubscribed) == 0

        # Ticks: clock times under the bars, whole numbers on the count axes.
        times = next(a for a in detail.timeline_chart.axes()
                     if isinstance(a, QBarCategoryAxis)).categories()
        assert times
        # Clock times, or within one minute the seconds alone (the title gives the start).
        assert all(re.fullmatch(r"(\d\d:\d\d)?(:\d\d)?", t) and t for t in times), times
        assert len(set(times)) == len(times), times
        for chart in (detail.timeline_chart, detail.reasons_chart):
            (counts,) = [a for a in chart.axes() if isinstance(a, QValueAxis)]
            step = (counts.max() - counts.min()) / (counts.tickCount() - 1)
            assert step == int(step) >= 1, (chart.title(), counts.max(), counts.tickCount())
    finally:
        app.setPalette(light_palette())
    qtbot.waitUntil(lambda: detail.timeline_chart.backgroundBrush().color()
                    == light_palette().base().color(), timeout=5_000)


def test_the_list_says_when_each_campaign_runs(person_app: AppContext, qtbot: QtBot) -> None:
    """A campaign scheduled by another process shows when it will run; F5 brings it."""
    from datetime import timedelta

    from minicrm_desktop.models.base import utcnow
    from minicrm_desktop.views.common.formatting import format_datetime

    window = person_app.window
    press(Key.Key_3, Mod.ControlModifier, window)
    when = utcnow() + timedelta(days=2)
    engine = create_db_engine(person_app.url)
    try:
        create_campaign(engine, draft(name="Next week's offer", scheduled_at=when),
                        actor=LOCAL_ADMIN)
    finally:
        engine.dispose()
    press(Key.Key_F5, widget=QApplication.focusWidget() or window)
    model = window.campaigns_page.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=15_000)
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    row = dict(zip(titles, [model.index(0, c).data() for c in range(model.columnCount())],
                   strict=True))
    assert row["Name"] == "Next week's offer"
    assert row["Status"] == "Scheduled"
    assert row["When"] == f"runs {format_datetime(when)}"


def test_the_launching_line_goes_when_the_campaign_ends(person_app: AppContext,
                                                         qtbot: QtBot) -> None:
    """New campaign… by clicks and keys through to Launch: "… launching…" is said while it
    starts and is gone once the campaign has ended (issue 16, item 5). On the way, the
    message step's Suggest variants… cancels by Escape."""
    from PySide6.QtWidgets import QWizard

    window = person_app.window
    press(Key.Key_3, Mod.ControlModifier, window)
    page = window.campaigns_page
    click(page.new_button)
    qtbot.waitUntil(lambda: page.wizard is not None and page.wizard.isVisible(), timeout=5000)
    wizard = page.wizard
    assert wizard is not None
    back_to(wizard, qtbot)
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    click(wizard.basics.name_edit)
    type_text("Pune spring")
    click(next_button)
    audience = wizard.audience_page
    qtbot.waitUntil(lambda: audience.segment_list.count() >= 1, timeout=10_000)
    item = audience.segment_list.item(0)
    click(audience.segment_list.viewport(), audience.segment_list.visualItemRect(item).center())
    qtbot.waitUntil(next_button.isEnabled, timeout=10_000)
    click(next_button)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.message_page, timeout=5000)
    qtbot.waitUntil(next_button.isEnabled, timeout=10_000)  # the suggested message is valid
    # Suggest variants… opens ideas; Escape closes them and the message stays as it was.
    message = wizard.message_page
    before = [e.edit.toPlainText() for e in message.editors]
    click(message.suggest_button)
    qtbot.waitUntil(lambda: message.suggestions is not None
                    and message.suggestions.isVisible(), timeout=5000)
    suggestions = message.suggestions
    assert suggestions is not None
    back_to(suggestions, qtbot)
    press(Key.Key_Escape, widget=suggestions.focusWidget() or suggestions)
    qtbot.waitUntil(lambda: not suggestions.isVisible(), timeout=5000)
    assert [e.edit.toPlainText() for e in message.editors] == before
    assert wizard.isVisible()  # only the suggestions closed
    back_to(wizard, qtbot)
    click(next_button)
    # An email: its sender, subject and footer (Settings' defaults) come next.
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.email_page, timeout=5000)
    qtbot.waitUntil(next_button.isEnabled, timeout=10_000)
    click(next_button)
    review = wizard.review_page
    qtbot.waitUntil(lambda: review.audience.text().endswith("customers"), timeout=10_000)
    launch = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(launch.isEnabled, timeout=10_000)
    said: list[str] = []
    with qtbot.waitSignal(person_app.bus.campaign_finished, timeout=60_000):
        click(launch)
        said.append(page.message.text())
    assert said[0].endswith("launching…"), said
    back_to(window, qtbot)
    model = page.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.index(0, 1).data() == "Completed", timeout=10_000)
    assert "launching" not in page.message.text()
    assert "launching" not in window.statusBar().currentMessage()

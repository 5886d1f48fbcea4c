"""Campaign drafts and scheduled campaigns, as a person uses them (issue 17; issue 16's
missing date column): leaving the wizard offers to keep a draft, the draft is listed and
reopens at its step with what was entered, finishing it replaces it; a scheduled
campaign's time is shown, changed and its schedule cancelled from the list, each asking.

Only keys and clicks act; asserts read what is shown (and what the database then holds).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.campaign import campaigns_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.launch import create_campaign
from minicrm_desktop.services.campaigns.wizard import PageId
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.views.campaigns import CampaignsPage
from minicrm_desktop.views.campaigns.wizard import CampaignWizard
from minicrm_desktop.views.common.formatting import format_datetime
from tests.campaigns.conftest import draft

from .person import DialogLog, Key, Mod, answer_dialog, answer_popup, click, press

c = campaigns_table.c
Button = QWizard.WizardButton


def _campaigns_page(ctx: AppContext, qtbot: QtBot) -> CampaignsPage:
    press(Key.Key_3, Mod.ControlModifier, ctx.window)
    page = ctx.window.campaigns_page
    qtbot.waitUntil(lambda: not page.model.loading, timeout=10_000)
    return page


def _open_wizard(page: CampaignsPage, qtbot: QtBot) -> CampaignWizard:
    click(page.new_button)
    wizard = page.wizard
    assert wizard is not None
    qtbot.waitExposed(wizard)
    return wizard


def _rows(page: CampaignsPage) -> list[tuple[str, str, str]]:
    """(name, status, when) of each listed campaign, as shown."""
    model = page.model
    return [tuple(str(model.index(r, col).data()) for col in (0, 1, 2))  # type: ignore[misc]
            for r in range(model.rowCount())]


def _drafts_stored(ctx: AppContext) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(
            c.status == "draft", c.wizard_json.is_not(None))).scalar_one())


def _click_row(page: CampaignsPage, name: str, qtbot: QtBot) -> None:
    window = page.window()
    window.activateWindow()  # as the window system does when a dialog closes
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    row = next(r for r, shown in enumerate(_rows(page)) if shown[0] == name)
    table = page.table
    click(table.viewport(), table.visualRect(page.model.index(row, 0)).center())


def test_escape_keeps_a_draft_that_reopens_where_it_was_left(
        person_app: AppContext, real_dialogs: None, qtbot: QtBot) -> None:
    page = _campaigns_page(person_app, qtbot)
    wizard = _open_wizard(page, qtbot)
    QTest.keyClicks(wizard.basics.name_edit, "Diwali draft")
    QTest.keyClicks(wizard.basics.objective, "Diwali 15% offer")
    click(wizard.button(Button.NextButton))
    audience = wizard.audience_page
    qtbot.waitUntil(lambda: audience.segment_list.count() == 2, timeout=10_000)
    click(audience.segment_list.viewport(), audience.segment_list.visualItemRect(
        audience.segment_list.item(1)).center())  # the "(copy)" one, not the first
    qtbot.waitUntil(lambda: wizard.button(Button.NextButton).isEnabled(), timeout=10_000)
    click(wizard.button(Button.NextButton))
    assert wizard.currentId() == PageId.MESSAGE
    editor = wizard.message_page.editors[0].edit
    editor.setFocus()
    press(Key.Key_End, Mod.ControlModifier, editor)
    QTest.keyClicks(editor, "your 15% Diwali offer is here. {unsubscribe_url}")
    typed = editor.toPlainText()

    # Escape asks; "Keep as draft" stores it and closes the wizard.
    seen = DialogLog()
    answer_dialog(seen, button="Keep as draft")
    press(Key.Key_Escape, widget=editor)
    assert seen.seen
    assert "Keep “Diwali draft” as a draft?" in seen.seen[0]
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: any(row[:2] == ("Diwali draft", "Draft")
                                and row[2].startswith("created ") for row in _rows(page)),
                    timeout=10_000)
    assert _drafts_stored(person_app) == 1

    # Reopened with Enter on its row: the Message step, with what was entered.
    _click_row(page, "Diwali draft", qtbot)
    assert page.open_button.text() == "Continue editing"
    press(Key.Key_Return, widget=page.table)
    qtbot.waitUntil(lambda: page.wizard is not wizard and page.wizard is not None
                    and page.wizard.isVisible(), timeout=10_000)
    again = page.wizard
    assert again is not None
    assert again.currentId() == PageId.MESSAGE
    assert again.message_page.editors[0].edit.toPlainText() == typed
    assert again.basics.name_edit.text() == "Diwali draft"
    assert again.basics.objective.text() == "Diwali 15% offer"
    qtbot.waitUntil(lambda: again.audience_page.segment_list.currentRow() == 1,
                    timeout=10_000)

    # Finishing launches it in the draft's place: the draft is gone.
    click(again.button(Button.NextButton))
    assert again.currentPage() is again.email_page  # an email: its sender and subject next
    qtbot.waitUntil(lambda: again.button(Button.NextButton).isEnabled(), timeout=15_000)
    click(again.button(Button.NextButton))
    review = again.review_page
    qtbot.waitUntil(lambda: again.button(Button.FinishButton).isEnabled(), timeout=15_000)
    assert "1 variant" in review.summary.text()
    click(again.button(Button.FinishButton))
    qtbot.waitUntil(lambda: [row[0] for row in _rows(page)] == ["Diwali draft"]
                    and "Draft" not in _rows(page)[0][1], timeout=20_000)
    assert _drafts_stored(person_app) == 0
    qtbot.waitUntil(lambda: _rows(page)[0][1] == "Completed" and not page.busy,
                    timeout=30_000)


def _cancel_wizard_after_typing(page: CampaignsPage, qtbot: QtBot, name: str,
                                answer: str) -> tuple[CampaignWizard, DialogLog]:
    """New campaign…, type a name, click Cancel and answer the question with `answer`."""
    wizard = _open_wizard(page, qtbot)
    QTest.keyClicks(wizard.basics.name_edit, name)
    seen = DialogLog()
    answer_dialog(seen, button=answer)
    click(wizard.button(Button.CancelButton))
    assert seen.seen
    return wizard, seen


def test_cancel_then_discard_leaves_nothing(person_app: AppContext, real_dialogs: None,
                                            qtbot: QtBot) -> None:
    page = _campaigns_page(person_app, qtbot)
    wizard, _seen = _cancel_wizard_after_typing(page, qtbot, "Not wanted", "Discard")
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5000)
    press(Key.Key_F5, widget=page.table)
    qtbot.waitUntil(lambda: not page.model.loading, timeout=10_000)
    assert _rows(page) == []
    assert _drafts_stored(person_app) == 0


def test_escape_on_the_question_goes_back_to_editing(
        person_app: AppContext, real_dialogs: None, qtbot: QtBot) -> None:
    page = _campaigns_page(person_app, qtbot)
    # Nothing entered: Escape just closes, nothing asked.
    wizard = _open_wizard(page, qtbot)
    seen = DialogLog()
    press(Key.Key_Escape, widget=wizard.basics.name_edit)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5000)
    assert seen.seen == []

    wizard = _open_wizard(page, qtbot)
    QTest.keyClicks(wizard.basics.name_edit, "Half done")
    answer_dialog(seen, key=Key.Key_Escape)
    press(Key.Key_Escape, widget=wizard.basics.name_edit)
    assert len(seen.seen) == 1
    assert wizard.isVisible()
    assert wizard.basics.name_edit.text() == "Half done"
    assert _drafts_stored(person_app) == 0
    answer_dialog(seen, button="Discard")  # and leave, for the app to close
    wizard.close()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5000)
    assert len(seen.seen) == 2


def test_a_kept_draft_is_deleted_after_asking(person_app: AppContext, real_dialogs: None,
                                              qtbot: QtBot) -> None:
    page = _campaigns_page(person_app, qtbot)
    _wizard, seen = _cancel_wizard_after_typing(page, qtbot, "Maybe later", "Keep as draft")
    qtbot.waitUntil(lambda: ("Maybe later", "Draft") in [row[:2] for row in _rows(page)],
                    timeout=10_000)

    # Delete asks; Escape keeps the draft.
    _click_row(page, "Maybe later", qtbot)
    assert page.cancel_button.text() == "Delete draft…"
    answer_dialog(seen, key=Key.Key_Escape)
    press(Key.Key_Delete, widget=page.table)
    assert "Delete the draft “Maybe later”?" in seen.seen[-1]
    assert _drafts_stored(person_app) == 1

    answer_dialog(seen, button="Delete draft")
    click(page.cancel_button)
    qtbot.waitUntil(lambda: _rows(page) == [], timeout=10_000)
    assert page.message.text() == "Draft “Maybe later” deleted."
    assert _drafts_stored(person_app) == 0


def _answer_change_time(log: DialogLog, days: int) -> None:
    """Once the Change time dialog is up: Up on the day field `days` times, then click
    Change time (as a person would)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or dialog.objectName() != "change_time_dialog":
            QTimer.singleShot(20, act)
            return
        log.seen.append(dialog.windowTitle())
        focus = dialog.focusWidget() or dialog
        for _ in range(days):
            QTest.keyClick(focus, Key.Key_Up)
        ok = next(b for b in dialog.findChildren(QAbstractButton) if b.text() == "Change time")
        QTest.mouseClick(ok, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, act)


def test_scheduled_time_shown_changed_and_cancelled(person_app: AppContext,
                                                    qtbot: QtBot) -> None:
    at = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    engine = create_db_engine(person_app.url)
    try:
        campaign_id = create_campaign(engine, draft(name="Later offer", scheduled_at=at),
                                      actor=LOCAL_ADMIN)
    finally:
        engine.dispose()
    page = _campaigns_page(person_app, qtbot)
    press(Key.Key_F5, widget=page.table)
    qtbot.waitUntil(lambda: ("Later offer", "Scheduled", f"runs {format_datetime(at)}")
                    in _rows(page), timeout=10_000)
    header = [page.model.headerData(col, Qt.Orientation.Horizontal)
              for col in range(page.model.columnCount())]
    assert "When" in header
    assert "Cancelled" in header

    # F2 changes the time (a day later here); the list shows the new time.
    _click_row(page, "Later offer", qtbot)
    assert page.change_time_button.isEnabled()
    seen = DialogLog()
    _answer_change_time(seen, days=1)
    press(Key.Key_F2, widget=page.table)
    assert seen.seen == ["Change time"]
    later = at + timedelta(days=1)
    qtbot.waitUntil(lambda: f"runs {format_datetime(later)}" in
                    [row[2] for row in _rows(page)], timeout=10_000)
    with person_app.engine.connect() as conn:
        stored = conn.execute(select(c.scheduled_at).where(c.id == campaign_id)).scalar_one()
    assert stored.replace(tzinfo=UTC) == later

    # From the context menu (Shift+F10): Cancel schedule asks; Escape keeps it.
    _click_row(page, "Later offer", qtbot)
    answer_popup(seen, choose="Cancel schedule…")
    answer_dialog(seen, key=Key.Key_Escape)
    press(Key.Key_F10, Mod.ShiftModifier, page.table)
    assert any("cannot be undone" in text for text in seen.seen), seen.seen
    press(Key.Key_F5, widget=page.table)
    qtbot.waitUntil(lambda: not page.model.loading, timeout=10_000)
    assert ("Later offer", "Scheduled") in [row[:2] for row in _rows(page)]

    # Delete, confirmed: cancelled before it started, and nothing was sent.
    _click_row(page, "Later offer", qtbot)
    answer_dialog(seen, button="Cancel schedule")
    press(Key.Key_Delete, widget=page.table)
    qtbot.waitUntil(lambda: ("Later offer", "Cancelled") in [row[:2] for row in _rows(page)],
                    timeout=10_000)
    assert "will not be sent" in page.message.text()
    assert not page.change_time_button.isEnabled()

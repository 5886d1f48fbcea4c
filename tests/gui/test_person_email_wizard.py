"""The campaign wizard's email essentials and A/B with a winner, as a person uses them
(issue 17): Settings' sender defaults, a subject previewed with a customer's values, the
refusal of an email without {unsubscribe_url}, a test send with its outcome per address
(not counted in the campaign's figures), and a test-then-winner campaign whose page shows
the wait, the test share's results, the winner and why.

Only keys and clicks act; asserts read what is shown (and the database, to check it).
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import QApplication, QWidget, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.models.tables import customers_table
from minicrm_desktop.services.campaigns.abtest import results_of_test_share
from minicrm_desktop.services.campaigns.email import UNSUBSCRIBE_BASE
from minicrm_desktop.views.campaigns.wizard import CampaignWizard

from .person import DialogLog, Key, Mod, answer_dialog, click, press, type_text
from .test_person_campaign import _figure, _open_from_list

c = campaigns_table.c
d = deliveries_table.c


def _replace_text(widget: QWidget, text: str) -> None:
    """Click into a field, select all, and type over it (Delete when `text` is empty)."""
    click(widget)
    press(Key.Key_A, Mod.ControlModifier, widget)
    if text:
        type_text(text, widget)
    else:
        press(Key.Key_Delete, widget=widget)


def _next(wizard: CampaignWizard) -> None:
    click(wizard.button(QWizard.WizardButton.NextButton))


def _open_wizard(ctx: AppContext, qtbot: QtBot, name: str) -> CampaignWizard:
    """Ctrl+3, "New campaign…", the name typed, Next; the saved segment's count shown."""
    window = ctx.window
    press(Key.Key_3, Mod.ControlModifier, window)
    click(window.campaigns_page.new_button)
    wizard = window.campaigns_page.wizard
    assert wizard is not None
    qtbot.waitExposed(wizard)
    type_text(name, wizard.basics.name_edit)
    _next(wizard)
    audience = wizard.audience_page
    qtbot.waitUntil(lambda: audience.live.count is not None, timeout=15_000)
    _next(wizard)
    return wizard


def _first_names(ctx: AppContext, emails: list[str]) -> dict[str, str]:
    cust = customers_table.c
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(cust.email, cust.name)
                            .where(func.lower(cust.email).in_(emails))).all()
    return {str(email).lower(): str(name).split()[0] for email, name in rows}


def test_email_essentials_preview_refusal_and_test_send(person_app: AppContext,
                                                        qtbot: QtBot) -> None:
    window = person_app.window
    # Settings → Email: the defaults every new email campaign starts with.
    press(Key.Key_4, Mod.ControlModifier, window)
    group = window.email_settings
    _replace_text(group.sender_address, "not an address")
    click(group.save_button)
    assert "'not an address' is not an email address" in group.status.text()
    _replace_text(group.sender_name, "Chai House")
    _replace_text(group.sender_address, "hello@chai.example")
    click(group.save_button)
    qtbot.waitUntil(lambda: group.status.text().startswith("Saved"), timeout=10_000)

    wizard = _open_wizard(person_app, qtbot, "Diwali offer")
    message = wizard.message_page
    click(message.editors[0].edit)
    press(Key.Key_End)
    type_text("your Diwali offer is here.")
    qtbot.waitUntil(lambda: "your Diwali offer is here." in message.preview.toPlainText(),
                    timeout=15_000)
    _next(wizard)

    # The email page starts from Settings; this campaign's own sender overrides it.
    email = wizard.email_page
    assert wizard.currentPage() is email
    assert email.sender_name.text() == "Chai House"
    assert email.sender_address.text() == "hello@chai.example"
    _replace_text(email.sender_name, "Chai & Co")
    type_text("{first_name|Friend}, 15% off in {city|your city}", email.subject)
    preview = email.preview

    def shown_per_customer() -> dict[str, str]:
        text = preview.toPlainText()
        return dict(re.findall(r"to (\S+@\S+)\n(.+)", text))

    qtbot.waitUntil(lambda: len(shown_per_customer()) >= 1
                    and "Chai & Co <hello@chai.example>" in preview.toPlainText(),
                    timeout=10_000)
    subjects = shown_per_customer()
    names = _first_names(person_app, list(subjects))
    assert subjects == {mail: f"{names[mail]}, 15% off in Pune" for mail in subjects}
    text = preview.toPlainText()
    assert f"Hi {next(iter(names.values()))}, your Diwali offer is here." in text
    assert "Unsubscribe: " + UNSUBSCRIBE_BASE in text  # the footer, with the link filled
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert next_button.isEnabled()

    # Without {unsubscribe_url} anywhere, the email is refused, saying why.
    _replace_text(email.footer, "")
    assert email.problem.text() == (
        "Variant A has no {unsubscribe_url}: every email must carry an unsubscribe link "
        "(in the message or the footer).")
    assert not next_button.isEnabled()
    type_text("Opt out: {unsubscribe_url}", email.footer)
    assert email.problem.text() == ""
    assert next_button.isEnabled()

    # A test send to two addresses: the outcome of each is listed in the wizard.
    assert not email.me_radio.isEnabled()  # the local user has no address of their own
    type_text("user1@example.com, boss@chai.example", email.test_addresses)
    click(email.test_button)
    qtbot.waitUntil(lambda: email.test_results.isVisible(), timeout=15_000)
    lines = [email.test_results.item(i).text() for i in range(email.test_results.count())]
    assert [line.split(" · ")[0] for line in lines] == ["user1@example.com",
                                                        "boss@chai.example"]
    assert all(re.fullmatch(r".+ · variant A · (sent|failed: .+)", line) for line in lines)
    delivered = sum(line.endswith(" · sent") for line in lines)
    assert email.test_status.text() == f"Test sent: {delivered} of 2 messages delivered."

    # Launch: the test counts in none of the campaign's figures.
    _next(wizard)
    review = wizard.review_page
    assert review.split.text() == "One message to everyone."
    assert review.email.text() == ("From Chai & Co <hello@chai.example>; subject "
                                   "“{first_name|Friend}, 15% off in {city|your city}”")
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(finish.isEnabled, timeout=15_000)
    with qtbot.waitSignal(person_app.bus.campaign_finished, timeout=60_000):
        click(finish)
    detail = _open_from_list(person_app, qtbot, "Diwali offer")
    qtbot.waitUntil(lambda: "Completed" in detail.header.subtitle.text(), timeout=15_000)
    with person_app.engine.connect() as conn:
        campaign_id, subject, sender, address = conn.execute(
            select(c.id, c.subject, c.sender_name, c.sender_address)).one()
        rows = conn.execute(select(func.count()).where(d.campaign_id == campaign_id)).scalar()
        tested = conn.execute(select(func.count()).where(
            d.address == "boss@chai.example")).scalar()
    assert (subject, sender, address) == (
        "{first_name|Friend}, 15% off in {city|your city}", "Chai & Co", "hello@chai.example")
    audience = _figure(detail, "audience")
    assert audience == rows
    assert _figure(detail, "sent") + _figure(detail, "failed") + _figure(detail, "skipped") \
        == audience
    assert tested == 0


def test_ab_test_then_winner_through_the_window(person_app: AppContext, qtbot: QtBot) -> None:
    wizard = _open_wizard(person_app, qtbot, "Diwali A/B")
    message = wizard.message_page
    split = message.split
    assert not split.isVisible()  # one variant: nothing to test
    click(message.add_button)
    type_text("Hello {name}, Diwali is here.")  # the new variant B has the focus
    qtbot.waitUntil(lambda: "Variant B" in message.preview.toPlainText(), timeout=15_000)
    assert split.isVisible()
    click(split.winner_radio)
    _replace_text(split.share, "30")
    _replace_text(split.wait, "6")
    press(Key.Key_Tab)  # to the unit
    assert QApplication.focusWidget() is split.unit
    press(Key.Key_Home)  # the first unit: seconds
    assert split.unit.currentText() == "seconds"
    # The simulated vendor reports no opens: engagement cannot be chosen.
    assert split.metric_choice.toolTip().startswith("The vendor reports no opens")
    _next(wizard)
    _next(wizard)  # the email page's defaults will do
    review = wizard.review_page
    assert review.split.text() == (
        "A/B tested on 30% of the audience; 6 seconds after launch, the variant with the "
        "best delivery rate goes to the other 70%.")
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(finish.isEnabled, timeout=15_000)
    click(finish)

    # The campaign's page: while waiting, when the winner will be chosen.
    detail = _open_from_list(person_app, qtbot, "Diwali A/B")
    panel = detail.ab_panel
    assert panel.isVisible()
    assert "30% of the audience tested the variants; the winner by delivery rate, chosen 6 " \
        "seconds after launch, goes to the other 70%." in panel.plan.text()
    waiting = panel.outcome.text()
    assert re.match(r"(Waiting for the test results: the winner will be chosen at "
                    r"\d\d:\d\d:\d\d|The wait ended at)", waiting), waiting

    # Then the winner and why, and the rest sent.
    qtbot.waitUntil(lambda: panel.outcome.text().startswith("Winner:"), timeout=60_000)
    qtbot.waitUntil(lambda: "Completed" in detail.header.subtitle.text(), timeout=60_000)
    with person_app.engine.connect() as conn:
        campaign_id, winner, reason = conn.execute(select(c.id, c.ab_winner, c.ab_reason)).one()
    assert panel.outcome.text() == f"Winner: {winner}. Why: {reason}."
    tested = results_of_test_share(person_app.engine, campaign_id)
    table = panel.table
    shown = [[str(table.model().index(r, col).data()) for col in range(table.columnCount())]
             for r in range(table.rowCount())]
    assert [row[0] for row in shown] == [
        f"{r.label}{'  (winner)' if r.label == winner else ''}" for r in tested]
    assert [row[1:4] for row in shown] == [
        [f"{r.attempted:,}", f"{r.sent:,}", f"{r.failed:,}"] for r in tested]
    # The reason's figures are the test share's, as shown.
    for r in tested:
        rate = r.rate("delivered")
        assert rate is not None
        assert f"{rate:.1%}" in reason
    # The rest got the winner: every variant but the winner was sent to the test share only.
    audience, sent = _figure(detail, "audience"), _figure(detail, "sent")
    assert sent + _figure(detail, "failed") + _figure(detail, "skipped") == audience
    assert sum(r.attempted for r in tested) < (sent + _figure(detail, "failed")) * 0.5
    # The summary names the same winner, with its test-share rate as the panel shows it.
    won = next(r for r in tested if r.label == winner)
    rate = won.rate("delivered")
    assert rate is not None
    summary = detail.summary_panel.text
    qtbot.waitUntil(lambda: "won the A/B test" in summary.text(), timeout=15_000)
    assert f"Variant {winner} won the A/B test, with {rate:.1%} delivered in the test." \
        in summary.text()
    assert "did best" not in summary.text()


def test_an_email_draft_reopens_with_its_subject_and_ab_choice(
        person_app: AppContext, real_dialogs: None, qtbot: QtBot) -> None:
    """The email page's and the A/B choice's fields come back with a kept draft."""
    wizard = _open_wizard(person_app, qtbot, "Diwali email draft")
    message = wizard.message_page
    click(message.add_button)
    type_text("Hello {name}, Diwali is here. {unsubscribe_url}")
    qtbot.waitUntil(lambda: message.split.isVisible(), timeout=15_000)
    click(message.split.winner_radio)
    _replace_text(message.split.share, "30")
    _next(wizard)
    email = wizard.email_page
    assert wizard.currentPage() is email
    type_text("{first_name|Friend}, Diwali is here", email.subject)

    seen = DialogLog()
    answer_dialog(seen, button="Keep as draft")
    press(Key.Key_Escape, widget=email.subject)
    assert seen.seen
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=10_000)
    page = person_app.window.campaigns_page
    qtbot.waitUntil(lambda: any(
        page.model.index(r, 0).data() == "Diwali email draft"
        for r in range(page.model.rowCount())), timeout=10_000)
    row = next(r for r in range(page.model.rowCount())
               if page.model.index(r, 0).data() == "Diwali email draft")
    person_app.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is person_app.window, timeout=3000)
    click(page.table.viewport(), page.table.visualRect(page.model.index(row, 0)).center())
    press(Key.Key_Return, widget=page.table)
    qtbot.waitUntil(lambda: page.wizard not in (None, wizard) and page.wizard.isVisible(),
                    timeout=10_000)
    again = page.wizard
    assert again is not None
    assert again.currentPage() is again.email_page
    assert again.email_page.subject.text() == "{first_name|Friend}, Diwali is here"
    assert again.message_page.split.winner_radio.isChecked()
    assert again.message_page.split.share.value() == 30

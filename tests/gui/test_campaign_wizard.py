"""The New campaign wizard, driven through its widgets, launching a campaign that completes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select

from minicrm_desktop.models.campaign import campaigns_table
from minicrm_desktop.models.rule_tree import ConditionNode
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.services.segments.saved import create_segment
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.page import CampaignsPage
from minicrm_desktop.views.campaigns.wizard import CampaignWizard
from tests.campaigns.conftest import POPULATION
from tests.gui.conftest import offline_ai
from tests.helpers import write_csv

PUNE = {"combinator": "and", "rules": [{"field": "city", "operator": "in", "value": ["Pune"]}]}


@pytest.fixture
def population(engine: Engine, tmp_path: Path) -> Engine:
    import_customers(engine, write_csv(tmp_path / "people.csv", POPULATION), actor=LOCAL_ADMIN)
    create_segment(engine, "Pune", PUNE, actor=LOCAL_ADMIN)
    return engine


@pytest.fixture
def page(population: Engine, runner: TaskRunner, bus: EventBus, qtbot: QtBot,
         make_control: Callable[[Engine], CampaignControl]) -> Iterator[CampaignsPage]:
    campaigns = CampaignsPage(population, runner, bus, make_control(population), actor=LOCAL_ADMIN,
                              ai=offline_ai())
    campaigns.resize(1100, 700)
    campaigns.show()
    with qtbot.waitSignal(campaigns.model.loaded, timeout=10_000):
        campaigns.model.refresh()
    yield campaigns
    qtbot.waitUntil(lambda: not campaigns.busy, timeout=10_000)
    campaigns.shutdown()
    campaigns.close()
    campaigns.deleteLater()


def open_wizard(page: CampaignsPage, qtbot: QtBot) -> CampaignWizard:
    page.new_button.click()
    wizard = page.wizard
    assert wizard is not None
    qtbot.waitExposed(wizard)
    return wizard


def fill_basics(wizard: CampaignWizard, qtbot: QtBot, name: str = "Pune spring") -> None:
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # name* required
    qtbot.keyClicks(wizard.basics.name_edit, name)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()


def test_wizard_launches_a_campaign_that_completes(page: CampaignsPage, bus: EventBus,
                                                   qtbot: QtBot) -> None:
    wizard = open_wizard(page, qtbot)
    fill_basics(wizard, qtbot)

    # Audience: the saved segment, with its live count.
    assert wizard.currentId() == 1
    audience = wizard.audience_page
    qtbot.waitUntil(lambda: audience.segment_list.count() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: audience.live.count is not None, timeout=10_000)
    pune = audience.live.count
    assert pune is not None
    assert pune > 0
    wizard.next()

    # Message: an unknown token is an error at once; the preview renders real customers.
    message = wizard.message_page
    assert wizard.currentId() == 3
    editor = message.editors[0]
    editor.edit.clear()
    qtbot.keyClicks(editor.edit, "Hi {frist_name}")
    assert "{frist_name}" in editor.error.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    editor.edit.setPlainText("Hi {first_name|there} from {city}")
    assert editor.error.text() == ""
    message.add_button.click()
    qtbot.keyClicks(message.editors[1].edit, "Hello {name}")
    qtbot.waitUntil(lambda: "Hi Name" in message.preview.toPlainText(), timeout=10_000)
    assert "from Pune" in message.preview.toPlainText()
    assert "Variant B" in message.preview.toPlainText()
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()

    # Email: the footer from the defaults carries the unsubscribe link.
    assert wizard.currentId() == 5
    assert "{unsubscribe_url}" in wizard.email_page.footer.toPlainText()
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()

    # Review: the audience, who is skipped and why, and how long it takes.
    review = wizard.review_page
    with qtbot.waitSignal(review.review_ready, timeout=10_000) as ready:
        pass
    facts = ready.args[0]
    assert facts.audience == pune
    assert facts.skipped["unsubscribed"] > 0
    assert review.audience.text() == f"{pune:,} customers"
    assert "unsubscribed" in review.skipped.text()
    assert review.duration.text()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.text() == "Launch"
    assert finish.isEnabled()

    with qtbot.waitSignal(bus.campaign_finished, timeout=30_000) as finished:
        finish.click()
        assert page.message.text() == "“Pune spring” launching…"
    assert finished.args[1] == "completed"
    assert "launching" not in page.message.text()  # the status line does not outlive it
    qtbot.waitUntil(lambda: page.model.rowCount() == 1
                    and page.model.index(0, 1).data() == "Completed", timeout=10_000)
    row = page.model.campaign(0)
    assert row is not None
    assert row.name == "Pune spring"
    assert row.audience == pune
    assert row.sent + row.failed + row.skipped == pune


def test_inline_rule_and_scheduling(page: CampaignsPage, population: Engine,
                                    qtbot: QtBot) -> None:
    wizard = open_wizard(page, qtbot)
    fill_basics(wizard, qtbot, "Later")
    wizard.basics.channel.setCurrentIndex(1)  # SMS
    wizard.audience_page.rule_radio.click()
    wizard.next()
    assert wizard.currentId() == 2
    rule_page = wizard.rule_page
    rule_page.add_condition_button.click()  # "City is any of []": not complete yet
    assert rule_page.message.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    node = rule_page.tree.current_node()
    assert isinstance(node, ConditionNode)
    rule_page.model.edit_condition(node, "city", "in", ["Pune"])
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.waitUntil(lambda: rule_page.live.count is not None, timeout=10_000)
    wizard.next()
    qtbot.waitUntil(lambda: "Hi Name" in wizard.message_page.preview.toPlainText(),
                    timeout=10_000)
    wizard.next()
    review = wizard.review_page
    qtbot.waitUntil(lambda: review.review is not None, timeout=10_000)
    assert review.review is not None
    assert "no phone number" in review.review.skipped
    sendable = review.review.sendable
    assert sendable > 10
    review.rate.setValue(sendable // 10)  # the estimate follows the rate limit at once
    assert review.duration.text() in ("about 10 seconds", "about 11 seconds")
    with qtbot.waitSignal(review.review_ready, timeout=10_000):
        review.recent.setValue(24)
        review.recent.editingFinished.emit()
    review.later_radio.click()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.text() == "Schedule"
    review.when.setDateTime(QDateTime.currentDateTime().addSecs(-600))
    assert review.schedule_error.text()
    assert not finish.isEnabled()
    review.when.setDateTime(QDateTime.currentDateTime().addDays(2))
    assert finish.isEnabled()
    with qtbot.waitSignal(page.model.loaded, timeout=10_000):
        finish.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    with population.connect() as conn:
        stored = conn.execute(select(
            campaigns_table.c.status, campaigns_table.c.channel,
            campaigns_table.c.rate_per_second, campaigns_table.c.recent_hours)).one()
    assert tuple(stored) == ("scheduled", "sms", sendable // 10, 24)
    assert page.model.index(0, 1).data() == "Scheduled"
    assert page.model.index(0, 0).data(Qt.ItemDataRole.DisplayRole) == "Later"
    # The list says when it will run (local time, as the person picked it).
    when = review.when.dateTime().toString("dd MMM yyyy, HH:mm")
    assert page.model.index(0, 2).data() == f"runs {when}"

"""Variants that keep to the facts, in the wizard (issue 17): for the objective "Diwali 15%
offer", a model's "up to 40% off" is not offered, and the dialog says it was left out and
why; the offline templates offer no figure the objective lacks. Clicks and keys only."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtWidgets import QLabel, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.ai import AISettings
from minicrm_desktop.services.ai.figures import unsupported_figures
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.variant_suggestions import SuggestVariantsDialog
from minicrm_desktop.views.campaigns.wizard import CampaignWizard
from tests.gui.conftest import (  # noqa: F401
    bus,
    draft_questions,
    make_control,
    quit_questions,
    runner,
)
from tests.gui.person import click
from tests.gui.test_campaign_wizard import population  # noqa: F401

from .fake_openai import FakeOpenAI, Reply
from .test_gui import OFFLINE, model_settings

DIWALI = "Diwali 15% offer"
TRUE_ONE = "Hi {first_name|there}, our Diwali 15% offer is here!"
INVENTED = "Hi {first_name|there}, celebrate with up to 40% off!"
TRUE_TWO = "Dear {first_name|Customer}, enjoy 15% off this Diwali."


@pytest.fixture
def open_wizard(population: Engine, runner: TaskRunner, qtbot: QtBot,  # noqa: F811
                make_control: Callable[[Engine], CampaignControl]  # noqa: F811
                ) -> Iterator[Callable[[AISettings], CampaignWizard]]:
    made: list[CampaignWizard] = []

    def open_with(ai: AISettings) -> CampaignWizard:
        wizard = CampaignWizard(population, runner, make_control(population),
                                actor=LOCAL_ADMIN, ai=ai)
        wizard.show()
        qtbot.waitExposed(wizard)
        made.append(wizard)
        return wizard

    yield open_with
    for wizard in made:
        def idle(w: CampaignWizard = wizard) -> bool:
            return not w.busy

        qtbot.waitUntil(idle, timeout=10_000)
        wizard.close()
        wizard.deleteLater()


def _suggestions(wizard: CampaignWizard, qtbot: QtBot) -> SuggestVariantsDialog:
    """Name and objective typed, on to the message step, Suggest clicked, answered."""
    click(wizard.basics.name_edit)
    qtbot.keyClicks(wizard.basics.name_edit, "Diwali")
    click(wizard.basics.objective)
    qtbot.keyClicks(wizard.basics.objective, DIWALI)
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    click(next_button)
    qtbot.waitUntil(lambda: wizard.audience_page.segment_list.count() == 1, timeout=10_000)
    click(next_button)
    message = wizard.message_page
    qtbot.waitUntil(message.suggest_button.isVisible, timeout=5_000)
    click(message.suggest_button)
    dialog = message.suggestions
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.answer is not None and not dialog.busy, timeout=20_000)
    # Cards added to a shown dialog appear on its next event-loop turn, as a person sees.
    qtbot.waitUntil(lambda: all(b.isVisible() for b in dialog.use_buttons), timeout=5_000)
    return dialog


def _offered(dialog: SuggestVariantsDialog) -> list[str]:
    """The suggestion texts shown on the cards, top to bottom."""
    cards = [b.parentWidget() for b in dialog.use_buttons]
    return [next(label.text() for label in card.findChildren(QLabel) if label.wordWrap())
            for card in cards if card is not None]


def test_a_model_suggestion_with_another_figure_is_not_offered(
        open_wizard: Callable[[AISettings], CampaignWizard], fake_openai: FakeOpenAI,
        qtbot: QtBot) -> None:
    fake_openai.script(Reply.answer({"variants": [
        {"text": t} for t in (TRUE_ONE, INVENTED, TRUE_TWO)]}))
    wizard = open_wizard(model_settings(fake_openai))
    dialog = _suggestions(wizard, qtbot)
    assert _offered(dialog) == [TRUE_ONE, TRUE_TWO]
    assert dialog.engine_label.text().startswith("By OpenAI")
    shown = dialog.message.text()
    assert "1 suggestion left out" in shown
    assert "stated 40," in shown  # the figure the objective does not give
    # What is offered goes in with a click, and it keeps to the objective's figures.
    click(dialog.use_buttons[1])
    assert wizard.message_page.editors[0].text == TRUE_TWO


def test_offline_suggestions_state_no_figure_the_objective_lacks(
        open_wizard: Callable[[AISettings], CampaignWizard], qtbot: QtBot) -> None:
    dialog = _suggestions(open_wizard(OFFLINE), qtbot)
    offered = _offered(dialog)
    assert offered
    assert all(unsupported_figures(text, DIWALI) == () for text in offered), offered
    assert not any("40%" in text for text in offered)

"""A wizard left unfinished: the "Keep as draft / Discard / Continue editing" question, and
a saved draft put back into the pages at the step it was left on.

The draft itself is stored by the Qt-free `services.campaigns.drafts`; here the pages are
read (through `CampaignWizard.state()`) and filled.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QMessageBox, QWidget

from minicrm_desktop.models.rule_tree import tree_from_rule
from minicrm_desktop.services.campaigns.wizard import AudienceSource, PageId, WizardState

if TYPE_CHECKING:
    from minicrm_desktop.views.campaigns.wizard.dialog import CampaignWizard

#: Not something the user typed: the clock, the vendor, and the saved segment the audience
#: page picks by itself once the list arrives (a fresh wizard selects the first one).
_NOT_ENTERED = ("as_of", "vendor", "segment_id", "segment_rule")


def entered(state: WizardState) -> str:
    """What the user entered, comparable between two moments (one JSON text)."""
    data = json.loads(state.to_json())
    for key in _NOT_ENTERED:
        data.pop(key, None)
    return json.dumps(data, sort_keys=True)


class Leave(Enum):
    KEEP = "keep"
    DISCARD = "discard"
    CONTINUE = "continue"


class KeepDraftDialog:
    """Asked when a wizard with something entered is cancelled, escaped or closed."""

    @classmethod
    def ask(cls, parent: QWidget, name: str, *, reopened: bool) -> Leave:
        text = (f"Keep “{name}” as a draft?" if name else "Keep this campaign as a draft?")
        detail = ("The draft keeps what you changed; Discard leaves it as it was saved."
                  if reopened else
                  "A draft is listed on the Campaigns page and reopens at this step.")
        box = QMessageBox(QMessageBox.Icon.Question, "Leave the campaign", text,
                          QMessageBox.StandardButton.NoButton, parent)
        box.setInformativeText(detail)
        keep = box.addButton("Keep as draft", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard changes" if reopened else "Discard",
                                QMessageBox.ButtonRole.DestructiveRole)
        stay = box.addButton("Continue editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(stay)  # Escape loses nothing
        box.exec()
        clicked = box.clickedButton()
        if clicked is keep:
            return Leave.KEEP
        if clicked is discard:
            return Leave.DISCARD
        return Leave.CONTINUE


def restore(wizard: CampaignWizard, state: WizardState) -> None:
    """Fill the pages with a saved draft's choices."""
    basics = wizard.basics
    basics.name_edit.setText(state.name)
    basics.channel.setCurrentIndex(max(0, basics.channel.findData(state.channel.value)))
    basics.objective.setText(state.objective)
    audience = wizard.audience_page
    if state.source == AudienceSource.RULE:
        audience.rule_radio.setChecked(True)
    if state.inline_rule is not None:
        wizard.rule_page.model.load(tree_from_rule(state.inline_rule))
    if state.segment_id is not None:
        wanted = state.segment_id

        def pick(_segments: object) -> None:
            audience.segments_loaded.disconnect(pick)
            rows = [s.id for s in audience.segments]
            if wanted in rows:
                audience.segment_list.setCurrentRow(rows.index(wanted))
            if wizard.currentId() == PageId.REVIEW:  # it was counted without a segment
                wizard.review_page.initializePage()

        audience.segments_loaded.connect(pick)
    message = wizard.message_page
    texts = state.variants or [""]
    while message.count < min(len(texts), len(message.editors)):
        message.add_variant()
    for editor, text in zip(message.editors, texts, strict=False):
        editor.edit.setPlainText(text)
    review = wizard.review_page
    review.rate.setValue(state.rate_per_second or 0)
    review.recent.setValue(state.recent_hours or 0)
    if state.scheduled_at is not None:
        review.later_radio.setChecked(True)
        review.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(state.scheduled_at.timestamp())))
    message.split.restore(state.ab_test_share, state.ab_wait_seconds, state.ab_metric)
    for page in (basics, audience, wizard.rule_page, message, wizard.email_page, review):
        hook = getattr(page, "restore_state", None)  # pages with more fields fill their own
        if callable(hook):
            hook(state)


def go_to_step(wizard: CampaignWizard, step: PageId) -> None:
    """Walk Next from the first page to `step` (each page is set up on the way, as when the
    user clicks through); stops early where the saved choices lead elsewhere."""
    for _ in range(len(PageId)):
        current = wizard.currentId()
        if current == -1 or current >= step:
            return
        wizard.next()
        if wizard.currentId() == current:
            return

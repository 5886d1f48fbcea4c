"""The New campaign wizard. Its steps, checks, previews and review facts come from the
Qt-free `services.campaigns.wizard`; the pages show them and gather the user's choices.
Every database read runs as a task; launching goes through the app's CampaignControl.

One module per page: basics, audience, rule, message (with `split_choice`), email, review;
`step` is their base."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget, QWizard
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import Channel
from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.ai import AISettings
from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.drafts import SavedDraft, save_draft
from minicrm_desktop.services.campaigns.launch import CampaignError
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.campaigns.wizard import AudienceSource, PageId, WizardState
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.wizard.audience_page import AudiencePage
from minicrm_desktop.views.campaigns.wizard.basics_page import BasicsPage
from minicrm_desktop.views.campaigns.wizard.drafts import KeepDraftDialog, Leave, entered, restore
from minicrm_desktop.views.campaigns.wizard.email_page import EmailPage
from minicrm_desktop.views.campaigns.wizard.message_page import MessagePage
from minicrm_desktop.views.campaigns.wizard.review_page import ReviewPage
from minicrm_desktop.views.campaigns.wizard.rule_page import RulePage


class CampaignWizard(QWizard):
    #: The campaign was handed to the app to create (and launch); carries the draft.
    submitted = Signal(object)
    #: The wizard was kept as a draft (its id) and closed.
    draft_saved = Signal(int)

    def __init__(self, engine: Engine, runner: TaskRunner, control: CampaignControl, *,
                 actor: Actor, vendor: VendorConfig | None = None, as_of: datetime | None = None,
                 ai: AISettings, draft: SavedDraft | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine, self._runner = engine, runner
        self.setObjectName("campaign_wizard")
        self.setWindowTitle("New campaign")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(900, 640)
        self.control = control
        self.actor = actor
        self.vendor = vendor or VendorConfig()
        #: The clock relative dates are counted from (None: now; tests pin it).
        self.as_of = as_of
        self.basics = BasicsPage()
        self.audience_page = AudiencePage(engine, runner)
        self.rule_page = RulePage(engine, runner, ai)
        self.message_page = MessagePage(engine, runner, ai)
        self.email_page = EmailPage(control.email_defaults(), actor.account_email)
        self.review_page = ReviewPage(engine, runner)
        for page in (self.basics, self.audience_page, self.rule_page, self.message_page,
                     self.email_page, self.review_page):
            self.setPage(page.page_id, page)
        self.setStartId(PageId.BASICS)
        self.rule_page.segment_saved.connect(self.audience_page.add_segment)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Launch")
        #: The saved draft this wizard continues (finishing replaces it).
        self.draft_id = None if draft is None else draft.id
        if draft is not None:
            self.setWindowTitle(f"Campaign draft: {draft.state.name or 'untitled'}")
            restore(self, draft.state)
        self._entered_at_start = entered(self.state())
        self._saving = False

    def state(self) -> WizardState:
        """The choices made so far, as the Qt-free step logic reads them."""
        audience = self.audience_page
        source = AudienceSource.SEGMENT if audience.segment_radio.isChecked() \
            else AudienceSource.RULE
        segment = audience.selected_segment()
        email, split = self.email_page, self.message_page.split
        return WizardState(
            name=str(self.field("name") or ""),
            channel=Channel(self.basics.channel.currentData()),
            objective=str(self.field("objective") or ""),
            source=source,
            segment_id=segment.id if segment else None,
            segment_rule=segment.rule if segment else None,
            inline_rule=self.rule_page.model.rule,
            variants=self.message_page.variants(),
            scheduled_at=self.review_page.scheduled_at(),
            rate_per_second=self.review_page.rate_per_second(),
            recent_hours=self.review_page.recent_hours(),
            vendor=self.vendor,
            as_of=self.as_of,
            subject=email.subject.text(),
            sender_name=email.sender_name.text(),
            sender_address=email.sender_address.text(),
            footer=email.footer.toPlainText(),
            ab_test_share=split.test_share(),
            ab_wait_seconds=split.wait_seconds(),
            ab_metric=split.chosen_metric(),
        )

    @property
    def busy(self) -> bool:
        pages = (self.audience_page, self.message_page, self.email_page, self.review_page)
        suggestions = self.message_page.suggestions
        return self._saving or any(page.handle is not None for page in pages) \
            or self.audience_page.live.pending \
            or self.rule_page.live.pending or (suggestions is not None and suggestions.busy)

    def accept(self) -> None:
        try:
            draft = steps.build_draft(self.state())
        except CampaignError as exc:
            self.review_page.schedule_error.setText(str(exc))
            return
        self.control.submit(draft, actor=self.actor, replacing_draft=self.draft_id)
        self.submitted.emit(draft)
        super().accept()

    def reject(self) -> None:
        """Cancel, Escape or closing the window: with something entered, offer to keep it
        as a draft (Escape on that question goes back to editing)."""
        if self._saving:
            return
        state = self.state()
        if entered(state) == self._entered_at_start:
            super().reject()
            return
        answer = KeepDraftDialog.ask(self, state.name.strip(),
                                     reopened=self.draft_id is not None)
        if answer is Leave.DISCARD:
            super().reject()
        elif answer is Leave.KEEP:
            self.keep_as_draft(state)

    def keep_as_draft(self, state: WizardState) -> None:
        """Store the wizard as it is, then close; a failure is said and nothing is lost."""
        engine, actor, draft_id = self._engine, self.actor, self.draft_id
        step = PageId(max(self.currentId(), 0))
        self._saving = True
        self.setEnabled(False)

        def saved(new_id: int) -> None:
            self._saving = False
            self.setEnabled(True)
            self.draft_id = new_id
            self.control.bus.campaigns_changed.emit()
            self.draft_saved.emit(new_id)
            super(CampaignWizard, self).reject()

        def failed(exc: BaseException) -> None:
            self._saving = False
            self.setEnabled(True)
            QMessageBox.warning(self, "Draft not kept",
                                f"Could not keep the draft: {exc}\nThe wizard stays open.")

        self._runner.run(lambda _ctx: save_draft(engine, state, step, actor=actor,
                                                 draft_id=draft_id),
                         title="Keeping the campaign as a draft", on_success=saved,
                         on_error=failed)

    def done(self, result: int) -> None:
        self.stop()
        super().done(result)

    def stop(self) -> None:
        """No more counting or sampling: the wizard is closing."""
        self.audience_page.live.stop()
        self.rule_page.shutdown()
        for page in (self.audience_page, self.message_page, self.email_page, self.review_page):
            if page.handle is not None:
                page.handle.cancel()

"""The Campaigns page: the history newest first with live progress, control buttons, and a
campaign's own page (opened with a double click or Open). A draft kept from the wizard is
listed too and reopens in the wizard; a scheduled campaign's time can be changed or its
schedule cancelled before it starts (buttons, the context menu, F2 and Delete)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.ai import AISettings
from minicrm_desktop.services.campaigns.drafts import (
    SavedDraft,
    cancel_before_start,
    discard_draft,
    load_draft,
    reschedule_campaign,
)
from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.history import CampaignRow
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.detail import CANCELLABLE, CampaignDetail, confirm_cancel
from minicrm_desktop.views.campaigns.history_model import PROGRESS_COLUMN, CampaignHistoryModel
from minicrm_desktop.views.campaigns.list_actions import (
    ChangeTimeDialog,
    confirm_cancel_schedule,
    confirm_delete_draft,
    row_menu,
)
from minicrm_desktop.views.campaigns.progress_delegate import ProgressDelegate
from minicrm_desktop.views.campaigns.progress_poll import RunningPoll
from minicrm_desktop.views.campaigns.wizard import CampaignWizard
from minicrm_desktop.views.campaigns.wizard.drafts import go_to_step
from minicrm_desktop.views.common.formatting import format_datetime
from minicrm_desktop.views.common.widgets import CurrentPageStack, PageHeader


class CampaignsPage(QWidget):
    #: A campaign's own page was opened (its id).
    detail_opened = Signal(int)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus,
                 control: CampaignControl, *, actor: Actor, ai: AISettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actor = actor
        self.ai = ai
        self.may_create = can(actor, Permission.CREATE_CAMPAIGNS)
        self.may_control = can(actor, Permission.CONTROL_CAMPAIGNS)
        self.engine = engine
        self.runner = runner
        self.bus = bus
        self.control = control
        self.model = CampaignHistoryModel(engine, runner, self)
        self.detail: CampaignDetail | None = None
        self.wizard: CampaignWizard | None = None

        self.stack = CurrentPageStack()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        self.list_page = QWidget()
        layout = QVBoxLayout(self.list_page)
        layout.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        top.addWidget(PageHeader("Campaigns", "Messages to the customers of a segment, "
                                 "newest first."), 1)
        self.new_button = QPushButton("New campaign…")
        self.new_button.setDefault(True)
        self.new_button.clicked.connect(lambda: self.new_campaign())
        self.new_button.setEnabled(self.may_create)
        if not self.may_create:
            self.new_button.setToolTip("Your role can view campaigns but not start them.")
        top.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)

        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.change_time_button = QPushButton("Change time…")
        self.change_time_button.setToolTip("Run the scheduled campaign at another time (F2)")
        # Its text follows the selection: cancel a campaign or its schedule, delete a draft.
        self.cancel_button = QPushButton("Cancel campaign…")
        self.cancel_button.setToolTip("Asks first (Delete)")
        for button in (self.open_button, self.pause_button, self.resume_button,
                       self.change_time_button):
            buttons.addWidget(button)
        buttons.addSpacing(24)  # irreversible: set apart from Resume, and it asks first
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        self.message = QLabel("")
        self.message.setEnabled(False)
        buttons.addWidget(self.message)
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_selected)
        self.pause_button.clicked.connect(self.pause_selected)
        self.resume_button.clicked.connect(self.resume_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.change_time_button.clicked.connect(self.change_time_selected)

        self.table = QTableView()
        self.table.setObjectName("campaigns_table")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fitted to their contents on each load and when a count gains a digit, not live: a
        # live fit reads every cell again on each progress report, one call into Python per
        # cell, each waiting for the GIL while delivery workers run (a GUI stall).
        self._digits = 0
        # Narrow enough that the name keeps its room in a 1024 px window (issue 16).
        header.resizeSection(PROGRESS_COLUMN, 100)
        # Enter or a double click on a row (both "activate" it) opens the campaign.
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self.show_row_menu)
        for keys, slot in (("F2", self.change_time_selected), ("Delete", self.cancel_selected),
                           ("Shift+F10", lambda: self.show_row_menu(None))):
            action = QAction(self.table)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            self.table.addAction(action)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        self.empty = QLabel("No campaigns yet. Start one with “New campaign…”.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)
        self.empty.hide()
        layout.addWidget(self.empty)
        self.stack.addWidget(self.list_page)

        self.model.loaded.connect(self._loaded)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(lambda *_: self._update_buttons())
        bus.database_ready.connect(self.model.refresh)
        bus.campaigns_changed.connect(self.model.refresh)
        bus.campaign_progress.connect(self._progress)
        control.failed.connect(self.show_message)
        control.notice.connect(self.show_message)
        control.launched.connect(self._launched)
        self._selected_id: int | None = None
        self.running_poll = RunningPoll(self, self.model, engine, runner, self._progress)
        self._update_buttons()

    # --- selection and buttons ------------------------------------------------------------

    def selected(self) -> CampaignRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.campaign(rows[0].row()) if rows else None

    def select_campaign(self, campaign_id: int) -> None:
        row = self.model.row_of(campaign_id)
        if row is not None:
            self.table.selectRow(row)

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        campaign = self.selected()
        self._selected_id = None if campaign is None else campaign.id
        self._update_buttons()

    def _fit_columns(self) -> None:
        for column in range(1, PROGRESS_COLUMN):
            self.table.resizeColumnToContents(column)

    def _loaded(self) -> None:
        self._digits = 0
        self._fit_columns()
        self.empty.setVisible(self.model.rowCount() == 0)
        if self._selected_id is not None and self.selected() is None:
            self.select_campaign(self._selected_id)  # a refresh reset the model
        self._update_buttons()

    def _update_buttons(self) -> None:
        campaign = self.selected()
        status = None if campaign is None else campaign.status
        running = campaign is not None and self.control.is_running(campaign.id)
        draft = campaign is not None and campaign.wizard_draft
        self.open_button.setEnabled(campaign is not None and (self.may_create or not draft))
        self.open_button.setText("Continue editing" if draft else "Open")
        self.change_time_button.setEnabled(self.may_create and status == "scheduled")
        self.cancel_button.setText("Delete draft…" if draft else "Cancel schedule…"
                                   if status == "scheduled" else "Cancel campaign…")
        may = self.may_control
        # A pause goes through the database: whichever installation sends obeys it.
        self.pause_button.setEnabled(may and status == "running")
        self.resume_button.setEnabled(may and (status == "paused" or (status == "running"
                                                                      and not running)))
        self.cancel_button.setEnabled(self.may_create if draft or status == "scheduled"
                                      else may and status in CANCELLABLE)

    def _progress(self, counts: CampaignCounts) -> None:
        self.model.apply_counts(counts)
        digits = len(str(max(counts.audience, counts.sent, counts.failed, counts.skipped)))
        if digits > self._digits:
            self._digits = digits
            self._fit_columns()

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def _launched(self, _campaign_id: int, _summary: object) -> None:
        """The launch is done: "… launching…" is no longer true (the list shows the status)."""
        if self.message.text().endswith("launching…"):
            self.message.setText("")

    # --- actions --------------------------------------------------------------------------

    def pause_selected(self) -> None:
        campaign = self.selected()
        if campaign is not None:
            self.control.pause(campaign.id, actor=self.actor)

    def resume_selected(self) -> None:
        campaign = self.selected()
        if campaign is not None:
            self.control.resume(campaign.id, actor=self.actor)

    def cancel_selected(self) -> None:
        campaign = self.selected()
        if campaign is None or not self.cancel_button.isEnabled():
            return
        if campaign.wizard_draft:
            if confirm_delete_draft(self, campaign.name):
                self._act(lambda: discard_draft(self.engine, campaign.id, actor=self.actor),
                          "Deleting the draft", f"Draft “{campaign.name}” deleted.")
            return
        if campaign.status == "scheduled":
            if confirm_cancel_schedule(self, campaign.name, campaign.scheduled_at):
                self._act(lambda: cancel_before_start(self.engine, campaign.id,
                                                      actor=self.actor),
                          "Cancelling the schedule", f"“{campaign.name}” will not be sent.")
            return
        unsent = None if campaign.status in ("draft", "scheduled") else max(
            0, campaign.audience - campaign.sent - campaign.failed - campaign.skipped)
        if confirm_cancel(self, campaign.name, unsent):
            self.control.cancel(campaign.id, actor=self.actor)

    def change_time_selected(self) -> None:
        campaign = self.selected()
        if campaign is None or not self.change_time_button.isEnabled():
            return
        at = ChangeTimeDialog.ask(self, campaign.name, campaign.scheduled_at)
        if at is not None:
            self._act(lambda: reschedule_campaign(self.engine, campaign.id, at,
                                                  actor=self.actor),
                      "Changing the time", f"“{campaign.name}” now runs {format_datetime(at)}.")

    def _act(self, work: Callable[[], object], title: str, done: str) -> None:
        """A change to a campaign that has not started, off the GUI thread; the list is
        read again either way (another window may have started or removed it)."""
        def succeeded(_result: object) -> None:
            self.show_message(done)
            self.bus.campaigns_changed.emit()

        def failed(exc: BaseException) -> None:
            self.show_message(str(exc))
            self.bus.campaigns_changed.emit()

        self.runner.run(lambda _ctx: work(), title=title, on_success=succeeded,
                        on_error=failed)

    def show_row_menu(self, pos: QPoint | None) -> None:
        """The row's commands, as the buttons offer them (right click, Menu or Shift+F10)."""
        row_menu(self.table, pos, (self.open_button, self.pause_button, self.resume_button,
                                   self.change_time_button, self.cancel_button))

    def open_selected(self) -> None:
        campaign = self.selected()
        if campaign is not None:
            self.open_row(self.table.selectionModel().selectedRows()[0].row())

    def open_row(self, row: int) -> None:
        """A campaign opens on its own page; a draft kept from the wizard, in the wizard."""
        campaign = self.model.campaign(row)
        if campaign is None:
            return
        if not campaign.wizard_draft:
            self.open_campaign(campaign.id)
        elif self.may_create:
            engine, draft_id = self.engine, campaign.id
            self.runner.run(lambda _ctx: load_draft(engine, draft_id),
                            title="Opening the draft",
                            on_success=self.continue_draft,
                            on_error=lambda exc: self.show_message(str(exc)))

    def open_campaign(self, campaign_id: int | None) -> None:
        if campaign_id is None:
            return
        if self.detail is None:
            self.detail = CampaignDetail(self.engine, self.runner, self.bus, ai=self.ai,
                                         local_owner=self.control.owner_id,
                                         control=self.control, actor=self.actor)
            self.detail.setObjectName("campaign_detail")
            self.detail.back_requested.connect(self.show_list)
            self.stack.addWidget(self.detail)
        self.stack.setCurrentWidget(self.detail)
        self.detail.show_campaign(campaign_id)
        self.detail_opened.emit(campaign_id)

    def show_list(self, *, focus: bool = True) -> None:
        if self.stack.currentWidget() is self.list_page:
            return
        self.stack.setCurrentWidget(self.list_page)
        self.model.refresh()
        if focus:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def continue_draft(self, draft: SavedDraft) -> None:
        """Reopen a kept draft in the wizard, at the step it was left on."""
        go_to_step(self.new_campaign(draft), draft.step)

    def new_campaign(self, draft: SavedDraft | None = None) -> CampaignWizard:
        """Open the New campaign wizard (window-modal; it launches through the control)."""
        old = self.wizard
        if old is not None and not old.busy:
            old.deleteLater()  # a busy one is still answered by a task; it dies with the page
        self.wizard = CampaignWizard(self.engine, self.runner, self.control, actor=self.actor,
                                     ai=self.ai, draft=draft, parent=self)
        self.wizard.draft_saved.connect(lambda _id: self.show_message("Kept as a draft."))
        self.wizard.submitted.connect(lambda draft: self.show_message(
            f"“{draft.name}” {'scheduled' if draft.scheduled_at else 'launching'}…"))
        self.wizard.open()
        return self.wizard

    @property
    def busy(self) -> bool:
        """Reading the list or a campaign's page."""
        return self.model.loading or (self.detail is not None and self.detail.busy) or \
            (self.wizard is not None and self.wizard.busy) or self.running_poll.handle is not None

    def shutdown(self) -> None:
        self.running_poll.stop()
        self.model.cancel()
        if self.detail is not None:
            self.detail.shutdown()
        if self.wizard is not None:
            self.wizard.stop()

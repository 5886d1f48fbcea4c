"""A campaign's own page: its figures, controls and summary, per-variant results, an A/B
test's winner (`ab_panel`), charts of outcomes (`charts`), and the per-recipient log
(`recipients`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.ai import AISettings, figures_from_details
from minicrm_desktop.services.campaigns.abtest import VariantResult, results_of_test_share
from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.history import campaign_details
from minicrm_desktop.services.campaigns.stats import OutcomeBucket, outcomes_over_time
from minicrm_desktop.services.campaigns.store import DeliveryState, delivery_state
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.campaigns.ab_panel import ABTestPanel
from minicrm_desktop.views.campaigns.charts import TIME_BUCKETS, OutcomeCharts
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.delivery_status import (  # the page imports these here
    CANCELLABLE,
    confirm_cancel,
    describe_delivery,
)
from minicrm_desktop.views.campaigns.recipients import RecipientsLog
from minicrm_desktop.views.campaigns.summary import CampaignSummaryPanel
from minicrm_desktop.views.common.formatting import format_datetime
from minicrm_desktop.views.common.widgets import PageHeader

VARIANT_COLUMNS = ("Variant", "Message", "Recipients", "Sent", "Failed", "Skipped", "Cancelled",
                   "Success")
FIGURES = ("audience", "sent", "failed", "skipped", "cancelled", "success")
#: While a campaign runs, how often its page reads progress from the database (another
#: installation may be the one sending it).
POLL_MS = 1500
# A poll reads every outcome of the campaign (the variant table, the reasons, the timeline):
# at 100,000 recipients that is a few hundred ms of a core, taken from the run it watches
# on a two-core machine. Polls that come by themselves (the timer, the engine's progress)
# therefore wait at least POLL_PACE times as long as the last one took, so reading the
# figures takes at most about a third of the time; a small campaign is read every
# POLL_MS as before.
POLL_PACE = 3


@dataclass(frozen=True)
class CampaignReport:
    """What the page shows, read in one task (plain data)."""

    details: dict[str, Any]
    timeline: list[OutcomeBucket]
    state: DeliveryState | None
    #: An A/B test's results on its test share (None: an even split).
    ab_results: list[VariantResult] | None = None


def load_report(engine: Engine, campaign_id: int,
                decided: list[VariantResult] | None = None) -> CampaignReport:
    """`decided`: the test share's results already read once the winner was chosen (they
    no longer change, and reading them walks the winner's rows)."""
    details = campaign_details(engine, campaign_id)
    ab = details.get("ab_test")
    results = None
    if ab:
        results = decided if decided is not None and ab.get("winner") else \
            results_of_test_share(engine, campaign_id)
    return CampaignReport(details, outcomes_over_time(engine, campaign_id, TIME_BUCKETS),
                          delivery_state(engine, campaign_id), results)


class CampaignDetail(QWidget):
    back_requested = Signal()
    #: The summary, variants and charts of a campaign were shown.
    report_loaded = Signal()
    #: The log was exported: (path, rows written).
    exported = Signal(str, int)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus,
                 parent: QWidget | None = None, *, ai: AISettings,
                 local_owner: str | None = None, control: CampaignControl | None = None,
                 actor: Actor | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.control = control
        self.actor = actor
        self.runner = runner
        self.local_owner = local_owner
        self.campaign_id: int | None = None
        self.report: CampaignReport | None = None
        self._handle: TaskHandle[Any] | None = None
        self._poll: TaskHandle[Any] | None = None
        self._polled_at = 0.0
        self._poll_took = 0.0  # seconds the last poll took, from its start to its result
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(lambda: self._tick(0.0))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        self.back_button = QPushButton("← Campaigns")
        self.back_button.clicked.connect(self.back_requested)
        top.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)
        self.header = PageHeader("Campaign", " ")
        top.addWidget(self.header, 1)
        # The campaign's own controls; they act through the database, so they work whichever
        # installation sends it. Cancel is set apart from Resume and asks first.
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel campaign…")
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel_campaign)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.delivery_state = QLabel("")
        self.delivery_state.setObjectName("delivery_state")
        self.delivery_state.setWordWrap(True)
        self.delivery_state.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        controls = QHBoxLayout()
        controls.addWidget(self.pause_button)
        controls.addWidget(self.resume_button)
        controls.addSpacing(24)
        controls.addWidget(self.cancel_button)
        controls.addSpacing(16)
        controls.addWidget(self.delivery_state, 1)
        controls.addStretch(1)  # buttons keep their size while there is nothing to say
        layout.addLayout(controls)

        self.figures = QGridLayout()
        self.figure_labels: dict[str, QLabel] = {}
        self.figure_titles: dict[str, QLabel] = {}
        for column, key in enumerate(FIGURES):
            title = QLabel(key.capitalize() if key != "success" else "Success rate")
            self.figure_titles[key] = title
            title.setEnabled(False)
            value = QLabel("—")
            font = value.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            font.setBold(True)
            value.setFont(font)
            self.figures.addWidget(title, 0, column)
            self.figures.addWidget(value, 1, column)
            self.figure_labels[key] = value
        layout.addLayout(self.figures)

        self.variants = QTableWidget(0, len(VARIANT_COLUMNS))
        self.variants.setObjectName("variants_table")
        self.variants.setHorizontalHeaderLabels(list(VARIANT_COLUMNS))
        self.variants.verticalHeader().hide()
        self.variants.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.variants.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.variants.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.charts = OutcomeCharts()
        self.timeline_chart = self.charts.timeline_chart
        self.reasons_chart = self.charts.reasons_chart
        self.ab_panel = ABTestPanel()
        self.ab_panel.hide()

        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        self.summary_panel = CampaignSummaryPanel(engine, runner, ai)
        upper_layout.addWidget(self.summary_panel)
        upper_layout.addWidget(self.ab_panel)
        upper_layout.addWidget(self.variants)
        upper_layout.addWidget(self.charts, 1)

        # The recipients' log; its widgets are named here too, as the page's parts.
        lower = RecipientsLog(engine, runner)
        self.recipients = lower
        self.status_filter, self.message = lower.status_filter, lower.message
        self.export_button, self.log, self.log_model = lower.export_button, lower.log, \
            lower.log_model
        lower.exported.connect(self.exported)

        # Two tabs below the figures: each gets the page's full height, so at 1024x640 the
        # charts stay legible and the log shows a screenful of rows.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("campaign_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(upper, "&Overview")
        self.tabs.addTab(lower, "&Recipients")
        layout.addWidget(self.tabs, 1)

        bus.campaign_finished.connect(self._finished)
        bus.campaign_progress.connect(self._progress)
        bus.campaigns_changed.connect(self._changed)
        self._update_buttons()

    # --- loading --------------------------------------------------------------------------

    def show_campaign(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        self.tabs.setTabText(1, "&Recipients")
        self.recipients.reset(campaign_id)
        self.refresh()

    def refresh(self) -> None:
        if self.campaign_id is None:
            return
        if self._handle is not None:
            self._handle.cancel()
        engine, campaign_id = self.engine, self.campaign_id
        decided = self._decided()
        handle = self.runner.run(lambda _ctx: load_report(engine, campaign_id, decided),
                                 title="Loading campaign", quiet=True,
                                 on_error=lambda exc: None)
        handle.succeeded.connect(lambda report, h=handle: self._loaded(h, report))
        handle.failed.connect(lambda exc, h=handle: self._load_failed(h, exc))
        self._handle = handle
        self.recipients.show_log(campaign_id)

    def _progress(self, counts: CampaignCounts) -> None:
        """The engine sent more: read the campaign again (one snapshot for every figure),
        at most once per POLL_MS however often the engine reports."""
        if counts.campaign_id == self.campaign_id:
            self._tick(POLL_MS / 1000)

    def _tick(self, least: float) -> None:
        """A poll that comes by itself: only `least` seconds after the last one began, and
        POLL_PACE times as long as that one took."""
        if time.monotonic() - self._polled_at >= max(least, POLL_PACE * self._poll_took):
            self.poll()

    def _changed(self) -> None:
        if self.isVisible():
            self.poll()

    def poll(self) -> None:
        """Read the campaign's report again, without touching the log (off the GUI thread).
        The header, summary, variant table and charts all show this one snapshot."""
        if self.campaign_id is None or self._poll is not None or self._handle is not None \
                or not self.isVisible():
            return
        engine, campaign_id = self.engine, self.campaign_id
        self._polled_at = time.monotonic()
        decided = self._decided()
        self._poll = self.runner.run(lambda _ctx: load_report(engine, campaign_id, decided),
                                     title="Reading campaign progress", quiet=True,
                                     on_success=self._polled,
                                     on_error=lambda _exc: setattr(self, "_poll", None))

    def _decided(self) -> list[VariantResult] | None:
        """The test share's results shown, if its winner was chosen (they stay as they are)."""
        report = self.report
        if report is None or report.details["id"] != self.campaign_id:
            return None
        ab = report.details.get("ab_test")
        return report.ab_results if ab and ab.get("winner") else None

    def _polled(self, report: CampaignReport) -> None:
        self._poll = None
        self._poll_took = time.monotonic() - self._polled_at
        if report.details["id"] != self.campaign_id:
            return
        status_changed = self.report is not None and \
            self.report.details["status"] != report.details["status"]
        self._show_report(report)
        if status_changed:
            self.recipients.show_log(report.details["id"])

    def _show_state(self, state: DeliveryState | None) -> None:
        text = "" if state is None else describe_delivery(state, self.local_owner)
        self.delivery_state.setText(text)
        self.delivery_state.setVisible(bool(text))
        running = state is not None and state.counts.status == "running"
        if running and not self.poll_timer.isActive():
            self.poll_timer.start()
        elif not running:
            self.poll_timer.stop()

    def _finished(self, campaign_id: int, _status: str) -> None:
        if campaign_id == self.campaign_id and self.isVisible():
            self.refresh()

    def _load_failed(self, handle: TaskHandle[Any], exc: BaseException) -> None:
        if handle is self._handle:
            self._handle = None
            self.message.setText(f"Could not load the campaign: {exc}")

    def _loaded(self, handle: TaskHandle[Any], report: CampaignReport) -> None:
        if handle is not self._handle:
            return
        self._handle = None
        self._show_report(report)

    def _show_report(self, report: CampaignReport) -> None:
        self.report = report
        info = report.details
        self.header.title.setText(info["name"])
        subtitle = [info["channel"].upper(), info["status"].capitalize()]
        if info.get("started_at"):
            subtitle.append(f"started {format_datetime(info['started_at'])}")
        if info.get("finished_at"):
            subtitle.append(f"finished {format_datetime(info['finished_at'])}")
        if info.get("objective"):
            subtitle.append(info["objective"])
        self.header.subtitle.setText(" · ".join(subtitle))
        rate = info.get("success_rate")
        for key in FIGURES[:-1]:
            self.figure_labels[key].setText(f"{info[key]:,}")
        self.figure_labels["success"].setText("—" if rate is None else f"{rate:.1%}")
        self.tabs.setTabText(1, f"&Recipients ({info['audience']:,})")
        cancelled = info["status"] == "cancelled"
        self.figure_titles["cancelled"].setVisible(cancelled)
        self.figure_labels["cancelled"].setVisible(cancelled)
        self._show_state(report.state)
        self._show_variants(info["variants"])
        # An email campaign's address is the email column again.
        self.log.setColumnHidden(1, info["channel"] == "email")
        self.charts.show_outcomes(report.timeline, info["failure_reasons"], info["skip_reasons"])
        self.ab_panel.show_test(info.get("ab_test"), info["status"], report.ab_results)
        self._update_buttons()
        # An A/B test's variants are compared on its test share, as the A/B panel shows.
        tested = (bool((info.get("ab_test") or {}).get("winner")),
                  *(n for r in report.ab_results or () for n in (r.sent, r.failed, r.opened)))
        self.summary_panel.show_campaign(info["id"], info["status"], (
            info["audience"], info["sent"], info["failed"], info["skipped"], info["cancelled"],
            *tested), figures=figures_from_details(info, report.ab_results))
        self.report_loaded.emit()

    def _show_variants(self, variants: list[dict[str, Any]]) -> None:
        table = self.variants
        table.setRowCount(len(variants))
        rows = table.verticalHeader().defaultSectionSize() * len(variants)
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows
                             + 2 * table.frameWidth())
        for row, variant in enumerate(variants):
            attempted = variant["sent"] + variant["failed"]
            total = sum(variant[s] for s in ("queued", "sending", "sent", "failed", "skipped",
                                             "cancelled"))
            values = (variant["label"], variant["template"], f"{total:,}",
                      f"{variant['sent']:,}", f"{variant['failed']:,}",
                      f"{variant['skipped']:,}", f"{variant['cancelled']:,}",
                      "—" if attempted == 0 else f"{variant['sent'] / attempted:.1%}")
            for column, value in enumerate(values):
                current = table.item(row, column)
                if current is not None and current.text() == value:
                    continue  # unchanged: each call into Qt may wait for the GIL mid-run
                item = QTableWidgetItem(value)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.variants.setItem(row, column, item)

    # --- control ---------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        status = None if self.report is None else self.report.details["status"]
        may = self.control is not None and self.actor is not None and \
            can(self.actor, Permission.CONTROL_CAMPAIGNS)
        state = None if self.report is None else self.report.state
        local = self.control is not None and self.campaign_id is not None and \
            self.control.is_running(self.campaign_id)
        # A running campaign nobody delivers (its sender died) can be resumed from here.
        orphaned = status == "running" and not local and (state is None or state.owner is None)
        self.pause_button.setEnabled(may and status == "running")
        self.resume_button.setEnabled(may and (status == "paused" or orphaned))
        self.cancel_button.setEnabled(may and status in CANCELLABLE)
        for button in (self.pause_button, self.resume_button, self.cancel_button):
            button.setVisible(self.control is not None)

    def pause(self) -> None:
        if self.control is not None and self.actor is not None and self.campaign_id:
            self.control.pause(self.campaign_id, actor=self.actor)

    def resume(self) -> None:
        if self.control is not None and self.actor is not None and self.campaign_id:
            self.control.resume(self.campaign_id, actor=self.actor)

    def cancel_campaign(self) -> None:
        if self.control is None or self.actor is None or self.report is None:
            return
        info = self.report.details
        unsent = info["audience"] - info["sent"] - info["failed"] - info["skipped"]
        shown = None if info["status"] in ("draft", "scheduled") else max(0, unsent)
        if confirm_cancel(self, info["name"], shown):
            self.control.cancel(info["id"], actor=self.actor)
            self.poll()

    @property
    def busy(self) -> bool:
        return (self._handle is not None or self.recipients.busy
                or self.summary_panel.handle is not None or self._poll is not None)

    def shutdown(self) -> None:
        self.poll_timer.stop()
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self.summary_panel.cancel()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.log_model.cancel()

"""A campaign's own page: its summary, per-variant results, charts of outcomes over time and
of failure reasons, and the per-recipient log (paged, filterable, exportable to CSV)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalStackedBarSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QEvent, QMargins, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import DeliveryStatus
from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.ai import AISettings, figures_from_details
from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.history import campaign_details, write_log_csv
from minicrm_desktop.services.campaigns.stats import OutcomeBucket, outcomes_over_time
from minicrm_desktop.services.campaigns.store import DeliveryState, delivery_state
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.log_model import DeliveryLogModel
from minicrm_desktop.views.campaigns.summary import CampaignSummaryPanel
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog
from minicrm_desktop.views.common.formatting import format_datetime
from minicrm_desktop.views.common.widgets import PageHeader

#: Outcome colours (light, dark): delivered green, failed red, suppressed (skipped) grey.
SENT_COLOURS = (QColor("#2da44e"), QColor("#3fb950"))
FAILED_COLOURS = (QColor("#cf222e"), QColor("#f85149"))
SKIPPED_COLOURS = (QColor("#8c959f"), QColor("#6e7681"))
TIME_BUCKETS = 12
STATUS_FILTERS: tuple[tuple[str, DeliveryStatus | None], ...] = (
    ("All statuses", None),
    ("Sent", DeliveryStatus.SENT),
    ("Failed", DeliveryStatus.FAILED),
    ("Skipped", DeliveryStatus.SKIPPED),
    ("Cancelled", DeliveryStatus.CANCELLED),
    ("Queued", DeliveryStatus.QUEUED),
    ("Sending", DeliveryStatus.SENDING),
)
VARIANT_COLUMNS = ("Variant", "Message", "Recipients", "Sent", "Failed", "Skipped", "Cancelled",
                   "Success")
#: Statuses a campaign can still be cancelled in.
CANCELLABLE = ("draft", "scheduled", "running", "paused")
FIGURES = ("audience", "sent", "failed", "skipped", "cancelled", "success")
#: While a campaign runs, how often its page reads progress from the database (another
#: installation may be the one sending it).
POLL_MS = 1500


@dataclass(frozen=True)
class CampaignReport:
    """What the page shows, read in one task (plain data)."""

    details: dict[str, Any]
    timeline: list[OutcomeBucket]
    state: DeliveryState | None


def load_report(engine: Engine, campaign_id: int) -> CampaignReport:
    return CampaignReport(campaign_details(engine, campaign_id),
                          outcomes_over_time(engine, campaign_id, TIME_BUCKETS),
                          delivery_state(engine, campaign_id))


def describe_delivery(state: DeliveryState, local_owner: str | None) -> str:
    """Who sends a running campaign, or why a paused one stopped (empty: nothing to say)."""
    status = state.counts.status
    if status == "running":
        if state.owner is None:
            return "Not being delivered right now: Resume sends it from this app."
        if state.owner == local_owner:
            return "Being delivered by this app."
        return f"Being delivered by {state.owner}; its progress shows here as it goes."
    if status == "paused" and state.reason:
        return f"Paused: {state.reason}"
    return ""


def _clock(value: datetime, seconds: bool) -> str:
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone()
    return local.strftime("%H:%M:%S" if seconds else "%H:%M")


def _axis_title(buckets: list[OutcomeBucket]) -> str:
    if not buckets:
        return ""
    width = int((buckets[0].end - buckets[0].start).total_seconds())
    step = f"{width} s" if width < 60 else f"{width // 60} min"
    return f"Local time, {step} per bar (from {format_datetime(buckets[0].start)})"


def _bucket_labels(buckets: list[OutcomeBucket]) -> list[str]:
    """Each bucket's start in clock time: buckets are whole seconds aligned on the clock
    (stats.outcomes_over_time), so the labels are distinct and read as times."""
    if not buckets:
        return []
    width = (buckets[0].end - buckets[0].start).total_seconds()
    seconds = width < 60 or any(b.start.second for b in buckets)
    return [_clock(b.start, seconds) for b in buckets]


def count_axis(top: int) -> QValueAxis:
    """A value axis of whole counts: ticks at a round integer step, never "0 0 0 1"."""
    step, scale = 1, 1
    while top > step * 5:
        for mantissa in (1, 2, 5, 10):
            step = mantissa * scale
            if top <= step * 5:
                break
        else:
            scale *= 10
            continue
        break
    ticks = max(1, -(-top // step))
    axis = QValueAxis()
    axis.setLabelFormat("%d")
    axis.setRange(0, step * ticks)
    axis.setTickCount(ticks + 1)
    axis.setMinorTickCount(0)
    return axis


def _bar_set(label: str, colour: QColor) -> QBarSet:
    bars = QBarSet(label)
    bars.setColor(colour)
    bars.setPen(QPen(Qt.PenStyle.NoPen))  # no white outline on a dark background
    return bars


def outcome_colours(dark: bool) -> dict[str, QColor]:
    pick = 1 if dark else 0
    return {"sent": SENT_COLOURS[pick], "failed": FAILED_COLOURS[pick],
            "skipped": SKIPPED_COLOURS[pick]}


def apply_chart_palette(chart: QChart, palette: QPalette) -> None:
    """Draw the chart in the window's palette (light or dark), not QtCharts' white."""
    base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
    grid = palette.color(QPalette.ColorRole.Mid)
    chart.setBackgroundBrush(QBrush(base))
    chart.setBackgroundPen(QPen(grid))
    chart.setPlotAreaBackgroundVisible(False)
    for view in chart.scene().views() if chart.scene() is not None else ():
        view.setBackgroundBrush(QBrush(base))
    chart.setTitleBrush(QBrush(text))
    chart.legend().setLabelColor(text)
    for axis in chart.axes():
        axis.setLabelsColor(text)
        axis.setTitleBrush(QBrush(text))
        axis.setLinePenColor(grid)
        axis.setGridLineColor(grid)


def confirm_cancel(parent: QWidget, name: str, unsent: int | None) -> bool:
    """Ask before an irreversible cancel; No is the default and Escape answers it."""
    rest = "" if unsent is None else f" The {unsent:,} messages not sent yet will never be sent."
    box = QMessageBox(QMessageBox.Icon.Warning, "Cancel campaign",
                      f"Cancel “{name}”?{rest} This cannot be undone.",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    yes = box.button(QMessageBox.StandardButton.Yes)
    no = box.button(QMessageBox.StandardButton.No)
    yes.setText("Cancel campaign")
    no.setText("Keep it")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(no)
    return box.exec() == QMessageBox.StandardButton.Yes


def _chart_view(chart: QChart) -> QChartView:
    chart.setBackgroundRoundness(4)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(220)
    return view


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
        self._export: TaskHandle[Any] | None = None
        self._poll: TaskHandle[Any] | None = None
        self._polled_at = 0.0
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.poll)

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

        self.timeline_chart = QChart()
        self.timeline_chart.setTitle("Outcomes over time")
        self.reasons_chart = QChart()
        self.reasons_chart.setTitle("Failed and skipped, by reason")
        self._theme_charts()
        charts = QHBoxLayout()
        charts.addWidget(_chart_view(self.timeline_chart), 3)
        charts.addWidget(_chart_view(self.reasons_chart), 2)

        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        self.summary_panel = CampaignSummaryPanel(engine, runner, ai)
        upper_layout.addWidget(self.summary_panel)
        upper_layout.addWidget(self.variants)
        upper_layout.addLayout(charts, 1)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        log_bar = QHBoxLayout()
        log_title = QLabel("Recipients")
        font = log_title.font()
        font.setBold(True)
        log_title.setFont(font)
        log_bar.addWidget(log_title)
        self.status_filter = QComboBox()
        for text, _status in STATUS_FILTERS:
            self.status_filter.addItem(text)
        self.status_filter.currentIndexChanged.connect(self._filter_changed)
        log_bar.addWidget(self.status_filter)
        log_bar.addStretch(1)
        self.message = QLabel("")
        self.message.setEnabled(False)
        log_bar.addWidget(self.message)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.export_log)
        log_bar.addWidget(self.export_button)
        lower_layout.addLayout(log_bar)
        self.log_model = DeliveryLogModel(engine, runner, self)
        self.log = QTableView()
        self.log.setObjectName("delivery_log")
        self.log.setModel(self.log_model)
        self.log.verticalHeader().hide()
        self.log.setAlternatingRowColors(True)
        self.log.setShowGrid(False)
        self.log.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        log_header = self.log.horizontalHeader()
        log_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        log_header.setStretchLastSection(True)
        for column, width in enumerate((240, 150, 60, 80, 200, 70)):
            log_header.resizeSection(column, width)
        lower_layout.addWidget(self.log, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        bus.campaign_finished.connect(self._finished)
        bus.campaign_progress.connect(self._progress)
        bus.campaigns_changed.connect(self._changed)
        self._update_buttons()

    # --- loading --------------------------------------------------------------------------

    def show_campaign(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        self.status_filter.blockSignals(True)
        self.status_filter.setCurrentIndex(0)
        self.status_filter.blockSignals(False)
        self.message.setText("")
        self.refresh()

    def refresh(self) -> None:
        if self.campaign_id is None:
            return
        if self._handle is not None:
            self._handle.cancel()
        engine, campaign_id = self.engine, self.campaign_id
        handle = self.runner.run(lambda _ctx: load_report(engine, campaign_id),
                                 title="Loading campaign", quiet=True,
                                 on_error=lambda exc: None)
        handle.succeeded.connect(lambda report, h=handle: self._loaded(h, report))
        handle.failed.connect(lambda exc, h=handle: self._load_failed(h, exc))
        self._handle = handle
        self.log_model.show(campaign_id, self.selected_status())

    def _progress(self, counts: CampaignCounts) -> None:
        """The engine sent more: read the campaign again (one snapshot for every figure),
        at most once per POLL_MS however often the engine reports."""
        if counts.campaign_id == self.campaign_id and \
                time.monotonic() - self._polled_at >= POLL_MS / 1000:
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
        self._poll = self.runner.run(lambda _ctx: load_report(engine, campaign_id),
                                     title="Reading campaign progress", quiet=True,
                                     on_success=self._polled,
                                     on_error=lambda _exc: setattr(self, "_poll", None))

    def _polled(self, report: CampaignReport) -> None:
        self._poll = None
        if report.details["id"] != self.campaign_id:
            return
        status_changed = self.report is not None and \
            self.report.details["status"] != report.details["status"]
        self._show_report(report)
        if status_changed:
            self.log_model.show(report.details["id"], self.selected_status())

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
        cancelled = info["status"] == "cancelled"
        self.figure_titles["cancelled"].setVisible(cancelled)
        self.figure_labels["cancelled"].setVisible(cancelled)
        self._show_state(report.state)
        self._show_variants(info["variants"])
        # An email campaign's address is the email column again.
        self.log.setColumnHidden(1, info["channel"] == "email")
        self._show_timeline(report.timeline)
        self._show_reasons(info["failure_reasons"], info["skip_reasons"])
        self._theme_charts()
        self._update_buttons()
        self.summary_panel.show_campaign(info["id"], info["status"], (
            info["audience"], info["sent"], info["failed"], info["skipped"], info["cancelled"]),
            figures=figures_from_details(info))
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
                item = QTableWidgetItem(value)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.variants.setItem(row, column, item)

    def _show_timeline(self, buckets: list[OutcomeBucket]) -> None:
        chart = self.timeline_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        colours = outcome_colours(self._dark())
        sent, failed = _bar_set("Sent", colours["sent"]), _bar_set("Failed", colours["failed"])
        labels = _bucket_labels(buckets)
        for bucket in buckets:
            sent.append(bucket.sent)
            failed.append(bucket.failed)
        series = QStackedBarSeries()
        series.append(sent)
        series.append(failed)
        series.setBarWidth(0.9)
        chart.addSeries(series)
        x_axis = QBarCategoryAxis()
        x_axis.append(labels or [""])
        x_axis.setTitleText(_axis_title(buckets))
        if len(labels) > 6:
            x_axis.setLabelsAngle(-45)
        y_axis = count_axis(max((b.sent + b.failed for b in buckets), default=0))
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)

    def _show_reasons(self, failures: list[tuple[str, int]],
                      skips: list[tuple[str, int]]) -> None:
        """Failures (the vendor refused) in red, suppressions (never tried) in grey."""
        chart = self.reasons_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        totals: dict[str, list[int]] = {}
        for index, items in enumerate((failures, skips)):
            for reason, n in items:
                totals.setdefault(reason or "(none)", [0, 0])[index] += n
        ordered = sorted(totals.items(), key=lambda item: sum(item[1]))[-8:]  # biggest on top
        colours = outcome_colours(self._dark())
        failed = _bar_set("Failed", colours["failed"])
        skipped = _bar_set("Skipped", colours["skipped"])
        for _reason, (f, k) in ordered:
            failed.append(f)
            skipped.append(k)
        series = QHorizontalStackedBarSeries()
        series.append(failed)
        series.append(skipped)
        chart.addSeries(series)
        chart.legend().setVisible(bool(ordered))
        y_axis = QBarCategoryAxis()
        y_axis.append([reason for reason, _ in ordered] or ["No failures"])
        x_axis = count_axis(max((sum(n) for _, n in ordered), default=0))
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(y_axis)
        series.attachAxis(x_axis)

    # --- palette ---------------------------------------------------------------------------

    def _dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    def _theme_charts(self) -> None:
        for chart in (self.timeline_chart, self.reasons_chart):
            apply_chart_palette(chart, self.palette())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            if self.report is not None:
                info = self.report.details
                self._show_timeline(self.report.timeline)
                self._show_reasons(info["failure_reasons"], info["skip_reasons"])
            self._theme_charts()

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

    # --- the log --------------------------------------------------------------------------

    def selected_status(self) -> DeliveryStatus | None:
        return STATUS_FILTERS[max(0, self.status_filter.currentIndex())][1]

    def _filter_changed(self, _index: int) -> None:
        self.log_model.set_status(self.selected_status())

    def export_log(self) -> None:
        if self.campaign_id is None or self._export is not None:
            return
        status = self.selected_status()
        suffix = f"-{status.value}" if status else ""
        path = SaveCsvDialog.ask(self, f"campaign-{self.campaign_id}-log{suffix}.csv",
                                 "Export the delivery log")
        if path is None:
            return
        engine, campaign_id = self.engine, self.campaign_id

        def task(_ctx: object) -> int:
            with Path(path).open("w", newline="", encoding="utf-8") as out:
                return write_log_csv(engine, campaign_id, out, status)

        self.export_button.setEnabled(False)
        self._export = self.runner.run(task, title="Exporting the delivery log",
                                       on_success=lambda n: self._exported(path, n),
                                       on_error=self._export_failed)

    def _exported(self, path: Path, rows: int) -> None:
        self._export = None
        self.export_button.setEnabled(True)
        self.message.setText(f"{rows:,} rows exported to {path.name}")
        self.exported.emit(str(path), rows)

    def _export_failed(self, exc: BaseException) -> None:
        self._export = None
        self.export_button.setEnabled(True)
        self.message.setText(f"Export failed: {exc}")

    @property
    def busy(self) -> bool:
        return (self._handle is not None or self.log_model.loading or self._export is not None
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

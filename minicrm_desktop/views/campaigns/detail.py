"""A campaign's own page: its summary, per-variant results, charts of outcomes over time and
of failure reasons, and the per-recipient log (paged, filterable, exportable to CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
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
from minicrm_desktop.services.ai.config import AISettings
from minicrm_desktop.services.campaigns.events import CampaignCounts
from minicrm_desktop.services.campaigns.history import campaign_details, write_log_csv
from minicrm_desktop.services.campaigns.stats import OutcomeBucket, outcomes_over_time
from minicrm_desktop.services.campaigns.store import DeliveryState, delivery_state
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.campaigns.log_model import DeliveryLogModel
from minicrm_desktop.views.campaigns.summary import CampaignSummaryPanel
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog
from minicrm_desktop.views.common.formatting import format_datetime
from minicrm_desktop.views.common.widgets import PageHeader

SENT_COLOUR = QColor("#2da44e")
FAILED_COLOUR = QColor("#cf222e")
SKIPPED_COLOUR = QColor("#8c959f")
TIME_BUCKETS = 12
STATUS_FILTERS: tuple[tuple[str, DeliveryStatus | None], ...] = (
    ("All statuses", None),
    ("Sent", DeliveryStatus.SENT),
    ("Failed", DeliveryStatus.FAILED),
    ("Skipped", DeliveryStatus.SKIPPED),
    ("Queued", DeliveryStatus.QUEUED),
    ("Sending", DeliveryStatus.SENDING),
)
VARIANT_COLUMNS = ("Variant", "Message", "Recipients", "Sent", "Failed", "Skipped", "Success")
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


_UNITS = (("seconds", 1.0, 180.0), ("minutes", 60.0, 3 * 3600.0), ("hours", 3600.0, None))


def _time_unit(buckets: list[OutcomeBucket]) -> tuple[str, float]:
    span = (buckets[-1].end - buckets[0].start).total_seconds() if buckets else 0.0
    for name, size, below in _UNITS:
        if below is None or span < below:
            return name, size
    return "hours", 3600.0


def _axis_title(buckets: list[OutcomeBucket]) -> str:
    if not buckets:
        return ""
    unit, _ = _time_unit(buckets)
    return f"{unit} since the first outcome ({format_datetime(buckets[0].start)})"


def _bucket_labels(buckets: list[OutcomeBucket]) -> list[str]:
    """Each bucket's start in the axis's unit: short numbers that fit under a bar."""
    if not buckets:
        return []
    unit, size = _time_unit(buckets)
    first = buckets[0].start
    step = (buckets[0].end - first).total_seconds() / size
    digits = 0 if step >= 1 else 1
    labels = [f"{(b.start - first).total_seconds() / size:.{digits}f}" for b in buckets]
    # Category labels must be unique.
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label}·{seen[label]}")
    return unique


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
                 local_owner: str | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.runner = runner
        self.local_owner = local_owner
        self.campaign_id: int | None = None
        self.report: CampaignReport | None = None
        self._handle: TaskHandle[Any] | None = None
        self._export: TaskHandle[Any] | None = None
        self._poll: TaskHandle[Any] | None = None
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
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.delivery_state = QLabel("")
        self.delivery_state.setObjectName("delivery_state")
        self.delivery_state.setWordWrap(True)
        self.delivery_state.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.delivery_state.hide()
        layout.addWidget(self.delivery_state)

        self.figures = QGridLayout()
        self.figure_labels: dict[str, QLabel] = {}
        for column, key in enumerate(("audience", "sent", "failed", "skipped", "success")):
            title = QLabel(key.capitalize() if key != "success" else "Success rate")
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
        """Live counters while the campaign sends (the charts refresh when it ends)."""
        if counts.campaign_id != self.campaign_id:
            return
        for key in ("audience", "sent", "failed", "skipped"):
            self.figure_labels[key].setText(f"{getattr(counts, key):,}")
        attempted = counts.sent + counts.failed
        self.figure_labels["success"].setText(
            "—" if attempted == 0 else f"{counts.sent / attempted:.1%}")

    def poll(self) -> None:
        """Read the running campaign's progress and who sends it (off the GUI thread)."""
        if self.campaign_id is None or self._poll is not None or self._handle is not None \
                or not self.isVisible():
            return
        engine, campaign_id = self.engine, self.campaign_id
        self._poll = self.runner.run(lambda _ctx: delivery_state(engine, campaign_id),
                                     title="Reading campaign progress", quiet=True,
                                     on_success=self._polled,
                                     on_error=lambda _exc: setattr(self, "_poll", None))

    def _polled(self, state: DeliveryState | None) -> None:
        self._poll = None
        if state is None or state.counts.campaign_id != self.campaign_id:
            return
        self._progress(state.counts)
        self._show_state(state)
        shown = self.report.details["status"] if self.report else None
        if state.counts.status != shown:
            self.refresh()  # it finished or stopped: charts and log too

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
        figures = {"audience": info["audience"], "sent": info["sent"],
                   "failed": info["failed"], "skipped": info["skipped"]}
        for key, value in figures.items():
            self.figure_labels[key].setText(f"{value:,}")
        self.figure_labels["success"].setText("—" if rate is None else f"{rate:.1%}")
        self._show_state(report.state)
        self._show_variants(info["variants"])
        # An email campaign's address is the email column again.
        self.log.setColumnHidden(1, info["channel"] == "email")
        self._show_timeline(report.timeline)
        self._show_reasons(info["reasons"])
        if self.campaign_id is not None:
            self.summary_panel.show_campaign(self.campaign_id, info["status"], (
                info["audience"], info["sent"], info["failed"], info["skipped"]))
        self.report_loaded.emit()

    def _show_variants(self, variants: list[dict[str, Any]]) -> None:
        table = self.variants
        table.setRowCount(len(variants))
        rows = table.verticalHeader().defaultSectionSize() * len(variants)
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows
                             + 2 * table.frameWidth())
        for row, variant in enumerate(variants):
            attempted = variant["sent"] + variant["failed"]
            total = sum(variant[s] for s in ("queued", "sending", "sent", "failed", "skipped"))
            values = (variant["label"], variant["template"], f"{total:,}",
                      f"{variant['sent']:,}", f"{variant['failed']:,}",
                      f"{variant['skipped']:,}",
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
        sent, failed = QBarSet("Sent"), QBarSet("Failed")
        sent.setColor(SENT_COLOUR)
        failed.setColor(FAILED_COLOUR)
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
        y_axis = QValueAxis()
        y_axis.setLabelFormat("%d")
        top = max((b.sent + b.failed for b in buckets), default=0)
        y_axis.setRange(0, max(1, top))
        y_axis.applyNiceNumbers()
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)

    def _show_reasons(self, reasons: dict[str, int]) -> None:
        chart = self.reasons_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        ordered = sorted(reasons.items(), key=lambda item: item[1])[-8:]  # biggest on top
        counts = QBarSet("Recipients")
        counts.setColor(FAILED_COLOUR)
        for _reason, n in ordered:
            counts.append(n)
        series = QHorizontalBarSeries()
        series.append(counts)
        series.setLabelsVisible(True)
        series.setLabelsPosition(QHorizontalBarSeries.LabelsPosition.LabelsInsideEnd)
        chart.addSeries(series)
        chart.legend().setVisible(False)
        y_axis = QBarCategoryAxis()
        y_axis.append([reason or "(none)" for reason, _ in ordered] or ["No failures"])
        x_axis = QValueAxis()
        x_axis.setLabelFormat("%d")
        x_axis.setRange(0, max([1, *(n for _, n in ordered)]))
        x_axis.applyNiceNumbers()
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(y_axis)
        series.attachAxis(x_axis)

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

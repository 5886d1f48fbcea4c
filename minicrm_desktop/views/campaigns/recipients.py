"""A campaign page's recipients: the per-recipient log (paged, filterable by status) and its
export to CSV, written off the GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import DeliveryStatus
from minicrm_desktop.services.campaigns.history import write_log_csv
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.campaigns.log_model import DeliveryLogModel
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog

STATUS_FILTERS: tuple[tuple[str, DeliveryStatus | None], ...] = (
    ("All statuses", None),
    ("Sent", DeliveryStatus.SENT),
    ("Failed", DeliveryStatus.FAILED),
    ("Skipped", DeliveryStatus.SKIPPED),
    ("Cancelled", DeliveryStatus.CANCELLED),
    ("Queued", DeliveryStatus.QUEUED),
    ("Sending", DeliveryStatus.SENDING),
)


class RecipientsLog(QWidget):
    #: The log was exported: (path, rows written).
    exported = Signal(str, int)

    def __init__(self, engine: Engine, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.runner = runner
        self.campaign_id: int | None = None
        self._export: TaskHandle[Any] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        log_bar = QHBoxLayout()
        # The page's tab names the log; the bar says what it filters.
        show = QLabel("Sta&tus:")
        log_bar.addWidget(show)
        self.status_filter = QComboBox()
        show.setBuddy(self.status_filter)
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
        layout.addLayout(log_bar)
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
        layout.addWidget(self.log, 1)

    def reset(self, campaign_id: int) -> None:
        """Another campaign: every status again, no message (its log loads with the page)."""
        self.campaign_id = campaign_id
        self.status_filter.blockSignals(True)
        self.status_filter.setCurrentIndex(0)
        self.status_filter.blockSignals(False)
        self.message.setText("")

    def show_log(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        self.log_model.show(campaign_id, self.selected_status())

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
        return self.log_model.loading or self._export is not None

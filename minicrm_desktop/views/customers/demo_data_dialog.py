"""The first-start offer: fill an empty embedded database with demo customers."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.settings import DEMO_CUSTOMERS, DEMO_OFFER_DISMISSED, Settings
from minicrm_desktop.services.core.tasks import (
    TaskCancelled,
    TaskContext,
    TaskHandle,
    TaskRunner,
    run_in_process,
)
from minicrm_desktop.services.customers.jobs import seed_demo_job
from minicrm_desktop.services.customers.seed import SeedReport


class DemoDataDialog(QDialog):
    #: Seeding ended (its SeedReport).
    seeded = Signal(object)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus, settings: Settings,
                 *, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actor = actor
        self.setObjectName("demo_data_dialog")
        self.setWindowTitle("Welcome to MiniCRM")
        self.setMinimumWidth(460)
        self._engine = engine
        self._runner = runner
        self._bus = bus
        self._settings = settings
        self.handle: TaskHandle[Any] | None = None
        self.report: SeedReport | None = None

        layout = QVBoxLayout(self)
        title = QLabel("Your database is empty")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        text = QLabel(
            "Add realistic demo customers, with three years of orders and tags, to explore "
            "MiniCRM before importing your own data. You can delete the database file later."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        row = QHBoxLayout()
        count_label = QLabel("&Demo customers:")
        row.addWidget(count_label)
        self.count_box = QSpinBox()
        count_label.setBuddy(self.count_box)  # names the box for screen readers, Alt+D
        self.count_box.setRange(100, 1_000_000)
        self.count_box.setSingleStep(1000)
        self.count_box.setGroupSeparatorShown(True)
        self.count_box.setValue(settings.get(DEMO_CUSTOMERS))
        row.addWidget(self.count_box)
        row.addStretch(1)
        layout.addLayout(row)
        self.dont_ask = QCheckBox("Don't offer this again")
        layout.addWidget(self.dont_ask)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(False)
        layout.addWidget(self.progress_bar)
        self.status = QLabel()
        self.status.setVisible(False)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.skip_button = QPushButton("Start empty")
        self.skip_button.clicked.connect(self.reject)
        buttons.addWidget(self.skip_button)
        self.seed_button = QPushButton("Add demo data")
        self.seed_button.setDefault(True)
        self.seed_button.clicked.connect(self.start)
        buttons.addWidget(self.seed_button)
        layout.addLayout(buttons)

    def start(self, *, seed: int = 1) -> TaskHandle[Any]:
        n = self.count_box.value()
        self._settings.set(DEMO_CUSTOMERS, n)
        url = self._engine.url.render_as_string(hide_password=False)
        actor = self.actor

        def task(ctx: TaskContext) -> SeedReport:
            def progress(done: int, wanted: int) -> None:
                ctx.progress(done / wanted if wanted else 1.0,
                             f"{done:,} of {wanted:,} customers")

            # Generating customers is CPU-bound Python: a helper process keeps the window
            # responsive while it runs.
            report: SeedReport = run_in_process(
                seed_demo_job, (url, n, seed, actor), progress=progress,
                should_cancel=ctx.cancelled, name="minicrm-demo-data")
            return report

        self.count_box.setEnabled(False)
        self.dont_ask.setEnabled(False)
        self.seed_button.setEnabled(False)
        self.skip_button.setText("Cancel")
        self.progress_bar.setVisible(True)
        self.status.setVisible(True)
        self.status.setText("Creating demo customers…")
        self.handle = self._runner.run(task, title="Adding demo data",
                                       on_success=self._done, on_progress=self._progress,
                                       on_error=self._failed)
        return self.handle

    def _progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(int(fraction * 1000))
        self.status.setText(text)

    def _done(self, report: SeedReport) -> None:
        self.handle = None
        self.report = report
        self._settings.set(DEMO_OFFER_DISMISSED, True)
        self.seeded.emit(report)
        if report.customers:
            self._bus.customers_changed.emit()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.handle = None
        if isinstance(exc, TaskCancelled):  # cancelled before it started: nothing written
            self.accept()
            return
        self.status.setText(f"Could not add demo data: {exc}")
        self.skip_button.setText("Close")

    def reject(self) -> None:
        if self.handle is not None:
            self.handle.cancel()  # the rows of finished batches stay; _done closes
            self.skip_button.setEnabled(False)
            self.status.setText("Stopping after the current batch…")
            return
        if self.dont_ask.isChecked():
            self._settings.set(DEMO_OFFER_DISMISSED, True)
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.handle is not None:
            self.reject()
            event.ignore()
            return
        super().closeEvent(event)


def should_offer_demo(is_embedded: bool, is_empty: bool, settings: Settings) -> bool:
    return is_embedded and is_empty and not settings.get(DEMO_OFFER_DISMISSED)


__all__ = ["DemoDataDialog", "should_offer_demo"]

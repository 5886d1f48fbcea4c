"""The status bar: the database in use, and the background work under way."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QStatusBar, QWidget

from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.views.common.resources import themed_icon
from minicrm_desktop.views.common.widgets import ElidedLabel


class AppStatusBar(QStatusBar):
    def __init__(self, bus: EventBus, database_description: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[int, tuple[str, float, str]] = {}
        self.work_label = QLabel()
        self.work_label.setObjectName("work_label")
        self.work_bar = QProgressBar()
        self.work_bar.setMaximumWidth(160)
        self.work_bar.setMaximumHeight(14)
        self.work_bar.setTextVisible(False)
        self.work_bar.setRange(0, 1000)
        self.addPermanentWidget(self.work_label)
        self.addPermanentWidget(self.work_bar)

        db = QWidget()
        row = QHBoxLayout(db)
        row.setContentsMargins(6, 0, 6, 0)
        row.setSpacing(6)
        db_icon = QLabel()
        themed_icon(db_icon, "database", lambda label, ic: label.setPixmap(ic.pixmap(16, 16)))
        row.addWidget(db_icon)
        self.database_label = ElidedLabel("Opening database…")
        self.database_label.setObjectName("database_label")
        row.addWidget(self.database_label)
        self.database_description = database_description
        self.addPermanentWidget(db)
        self._update()

        bus.task_started.connect(self._started)
        bus.task_progress.connect(self._progress)
        bus.task_finished.connect(self._finished)
        bus.database_ready.connect(lambda: self.database_label.setText(database_description))
        bus.database_failed.connect(
            lambda _m: self.database_label.setText("Database unavailable"))

    def _started(self, task_id: int, title: str) -> None:
        self._tasks[task_id] = (title, -1.0, "")
        self._update()

    def _progress(self, task_id: int, fraction: float, text: str) -> None:
        if task_id in self._tasks:
            self._tasks[task_id] = (self._tasks[task_id][0], fraction, text)
            self._update()

    def _finished(self, task_id: int) -> None:
        self._tasks.pop(task_id, None)
        self._update()

    def _update(self) -> None:
        if not self._tasks:
            self.work_label.setText("")
            self.work_label.setVisible(False)
            self.work_bar.setVisible(False)
            return
        title, fraction, text = next(reversed(self._tasks.values()))
        more = f" (+{len(self._tasks) - 1} more)" if len(self._tasks) > 1 else ""
        self.work_label.setText(f"{title}{' — ' + text if text else ''}{more}")
        self.work_label.setVisible(True)
        self.work_bar.setVisible(True)
        if fraction < 0:
            self.work_bar.setRange(0, 0)  # busy
        else:
            self.work_bar.setRange(0, 1000)
            self.work_bar.setValue(int(fraction * 1000))

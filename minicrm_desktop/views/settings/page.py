"""The Settings page: where MiniCRM keeps its data, and the sections other parts add
(shared MySQL server, AI assistant, sign-in), in a scroll area so none is ever clipped."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop import __version__
from minicrm_desktop.services.core.paths import log_dir
from minicrm_desktop.services.core.settings import settings_path
from minicrm_desktop.views.common.widgets import PageHeader, muted_label, value_label


class SettingsPage(QWidget):
    def __init__(self, database_description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.addWidget(PageHeader("Settings", "Where MiniCRM keeps its data, and how it "
                                               "signs in and reaches its AI assistant."))
        body = QWidget()
        self._column = QVBoxLayout(body)
        self._column.setContentsMargins(0, 0, 8, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Not a Tab stop of its own: focusing a control scrolls it into view.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        group = QGroupBox("Database")
        column = QVBoxLayout(group)
        form = QFormLayout()
        self.database_label = value_label(database_description)
        self.database_label.setObjectName("settings_database")
        form.addRow("In use:", self.database_label)
        column.addLayout(form)
        column.addWidget(muted_label("Choose another with --db URL or MINICRM_DATABASE_URL "
                                "(sqlite:///path/crm.db or mysql+pymysql://user@host/crm)."))
        self._column.addWidget(group)
        files = QGroupBox("Files")
        files_form = QFormLayout(files)
        files_form.addRow("Settings:", value_label(str(settings_path())))
        files_form.addRow("Logs:", value_label(str(log_dir())))
        files_form.addRow("Version:", value_label(f"MiniCRM {__version__}"))
        self._column.addWidget(files)
        self._column.addStretch(1)

    def add_section(self, section: QWidget) -> None:
        """Add a group of settings below the others."""
        self._column.insertWidget(self._column.count() - 1, section)  # above the stretch

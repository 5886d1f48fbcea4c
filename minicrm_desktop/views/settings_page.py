"""The Settings page: where MiniCRM keeps its data, for now."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from minicrm_desktop import __version__
from minicrm_desktop.services.paths import log_dir
from minicrm_desktop.services.settings import settings_path
from minicrm_desktop.views.widgets import PageHeader


class SettingsPage(QWidget):
    def __init__(self, database_description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(PageHeader("Settings", "Where MiniCRM keeps its data."))
        group = QGroupBox("Database")
        column = QVBoxLayout(group)
        form = QFormLayout()
        self.database_label = _value(database_description)
        self.database_label.setObjectName("settings_database")
        form.addRow("In use:", self.database_label)
        column.addLayout(form)
        column.addWidget(_muted("Choose another with --db URL or MINICRM_DATABASE_URL "
                                "(sqlite:///path/crm.db or mysql+pymysql://user@host/crm)."))
        layout.addWidget(group)
        files = QGroupBox("Files")
        files_form = QFormLayout(files)
        files_form.addRow("Settings:", _value(str(settings_path())))
        files_form.addRow("Logs:", _value(str(log_dir())))
        files_form.addRow("Version:", _value(f"MiniCRM {__version__}"))
        layout.addWidget(files)
        layout.addStretch(1)


def _value(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)
    return label

"""The Customers page: search, the big table, the detail panel, import and export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.bus import EventBus
from minicrm_desktop.services.customer_queries import CustomerQuery, export_customers_csv
from minicrm_desktop.services.tasks import TaskCancelled, TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.views.customer_detail import CustomerDetailPanel
from minicrm_desktop.views.customers_model import COLUMNS, CustomerTableModel
from minicrm_desktop.views.file_dialogs import SaveCsvDialog
from minicrm_desktop.views.formatting import format_count
from minicrm_desktop.views.resources import icon, themed_icon
from minicrm_desktop.views.widgets import PageHeader

SEARCH_DELAY_MS = 250
# Sized so the first seven columns fit beside the detail panel in a 1280 px window.
_WIDTHS = {"name": 135, "email": 215, "city": 90, "total_spend": 100, "order_count": 56,
           "last_order_at": 95, "signup_date": 95, "phone": 130, "subscribed": 84}


class CustomersPage(QWidget):
    import_requested = Signal()
    #: An export finished: (path, rows written) — or (path, -1) when cancelled.
    export_finished = Signal(object, int)
    #: A short message for the status bar.
    status_message = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self._bus = bus
        self._started = False
        self.export_handle: TaskHandle[Any] | None = None
        self.model = CustomerTableModel(engine, runner, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(PageHeader("Customers", "Everyone in your database, with what "
                                                 "they bought."))

        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("customer_search")
        self.search.setPlaceholderText("Search name, email, phone or city  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        themed_icon(self.search.addAction(icon("search"),
                                          QLineEdit.ActionPosition.LeadingPosition), "search")
        self.search.setMinimumWidth(220)
        bar.addWidget(self.search, 2)
        self.count_label = QLabel("Opening database…")
        self.count_label.setObjectName("customer_count")
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        self.import_button = QPushButton("Import CSV…")
        themed_icon(self.import_button, "import")
        self.import_button.clicked.connect(self.import_requested)
        bar.addWidget(self.import_button)
        self.export_button = QPushButton("Export view…")
        themed_icon(self.export_button, "export")
        self.export_button.setToolTip("Save the customers shown, in this order, as CSV")
        self.export_button.clicked.connect(self.export_view)
        bar.addWidget(self.export_button)
        layout.addLayout(bar)

        self.table = QTableView()
        self.table.setObjectName("customers_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vheader = self.table.verticalHeader()
        vheader.setVisible(False)
        # Fixed row heights: Qt never measures a million rows.
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        for i, column in enumerate(COLUMNS):
            self.table.setColumnWidth(i, _WIDTHS.get(column.key, 100))
        header.sortIndicatorChanged.connect(self._on_sort)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)

        self.detail = CustomerDetailPanel(engine, runner)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([1000, 300])
        layout.addWidget(splitter, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_search)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.count_changed.connect(self._show_count)
        self.model.loading_changed.connect(self._on_loading)
        self._reselect: int | None = None
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(lambda: self.detail.show_customer(None))
        self.model.load_failed.connect(lambda msg: self.count_label.setText(
            f"Could not load customers: {msg}"))
        bus.customers_changed.connect(self.refresh)
        bus.database_ready.connect(self.start)

    # --- loading -------------------------------------------------------------------------

    def start(self) -> None:
        """The database is ready: load the first view."""
        if not self._started:
            self._started = True
            self.model.set_query(CustomerQuery())

    def refresh(self) -> None:
        if self._started:
            self.model.refresh()

    def apply_search(self) -> None:
        self._search_timer.stop()
        if self._started:
            self.model.set_search(self.search.text())

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _on_sort(self, section: int, order: Qt.SortOrder) -> None:
        if self._started and section >= 0:
            self.model.sort(section, order)

    def _on_loading(self, loading: bool) -> None:
        if loading and self.model.total is None:
            self.count_label.setText("Loading…")

    def _remember_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._reselect = self.model.customer_id(rows[0].row())

    def _restore_selection(self) -> None:
        wanted, self._reselect = self._reselect, None
        row = self.model.row_of(wanted) if wanted is not None else None
        if row is not None:
            self.table.selectRow(row)  # reloads the detail panel too

    def _show_count(self, n: int) -> None:
        self._restore_selection()
        search = self.model.query.search
        if search:
            self.count_label.setText(f"{format_count(n, 'customer')} match “{search}”")
        else:
            self.count_label.setText(format_count(n, "customer"))

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        self.detail.show_customer(self.model.customer_id(indexes[0].row()) if indexes
                                  else None)

    # --- export --------------------------------------------------------------------------

    def export_view(self) -> None:
        if self.export_handle is not None:
            self.status_message.emit("An export is already running.")
            return
        path = SaveCsvDialog.ask(self, "customers.csv", "Export customers as CSV")
        if path is None:
            return
        self.export_to(path)

    def export_to(self, path: Path) -> TaskHandle[Any]:
        query, engine = self.model.query, self._engine

        def task(ctx: TaskContext) -> int | None:
            def progress(done: int, total: int) -> None:
                ctx.progress(done / total if total else 1.0, f"{done:,} of {total:,} rows")

            return export_customers_csv(engine, query, path, progress=progress,
                                        should_cancel=ctx.cancelled)

        handle = self._runner.run(task, title=f"Exporting to {path.name}",
                                  on_success=lambda n: self._exported(path, n),
                                  on_error=lambda exc: self._export_failed(path, exc))
        handle.finished.connect(self._export_done)
        self.export_handle = handle
        return handle

    def _exported(self, path: Path, written: int | None) -> None:
        if written is None:
            self.status_message.emit("Export cancelled.")
            self.export_finished.emit(path, -1)
        else:
            self.status_message.emit(f"Exported {format_count(written, 'customer')} to {path}")
            self.export_finished.emit(path, written)

    def _export_failed(self, path: Path, exc: BaseException) -> None:
        if isinstance(exc, OSError):  # disk full, no permission: the user's to fix
            self.status_message.emit(f"Could not export to {path}: {exc.strerror or exc}")
            ExportFailed.show(self, f"Could not write {path}:\n{exc.strerror or exc}")
        elif not isinstance(exc, TaskCancelled):
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def _export_done(self) -> None:
        self.export_handle = None


class ExportFailed:
    """The message box after a failed export; tests replace `show`."""

    @classmethod
    def show(cls, parent: QWidget, message: str) -> None:
        QMessageBox.warning(parent, "Export failed", message)

"""The Customers page: search, the big table, the detail panel, import and export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.settings import (
    CUSTOMER_DETAIL_SHOWN,
    CUSTOMER_HIDDEN_COLUMNS,
    DictStore,
    Settings,
)
from minicrm_desktop.services.core.tasks import TaskCancelled, TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.services.customers.rows import CustomerQuery
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog
from minicrm_desktop.views.common.formatting import format_count
from minicrm_desktop.views.common.resources import icon, themed_icon
from minicrm_desktop.views.common.widgets import PageHeader
from minicrm_desktop.views.customers.column_fit import ColumnFitter
from minicrm_desktop.views.customers.detail import CustomerDetailPanel
from minicrm_desktop.views.customers.table_model import COLUMNS, CustomerTableModel

if TYPE_CHECKING:
    # SQLAlchemy and the queries load in the page's tasks, after the window's first paint.
    from sqlalchemy import Engine

SEARCH_DELAY_MS = 250
# Preferred widths: every column fits a 1280 px window; beside the detail panel the
# ColumnFitter narrows them; the column chooser hides what a user does not need.
_WIDTHS = {"name": 130, "email": 200, "city": 90, "total_spend": 96, "order_count": 56,
           "last_order_at": 90, "signup_date": 90, "phone": 120, "subscribed": 80}


class CustomersPage(QWidget):
    import_requested = Signal()
    #: An export finished: (path, rows written) — or (path, -1) when cancelled.
    export_finished = Signal(object, int)
    #: A short message for the status bar.
    status_message = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus,
                 parent: QWidget | None = None, *, settings: Settings | None = None,
                 actor: Actor = LOCAL_ADMIN) -> None:
        super().__init__(parent)
        self._settings = settings or Settings(DictStore())
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
        self.search.setMinimumWidth(160)
        self.search.setAccessibleName("Search customers")
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
        self.columns_button = QToolButton()
        self.columns_button.setObjectName("columns_button")
        self.columns_button.setText("Columns ▾")
        self.columns_button.setAccessibleName("Choose columns")
        self.columns_button.setToolTip("Choose the columns shown (also: right-click a "
                                       "column title)")
        self.columns_button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        bar.addWidget(self.columns_button)
        self.detail_button = QToolButton()
        self.detail_button.setObjectName("detail_button")
        self.detail_button.setText("Details")
        self.detail_button.setCheckable(True)
        self.detail_button.setAccessibleName("Show the customer detail panel")
        self.detail_button.setToolTip("Show or hide the selected customer's details")
        self.detail_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        bar.addWidget(self.detail_button)
        layout.addLayout(bar)

        self.table = QTableView()
        self.table.setObjectName("customers_table")
        self.table.setAccessibleName("Customers")
        self.table.setModel(self.model)
        # Tab leaves the table (arrow keys move between rows), as in any form.
        self.table.setTabKeyNavigation(False)
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
        self.column_fit = ColumnFitter(self.table, [_WIDTHS.get(c.key, 100) for c in COLUMNS],
                                       keep=2)  # name and email
        header.sortIndicatorChanged.connect(self._on_sort)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)

        self.detail = CustomerDetailPanel(engine, runner, bus=bus, actor=actor)
        # F2 edits the selected customer, wherever the focus is on the page (as in a table).
        edit_key = QShortcut(QKeySequence(Qt.Key.Key_F2), self)
        edit_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        edit_key.activated.connect(self._edit_selected)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        # Extra width goes to the table; the panel keeps what its orders table needs.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([1000, 250])
        layout.addWidget(self.splitter, 1)
        self._build_column_menu()
        self.detail_button.setChecked(self._settings.get(CUSTOMER_DETAIL_SHOWN))
        self.detail_button.toggled.connect(self._detail_toggled)
        self.detail.shown.connect(lambda _id: self._update_detail_visibility())
        self._update_detail_visibility()

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
        self._scroll: tuple[int, int] | None = None
        self.model.modelReset.connect(self._after_reset)
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
        if self.model.refreshing:  # same view, fresh data: keep the place too
            self._scroll = (self.table.verticalScrollBar().value(),
                            self.table.horizontalScrollBar().value())

    def _after_reset(self) -> None:
        self.detail.show_customer(None)
        scroll, self._scroll = self._scroll, None
        if scroll is not None:
            # The scroll range follows the new rows a moment later; set it then.
            QTimer.singleShot(0, self, lambda: self._restore_scroll(scroll))

    def _restore_scroll(self, scroll: tuple[int, int]) -> None:
        self.table.verticalScrollBar().setValue(scroll[0])
        self.table.horizontalScrollBar().setValue(scroll[1])

    def _restore_selection(self) -> None:
        """The view's ids are in: select the customer selected before, if still there."""
        wanted, self._reselect = self._reselect, None
        selection = self.table.selectionModel()
        row = self.model.row_of(wanted) if wanted is not None else None
        if row is not None:
            # Select without scrolling to it: the view stays where the user left it.
            flags = (selection.SelectionFlag.ClearAndSelect | selection.SelectionFlag.Rows)
            selection.setCurrentIndex(self.model.index(row, 0), flags)  # reloads the detail
        elif wanted is None and selection.selectedRows():
            # Same rows as before (nothing was reset): read the customer again.
            self.detail.show_customer(self.model.customer_id(selection.selectedRows()[0].row()))
        else:
            self.detail.show_customer(None)  # the customer left the view
        self._update_detail_visibility()

    def _show_count(self, n: int) -> None:
        self._restore_selection()
        search = self.model.query.search
        if search:
            self.count_label.setText(f"{format_count(n, 'customer')} match “{search}”")
        else:
            self.count_label.setText(format_count(n, "customer"))

    def _edit_selected(self) -> None:
        if self.detail.isVisible():
            self.detail.start_edit()

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.detail.show_customer(self.model.customer_id(rows[0].row()) if rows else None)
        self._update_detail_visibility()

    # --- columns and the detail panel ------------------------------------------------------

    def _build_column_menu(self) -> None:
        """A checkable entry per column, in the Columns button and the header's context
        menu; the hidden ones are remembered in the settings."""
        self.column_menu = QMenu("Columns", self)
        self.column_actions: dict[str, QAction] = {}
        hidden = {k for k in self._settings.get(CUSTOMER_HIDDEN_COLUMNS).split(",") if k}
        for i, column in enumerate(COLUMNS):
            action = QAction(column.title, self)
            action.setCheckable(True)
            action.setChecked(column.key not in hidden)
            if column.key == "email":  # who a row is: always shown
                action.setChecked(True)
                action.setEnabled(False)
            self.table.setColumnHidden(i, not action.isChecked())
            action.toggled.connect(lambda on, i=i: self._column_toggled(i, on))
            self.column_menu.addAction(action)
            self.column_actions[column.key] = action
        self.columns_button.setMenu(self.column_menu)
        header = self.table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)

    def _header_menu(self, pos: QPoint) -> None:
        self.column_menu.popup(self.table.horizontalHeader().mapToGlobal(pos))

    def _column_toggled(self, column: int, shown: bool) -> None:
        self.table.setColumnHidden(column, not shown)
        self.column_fit.fit()
        hidden = [c.key for c, a in zip(COLUMNS, self.column_actions.values(), strict=True)
                  if not a.isChecked()]
        self._settings.set(CUSTOMER_HIDDEN_COLUMNS, ",".join(hidden))

    def hidden_columns(self) -> list[str]:
        return [c.key for i, c in enumerate(COLUMNS) if self.table.isColumnHidden(i)]

    def _detail_toggled(self, shown: bool) -> None:
        self._settings.set(CUSTOMER_DETAIL_SHOWN, shown)
        self._update_detail_visibility()

    def _update_detail_visibility(self) -> None:
        """The detail panel takes room only when it has a customer to show and the user
        wants it; otherwise the table gets the whole width."""
        has_customer = bool(self.table.selectionModel().selectedRows())
        self.detail.setVisible(self.detail_button.isChecked() and has_customer)

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

            from minicrm_desktop.services.customers.queries import export_customers_csv

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

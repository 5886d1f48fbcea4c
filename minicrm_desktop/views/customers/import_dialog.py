"""The import dialog: pick a CSV, preview it, map its columns, import in the background,
and end on a report of imported, updated and rejected rows (exportable).

Over 400 lines on purpose: one dialog's four steps share the chosen file, its detected
format and the running task; the import itself lives in services/importing.
"""

from __future__ import annotations

import csv
import functools
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.errors import ImportFileError, MiniCRMError
from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import (
    TaskCancelled,
    TaskContext,
    TaskHandle,
    TaskRunner,
    run_in_process,
)
from minicrm_desktop.services.importing import (
    CUSTOMER_FIELDS,
    DATE_ORDERS,
    ORDER_FIELDS,
    DateOrder,
    FormatReport,
    ImportOptions,
    ImportProgress,
    ImportReport,
    detect_format,
    import_customers,
    import_file_job,
    import_orders,
)
from minicrm_desktop.views.common.file_dialogs import OpenCsvDialog, SaveCsvDialog
from minicrm_desktop.views.common.resources import themed_icon

PREVIEW_ROWS = 8
IGNORE = "(don't import)"
REQUIRED = {"customers": ("email",), "orders": ("order_id", "customer_email", "amount",
                                                "order_date")}
FIELDS = {"customers": CUSTOMER_FIELDS, "orders": ORDER_FIELDS}


@dataclass(frozen=True)
class CsvPreview:
    header: list[str]
    rows: list[list[str]]


def read_preview(path: Path, limit: int = PREVIEW_ROWS) -> CsvPreview:
    """The header and first rows of a CSV: a few kilobytes read, fine on the GUI thread."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ImportFileError(f"{path.name} is empty: expected a header row")
            rows = list(itertools.islice(reader, limit))
    except UnicodeDecodeError:
        raise ImportFileError(f"{path.name} is not UTF-8 text") from None
    except csv.Error as exc:
        raise ImportFileError(f"{path.name} is not valid CSV ({exc})") from None
    except OSError as exc:
        raise ImportFileError(f"cannot open {path}: {exc.strerror or exc}") from None
    return CsvPreview([h.strip() for h in header], rows)


def auto_mapping(header: Sequence[str], fields: Sequence[str]) -> dict[str, str]:
    """CSV header -> field by case-insensitive name; "" (ignored) for the rest."""
    known = {f.lower(): f for f in fields}
    return {h: known.get(h.strip().lower(), "") for h in header}


class ImportDialog(QDialog):
    #: The import ended (report); also published on the bus.
    import_done = Signal(object)
    #: The chosen file's format report is in (FormatReport), or detection failed (None).
    format_detected = Signal(object)
    #: Parse and write in a helper process so the window never stalls (tests may run the
    #: service in the pool thread instead, to gate it).
    use_helper_process = True

    PAGE_SOURCE, PAGE_PROGRESS, PAGE_REPORT = range(3)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus, *, actor: Actor,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actor = actor
        self.setObjectName("import_dialog")
        self.setWindowTitle("Import CSV")
        self.resize(820, 600)
        self._engine = engine
        self._runner = runner
        self._bus = bus
        self.path: Path | None = None
        self.preview: CsvPreview | None = None
        self.report: ImportReport | None = None
        self.handle: TaskHandle[Any] | None = None
        self.combos: dict[str, QComboBox] = {}
        self.format_report: FormatReport | None = None
        self._detect_handle: TaskHandle[Any] | None = None

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_source_page())
        self.pages.addWidget(self._build_progress_page())
        self.pages.addWidget(self._build_report_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

    # --- page 1: file, preview, mapping --------------------------------------------------

    def _build_source_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        kind_row = QHBoxLayout()
        kind_row.addWidget(QLabel("Import:"))
        self.kind_group = QButtonGroup(self)
        self.customers_radio = QRadioButton("Customers")
        self.orders_radio = QRadioButton("Orders")
        self.customers_radio.setChecked(True)
        for button in (self.customers_radio, self.orders_radio):
            self.kind_group.addButton(button)
            kind_row.addWidget(button)
        kind_row.addStretch(1)
        self.kind_group.buttonToggled.connect(lambda *_: self._kind_changed())
        layout.addLayout(kind_row)

        file_row = QHBoxLayout()
        self.file_edit = QLineEdit()
        self.file_edit.setReadOnly(True)
        self.file_edit.setPlaceholderText("No file chosen")
        self.file_edit.setAccessibleName("Chosen file")
        file_row.addWidget(self.file_edit, 1)
        choose = QPushButton("Choose file…")
        themed_icon(choose, "import")
        choose.clicked.connect(self.choose_file)
        file_row.addWidget(choose)
        layout.addLayout(file_row)

        preview_label = _bold("First rows of the file")
        layout.addWidget(preview_label)
        self.preview_table = QTableWidget()
        preview_label.setBuddy(self.preview_table)  # the table's name for screen readers
        self.preview_table.setObjectName("preview_table")
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_table.verticalHeader().setVisible(False)
        layout.addWidget(self.preview_table, 1)

        columns_label = _bold("Columns")
        layout.addWidget(columns_label)
        self.mapping_table = QTableWidget(0, 2)
        columns_label.setBuddy(self.mapping_table)
        self.mapping_table.setObjectName("mapping_table")
        self.mapping_table.setHorizontalHeaderLabels(["Column in the file", "Imported as"])
        self.mapping_table.verticalHeader().setVisible(False)
        self.mapping_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mapping_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.mapping_table, 1)
        self._build_format_box(layout)

        self.error_label = QLabel()
        self.error_label.setObjectName("import_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        layout.addWidget(self.error_label)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons.addWidget(cancel)
        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        return page

    def _build_format_box(self, layout: QVBoxLayout) -> None:
        """What the format report found and proposes, and the two choices it leaves."""
        layout.addWidget(_bold("Formats"))
        self.format_label = QLabel("Choose a file to see its formats.")
        self.format_label.setObjectName("format_report")
        self.format_label.setWordWrap(True)
        self.format_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.format_label)
        row = QHBoxLayout()
        self.lenient_check = QCheckBox("Read amounts leniently (thousands separators, "
                                       "Indian grouping, ₹/Rs/INR signs)")
        row.addWidget(self.lenient_check)
        row.addStretch(1)
        row.addWidget(QLabel("Dates:"))
        self.date_combo = QComboBox()
        self.date_combo.setAccessibleName("Date order")
        self.date_combo.addItem("Choose the date order…", "")
        for order, title in (("ISO", "ISO (2024-12-31)"), ("DMY", "DMY (31/12/2024)"),
                             ("MDY", "MDY (12/31/2024)")):
            self.date_combo.addItem(title, order)
        self.date_combo.setCurrentIndex(self.date_combo.findData("ISO"))
        self.date_combo.currentIndexChanged.connect(lambda *_: self._validate())
        row.addWidget(self.date_combo)
        layout.addLayout(row)

    def options(self) -> ImportOptions:
        """The reading the user chose (ISO until a date order is chosen)."""
        chosen = self.date_combo.currentData()
        dates: DateOrder = next((o for o in DATE_ORDERS if o == chosen), "ISO")
        return ImportOptions(amounts="lenient" if self.lenient_check.isChecked()
                             else "strict", dates=dates)

    @property
    def detecting(self) -> bool:
        return self._detect_handle is not None

    def _kind_changed(self) -> None:
        self._refresh_mapping()
        if self.path is not None and self.preview is not None:
            self._detect(self.path)

    def _detect(self, path: Path) -> None:
        """Read the file's formats in the background; Import waits for the report."""
        if self._detect_handle is not None:
            self._detect_handle.cancel()
        self.format_report = None
        self.format_label.setText("Reading the file's formats…")
        kind = self.kind

        def task(_ctx: TaskContext) -> FormatReport:
            return detect_format(path, kind)

        handle: TaskHandle[Any] = self._runner.run(
            task, title=f"Reading {path.name}", quiet=True,
            on_success=lambda r: self._detected(handle, r),
            on_error=lambda exc: self._detect_failed(handle, exc))
        self._detect_handle = handle
        self._validate()

    def _detected(self, handle: TaskHandle[Any], report: FormatReport) -> None:
        if handle is not self._detect_handle:
            return  # a newer file or kind was chosen since
        self._detect_handle = None
        self.format_report = report
        if report.problem:
            self.format_label.setText(report.problem if report.looks_like
                                      else f"Formats not read: {report.problem}")
        else:
            lines = [ln for ln in report.lines()
                     if not ln.startswith(("choose the date order", "proposed:"))]
            if report.needs_date_choice:
                lines.append("The dates read either way (day or month first): choose the "
                             "date order below.")
            lines.append(f"Proposed: amounts {report.options.amounts}, dates "
                         f"{'to choose' if report.needs_date_choice else report.options.dates}")
            self.format_label.setText("\n".join(lines))
        self.lenient_check.setChecked(report.options.amounts == "lenient")
        wanted = "" if report.needs_date_choice else report.options.dates
        self.date_combo.setCurrentIndex(max(0, self.date_combo.findData(wanted)))
        self._validate()
        self.format_detected.emit(report)

    def _detect_failed(self, handle: TaskHandle[Any], exc: BaseException) -> None:
        if handle is not self._detect_handle:
            return
        self._detect_handle = None
        if isinstance(exc, MiniCRMError):
            self.format_label.setText(str(exc))
        elif not isinstance(exc, TaskCancelled):
            self.format_label.setText(f"Could not read the file's formats: {exc}")
            sys.excepthook(type(exc), exc, exc.__traceback__)
        self._validate()
        self.format_detected.emit(None)

    @property
    def kind(self) -> str:
        return "orders" if self.orders_radio.isChecked() else "customers"

    def set_kind(self, kind: str) -> None:
        (self.orders_radio if kind == "orders" else self.customers_radio).setChecked(True)

    def choose_file(self) -> None:
        path = OpenCsvDialog.ask(self, f"Choose a CSV file of {self.kind}")
        if path is not None:
            self.load_file(path)

    def load_file(self, path: Path) -> bool:
        """Preview `path` and map its columns; False (with the reason shown) if unusable."""
        self.path = path
        self.file_edit.setText(str(path))
        try:
            self.preview = read_preview(path)
        except ImportFileError as exc:
            self.preview = None
            self._show_preview(CsvPreview([], []))
            self._refresh_mapping()
            self.error_label.setText(str(exc))
            return False
        self._show_preview(self.preview)
        self._refresh_mapping()
        self._detect(path)
        return True

    def _show_preview(self, preview: CsvPreview) -> None:
        table = self.preview_table
        table.clear()
        table.setColumnCount(len(preview.header))
        table.setRowCount(len(preview.rows))
        table.setHorizontalHeaderLabels(preview.header)
        for r, row in enumerate(preview.rows):
            for c, cell in enumerate(row[: len(preview.header)]):
                table.setItem(r, c, QTableWidgetItem(cell))
        table.resizeColumnsToContents()
        for c in range(table.columnCount()):
            table.setColumnWidth(c, min(table.columnWidth(c), 240))

    def _refresh_mapping(self) -> None:
        header = self.preview.header if self.preview else []
        fields = FIELDS[self.kind]
        self.mapping_table.setRowCount(len(header))
        self.combos.clear()
        for r, (name, target) in enumerate(auto_mapping(header, fields).items()):
            self.mapping_table.setItem(r, 0, QTableWidgetItem(name or "(blank)"))
            combo = QComboBox()
            combo.addItem(IGNORE, "")
            for f in fields:
                combo.addItem(f, f)
            combo.setCurrentIndex(max(0, combo.findData(target)))
            combo.currentIndexChanged.connect(lambda *_: self._validate())
            self.mapping_table.setCellWidget(r, 1, combo)
            self.combos[name] = combo
        self._validate()

    def mapping(self) -> dict[str, str]:
        """CSV header -> field, "" for columns not imported (the import service's form)."""
        return {name: str(combo.currentData()) for name, combo in self.combos.items()}

    def set_mapping(self, header: str, field: str) -> None:
        combo = self.combos[header]
        combo.setCurrentIndex(combo.findData(field))

    def _validate(self) -> None:
        problem = self._mapping_problem()
        self.error_label.setText(problem or "")
        self.import_button.setEnabled(problem is None)

    def _mapping_problem(self) -> str | None:
        if self.preview is None:
            return None if self.path is None else self.error_label.text() or "unusable file"
        report = self.format_report
        if report is not None and report.looks_like:
            return report.problem  # a file of the other kind (WrongKindError), said first
        targets = [f for f in self.mapping().values() if f]
        duplicates = sorted({f for f in targets if targets.count(f) > 1})
        if duplicates:
            return f"Two columns are imported as “{duplicates[0]}”; choose one."
        missing = [f for f in REQUIRED[self.kind] if f not in targets]
        if missing:
            return f"Choose the column holding “{missing[0]}” (required)."
        if self.detecting:
            return "Reading the file's formats…"
        report = self.format_report
        if report is not None and report.needs_date_choice and not self.date_combo.currentData():
            return "Choose the date order (DMY or MDY): this file's dates read either way."
        return None

    # --- page 2: progress ----------------------------------------------------------------

    def _build_progress_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.progress_title = QLabel("Importing…")
        layout.addWidget(self.progress_title)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        layout.addWidget(self.progress_bar)
        self.progress_label = QLabel("")
        layout.addWidget(self.progress_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.clicked.connect(self.cancel_import)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addStretch(2)
        return page

    def start_import(self) -> TaskHandle[Any] | None:
        if self.path is None or self._mapping_problem() is not None or self.handle is not None:
            return None
        path, kind, mapping, engine = self.path, self.kind, self.mapping(), self._engine
        actor, options = self.actor, self.options()
        run = import_orders if kind == "orders" else import_customers
        in_process = self.use_helper_process

        def task(ctx: TaskContext) -> ImportReport:
            def progress(p: ImportProgress) -> None:
                ctx.progress(p.fraction, f"{p.rows_read:,} rows read")

            if in_process:
                url = engine.url.render_as_string(hide_password=False)
                report: ImportReport = run_in_process(
                    functools.partial(import_file_job, options=options),
                    (url, kind, path, mapping, actor), progress=progress,
                    should_cancel=ctx.cancelled, name=f"minicrm-import-{kind}")
                return report
            return run(engine, path, mapping=mapping, progress=progress,
                       should_cancel=ctx.cancelled, actor=actor, options=options)

        self.progress_title.setText(f"Importing {kind} from {path.name}…")
        self.progress_bar.setValue(0)
        self.progress_label.setText("Starting…")
        self.cancel_button.setEnabled(True)
        self.pages.setCurrentIndex(self.PAGE_PROGRESS)
        self.handle = self._runner.run(
            task, title=f"Importing {path.name}", on_success=self._finished,
            on_error=self._failed, on_progress=self._progress,
        )
        return self.handle

    def _progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(int(fraction * 1000))
        self.progress_label.setText(text)

    def cancel_import(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling after the current batch…")

    def _failed(self, exc: BaseException) -> None:
        self.handle = None
        self.pages.setCurrentIndex(self.PAGE_SOURCE)
        if isinstance(exc, TaskCancelled):
            self.error_label.setText("The import was cancelled before it started; "
                                     "nothing was imported.")
        elif isinstance(exc, ImportFileError):
            self.error_label.setText(str(exc))
            self.import_button.setEnabled(False)
        elif isinstance(exc, MiniCRMError):  # the database failed part-way: says how far
            self.error_label.setText(str(exc))
        else:
            self.error_label.setText(f"The import failed: {exc}")
            sys.excepthook(type(exc), exc, exc.__traceback__)  # a bug: log + crash dialog

    def _finished(self, report: ImportReport) -> None:
        self.handle = None
        self.report = report
        self._show_report(report)
        self.pages.setCurrentIndex(self.PAGE_REPORT)
        self.import_done.emit(report)
        self._bus.import_finished.emit(report)
        if report.rows_taken:
            self._bus.customers_changed.emit()

    # --- page 3: report ------------------------------------------------------------------

    def _build_report_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.report_title = QLabel()
        font = self.report_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.report_title.setFont(font)
        layout.addWidget(self.report_title)
        counts = QFormLayout()
        self.imported_label, self.updated_label, self.rejected_label = (QLabel(), QLabel(),
                                                                       QLabel())
        self.unchanged_label = QLabel()
        counts.addRow("Imported (new):", self.imported_label)
        counts.addRow("Updated:", self.updated_label)
        counts.addRow("Unchanged:", self.unchanged_label)
        counts.addRow("Rejected:", self.rejected_label)
        layout.addLayout(counts)
        self.cancelled_label = QLabel(
            "The import was cancelled: rows after the last completed batch were not read.")
        self.cancelled_label.setWordWrap(True)
        layout.addWidget(self.cancelled_label)
        layout.addWidget(_bold("Rejected rows"))
        self.rejections_table = QTableWidget(0, 3)
        self.rejections_table.setObjectName("rejections_table")
        self.rejections_table.setHorizontalHeaderLabels(["Line", "Column", "Reason"])
        self.rejections_table.verticalHeader().setVisible(False)
        self.rejections_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.rejections_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.rejections_table, 1)
        row = QHBoxLayout()
        self.export_rejections_button = QPushButton("Export rejected rows…")
        themed_icon(self.export_rejections_button, "export")
        self.export_rejections_button.clicked.connect(self.export_rejections)
        row.addWidget(self.export_rejections_button)
        row.addStretch(1)
        close = QPushButton("Close")
        close.setDefault(True)
        close.clicked.connect(self.accept)
        row.addWidget(close)
        layout.addLayout(row)
        return page

    def _show_report(self, report: ImportReport) -> None:
        title = "Import cancelled" if report.cancelled else "Import finished"
        self.report_title.setText(f"{title}: {report.kind}")
        self.imported_label.setText(f"{report.imported:,}")
        self.updated_label.setText(f"{report.updated:,}")
        self.unchanged_label.setText(f"{report.unchanged:,}")
        self.rejected_label.setText(f"{len(report.rejected):,}")
        self.cancelled_label.setVisible(report.cancelled)
        table = self.rejections_table
        table.setRowCount(len(report.rejected))
        for r, rejection in enumerate(report.rejected):
            line = QTableWidgetItem(str(rejection.line))
            line.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, 0, line)
            table.setItem(r, 1, QTableWidgetItem(rejection.column or ""))
            table.setItem(r, 2, QTableWidgetItem(rejection.reason))
        self.export_rejections_button.setEnabled(bool(report.rejected))

    def export_rejections(self) -> Path | None:
        if self.report is None:
            return None
        stem = self.path.stem if self.path else "import"
        path = SaveCsvDialog.ask(self, f"{stem}-rejected.csv", "Save the rejected rows")
        if path is not None:
            self.report.write_rejections_csv(path)
        return path

    # --- closing -------------------------------------------------------------------------

    def reject(self) -> None:
        if self.handle is not None:
            self.cancel_import()  # the report page follows; the dialog stays open
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.handle is not None:
            self.cancel_import()
            event.ignore()
            return
        super().closeEvent(event)


def _bold(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label

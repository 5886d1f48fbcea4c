"""MariaDB imports through LOAD DATA LOCAL (importing/staged.py): the client sends only the
file the import wrote, values arrive exactly, and every import guarantee still holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.bulkload.load_local import (
    GuardedConnection,
    RefusedLocalFile,
    load_local_engine,
    sending,
)
from minicrm_desktop.services.importing import import_customers
from minicrm_desktop.services.importing.batches import write_rows
from minicrm_desktop.services.importing.customers import _write_batch as write_customers
from tests.helpers import (
    assert_tags_consistent,
    customers_by_email,
    refused_visits_batch,
    write_csv,
)

pytestmark = pytest.mark.mysql


@pytest.fixture
def loader(mysql_engine: Engine) -> Iterator[Engine]:
    engine = load_local_engine(mysql_engine)
    assert engine is not None
    yield engine
    engine.dispose()


def _scratch(conn: Any) -> None:
    conn.exec_driver_sql("CREATE TEMPORARY TABLE scratch (line TEXT)")


def test_the_server_gets_only_the_armed_file(loader: Engine, tmp_path: Path) -> None:
    ours = tmp_path / "ours.csv"
    ours.write_text("ours\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret\n")
    with loader.connect() as conn:
        assert isinstance(conn.connection.dbapi_connection, GuardedConnection)
        _scratch(conn)
        load = "LOAD DATA LOCAL INFILE %s INTO TABLE scratch"
        # A (rogue) server asking for another file than the one armed gets nothing...
        with sending(conn, str(ours)), pytest.raises(OperationalError) as refused:
            conn.exec_driver_sql(load, (str(secret),))
        assert isinstance(refused.value.orig, RefusedLocalFile)
        assert "secret.txt" in str(refused.value.orig)
        # ...nor any file while nothing is armed, even the import's own.
        with pytest.raises(OperationalError) as unarmed:
            conn.exec_driver_sql(load, (str(ours),))
        assert isinstance(unarmed.value.orig, RefusedLocalFile)
        conn.rollback()
        # The connection stays in step with the server, and the armed file does go.
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM scratch").scalar() == 0
        with sending(conn, str(ours)):
            conn.exec_driver_sql(load, (str(ours),))
        assert conn.exec_driver_sql("SELECT line FROM scratch").scalars().all() == ["ours"]


def test_the_app_engine_sends_no_files(mysql_engine: Engine, tmp_path: Path) -> None:
    ours = tmp_path / "ours.csv"
    ours.write_text("ours\n")
    with mysql_engine.connect() as conn:
        assert not isinstance(conn.connection.dbapi_connection, GuardedConnection)
        _scratch(conn)
        with pytest.raises(OperationalError):
            conn.exec_driver_sql("LOAD DATA LOCAL INFILE %s INTO TABLE scratch", (str(ours),))


HOSTILE = ['Zoë "Q", \\N', "NULL", "\\", "a\tb", "O'Brien; DROP TABLE customers; --",
           "0x41", "İstanbul ǅ 🎉", "  padded  "]


def test_values_arrive_exactly(mysql_engine: Engine, tmp_path: Path) -> None:
    lines = ["email,name,phone,city,visits,last_visit,subscribed,tags"]
    for i, name in enumerate(HOSTILE):
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"p{i}@Example.com,{quoted},,{quoted},{i},,no,\"VIP|{i}\"")
    lines.append("empty@example.com,,,,0,2026-01-02T03:04:05Z,yes,")
    report = import_customers(mysql_engine, write_csv(tmp_path / "c.csv", "\n".join(lines)),
                              actor=LOCAL_ADMIN)
    assert report.rejected == []
    assert report.imported == len(HOSTILE) + 1
    people = customers_by_email(mysql_engine)
    for i, name in enumerate(HOSTILE):
        person = people[f"p{i}@example.com"]
        assert (person.name, person.city, person.phone) == (name.strip(), name.strip(), None)
        assert (person.visits, person.subscribed, person.last_visit) == (i, False, None)
        assert person.email == f"p{i}@Example.com"
    assert people["empty@example.com"].name is None
    assert_tags_consistent(mysql_engine)


def test_a_refused_row_is_isolated_when_staged(loader: Engine) -> None:
    batch = refused_visits_batch()
    report = write_rows(loader, "customers", write_customers, batch, {"email", "visits"})
    assert [(r.line, r.column) for r in report.rejected] == [(19, "visits"), (32, "visits")]
    assert all("the database refused this row" in r.reason for r in report.rejected)
    assert report.imported == 38
    with loader.connect() as conn:
        stored = set(conn.execute(text("SELECT email_norm FROM customers")).scalars())
    assert stored == {f"r{i}@example.com" for i in range(40) if i not in (17, 30)}


def test_counts_and_kept_signup_dates_on_reimport(mysql_engine: Engine, tmp_path: Path) -> None:
    first = "email,name,signup_date,tags\n" + "".join(
        f"u{i}@example.com,N{i},2020-01-0{1 + i % 5}T00:00:00Z,a|b\n" for i in range(30))
    import_customers(mysql_engine, write_csv(tmp_path / "a.csv", first), actor=LOCAL_ADMIN)
    # Ten renamed, one with its tags changed, twenty the same; empty dates keep the stored.
    second = "email,name,signup_date,tags\n" + "".join(
        f"u{i}@example.com,{'M' if i < 10 else 'N'}{i},,{'c' if i == 29 else 'a|b'}\n"
        for i in range(30)) + "new@example.com,New,,\n"
    report = import_customers(mysql_engine, write_csv(tmp_path / "b.csv", second),
                              actor=LOCAL_ADMIN)
    assert (report.imported, report.updated, report.unchanged) == (1, 11, 19)
    people = customers_by_email(mysql_engine)
    assert people["u3@example.com"].signup_date.day == 4
    assert people["u3@example.com"].name == "M3"
    assert [t.name for t in people["u29@example.com"].tags] == ["c"]
    assert_tags_consistent(mysql_engine)


def test_an_engine_made_elsewhere_imports_through_inserts(mysql_database_url: str,
                                                          tmp_path: Path) -> None:
    """No sibling engine to make (and so no LOAD DATA LOCAL): the multi-row INSERT path."""
    plain = create_engine(mysql_database_url)
    try:
        assert load_local_engine(plain) is None
        report = import_customers(plain, write_csv(tmp_path / "c.csv", "email\nx@example.com\n"),
                                  actor=LOCAL_ADMIN)
        assert report.imported + report.updated + report.unchanged == 1
    finally:
        plain.dispose()


def test_a_server_without_local_infile_imports_through_inserts(
    mysql_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    import minicrm_desktop.services.bulkload.load_local as load_local

    monkeypatch.setattr(load_local, "can_load_local", lambda _conn: False)
    caplog.set_level("INFO", logger="minicrm_desktop.services.importing.batches")
    report = import_customers(mysql_engine, write_csv(tmp_path / "c.csv", "email,visits\n"
                              + "".join(f"f{i}@example.com,{i}\n" for i in range(50))),
                              actor=LOCAL_ADMIN, batch_size=20)
    assert report.imported == 50
    assert "not LOAD DATA LOCAL: _NotAvailable: the server has local_infile off" in caplog.text

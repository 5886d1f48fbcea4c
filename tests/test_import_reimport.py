"""Re-importing: a file of the other kind is refused by name, rejected rows export as the
file had them and import again once fixed, and identical rows count as unchanged (on both
engines, in batches and through the bulk path)."""

from __future__ import annotations

import csv
from collections.abc import Collection
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import minicrm_desktop.services.bulkload.indexes as indexes
from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.errors import ImportFileError
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.importing import ImportReport, import_customers, import_orders
from minicrm_desktop.services.importing.kinds import WrongKindError
from minicrm_desktop.services.importing.rejected import export_rejected_rows
from tests.helpers import assert_aggregates_consistent, snapshot, write_csv

ORDERS = "order_id,customer_email,amount,order_date\nA-1,a@example.com,10,2025-01-01\n"
CUSTOMERS = "email,name\na@example.com,Asha\n"


def main(argv: list[str]) -> int:
    return cli_main(argv, actor=LOCAL_ADMIN)


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


# --- a file of the other kind ---------------------------------------------------------------


def test_orders_file_picked_as_customers_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "o.csv", ORDERS.replace("order_id", "Order_ID"))
    with pytest.raises(WrongKindError) as caught:
        import_customers(engine, path, actor=LOCAL_ADMIN)
    assert str(caught.value) == (
        "this looks like an orders file (columns Order_ID, customer_email, amount, …), not "
        "customers: import it with `minicrm import orders`")
    assert isinstance(caught.value, ImportFileError)
    assert count(engine, "customers") == count(engine, "orders") == 0


def test_customers_file_picked_as_orders_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with pytest.raises(WrongKindError, match="looks like a customers file .*"
                       r"`minicrm import customers`"):
        import_orders(engine, path, actor=LOCAL_ADMIN)
    assert count(engine, "orders") == 0


def test_cli_wrong_kind_exit_2_nothing_written(
    engine: Engine, db_url: str, tmp_path: Path, capsys
) -> None:
    path = write_csv(tmp_path / "o.csv", ORDERS)
    assert main(["--db", db_url, "import", "customers", str(path)]) == 2
    err = capsys.readouterr().err
    assert "this looks like an orders file (columns order_id, customer_email, amount, …)" in err
    assert "import it with `minicrm import orders`" in err
    assert count(engine, "customers") == 0
    # --detect says the same, and writes nothing either.
    assert main(["--db", db_url, "import", "customers", str(path), "--detect"]) == 2
    assert "looks like an orders file" in capsys.readouterr().err


def test_a_mixed_header_is_refused_as_before(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "email,amount\na@example.com,1\n")
    with pytest.raises(ImportFileError, match="^unknown column 'amount'"):
        import_customers(sqlite_engine, path, actor=LOCAL_ADMIN)


# --- rejected rows, exported and imported again ---------------------------------------------

BAD_CUSTOMERS = (
    "email,name,phone,visits,signup_date\n"
    "ok1@example.com,Ok One,,1,2024-01-01\n"
    "broken,Broken Email,,2,2024-01-02\n"
    "f@example.com,=HYPERLINK(\"http://x\"),+91 98200 1,many,2024-01-03\n"
    "ok2@example.com,Ok Two,,3,2024-01-04\n"
    "d@example.com,'quoted,-5,4,31/12/2024\n"
    "w@example.com,Wide,,5,2024-01-05,extra\n"
)
FIXES = {"broken": "broken@example.com", "many": "7", "31/12/2024": "2024-12-31"}


def test_rejected_rows_export_and_round_trip(engine: Engine, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "c.csv", BAD_CUSTOMERS)
    report = import_customers(engine, source, actor=LOCAL_ADMIN)
    assert [(r.line, r.column) for r in report.rejected] == [
        (3, "email"), (4, "visits"), (6, "signup_date"), (7, None)]
    out = tmp_path / "rejected.csv"
    assert export_rejected_rows(source, report.rejected, out) == 4

    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["email", "name", "phone", "visits", "signup_date", "line", "column",
                       "reason"]
    assert rows[1][:7] == ["broken", "Broken Email", "", "2", "2024-01-02", "3", "email"]
    assert rows[1][7] == report.rejected[0].reason
    # Formula-like cells are neutralised for spreadsheets (and an apostrophe escaped too).
    assert rows[2][:5] == ["f@example.com", "'=HYPERLINK(\"http://x\")", "'+91 98200 1", "many",
                           "2024-01-03"]
    assert rows[3][:5] == ["d@example.com", "''quoted", "'-5", "4", "31/12/2024"]
    # A row of the wrong width keeps all its cells, the extras in its last column.
    assert rows[4][:7] == ["w@example.com", "Wide", "", "5", "2024-01-05,extra", "7", ""]
    assert rows[4][7] == "expected 5 fields, found 6"

    # Fix the cells (as a person would in a spreadsheet), import the export as it is.
    fixed = [rows[0]] + [[FIXES.get(c, c) for c in row] for row in rows[1:]]
    fixed[4][4] = "2024-01-05"
    with out.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(fixed)
    again = import_customers(engine, out, actor=LOCAL_ADMIN)
    assert again.rejected == []
    assert again.imported == 4
    with engine.connect() as conn:
        stored = {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT email_norm, name, phone, visits FROM customers"))}
    assert stored["f@example.com"] == ("=HYPERLINK(\"http://x\")", "+91 98200 1", 7)
    assert stored["d@example.com"] == ("'quoted", "-5", 4)
    assert stored["broken@example.com"] == ("Broken Email", None, 2)
    assert len(stored) == 6


def test_cli_rejected_option(engine: Engine, db_url: str, tmp_path: Path, capsys) -> None:
    source = write_csv(tmp_path / "c.csv", "email,visits\na@example.com,1\nb@example.com,x\n")
    out = tmp_path / "rej.csv"
    assert main(["--db", db_url, "import", "customers", str(source), "--rejected",
                 str(out)]) == 1
    assert "1 rejected row(s) written to" in capsys.readouterr().out
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["email", "visits", "line", "column", "reason"]
    assert rows[1][:4] == ["b@example.com", "x", "3", "visits"]
    write_csv(out, out.read_text(encoding="utf-8").replace("b@example.com,x", "b@example.com,2"))
    assert main(["--db", db_url, "import", "customers", str(out)]) == 0
    assert count(engine, "customers") == 2


def test_cli_detect_and_lenient_options(
    engine: Engine, db_url: str, tmp_path: Path, capsys
) -> None:
    write_csv(tmp_path / "c.csv", "email\na@example.com\n")
    assert main(["--db", db_url, "import", "customers", str(tmp_path / "c.csv")]) == 0
    orders = write_csv(tmp_path / "o.csv", "order_id,customer_email,amount,order_date\n"
                       "1,a@example.com,\"₹1,00,000\",01/02/2024\n"
                       "2,a@example.com,Rs. 500,13/02/2024\n")
    capsys.readouterr()
    assert main(["--db", db_url, "import", "orders", str(orders), "--detect"]) == 0
    out = capsys.readouterr().out
    assert "amounts: Indian grouping and Rs. and ₹ signs — ₹1,00,000 reads as 100000.00" in out
    assert "dates: day first (DMY) — line 3 has 13/02/2024, which can only be 13 February 2024" \
        in out
    assert out.rstrip().endswith("proposed: --amounts lenient --dates DMY")
    assert count(engine, "orders") == 0
    # Strict by default: both rows refused, with a pointer to --detect.
    assert main(["--db", db_url, "import", "orders", str(orders)]) == 1
    assert count(engine, "orders") == 0
    assert f"hint: `minicrm import orders {orders} --detect`" in capsys.readouterr().out
    assert main(["--db", db_url, "import", "orders", str(orders), "--amounts", "lenient",
                 "--dates", "DMY"]) == 0
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT total_spend_minor FROM customers")).scalar_one() == 100_000_00 + 500_00
    assert_aggregates_consistent(engine)


# --- unchanged and updated ----------------------------------------------------------------


def customers_file(path: Path, n: int, changed: Collection[int] = ()) -> Path:
    rows = "".join(
        f"user{i}@example.com,{'Changed' if i in changed else 'Name'} {i},Pune,"
        f"{i % 9},vip|x{i % 3}\n" for i in range(n))
    return write_csv(path, "email,name,city,visits,tags\n" + rows)


def orders_file(path: Path, n: int, changed: Collection[int] = ()) -> Path:
    rows = "".join(
        f"O{i},user{i % 50}@example.com,{i + (1 if i in changed else 0)}.50,2025-01-01\n"
        for i in range(n))
    return write_csv(path, "order_id,customer_email,amount,order_date\n" + rows)


def counts(r: ImportReport) -> tuple[int, int, int, int]:
    return (r.imported, r.updated, r.unchanged, len(r.rejected))


def test_unchanged_and_updated_counts(engine: Engine, tmp_path: Path) -> None:
    first = customers_file(tmp_path / "c1.csv", 60)
    assert counts(import_customers(engine, first, actor=LOCAL_ADMIN)) == (60, 0, 0, 0)
    assert counts(import_customers(engine, first, actor=LOCAL_ADMIN)) == (0, 0, 60, 0)
    changed = customers_file(tmp_path / "c2.csv", 62, changed={3, 40})
    report = import_customers(engine, changed, batch_size=25, actor=LOCAL_ADMIN)
    assert counts(report) == (2, 2, 58, 0)
    assert "2 imported, 2 updated, 58 unchanged, 0 rejected" in report.summary()
    # Only the tags differ: the customer is updated.
    retag = write_csv(tmp_path / "c3.csv", "email,tags\nuser1@example.com,vip|x1\n"
                      "user2@example.com,vip\n")
    assert counts(import_customers(engine, retag, actor=LOCAL_ADMIN)) == (0, 1, 1, 0)
    # The same row twice in a file: the repeat changes nothing. The email as written is
    # part of the record: another case of it is an update.
    twice = write_csv(tmp_path / "c4.csv", "email,city\nuser5@example.com,Goa\n"
                      "user5@example.com,Goa\nuser6@example.com,Pune\n")
    assert counts(import_customers(engine, twice, actor=LOCAL_ADMIN)) == (0, 1, 2, 0)
    recase = write_csv(tmp_path / "c5.csv", "email\nUSER6@example.com\n")
    assert counts(import_customers(engine, recase, actor=LOCAL_ADMIN)) == (0, 1, 0, 0)

    before = orders_file(tmp_path / "o1.csv", 120)
    assert counts(import_orders(engine, before, actor=LOCAL_ADMIN)) == (120, 0, 0, 0)
    assert counts(import_orders(engine, before, batch_size=50, actor=LOCAL_ADMIN)) == (
        0, 0, 120, 0)
    after = orders_file(tmp_path / "o2.csv", 120, changed={0, 77, 119})
    assert counts(import_orders(engine, after, actor=LOCAL_ADMIN)) == (0, 3, 117, 0)
    assert_aggregates_consistent(engine)


@pytest.fixture
def bulk_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file large: indexes set aside."""
    monkeypatch.setattr(indexes, "BULK_MIN_BYTES", 0)


@pytest.mark.usefixtures("bulk_path")
def test_unchanged_counts_on_the_bulk_path(engine: Engine, tmp_path: Path) -> None:
    path = customers_file(tmp_path / "c1.csv", 3000)
    assert counts(import_customers(engine, path, batch_size=1000, actor=LOCAL_ADMIN)) == (
        3000, 0, 0, 0)
    first = snapshot(engine)
    assert counts(import_customers(engine, path, batch_size=1000, actor=LOCAL_ADMIN)) == (
        0, 0, 3000, 0)
    assert snapshot(engine) == first
    changed = customers_file(tmp_path / "c2.csv", 3000, changed=set(range(0, 3000, 3)))
    assert counts(import_customers(engine, changed, batch_size=1000, actor=LOCAL_ADMIN)) == (
        0, 1000, 2000, 0)
    orders = orders_file(tmp_path / "o.csv", 2000)
    import_orders(engine, orders, batch_size=700, actor=LOCAL_ADMIN)
    assert counts(import_orders(engine, orders, batch_size=700, actor=LOCAL_ADMIN)) == (
        0, 0, 2000, 0)
    assert_aggregates_consistent(engine)


def _changed_names(engine: Engine) -> int:
    from minicrm_desktop.models.tables import tags_table
    from minicrm_desktop.services.bulkload.bulk import raw_insert, raw_upsert_changed

    with engine.begin() as conn:
        raw_insert(conn, tags_table, ("name", "name_norm"),
                   [("Vip", "vip"), ("Gold", "gold"), ("New", "new")])
        return raw_upsert_changed(conn, tags_table, ("name", "name_norm"), "name_norm",
                                  ("name",), [("Vip", "vip"), ("GOLD", "gold"), ("New", "new")])


def test_changed_rows_counted_by_the_engine(engine: Engine) -> None:
    assert _changed_names(engine) == 1


@pytest.mark.mysql
def test_changed_rows_counted_without_client_found_rows(mysql_engine: Engine) -> None:
    """A driver connection without CLIENT_FOUND_ROWS counts an equal row as 0, not 1."""
    import pymysql
    from sqlalchemy import create_engine

    url = mysql_engine.url

    def connect() -> pymysql.Connection:
        return pymysql.connect(host=url.host, port=url.port or 3306, user=url.username,
                               password=url.password or "", database=url.database,
                               charset="utf8mb4", client_flag=0)

    plain = create_engine("mysql+pymysql://", creator=connect)
    try:
        with plain.connect() as conn:
            from minicrm_desktop.services.bulkload.bulk import found_rows

            assert not found_rows(conn)
        assert _changed_names(plain) == 1
    finally:
        plain.dispose()

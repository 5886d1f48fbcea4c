"""MySQL/MariaDB: a batch of validated customers handed to the server in bulk (issue 18).

PyMySQL escaping every value into a multi-row INSERT cost more client time than the server's
whole `LOAD DATA` of the file. Here the batch goes to a temporary file (the csv module), the
server reads it with `LOAD DATA LOCAL INFILE` into a staging table of this session, and one
`INSERT ... SELECT ... ON DUPLICATE KEY UPDATE` applies it; the tag links, loaded the same way,
find their customers by a join on the server (no ids travel to the client).

The file holds data only: every text value hex-encoded (so no value can end a field or line,
and quoting or escaping rules never matter), whole numbers as digits, NULL as `\\N`. The
staging columns are LONGTEXT, so loading never truncates or converts anything (LOAD DATA
LOCAL would only warn); the strict INSERT ... SELECT does the conversions, and a value the
table cannot hold fails it with the column named, as a multi-row INSERT would (the batch is
then halved down to it).
The client sends the server only the files written here (bulkload/load_local.py).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from minicrm_desktop.services.bulkload.bulk import found_rows
from minicrm_desktop.services.bulkload.load_local import sending

STAGING = "minicrm_import_staging"
LINKS = "minicrm_import_links"
NULL = "\\N"
# Binary collation, as the *_norm keys have: the join on email_norm can use their index.
_TEXT = "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL"


def write_staging_file(path: str, columns: Sequence[str], rows: Sequence[dict[str, Any]],
                       numeric: Collection[str] = ()) -> None:
    """One line per row: its position, whether it keeps a stored signup date, the columns
    (the `numeric` ones as digits, the others hex-encoded; NULL as \\N).

    Built column by column in C loops (itemgetter, map, str.join): no field can hold a comma,
    a quote or a line break, so the csv module's per-character quoting checks are not needed
    (they were half the time of writing a batch)."""
    if not rows:
        open(path, "w", encoding="ascii").close()
        return
    cells: list[Sequence[str]] = [list(map(str, range(len(rows)))),
                                  ["1" if "_signup_defaulted" in row else "0" for row in rows]]
    pick = itemgetter(*columns)
    by_column: Iterable[Sequence[Any]] = (zip(*map(pick, rows), strict=True)
                                          if len(columns) > 1 else [list(map(pick, rows))])
    for column, values in zip(columns, by_column, strict=True):
        nulls = None in values
        if column in numeric:
            cells.append([NULL if v is None else str(int(v)) for v in values] if nulls
                         else list(map(str, map(int, values))))
        elif nulls:
            cells.append([NULL if v is None else v.encode("utf-8").hex() for v in values])
        else:  # encoded in C loops
            cells.append(list(map(bytes.hex, map(str.encode, values))))
    with open(path, "w", newline="", encoding="ascii") as fh:
        fh.write("\n".join(map(",".join, zip(*cells, strict=True))))
        fh.write("\n")


def prepared_file(columns: Sequence[str], rows: Sequence[dict[str, Any]],
                  numeric: Collection[str] = ()) -> str:
    """Write the staging file for `rows` ahead of `stage` (the caller deletes it)."""
    fd, path = tempfile.mkstemp(prefix="minicrm-import-", suffix=".csv")  # mode 0600
    os.close(fd)
    try:
        write_staging_file(path, columns, rows, numeric)
    except BaseException:
        os.unlink(path)
        raise
    return path


def stage(conn: Connection, columns: Sequence[str], rows: Sequence[dict[str, Any]],
          numeric: Collection[str] = (), prepared: str | None = None) -> None:
    """(Re)create this session's staging table and load `rows` into it (`numeric`: the
    columns holding whole numbers; `prepared`: their file, written by `prepared_file`)."""
    prep = conn.dialect.identifier_preparer
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {STAGING}")
    defs = ", ".join(f"{prep.quote(c)} {_TEXT}" for c in columns)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {STAGING} (n INT NOT NULL PRIMARY KEY, "
        f"keep_signup TINYINT NOT NULL, {defs}) ENGINE=InnoDB")
    with _temporary_file() if prepared is None else nullcontext(prepared) as path:
        if prepared is None:
            write_staging_file(path, columns, rows, numeric)
        variables = ", ".join(f"@c{i}" for i in range(len(columns)))
        sets = ", ".join(f"{prep.quote(c)} = @c{i}" if c in numeric
                         else f"{prep.quote(c)} = UNHEX(@c{i})" for i, c in enumerate(columns))
        with sending(conn, path):
            # The file name is a bound parameter, as every value is.
            conn.exec_driver_sql(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {STAGING} CHARACTER SET binary "
                "FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' "
                f"(n, keep_signup, {variables}) SET {sets}", (path,))


def load_links(conn: Connection, links: Sequence[tuple[int, int]]) -> None:
    """Link staged rows, named by position, to tags: (position, tag id) pairs, whole
    numbers only. The customers' ids come from a join, not through the client."""
    if not links:
        return
    conn.exec_driver_sql(f"DROP TEMPORARY TABLE IF EXISTS {LINKS}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {LINKS} (n INT NOT NULL, "
                         "tag_id BIGINT NOT NULL) ENGINE=InnoDB")
    with _temporary_file() as path:
        with open(path, "w", newline="", encoding="ascii") as fh:
            csv.writer(fh, lineterminator="\n").writerows(links)
        with sending(conn, path):
            conn.exec_driver_sql(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {LINKS} "
                "FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' (n, tag_id)", (path,))
    conn.exec_driver_sql(
        f"INSERT INTO customer_tags (customer_id, tag_id) SELECT c.id, l.tag_id "
        f"FROM {LINKS} l STRAIGHT_JOIN {STAGING} s ON s.n = l.n "
        "STRAIGHT_JOIN customers c ON c.email_norm = s.email_norm")


@contextmanager
def _temporary_file() -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="minicrm-import-", suffix=".csv")  # mode 0600
    os.close(fd)
    try:
        yield path
    finally:
        os.unlink(path)


def existing(conn: Connection) -> dict[int, tuple[int, str]]:
    """Staged rows whose customer exists: position -> (id, stored tags_norm)."""
    cursor = conn.exec_driver_sql(
        f"SELECT s.n, c.id, c.tags_norm FROM {STAGING} s STRAIGHT_JOIN customers c "
        "ON c.email_norm = s.email_norm").cursor
    assert cursor is not None
    return {n: (cid, tags) for n, cid, tags in cursor.fetchall()}


def apply(conn: Connection, columns: Sequence[str], rows: int, found: int) -> tuple[int, int]:
    """Upsert the staged rows into customers; return (changed, inserted). `found` of the
    `rows` staged rows were existing customers when looked up in this transaction."""
    prep = conn.dialect.identifier_preparer
    names = ", ".join(prep.quote(c) for c in columns)
    picked = ", ".join(f"s.{prep.quote(c)}" for c in columns)
    sets = []
    for c in columns:
        if c == "email_norm":
            continue
        q = prep.quote(c)
        # An empty signup_date keeps an existing customer's date (a new one gets "now").
        sets.append(f"{q} = IF(s.keep_signup, customers.{q}, VALUES({q}))"
                    if c == "signup_date" else f"{q} = VALUES({q})")
    result = conn.exec_driver_sql(
        f"INSERT INTO customers ({names}) SELECT {picked} FROM {STAGING} s ORDER BY s.n "
        f"ON DUPLICATE KEY UPDATE {', '.join(sets)}")
    affected = max(0, result.rowcount)
    inserted = rows - found
    # An insert counts 1, a changed row 2, an equal one 1 with CLIENT_FOUND_ROWS (else 0).
    changed = affected - rows if found_rows(conn) else (affected - inserted) // 2
    return min(found, max(0, changed)), inserted

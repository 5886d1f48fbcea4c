"""Importing customers: upsert by case-insensitive email, tags replaced by the file's."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from minicrm_desktop.services.bulkload.bulk import (
    raw_delete_in,
    raw_insert,
    raw_lookup,
    raw_upsert,
    raw_upsert_changed,
    storage_timestamp,
)
from minicrm_desktop.services.bulkload.upsert import upsert_rows

from ...models.base import utcnow
from ...models.customer import TAGS_NORM_LEN
from ...models.engine_only import SIGNUP_US_COLUMN, sqlite_instant
from ...models.tables import customer_tags, customers_table, tags_table
from ..access.actor import Actor
from ..customers import sqlite_signup_stored
from . import values as v
from .batches import (
    DEFAULT_BATCH_SIZE,
    BatchWriter,
    ParsedRow,
    RowError,
    fold,
    run_import,
)
from .kinds import CUSTOMER_FIELDS
from .lenient import date_reader
from .options import STRICT, ImportOptions
from .reader import CsvRow
from .report import CancelCheck, ImportReport, ProgressCallback

# Columns an import writes in file order, scattering their index entries.
CUSTOMER_COLUMNS_WRITTEN = (
    "email_norm",
    "name_norm",
    "phone_norm",
    "city_norm",
    "signup_date",
    "visits",
    "last_visit",
    "subscribed",
    "tags_norm",
)
# Text columns stored beside their normalized form, with the length both must fit.
_NORMALIZED = (("name", "name_norm", 255), ("phone", "phone_norm", 64),
               ("city", "city_norm", 255))

customers = customers_table
# Columns the validator fills with whole numbers.
_WHOLE_NUMBERS = frozenset({"visits", "subscribed"})


def import_customers(
    engine: Engine,
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Actor,
    now: datetime | None = None,
    options: ImportOptions = STRICT,
) -> ImportReport:
    """Import a customers CSV file. `now` (default: the current time) is the signup date a
    new customer with an empty `signup_date` gets, so an import can be reproduced.
    `options` say how dates are read (the contract's ISO 8601 unless the user chose)."""
    moment = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    validate = partial(validate_customer, imported_at=storage_timestamp(moment),
                       read_date=date_reader(options))
    return run_import(
        engine,
        path,
        kind="customers",
        fields=CUSTOMER_FIELDS,
        required=("email",),
        validate=validate,
        write_batch=_write_batch,
        mapping=mapping,
        progress=progress,
        should_cancel=should_cancel,
        batch_size=batch_size,
        actor=actor,
        target=customers,
        # New customers' aggregates are all zero: indexes led by them only grow at the end.
        scattered=CUSTOMER_COLUMNS_WRITTEN,
        load_local=True,
        prepare=_prepare_staged,
        # New customers have no orders (avg_order_minor, last_order_us NULL, as the insert
        # triggers would leave them); existing ones' aggregates are not written.
        insert_triggers=True,
    )


def validate_customer(
    row: CsvRow,
    present: set[str],
    imported_at: str | None,
    read_date: Callable[[str], str] = v.parse_timestamp,
) -> dict[str, Any]:
    cells = row.values
    out: dict[str, Any] = {}
    column = "email"
    try:
        email = v.parse_email(cells["email"])
        out["email"] = email
        out["email_norm"] = email.lower()
        for column, norm_column, limit in _NORMALIZED:
            if column in present:
                text = cells[column].strip()
                if text:  # blank counts as absent (models.text.normalize)
                    lowered = text.lower()
                    # Lower-casing lengthens a few letters (İ -> i̇): both forms must fit.
                    if len(text) > limit or len(lowered) > limit:
                        raise ValueError(f"is longer than {limit} characters")
                    out[column] = text
                    out[norm_column] = lowered
                else:
                    out[column] = out[norm_column] = None
        column = "signup_date"
        if column in present and cells[column].strip():
            out[column] = read_date(cells[column])
        else:
            # Empty means "now" for a new customer; an existing one keeps its date.
            out[column] = imported_at
            out["_signup_defaulted"] = True
        column = "visits"
        if column in present:
            out[column] = v.parse_nonneg_int(cells[column])
        column = "last_visit"
        if column in present:
            text = cells[column].strip()
            out[column] = read_date(text) if text else None
        column = "subscribed"
        if column in present:
            out[column] = int(v.parse_bool(cells[column]))
        column = "tags"
        if column in present:
            out["_tags"], out["tags_norm"] = v.parse_tag_cell(cells[column])
            if len(out["tags_norm"]) > TAGS_NORM_LEN:
                raise ValueError(f"the tags add up to more than {TAGS_NORM_LEN} characters")
    except ValueError as exc:
        raise RowError(column, str(exc)) from None
    return out


@dataclass(frozen=True)
class _Prepared:
    """A batch folded and its staging file written on the reading thread (MySQL)."""

    batch: list[ParsedRow]
    rows: list[dict[str, Any]]
    folded_changed: int
    folded_same: int
    path: str


def _fold(batch: list[ParsedRow]) -> tuple[list[dict[str, Any]], int, int]:
    kept, folded_changed, folded_same = fold(batch, "email_norm")
    if len(kept) < len(batch):  # a customer repeated within the batch
        _carry_signup_dates(batch)
        kept, folded_changed, folded_same = fold(batch, "email_norm")
    return [r for _, r in kept], folded_changed, folded_same


def _prepare_staged(batch: list[ParsedRow], _present: set[str]) -> tuple[BatchWriter,
                                                                          Callable[[], None]]:
    """For run_import's overlapped writes: the Python work of staging a batch is done here,
    on the reading thread, so the writing thread only waits for the server."""
    from . import staged

    rows, folded_changed, folded_same = _fold(batch)
    path = staged.prepared_file(_staged_columns(rows), rows, _WHOLE_NUMBERS)
    ready = _Prepared(batch, rows, folded_changed, folded_same, path)
    return partial(_write_batch, prepared=ready), partial(os.unlink, path)


def _staged_columns(rows: list[dict[str, Any]]) -> list[str]:
    return [c.name for c in customers.c if c.name in rows[0]]


def _write_batch(
    conn: Connection, batch: list[ParsedRow], present: set[str], report: ImportReport,
    prepared: _Prepared | None = None,
) -> None:
    if conn.dialect.name == "mysql" and _loads_local(conn):
        # A prepared batch (its halves, should the database refuse a row, are staged anew).
        if prepared is not None and prepared.batch is batch:
            _write_staged(conn, prepared.rows, prepared.folded_changed, prepared.folded_same,
                          present, report, prepared.path)
        else:
            _write_staged(conn, *_fold(batch), present, report)
        return
    rows, folded_changed, folded_same = _fold(batch)
    sqlite = conn.dialect.name == "sqlite"
    # SQLite: the batch holds the write lock (BEGIN IMMEDIATE), so customers numbered past
    # the largest id now are the ones this batch adds; an empty table needs no look-up.
    last_id = _last_id(conn) if sqlite else None
    found = {} if sqlite and last_id is None else raw_lookup(
        conn, customers, "email_norm", [r["email_norm"] for r in rows], "id", "tags_norm")
    ids = {k: v[0] for k, v in found.items()}
    if ids:
        old = [r for r in rows if r["email_norm"] in ids]
        new = [r for r in rows if r["email_norm"] not in ids]
    else:
        old, new = [], rows

    columns = [c.name for c in customers.c if c.name in rows[0]]
    if sqlite and sqlite_signup_stored(conn):
        # SQLite's signup_us (migration 0024), so its triggers have nothing to correct.
        for r in rows:
            r[SIGNUP_US_COLUMN] = sqlite_instant(r["signup_date"])
        columns.append(SIGNUP_US_COLUMN)
    update = [c for c in columns if c != "email_norm"]
    pick = itemgetter(*columns)
    # Existing customers: an empty signup_date keeps the date they already have.
    changed = raw_upsert_changed(
        conn,
        customers,
        columns,
        "email_norm",
        update,
        [pick(r) for r in old if "_signup_defaulted" not in r],
    )
    changed += raw_upsert_changed(
        conn,
        customers,
        columns,
        "email_norm",
        [c for c in update if c not in ("signup_date", SIGNUP_US_COLUMN)],
        [pick(r) for r in old if "_signup_defaulted" in r],
    )
    report.updated += folded_changed + changed
    report.unchanged += folded_same + len(old) - changed
    report.imported += len(new)
    ids.update(_insert_new(conn, columns, new, last_id if sqlite else None))

    if "tags" in present:
        # Links follow tags_norm (every write keeps the two together): a customer whose
        # tags_norm the file repeats keeps its links as they are.
        retagged = [r for r in old if found[r["email_norm"]][1] != r["tags_norm"]]
        replace_customer_tags(
            conn,
            [(ids[r["email_norm"]], r["_tags"]) for r in (*retagged, *new)],
            [ids[r["email_norm"]] for r in retagged],
        )


def _loads_local(conn: Connection) -> bool:
    from minicrm_desktop.services.bulkload.load_local import GuardedConnection

    return isinstance(conn.connection.dbapi_connection, GuardedConnection)


def _write_staged(conn: Connection, rows: list[dict[str, Any]], folded_changed: int,
                  folded_same: int, present: set[str], report: ImportReport,
                  path: str | None = None) -> None:
    """MySQL/MariaDB through LOAD DATA LOCAL and a staging table (importing/staged.py);
    `path`: the rows' staging file, if written already."""
    from . import staged  # pymysql's modules: loaded only for MySQL

    columns = _staged_columns(rows)
    staged.stage(conn, columns, rows, _WHOLE_NUMBERS, path)
    found = staged.existing(conn)
    changed, inserted = staged.apply(conn, columns, len(rows), len(found))
    report.updated += folded_changed + changed
    report.unchanged += folded_same + len(found) - changed
    report.imported += inserted
    if "tags" in present:
        # As in _write_batch: a customer whose tags_norm the file repeats keeps its links.
        # The links name staged rows by position: the server finds their customers' ids.
        retagged = [n for n, (_, tags) in found.items() if tags != rows[n]["tags_norm"]]
        fresh = [n for n in range(len(rows)) if n not in found]
        replace_customer_tags(
            conn,
            [(n, rows[n]["_tags"]) for n in (*retagged, *fresh)],
            [found[n][0] for n in retagged],
            staged.load_links,
        )


def _last_id(conn: Connection) -> int | None:
    return conn.exec_driver_sql("SELECT max(id) FROM customers").scalar()


def _carry_signup_dates(batch: list[ParsedRow]) -> None:
    """A row with an empty signup_date after a row of the same customer that gave one keeps
    that date, as it would had the earlier row been imported on its own."""
    given: dict[str, Any] = {}
    for _, row in batch:
        if "_signup_defaulted" not in row:
            given[row["email_norm"]] = row["signup_date"]
        elif row["email_norm"] in given:
            row["signup_date"] = given[row["email_norm"]]
            del row["_signup_defaulted"]


def _insert_new(
    conn: Connection, columns: list[str], rows: list[dict[str, Any]], last_id: int | None
) -> dict[str, int]:
    """Insert customers not in the database yet; return their ids by normalized email.

    The database numbers the rows (other imports, the app and the CLI may insert at the
    same time); a customer another writer added meanwhile is updated instead. On SQLite,
    where the batch holds the write lock, `last_id` (the largest id before the batch) finds
    the new rows by one range read of the primary key.
    """
    if not rows:
        return {}
    pick = itemgetter(*columns)
    if conn.dialect.name == "sqlite":  # under the batch's write lock nobody else inserts
        raw_insert(conn, customers, columns, [pick(r) for r in rows])
    else:
        raw_upsert(conn, customers, columns, "email_norm",
                   [c for c in columns if c != "email_norm"], [pick(r) for r in rows])
    wanted = [r["email_norm"] for r in rows]
    ids: dict[str, int] = {}
    if conn.dialect.name == "sqlite":
        cursor = conn.exec_driver_sql(
            "SELECT email_norm, id FROM customers WHERE id > ?", (last_id or 0,)).cursor
        assert cursor is not None
        ids = dict(cursor.fetchall())
        wanted = [k for k in wanted if k not in ids]
    if wanted:  # MySQL, or rows SQLite numbered otherwise (never, short of id 2^63 - 1)
        ids.update((k, v[0]) for k, v in raw_lookup(conn, customers, "email_norm", wanted,
                                                    "id").items())
    return ids


def replace_customer_tags(
    conn: Connection, assignments: list[tuple[int, list[str]]], existing: list[int],
    insert_links: Callable[[Connection, list[tuple[int, int]]], None] | None = None,
) -> None:
    """Set each customer's tags to exactly the file's labels (`existing`: customers that
    may already have tags; new ones have none to remove). `insert_links` writes the
    (customer, tag id) links, by default with a multi-row INSERT of (customer id, tag id);
    with it, `assignments` name customers however it reads them."""
    names = {label.lower(): label for _, labels in assignments for label in labels}
    if names:
        upsert_rows(
            conn,
            tags_table,
            [{"name": name, "name_norm": norm} for norm, name in names.items()],
            "name_norm",
            [],
        )
    tag_ids = {
        k: row[0] for k, row in raw_lookup(conn, tags_table, "name_norm", names, "id").items()
    }
    raw_delete_in(conn, customer_tags, "customer_id", existing)
    links = [(cid, tag_ids[label.lower()]) for cid, labels in assignments for label in labels]
    if insert_links is not None:
        insert_links(conn, links)
    else:
        raw_insert(conn, customer_tags, ("customer_id", "tag_id"), links)

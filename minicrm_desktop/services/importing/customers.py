"""Importing customers: upsert by case-insensitive email, tags replaced by the file's."""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from ...models.base import utcnow
from ...models.tables import customer_tags, customers_table, tags_table
from ...models.text import normalize
from ..bulk import raw_delete_in, raw_insert, raw_lookup, raw_upsert, storage_timestamp
from ..upsert import upsert_rows
from . import values as v
from .batches import DEFAULT_BATCH_SIZE, ParsedRow, RowError, last_wins, run_import
from .reader import CsvRow
from .report import CancelCheck, ImportReport, ProgressCallback

CUSTOMER_FIELDS = (
    "email",
    "name",
    "phone",
    "city",
    "signup_date",
    "visits",
    "last_visit",
    "subscribed",
    "tags",
)
_LIMITS = {"name": 255, "phone": 64, "city": 255}
_NORMALIZED = ("name", "phone", "city")

customers = customers_table


def import_customers(
    engine: Engine,
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    imported_at = storage_timestamp(utcnow())

    def validate(row: CsvRow, present: set[str]) -> dict[str, Any]:
        return _validate(row, present, imported_at)

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
        target=customers,
        indexed_tables=(customers,),
    )


def _validate(row: CsvRow, present: set[str], imported_at: str | None) -> dict[str, Any]:
    cells = row.values
    out: dict[str, Any] = {}
    column = "email"
    try:
        email = v.parse_email(cells["email"])
        out["email"] = email
        out["email_norm"] = email.lower()
        for column in _NORMALIZED:
            if column in present:
                text = cells[column].strip()
                if len(text) > _LIMITS[column]:
                    raise ValueError(f"is longer than {_LIMITS[column]} characters")
                out[column] = text or None
                out[f"{column}_norm"] = normalize(text)
        column = "signup_date"
        if column in present and cells[column].strip():
            out[column] = v.parse_timestamp(cells[column])
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
            out[column] = v.parse_timestamp(text) if text else None
        column = "subscribed"
        if column in present:
            out[column] = int(v.parse_bool(cells[column]))
        column = "tags"
        if column in present:
            out["_tags"] = v.parse_tags(cells[column])
    except ValueError as exc:
        raise RowError(column, str(exc)) from None
    return out


def _write_batch(
    conn: Connection, batch: list[ParsedRow], present: set[str], report: ImportReport
) -> None:
    rows, folded = last_wins(batch, "email_norm")
    emails = [r["email_norm"] for _, r in rows]
    existing = raw_lookup(conn, customers, "email_norm", emails)
    report.updated += folded + sum(1 for e in emails if e in existing)
    report.imported += sum(1 for e in emails if e not in existing)

    columns = [c.name for c in customers.c if c.name in rows[0][1]]
    pick = itemgetter(*columns)
    dated = [pick(r) for _, r in rows if "_signup_defaulted" not in r]
    undated = [pick(r) for _, r in rows if "_signup_defaulted" in r]
    update = [c for c in columns if c != "email_norm"]
    raw_upsert(conn, customers, columns, "email_norm", update, dated)
    raw_upsert(
        conn, customers, columns, "email_norm", [c for c in update if c != "signup_date"], undated
    )

    if "tags" in present:
        ids = {
            k: row[0] for k, row in raw_lookup(conn, customers, "email_norm", emails, "id").items()
        }
        _replace_tags(conn, [(ids[r["email_norm"]], r["_tags"]) for _, r in rows])


def _replace_tags(conn: Connection, assignments: list[tuple[int, list[str]]]) -> None:
    """Set each customer's tags to exactly the file's labels."""
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
    raw_delete_in(conn, customer_tags, "customer_id", [cid for cid, _ in assignments])
    links = [(cid, tag_ids[label.lower()]) for cid, labels in assignments for label in labels]
    raw_insert(conn, customer_tags, ("customer_id", "tag_id"), links)

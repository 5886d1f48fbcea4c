"""Importing orders: upsert by order id, aggregates refreshed in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from minicrm_desktop.services.bulkload.bulk import raw_lookup, raw_upsert, raw_upsert_changed
from minicrm_desktop.services.customers import refresh_aggregates

from ...models.money import format_money
from ...models.tables import customers_table, orders_table
from ..access.actor import Actor
from . import values as v
from .batches import DEFAULT_BATCH_SIZE, ParsedRow, RowError, fold, run_import
from .kinds import ORDER_FIELDS
from .lenient import read_amount, read_timestamp
from .options import STRICT, ImportOptions
from .reader import CsvRow
from .report import CancelCheck, ImportReport, ProgressCallback, RejectedRow
from .values import MAX_INT32

ORDER_ID_LEN = 128
#: A customer's total spend is a signed 64-bit integer of paise.
MAX_TOTAL_MINOR = 2**63 - 1
# Each batch rewrites its customers' aggregates: the indexes they lead churn.
AGGREGATE_COLUMNS = ("total_spend_minor", "order_count", "first_order_at", "last_order_at")

customers = customers_table
orders = orders_table


def import_orders(
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
    """Import an orders CSV file. Every column is required, so no value defaults to `now`;
    it is accepted so customers and orders take the same options. `options` say how
    amounts and dates are read (the contract's strict reading unless the user chose)."""
    del now
    return run_import(
        engine,
        path,
        kind="orders",
        fields=ORDER_FIELDS,
        required=ORDER_FIELDS,
        validate=partial(_validate, options=options),
        write_batch=_write_batch,
        mapping=mapping,
        progress=progress,
        should_cancel=should_cancel,
        batch_size=batch_size,
        actor=actor,
        target=orders,
        scattered=AGGREGATE_COLUMNS,
    )


def _validate(
    row: CsvRow, _present: set[str], options: ImportOptions = STRICT
) -> dict[str, Any]:
    cells = row.values
    column = "order_id"
    try:
        order_id = cells["order_id"].strip()
        if not order_id:
            raise ValueError("is required")
        if len(order_id) > ORDER_ID_LEN:
            raise ValueError(f"is longer than {ORDER_ID_LEN} characters")
        column = "customer_email"
        email = v.parse_email(cells["customer_email"])
        column = "amount"
        if not cells["amount"].strip():
            raise ValueError("is required")
        amount = read_amount(cells["amount"], options)
        column = "order_date"
        if not cells["order_date"].strip():
            raise ValueError("is required")
        order_date = read_timestamp(cells["order_date"], options)
    except ValueError as exc:
        raise RowError(column, str(exc)) from None
    return {
        "order_id": order_id,
        "email_norm": email.lower(),
        "email": email,
        "amount_minor": amount,
        "order_date": order_date,
    }


def _write_batch(
    conn: Connection, batch: list[ParsedRow], _present: set[str], report: ImportReport
) -> None:
    owners = raw_lookup(conn, customers, "email_norm", {r["email_norm"] for _, r in batch}, "id")
    known: list[ParsedRow] = []
    for line, row in batch:
        if row["email_norm"] in owners:
            row["customer_id"] = owners[row["email_norm"]][0]
            known.append((line, row))
        else:
            report.rejected.append(
                RejectedRow(line, "customer_email", f"no customer with email {row['email']!r}")
            )
    if not known:
        return
    rows, folded_changed, folded_same = fold(known, "order_id")
    before = raw_lookup(conn, orders, "order_id", [r["order_id"] for _, r in rows],
                        "customer_id", "amount_minor")
    rows = _within_totals(conn, rows, before, report)
    if not rows:
        return
    columns = ("order_id", "customer_id", "amount_minor", "order_date")
    pick = itemgetter(*columns)
    existing = [pick(r) for _, r in rows if r["order_id"] in before]
    changed = raw_upsert_changed(conn, orders, columns, "order_id", columns[1:], existing)
    raw_upsert(conn, orders, columns, "order_id", columns[1:],
               [pick(r) for _, r in rows if r["order_id"] not in before])
    report.updated += folded_changed + changed
    report.unchanged += folded_same + len(existing) - changed
    report.imported += len(rows) - len(existing)
    # An order that moved to another customer changes both customers' aggregates.
    owners_now = {r["customer_id"] for _, r in rows}
    refresh_aggregates(conn, owners_now, {old[0] for old in before.values()} - owners_now)


def _within_totals(
    conn: Connection,
    rows: list[ParsedRow],
    before: dict[Any, tuple[Any, ...]],
    report: ImportReport,
    max_total: int = MAX_TOTAL_MINOR,
) -> list[ParsedRow]:
    """The rows whose customers' totals and counts stay within what the database holds;
    in file order, the order that would take a customer past it is rejected."""
    ids = {r["customer_id"] for _, r in rows} | {old[0] for old in before.values()}
    stored = raw_lookup(conn, customers, "id", ids, "total_spend_minor", "order_count")
    totals = {cid: [int(v[0]), int(v[1])] for cid, v in stored.items()}
    return within_totals(rows, before, totals, report, max_total)


def within_totals(
    rows: list[ParsedRow],
    before: dict[Any, tuple[Any, ...]],
    totals: dict[int, list[int]],
    report: ImportReport,
    max_total: int = MAX_TOTAL_MINOR,
) -> list[ParsedRow]:
    """`_within_totals` given each customer's [total, count] now (updated in place)."""
    kept: list[ParsedRow] = []
    for line, row in rows:
        cid, amount = row["customer_id"], row["amount_minor"]
        old = before.get(row["order_id"])
        total, count = totals[cid]
        if old is not None and old[0] == cid:  # the order is replaced: its amount goes
            total, count = total - int(old[1]), count - 1
        if total + amount > max_total or count + 1 > MAX_INT32:
            report.rejected.append(RejectedRow(
                line, "amount",
                f"would take the total of {row['email']!r} past {format_money(max_total)}, "
                "the most the database holds"))
            continue
        if old is not None and old[0] != cid:  # moved from another customer
            totals[old[0]][0] -= int(old[1])
            totals[old[0]][1] -= 1
        totals[cid] = [total + amount, count + 1]
        kept.append((line, row))
    return kept

"""Recording delivery outcomes: one UPDATE per batch and kind of outcome, claims checked in
bulk.

A row takes its outcome only while it is still `sending` under the claim the worker sent it
with: a run that lost its lease (another process requeued and resent the row) records
nothing over the other's work. The batch's rows travel in the statement itself, as a
derived table (no temporary table: a role account may not create one; SQLite: VALUES,
MySQL/MariaDB: one JSON parameter read by JSON_TABLE), joined to
`deliveries` on the primary key; each statement's row count says how many outcomes of that
kind were recorded, so the campaign's counters move exactly with the log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, update

from minicrm_desktop.services.bulkload.bulk import storage_timestamp

from ...models.campaign import DeliveryStatus, campaigns_table
from .events import DeliveryEvent

# Rows per SQLite statement: 7 parameters each stays far below its limit.
STATEMENT_ROWS = 500
_SENT = DeliveryStatus.SENT.value
_QUEUED = DeliveryStatus.QUEUED.value
# The derived table's columns, in the order each row's values are bound.
_COLUMNS = ("id", "claim", "reason", "attempts", "updated_at", "next_attempt_at", "opened")


def _sqlite_statement(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * rows)
    # A VALUES table's columns are column1, column2, … in _COLUMNS order.
    return (
        "UPDATE deliveries SET status = ?, reason = o.column3, attempts = o.column4, "
        "updated_at = o.column5, next_attempt_at = o.column6, claim = NULL, "
        f"opened = o.column7 FROM (VALUES {values}) AS o "
        "WHERE deliveries.id = o.column1 AND deliveries.status = 'sending' "
        "AND deliveries.claim = o.column2"
    )


# MySQL/MariaDB: the batch travels as one JSON parameter, read back as a table (JSON_TABLE,
# MariaDB 10.6+ / MySQL 8): PyMySQL escapes each parameter in Python, on the writer's share
# of the GIL (7 a row: 3,500 for a statement of 500 rows), while json.dumps is C. The batch
# drives the join (STRAIGHT_JOIN: each of its rows finds its delivery by primary key). The
# token's comparison takes the log's collation (a JSON_TABLE column has the server's).
_MYSQL_STATEMENT = (
    "UPDATE JSON_TABLE(%s, '$[*]' COLUMNS (id BIGINT PATH '$[0]', "
    "claim VARCHAR(32) PATH '$[1]', reason VARCHAR(200) PATH '$[2]', "
    "attempts INT PATH '$[3]', updated_at DATETIME(6) PATH '$[4]', "
    "next_attempt_at DATETIME(6) PATH '$[5]', opened TINYINT PATH '$[6]')) AS o "
    "STRAIGHT_JOIN deliveries AS d ON d.id = o.id "
    "SET d.status = %s, d.reason = o.reason, d.attempts = o.attempts, "
    "d.updated_at = o.updated_at, d.next_attempt_at = o.next_attempt_at, "
    "d.claim = NULL, d.opened = o.opened "
    "WHERE d.status = 'sending' AND d.claim = o.claim COLLATE utf8mb4_unicode_ci"
)


class _Stamps(dict[datetime, str | None]):
    """Storage text of each time, made once: a worker dates a whole group of outcomes with
    one time, so a batch holds few distinct ones."""

    def __missing__(self, value: datetime) -> str | None:
        text = self[value] = storage_timestamp(value)
        return text


def _row(e: DeliveryEvent, stamps: _Stamps) -> tuple[Any, ...]:
    return (e.delivery_id, e.claim, e.reason, e.attempts, stamps[e.at],
            None if e.retry_at is None else stamps[e.retry_at], e.opened)


def apply_events(
    conn: Connection, events: Sequence[DeliveryEvent], *, counters: bool = True
) -> dict[int, tuple[int, int]]:
    """Record outcomes whose rows still carry the worker's claim; return per campaign the
    (sent, failed) actually recorded. Without `counters`, the campaigns' counters are left
    to the caller (who adds them with a statement of its own)."""
    sqlite = conn.dialect.name == "sqlite"
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    deltas: dict[int, list[int]] = {}
    stamps = _Stamps()
    # One lock order for every writer (by id, within each kind): fewer deadlocks on MySQL.
    ordered = sorted(events, key=lambda e: (e.campaign_id, e.status, e.delivery_id))
    try:
        for (campaign_id, status), group in groupby(ordered, lambda e: (e.campaign_id, e.status)):
            batch = list(group)
            recorded = 0
            # SQLite: STATEMENT_ROWS a statement (its parameters have a limit); MySQL: the
            # whole group in one parameter.
            size = STATEMENT_ROWS if sqlite else len(batch)
            for start in range(0, len(batch), size):
                part = batch[start : start + size]
                if sqlite:
                    values = [value for e in part for value in _row(e, stamps)]
                    cursor.execute(_sqlite_statement(len(part)), [status, *values])
                else:
                    batch_json = json.dumps([_row(e, stamps) for e in part])
                    cursor.execute(_MYSQL_STATEMENT, (batch_json, status))
                recorded += max(0, cursor.rowcount)
            if status != _QUEUED and recorded:
                tally = deltas.setdefault(campaign_id, [0, 0])
                tally[0 if status == _SENT else 1] += recorded
    finally:
        cursor.close()
    totals = {k: (v[0], v[1]) for k, v in deltas.items()}
    if counters:
        for campaign_id, (sent, failed) in totals.items():
            add_counts(conn, campaign_id, sent, failed)
    return totals


def add_counts(conn: Connection, campaign_id: int, sent: int, failed: int) -> None:
    c = campaigns_table.c
    conn.execute(
        update(campaigns_table)
        .where(c.id == campaign_id)
        .values(sent=c.sent + sent, failed=c.failed + failed)
    )

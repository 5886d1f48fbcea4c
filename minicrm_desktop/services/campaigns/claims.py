"""Claiming work: queued rows become `sending` under a claim token, in one transaction that
also checks the lease; a stopped worker gives its unsent rows back.

Rows are found by the index on (campaign, status, id, next attempt) and then handled by
primary key only: no index on the claim token is needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from ...models.base import utcnow
from ...models.tables import customers_table
from ..bulkload.bulk import storage_timestamp
from .json_agg import uncut_statement
from .lease import (
    QUEUED,
    SENDING,
    _hold_lease,
    _live_holder,
    _lock_campaign,
    _requeue_sending,
    d,
    db_now,
    deliveries_table,
)


@dataclass(frozen=True)
class ClaimedMessage:
    """A claimed delivery with what rendering needs (plain data: it crosses threads)."""

    delivery_id: int
    customer_id: int
    address: str
    variant: str
    attempts: int
    key: str
    customer: dict[str, Any]


cust = customers_table.c


def _due_ids(mark: str) -> str:
    """The one definition of a campaign's due rows, as driver SQL with `mark` as the
    driver's placeholder (bound: campaign id, now as storage text, limit): queued, never
    tried or past their retry time, in id order — found and filtered in the one index
    holding status, id and the retry time, so a retry is taken in its turn once due (never-
    tried rows no longer come first, which needed an index of its own, rewritten at every
    claim and outcome)."""
    return (f"SELECT id FROM deliveries WHERE campaign_id = {mark} AND status = '{QUEUED}' "
            f"AND (next_attempt_at IS NULL OR next_attempt_at <= {mark}) "
            f"ORDER BY id LIMIT {mark}")


# Without the lease's lock (MySQL), concurrent claimers skip each other's rows.
_DUE_IDS_LOCKED = f"{_due_ids('%s')} FOR UPDATE SKIP LOCKED"
# The claim's two statements by primary key, as driver SQL: built with SQLAlchemy, an
# expanding IN of 500 ids was compiled again at every claim (500 bind names, twice), which
# cost the writer as much CPU as the rest of the claim. The ids travel as one JSON array
# (SQLite: json_each; MySQL: JSON_TABLE).
# updated_at is left as it was: it dates outcomes (the timeline reads it), and a claim
# that moved it would rewrite two more index entries per row.
_CLAIMED_COLUMNS = ("d.id, d.customer_id, d.address, d.variant, d.attempts, d.idempotency_key, "
                    "c.name, c.email, c.city, c.total_spend_minor, c.last_order_at")
# SQLite: the due rows are found and taken by one statement (_due_ids), then read back by
# their token among the campaign's few `sending` rows (the chunks in flight). Each statement
# lets go of the GIL and, with the workers busy, waits to get it back: one fewer read (and
# its step) a claim.
_TAKE_SQLITE = (f"UPDATE deliveries SET status = '{SENDING}', claim = ? "
                f"WHERE id IN ({_due_ids('?')})")
# SQLite hands a result over one row per step, letting go of the GIL around each: with the
# workers busy, each row then waits to get it back (up to a switch interval). The writer
# reads a claim's rows as one JSON row instead, a single step (MySQL's driver reads the
# whole result at once anyway).
_CLAIMED_SQLITE = (
    f"SELECT json_group_array(json_array({_CLAIMED_COLUMNS})) FROM deliveries AS d "
    "JOIN customers AS c ON c.id = d.customer_id "
    "WHERE d.campaign_id = ? AND d.status = 'sending' AND d.claim = ?"
)


# MySQL/MariaDB: the ids travel as one JSON parameter too, read back by JSON_TABLE (PyMySQL
# escapes each parameter in Python, on the writer's share of the GIL); the ids drive the
# join, each finding its delivery by primary key.
_IDS_MYSQL = "JSON_TABLE(%s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS j STRAIGHT_JOIN "
_TAKE_MYSQL = (f"UPDATE {_IDS_MYSQL}deliveries AS d ON d.id = j.id "
               "SET d.status = 'sending', d.claim = %s WHERE d.status = 'queued'")


def _due_mysql(mariadb: bool) -> str:
    # The due ids as one JSON row too (under the lease): as rows, PyMySQL read
    # them one packet each in Python, about 1 s of the writer's GIL per 100,000 messages.
    return f"{uncut_statement(mariadb)}SELECT JSON_ARRAYAGG(id) FROM ({_due_ids('%s')}) AS due"


def _claimed_mysql(mariadb: bool) -> str:
    # One JSON row, as on SQLite: PyMySQL decodes each field of a result in Python, which
    # cost the writer 4.5 ms of GIL a claim of 500 rows (0.6 ms as JSON).
    return (f"{uncut_statement(mariadb)}SELECT JSON_ARRAYAGG(JSON_ARRAY({_CLAIMED_COLUMNS})) "
            f"FROM {_IDS_MYSQL}"
            "deliveries AS d ON d.id = j.id JOIN customers AS c ON c.id = d.customer_id "
            "WHERE d.claim = %s AND d.status = 'sending'")


# A claimed row as read, in _CLAIMED_COLUMNS' order (the last order's time as ISO text):
# the writer hands these over as they are and the worker makes its messages of them
# (messages()), so that per-message work stays off the writer, which the workers wait for.
ClaimedRow = list[Any]


def claim(
    engine: Engine, campaign_id: int, token: str, limit: int, *, owner: str | None = None
) -> list[ClaimedMessage]:
    """Atomically take up to `limit` due queued rows for this worker. With `owner`, only
    while that process holds the campaign's lease (else LeaseLost), in the same transaction."""
    return messages(claim_rows(engine, campaign_id, token, limit, owner=owner))


def claim_rows(
    engine: Engine, campaign_id: int, token: str, limit: int, *, owner: str | None = None
) -> list[ClaimedRow]:
    """claim(), its rows as read (see ClaimedRow)."""
    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if owner is not None:
            _hold_lease(conn, campaign_id, owner)
        elif sqlite:
            _lock_campaign(conn, campaign_id)  # the write lock first: select and claim as one
        return take(conn, campaign_id, token, limit, leased=owner is not None)


def take(
    conn: Connection, campaign_id: int, token: str, limit: int, *, leased: bool
) -> list[ClaimedRow]:
    """The claim's statements, in the caller's transaction: with `leased`, the caller holds
    the lease's lock (_hold_lease); without, on SQLite, the database's write lock."""
    sqlite = conn.dialect.name == "sqlite"
    # SQLite runs one writer at a time, and this transaction already writes. On MySQL
    # the lease's row lock, held to the end of this transaction, already makes claims of
    # the campaign one at a time: a plain read finds the due rows (locking each one cost
    # more than the rest of the claim), and _TAKE's own `status = queued` takes only
    # rows still queued, which _CLAIMED then reads by the token. Without the lease, the
    # rows are locked, skipping those another transaction holds.
    due = (campaign_id, storage_timestamp(utcnow()), limit)
    if sqlite:
        taken = conn.exec_driver_sql(_TAKE_SQLITE, (token, *due)).rowcount
        if not taken:
            return []
        rows = json.loads(conn.exec_driver_sql(_CLAIMED_SQLITE, (campaign_id, token)).scalar_one())
    else:
        mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
        if leased:
            ids_json = conn.exec_driver_sql(_due_mysql(mariadb), due).scalar_one()
            if not ids_json:  # NULL: none due
                return []
        else:
            ids = conn.exec_driver_sql(_DUE_IDS_LOCKED, due).scalars().all()
            if not ids:
                return []
            ids_json = json.dumps(ids)
        conn.exec_driver_sql(_TAKE_MYSQL, (ids_json, token))
        found = conn.exec_driver_sql(_claimed_mysql(mariadb), (ids_json, token)).scalar_one()
        rows = json.loads(found) if found else []
    rows.sort()  # by id
    return rows


def messages(rows: Sequence[ClaimedRow]) -> list[ClaimedMessage]:
    """Claimed rows as plain data (made after the commit: no lock is held meanwhile). JSON
    carries the last order's time as ISO text, read with the C parser (SQLAlchemy's own
    regex cost 1.7 µs a row)."""
    return [
        ClaimedMessage(delivery_id, customer_id, address, variant, attempts, key,
                       {"name": name, "email": email, "city": city,
                        "total_spend_minor": spend,
                        "last_order_at": None if last_order is None else
                        datetime.fromisoformat(last_order).replace(tzinfo=UTC)})
        for (delivery_id, customer_id, address, variant, attempts, key, name, email, city,
             spend, last_order) in rows
    ]


def release(engine: Engine, token: str, delivery_ids: Sequence[int]) -> None:
    """Give claimed rows back to the queue (a pause stopped the worker mid-chunk)."""
    if delivery_ids:
        with engine.begin() as conn:
            conn.execute(
                update(deliveries_table)
                .where(d.id.in_(list(delivery_ids)), d.claim == token, d.status == SENDING)
                .values(status=QUEUED, claim=None)
            )


def release_abandoned(engine: Engine, campaign_id: int) -> int:
    """Requeue rows claimed by a run that no longer exists (the app was killed): only when
    no live process holds the campaign's lease, whose claims are its own business."""
    with engine.begin() as conn:
        row = _lock_campaign(conn, campaign_id)
        if row is None or _live_holder(row, db_now(conn), None) is not None:
            return 0
        return _requeue_sending(conn, campaign_id)


def queued_count(engine: Engine, campaign_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(d.campaign_id == campaign_id, d.status == QUEUED)
            ).scalar_one()
        )


def seconds_until_due(engine: Engine, campaign_id: int) -> float | None:
    """How long until the next queued row falls due (0: now); None when none is queued.
    One index probe: never a scan of the queue, since idle workers ask often."""
    with engine.connect() as conn:
        row = conn.execute(
            select(d.next_attempt_at)
            .where(d.campaign_id == campaign_id, d.status == QUEUED)
            .order_by(d.next_attempt_at)
            .limit(1)
        ).first()
    if row is None:
        return None
    if row[0] is None:
        return 0.0
    return max(0.0, (row[0] - utcnow()).total_seconds())


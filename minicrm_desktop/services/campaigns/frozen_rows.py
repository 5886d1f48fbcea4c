"""A launch's audience read in chunks and its frozen delivery rows written, each the fastest
way its engine offers (launch.py decides what the rows hold).

SQLite's driver is C: a chunk is read as rows and written by one executemany. PyMySQL parses
each field of a result and escapes each parameter in Python, which was most of a MariaDB
launch (about 30 µs a recipient, 3 s of 100,000): there a chunk is read as one JSON row
(JSON_ARRAYAGG) and written as one JSON parameter read back by JSON_TABLE, both parsed in C,
as claims and outcomes already travel (claims.py, outcomes.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from minicrm_desktop.services.bulkload.bulk import raw_insert

from ...models.campaign import deliveries_table
from ...models.tables import customers_table

#: The columns a delivery row is frozen with at launch, in the order rows are built.
FROZEN_COLUMNS = (
    "campaign_id",
    "customer_id",
    "address",
    "variant",
    "status",
    "reason",
    "attempts",
    "idempotency_key",
    "queued_at",
    "updated_at",
)
#: A recipient as read: (customer id, address on the channel, subscribed).
Recipient = Sequence[Any]
#: What a frozen row holds of its own: (customer id, address, variant, status, reason, key);
#: the campaign, attempts (0) and the two times are the launch's.
FrozenRow = tuple[int, str | None, str, str, str | None, str]

# The row's own values travel as one JSON array of arrays, in audience order (FOR
# ORDINALITY keeps it: delivery ids follow customer ids, as on SQLite). TEXT columns: a
# JSON_TABLE column cuts a longer value to its size without a word, the table's own
# column refuses it (strict mode).
_INSERT_MYSQL = (
    f"INSERT INTO deliveries ({', '.join(FROZEN_COLUMNS)}) "
    "SELECT %s, f.customer_id, f.address, f.variant, f.status, f.reason, 0, f.idempotency_key, "
    "%s, %s FROM JSON_TABLE(%s, '$[*]' COLUMNS (n FOR ORDINALITY, "
    "customer_id BIGINT PATH '$[0]', address TEXT PATH '$[1]', variant TEXT PATH '$[2]', "
    "status TEXT PATH '$[3]', reason TEXT PATH '$[4]', idempotency_key TEXT PATH '$[5]')) "
    "AS f ORDER BY f.n"
)


def audience_chunk(
    conn: Connection, where: ColumnElement[bool], after: int, limit: int, *, email: bool
) -> list[Recipient]:
    """The next `limit` customers matching `where` with an id above `after`, in id order
    (on MySQL/MariaDB inside `uncut_json`)."""
    cust = customers_table.c
    address = cust.email if email else cust.phone
    chunk = (select(cust.id, address.label("address"), cust.subscribed)
             .where(where, cust.id > after).order_by(cust.id).limit(limit))
    if conn.dialect.name == "sqlite":
        return list(conn.execute(chunk))
    part = chunk.subquery()
    found = conn.execute(select(func.json_arrayagg(
        func.json_array(part.c.id, part.c.address, part.c.subscribed)))).scalar_one()
    rows: list[Any] = json.loads(found) if found else []
    rows.sort(key=itemgetter(0))  # an aggregate keeps no order of its own
    return rows


def write_frozen(
    conn: Connection, campaign_id: int, stamp: str | None, rows: Sequence[FrozenRow]
) -> None:
    """Insert a chunk's delivery rows, stamped `stamp` (storage text) when queued and
    updated."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        raw_insert(conn, deliveries_table, FROZEN_COLUMNS, [
            (campaign_id, customer_id, address, variant, status, reason, 0, key, stamp, stamp)
            for customer_id, address, variant, status, reason, key in rows])
    else:
        conn.exec_driver_sql(_INSERT_MYSQL, (campaign_id, stamp, stamp, json.dumps(rows)))

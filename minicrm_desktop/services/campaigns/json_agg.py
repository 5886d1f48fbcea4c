"""MariaDB builds JSON_ARRAYAGG like GROUP_CONCAT: the result is cut at
group_concat_max_len (1 MB by default; a claim or a launch chunk of long addresses is more),
silently. Every JSON aggregate of the delivery code is read with the cut raised, either for
one statement (claims.py: one claim, one statement) or for a connection meanwhile (a launch
reads many chunks in one transaction: one SET for all of them). MySQL has no such cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

# 1 GiB, MariaDB's max_allowed_packet ceiling: no aggregate the server can send is cut.
UNCUT = 1 << 30


def uncut_statement(mariadb: bool) -> str:
    """A prefix raising the cut for the statement it starts (empty off MariaDB)."""
    return f"SET STATEMENT group_concat_max_len = {UNCUT} FOR " if mariadb else ""


@contextmanager
def uncut_json(conn: Connection) -> Iterator[None]:
    """The cut raised for this connection until the block ends (then put back as it was)."""
    mysql = conn.dialect.name != "sqlite"
    if mysql:
        before = conn.exec_driver_sql("SELECT @@SESSION.group_concat_max_len").scalar_one()
        conn.exec_driver_sql(f"SET SESSION group_concat_max_len = {UNCUT}")
    try:
        yield
    finally:
        if mysql:
            conn.exec_driver_sql("SET SESSION group_concat_max_len = %s", (int(before),))

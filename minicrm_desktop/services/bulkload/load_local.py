"""`LOAD DATA LOCAL INFILE` on MySQL/MariaDB, sending only the file we wrote.

With LOAD DATA LOCAL the *server* names the client file to send, in its reply to a query, so a
connection that allows it would hand any readable file to a rogue or compromised server (the
reason PyMySQL and MiniCRM's engines keep it off). Here it is on only for the connections of
an engine made for bulk loading (`load_local_engine`), and even there a file is sent only
while `sending` is armed for it, and only if its name is exactly the one armed: any other
request, or one outside `sending`, is answered with no data and fails the statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from pymysql import err
from pymysql.connections import Connection as PyMySQLConnection
from pymysql.connections import MySQLResult
from pymysql.protocol import LoadLocalPacketWrapper
from sqlalchemy import Connection, Engine


class RefusedLocalFile(err.OperationalError):
    """The server asked for a client file this connection was not told to send."""


class GuardedConnection(PyMySQLConnection):
    """A PyMySQL connection that tells the server it can send local files (the capability
    is fixed when connecting) but sends only the one armed by `sending`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.armed_file: bytes | None = None
        kwargs["local_infile"] = True
        super().__init__(*args, **kwargs)
        self._local_infile = False  # PyMySQL's own switch: off until armed

    def _read_query_result(self, unbuffered: bool = False) -> int:
        # PyMySQL's method, with the result class that checks the requested file's name.
        self._result = None
        result = _GuardedResult(self)
        if unbuffered:
            result.init_unbuffered_query()
        else:
            result.read()
        self._result = result
        if result.server_status is not None:
            self.server_status = result.server_status
        return int(result.affected_rows or 0)


class _GuardedResult(MySQLResult):
    def _read_load_local_packet(self, first_packet: Any) -> None:
        conn = self.connection
        wanted = LoadLocalPacketWrapper(first_packet).filename
        armed = getattr(conn, "armed_file", None)
        if conn._local_infile and armed is not None and wanted == armed:
            super()._read_load_local_packet(first_packet)
            return
        # Refuse: send no data (an empty packet ends the transfer), read the server's
        # answer so the connection stays in step, then fail the statement.
        conn.write_packet(b"")
        with suppress(err.MySQLError):  # its error for the empty file, if any
            conn._read_packet()
        name = wanted.decode("utf-8", "replace")
        raise RefusedLocalFile(
            2000, f"refused to send the file {name!r}: the server asked for a file this "
            "import did not offer")


def guarded_connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
    """Engine "do_connect" listener (registered after those adding the password): open a
    GuardedConnection instead of PyMySQL's own."""
    return GuardedConnection(*cargs, **cparams)


def can_load_local(conn: Connection) -> bool:
    """Whether this connection may LOAD DATA LOCAL: ours, and the server allows it."""
    if not isinstance(conn.connection.dbapi_connection, GuardedConnection):
        return False
    return bool(conn.exec_driver_sql("SELECT @@local_infile").scalar())


@contextmanager
def sending(conn: Connection, path: str) -> Iterator[None]:
    """Let the statements run meanwhile on `conn` send the file `path` (that name only)."""
    raw = conn.connection.dbapi_connection
    if not isinstance(raw, GuardedConnection):
        raise TypeError("LOAD DATA LOCAL needs a connection of load_local_engine()")
    raw.armed_file = path.encode("utf-8")
    raw._local_infile = True
    try:
        yield
    finally:
        raw._local_infile = False
        raw.armed_file = None


def load_local_engine(engine: Engine) -> Engine | None:
    """An engine to the same MySQL/MariaDB database whose connections may send the files
    `sending` names, or None (SQLite, another driver, an engine not made by MiniCRM)."""
    if engine.dialect.name != "mysql" or engine.dialect.driver != "pymysql":
        return None
    from minicrm_desktop.services.core.database import sibling_engine

    return sibling_engine(engine, load_local_files=True)

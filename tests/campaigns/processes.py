"""`minicrm campaign …` as a child process with a short lease, and watching it from outside.

Other processes can only be watched by polling (no signal crosses the boundary): every wait
polls a condition against a deadline.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from minicrm_desktop.models.campaign import campaigns_table, deliveries_table

# A lease renewed every second and lost after three: takeovers in tests take seconds.
SHORT_LEASE = {"MINICRM_LEASE_HEARTBEAT": "1", "MINICRM_LEASE_TTL": "3"}

# `minicrm` as the local admin: a MariaDB database would otherwise need a sign-in, and
# these tests are about delivery, not roles (tests/access covers those).
CLI_AS_LOCAL_ADMIN = (
    "import sys; from minicrm_desktop.cli.main import main; "
    "from minicrm_desktop.services.access.actor import LOCAL_ADMIN; "
    "sys.exit(main(sys.argv[1:], actor=LOCAL_ADMIN))"
)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Cli:
    """A running `minicrm` child; its output is collected as it comes."""

    def __init__(self, db_url: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLI_AS_LOCAL_ADMIN, "--db", db_url, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **SHORT_LEASE, **(env or {})},
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(stream, sink), daemon=True)
            for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: object, sink: list[str]) -> None:
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            sink.append(line.decode())

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(10)
        return code

    def kill(self) -> None:
        self.proc.kill()
        self.wait(30)


def resume(db_url: str, campaign_id: int, ledger: Path, *, env: dict[str, str] | None = None,
           workers: int = 4) -> Cli:
    return Cli(db_url, "campaign", "resume", str(campaign_id), "--ledger", str(ledger),
               "--workers", str(workers), "--retry-seconds", "0.001", env=env)


def ledger_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return {row[0] for row in conn.execute("SELECT idempotency_key FROM ledger")}
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # the table is being created
            return set()
        raise


def merged_ledger(target: Path, *ledgers: Path) -> Path:
    """One ledger file holding every entry of `ledgers` (whose keys must not overlap), for
    the invariants, which read one vendor's record."""
    with sqlite3.connect(target) as out:
        out.execute(
            "CREATE TABLE ledger (idempotency_key TEXT PRIMARY KEY, campaign_id INTEGER NOT "
            "NULL, address TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT, accepted_at "
            "TEXT NOT NULL)"
        )
        for path in ledgers:
            if path.exists():
                with sqlite3.connect(path) as src:
                    out.executemany("INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?)",
                                    src.execute(
                                        "SELECT idempotency_key, campaign_id, address, "
                                        "outcome, reason, accepted_at FROM ledger").fetchall())
    return target


def keys_in(engine: Engine, campaign_id: int, status: str) -> set[str]:
    d = deliveries_table.c
    with engine.connect() as conn:
        return set(conn.execute(select(d.idempotency_key).where(
            d.campaign_id == campaign_id, d.status == status)).scalars())


def count_in(engine: Engine, campaign_id: int, status: str) -> int:
    d = deliveries_table.c
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(
            d.campaign_id == campaign_id, d.status == status)).scalar_one())


def campaign_row(engine: Engine, campaign_id: int) -> object:
    c = campaigns_table.c
    with engine.connect() as conn:
        return conn.execute(select(c.status, c.status_reason, c.lease_owner,
                                   c.lease_expires_at).where(c.id == campaign_id)).one()


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


def holds_database_lock(engine: Engine) -> bool:
    """Whether another connection is inside a transaction that may lock what a takeover
    needs (SQLite: the write lock; MariaDB: an open InnoDB transaction on this database)."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database is not None
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN "
            "information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
            "WHERE p.DB = DATABASE() AND p.ID != CONNECTION_ID() "
            "AND (t.trx_rows_locked > 0 OR t.trx_tables_locked > 0)")).scalar())


def freeze_between_transactions(cli: Cli, engine: Engine) -> None:
    """SIGSTOP the child at a moment it holds no database lock. (A process frozen inside a
    transaction blocks every writer until it is killed: no lease can help with that.)"""
    for _ in range(200):
        cli.proc.send_signal(signal.SIGSTOP)
        wait_for(lambda: _stopped(cli.pid), 10, "the child to stop")
        if not holds_database_lock(engine):
            return
        cli.proc.send_signal(signal.SIGCONT)
        time.sleep(0.005 * random.random())  # let it leave the transaction
    raise AssertionError("the child was always inside a transaction")

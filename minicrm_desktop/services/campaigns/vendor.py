"""The simulated messaging vendor: a stand-in for an SMS/email API, with a ledger of its own.

Like a real vendor it answers each message with an outcome after some latency, fails some
(transiently — retry later — or permanently), throttles above its own rate limit, and
recognises an idempotency key it has seen: a repeat gets the first outcome back instead of
a second message. Its ledger lives in its own SQLite file, apart from MiniCRM's database —
the outside record that proves nobody was messaged twice.

Outcomes are a pure function of (seed, key, attempt), so a run is reproducible whatever
the order in which threads send.
"""

from __future__ import annotations

import hashlib
import math
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minicrm_desktop.services.core.paths import data_dir

# (reason, transient) per channel: what real SMS and email APIs report.
FAILURES = {
    "sms": (
        ("invalid number", False),
        ("carrier rejected", False),
        ("number unreachable", True),
        ("timeout", True),
    ),
    "email": (
        ("mailbox does not exist", False),
        ("rejected as spam", False),
        ("mailbox full", True),
        ("timeout", True),
    ),
}
THROTTLED = "throttled: vendor rate limit"
_GROUP_COMMIT_MAX = 1000
_LATER_COLUMNS = (("subject", "TEXT"), ("sender", "TEXT"), ("test", "INTEGER NOT NULL DEFAULT 0"),
                  ("opened", "INTEGER NOT NULL DEFAULT 0"), ("body", "TEXT"))
_COLUMNS = ("idempotency_key, campaign_id, address, outcome, reason, accepted_at, subject, "
            "sender, test, opened, body")


@dataclass(frozen=True)
class VendorConfig:
    success_rate: float = 0.9
    latency_ms: float = 0.0  # mean; each message's latency varies around it
    rate_limit: int | None = None  # messages per second the vendor accepts
    seed: int = 0
    # Share of sent messages the simulated recipient opens (0: no engagement reported).
    open_rate: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VendorConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Message:
    key: str
    campaign_id: int
    channel: str
    address: str
    body: str
    attempt: int
    subject: str | None = None  # email only, like the sender
    sender: str | None = None  # "Name <address>"
    test: bool = False  # a test send: apart from the campaign's figures


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reason: str | None = None
    transient: bool = False
    duplicate: bool = False  # the key was seen before: this is the first outcome, resent
    opened: bool = False  # the simulated recipient opened it (engagement)


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    campaign_id: int
    address: str
    outcome: str
    reason: str | None
    accepted_at: str
    subject: str | None = None
    sender: str | None = None
    test: bool = False
    opened: bool = False
    body: str | None = None


def default_ledger_path() -> Path:
    return data_dir() / "vendor-ledger.db"


class Vendor:
    """Thread-safe; share one per process. `close()` when done."""

    def __init__(self, config: VendorConfig, ledger_path: Path | None = None) -> None:
        self.config = config
        self.ledger = VendorLedger(ledger_path or default_ledger_path())
        self._bucket = _TokenBucket(config.rate_limit) if config.rate_limit else None

    def send(self, message: Message) -> Outcome:
        return self.submit(message).result()

    def submit(self, message: Message) -> PendingOutcome:
        """Send without waiting for the vendor's acknowledgement (as a pipelining client
        does); the outcome is known once the vendor has durably recorded the message."""
        return self.ledger.submit(message, self.answer(message))

    def answer(self, message: Message) -> Outcome:
        """The vendor's answer to one message, before its ledger has recorded it: after the
        message's latency, throttled above the rate limit. `record` makes it final."""
        latency = self._latency(message)
        if latency > 0:
            time.sleep(latency)  # the simulated network round trip
        candidate = self._decide(message)
        if self._bucket is not None and not self._bucket.take():
            candidate = Outcome(sent=False, reason=THROTTLED, transient=True)
        return candidate

    def record(self, answered: list[tuple[Message, Outcome]]) -> PendingBatch:
        """Hand answered messages to the ledger as one group: one hand-over between threads
        for the group instead of one per message (each cost as much as the vendor's own
        work). `result()` gives their outcomes, in order, once they are durable."""
        return self.ledger.submit_batch(answered)

    def close(self) -> None:
        self.ledger.close()

    def _decide(self, message: Message) -> Outcome:
        return decide(self.config, message)

    def _latency(self, message: Message) -> float:
        mean = self.config.latency_ms / 1000
        if mean <= 0:
            return 0.0
        # Exponential around the mean, capped: most calls are quick, a few are slow.
        u = _unit(self.config, message, "latency")
        return min(mean * -math.log(1.0 - u), mean * 8)


def _unit(config: VendorConfig, message: Message, salt: str) -> float:
    text = f"{config.seed}:{message.key}:{message.attempt}:{salt}"
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def decide(config: VendorConfig, message: Message) -> Outcome:
    """The vendor's answer to a message, before throttling and its ledger (a pure function
    of the seed, key and attempt: the benchmark's baseline computes the same outcomes)."""
    if _unit(config, message, "outcome") < config.success_rate:
        return Outcome(sent=True, opened=_unit(config, message, "opened") < config.open_rate)
    choices = FAILURES.get(message.channel, FAILURES["email"])
    reason, transient = choices[int(_unit(config, message, "reason") * len(choices))]
    return Outcome(sent=False, reason=reason, transient=transient)


class _TokenBucket:
    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class PendingBatch:
    """Messages handed to the ledger together; their outcomes once the ledger's group that
    holds them is durable."""

    __slots__ = ("answered", "ready", "finished", "outcomes", "error")

    def __init__(self, answered: list[tuple[Message, Outcome]],
                 ready: threading.Condition) -> None:
        self.answered = answered
        # The ledger's, shared by every submission (an Event each cost more than the rest
        # of the vendor's work): notified after each group is durable.
        self.ready = ready
        self.finished = False
        self.outcomes: list[Outcome] = []
        self.error: BaseException | None = None

    def result(self) -> list[Outcome]:
        if not self.finished:
            with self.ready:
                while not self.finished:
                    self.ready.wait()
        if self.error is not None:
            raise self.error
        return self.outcomes


@dataclass
class PendingOutcome:
    """One message's outcome once the ledger has recorded it (a batch of one)."""

    batch: PendingBatch

    def result(self) -> Outcome:
        return self.batch.result()[0]


class VendorLedger:
    """The vendor's record of every message it accepted, keyed by idempotency key.

    Submissions from all threads are committed in groups by one writer thread (a commit per
    message would cap throughput); a submitter returns only once its group is durable.
    Sent and permanently failed messages are recorded; a transient failure is not (the
    sender may retry it). Several processes may share the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS ledger ("
                " idempotency_key TEXT PRIMARY KEY, campaign_id INTEGER NOT NULL,"
                " address TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT,"
                " accepted_at TEXT NOT NULL)"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS ix_ledger_campaign ON ledger (campaign_id)")
            # Ledgers made before email essentials: the same table, later columns added.
            have = {row[1] for row in conn.execute("PRAGMA table_info(ledger)")}
            for column, kind in _LATER_COLUMNS:
                if column not in have:
                    conn.execute(f"ALTER TABLE ledger ADD COLUMN {column} {kind}")
        self._queue: queue.Queue[PendingBatch | None] = queue.Queue()
        self._ready = threading.Condition()
        self._writer = threading.Thread(target=self._write_loop, name="vendor-ledger", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def submit(self, message: Message, candidate: Outcome) -> PendingOutcome:
        return PendingOutcome(self.submit_batch([(message, candidate)]))

    def submit_batch(self, answered: list[tuple[Message, Outcome]]) -> PendingBatch:
        pending = PendingBatch(answered, self._ready)
        self._queue.put(pending)
        return pending

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join()

    def _write_loop(self) -> None:
        conn = self._connect()
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                group = [first]
                size = len(first.answered)
                while size < _GROUP_COMMIT_MAX:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._queue.put(None)  # finish this group, then stop
                        break
                    group.append(item)
                    size += len(item.answered)
                try:
                    self._commit(conn, group)
                except BaseException as exc:  # every waiter must wake, with the error
                    for pending in group:
                        pending.error = exc
                with self._ready:
                    for pending in group:
                        pending.finished = True
                    self._ready.notify_all()
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, group: list[PendingBatch]) -> None:
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        # IMMEDIATE: the check and the insert are one step, even across processes.
        conn.execute("BEGIN IMMEDIATE")
        try:
            keys = list({msg.key for pending in group for msg, _ in pending.answered})
            known: dict[str, tuple[str, str | None, bool]] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = conn.execute(
                    "SELECT idempotency_key, outcome, reason, opened FROM ledger "
                    f"WHERE idempotency_key IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                known.update({key: (outcome, reason, bool(opened))
                              for key, outcome, reason, opened in rows})
            accepted: list[tuple[Any, ...]] = []
            for pending in group:
                outcomes: list[Outcome] = []
                for msg, candidate in pending.answered:
                    if msg.key in known:
                        outcome, reason, opened = known[msg.key]
                        outcomes.append(Outcome(outcome == "sent", reason, False,
                                                duplicate=True, opened=opened))
                        continue
                    outcomes.append(candidate)
                    if candidate.transient:
                        continue
                    status = "sent" if candidate.sent else "failed"
                    accepted.append(
                        (msg.key, msg.campaign_id, msg.address, status, candidate.reason, now,
                         msg.subject, msg.sender, int(msg.test), int(candidate.opened),
                         msg.body)
                    )
                    known[msg.key] = (status, candidate.reason, candidate.opened)
                pending.outcomes = outcomes
            conn.executemany(f"INSERT INTO ledger ({_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                             accepted)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @staticmethod
    def read_entries(path: Path, campaign_id: int | None = None) -> Iterator[LedgerEntry]:
        """The ledger's entries, oldest first (reads the file; no writer is started)."""
        with closing(sqlite3.connect(path, timeout=30)) as conn:
            have = {row[1] for row in conn.execute("PRAGMA table_info(ledger)")}
            later = ", ".join(c if c in have else "NULL" for c, _ in _LATER_COLUMNS)
            sql = (
                "SELECT idempotency_key, campaign_id, address, outcome, reason, accepted_at, "
                f"{later} FROM ledger"
            )
            params: tuple[Any, ...] = ()
            if campaign_id is not None:
                sql += " WHERE campaign_id = ?"
                params = (campaign_id,)
            rows = conn.execute(sql + " ORDER BY accepted_at, idempotency_key", params).fetchall()
        for row in rows:
            key, campaign, address, outcome, reason, at, subject, sender, test, opened, body = row
            yield LedgerEntry(key, campaign, address, outcome, reason, at, subject, sender,
                              bool(test), bool(opened), body)

"""The loop every import shares: read rows, validate, write in batches, report progress.

Everything runs in this process. A helper process that read and validated while this one
wrote (it used to, for large files) cost more than it gave on two shared cores: every row
was pickled and unpickled between them, about as much CPU as validating it (issue 18).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import SQLAlchemyError

from minicrm_desktop.services.bulkload.indexes import (
    bulk_load_shortfall,
    indexes_set_aside,
    worth_setting_aside,
)
from minicrm_desktop.services.bulkload.upsert import count_rows
from minicrm_desktop.services.core.heap import bulk_allocations
from minicrm_desktop.services.core.retry import with_retries

from ...errors import MiniCRMError
from ...models.tables import customer_tags, customers_table
from ..access.actor import Actor, Permission
from ..access.audit import Action, record_now
from ..access.users import authorize
from .reader import CsvRow, CsvSource
from .refusals import refused_row
from .report import CancelCheck, ImportProgress, ImportReport, ProgressCallback, RejectedRow

log = logging.getLogger(__name__)

# Large enough to amortise each transaction; small enough to keep memory flat.
DEFAULT_BATCH_SIZE = 10_000

ParsedRow = tuple[int, dict[str, Any]]  # (line, parsed values)
Validator = Callable[[CsvRow, set[str]], dict[str, Any]]
BatchWriter = Callable[[Connection, list[ParsedRow], set[str], ImportReport], None]
# Does a batch's Python work ahead of writing it: its writer, and what to call afterwards.
Preparer = Callable[[list[ParsedRow], set[str]], tuple[BatchWriter, Callable[[], None]]]


class RowError(ValueError):
    """A cell that fails validation: names its column."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class _Batch:
    rows: list[ParsedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    rows_read: int = 0
    bytes_read: int = 0
    bytes_total: int = 0


@dataclass(frozen=True)
class _Reading:
    """What reading a file needs."""

    path: Path
    kind: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    mapping: dict[str, str] | None
    validate: Validator
    batch_size: int


def run_import(
    engine: Engine,
    path: Path,
    *,
    kind: str,
    fields: Sequence[str],
    required: Sequence[str],
    validate: Validator,
    write_batch: BatchWriter,
    mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    target: Table,
    scattered: Collection[str] = (),
    load_local: bool = False,
    prepare: Preparer | None = None,
    insert_triggers: bool = False,
    actor: Actor,
) -> ImportReport:
    """Stream `path`, validating each row; write each batch of good rows in one transaction.

    A file-level problem (unknown column, unreadable file) raises ImportFileError before
    anything is written. A bad row is reported and skipped; the good rows still go in.
    Cancelling keeps the batches already written and says so in the report.
    A file large next to the `target` table loads with the customer indexes led by the
    `scattered` columns (those the load writes in no particular order) set aside, rebuilt
    once at the end; indexes the load only appends to are kept, except in a load into an
    empty customers table on SQLite, which sets aside every index it will fill.
    With `load_local` (MySQL/MariaDB, when the server allows it) the batches are written
    through an engine whose connections may LOAD DATA LOCAL the files the writer arms, each
    while the next is read; `prepare` then does a batch's Python work on the reading thread.
    `insert_triggers`: the rows written hold what SQLite's insert triggers keep, so a bulk
    load sets those aside too (bulkload/indexes.py).
    The actor must be allowed to import; the import (or its failure) is audited.
    """
    authorize(engine, actor, Permission.IMPORT_DATA)
    reading = _Reading(
        path,
        kind,
        tuple(fields),
        tuple(required),
        dict(mapping) if mapping else None,
        validate,
        batch_size,
    )
    with CsvSource(path, fields, required, mapping, kind) as source:  # header problems raise
        present = source.present
    bulk = False
    tables: tuple[Table, ...] = (customers_table,)
    leading: Collection[str] | None = scattered
    if scattered:
        with engine.connect() as conn:
            rows_now = count_rows(conn, target)
        bulk = worth_setting_aside(path, rows_now, engine.dialect.name)
        shortfall = bulk_load_shortfall(engine) if bulk else None
        if shortfall:
            log.warning("importing %s in normal batches: %s", path.name, shortfall)
            bulk = False
        if rows_now == 0 and target is customers_table and engine.dialect.name == "sqlite":
            # Every row is the load's: even an index led by columns it leaves at their
            # defaults (and the tag links' own) builds faster by one sort at the end than
            # row by row (issue 18: about a tenth of a fresh import's CPU).
            tables, leading = (customers_table, customer_tags), None
    indexes: AbstractContextManager[None] = (
        indexes_set_aside(engine, tables, leading, insert_triggers=insert_triggers)
        if bulk else nullcontext()
    )
    batches = nullcontext(_read_batches(reading))
    report = ImportReport(kind=kind, source=path)
    writer = _load_local_writer(engine) if load_local else None
    try:
        with bulk_allocations():  # the rows die young: keep the collector off them
            _load(writer or engine, kind, write_batch, present, indexes, batches, report,
                  progress, should_cancel, prepare if writer is not None else None,
                  overlap=writer is not None)
    except BaseException as exc:
        reason = _failure(exc)
        try:
            _audit(engine, actor, kind, path, report, failed=reason)
            audited = True
        except Exception:  # the import's own error is the one to report
            log.exception("cannot record the failed import in the audit log")
            audited = False
        if isinstance(exc, (SQLAlchemyError, OSError)):
            raise ImportInterrupted(report, reason, audited=audited) from exc
        raise
    finally:
        if writer is not None:
            writer.dispose()
    report.rejected.sort(key=lambda r: r.line)
    _audit(engine, actor, kind, path, report)
    return report


def _load_local_writer(engine: Engine) -> Engine | None:
    """An engine for the batches that may LOAD DATA LOCAL (importing/staged.py), or None
    where that cannot work: SQLite, a server with local_infile off, an account that may
    not create temporary tables. Those import through multi-row INSERTs instead."""
    if engine.dialect.name != "mysql":
        return None
    from minicrm_desktop.services.bulkload import load_local

    writer = load_local.load_local_engine(engine)
    if writer is None:
        return None
    try:
        with writer.connect() as conn:
            if not load_local.can_load_local(conn):
                raise _NotAvailable("the server has local_infile off")
            conn.exec_driver_sql("CREATE TEMPORARY TABLE minicrm_import_probe (n INT)")
            conn.exec_driver_sql("DROP TEMPORARY TABLE minicrm_import_probe")
    except (_NotAvailable, SQLAlchemyError) as exc:
        log.info("importing through INSERT statements, not LOAD DATA LOCAL: %s",
                 _failure(exc))
        writer.dispose()
        return None
    return writer


class _NotAvailable(Exception):
    pass


def _failure(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ImportInterrupted(MiniCRMError):
    """The database failed part-way: the batches written before stay (re-importing the file
    completes it, as imports are idempotent); the message says how far it got."""

    def __init__(self, report: ImportReport, reason: str, *, audited: bool) -> None:
        note = "" if audited else "; the audit log could not record it"
        super().__init__(
            f"the {report.kind} import stopped at a database error ({reason}) after "
            f"{report.imported} imported, {report.updated} updated, {report.unchanged} "
            f"unchanged and "
            f"{len(report.rejected)} rejected rows were written{note}; import the file again "
            "to finish"
        )
        self.report = report


def _audit(engine: Engine, actor: Actor, kind: str, path: Path, report: ImportReport,
           failed: str | None = None) -> None:
    # Batches commit one by one, so the log entry has a transaction of its own.
    detail: dict[str, Any] = {"file": path.name, "imported": report.imported,
                              "updated": report.updated, "unchanged": report.unchanged,
                              "rejected": len(report.rejected),
                              "cancelled": report.cancelled}
    if failed:
        detail["failed"] = failed
    action = Action.IMPORT_ORDERS if kind == "orders" else Action.IMPORT_CUSTOMERS
    with_retries(lambda: record_now(engine, actor, action, detail), "recording the import")


def _load(
    engine: Engine,
    kind: str,
    write_batch: BatchWriter,
    present: set[str],
    indexes: AbstractContextManager[None],
    batches: AbstractContextManager[Iterator[_Batch]],
    report: ImportReport,
    progress: ProgressCallback | None,
    should_cancel: CancelCheck | None,
    prepare: Preparer | None = None,
    overlap: bool = False,
) -> None:
    """Write the batches one by one. With `overlap`, each batch is written on a second
    thread while this one reads and validates the next: the server's work (a MySQL server
    is another process, and PyMySQL waits with the GIL released) hides behind ours."""
    with indexes, batches as stream, _Pipeline(overlap) as pipeline:
        for batch in stream:
            report.rejected.extend(batch.rejected)
            write = _writer(engine, kind, write_batch, batch.rows, present,
                            prepare if overlap else None)
            for done, written in pipeline.push(write if batch.rows else None, batch):
                if written is not None:
                    report.merge(written)
                if progress is not None:
                    progress(ImportProgress(done.rows_read, done.bytes_read, done.bytes_total))
            if should_cancel is not None and should_cancel():
                report.cancelled = True
                break
        for done, written in pipeline.drain():
            if written is not None:
                report.merge(written)
            if progress is not None:
                progress(ImportProgress(done.rows_read, done.bytes_read, done.bytes_total))


def _writer(engine: Engine, kind: str, write_batch: BatchWriter, rows: list[ParsedRow],
            present: set[str], prepare: Preparer | None) -> Callable[[], ImportReport]:
    plain = partial(write_rows, engine, kind, write_batch, rows, present)
    if prepare is None or not rows:
        return plain
    try:
        prepared, cleanup = prepare(rows, present)
    except (ValueError, OSError) as exc:  # the writer meets it again, and says which row
        log.info("writing a batch unprepared: %s", _failure(exc))
        return plain

    def write() -> ImportReport:
        try:
            return write_rows(engine, kind, prepared, rows, present)
        finally:
            cleanup()

    return write


class _Pipeline:
    """Batch writes in order, each one while the next is read (or inline, without overlap).
    A batch starts only once the one before it committed: should that one fail, nothing
    after it is written, so the report counts exactly what the database holds."""

    def __init__(self, overlap: bool) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="import-writer") if overlap else None
        self._pending: list[tuple[_Batch, Future[ImportReport] | None]] = []

    def push(self, write: Callable[[], ImportReport] | None,
             batch: _Batch) -> list[tuple[_Batch, ImportReport | None]]:
        """Start writing `batch`; return the batches finished before it, with their counts."""
        if self._pool is None:
            return [(batch, write() if write is not None else None)]
        finished = self.drain()
        self._pending.append((batch, self._pool.submit(write) if write is not None else None))
        return finished

    def drain(self) -> list[tuple[_Batch, ImportReport | None]]:
        finished = []
        while self._pending:
            batch, future = self._pending.pop(0)
            finished.append((batch, future.result() if future else None))
        return finished

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        # On a failure here, the batch being written still finishes (it commits or not)
        # before the indexes are rebuilt and the failure is reported.
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def write_rows(
    engine: Engine,
    kind: str,
    write_batch: BatchWriter,
    rows: list[ParsedRow],
    present: set[str],
) -> ImportReport:
    """Write validated rows in one transaction. Should the database refuse a row all the
    same, the rows are written again in halves, down to that row alone, which is then
    reported by its line: the other rows of the batch still go in."""
    try:
        return with_retries(
            partial(_write, engine, kind, write_batch, rows, present), f"importing {kind}"
        )
    except Exception as exc:
        refused = refused_row(exc)
        if refused is None:
            raise
        if len(rows) > 1:
            half = len(rows) // 2
            report = write_rows(engine, kind, write_batch, rows[:half], present)
            report.merge(write_rows(engine, kind, write_batch, rows[half:], present))
            return report
        log.warning("the database refused line %d of a %s import: %s", rows[0][0], kind, exc)
        report = ImportReport(kind=kind)
        report.rejected.append(RejectedRow(rows[0][0], refused[0], refused[1]))
        return report


def _write(
    engine: Engine, kind: str, write_batch: BatchWriter, rows: list[ParsedRow], present: set[str]
) -> ImportReport:
    """One batch in one transaction; its counts are kept only if it commits, so a batch
    retried after losing a lock race is counted once."""
    scratch = ImportReport(kind=kind)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Take the write lock first (waiting for it, up to the busy timeout), so what the
            # batch reads is what it writes over, whoever else is writing.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        write_batch(conn, rows, present, scratch)
        conn.commit()
    return scratch


def _read_batches(reading: _Reading) -> Iterator[_Batch]:
    """Validated batches of the file."""
    with CsvSource(reading.path, reading.fields, reading.required, reading.mapping,
                   reading.kind) as source:
        present = source.present
        total = source.bytes_total
        batch = _Batch(bytes_total=total)
        for item in source.rows():
            batch.rows_read += 1
            if isinstance(item, RejectedRow):
                batch.rejected.append(item)
                continue
            try:
                batch.rows.append((item.line, reading.validate(item, present)))
            except RowError as exc:
                batch.rejected.append(RejectedRow(item.line, exc.column, exc.reason))
            if len(batch.rows) >= reading.batch_size:
                batch.bytes_read = source.bytes_read
                yield batch
                batch = _Batch(rows_read=batch.rows_read, bytes_total=total)
        batch.bytes_read = total
        yield batch


def last_wins(batch: list[ParsedRow], key: str) -> tuple[list[ParsedRow], int]:
    """Keep the last row for each key (a later row updates an earlier one), and say how
    many earlier rows were folded into later ones."""
    by_key: dict[Any, ParsedRow] = {}
    for item in batch:
        by_key[item[1][key]] = item
    return list(by_key.values()), len(batch) - len(by_key)


def fold(batch: list[ParsedRow], key: str) -> tuple[list[ParsedRow], int, int]:
    """`last_wins`, with the rows folded away split by what the row after them (same key)
    did to them: (kept rows, folded rows it changed, folded rows it repeated exactly)."""
    if len({item[1][key] for item in batch}) == len(batch):  # the usual batch: all distinct
        return batch, 0, 0
    by_key: dict[Any, ParsedRow] = {}
    repeated = 0
    for item in batch:
        earlier = by_key.get(item[1][key])
        if earlier is not None and earlier[1] == item[1]:
            repeated += 1
        by_key[item[1][key]] = item
    folded = len(batch) - len(by_key)
    return list(by_key.values()), folded - repeated, repeated

"""Secondary indexes: set aside during a bulk load, and always restored.

Maintaining a dozen B-trees row by row costs more than the load itself once a table outgrows
the page cache; building each index once at the end, by sorting, is several times faster.
An interrupted load may leave indexes missing, so every start restores them
(`restore_missing_indexes`, called after migrations). The same goes for the SQLite insert
triggers a customer load sets aside (its rows need no correcting).

On SQLite a bulk load also defers WAL checkpoints: by default every commit past 1,000 WAL
pages copies the log back into the database and syncs it, a hundred times for a million
rows (3 s of a 30 s import). One checkpoint at the end writes each page once. Durability is
unchanged: every committed batch is in the WAL, which survives a crash.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Index, Table, event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex

from minicrm_desktop.models import Base
from minicrm_desktop.models.engine_only import (
    MYSQL_INDEX_COLUMNS,
    SQLITE_INSERT_TRIGGERS,
    EngineIndex,
    EngineTrigger,
    engine_indexes,
)
from minicrm_desktop.services.core.deferred_engine import real_engine

log = logging.getLogger(__name__)

# Files at least this large may load with indexes set aside...
BULK_MIN_BYTES = 16 * 1024 * 1024
# ...on MySQL/MariaDB sooner: InnoDB maintains every secondary index row by row even with
# the table in memory (100,000 customers: 6-9 s with the 14 indexes, 0.6 s without them and
# 1.4 s to build all of them at once), and setting them aside on a small table is quick.
BULK_MIN_BYTES_MYSQL = 1024 * 1024
# ...when they are estimated to hold at least this share of the table's current rows.
BULK_MIN_SHARE = 0.5
# WAL pages (4 KiB) before a checkpoint during a bulk load, and SQLite's default otherwise.
BULK_WAL_PAGES = 50_000
DEFAULT_WAL_PAGES = 1_000


def secondary_indexes(table: Table, leading: Collection[str] | None = None) -> list[Index]:
    """Indexes that enforce nothing: safe to drop and rebuild. With `leading`, only those
    whose first column is one of these (the ones a load would scatter writes across)."""
    return sorted(
        (
            ix
            for ix in table.indexes
            if not ix.unique and (leading is None or next(iter(ix.columns)).name in leading)
        ),
        key=lambda ix: str(ix.name),
    )


@contextmanager
def indexes_set_aside(
    engine: Engine, tables: Sequence[Table], leading: Collection[str] | None = None,
    *, insert_triggers: bool = False,
) -> Iterator[None]:
    """Drop the tables' secondary indexes (or those led by `leading` columns) for the
    duration; rebuild them whatever happens, then refresh the planner's statistics.

    SQLite, with `insert_triggers` (a load whose rows hold the values the AFTER INSERT
    triggers keep, models/engine_only.SQLITE_INSERT_TRIGGERS): those triggers are set
    aside too and recreated with the indexes, then whatever they would have corrected in
    rows others inserted meanwhile is corrected (the update triggers stay throughout).

    MySQL/MariaDB: all of them (`leading` is for SQLite, whose B-trees cost little for keys
    that only grow; InnoDB pays for every index on every row), each table's in one ALTER
    TABLE either way, so the rebuild reads the table once rather than once per index.
    """
    dropped: list[Index] = []
    dropped_engine: list[EngineIndex] = []
    dropped_triggers: list[tuple[EngineTrigger, str]] = []  # with the SQL that made it
    if not tables:
        yield
        return
    if engine.dialect.name != "sqlite":
        with _set_aside_mysql(engine, tables):
            yield
        return
    with _checkpoints_deferred(engine):
        try:
            with engine.begin() as conn:
                inspector = inspect(conn)
                present = {t.name: {ix["name"] for ix in inspector.get_indexes(t.name)}
                           for t in tables}
                for table in tables:
                    for index in secondary_indexes(table, leading):
                        if index.name in present[table.name] and _droppable(index, engine):
                            index.drop(conn)  # MySQL DDL commits at once: record each one
                            dropped.append(index)
                    for extra in engine_indexes(engine.dialect.name, table.name):
                        if extra.name in present[table.name] and (
                            leading is None or extra.derived_from & set(leading)
                        ):
                            conn.exec_driver_sql(extra.drop_sql)
                            dropped_engine.append(extra)
                if insert_triggers:
                    dropped_triggers = _drop_insert_triggers(conn, tables)
            yield
        finally:
            with engine.begin() as conn:
                for index in dropped:
                    index.create(conn, checkfirst=True)
                for extra in dropped_engine:
                    conn.exec_driver_sql(extra.create_sql)
                if dropped_triggers:  # after the indexes their corrections read
                    # (start-up elsewhere may have restored them meanwhile)
                    triggers_now = _triggers(conn)
                    for trigger, create_sql in dropped_triggers:
                        if trigger.name not in triggers_now:
                            conn.exec_driver_sql(create_sql)
                        conn.exec_driver_sql(trigger.fix_sql)
            refresh_statistics(engine)


def _drop_insert_triggers(conn: Any, tables: Sequence[Table]) -> list[tuple[EngineTrigger, str]]:
    """Drop the SQLite insert triggers of `tables` a bulk load may set aside; return each
    with the statement that created it (recreated as it was)."""
    names = {t.name for t in tables}
    wanted = [t for t in SQLITE_INSERT_TRIGGERS if t.table in names]
    if not wanted:
        return []
    found = _triggers(conn)
    dropped = []
    for trigger in wanted:
        if trigger.name in found:
            conn.exec_driver_sql(f'DROP TRIGGER "{trigger.name}"')
            dropped.append((trigger, found[trigger.name]))
    return dropped


@contextmanager
def _set_aside_mysql(engine: Engine, tables: Sequence[Table]) -> Iterator[None]:
    dropped: dict[str, dict[str, str]] = {}  # table -> index name -> its ADD INDEX clause
    prep = engine.dialect.identifier_preparer
    try:
        with engine.begin() as conn:
            inspector = inspect(conn)
            for table in tables:
                present = {ix["name"] for ix in inspector.get_indexes(table.name)}
                gone = {name: clause for name, clause in _mysql_indexes(table, engine).items()
                        if name in present}
                if not gone:
                    continue
                table_sql = prep.format_table(table)
                try:
                    conn.exec_driver_sql(
                        f"ALTER TABLE {table_sql} "
                        + ", ".join(f"DROP INDEX {prep.quote(name)}" for name in gone))
                    dropped[table.name] = gone  # DDL commits at once: record each table
                except DBAPIError as exc:
                    if not _alter_denied(exc):
                        raise
                    # A marketer's role may drop and create indexes (INDEX) but not ALTER
                    # the table: one statement an index, each recorded as it commits.
                    dropped[table.name] = {}
                    for name, clause in gone.items():
                        conn.exec_driver_sql(f"DROP INDEX {prep.quote(name)} ON {table_sql}")
                        dropped[table.name][name] = clause
        yield
    finally:
        _add_missing_mysql(engine, tables, dropped)
        refresh_statistics(engine)


def _add_missing_mysql(engine: Engine, tables: Sequence[Table],
                       wanted: dict[str, dict[str, str]]) -> list[str]:
    """Add the `wanted` indexes each table lacks, in one ALTER TABLE per table."""
    prep = engine.dialect.identifier_preparer
    created: list[str] = []
    with engine.begin() as conn:
        inspector = inspect(conn)
        for table in tables:
            present = {ix["name"] for ix in inspector.get_indexes(table.name)}
            missing = {n: c for n, c in wanted.get(table.name, {}).items() if n not in present}
            if not missing:
                continue
            table_sql = prep.format_table(table)
            try:
                conn.exec_driver_sql(f"ALTER TABLE {table_sql} " + ", ".join(missing.values()))
            except DBAPIError as exc:
                if not _alter_denied(exc):
                    raise
                # Without ALTER (a marketer's role): CREATE INDEX, which INDEX allows, one
                # index at a time (each reads the table; the owner's one ALTER reads it once).
                for clause in missing.values():
                    conn.exec_driver_sql(_create_index(clause, table_sql))
            created += missing
    return created


# ER_TABLEACCESS_DENIED_ERROR: "ALTER command denied to user ... for table ...".
_TABLE_ACCESS_DENIED = 1142


def _alter_denied(exc: DBAPIError) -> bool:
    args: tuple[object, ...] = tuple(getattr(exc.orig, "args", ()))
    return len(args) > 1 and args[0] == _TABLE_ACCESS_DENIED and "ALTER" in str(args[-1])


def _create_index(clause: str, table_sql: str) -> str:
    """`ADD INDEX name (columns)` (an ALTER TABLE clause of _mysql_indexes) as a statement."""
    name, columns = clause.removeprefix("ADD INDEX ").split(" ", 1)
    return f"CREATE INDEX {name} ON {table_sql} {columns}"


def _mysql_indexes(table: Table, engine: Engine) -> dict[str, str]:
    """The secondary indexes of `table` InnoDB lets go (with those outside the metadata,
    models/engine_only.py), each with its ADD INDEX clause."""
    prep = engine.dialect.identifier_preparer
    found = {str(ix.name): _add_index(ix, engine)
             for ix in secondary_indexes(table) if _droppable(ix, engine)}
    for name, columns in MYSQL_INDEX_COLUMNS.get(table.name, {}).items():
        found[name] = f"ADD INDEX {prep.quote(name)} {columns}"
    return found


_CREATE_INDEX = re.compile(r"^CREATE INDEX (\S+) ON \S+ ", re.ASCII)


def _add_index(index: Index, engine: Engine) -> str:
    """The schema's own CREATE INDEX for `index`, as an ALTER TABLE clause."""
    ddl = str(CreateIndex(index).compile(dialect=engine.dialect)).strip()
    clause, found = _CREATE_INDEX.subn(r"ADD INDEX \1 ", ddl)
    if not found:
        raise ValueError(f"unexpected index DDL: {ddl}")
    return clause


@contextmanager
def _checkpoints_deferred(engine: Engine) -> Iterator[None]:
    """SQLite: connections checked out meanwhile checkpoint only every BULK_WAL_PAGES; one
    checkpoint at the end folds the log back into the database."""
    engine = real_engine(engine)  # event.listen checks the target's type
    if engine.dialect.name != "sqlite":
        yield
        return

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_PAGES}")

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={DEFAULT_WAL_PAGES}")

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def _droppable(index: Index, engine: Engine) -> bool:
    """InnoDB refuses to drop the index a foreign key relies on (one led by its column)."""
    if engine.dialect.name == "sqlite":
        return True
    table = index.table
    assert table is not None
    fk_columns = {fk.parent.name for fk in table.foreign_keys}
    return next(iter(index.columns)).name not in fk_columns


def refresh_statistics(engine: Engine) -> None:
    """Refresh the statistics the query planner uses to pick indexes, after a bulk load.

    Segment counts rely on the planner choosing the narrowest index (about 2-3 s per
    million customers on SQLite). *Approximate* SQLite statistics (`PRAGMA analysis_limit`)
    mis-size the indexes and made the planner scan the table instead, so never use them.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=0")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE TABLE customers, customer_tags, tags, orders")


def restore_missing_indexes(engine: Engine) -> list[str]:
    """Create any index of the schema missing from the database, and on SQLite any insert
    trigger a bulk load set aside (bulkload/indexes.py); return their names."""
    created: list[str] = []
    with engine.begin() as conn:
        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in tables:
                continue
            present = {ix["name"] for ix in inspector.get_indexes(table.name)}
            for index in secondary_indexes(table):
                if index.name not in present:
                    index.create(conn)
                    created.append(str(index.name))
            missing = [ix for ix in engine_indexes(engine.dialect.name, table.name)
                       if ix.name not in present]
            if missing:  # only where the migration adding its column has run
                columns = {c["name"] for c in inspector.get_columns(table.name)}
                for extra in missing:
                    if extra.column in columns:
                        conn.exec_driver_sql(extra.create_sql)
                        created.append(extra.name)
        if engine.dialect.name == "sqlite":
            created += _restore_insert_triggers(conn, inspector, tables)
    if engine.dialect.name != "sqlite":
        tables_by_name = {t.name: t for t in Base.metadata.sorted_tables}
        created += _add_missing_mysql(
            engine, [tables_by_name[t] for t in MYSQL_INDEX_COLUMNS if t in tables],
            {t: {n: f"ADD INDEX {engine.dialect.identifier_preparer.quote(n)} {c}"
                 for n, c in cols.items()} for t, cols in MYSQL_INDEX_COLUMNS.items()})
    if created:
        log.warning("restored indexes left out by an interrupted bulk load: %s", created)
    return created


def _triggers(conn: Any) -> dict[str, str]:
    """The SQLite database's triggers: name -> the statement that created it."""
    return {str(name): str(sql) for name, sql in conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}


def _restore_insert_triggers(conn: Any, inspector: Any, tables: set[str]) -> list[str]:
    """The insert triggers an interrupted bulk load left set aside (where the migration
    adding their column has run), with the corrections they missed meanwhile."""
    present = _triggers(conn)
    columns: dict[str, set[str]] = {}  # table -> its columns, read once
    created: list[str] = []
    for trigger in SQLITE_INSERT_TRIGGERS:
        if trigger.name in present or trigger.table not in tables:
            continue
        if trigger.table not in columns:
            columns[trigger.table] = {c["name"] for c in inspector.get_columns(trigger.table)}
        if trigger.column in columns[trigger.table]:
            conn.exec_driver_sql(trigger.create_sql)
            conn.exec_driver_sql(trigger.fix_sql)
            created.append(trigger.name)
    return created


def bulk_load_shortfall(engine: Engine, wal_pages: int = BULK_WAL_PAGES) -> str | None:
    """Why the disk cannot hold what a bulk load writes besides the rows, or None if it can.

    With checkpoints deferred (SQLite) the WAL grows to `wal_pages` pages before it is folded
    back, and the indexes are rebuilt beside the table: a load that runs out of space there
    has committed its rows but cannot finish. Short of room, load in normal batches instead.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    with engine.connect() as conn:
        page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
    # The WAL at its largest, the rebuilt indexes (at most a third of the file), a margin.
    needed = wal_pages * page_size + pages * page_size // 3 + 64 * 1024 * 1024
    free = shutil.disk_usage(Path(database).expanduser().resolve().parent).free
    if free >= needed:
        return None
    return (f"{free // 2**20} MiB free on the database's disk, a bulk load needs "
            f"{needed // 2**20} MiB")


def worth_setting_aside(path: Path, table_rows: int, dialect: str = "sqlite") -> bool:
    """Whether a file is big enough, next to the table, for a bulk load to pay off."""
    size = path.stat().st_size
    least = BULK_MIN_BYTES if dialect == "sqlite" else min(BULK_MIN_BYTES, BULK_MIN_BYTES_MYSQL)
    if size < least:
        return False
    with path.open("rb") as fh:
        sample = fh.read(1 << 16)
    lines = max(1, sample.count(b"\n"))
    estimated_rows = size * lines // max(1, len(sample))
    return estimated_rows >= BULK_MIN_SHARE * table_rows

"""Segment count speed at scale: each rule beside DuckDB (1 thread) counting the same rows.

    python benchmarks/segments.py --customers 1000000 [--db URL] [--runs 7] --json

Builds (once, then reuses) a seeded database: a SQLite file under benchmarks/.cache/, or
the MySQL/MariaDB database named by --db (emptied and re-seeded when its contents differ).
The rows a rule can read (customers, customer_tags, tags) are copied once into a DuckDB file
beside it (through a CSV file: nothing is downloaded at run time), with native types.

Each rule becomes the count MiniCRM runs (count_audience's statement: the single WHERE, or
a sum of cheaper counts where services/segments/count_plan.py knows one); DuckDB runs the
single WHERE clause (rendered in a dialect it reads, with the same bound values), its best
form for the same work. After one warm-up of each, MiniCRM and DuckDB
are timed in turns, --runs times: `median_ms` and `duckdb_ms` are the medians and
`ratio_to_duckdb` their quotient. Both counts must agree or the benchmark fails.
`server_settings` records what decides the figures (page cache, mmap, buffer pool), and
`load_average` the machine's load at start and end. Peak memory is measured around one count
of the heaviest rule.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minicrm_desktop.models import Base, Customer  # noqa: E402
from minicrm_desktop.models.rules import RuleGroup, parse_rule  # noqa: E402
from minicrm_desktop.services.access.actor import LOCAL_ADMIN  # noqa: E402
from minicrm_desktop.services.core.database import create_db_engine  # noqa: E402
from minicrm_desktop.services.core.migrate import upgrade_to_head  # noqa: E402
from minicrm_desktop.services.customers.seed import seed_demo_data  # noqa: E402
from minicrm_desktop.services.segments import (  # noqa: E402
    audience_count_statement,
    compile_rule,
    count_statement,
    optimize_database,
)
from minicrm_desktop.services.segments.count_plan import (  # noqa: E402
    plan_count,
    planned_count_statement,
)

DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache"
CACHE = DEFAULT_CACHE  # --cache
SEED = 20261124
ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
AS_OF = ANCHOR

RULES: dict[str, dict[str, Any]] = {
    "lapsed_spent_over_5000": {"combinator": "and", "rules": [
        {"field": "last_order_date", "operator": "notWithinLast",
         "value": {"amount": 6, "unit": "months"}},
        {"field": "total_spend", "operator": ">", "value": 5000},
    ]},
    "name_contains": {"combinator": "and", "rules": [
        {"field": "name", "operator": "contains", "value": "sha"},
    ]},
    "email_ends_with": {"combinator": "and", "rules": [
        {"field": "email", "operator": "endsWith", "value": "@gmail.com"},
    ]},
    "city_in": {"combinator": "and", "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
    ]},
    "tag_vip": {"combinator": "and", "rules": [
        {"field": "tags", "operator": "contains", "value": "VIP"},
    ]},
    "tag_not_newsletter": {"combinator": "and", "rules": [
        {"field": "tags", "operator": "doesNotContain", "value": "newsletter"},
    ]},
    "nested_3_levels": {"combinator": "and", "rules": [
        {"field": "subscribed", "operator": "=", "value": True},
        {"combinator": "or", "rules": [
            {"field": "total_spend", "operator": ">=", "value": 20000},
            {"combinator": "and", "rules": [
                {"field": "order_count", "operator": ">=", "value": 3},
                {"field": "last_order_date", "operator": "withinLast",
                 "value": {"amount": 90, "unit": "days"}},
            ]},
        ]},
    ]},
    "avg_order_value_over_1500": {"combinator": "and", "rules": [
        {"field": "avg_order_value", "operator": ">", "value": 1500},
    ]},
    "never_ordered": {"combinator": "and", "rules": [
        {"field": "order_count", "operator": "=", "value": 0},
    ]},
    "signed_up_2025": {"combinator": "and", "rules": [
        {"field": "signup_date", "operator": "between", "value": ["2025-01-01", "2025-12-31"]},
    ]},
}

#: What DuckDB gets of each table, with its native type: every column a rule can read.
DUCKDB_TABLES: dict[str, dict[str, str]] = {
    "customers": {
        "id": "BIGINT", "email_norm": "VARCHAR", "name_norm": "VARCHAR",
        "phone_norm": "VARCHAR", "city_norm": "VARCHAR", "signup_date": "TIMESTAMP",
        "visits": "INTEGER", "last_visit": "TIMESTAMP", "subscribed": "BOOLEAN",
        "total_spend_minor": "BIGINT", "order_count": "INTEGER",
        "first_order_at": "TIMESTAMP", "last_order_at": "TIMESTAMP", "tags_norm": "VARCHAR",
        # The truncated average both engines keep beside the rows (a generated column, see
        # models/engine_only.py): DuckDB gets its values too, so it runs the same WHERE.
        "avg_order_minor": "BIGINT",
    },
    "customer_tags": {"customer_id": "BIGINT", "tag_id": "BIGINT"},
    "tags": {"id": "BIGINT", "name_norm": "VARCHAR"},
}
#: Columns DuckDB computes from those it loaded, as SQLite stores them beside the rows (and
#: MySQL lacks): last_order_at and signup_date as integer microseconds, which SQLite's
#: WHERE compares (migrations 0019 and 0024, models/engine_only.py). DuckDB runs that WHERE
#: on its own integers.
DUCKDB_DERIVED: dict[str, dict[str, str]] = {
    "customers": {"last_order_us": "epoch_us(last_order_at)::BIGINT",
                  "signup_us": "epoch_us(signup_date)::BIGINT"},
}
#: SQL that DuckDB parses: PostgreSQL's, with `?` placeholders.
DUCKDB_SQL = postgresql.dialect(paramstyle="qmark")


def main(argv: list[str] | None = None) -> int:
    global CACHE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", help="a MySQL/MariaDB URL (default: a cached SQLite file)")
    parser.add_argument("--runs", type=int, default=7, help="paired runs per rule (>= 3)")
    parser.add_argument("--only", action="append", help="time only this rule (repeatable)")
    parser.add_argument("--explain", action="store_true", help="print each query plan")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--set-buffer-pool", metavar="BYTES", type=int,
        help="MariaDB/MySQL: SET GLOBAL innodb_buffer_pool_size first (changes the server!)",
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="where the SQLite and DuckDB files are kept")
    parser.add_argument("--count-once", metavar="RULE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    CACHE = args.cache
    if args.runs < 3:
        parser.error("--runs must be at least 3")
    if args.count_once:  # the child process whose peak memory is measured
        return _count_once(_database_url(args.customers, args.db), args.count_once)

    load_start = os.getloadavg()
    engine, build_s = open_database(args.customers, args.db)
    try:
        if args.set_buffer_pool:
            _set_buffer_pool(engine, args.set_buffer_pool)
        report = run(engine, args, build_s)
    finally:
        engine.dispose()
    report["load_average"] = {"start": _rounded(load_start), "end": _rounded(os.getloadavg())}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['engine']}, {report['customers']} customers, load average "
              f"{report['load_average']['start']} -> {report['load_average']['end']}")
        for name, row in report["rules"].items():
            print(f"{name:28} {row['median_ms']:8.1f} ms  DuckDB {row['duckdb_ms']:6.1f} ms  "
                  f"x{row['ratio_to_duckdb']:.2f}  ({row['count']} customers, "
                  f"{row['count_form']})")
    return 0


def _rounded(values: Iterable[float]) -> list[float]:
    return [round(v, 2) for v in values]


def _database_url(n: int, url: str | None) -> str:
    if url is not None:
        return url
    CACHE.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{CACHE / f'segments-{n}-{SEED}.db'}"


def open_database(n: int, url: str | None) -> tuple[Engine, float | None]:
    engine = create_db_engine(_database_url(n, url))
    upgrade_to_head(engine)
    build_s = None
    if _customer_count(engine) != n:
        _empty(engine)
        started = time.perf_counter()
        seed_demo_data(engine, n, seed=SEED, anchor=ANCHOR, actor=LOCAL_ADMIN)
        build_s = time.perf_counter() - started
    optimize_database(engine)
    return engine, build_s


def _customer_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Customer.__table__)).scalar_one())


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        else:
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(text(f"TRUNCATE TABLE `{table.name}`"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))


def _set_buffer_pool(engine: Engine, size: int) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SET GLOBAL innodb_buffer_pool_size = {int(size)}")


# -- DuckDB ---------------------------------------------------------------------------------


def open_duckdb(engine: Engine, n: int) -> Any:
    """A single-threaded DuckDB holding the same rows as `engine` (built once, then reused)."""
    import duckdb  # a dev-only dependency

    path = CACHE / f"segments-{engine.dialect.name}-{n}-{SEED}.duckdb"
    CACHE.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"threads": 1})
    present = {(r[0], r[1]) for r in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns()").fetchall()}
    wanted = {(t, c) for t, columns in DUCKDB_TABLES.items() for c in columns}
    wanted |= {(t, c) for t, columns in DUCKDB_DERIVED.items() for c in columns}
    if present >= wanted:
        loaded = con.execute("SELECT count(*) FROM customers").fetchone()
        if loaded is not None and loaded[0] == n:
            return con
    for table, columns in DUCKDB_TABLES.items():
        csv_path = CACHE / f"duckdb-load-{table}.csv"
        try:
            _export_csv(engine, table, list(columns), csv_path)
            spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
            con.execute(f"DROP TABLE IF EXISTS {table}")
            derived = "".join(f", {expr} AS {name}"
                              for name, expr in DUCKDB_DERIVED.get(table, {}).items())
            con.execute(
                f"CREATE TABLE {table} AS SELECT *{derived} FROM read_csv('{csv_path}', "
                f"header=false, quote='\"', escape='\"', nullstr='\\N', columns={{{spec}}})"
            )
        finally:
            csv_path.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    return con


def _export_csv(engine: Engine, table: str, columns: list[str], path: Path) -> None:
    """The table's stored values as CSV: NULL as \\N, every field quoted (so "" is empty)."""
    with engine.connect() as conn, path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        result = conn.execution_options(stream_results=True, yield_per=50_000).exec_driver_sql(
            f"SELECT {', '.join(columns)} FROM {table}"
        )
        for rows in result.partitions():
            writer.writerows(["\\N" if v is None else v for v in row] for row in rows)


def duckdb_query(tree: RuleGroup) -> tuple[str, list[Any]]:
    """The count of `tree` as DuckDB SQL: the very predicates MiniCRM runs on SQLite (SQLite's
    planner hints render as plain columns here), and the same values, instants as naive UTC."""
    return _duckdb_sql(count_statement(compile_rule(tree, AS_OF, "sqlite")))


def duckdb_planned_query(tree: RuleGroup) -> tuple[str, list[Any]] | None:
    """The count planner's SQLite statement as DuckDB SQL, when it is not the single WHERE:
    DuckDB may count a rewritten form faster too (a tag's link rows), and the baseline is the
    best DuckDB does, whichever form that is."""
    if plan_count(tree, "sqlite").form == "where":
        return None
    return _duckdb_sql(planned_count_statement(tree, AS_OF, "sqlite"))


def _duckdb_sql(stmt: Any) -> tuple[str, list[Any]]:
    compiled = stmt.compile(dialect=DUCKDB_SQL, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    assert compiled.positiontup is not None
    return str(compiled), [_duck_value(params[k]) for k in compiled.positiontup]


def _duck_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _duckdb_settings(con: Any) -> dict[str, Any]:
    names = ("threads", "memory_limit")
    rows = con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN (?, ?)", list(names)
    ).fetchall()
    version = con.execute("SELECT version()").fetchone()
    return {"version": version[0] if version else None, **dict(rows)}


# -- timing ---------------------------------------------------------------------------------


def _paired(
    engine: Engine, stmt: Any, con: Any, duck: tuple[str, list[Any]], runs: int
) -> tuple[list[float], list[float], int, int]:
    """`runs` timings of each, taken in turns (who goes first alternates), after a warm-up."""
    ours: list[float] = []
    theirs: list[float] = []
    with engine.connect() as conn:
        count = int(conn.execute(stmt).scalar_one())  # warm-up (and the page cache)
        duck_count = int(con.execute(*duck).fetchone()[0])
        for i in range(runs):
            for side in ((0, 1) if i % 2 == 0 else (1, 0)):
                started = time.perf_counter()
                if side == 0:
                    count = int(conn.execute(stmt).scalar_one())
                    ours.append((time.perf_counter() - started) * 1000)
                else:
                    duck_count = int(con.execute(*duck).fetchone()[0])
                    theirs.append((time.perf_counter() - started) * 1000)
    return ours, theirs, count, duck_count


def _fastest_duckdb(
    con: Any, tree: RuleGroup
) -> tuple[tuple[str, list[Any]], str, float | None]:
    """DuckDB's faster form of the count (the single WHERE or the planned statement, each
    timed 5 times after a warm-up), its name, and the other form's median (None if one)."""
    where = duckdb_query(tree)
    planned = duckdb_planned_query(tree)
    if planned is None:
        return where, "where", None

    def median_ms(query: tuple[str, list[Any]]) -> float:
        con.execute(*query).fetchone()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            con.execute(*query).fetchone()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    where_ms, planned_ms = median_ms(where), median_ms(planned)
    if planned_ms < where_ms:
        return planned, "planned", round(where_ms, 2)
    return where, "where", round(planned_ms, 2)


def run(engine: Engine, args: argparse.Namespace, build_s: float | None) -> dict[str, Any]:
    started = time.perf_counter()
    con = open_duckdb(engine, args.customers)
    duck_build_s = time.perf_counter() - started
    trees: dict[str, RuleGroup] = {k: parse_rule(v) for k, v in RULES.items()}
    if args.only:
        trees = {k: v for k, v in trees.items() if k in args.only}
    rows: dict[str, dict[str, Any]] = {}
    try:
        for name, tree in trees.items():
            stmt = audience_count_statement(engine, tree, AS_OF)
            duck, duck_form, duck_other_ms = _fastest_duckdb(con, tree)
            if args.explain:
                _explain(engine, stmt, name)
            ours, theirs, count, duck_count = _paired(engine, stmt, con, duck, args.runs)
            if count != duck_count:
                raise SystemExit(f"{name}: MiniCRM counts {count}, DuckDB {duck_count}")
            ms, duck_ms = statistics.median(ours), statistics.median(theirs)
            rows[name] = {
                "median_ms": round(ms, 2),
                "duckdb_ms": round(duck_ms, 2),
                "ratio_to_duckdb": round(ms / duck_ms, 2),
                "range_ms": [round(min(ours), 2), round(max(ours), 2)],
                "duckdb_range_ms": [round(min(theirs), 2), round(max(theirs), 2)],
                "count": count,
                "count_form": plan_count(tree, engine.dialect.name).form,
                "duckdb_form": duck_form,
                "duckdb_other_form_ms": duck_other_ms,
            }
        duck_settings = _duckdb_settings(con)
    finally:
        con.close()
    heaviest = max(rows, key=lambda k: rows[k]["median_ms"]) if rows else None
    memory = _count_memory(engine, trees[heaviest], args, heaviest) if heaviest else {}
    return {
        "engine": engine.dialect.name,
        "server_version": _server_version(engine),
        "server_settings": _server_settings(engine),
        "duckdb_settings": duck_settings,
        "customers": _customer_count(engine),
        "as_of": AS_OF.isoformat(),
        "runs": args.runs,
        "build_s": round(build_s, 1) if build_s is not None else None,
        "duckdb_open_s": round(duck_build_s, 1),
        "rules": rows,
        "memory": {"rule": heaviest, **memory},
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": _cpu_count(),
            "python": platform.python_version(),
        },
    }


def _count_memory(
    engine: Engine, tree: RuleGroup, args: argparse.Namespace, rule: str
) -> dict[str, float]:
    """Python allocations during one count, and the peak RSS of a fresh process doing one
    count (interpreter, SQLAlchemy and the engine's page cache included)."""
    tracemalloc.start()
    with engine.connect() as conn:
        conn.execute(audience_count_statement(engine, tree, AS_OF)).scalar_one()
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    command = [sys.executable, __file__, "--customers", str(args.customers), "--count-once", rule,
               "--cache", str(CACHE)]
    if args.db:
        command += ["--db", args.db]
    child = subprocess.run(command, check=True, capture_output=True, text=True)
    peak_kib = float(child.stdout.split()[-1])
    return {
        "python_alloc_peak_mb": round(python_peak / 2**20, 2),
        "count_process_peak_rss_mb": round(peak_kib / 1024, 1),
    }


def _count_once(url: str, rule: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            stmt = audience_count_statement(engine, parse_rule(RULES[rule]), AS_OF)
            conn.execute(stmt).scalar_one()
    finally:
        engine.dispose()
    print(_peak_rss_kib())
    return 0


def _peak_rss_kib() -> float:
    """This process's peak resident memory since exec (VmHWM; ru_maxrss would include the
    parent's pages shared at fork)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _explain(engine: Engine, stmt: Any, name: str) -> None:
    compiled = stmt.compile(engine, compile_kwargs={"render_postcompile": True})
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + str(compiled), _params(compiled, engine)).all()
    print(f"-- {name}", file=sys.stderr)
    for row in rows:
        print("   ", tuple(row), file=sys.stderr)


def _params(compiled: Any, engine: Engine) -> Any:
    params = compiled.construct_params()
    processors: dict[str, Callable[[Any], Any]] = compiled._bind_processors
    values = {k: processors[k](v) if k in processors else v for k, v in params.items()}
    if compiled.positional:
        return tuple(values[k] for k in compiled.positiontup)
    return values


def _server_version(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("select sqlite_version()").scalar())
        return str(conn.exec_driver_sql("select version()").scalar())


SQLITE_PRAGMAS = ("page_size", "cache_size", "mmap_size", "journal_mode", "synchronous",
                  "temp_store", "page_count")
MYSQL_VARIABLES = ("innodb_buffer_pool_size", "innodb_buffer_pool_instances",
                   "innodb_page_size", "innodb_flush_log_at_trx_commit", "join_buffer_size",
                   "tmp_table_size", "max_heap_table_size", "optimizer_switch")


def _server_settings(engine: Engine) -> dict[str, Any]:
    """What the figures depend on, as the benchmark's own connection sees it."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            settings: dict[str, Any] = {
                p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in SQLITE_PRAGMAS
            }
            settings["database_mb"] = round(
                settings["page_size"] * settings["page_count"] / 2**20, 1
            )
            return settings
        rows = conn.exec_driver_sql(
            "SELECT variable_name, variable_value FROM information_schema.global_variables "
            f"WHERE variable_name IN ({', '.join(['%s'] * len(MYSQL_VARIABLES))})",
            tuple(v.upper() for v in MYSQL_VARIABLES),
        ).all()
        settings = {str(k).lower(): v for k, v in rows}
        sizes = conn.exec_driver_sql(
            "SELECT data_length, index_length FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = 'customers'"
        ).one()
        settings["customers_data_mb"] = round(int(sizes[0]) / 2**20, 1)
        settings["customers_index_mb"] = round(int(sizes[1]) / 2**20, 1)
        return settings


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())

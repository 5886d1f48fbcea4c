"""Segment count speed at scale: representative rules against a bare count(*) of customers.

    python benchmarks/segments.py --customers 1000000 [--db URL] [--runs 7] --json

Builds (once, then reuses) a seeded database: a SQLite file under benchmarks/.cache/, or
the MySQL/MariaDB database named by --db (emptied and re-seeded when its contents differ).
Each rule's count is timed as the median of --runs runs after one warm-up, beside two
baselines timed the same way: `scan_ms`, a bare `SELECT count(*) FROM customers` (SQLite
answers it from b-tree page headers without reading a row), and `row_scan_ms`, a count that
must read every customer row (a predicate on the unindexed `name` column).
`ratio_to_scan` and `ratio_to_row_scan` are the rule's median over each. Peak memory is
measured around one count of the heaviest rule.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, or_, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minicrm_desktop.models import Base, Customer  # noqa: E402
from minicrm_desktop.models.rules import RuleGroup, parse_rule  # noqa: E402
from minicrm_desktop.services.access.actor import LOCAL_ADMIN  # noqa: E402
from minicrm_desktop.services.database import create_db_engine  # noqa: E402
from minicrm_desktop.services.migrate import upgrade_to_head  # noqa: E402
from minicrm_desktop.services.seed import seed_demo_data  # noqa: E402
from minicrm_desktop.services.segments import (  # noqa: E402
    audience_where,
    count_statement,
    optimize_database,
)

CACHE = Path(__file__).resolve().parent / ".cache"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", help="a MySQL/MariaDB URL (default: a cached SQLite file)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", action="append", help="time only this rule (repeatable)")
    parser.add_argument("--explain", action="store_true", help="print each query plan")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--count-once", metavar="RULE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_once:  # the child process whose peak memory is measured
        return _count_once(_database_url(args.customers, args.db), args.count_once)

    engine, build_s = open_database(args.customers, args.db)
    try:
        report = run(engine, args, build_s)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"scan {report['scan_ms']:.1f} ms, row scan {report['row_scan_ms']:.1f} ms "
              f"over {report['customers']} customers")
        for name, row in report["rules"].items():
            print(f"{name:28} {row['median_ms']:8.1f} ms  x{row['ratio_to_scan']:.2f}  "
                  f"({row['count']} customers)")
    return 0


def _database_url(n: int, url: str | None) -> str:
    if url is not None:
        return url
    CACHE.mkdir(exist_ok=True)
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


def _median_ms(engine: Engine, stmt: Any, runs: int) -> tuple[float, int]:
    timings = []
    result = 0
    with engine.connect() as conn:
        result = int(conn.execute(stmt).scalar_one())  # warm-up (and the page cache)
        for _ in range(runs):
            started = time.perf_counter()
            result = int(conn.execute(stmt).scalar_one())
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def run(engine: Engine, args: argparse.Namespace, build_s: float | None) -> dict[str, Any]:
    scan_stmt = select(func.count()).select_from(Customer.__table__)
    scan_ms, total = _median_ms(engine, scan_stmt, args.runs)
    full_name = Customer.__table__.c.name
    row_scan_stmt = scan_stmt.where(or_(full_name.is_not(None), full_name.is_(None)))
    row_scan_ms, _ = _median_ms(engine, row_scan_stmt, args.runs)
    trees: dict[str, RuleGroup] = {k: parse_rule(v) for k, v in RULES.items()}
    if args.only:
        trees = {k: v for k, v in trees.items() if k in args.only}
    rows: dict[str, dict[str, Any]] = {}
    for name, tree in trees.items():
        stmt = count_statement(audience_where(engine, tree, AS_OF))
        if args.explain:
            _explain(engine, stmt, name)
        ms, count = _median_ms(engine, stmt, args.runs)
        rows[name] = {
            "median_ms": round(ms, 2),
            "ratio_to_scan": round(ms / scan_ms, 2),
            "ratio_to_row_scan": round(ms / row_scan_ms, 2),
            "count": count,
        }
    heaviest = max(rows, key=lambda k: rows[k]["median_ms"]) if rows else None
    memory = _count_memory(engine, trees[heaviest], args, heaviest) if heaviest else {}
    return {
        "engine": engine.dialect.name,
        "server_version": _server_version(engine),
        "customers": total,
        "as_of": AS_OF.isoformat(),
        "runs": args.runs,
        "build_s": round(build_s, 1) if build_s is not None else None,
        "scan_ms": round(scan_ms, 2),
        "row_scan_ms": round(row_scan_ms, 2),
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
        conn.execute(count_statement(audience_where(engine, tree, AS_OF))).scalar_one()
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    command = [sys.executable, __file__, "--customers", str(args.customers), "--count-once", rule]
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
            stmt = count_statement(audience_where(engine, parse_rule(RULES[rule]), AS_OF))
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


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())

"""Import and seed throughput at scale (issue 2's targets).

    python benchmarks/import_seed.py --customers 1000000 [--mysql URL] --json

1. Seeds N demo customers (with ~5 orders per buying customer) into a fresh SQLite file.
2. Exports them to customers.csv and orders.csv in the import format (not timed).
3. Imports both files into a fresh SQLite database (timed), and into MariaDB when --mysql
   names a server database (timed; the database is emptied first).
Prints one JSON object: seconds and rows per second for each step, plus the machine.
Targets on a 2-core machine: seed 1,000,000 ≤ 60 s; import 1,000,000 customers ≤ 30 s and
5,000,000 orders ≤ 90 s into SQLite.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from minicrm_desktop.models import Base  # noqa: E402
from minicrm_desktop.models.money import MINOR_PER_UNIT  # noqa: E402
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.core.database import create_db_engine  # noqa: E402
from minicrm_desktop.services.core.migrate import upgrade_to_head  # noqa: E402
from minicrm_desktop.services.customers.seed import seed_demo_data  # noqa: E402
from minicrm_desktop.services.importing import (  # noqa: E402
    CUSTOMER_FIELDS,
    import_customers,
    import_orders,
)

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)


def fresh_sqlite(folder: Path, name: str) -> Engine:
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    return engine


def fresh_mysql(url: str) -> Engine:
    engine = create_db_engine(url)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"TRUNCATE TABLE `{table.name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
    return engine


def export_csv(engine: Engine, folder: Path) -> tuple[Path, Path]:
    customers_csv, orders_csv = folder / "customers.csv", folder / "orders.csv"
    with engine.connect() as conn:
        tags: dict[int, list[str]] = {}
        for cid, name in conn.exec_driver_sql(
            "SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id"
        ):
            tags.setdefault(cid, []).append(name)
        with customers_csv.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(CUSTOMER_FIELDS)
            for row in conn.exec_driver_sql(
                "SELECT id, email, name, phone, city, signup_date, visits, last_visit, "
                "subscribed FROM customers"
            ):
                out.writerow(
                    [
                        row[1],
                        row[2] or "",
                        row[3] or "",
                        row[4] or "",
                        _iso(row[5]),
                        row[6],
                        _iso(row[7]),
                        "yes" if row[8] else "no",
                        "|".join(tags.get(row[0], [])),
                    ]
                )
        with orders_csv.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["order_id", "customer_email", "amount", "order_date"])
            for order_id, email, minor, when in conn.exec_driver_sql(
                "SELECT o.order_id, c.email, o.amount_minor, o.order_date "
                "FROM orders o JOIN customers c ON c.id = o.customer_id"
            ):
                whole, frac = divmod(minor, MINOR_PER_UNIT)
                out.writerow([order_id, email, f"{whole}.{frac:02d}", _iso(when)])
    return customers_csv, orders_csv


def _iso(stored: str | None) -> str:
    return "" if stored is None else stored[:19].replace(" ", "T") + "Z"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed_import(engine: Engine, customers_csv: Path, orders_csv: Path) -> dict[str, object]:
    started = time.perf_counter()
    customers = import_customers(engine, customers_csv, actor=LOCAL_ADMIN)
    middle = time.perf_counter()
    orders = import_orders(engine, orders_csv, actor=LOCAL_ADMIN)
    done = time.perf_counter()
    return {
        "customers": customers.rows_taken,
        "customers_s": round(middle - started, 2),
        "customers_per_s": round(customers.rows_taken / (middle - started)),
        "orders": orders.rows_taken,
        "orders_s": round(done - middle, 2),
        "orders_per_s": round(orders.rows_taken / (done - middle)),
        "rejected": len(customers.rejected) + len(orders.rejected),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--mysql", metavar="URL", help="also import into this MariaDB database")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="minicrm-bench-"))
    folder.mkdir(parents=True, exist_ok=True)

    seeded = fresh_sqlite(folder, "seeded.db")
    started = time.perf_counter()
    seed = seed_demo_data(seeded, args.customers, seed=7, anchor=ANCHOR, actor=LOCAL_ADMIN)
    seed_s = time.perf_counter() - started
    log(f"seeded {seed.customers} customers, {seed.orders} orders in {seed_s:.1f} s")
    customers_csv, orders_csv = export_csv(seeded, folder)
    seeded.dispose()

    result: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}",
        "customers": args.customers,
        "seed": {
            "customers": seed.customers,
            "orders": seed.orders,
            "seconds": round(seed_s, 2),
            "customers_per_s": round(seed.customers / seed_s),
        },
        "import_sqlite": timed_import(
            fresh_sqlite(folder, "imported.db"), customers_csv, orders_csv
        ),
    }
    log(f"SQLite import: {result['import_sqlite']}")
    if args.mysql:
        result["import_mysql"] = timed_import(fresh_mysql(args.mysql), customers_csv, orders_csv)
        log(f"MariaDB import: {result['import_mysql']}")
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

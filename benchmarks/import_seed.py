"""Customer import at scale next to the best plain import of the same file (issue 18).

    python benchmarks/import_seed.py [--customers 1000000] [--repeats 3] [--mysql URL] --json

1. Seeds N demo customers into a SQLite file and exports them to customers.csv in the import
   format (not timed; reused from --workdir when it is there already).
2. For each engine (SQLite; MariaDB too with --mysql mysql+pymysql://root@host:3306/db, a
   database this benchmark may empty), `--repeats` rounds, each of them:
   - a fresh, empty (migrated) database: the baseline (benchmarks/import_baseline.py: csv +
     executemany in one transaction with indexes built after on SQLite, LOAD DATA LOCAL
     INFILE with indexes rebuilt after on MariaDB) and `minicrm import customers`, one after
     the other (who goes first alternates), each then re-importing the same file into the
     populated database (baseline: an upsert).
   Every run is a process of its own, measured with all its descendants (benchmarks/
   measure.py): wall time, CPU time (user + system) and the peak of the summed RSS.
Prints one JSON object. Times are medians over the rounds, peak RSS the largest; ratios are
medians of each round's MiniCRM / baseline ratio, so load from other processes hits both
sides alike. On MariaDB the CPU figures are the client's: the server's work is not a child.
Top-level keys are the fresh import's of the first engine run (SQLite, or MariaDB with
--no-sqlite), named by `engine` (wall_s, cpu_s, baseline_wall_s, ...); the `sqlite` and
`mysql` sections hold `fresh` and `reimport` figures each.
Targets (2 cores): SQLite ≤ 1.5× the baseline (wall and CPU); MariaDB ≤ 2× LOAD DATA.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import Measured, run_measured  # noqa: E402
from minicrm_desktop.services.access.actor import LOCAL_ADMIN  # noqa: E402
from minicrm_desktop.services.core.database import create_db_engine  # noqa: E402
from minicrm_desktop.services.core.migrate import upgrade_to_head  # noqa: E402
from minicrm_desktop.services.customers.seed import seed_demo_data  # noqa: E402
from minicrm_desktop.services.importing import CUSTOMER_FIELDS  # noqa: E402

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
NOW = "2026-11-02T00:00:00Z"
SERVER_SETTINGS = ("version", "innodb_buffer_pool_size", "innodb_flush_log_at_trx_commit",
                   "innodb_log_file_size", "innodb_doublewrite", "sync_binlog", "log_bin",
                   "local_infile", "max_allowed_packet")


def fresh_sqlite(path: Path) -> Engine:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    return engine


def fresh_mysql(url: str) -> None:
    """The database dropped and created again, then migrated: nothing left of a past run."""
    parsed = make_url(url)
    server = create_db_engine(parsed.set(database=""))
    with server.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
        conn.exec_driver_sql(f"CREATE DATABASE `{parsed.database}` CHARACTER SET utf8mb4")
    server.dispose()
    engine = create_db_engine(url)
    upgrade_to_head(engine)
    engine.dispose()


def server_settings(url: str) -> dict[str, str]:
    engine = create_db_engine(make_url(url).set(database=""))  # the database may not exist
    with engine.connect() as conn:
        found: dict[str, str] = dict(conn.exec_driver_sql("SHOW VARIABLES").fetchall())
    engine.dispose()
    return {name: found.get(name, "") for name in SERVER_SETTINGS}


def export_csv(engine: Engine, path: Path) -> None:
    """The seeded customers in the import format, each row's tags sorted."""
    with engine.connect() as conn:
        tags: dict[int, list[str]] = {}
        for cid, name in conn.exec_driver_sql(
            "SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id"
        ):
            tags.setdefault(cid, []).append(name)
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(CUSTOMER_FIELDS)
            for row in conn.exec_driver_sql(
                "SELECT id, email, name, phone, city, signup_date, visits, last_visit, "
                "subscribed FROM customers"
            ):
                out.writerow([row[1], row[2] or "", row[3] or "", row[4] or "", _iso(row[5]),
                              row[6], _iso(row[7]), "yes" if row[8] else "no",
                              "|".join(sorted(tags.get(row[0], []), key=str.lower))])


def _iso(stored: str | None) -> str:
    return "" if stored is None else stored[:19].replace(" ", "T") + "Z"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_csv(folder: Path, customers: int) -> tuple[Path, dict[str, object]]:
    path = folder / f"customers-{customers}.csv"
    if path.exists():
        return path, {"reused": True}
    seeded = fresh_sqlite(folder / "seeded.db")
    started = time.perf_counter()
    seed = seed_demo_data(seeded, customers, seed=7, anchor=ANCHOR, actor=LOCAL_ADMIN)
    seed_s = time.perf_counter() - started
    log(f"seeded {seed.customers} customers in {seed_s:.1f} s")
    partial = path.with_suffix(".partial")
    export_csv(seeded, partial)
    seeded.dispose()
    partial.rename(path)
    return path, {"customers": seed.customers, "orders": seed.orders,
                  "seconds": round(seed_s, 2)}


def minicrm_command(url: str, csv_path: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--run-minicrm", url, str(csv_path)]


def baseline_command(url: str, mode: str, csv_path: Path) -> list[str]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where, engine = str(parsed.database), "sqlite"
    else:
        where, engine = f"{parsed.host}:{parsed.port or 3306}/{parsed.database}", "mysql"
    script = Path(__file__).resolve().parent / "import_baseline.py"
    return [sys.executable, str(script), engine, mode, where, str(csv_path)]


def run_minicrm(url: str, csv_path: str) -> int:
    """The `minicrm import customers` command as a person runs it (as the local admin)."""
    from minicrm_desktop.cli.main import main as cli_main

    return cli_main(["--db", url, "import", "customers", csv_path, "--now", NOW],
                    actor=LOCAL_ADMIN)


def _summary(runs: list[Measured]) -> dict[str, float]:
    return {
        "wall_s": round(statistics.median(r.wall_s for r in runs), 2),
        "cpu_s": round(statistics.median(r.cpu_s for r in runs), 2),
        "peak_rss_mb": round(max(r.peak_rss_mb for r in runs)),
    }


def compare(ours: list[Measured], base: list[Measured]) -> dict[str, float]:
    mine, theirs = _summary(ours), _summary(base)
    return {
        **mine,
        "baseline_wall_s": theirs["wall_s"],
        "baseline_cpu_s": theirs["cpu_s"],
        "baseline_peak_rss_mb": theirs["peak_rss_mb"],
        "ratio_to_baseline_wall": round(
            statistics.median(o.wall_s / b.wall_s for o, b in zip(ours, base, strict=True)), 2),
        "ratio_to_baseline_cpu": round(
            statistics.median(o.cpu_s / b.cpu_s for o, b in zip(ours, base, strict=True)), 2),
    }


def bench_engine(name: str, url_for: dict[str, str], fresh: Callable[[str], None],
                 csv_path: Path, repeats: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs: dict[tuple[str, str], list[Measured]] = {}
    for round_ in range(repeats):
        order = ("baseline", "minicrm") if round_ % 2 == 0 else ("minicrm", "baseline")
        for who in order:
            url = url_for[who]
            fresh(url)
            for mode in ("fresh", "upsert"):
                command = (baseline_command(url, mode, csv_path) if who == "baseline"
                           else minicrm_command(url, csv_path))
                # `minicrm import` exits 1 when it rejected rows: its report says how many.
                measured = run_measured(command, env, (0,) if who == "baseline" else (0, 1))
                runs.setdefault((who, mode), []).append(measured)
                log(f"{name} round {round_ + 1} {who} {mode}: {measured.wall_s:.2f} s wall, "
                    f"{measured.cpu_s:.2f} s CPU, {measured.peak_rss_mb:.0f} MB "
                    f"(load {os.getloadavg()[0]:.1f})")
    return {
        "fresh": compare(runs[("minicrm", "fresh")], runs[("baseline", "fresh")]),
        "reimport": compare(runs[("minicrm", "upsert")], runs[("baseline", "upsert")]),
        "minicrm_output": runs[("minicrm", "fresh")][-1].stdout.strip().splitlines()[-3:],
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--run-minicrm":
        raise SystemExit(run_minicrm(sys.argv[2], sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mysql", metavar="URL", help="also import into this MariaDB database")
    parser.add_argument("--no-sqlite", action="store_true", help="only MariaDB")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="minicrm-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, seed = prepare_csv(folder, args.customers)

    result: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}",
        "customers": args.customers,
        "repeats": args.repeats,
        "csv_mb": round(csv_path.stat().st_size / 2**20, 1),
        "seed": seed,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    if not args.no_sqlite:
        urls = {who: f"sqlite:///{folder / f'{who}.db'}" for who in ("baseline", "minicrm")}

        def fresh_file(url: str) -> None:
            fresh_sqlite(Path(make_url(url).database or "")).dispose()

        sqlite = bench_engine("SQLite", urls, fresh_file, csv_path, args.repeats)
        result.update(engine="sqlite", **sqlite["fresh"])
        result["sqlite"] = sqlite
    if args.mysql:
        result["server_settings"] = server_settings(args.mysql)
        mysql = bench_engine("MariaDB", {"baseline": args.mysql, "minicrm": args.mysql},
                             fresh_mysql, csv_path, args.repeats)
        if args.no_sqlite:  # the checks read the top-level keys: MariaDB's, then
            result.update(engine="mariadb", **mysql["fresh"])
        result["mysql"] = mysql
        # A shared server's settings may change meanwhile (SET GLOBAL by someone else).
        result["server_settings_after"] = server_settings(args.mysql)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

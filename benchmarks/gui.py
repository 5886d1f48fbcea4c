"""GUI performance on a large database: start-up, first page, scroll, responsiveness.

    .venv/bin/python benchmarks/gui.py --json                 # 1,000,000 customers
    .venv/bin/python benchmarks/gui.py --customers 100000     # quicker, for development

The database is seeded once with seed_demo_data (fixed seed and date) and cached under
benchmarks/.cache/. Each figure is the median of --runs runs:

- startup_ms: process start -> main window painted (a fresh `python -m minicrm_desktop`
  process per run, so imports count), target <= 1500.
- first_page_ms: a customers view opened (a new query on the open window) -> its first
  rows painted, target <= 200. startup_to_first_page_ms is the same from a cold process
  start: window, database open and migration check, then the first rows.
- scroll_to_last_ms: all ids known -> the last row painted after jumping there, <= 200.
- worst_stall_ms: the longest the GUI thread went without running its 5 ms heartbeat
  timer (beyond the 5 ms period) while the background job ran and the table was being
  scrolled, target <= 50. The job is chosen with --job: "live-count" (the default) is the
  Segments page's own live count of LIVE_COUNT_RULE (LiveCount.count_now: the segment
  engine's count_audience in a TaskRunner task); "sql-count" is the older stand-in query.
- peak_rss_mb: this process's peak resident memory (VmHWM) with the customers table open,
  after all of the above (pages read, scrolled to the end, counts run), target <= 250;
  rss_mb is the resident memory at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = Path(__file__).resolve().parent / ".cache"
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
SEED = 7
TARGETS = {"startup_ms": 1500, "first_page_ms": 200, "scroll_to_last_ms": 200,
           "worst_stall_ms": 50, "peak_rss_mb": 250}
HEARTBEAT_MS = 5


def _sql_count(engine: Any) -> int:
    from minicrm_desktop.services.customers.queries import sample_audience_count

    with engine.connect() as conn:
        return sample_audience_count(conn, ANCHOR - timedelta(days=180))


#: Background jobs for the stall measurement run in the window's TaskRunner:
#: name -> function(engine) -> count. "live-count" goes through the Segments page instead.
JOBS: dict[str, Callable[[Any], int]] = {"sql-count": _sql_count}
LIVE_COUNT = "live-count"
#: A representative segment: three levels, aggregates, a list, a tag and a relative date.
LIVE_COUNT_RULE: dict[str, Any] = {"combinator": "and", "rules": [
    {"field": "total_spend", "operator": ">", "value": 5000},
    {"combinator": "or", "rules": [
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
        {"field": "tags", "operator": "contains", "value": "vip"},
    ]},
    {"combinator": "and", "not": True, "rules": [
        {"field": "last_order_date", "operator": "withinLast",
         "value": {"amount": 6, "unit": "months"}},
    ]},
]}


def start_job(ctx: Any, job_name: str) -> Callable[[], bool]:
    """Start the background job; returns a check that says when its result arrived."""
    if job_name == LIVE_COUNT:
        from minicrm_desktop.models.rules import parse_rule

        live = ctx.window.segments_page.live
        live.as_of = ANCHOR
        live.set_rule(parse_rule(LIVE_COUNT_RULE))
        live.count_now()  # what the debounce timer calls after an edit
        return lambda: live.count is not None and not live.pending
    job, engine = JOBS[job_name], ctx.engine
    handle = ctx.runner.run(lambda _ctx: job(engine), title="Counting audience")
    return handle_done(handle)


def database(customers: int) -> Path:
    """The cached benchmark database, built on first use by a child process: seeding's
    memory must not count in this process's peak (peak_rss_mb)."""
    path = CACHE / f"customers-{customers}.db"
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--seed-only", "--customers",
                        str(customers)], check=True)
    return path


def _seed(customers: int) -> Path:
    path = CACHE / f"customers-{customers}.db"
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.services.core.database import create_db_engine
    from minicrm_desktop.services.core.migrate import upgrade_to_head
    from minicrm_desktop.services.customers.seed import seed_demo_data

    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    print(f"seeding {customers:,} customers into {path} (once)…", file=sys.stderr)
    engine = create_db_engine(f"sqlite:///{partial}")
    upgrade_to_head(engine)
    seed_demo_data(engine, customers, seed=SEED, anchor=ANCHOR, actor=LOCAL_ADMIN)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    partial.rename(path)
    return path


# --- start-up, measured in a child process ----------------------------------------------

_CHILD = r"""
import os, sys, time
T0 = float(os.environ["MINICRM_BENCH_T0"])
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
import minicrm_desktop.views.shell.main_window as mw

class _Watch(QObject):
    shown = False
    def eventFilter(self, obj, event):
        if event.type() != QEvent.Type.Paint:
            return False
        now = (time.time() - T0) * 1000
        if isinstance(obj, mw.MainWindow) and not self.shown:
            self.shown = True
            print(f"SHOWN {now:.1f}", flush=True)
            page = obj.customers_page
            page.table.viewport().installEventFilter(self)
            self.model = page.model
        elif not isinstance(obj, mw.MainWindow) and self.model.rowCount() > 0 \
                and self.model.is_row_loaded(0):
            print(f"FIRST_PAGE {now:.1f}", flush=True)
            QApplication.instance().exit(0)
        return False

_watch = _Watch()
_show = mw.MainWindow.showEvent
def showEvent(self, event):
    self.installEventFilter(_watch)
    _show(self, event)
mw.MainWindow.showEvent = showEvent
from minicrm_desktop.cli.main import main
sys.exit(main(["--db", sys.argv[1]]))
"""


def startup_ms(url: str, home: Path) -> tuple[float, float]:
    """(process start -> window painted, process start -> first customers rows painted)."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(home), XDG_STATE_HOME=str(home),
               XDG_DATA_HOME=str(home))
    env["MINICRM_BENCH_T0"] = repr(time.time())
    out = subprocess.run([sys.executable, "-c", _CHILD, url], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    marks = dict(line.split() for line in out.stdout.splitlines()
                 if line.startswith(("SHOWN ", "FIRST_PAGE ")))
    if "SHOWN" not in marks or "FIRST_PAGE" not in marks:
        raise RuntimeError(f"the app did not show its window:\n{out.stderr[-2000:]}")
    return float(marks["SHOWN"]), float(marks["FIRST_PAGE"])


# --- in-process measurements --------------------------------------------------------------

def wait(app: Any, condition: Callable[[], object], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        app.processEvents()
        time.sleep(0.0005)  # poll the event loop without spinning hot


def paint_loaded(app: Any, table: Any, model: Any) -> None:
    """Paint the visible rows as the user finally sees them: the first paint asks for their
    pages (placeholders meanwhile), then wait for the rows and paint them."""
    table.viewport().repaint()
    top = max(0, table.rowAt(0))
    bottom = table.rowAt(table.viewport().height() - 2)
    bottom = model.rowCount() - 1 if bottom < 0 else bottom
    wait(app, lambda: model.is_row_loaded(top) and model.is_row_loaded(bottom))
    table.viewport().repaint()


def handle_done(handle: Any) -> Callable[[], bool]:
    return lambda: bool(handle.done)


def measure_views(url: str, runs: int, job_name: str) -> dict[str, Any]:
    from PySide6.QtCore import QTimer

    from minicrm_desktop.app import bootstrap, create_application
    from minicrm_desktop.services.core.settings import DictStore, Settings
    from minicrm_desktop.services.customers.queries import CustomerQuery

    app = create_application(["bench"])
    ctx = bootstrap(url, settings=Settings(DictStore()), offer_demo=False)
    window = ctx.window
    window.resize(1280, 800)
    window.show()
    page = window.customers_page
    model, table = page.model, page.table
    counted: list[int] = []
    model.count_changed.connect(counted.append)
    wait(app, lambda: bool(counted))  # the view's first load after the database opened
    total = counted[0]

    first_page, scroll = [], []
    for run in range(runs):
        query = CustomerQuery(sort="id", descending=run % 2 == 1)  # no cached pages
        reset: list[float] = []
        conn = model.modelReset.connect(lambda reset=reset: reset.append(time.perf_counter()))
        start = time.perf_counter()
        model.set_query(query)
        wait(app, reset.__len__)
        paint_loaded(app, table, model)
        first_page.append((time.perf_counter() - start) * 1000)
        model.modelReset.disconnect(conn)
        wait(app, lambda: model.total == total)
        start = time.perf_counter()
        table.scrollToBottom()
        paint_loaded(app, table, model)
        scroll.append((time.perf_counter() - start) * 1000)
        assert table.rowAt(table.viewport().height() - 2) == total - 1

    stalls, job_ms = [], []
    for _ in range(runs):
        gaps: list[float] = []
        last = [time.perf_counter()]

        def beat(gaps: list[float] = gaps, last: list[float] = last) -> None:
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000)
            last[0] = now

        heartbeat = QTimer()
        heartbeat.setInterval(HEARTBEAT_MS)
        heartbeat.timeout.connect(beat)
        scroller = QTimer()
        rows = iter(range(0, total, max(1, total // 97)))
        scroller.timeout.connect(
            lambda rows=rows: table.scrollTo(model.index(next(rows, 0), 0)))
        started = time.perf_counter()
        done = start_job(ctx, job_name)
        last[0] = time.perf_counter()
        heartbeat.start()
        scroller.start(40)
        wait(app, done)
        heartbeat.stop()
        scroller.stop()
        job_ms.append((time.perf_counter() - started) * 1000)
        stalls.append(max(gaps, default=0.0) - HEARTBEAT_MS)

    memory = _memory_mb()
    window.close()
    ctx.shutdown()
    return {
        "peak_rss_mb": memory.get("VmHWM", 0.0),
        "rss_mb": memory.get("VmRSS", 0.0),
        "first_page_ms": statistics.median(first_page),
        "scroll_to_last_ms": statistics.median(scroll),
        "worst_stall_ms": statistics.median(stalls),
        "background_job_ms": statistics.median(job_ms),
        "samples": {"first_page_ms": first_page, "scroll_to_last_ms": scroll,
                    "worst_stall_ms": stalls, "background_job_ms": job_ms},
        "customers_in_view": total,
    }


def _memory_mb() -> dict[str, float]:
    """VmHWM (peak) and VmRSS of this process, in MB (Linux; empty elsewhere)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return {}
    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmHWM", "VmRSS")
            if k in fields}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--job", choices=sorted([*JOBS, LIVE_COUNT]), default=LIVE_COUNT)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--database", type=Path,
                        help="an existing SQLite file to use instead of the seeded one")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_only:
        _seed(args.customers)
        return 0

    import tempfile

    path = args.database or database(args.customers)
    url = f"sqlite:///{path}"
    with tempfile.TemporaryDirectory(prefix="minicrm-bench-") as home:
        starts = [startup_ms(url, Path(home)) for _ in range(args.runs)]
    startup = [shown for shown, _ in starts]
    cold_first_page = [first for _, first in starts]
    views = measure_views(url, args.runs, args.job)
    samples = views.pop("samples")
    samples["startup_ms"] = startup
    samples["startup_to_first_page_ms"] = cold_first_page
    result: dict[str, Any] = {
        "customers": args.customers,
        "runs": args.runs,
        "job": args.job,
        "startup_ms": statistics.median(startup),
        "startup_to_first_page_ms": statistics.median(cold_first_page),
        **views,
        "targets": TARGETS,
    }
    result["meets_targets"] = all(result[k] <= v for k, v in TARGETS.items())
    result = {k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}
    result["samples"] = {k: [round(x, 1) for x in v] for k, v in samples.items()}
    if args.json:
        print(json.dumps(result))
    else:
        for key in ("startup_ms", "first_page_ms", "scroll_to_last_ms", "worst_stall_ms",
                    "peak_rss_mb"):
            print(f"{key:>20}: {result[key]:8.1f}  (target <= {TARGETS[key]})")
        for key in ("startup_to_first_page_ms", "background_job_ms"):
            print(f"{key:>20}: {result[key]:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

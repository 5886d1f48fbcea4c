"""Campaign delivery end to end against a pure-writes baseline, and the GUI thread's stalls.

    QT_QPA_PLATFORM=offscreen python benchmarks/delivery.py --recipients 100000 --repeats 3 --json
    ... --db mysql+pymysql://root@127.0.0.1:3306/   (MariaDB: databases made and dropped here)

Each repeat is a pair, run in alternating order: the baseline (delivery_setup.baseline:
the same log and ledger rows written by one plain executemany each) and MiniCRM, each on a
fresh database. MiniCRM runs in the real MainWindow: the campaign is launched through the
app's CampaignControl (create, audience freeze, delivery engine with its default 8 workers
and a zero-latency vendor), and timed from the launch request to the engine's `finished`.
A small untimed campaign warms the process up first.
The Campaigns page shows the running campaign until 40 % is done; then its own page is
opened and shows it to the end. A 5 ms QTimer on the GUI thread measures lateness: the
worst late beat on each page is the stall (opening the page is reported apart).
Prints one JSON object; medians over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from benchmarks.delivery_setup import (  # noqa: E402
    RETRY_BASE_SECONDS,
    Databases,
    baseline,
    draft,
    run_name,
    server_settings,
)
from minicrm_desktop.models.campaign import deliveries_table  # noqa: E402
from minicrm_desktop.services.access.actor import LOCAL_ADMIN  # noqa: E402
from minicrm_desktop.services.campaigns.vendor import VendorLedger  # noqa: E402

BEAT_MS = 5
WARM_UP = 300  # recipients of the untimed first campaign
DETAIL_AT = 0.4  # share of the audience done when the campaign's own page is opened


def wait(condition: Any, timeout_s: float = 600) -> None:
    """Run the event loop (as app.exec() does: blocked in Qt, not in Python) until the
    condition holds."""
    loop = QEventLoop()
    check = QTimer()
    end = time.monotonic() + timeout_s

    def look() -> None:
        if condition() or time.monotonic() > end:
            loop.quit()

    check.timeout.connect(look)
    check.start(20)
    look()
    if not condition():
        loop.exec()
    check.stop()
    if not condition():
        raise TimeoutError("the benchmark waited too long")


def minicrm(url: str, home: Path, recipients: int) -> dict[str, Any]:
    from minicrm_desktop.app import bootstrap
    from minicrm_desktop.services.core.settings import DictStore, Settings

    os.environ["XDG_DATA_HOME"] = str(home)  # the vendor ledger: a fresh one per run
    ctx = bootstrap(url, settings=Settings(DictStore()), offer_demo=False)
    window, control, bus = ctx.window, ctx.campaigns, ctx.bus
    control.delivery.retry_base_seconds = RETRY_BASE_SECONDS
    ready: list[bool] = []
    bus.database_ready.connect(lambda: ready.append(True))
    window.show()
    window.show_page("campaigns")
    page = window.campaigns_page
    wait(lambda: ready and not page.model.loading)

    phase = ["list"]
    worst = {"list": 0.0, "detail": 0.0}
    beats = [0]
    clock = QElapsedTimer()

    late_beats: list[tuple[float, str, float]] = []  # (seconds since launch, phase, ms)

    def beat() -> None:
        late = clock.restart() - BEAT_MS
        beats[0] += 1
        if late > 20:
            when = time.perf_counter() - started
            stage = phase[0] if "frozen" in state else "freezing"
            late_beats.append((round(when, 3), stage, late))
        if phase[0] in worst:
            worst[phase[0]] = max(worst[phase[0]], float(late))
        elif phase[0] == "opened":
            phase[0] = "detail"  # the beat that spans the opening is not counted

    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.timeout.connect(beat)
    state: dict[str, Any] = {}
    opened: list[float] = []

    def progress(counts: Any) -> None:
        if phase[0] == "list" and counts.campaign_id == state.get("id") and \
                counts.done >= DETAIL_AT * counts.audience and \
                page.model.row_of(counts.campaign_id) is not None:
            phase[0] = "opening"
            began = time.perf_counter()
            page.select_campaign(counts.campaign_id)
            page.open_button.click()  # what a person does: select the row, press Open
            opened.append((time.perf_counter() - began) * 1000)
            phase[0] = "opened"

    cpu: dict[str, float] = {}

    def launched(campaign_id: int, _summary: object) -> None:
        state["id"] = campaign_id
        state["frozen"] = time.perf_counter()

    def finished(campaign_id: int, status: str) -> None:
        if campaign_id == state.get("id"):
            state["done"] = time.perf_counter()
            state["status"] = status
            cpu["done"] = time.process_time()

    bus.campaign_progress.connect(progress)
    control.launched.connect(launched)
    control.delivery.finished.connect(finished)
    started = time.perf_counter()
    cpu["start"] = time.process_time()
    clock.start()
    heartbeat.start(BEAT_MS)
    control.submit(draft("bench"), actor=LOCAL_ADMIN)
    wait(lambda: "done" in state)
    heartbeat.stop()
    # The pages read the final figures; then the window closes.
    wait(lambda: not page.busy)
    with ctx.engine.connect() as conn:
        d = deliveries_table.c
        rows: dict[str, int] = dict(conn.execute(select(d.status, func.count()).where(
            d.campaign_id == state["id"]).group_by(d.status)).all())
        attempted = conn.execute(select(func.count()).where(
            d.campaign_id == state["id"], d.attempts > 0)).scalar_one()
        calls = conn.execute(select(func.sum(d.attempts)).where(
            d.campaign_id == state["id"])).scalar_one()
    window.close()
    ctx.shutdown()
    ledger = _find_ledger(home)
    return {
        "total_s": state["done"] - started,
        "freeze_s": state["frozen"] - started,
        # The process's CPU time from the launch request to `finished` (every thread):
        # less swayed than wall time by other work on the machine.
        "cpu_s": cpu["done"] - cpu["start"],
        "status": state["status"],
        "audience": recipients,
        "attempted": attempted,
        "vendor_calls": int(calls or 0),
        "statuses": rows,
        "ledger_rows": ledger,
        "stall_list_ms": worst["list"],
        "stall_detail_ms": worst["detail"],
        "open_detail_ms": opened[0] if opened else None,
        "beats": beats[0],
        "late_beats": sorted(late_beats, key=lambda b: -b[2])[:8],
    }


def _find_ledger(home: Path) -> int:
    found = list(home.rglob("vendor-ledger.db"))
    return sum(1 for _ in VendorLedger.read_entries(found[0])) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--db", metavar="URL", help="a MariaDB server URL (default: SQLite)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from minicrm_desktop.app import create_application

    create_application(["bench"])
    folder = Path(tempfile.mkdtemp(prefix="minicrm-delivery-bench-"))
    # A first campaign in a fresh process loads libraries (keyring, cryptography…) while
    # holding the GIL: warm up on a small one, as an app that has been open a while is.
    warm = Databases(folder, WARM_UP, args.db, tag="warm")
    try:
        home = folder / "home-warm"
        home.mkdir()
        minicrm(warm.fresh("warm_run"), home, WARM_UP)
    finally:
        warm.close()
    databases = Databases(folder, args.recipients, args.db)
    pairs: list[dict[str, Any]] = []
    settings: dict[str, Any] = {}
    try:
        for repeat in range(args.repeats):
            pair: dict[str, Any] = {"load_before": os.getloadavg()}
            order = ("baseline", "minicrm") if repeat % 2 == 0 else ("minicrm", "baseline")
            for which in order:
                name = run_name()
                url = databases.fresh(name)
                home = folder / f"home-{name}"
                home.mkdir()
                if which == "baseline":
                    pair["baseline"] = baseline(url, home / "ledger.db")
                else:
                    pair["minicrm"] = minicrm(url, home, args.recipients)
                    if not settings:
                        from minicrm_desktop.services.core.database import create_db_engine

                        engine = create_db_engine(url)
                        settings = server_settings(engine)
                        engine.dispose()
                databases.drop(url)
            pair["load_after"] = os.getloadavg()
            pair["ratio"] = pair["minicrm"]["total_s"] / pair["baseline"]["seconds"]
            pairs.append(pair)
            print(json.dumps(pair), file=sys.stderr)
    finally:
        databases.close()
        shutil.rmtree(folder, ignore_errors=True)

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    runs = [p["minicrm"] for p in pairs]
    result = {
        "engine": settings.get("engine"),
        "recipients": args.recipients,
        "attempted": min(r["attempted"] for r in runs),
        "total_s": median([r["total_s"] for r in runs]),
        "freeze_s": median([r["freeze_s"] for r in runs]),
        "cpu_s": median([r["cpu_s"] for r in runs]),
        "baseline_s": median([p["baseline"]["seconds"] for p in pairs]),
        "ratio_to_baseline": median([p["ratio"] for p in pairs]),
        "gui_worst_stall_ms": median([max(r["stall_list_ms"], r["stall_detail_ms"])
                                      for r in runs]),
        "gui_stall_list_ms": median([r["stall_list_ms"] for r in runs]),
        "gui_stall_detail_ms": median([r["stall_detail_ms"] for r in runs]),
        "open_detail_ms": median([r["open_detail_ms"] or 0 for r in runs]),
        "repeats": args.repeats,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "load_average": [p["load_before"][0] for p in pairs],
        "server_settings": settings,
        "pairs": pairs,
    }
    print(json.dumps(result, indent=None if args.json else 2, default=str))


if __name__ == "__main__":
    main()

"""Campaign history at scale: 10,000 campaigns and 1,000,000 delivery log rows.

    python benchmarks/history.py --json

Builds (once, cached under benchmarks/.cache/) a SQLite database with 200,000 demo
customers, 10,000 campaigns and five large campaigns of 200,000 recipients each (1,000,000
log rows), then times, as medians of --runs runs, what the Campaigns pages ask for: the
first and a deep page of the campaign list, one large campaign's details (per-variant
counts, reasons), its outcomes-over-time chart, and pages of its log (first, deep, and
filtered by status). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine  # noqa: E402

from minicrm_desktop.models.campaign import (  # noqa: E402
    DeliveryStatus,
    campaigns_table,
    deliveries_table,
    variants_table,
)
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.bulkload.bulk import raw_insert, storage_timestamp  # noqa: E402
from minicrm_desktop.services.campaigns import history, stats  # noqa: E402
from minicrm_desktop.services.campaigns.frozen_rows import FROZEN_COLUMNS  # noqa: E402
from minicrm_desktop.services.campaigns.variants import idempotency_key  # noqa: E402
from minicrm_desktop.services.core.database import create_db_engine  # noqa: E402
from minicrm_desktop.services.core.migrate import upgrade_to_head  # noqa: E402
from minicrm_desktop.services.customers.seed import seed_demo_data  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
CUSTOMERS, CAMPAIGNS, BIG, PER_BIG = 200_000, 10_000, 5, 200_000


def campaign_uid(campaign_id: int) -> str:
    return str(uuid.UUID(int=campaign_id))  # reproducible, unlike the app's random ones


def build(path: Path) -> Engine:
    partial = path.with_suffix(".tmp")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    engine = create_db_engine(f"sqlite:///{partial}")
    upgrade_to_head(engine)
    seed_demo_data(engine, CUSTOMERS, seed=3, anchor=ANCHOR, actor=LOCAL_ADMIN)
    rng = random.Random(5)
    stamp = storage_timestamp(ANCHOR)
    with engine.begin() as conn:
        rows = [
            (
                i,
                campaign_uid(i),
                f"Campaign {i}",
                "email",
                "",
                '{"combinator":"and","rules":[]}',
                "completed",
                stamp,
                stamp,
                stamp,
                stamp,
                "{}",
                PER_BIG if i <= BIG else 100,
                0,
                0,
                0,
            )
            for i in range(1, CAMPAIGNS + 1)
        ]
        raw_insert(
            conn,
            campaigns_table,
            (
                "id",
                "uid",
                "name",
                "channel",
                "objective",
                "rule_json",
                "status",
                "as_of",
                "created_at",
                "started_at",
                "finished_at",
                "vendor_json",
                "audience",
                "sent",
                "failed",
                "skipped",
            ),
            rows,
        )
        raw_insert(
            conn,
            variants_table,
            ("campaign_id", "label", "template"),
            [(i, "A", "Hi {first_name|there}") for i in range(1, CAMPAIGNS + 1)],
        )
    for campaign_id in range(1, BIG + 1):
        with engine.begin() as conn:
            deliveries = []
            for customer_id in range(1, PER_BIG + 1):
                roll = rng.random()
                status = "sent" if roll < 0.86 else "failed" if roll < 0.95 else "skipped"
                when = storage_timestamp(ANCHOR + timedelta(seconds=rng.random() * 600))
                deliveries.append(
                    (
                        campaign_id,
                        customer_id,
                        f"user{customer_id}@example.com",
                        "A",
                        status,
                        None if status == "sent" else "timeout",
                        1,
                        idempotency_key(campaign_uid(campaign_id), customer_id),
                        stamp,
                        when,
                    )
                )
            raw_insert(conn, deliveries_table, FROZEN_COLUMNS, deliveries)
    engine.dispose()
    partial.rename(path)
    return create_db_engine(f"sqlite:///{path}")


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm the cache, as a user's second look would
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    path = CACHE / "history-10000-1000000.db"
    engine = create_db_engine(f"sqlite:///{path}") if path.exists() else build(path)
    upgrade_to_head(engine)
    big = 3
    last_id = stats.log_page(engine, big, limit=1, after_id=PER_BIG - 300)[0].id
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "campaigns": CAMPAIGNS,
        "log_rows": BIG * PER_BIG,
        "median_ms": {
            "list_first_page": median_ms(
                lambda: history.list_campaigns(engine, limit=100), args.runs
            ),
            "list_deep_page": median_ms(
                lambda: history.list_campaigns(engine, before_id=150, limit=100), args.runs
            ),
            "details_200k_campaign": median_ms(
                lambda: history.campaign_details(engine, big), args.runs
            ),
            "outcomes_over_time_200k": median_ms(
                lambda: stats.outcomes_over_time(engine, big), args.runs
            ),
            "log_first_page": median_ms(lambda: stats.log_page(engine, big), args.runs),
            "log_deep_page": median_ms(
                lambda: stats.log_page(engine, big, after_id=last_id), args.runs
            ),
            "log_failed_page": median_ms(
                lambda: stats.log_page(engine, big, status=DeliveryStatus.FAILED), args.runs
            ),
        },
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

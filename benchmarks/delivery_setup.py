"""The delivery benchmark's databases and its pure-writes baseline (see delivery.py).

Every run gets a database of its own: a copy of a template seeded once per invocation, with
exactly `recipients` customers who may all be messaged (subscribed, one distinct address
each), so the audience is the number asked for.

The baseline does the same work as plainly and fast as it can be done: one process, one
thread, no GUI. It reads the audience, makes each message as MiniCRM does (key, variant,
body with footer and unsubscribe link, subject), decides each outcome with the vendor's
own function (retries included: outcomes are a pure function of seed, key and attempt),
and writes the same delivery-log rows (final state) and vendor-ledger rows, each table with
one executemany in one transaction.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, cast, func, literal, select, text, update
from sqlalchemy.engine import make_url

from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import Channel, campaigns_table
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.models.tables import customers_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.bulkload.bulk import insert_statement, storage_timestamp
from minicrm_desktop.services.campaigns.email import compose_body, unsubscribe_url
from minicrm_desktop.services.campaigns.launch import CampaignDraft, create_campaign
from minicrm_desktop.services.campaigns.templates import parse_template
from minicrm_desktop.services.campaigns.variants import idempotency_key, variant_for
from minicrm_desktop.services.campaigns.vendor import (
    _COLUMNS as LEDGER_COLUMNS,
)
from minicrm_desktop.services.campaigns.vendor import (
    Message,
    VendorConfig,
    VendorLedger,
    decide,
)
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.core.migrate import upgrade_to_head
from minicrm_desktop.services.customers.seed import seed_demo_data

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
VARIANTS = ["Hi {first_name|there}, {city|your city} misses you!", "Hello {name}!"]
VENDOR = VendorConfig(success_rate=0.9, latency_ms=0, seed=1, open_rate=0.3)
RETRY_BASE_SECONDS = 0.05  # backoff is waiting, not work: short, as the baseline has none
MAX_ATTEMPTS = 3


def draft(name: str) -> CampaignDraft:
    return CampaignDraft(name=name, channel=Channel.EMAIL,
                         rule=parse_rule({"combinator": "and", "rules": []}),
                         variants=VARIANTS, vendor=VENDOR, max_attempts=MAX_ATTEMPTS)


class Databases:
    """Fresh databases from one seeded template: SQLite files in `folder`, or MariaDB
    databases named minicrm_delivery_bench_* on the server of `server_url`."""

    def __init__(self, folder: Path, recipients: int, server_url: str | None,
                 tag: str = "template") -> None:
        self.folder = folder
        self.tag = tag
        self.server = make_url(server_url) if server_url else None
        self.made: list[str] = []
        self.template = self._url(tag)
        engine = self._create(self.template)
        seed_demo_data(engine, recipients, seed=11, anchor=ANCHOR, actor=LOCAL_ADMIN)
        cust = customers_table.c
        with engine.begin() as conn:  # everyone reachable, each at an address of their own
            conn.execute(update(customers_table).values(
                subscribed=True,
                email=literal("bench") + cast(cust.id, String) + literal("@example.com")))
            have = conn.execute(select(func.count()).select_from(customers_table)).scalar_one()
        assert have == recipients, (have, recipients)
        engine.dispose()

    def _url(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.folder / f'{name}.db'}"
        database = f"minicrm_delivery_bench_{os.getpid()}_{name}"
        self.made.append(database)
        return self.server.set(database=database).render_as_string(hide_password=False)

    def _create(self, url: str) -> Engine:
        if self.server is not None:
            admin = create_db_engine(self.server)
            name = make_url(url).database
            with admin.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            admin.dispose()
        engine = create_db_engine(url)
        upgrade_to_head(engine)
        return engine

    def fresh(self, name: str) -> str:
        """A new database holding the template's customers; returns its URL."""
        url = self._url(name)
        if self.server is None:
            source = create_db_engine(self.template)
            with source.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            source.dispose()
            shutil.copyfile(self.folder / f"{self.tag}.db", self.folder / f"{name}.db")
            return url
        engine = self._create(url)
        template = make_url(self.template).database
        with engine.begin() as conn:
            stored = conn.execute(text(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = :db "
                "AND TABLE_NAME = 'customers' AND IS_GENERATED = 'NEVER' "
                "ORDER BY ORDINAL_POSITION"), {"db": template}).scalars().all()
            names = ", ".join(f"`{name}`" for name in stored)  # not the generated ones
            conn.execute(text(f"INSERT INTO customers ({names}) "
                              f"SELECT {names} FROM `{template}`.customers"))
        engine.dispose()
        return url

    def drop(self, url: str) -> None:
        if self.server is None:
            for suffix in ("", "-wal", "-shm", "-reserve"):
                Path(make_url(url).database + suffix).unlink(missing_ok=True)  # type: ignore[operator]
            return
        admin = create_db_engine(self.server)
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{make_url(url).database}`"))
        admin.dispose()

    def close(self) -> None:
        if self.server is not None:
            for name in dict.fromkeys(self.made):
                admin = create_db_engine(self.server)
                with admin.begin() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
                admin.dispose()


def server_settings(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            pragmas = ("journal_mode", "synchronous", "cache_size", "temp_store")
            found = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas}
            return {"engine": "sqlite", "sqlite_version": sqlite3.sqlite_version, **found}
        names = ("version", "innodb_buffer_pool_size", "innodb_flush_log_at_trx_commit",
                 "innodb_log_file_size", "sync_binlog", "log_bin", "innodb_doublewrite",
                 "transaction_isolation", "tx_isolation")
        rows = conn.execute(text("SHOW VARIABLES")).all()
        return {"engine": "mariadb", **{k: v for k, v in rows if k in names}}


def baseline(url: str, ledger: Path) -> dict[str, Any]:
    """Write the same log and ledger rows as a campaign to everyone, as fast as plainly
    possible; returns the seconds taken and the rows written."""
    engine = create_db_engine(url)
    campaign_id = create_campaign(engine, draft("baseline"), actor=LOCAL_ADMIN)
    VendorLedger(ledger).close()  # the same ledger table, made before the clock starts
    with engine.connect() as conn:
        secret, uid = conn.execute(select(campaigns_table.c.link_secret, campaigns_table.c.uid)
                                   .where(campaigns_table.c.id == campaign_id)).one()
    templates = [parse_template(t) for t in VARIANTS]
    footer = parse_template(draft("x").footer)
    subject = parse_template("baseline")
    sender = "MiniCRM <news@example.com>"
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT id, name, email, city, total_spend_minor, last_order_at "
                       "FROM customers ORDER BY id")
        audience = cursor.fetchall()
        log_rows: list[tuple[Any, ...]] = []
        ledger_rows: list[tuple[Any, ...]] = []
        now = utcnow()
        stamp = storage_timestamp(now)
        accepted = now.isoformat(timespec="microseconds")
        sent = failed = 0
        for customer_id, name, email, city, spend, last_order in audience:
            key = idempotency_key(uid, customer_id)
            variant = variant_for(campaign_id, customer_id, len(templates))
            fields = {"name": name, "email": email, "city": city, "total_spend_minor": spend,
                      "last_order_at": last_order, "unsubscribe_url": unsubscribe_url(secret, key)}
            body = compose_body(templates[ord(variant) - 65], footer, fields)
            subject_text = subject.render(fields)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                message = Message(key, campaign_id, "email", email, body, attempt,
                                  subject=subject_text, sender=sender)
                outcome = decide(VENDOR, message)
                if not outcome.transient or attempt == MAX_ATTEMPTS:
                    break
            status = "sent" if outcome.sent else "failed"
            sent += outcome.sent
            failed += not outcome.sent
            log_rows.append((campaign_id, customer_id, email, variant, status, outcome.reason,
                             attempt, key, stamp, None, None,
                             outcome.opened if outcome.sent else None, stamp))
            if not outcome.transient:
                ledger_rows.append((key, campaign_id, email, status, outcome.reason, accepted,
                                    subject_text, sender, 0, int(outcome.opened), body))
        from minicrm_desktop.models.campaign import deliveries_table

        with engine.connect() as conn:
            sql = insert_statement(conn, deliveries_table, (
                "campaign_id", "customer_id", "address", "variant", "status", "reason",
                "attempts", "idempotency_key", "queued_at", "next_attempt_at", "claim",
                "opened", "updated_at"))
        cursor.executemany(sql, log_rows)
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        cursor.execute(f"UPDATE campaigns SET audience = {mark}, sent = {mark}, "
                       f"failed = {mark} WHERE id = {mark}",
                       (len(audience), sent, failed, campaign_id))
        raw.commit()
        with closing(sqlite3.connect(ledger, isolation_level=None)) as out:
            out.execute("PRAGMA journal_mode=WAL")
            out.execute("PRAGMA synchronous=NORMAL")
            out.execute("BEGIN IMMEDIATE")
            out.executemany(f"INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES "
                            f"({', '.join('?' * 11)})", ledger_rows)
            out.execute("COMMIT")
    finally:
        raw.close()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"seconds": elapsed, "log_rows": len(log_rows), "ledger_rows": len(ledger_rows),
            "sent": sent, "failed": failed}


def run_name() -> str:
    return uuid.uuid4().hex[:8]

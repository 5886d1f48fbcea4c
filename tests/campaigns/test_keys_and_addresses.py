"""Message keys unique in the world, and one message per address — on SQLite and MariaDB."""

from __future__ import annotations

import csv
import io
import shutil
import tracemalloc
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, String, cast, literal, select, update

from minicrm_desktop.cli.main import main
from minicrm_desktop.models.campaign import Channel, campaigns_table, deliveries_table
from minicrm_desktop.models.tables import customers_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.campaigns.addresses import (
    SeenAddresses,
    normal_email,
    normal_phone,
)
from minicrm_desktop.services.campaigns.headless import run_until_settled
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.variants import idempotency_key
from minicrm_desktop.services.campaigns.vendor import FAILURES, VendorConfig, VendorLedger
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.importing import import_customers
from tests.campaigns.conftest import POPULATION, draft
from tests.campaigns.invariants import assert_campaign_consistent
from tests.examples import examples
from tests.helpers import write_csv
from tests.segments.population import Person, insert_people

d = deliveries_table.c
TRANSIENT = {reason for choices in FAILURES.values() for reason, transient in choices if transient}
PROPERTY_SETTINGS = settings(
    max_examples=examples(60),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def second_database(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """Another database with the same customers, as after a reset or with `--db` elsewhere:
    its ids start at 1 too."""
    path = tmp_path / "second.db"
    shutil.copyfile(sqlite_template, path)
    other = create_db_engine(f"sqlite:///{path}")
    import_customers(other, write_csv(tmp_path / "again.csv", POPULATION), actor=LOCAL_ADMIN)
    yield other
    other.dispose()


def launch(engine: Engine, **overrides: object) -> int:
    campaign_id = create_campaign(engine, draft(**overrides), actor=LOCAL_ADMIN)
    launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    return campaign_id


def send(engine: Engine, campaign_id: int, ledger_path: Path) -> None:
    result = run_until_settled(
        engine, campaign_id, workers=3, ledger_path=ledger_path, retry_base_seconds=0.001
    )
    assert result is not None
    assert result.status == "completed"


def accepted(engine: Engine, campaign_id: int) -> dict[str, tuple[str, str]]:
    """key -> (outcome, address) of every message the database says the vendor took: sent,
    or failed for good (a transient failure, even the last, is not the vendor's record)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.idempotency_key, d.status, d.reason, d.address).where(
                d.campaign_id == campaign_id, d.status.in_(["sent", "failed"])
            )
        ).all()
    return {
        key: (status, address)
        for key, status, reason, address in rows
        if status == "sent" or reason not in TRANSIENT
    }


def frozen_keys(engine: Engine, campaign_id: int) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(d.customer_id, d.idempotency_key).where(d.campaign_id == campaign_id)
            ).all()
        )


def uid_of(engine: Engine, campaign_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(campaigns_table.c.uid).where(campaigns_table.c.id == campaign_id)
            ).scalar_one()
        )


def test_two_databases_share_one_vendor_ledger(
    population: Engine, second_database: Engine, ledger_path: Path, qapp,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each database sends its own campaign 1 through one vendor: every message is the
    vendor's, none is answered with the other database's outcome."""
    first, second = launch(population), launch(second_database)
    assert first == second == 1
    send(population, first, ledger_path)
    send(second_database, second, ledger_path)
    ours, theirs = accepted(population, first), accepted(second_database, second)
    assert len(ours) > 150
    assert len(theirs) > 150
    ledger = {e.key: e for e in VendorLedger.read_entries(ledger_path)}
    assert len(ledger) == len(ours) + len(theirs)
    assert not set(ours) & set(theirs)
    for key, (status, address) in (ours | theirs).items():
        assert (ledger[key].outcome, ledger[key].address) == (status, address)
    assert_campaign_consistent(population, first, ledger_path)
    assert_campaign_consistent(second_database, second, ledger_path)
    # `vendor ledger --campaign 1` lists the campaign of the database it is asked in.
    for engine, own in ((population, ours), (second_database, theirs)):
        url = engine.url.render_as_string(hide_password=False)
        capsys.readouterr()
        assert main(["--db", url, "vendor", "ledger", "--ledger", str(ledger_path),
                     "--campaign", "1", "--csv"], actor=LOCAL_ADMIN) == 0
        listed = {row["idempotency_key"]
                  for row in csv.DictReader(io.StringIO(capsys.readouterr().out))}
        assert listed == set(own)


def test_keys_are_made_from_the_campaign_uid(
    population: Engine, second_database: Engine
) -> None:
    first, second = launch(population), launch(second_database)
    assert first == second
    ours, theirs = frozen_keys(population, first), frozen_keys(second_database, second)
    assert set(ours) == set(theirs)  # the same customer ids...
    assert not set(ours.values()) & set(theirs.values())  # ...yet no key in common
    for engine, keys in ((population, ours), (second_database, theirs)):
        uid = uid_of(engine, first)
        assert all(key == idempotency_key(uid, cid) for cid, key in keys.items())
        assert all(key.startswith(uid) and len(key) <= 64 for key in keys.values())


def test_a_campaign_resumes_under_the_keys_it_was_launched_with(
    population: Engine, ledger_path: Path, qapp
) -> None:
    """Keys are made once, at launch: a campaign launched under the old scheme (keys from its
    id) sends under those keys, so what the vendor already took is never sent again."""
    campaign_id = launch(population)
    legacy = literal(f"c{campaign_id}-legacy-") + cast(d.customer_id, String)
    with population.begin() as conn:
        conn.execute(
            update(deliveries_table)
            .where(d.campaign_id == campaign_id)
            .values(idempotency_key=legacy)
        )
    send(population, campaign_id, ledger_path)
    taken = accepted(population, campaign_id)
    assert taken
    assert all(key.startswith(f"c{campaign_id}-legacy-") for key in taken)
    assert {e.key for e in VendorLedger.read_entries(ledger_path)} == set(taken)
    assert_campaign_consistent(population, campaign_id, ledger_path)


def customer_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            email: cid
            for cid, email in conn.execute(
                select(customers_table.c.id, customers_table.c.email)
            ).all()
        }


def skipped_reasons(engine: Engine, campaign_id: int) -> dict[int, str | None]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(d.customer_id, d.reason).where(
                    d.campaign_id == campaign_id, d.status == "skipped"
                )
            ).all()
        )


SHARED_PHONE = """email,name,phone,subscribed
ann@example.com,Ann,+91 90000 00001,no
bela@example.com,Bela,+91 90000 00001,yes
chen@example.com,Chen,+91-9000000001,yes
dev@example.com,Dev,+919000000001,yes
eva@example.com,Eva,+91 90000 00002,yes
fay@example.com,Fay,0091 90000 00001,yes
"""


def test_one_sms_per_phone_number(
    engine: Engine, tmp_path: Path, ledger_path: Path, qapp
) -> None:
    import_customers(engine, write_csv(tmp_path / "shared.csv", SHARED_PHONE),
                     actor=LOCAL_ADMIN)
    ids = customer_ids(engine)
    campaign_id = launch(engine, channel=Channel.SMS, vendor=VendorConfig(success_rate=1.0))
    with engine.connect() as conn:
        summary = conn.execute(
            select(campaigns_table.c.audience, campaigns_table.c.skipped).where(
                campaigns_table.c.id == campaign_id
            )
        ).one()
    assert tuple(summary) == (6, 3)
    # Ann unsubscribed; of the three who may be messaged at that number, the first keeps it.
    assert skipped_reasons(engine, campaign_id) == {
        ids["ann@example.com"]: "unsubscribed",
        ids["chen@example.com"]: "duplicate address",
        ids["dev@example.com"]: "duplicate address",
    }
    send(engine, campaign_id, ledger_path)
    sent = {normal_phone(e.address) for e in VendorLedger.read_entries(ledger_path)}
    # "0091 …" is not merged with "+91 …": no guessing at country codes.
    assert sent == {"+919000000001", "+919000000002", "00919000000001"}
    statuses = assert_campaign_consistent(engine, campaign_id, ledger_path)
    assert statuses == {"sent": 3, "skipped": 3}


def test_launch_summary_counts_duplicate_addresses(engine: Engine, tmp_path: Path) -> None:
    import_customers(engine, write_csv(tmp_path / "shared.csv", SHARED_PHONE),
                     actor=LOCAL_ADMIN)
    campaign_id = create_campaign(engine, draft(channel=Channel.SMS), actor=LOCAL_ADMIN)
    summary = launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    assert summary.skipped_reasons == {"unsubscribed": 1, "duplicate address": 2}
    assert (summary.audience, summary.queued, summary.skipped) == (6, 3, 3)


def test_one_email_per_mailbox(engine: Engine, ledger_path: Path, qapp) -> None:
    # Written straight to the table: older data, or another tool, may hold an address in
    # any Unicode form, case and spacing (the import's own rules may merge some of these).
    nfd = unicodedata.normalize("NFD", "José")
    ids = insert_people(
        engine,
        [
            Person("José@Example.com"),  # NFC: the first, keeps the message
            Person(f"{nfd.upper()}@EXAMPLE.COM"),
            Person(f" {nfd.lower()}@example.com\t"),
            Person("jose@example.com"),  # no accent: another mailbox
        ],
    )
    campaign_id = launch(engine, vendor=VendorConfig(success_rate=1.0))
    assert skipped_reasons(engine, campaign_id) == {
        ids[f"{nfd.upper()}@EXAMPLE.COM"]: "duplicate address",
        ids[f" {nfd.lower()}@example.com\t"]: "duplicate address",
    }
    send(engine, campaign_id, ledger_path)
    assert sorted(e.address for e in VendorLedger.read_entries(ledger_path)) == [
        "José@Example.com",
        "jose@example.com",
    ]
    assert assert_campaign_consistent(engine, campaign_id, ledger_path) == {
        "sent": 2,
        "skipped": 2,
    }


SEPARATORS = st.sampled_from([" ", "-", ".", "(", ")", "/", "\u00a0", ""])


@PROPERTY_SETTINGS
@given(
    digits=st.text("0123456789", min_size=1, max_size=15),
    plus=st.booleans(),
    seps=st.lists(SEPARATORS, min_size=16, max_size=16),
    pad=st.sampled_from(["", " ", "\t"]),
)
def test_phone_formats_of_one_number_are_one_address(
    digits: str, plus: bool, seps: list[str], pad: str
) -> None:
    written = "".join(f"{sep}{digit}" for sep, digit in zip(seps, digits, strict=False))
    number = f"{pad}{'+' if plus else ''}{written}{pad}"
    assert normal_phone(number) == ("+" if plus else "") + digits
    # Full-width forms (typed on some phones' keyboards) and other scripts' digits are the
    # same number.
    wide = number.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"} | {ord("+"): "＋"})
    devanagari = number.translate({ord(c): 0x0966 + int(c) for c in "0123456789"})
    assert normal_phone(wide) == normal_phone(devanagari) == normal_phone(number)


@PROPERTY_SETTINGS
@given(
    local=st.text(st.characters(categories=["L", "Nd"]), min_size=1, max_size=12),
    domain=st.from_regex(r"[a-z]{1,10}\.(com|in|org)", fullmatch=True),
    upper=st.booleans(),
    form=st.sampled_from(["NFC", "NFD"]),
    pad=st.sampled_from(["", " ", "\t "]),
)
def test_email_forms_of_one_mailbox_are_one_address(
    local: str, domain: str, upper: bool, form: Literal["NFC", "NFD"], pad: str
) -> None:
    address = f"{local}@{domain}"
    canonical = unicodedata.normalize("NFC", address).lower()
    variant = unicodedata.normalize(form, address)
    written = f"{pad}{variant.upper() if upper else variant}{pad}"
    # Not for letters whose upper case does not lower back ("ß" -> "SS"): other mailboxes.
    assume(unicodedata.normalize("NFC", written.strip()).lower() == canonical)
    assert normal_email(written) == normal_email(address) == canonical


def test_seen_addresses_are_exact_and_small() -> None:
    count = 100_000
    tracemalloc.start()
    try:
        seen = SeenAddresses()
        assert all(seen.add(f"user{i}@example.com") for i in range(count))
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(seen) == count
    assert not any(seen.add(f"user{i}@example.com") for i in range(0, count, 7))
    assert seen.add("someone.else@example.com")
    # A Python set of the address strings holds ~100 bytes an address; this stays under 40.
    assert held / count < 40

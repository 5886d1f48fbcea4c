"""A/B with a winner: a test share gets the variants, the rest the winner after the wait.

In-process on both engines, and across a kill -9 of the `minicrm campaign resume` child that
was waiting for the decision.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from minicrm_desktop.cli.main import main as cli_main
from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.access.audit import Action
from minicrm_desktop.services.campaigns import history
from minicrm_desktop.services.campaigns.abtest import VariantResult, choose_winner
from minicrm_desktop.services.campaigns.headless import run_until_settled
from minicrm_desktop.services.campaigns.launch import (
    CampaignError,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from tests.campaigns.conftest import draft
from tests.campaigns.invariants import assert_campaign_consistent
from tests.campaigns.processes import (
    count_in,
    keys_in,
    ledger_keys,
    merged_ledger,
    resume,
    wait_for,
)

c = campaigns_table.c
d = deliveries_table.c


def test_the_winner_and_its_reason() -> None:
    a, b = VariantResult("A", 88, 12, 30), VariantResult("B", 931, 69, 200)
    assert choose_winner([a, b], "delivered") == ("B", "B: 93.1% delivered vs A 88.0%")
    assert choose_winner([a, b], "engagement") == ("A", "A: 34.1% opened vs B 21.5%")
    # A tie goes to more messages tried; no opens at all: by delivery, and it says so.
    quiet = [VariantResult("A", 9, 1, 0), VariantResult("B", 90, 10, 0)]
    label, reason = choose_winner(quiet, "engagement")
    assert label == "B"
    assert reason.endswith("(no engagement reported: chosen by delivery)")
    assert choose_winner([VariantResult("A", 0, 0, 0), VariantResult("B", 0, 0, 0)],
                         "delivered") == ("A", "A: no test results to compare; A by default")


def test_refused_without_two_variants_or_a_sane_share(population: Engine) -> None:
    with pytest.raises(CampaignError, match="at least two variants"):
        create_campaign(population, draft(variants=["Hi"], ab_test_share=20), actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="1 to 99 percent"):
        create_campaign(population, draft(ab_test_share=100), actor=LOCAL_ADMIN)
    with pytest.raises(CampaignError, match="delivered or engagement"):
        create_campaign(population, draft(ab_test_share=20, ab_metric="clicks"),
                        actor=LOCAL_ADMIN)


def rows(engine: Engine, campaign_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(
            select(d.customer_id, d.variant, d.status, d.updated_at, d.opened)
            .where(d.campaign_id == campaign_id).order_by(d.customer_id)).all())


def rest_keys(engine: Engine, campaign_id: int, decided: Any) -> set[str]:
    """The keys of the recipients messaged after the decision (the held ones)."""
    with engine.connect() as conn:
        return set(conn.execute(select(d.idempotency_key).where(
            d.campaign_id == campaign_id, d.status != "skipped",
            d.updated_at >= decided)).scalars())


def ab_row(engine: Engine, campaign_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(c.ab_winner, c.ab_reason, c.ab_decide_at, c.started_at)
                            .where(c.id == campaign_id)).one()


def winner_audits(engine: Engine, campaign_id: int) -> int:
    from minicrm_desktop.models.tables import audit_table

    with engine.connect() as conn:
        details = conn.execute(select(audit_table.c.detail).where(
            audit_table.c.action == Action.CAMPAIGN_AB_WINNER)).scalars()
        return sum(1 for detail in details if json.loads(detail)["campaign_id"] == campaign_id)


def expected_winner(test_rows: list[Any], metric: str) -> tuple[str, str]:
    tally: dict[str, list[int]] = {"A": [0, 0, 0], "B": [0, 0, 0]}
    for row in test_rows:
        t = tally[row.variant]
        if row.status == "sent":
            t[0] += 1
            t[2] += bool(row.opened)
        elif row.status == "failed":
            t[1] += 1
    return choose_winner([VariantResult(k, *v) for k, v in tally.items()], metric)


@pytest.mark.parametrize("metric", ["delivered", "engagement"])
def test_test_share_then_the_winner_to_everyone_else(
    population: Engine, ledger_path: Path, metric: str
) -> None:
    vendor = VendorConfig(success_rate=0.8, seed=11, open_rate=0.4)
    campaign_id = create_campaign(
        population, draft(ab_test_share=30, ab_wait_seconds=2, ab_metric=metric,
                          vendor=vendor), actor=LOCAL_ADMIN)
    summary = launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    frozen = Counter(r.status for r in rows(population, campaign_id))
    # 180 sendable: about 30% tested (a stable hash), the rest held without a variant.
    assert 30 <= frozen["queued"] <= 80
    assert frozen["queued"] + frozen["held"] == 180
    assert summary.queued == 180
    details = history.campaign_details(population, campaign_id)
    assert details["ab_test"]["winner"] is None
    assert details["ab_test"]["held"] == frozen["held"]

    result = run_until_settled(population, campaign_id, workers=4, ledger_path=ledger_path,
                               retry_base_seconds=0.001)
    assert result is not None
    assert result.status == "completed"
    statuses = assert_campaign_consistent(population, campaign_id, ledger_path)
    assert statuses["sent"] + statuses["failed"] == 180
    ab = ab_row(population, campaign_id)
    all_rows = [r for r in rows(population, campaign_id)
                if r.status != "skipped"]
    # The test share is those sent before the decision; the rest went after it, all with
    # the winner.
    test_rows = [r for r in all_rows if r.updated_at < ab.ab_decide_at]
    rest = [r for r in all_rows if r.updated_at >= ab.ab_decide_at]
    assert len(test_rows) == frozen["queued"]
    assert len(rest) == frozen["held"]
    assert {r.variant for r in test_rows} == {"A", "B"}
    assert {r.variant for r in rest} == {ab.ab_winner}
    assert (ab.ab_winner, ab.ab_reason) == expected_winner(test_rows, metric)
    assert ("opened" if metric == "engagement" else "delivered") in ab.ab_reason
    assert winner_audits(population, campaign_id) == 1


def test_from_the_cli_and_show_prints_the_winner_and_why(
    population: Engine, db_url: str, ledger_path: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rule = tmp_path / "rule.json"
    rule.write_text('{"combinator": "and", "rules": []}')
    base = ["--db", db_url, "campaign", "send", "--name", "Diwali", "--rule", str(rule),
            "--message", "A {unsubscribe_url}", "--message", "B {unsubscribe_url}",
            "--ledger", str(ledger_path), "--retry-seconds", "0.001", "--vendor-seed", "4"]
    assert cli_main([*base, "--ab-wait", "1s"], actor=LOCAL_ADMIN) == 2
    assert "--ab-wait and --ab-metric need --ab-test-share" in capsys.readouterr().err
    assert cli_main([*base, "--ab-test-share", "25", "--ab-wait", "1s"], actor=LOCAL_ADMIN) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "completed"
    assert summary["sent"] + summary["failed"] == 180
    campaign_id = summary["campaign_id"]
    ab = ab_row(population, campaign_id)
    assert cli_main(["--db", db_url, "campaign", "show", str(campaign_id)],
                    actor=LOCAL_ADMIN) == 0
    shown = capsys.readouterr().out
    assert ("ab_test: 25% of the audience tests the variants, the winner by delivered after "
            f"0h00m01s; winner {ab.ab_reason}") in shown
    assert ab.ab_reason.startswith(f"{ab.ab_winner}: ")
    with pytest.raises(SystemExit) as usage:
        cli_main([*base, "--ab-test-share", "20", "--ab-wait", "2 hours"], actor=LOCAL_ADMIN)
    assert usage.value.code == 2
    assert "expected a time like 90s, 30m, 2h" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_killed_while_waiting_for_the_decision_then_resumed(
    population: Engine, db_url: str, tmp_path: Path
) -> None:
    """The run that sent the test share dies during the wait; the resumed one chooses the
    winner once, from the database's figures, and sends the rest once."""
    vendor = VendorConfig(success_rate=0.85, seed=7)
    campaign_id = create_campaign(
        population, draft(ab_test_share=40, ab_wait_seconds=6, vendor=vendor),
        actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    held = count_in(population, campaign_id, "held")
    test_share = 180 - held
    first_ledger, second_ledger = tmp_path / "first.db", tmp_path / "second.db"
    first = resume(db_url, campaign_id, first_ledger, workers=2)

    def test_share_done() -> bool:
        done = count_in(population, campaign_id, "sent") + count_in(
            population, campaign_id, "failed")
        return done == test_share or first.proc.poll() is not None

    wait_for(test_share_done, 60, "the test share to be sent")
    assert first.proc.poll() is None, first.stderr
    assert ab_row(population, campaign_id).ab_winner is None
    first.kill()  # waiting for the decision, holding the lease
    assert count_in(population, campaign_id, "held") == held
    # (A message that only ever failed transiently has no ledger entry: hence <=.)
    assert keys_in(population, campaign_id, "sent") <= ledger_keys(first_ledger)
    assert len(ledger_keys(first_ledger)) <= test_share

    second = resume(db_url, campaign_id, second_ledger)
    assert second.wait(120) == 0, second.stderr
    assert json.loads(second.stdout)["status"] == "completed"
    ab = ab_row(population, campaign_id)
    assert ab.ab_winner in ("A", "B")
    assert winner_audits(population, campaign_id) == 1
    # The second sent exactly the rest, once, all with the winner; nobody twice.
    assert not ledger_keys(first_ledger) & ledger_keys(second_ledger)
    rest = rest_keys(population, campaign_id, ab.ab_decide_at)
    assert len(rest) == held
    assert ledger_keys(second_ledger) <= rest
    assert rest & keys_in(population, campaign_id, "sent") <= ledger_keys(second_ledger)
    merged = merged_ledger(tmp_path / "merged.db", first_ledger, second_ledger)
    statuses = assert_campaign_consistent(population, campaign_id, merged)
    assert statuses["sent"] + statuses["failed"] == 180
    late = [r for r in rows(population, campaign_id)
            if r.status != "skipped" and r.updated_at >= ab.ab_decide_at]
    assert len(late) == held
    assert {r.variant for r in late} == {ab.ab_winner}


results_strategy = st.lists(
    st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)),
    min_size=2, max_size=3,
)


@given(figures=results_strategy, metric=st.sampled_from(["delivered", "engagement"]))
def test_the_winner_has_the_best_rate_and_the_reason_names_it(
    figures: list[tuple[int, int, int]], metric: str
) -> None:
    results = [VariantResult(label, sent, failed, min(opened, sent))
               for label, (sent, failed, opened) in zip("ABC", figures, strict=False)]
    label, reason = choose_winner(results, metric)
    assert reason.startswith(f"{label}: ")
    used = metric if metric == "delivered" or any(r.opened for r in results) else "delivered"
    rates = {r.label: r.rate(used) for r in results}
    known = [rate for rate in rates.values() if rate is not None]
    if known:
        assert rates[label] == max(known)
        assert f"{rates[label]:.1%}" in reason
    else:
        assert label == "A"

"""The campaign summary of an A/B test with a winner names the recorded winner with its
test-share rate — the A/B panel's figures — not the best of whole-campaign figures, where
the winner's released rest is mixed in (issue 17)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select, update

from minicrm_desktop.models.campaign import campaigns_table, deliveries_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.ai.summary import campaign_figures, template_summary
from minicrm_desktop.services.campaigns.abtest import results_of_test_share
from minicrm_desktop.services.campaigns.headless import run_until_settled
from minicrm_desktop.services.campaigns.launch import create_campaign, launch_campaign
from minicrm_desktop.services.campaigns.variants import in_test_share
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from tests.campaigns.conftest import draft

c = campaigns_table.c
d = deliveries_table.c
SHARE = 40


def test_the_summary_names_the_ab_winner_by_its_test_share(population: Engine,
                                                           ledger_path: Path) -> None:
    campaign_id = create_campaign(
        population, draft(vendor=VendorConfig(success_rate=0.8, seed=11), ab_test_share=SHARE),
        actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(population, campaign_id, workers=2, ledger_path=ledger_path)
    with population.begin() as conn:
        winner = conn.execute(select(c.ab_winner).where(c.id == campaign_id)).scalar_one()
        # The rest (sent the winner only) all failed: by whole-campaign figures the winner
        # now looks worst, while its test, which chose it, is unchanged.
        rest = [cid for cid in conn.execute(select(d.customer_id).where(
            d.campaign_id == campaign_id, d.variant == winner)).scalars()
            if not in_test_share(campaign_id, cid, SHARE)]
        assert rest
        conn.execute(update(deliveries_table).where(
            d.campaign_id == campaign_id, d.customer_id.in_(rest)).values(status="failed"))
    assert winner is not None
    tested = {r.label: r for r in results_of_test_share(population, campaign_id)}
    rate = tested[winner].rate("delivered")
    assert rate is not None

    figures = campaign_figures(population, campaign_id)
    whole_best = max(figures.variants, key=lambda v: v.rate or 0.0)
    assert whole_best.label != winner  # the case the whole-campaign figures get wrong
    text = template_summary(figures)
    assert f"Variant {winner} won the A/B test, with {rate * 100:.1f}% delivered in the " \
           "test." in text
    assert f"Variant {whole_best.label} did best" not in text


def test_no_winner_is_named_before_it_is_chosen(population: Engine) -> None:
    campaign_id = create_campaign(
        population, draft(vendor=VendorConfig(success_rate=0.8, seed=3), ab_test_share=SHARE),
        actor=LOCAL_ADMIN)
    launch_campaign(population, campaign_id, actor=LOCAL_ADMIN)
    with population.begin() as conn:  # some test results in (A ahead), no winner yet
        for label, status in (("A", "sent"), ("B", "failed")):
            first = conn.execute(select(d.customer_id).where(
                d.campaign_id == campaign_id, d.variant == label)).scalars().first()
            conn.execute(update(deliveries_table).where(
                d.campaign_id == campaign_id, d.customer_id == first).values(status=status))
    text = template_summary(campaign_figures(population, campaign_id))
    assert "did best" not in text
    assert "won" not in text

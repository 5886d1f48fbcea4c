"""The wizard's email page (with a test send's outcome) and a campaign page with an A/B
winner, for `scripts/screenshots.py` (which calls these while it walks the campaigns)."""

from __future__ import annotations

from pathlib import Path


def shoot_email_page(app: object, window: object, wizard: object, out: Path) -> None:
    """On the wizard's email page: a subject with tokens, the campaign's own sender, a test
    sent to two addresses; then on to the review."""
    from screenshots import save_dialog, wait_for

    from minicrm_desktop.views.campaigns.wizard import CampaignWizard

    assert isinstance(wizard, CampaignWizard)
    email = wizard.email_page
    assert wizard.currentPage() is email
    email.subject.setText("{first_name|Friend}, the monsoon restock is in")
    email.sender_name.setText("Monsoon Store")
    email.test_addresses.setText("ravi.kumar@example.in, meera.iyer@example.in")
    email.others_radio.setChecked(True)
    email.test_button.click()
    wait_for(app, lambda: email.test_results.isVisible())
    save_dialog(app, window, wizard, out / "campaign-wizard-email.png")
    wizard.next()


def shoot_ab_winner(app: object, window: object, out: Path) -> None:
    """A campaign tested on a quarter of its audience, the winner chosen by engagement and
    sent to the rest, on its own page."""
    from screenshots import ANCHOR, save, wait_for

    from minicrm_desktop.models.campaign import Channel
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.services.campaigns.headless import run_until_settled
    from minicrm_desktop.services.campaigns.launch import (
        CampaignDraft,
        create_campaign,
        launch_campaign,
    )
    from minicrm_desktop.services.campaigns.vendor import VendorConfig, default_ledger_path
    from minicrm_desktop.services.segments.saved import find_segment
    from minicrm_desktop.views.shell.main_window import MainWindow

    assert isinstance(window, MainWindow)
    page = window.campaigns_page
    engine = page.engine
    segment = find_segment(engine, "Newsletter subscribers")
    assert segment is not None
    draft = CampaignDraft(
        name="Festive subject-line test", channel=Channel.EMAIL, rule=segment.rule,
        variants=["Hi {first_name|there}, festive picks for {city|you} are in.",
                  "{first_name|Friend}, 20% off festive picks, this week only."],
        segment_id=segment.id, as_of=ANCHOR, objective="Find the better festive message",
        subject="{first_name|Hello}, festive picks inside",
        vendor=VendorConfig(success_rate=0.92, seed=11, open_rate=0.35),
        ab_test_share=25, ab_wait_seconds=0, ab_metric="engagement")
    campaign_id = create_campaign(engine, draft, actor=LOCAL_ADMIN)
    launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
    run_until_settled(engine, campaign_id, ledger_path=default_ledger_path(),
                      retry_base_seconds=0.05)
    window.show_page("campaigns")
    page.open_campaign(campaign_id)
    detail = page.detail
    assert detail is not None
    wait_for(app, lambda: detail.report is not None and not detail.busy
             and detail.report.details["id"] == campaign_id)
    save(app, window, out / "campaign-detail-ab.png")
    detail.back_requested.emit()

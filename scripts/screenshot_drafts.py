"""Screenshots of the Campaigns list with a kept draft and a scheduled campaign, and of the
Segments page's "Tag everyone" confirmation (called by screenshots.py once its window
is open; issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path


def shoot_drafts(app: object, window: object, out: Path, url: str) -> None:
    from screenshots import save, wait_for

    from minicrm_desktop.models.campaign import Channel
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.services.campaigns.drafts import save_draft
    from minicrm_desktop.services.campaigns.launch import CampaignDraft, create_campaign
    from minicrm_desktop.services.campaigns.wizard import PageId, WizardState
    from minicrm_desktop.services.core.database import create_db_engine
    from minicrm_desktop.services.segments.saved import find_segment
    from minicrm_desktop.views.shell.main_window import MainWindow

    assert isinstance(window, MainWindow)
    # Made elsewhere (as the CLI or another window would): the list picks them up.
    engine = create_db_engine(url)
    try:
        segment = find_segment(engine, "Newsletter subscribers")
        assert segment is not None
        at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=30, second=0,
                                                              microsecond=0)
        create_campaign(engine, CampaignDraft(
            name="Festive preview for subscribers", channel=Channel.EMAIL, rule=segment.rule,
            variants=["Hi {first_name|there}, a first look at the festive range."],
            segment_id=segment.id, scheduled_at=at, objective="Festive preview"),
            actor=LOCAL_ADMIN)
        save_draft(engine, WizardState(name="Winter clearance (draft)",
                                       objective="Clear winter stock",
                                       variants=["Hi {first_name|there}, "]),
                   PageId.MESSAGE, actor=LOCAL_ADMIN)
    finally:
        engine.dispose()
    page = window.campaigns_page
    window.show_page("campaigns")
    page.model.refresh()
    wait_for(app, lambda: not page.model.loading and any(
        (row := page.model.campaign(r)) is not None and row.wizard_draft
        for r in range(page.model.rowCount())))
    scheduled = next(r for r in range(page.model.rowCount())
                     if (row := page.model.campaign(r)) is not None
                     and row.status == "scheduled")
    page.table.selectRow(scheduled)
    save(app, window, out / "campaigns-scheduled.png")


def shoot_bulk(app: object, window: object, out: Path, engine: object,
               as_of: datetime) -> None:
    """The confirmation before tagging everyone in a segment, with its count."""
    from screenshots import save_dialog, wait_for
    from sqlalchemy import Engine

    from minicrm_desktop.services.core.deferred_engine import real_engine
    from minicrm_desktop.services.segments.bulk_actions import preview_tag
    from minicrm_desktop.views.segments.bulk_actions import bulk_question, tag_question
    from minicrm_desktop.views.shell.main_window import MainWindow

    assert isinstance(window, MainWindow)
    engine = real_engine(engine)  # type: ignore[arg-type]  # the window's may be deferred
    assert isinstance(engine, Engine)
    segments = window.segments_page
    window.show_page("segments")
    segment = next(s for s in segments.segments.values() if s.name == "One-time buyers")
    segments.open_segment(segment.id)
    wait_for(app, lambda: segments.live.count is not None and not segments.live.pending)
    preview = preview_tag(engine, segment.rule, "win-back", as_of=as_of)
    question, yes = tag_question(preview, segment.name, "win-back")
    box = bulk_question(segments, "Confirm tagging", question, yes)
    box.show()
    save_dialog(app, window, box, out / "segments-bulk-confirm.png")
    box.close()
    box.deleteLater()

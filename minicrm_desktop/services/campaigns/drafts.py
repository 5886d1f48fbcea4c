"""Unfinished campaigns and scheduled ones: drafts saved from the wizard, and a scheduled
campaign's time changed before it starts.

A wizard draft is a campaign row in status `draft` holding the wizard's state (any part
of it) and the step it was left on; launch refuses it until the wizard finishes it (then
`create_campaign(..., replacing_draft=id)` swaps it for the real campaign atomically).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from ...models.base import utcnow
from ...models.campaign import CampaignStatus, campaigns_table
from ...models.rules import dump_rule, parse_rule
from ..access.actor import Actor, Permission
from ..access.audit import Action, record
from ..access.users import authorize
from .launch import CampaignError
from .store import set_status
from .wizard import PageId, WizardState

c = campaigns_table.c
UNTITLED = "Untitled draft"
_EMPTY_RULE = dump_rule(parse_rule({"combinator": "and", "rules": []}))


@dataclass(frozen=True)
class SavedDraft:
    id: int
    step: PageId
    state: WizardState


def save_draft(
    engine: Engine,
    state: WizardState,
    step: PageId,
    *,
    actor: Actor,
    draft_id: int | None = None,
) -> int:
    """Store the wizard's state as it is (nothing is checked: it may be half done); with
    `draft_id`, overwrite that draft. Returns the draft's id."""
    now = utcnow()
    rule = state.rule
    values = {
        "name": state.name.strip()[:200] or UNTITLED,
        "channel": state.channel.value,
        "objective": state.objective.strip()[:500],
        "rule_json": dump_rule(rule) if rule is not None else _EMPTY_RULE,
        "segment_id": state.segment_id,
        "wizard_json": json.dumps({"step": int(step), "state": json.loads(state.to_json())}),
        "updated_at": now,
    }
    with engine.begin() as conn:
        authorize(conn, actor, Permission.CREATE_CAMPAIGNS)
        if draft_id is None:
            inserted = conn.execute(
                insert(campaigns_table).values(
                    uid=str(uuid.uuid4()),
                    status=CampaignStatus.DRAFT.value,
                    created_at=now,
                    created_by=actor.account_email,
                    vendor_json=json.dumps(state.vendor.to_dict()),
                    **values,
                )
            ).inserted_primary_key
            assert inserted is not None
            draft_id = int(inserted[0])
        elif conn.execute(
            update(campaigns_table)
            .where(c.id == draft_id, c.status == CampaignStatus.DRAFT.value,
                   c.wizard_json.is_not(None))
            .values(**values)
        ).rowcount != 1:
            raise CampaignError(f"there is no unfinished draft {draft_id}")
        record(conn, actor, Action.CAMPAIGN_DRAFT_SAVE,
               {"campaign_id": draft_id, "name": values["name"], "step": step.name.lower()})
    return draft_id


def load_draft(engine: Engine, draft_id: int) -> SavedDraft:
    """A saved draft, to reopen the wizard where it was left."""
    with engine.connect() as conn:
        text = conn.execute(
            select(c.wizard_json).where(c.id == draft_id, c.status == CampaignStatus.DRAFT.value)
        ).scalar()
    if text is None:
        raise CampaignError(f"there is no unfinished draft {draft_id}")
    data = json.loads(text)
    try:
        step = PageId(int(data.get("step", 0)))
    except ValueError:
        step = PageId.BASICS
    return SavedDraft(draft_id, step, WizardState.from_json(json.dumps(data.get("state", {}))))


def discard_draft(engine: Engine, draft_id: int, *, actor: Actor) -> None:
    with engine.begin() as conn:
        authorize(conn, actor, Permission.CREATE_CAMPAIGNS)
        gone = conn.execute(
            delete(campaigns_table).where(c.id == draft_id, c.wizard_json.is_not(None),
                                          c.status == CampaignStatus.DRAFT.value)
        ).rowcount
        if gone != 1:
            raise CampaignError(f"there is no unfinished draft {draft_id}")
        record(conn, actor, Action.CAMPAIGN_DRAFT_DISCARD, {"campaign_id": draft_id})


def reschedule_campaign(
    engine: Engine, campaign_id: int, at: datetime, *, actor: Actor
) -> datetime | None:
    """Move a scheduled campaign to `at` (aware, in the future), before it starts; returns
    the previous time. A campaign that started (or was never scheduled) is refused."""
    if at.tzinfo is None:
        raise CampaignError("give the new time with its time zone (e.g. 2026-12-24T09:00Z)")
    if at <= utcnow():
        raise CampaignError(f"{at.isoformat()} has passed: pick a later time")
    with engine.begin() as conn:
        authorize(conn, actor, Permission.CREATE_CAMPAIGNS)
        row = conn.execute(
            select(c.status, c.scheduled_at).where(c.id == campaign_id)
        ).one_or_none()
        if row is None:
            raise CampaignError(f"there is no campaign {campaign_id}")
        moved = conn.execute(
            update(campaigns_table)
            .where(c.id == campaign_id, c.status == CampaignStatus.SCHEDULED.value)
            .values(scheduled_at=at, updated_at=utcnow())
        ).rowcount
        if moved != 1:
            status = conn.execute(select(c.status).where(c.id == campaign_id)).scalar()
            raise CampaignError(f"campaign {campaign_id} is {status}: only a scheduled "
                                "campaign that has not started can be rescheduled")
        before: datetime | None = row.scheduled_at
        record(conn, actor, Action.CAMPAIGN_RESCHEDULE,
               {"campaign_id": campaign_id, "from": before.isoformat() if before else None,
                "to": at.isoformat()})
    return before


def cancel_before_start(engine: Engine, campaign_id: int, *, actor: Actor) -> None:
    """Cancel a scheduled (or saved, not yet launched) campaign. One that started is
    refused here: stopping a send goes through the delivery engine (`DeliveryEngine.cancel`,
    `minicrm campaign cancel`), which settles its unsent recipients."""
    before_start = [CampaignStatus.SCHEDULED, CampaignStatus.DRAFT]
    if not set_status(engine, campaign_id, CampaignStatus.CANCELLED, before_start,
                      audit=(actor, Action.CAMPAIGN_CANCEL)):
        with engine.connect() as conn:
            status = conn.execute(select(c.status).where(c.id == campaign_id)).scalar()
        if status is None:
            raise CampaignError(f"there is no campaign {campaign_id}")
        raise CampaignError(f"campaign {campaign_id} is {status}: only a campaign that has "
                            "not started can be cancelled this way")

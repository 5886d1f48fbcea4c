"""The audit log: append-only in the database itself, filterable, paged, exportable."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from minicrm_desktop.models.base import utcnow
from minicrm_desktop.services.access.actor import Actor, Role
from minicrm_desktop.services.access.audit import (
    Action,
    AuditFilter,
    audit_page,
    iter_audit,
    record_now,
    write_audit_csv,
)
from tests.access.conftest import audit_rows


def test_update_and_delete_are_refused_by_the_database(
    engine: Engine, team: dict[Role, Actor]
) -> None:
    before = audit_rows(engine)
    assert before
    for statement in ("UPDATE audit_log SET action = 'forged'",
                      "UPDATE audit_log SET detail = '{}' WHERE id = :id",
                      "DELETE FROM audit_log WHERE id = :id",
                      "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement), {"id": before[0].id})
    assert audit_rows(engine) == before


def test_filters_by_user_action_family_dates_and_text(
    engine: Engine, team: dict[Role, Actor]
) -> None:
    admin, viewer = team[Role.ADMIN], team[Role.VIEWER]
    record_now(engine, admin, Action.SEGMENT_CREATE, {"name": "Pune VIPs (50% off)"})
    record_now(engine, admin, Action.CAMPAIGN_LAUNCH, {"campaign_id": 7})
    record_now(engine, admin, Action.CAMPAIGN_PAUSE, {"campaign_id": 7})

    def actions(**where: object) -> list[str]:
        found = audit_page(engine, AuditFilter(**where), actor=admin)  # type: ignore[arg-type]
        return [r.action for r in found]

    assert actions(user="VIEWER@crm.example") == [Action.SIGN_IN]
    assert actions(user=viewer.email, action=Action.SIGN_IN) == [Action.SIGN_IN]
    assert actions(action="campaign.") == [Action.CAMPAIGN_PAUSE, Action.CAMPAIGN_LAUNCH]
    assert actions(action=Action.CAMPAIGN_LAUNCH) == [Action.CAMPAIGN_LAUNCH]
    assert actions(text="pune vips") == [Action.SEGMENT_CREATE]
    assert actions(text="50%") == [Action.SEGMENT_CREATE]  # LIKE wildcards are literal
    literal = [r.action for r in reversed(audit_rows(engine))
               if "_" in r.detail + r.action + r.user_email]
    assert actions(text="_") == literal  # "_" matches itself, not any one character
    now = utcnow()
    assert len(actions(since=now - timedelta(minutes=5))) == len(audit_rows(engine))
    assert actions(since=now + timedelta(minutes=5)) == []
    assert actions(until=now - timedelta(minutes=5)) == []


def test_pages_are_keyset_paged_newest_first(engine: Engine, team: dict[Role, Actor]) -> None:
    admin = team[Role.ADMIN]
    for n in range(25):
        record_now(engine, admin, Action.SETTING_CHANGE, {"n": n})
    where = AuditFilter(action=Action.SETTING_CHANGE)
    first = audit_page(engine, where, actor=admin, limit=10)
    second = audit_page(engine, where, actor=admin, before_id=first[-1].id, limit=10)
    third = audit_page(engine, where, actor=admin, before_id=second[-1].id, limit=10)
    ids = [r.id for r in first + second + third]
    assert len(ids) == 25
    assert ids == sorted(ids, reverse=True)
    assert [r.id for r in iter_audit(engine, where, actor=admin)] == ids


def test_csv_export_has_every_match_and_defuses_formulas(
    engine: Engine, team: dict[Role, Actor]
) -> None:
    admin = team[Role.ADMIN]
    record_now(engine, admin, Action.SEGMENT_CREATE, {"name": "=HYPERLINK(\"x\")"})
    out = io.StringIO()
    written = write_audit_csv(engine, AuditFilter(), out, actor=admin)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert written == len(rows) == len(audit_rows(engine))
    assert list(rows[0]) == ["id", "at", "user_id", "user_email", "action", "detail",
                             "db_account"]
    assert rows[0]["action"] == Action.SEGMENT_CREATE
    assert rows[0]["user_email"] == admin.email
    assert rows[0]["at"].endswith("+00:00")
    assert '=HYPERLINK' in rows[0]["detail"]
    assert not any(r["detail"].startswith(("=", "+", "-", "@")) for r in rows)

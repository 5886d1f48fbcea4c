"""Every role against every change, at the service level: the check that counts.

Each row of OPERATIONS is one mutating (or admin-only) service entry point. For each role
it either succeeds and leaves its audit entry, or raises AccessDenied with a message
naming the role, and changes nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, func, select

from minicrm_desktop.models.base import utcnow
from minicrm_desktop.models.campaign import CampaignStatus, Channel, campaigns_table
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.models.segment import segments_table
from minicrm_desktop.models.tables import (
    allowed_domains_table,
    customers_table,
    orders_table,
    users_table,
)
from minicrm_desktop.services.access.actor import AccessDenied, Actor, Role
from minicrm_desktop.services.access.audit import Action, AuditFilter, audit_page
from minicrm_desktop.services.access.settings_changes import change_setting
from minicrm_desktop.services.access.users import (
    add_user,
    allow_domain,
    list_domains,
    list_users,
    remove_domain,
    set_active,
    set_role,
)
from minicrm_desktop.services.campaigns import store
from minicrm_desktop.services.campaigns.engine import DeliveryEngine
from minicrm_desktop.services.campaigns.history import prepare_resume
from minicrm_desktop.services.campaigns.launch import (
    CampaignDraft,
    create_campaign,
    launch_campaign,
)
from minicrm_desktop.services.core.settings import MYSQL_REQUIRE_TLS, DictStore, Settings
from minicrm_desktop.services.customers.seed import seed_demo_data
from minicrm_desktop.services.importing import import_customers, import_orders
from minicrm_desktop.services.segments.saved import (
    create_segment,
    delete_segment,
    duplicate_segment,
    rename_segment,
    update_segment,
)
from tests.access.conftest import audit_rows

EVERYONE_RULE = parse_rule({"combinator": "and", "rules": []})


def draft(name: str = "Spring sale", **extra: Any) -> CampaignDraft:
    return CampaignDraft(name=name, channel=Channel.EMAIL, rule=EVERYONE_RULE,
                         variants=["Hi {first_name|there}!"], **extra)


@dataclass
class World:
    """What the operations act on, made by the admin before the actor under test acts."""

    engine: Engine
    files: dict[str, Path]
    segment_id: int
    draft_id: int
    paused_id: int


@pytest.fixture
def world(engine: Engine, team: dict[Role, Actor], csv_files: dict[str, Path]) -> World:
    admin = team[Role.ADMIN]
    import_customers(engine, csv_files["customers"], actor=admin)
    segment = create_segment(engine, "Base", EVERYONE_RULE, actor=admin)
    draft_id = create_campaign(engine, draft("Ready"), actor=admin)
    paused_id = create_campaign(engine, draft("Paused"), actor=admin)
    launch_campaign(engine, paused_id, actor=admin)
    store.set_status(engine, paused_id, CampaignStatus.PAUSED, [CampaignStatus.RUNNING])
    allow_domain(engine, "old.example", actor=admin)
    return World(engine, csv_files, segment.id, draft_id, paused_id)


Operation = Callable[[World, Actor], object]
ALL = {Role.ADMIN, Role.MARKETER, Role.VIEWER}
MARKETING = {Role.ADMIN, Role.MARKETER}
ADMIN = {Role.ADMIN}

# (name, roles allowed, audit action written on success or None, the call)
OPERATIONS: list[tuple[str, set[Role], str | None, Operation]] = [
    ("import customers", MARKETING, Action.IMPORT_CUSTOMERS,
     lambda w, a: import_customers(w.engine, w.files["customers"], actor=a)),
    ("import orders", MARKETING, Action.IMPORT_ORDERS,
     lambda w, a: import_orders(w.engine, w.files["orders"], actor=a)),
    ("seed demo data", ADMIN, Action.SEED_DEMO,
     lambda w, a: seed_demo_data(w.engine, 5, seed=2, actor=a)),
    ("create segment", MARKETING, Action.SEGMENT_CREATE,
     lambda w, a: create_segment(w.engine, "New", EVERYONE_RULE, actor=a)),
    ("update segment", MARKETING, Action.SEGMENT_UPDATE,
     lambda w, a: update_segment(w.engine, w.segment_id, description="edited", actor=a)),
    ("rename segment", MARKETING, Action.SEGMENT_UPDATE,
     lambda w, a: rename_segment(w.engine, w.segment_id, "Renamed", actor=a)),
    ("duplicate segment", MARKETING, Action.SEGMENT_CREATE,
     lambda w, a: duplicate_segment(w.engine, w.segment_id, actor=a)),
    ("delete segment", MARKETING, Action.SEGMENT_DELETE,
     lambda w, a: delete_segment(w.engine, w.segment_id, actor=a)),
    ("create campaign", MARKETING, Action.CAMPAIGN_CREATE,
     lambda w, a: create_campaign(w.engine, draft(), actor=a)),
    ("schedule campaign", MARKETING, Action.CAMPAIGN_SCHEDULE,
     lambda w, a: create_campaign(w.engine, draft(scheduled_at=utcnow() + timedelta(days=1)),
                                  actor=a)),
    ("launch campaign", MARKETING, Action.CAMPAIGN_LAUNCH,
     lambda w, a: launch_campaign(w.engine, w.draft_id, actor=a)),
    ("resume campaign", MARKETING, Action.CAMPAIGN_RESUME,
     lambda w, a: prepare_resume(w.engine, w.paused_id, actor=a)),
    ("add user", ADMIN, Action.USER_ADD,
     lambda w, a: add_user(w.engine, "new@crm.example", role=Role.VIEWER, actor=a)),
    ("change a role", ADMIN, Action.USER_ROLE,
     lambda w, a: set_role(w.engine, "viewer@crm.example", Role.MARKETER, actor=a)),
    ("deactivate a user", ADMIN, Action.USER_DEACTIVATE,
     lambda w, a: set_active(w.engine, "viewer@crm.example", False, actor=a)),
    ("allow a domain", ADMIN, Action.DOMAIN_ALLOW,
     lambda w, a: allow_domain(w.engine, "shop.example", actor=a)),
    ("remove a domain", ADMIN, Action.DOMAIN_REMOVE,
     lambda w, a: remove_domain(w.engine, "old.example", actor=a)),
    ("change a shared setting", ADMIN, Action.SETTING_CHANGE,
     lambda w, a: change_setting(w.engine, Settings(DictStore()), MYSQL_REQUIRE_TLS, True,
                                 actor=a)),
    ("list users", ADMIN, None, lambda w, a: list_users(w.engine, actor=a)),
    ("list domains", ADMIN, None, lambda w, a: list_domains(w.engine, actor=a)),
    ("read the audit log", ADMIN, None,
     lambda w, a: audit_page(w.engine, AuditFilter(), actor=a)),
]

CASES = [
    pytest.param(name, role, role in allowed, action, call, id=f"{name}-{role.value}")
    for name, allowed, action, call in OPERATIONS
    for role in (Role.ADMIN, Role.MARKETER, Role.VIEWER)
]


def state(engine: Engine) -> dict[str, Any]:
    """Everything an operation could change."""
    with engine.connect() as conn:
        def rows(*columns: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.execute(select(*columns).order_by(columns[0]))]

        return {
            "customers": conn.execute(select(func.count()).select_from(customers_table))
            .scalar_one(),
            "orders": conn.execute(select(func.count()).select_from(orders_table)).scalar_one(),
            "segments": rows(segments_table.c.id, segments_table.c.name,
                             segments_table.c.description),
            "campaigns": rows(campaigns_table.c.id, campaigns_table.c.status),
            "users": rows(users_table.c.email, users_table.c.role, users_table.c.active),
            "domains": rows(allowed_domains_table.c.domain, allowed_domains_table.c.role),
            "audit": len(audit_rows(engine)),
        }


@pytest.mark.parametrize(("name", "role", "allowed", "action", "call"), CASES)
def test_each_role_each_operation(
    world: World, team: dict[Role, Actor], name: str, role: Role, allowed: bool,
    action: str | None, call: Operation,
) -> None:
    actor = team[role]
    before = state(world.engine)
    if allowed:
        call(world, actor)
        after = state(world.engine)
        if action is None:
            assert after == before  # a read changes nothing
        else:
            newest = audit_rows(world.engine)[-1]
            assert (newest.action, newest.user_email, newest.user_id) == (
                action, actor.email, actor.user_id)
            assert after != before
        return
    with pytest.raises(AccessDenied) as refused:
        call(world, actor)
    plural = {Role.MARKETER: "Marketers", Role.VIEWER: "Viewers"}[role]
    assert str(refused.value).startswith(f"{plural} can't ")
    assert "admin" in str(refused.value)
    assert state(world.engine) == before  # nothing written, not even an audit entry


def test_viewer_message_suggests_the_role_that_would_do(world: World,
                                                        team: dict[Role, Actor]) -> None:
    with pytest.raises(AccessDenied, match="^Viewers can't launch campaigns — ask an admin "
                                           "for the marketer role.$"):
        launch_campaign(world.engine, world.draft_id, actor=team[Role.VIEWER])
    with pytest.raises(AccessDenied, match="^Marketers can't manage users — only an admin"):
        add_user(world.engine, "x@crm.example", role=Role.VIEWER, actor=team[Role.MARKETER])


def test_a_role_change_takes_effect_without_signing_in_again(
    world: World, team: dict[Role, Actor]
) -> None:
    marketer = team[Role.MARKETER]
    set_role(world.engine, marketer.email, Role.VIEWER, actor=team[Role.ADMIN])
    with pytest.raises(AccessDenied, match="^Viewers can't"):
        create_segment(world.engine, "Too late", EVERYONE_RULE, actor=marketer)
    set_active(world.engine, marketer.email, False, actor=team[Role.ADMIN])
    with pytest.raises(AccessDenied, match="has been deactivated"):
        create_segment(world.engine, "Too late", EVERYONE_RULE, actor=marketer)


def test_the_last_admin_cannot_be_demoted_or_deactivated(
    world: World, team: dict[Role, Actor]
) -> None:
    admin = team[Role.ADMIN]
    from minicrm_desktop.services.access.users import UserError

    with pytest.raises(UserError, match="only active admin"):
        set_role(world.engine, admin.email, Role.VIEWER, actor=admin)
    with pytest.raises(UserError, match="only active admin"):
        set_active(world.engine, admin.email, False, actor=admin)
    set_role(world.engine, "marketer@crm.example", Role.ADMIN, actor=admin)
    assert set_role(world.engine, admin.email, Role.VIEWER, actor=admin).role is Role.VIEWER


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MARKETER, Role.VIEWER])
def test_delivery_engine_control_checks_the_role(
    world: World, team: dict[Role, Actor], role: Role, qtbot: QtBot, tmp_path: Path
) -> None:
    """Pause, resume and cancel: refused at once on the caller's thread, or done by the
    writer with the audit entry in the status change's transaction."""
    engine = world.engine
    actor = team[role]
    delivery = DeliveryEngine(engine, workers=1, ledger_path=tmp_path / "ledger.db")
    try:
        if role is Role.VIEWER:
            for control in (delivery.pause, delivery.resume, delivery.cancel):
                with pytest.raises(AccessDenied, match="^Viewers can't pause, resume or "
                                                       "cancel campaigns"):
                    control(world.paused_id, actor=actor)
            assert store.load_plan(engine, world.paused_id).status == "paused"  # type: ignore[union-attr]
            return
        with qtbot.waitSignal(delivery.status_changed, timeout=20_000) as changed:
            delivery.cancel(world.paused_id, actor=actor)
        assert changed.args == [world.paused_id, "cancelled"]
        newest = audit_rows(engine)[-1]
        assert (newest.action, newest.user_email) == (Action.CAMPAIGN_CANCEL, actor.email)
        assert f'"campaign_id": {world.paused_id}' in newest.detail
    finally:
        delivery.shutdown()
        delivery.deleteLater()

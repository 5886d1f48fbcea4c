"""Who gets in: `admit()` at sign-in, on SQLite and MariaDB."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select

from minicrm_desktop.models.tables import users_table
from minicrm_desktop.services.access.actor import AccessDenied, Actor, Role
from minicrm_desktop.services.access.audit import Action
from minicrm_desktop.services.access.users import (
    add_user,
    admit,
    allow_domain,
    list_users,
    set_active,
)
from tests.access.conftest import audit_rows, identity


def test_first_account_on_an_empty_database_becomes_admin(engine: Engine) -> None:
    actor = admit(engine, identity("Founder@Crm.Example", "Fay Founder"))
    assert actor.role is Role.ADMIN
    assert actor.email == "founder@crm.example"  # normalized
    assert actor.user_id is not None
    [user] = list_users(engine, actor=actor)
    assert (user.email, user.name, user.active) == ("founder@crm.example", "Fay Founder", True)
    assert user.last_sign_in_at is not None
    [entry] = audit_rows(engine)
    assert (entry.action, entry.user_email) == (Action.SIGN_IN, "founder@crm.example")
    assert '"first_admin": true' in entry.detail


def test_second_stranger_is_refused_with_a_clear_message(engine: Engine) -> None:
    admit(engine, identity("founder@crm.example"))
    with pytest.raises(AccessDenied) as refused:
        admit(engine, identity("stranger@elsewhere.example"))
    message = str(refused.value)
    assert "stranger@elsewhere.example may not use this MiniCRM database" in message
    assert "allow the domain elsewhere.example" in message
    newest = audit_rows(engine)[-1]
    assert (newest.action, newest.user_email, newest.user_id) == (
        Action.SIGN_IN_REFUSED, "stranger@elsewhere.example", None)
    with engine.connect() as conn:
        emails = conn.execute(select(users_table.c.email)).scalars().all()
    assert emails == ["founder@crm.example"]  # the stranger got no account


def test_an_added_email_gets_in_with_its_role_and_name(engine: Engine) -> None:
    admin = admit(engine, identity("founder@crm.example"))
    add_user(engine, "Mia@Crm.Example", role=Role.MARKETER, actor=admin)
    first = list_users(engine, actor=admin)[1]
    assert first.last_sign_in_at is None
    mia = admit(engine, identity("mia@crm.example", "Mia Marketer"))
    assert (mia.role, mia.name) == (Role.MARKETER, "Mia Marketer")
    user = next(u for u in list_users(engine, actor=admin) if u.email == "mia@crm.example")
    assert user.last_sign_in_at is not None
    again = admit(engine, identity("mia@crm.example", "Mia Marketer"))
    assert again.user_id == mia.user_id
    later = next(u for u in list_users(engine, actor=admin) if u.email == "mia@crm.example")
    assert later.last_sign_in_at is not None
    assert user.last_sign_in_at is not None
    assert later.last_sign_in_at >= user.last_sign_in_at


def test_an_allowed_domain_admits_its_members_as_viewers_by_default(engine: Engine) -> None:
    admin = admit(engine, identity("founder@crm.example"))
    allow_domain(engine, "@Team.Example", actor=admin)
    member = admit(engine, identity("new.hire@team.example"))
    assert member.role is Role.VIEWER
    allow_domain(engine, "agency.example", role=Role.MARKETER, actor=admin)
    assert admit(engine, identity("pat@agency.example")).role is Role.MARKETER
    # A look-alike domain is not the allowed one.
    with pytest.raises(AccessDenied):
        admit(engine, identity("eve@evilteam.example"))
    with pytest.raises(AccessDenied):
        admit(engine, identity("eve@team.example.evil"))
    newest = audit_rows(engine)[-1]
    assert newest.action == Action.SIGN_IN_REFUSED


def test_a_deactivated_user_is_refused(engine: Engine) -> None:
    admin = admit(engine, identity("founder@crm.example"))
    add_user(engine, "gone@crm.example", role=Role.MARKETER, actor=admin)
    admit(engine, identity("gone@crm.example"))
    set_active(engine, "gone@crm.example", False, actor=admin)
    with pytest.raises(AccessDenied, match="gone@crm.example has been deactivated"):
        admit(engine, identity("gone@crm.example"))
    assert audit_rows(engine)[-1].action == Action.SIGN_IN_REFUSED
    # Reactivated, they are back with their role; domain membership does not revive them.
    set_active(engine, "gone@crm.example", True, actor=admin)
    assert admit(engine, identity("gone@crm.example")).role is Role.MARKETER


def test_concurrent_first_sign_ins_make_exactly_one_admin(engine: Engine) -> None:
    people = [f"racer{i}@crm.example" for i in range(6)]
    barrier = threading.Barrier(len(people))
    results: dict[str, Actor | BaseException] = {}

    def sign_in(email: str) -> None:
        barrier.wait()
        try:
            results[email] = admit(engine, identity(email))
        except BaseException as exc:  # collected and asserted below
            results[email] = exc

    threads = [threading.Thread(target=sign_in, args=(email,)) for email in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    admins = [r for r in results.values() if isinstance(r, Actor)]
    refused = [r for r in results.values() if isinstance(r, AccessDenied)]
    assert len(results) == len(people)
    assert len(admins) == 1, results
    assert admins[0].role is Role.ADMIN
    assert len(refused) == len(people) - 1, results
    with engine.connect() as conn:
        rows = conn.execute(select(users_table.c.email, users_table.c.role)).all()
    assert [tuple(r) for r in rows] == [(admins[0].email, "admin")]

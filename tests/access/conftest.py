"""Fixtures for access tests: a team of real user rows (the founding admin, a marketer, a
viewer) signed in through `admit`, and the GUI fixtures the page tests share."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from minicrm_desktop.models.tables import audit_table
from minicrm_desktop.services.access.actor import Actor, Role
from minicrm_desktop.services.access.audit import AuditRow
from minicrm_desktop.services.access.identity import Identity
from minicrm_desktop.services.access.users import add_user, admit
from tests.gui.conftest import (  # noqa: F401  (fixtures shared with the GUI tests)
    _no_global_pool_work,
    bus,
    make_control,
    quit_questions,
    runner,
    settings,
    unsaved_questions,
)

ISSUER = "https://accounts.google.com"


def identity(email: str, name: str = "") -> Identity:
    return Identity(subject=f"sub-{email}", email=email, name=name or email.split("@")[0],
                    issuer=ISSUER)


@pytest.fixture
def team(engine: Engine) -> dict[Role, Actor]:
    """admin@crm.example founded the database; it added a marketer and a viewer, who then
    signed in. Actors as `admit` returned them."""
    admin = admit(engine, identity("admin@crm.example", "Asha Admin"))
    add_user(engine, "marketer@crm.example", role=Role.MARKETER, actor=admin)
    add_user(engine, "viewer@crm.example", role=Role.VIEWER, actor=admin)
    return {
        Role.ADMIN: admin,
        Role.MARKETER: admit(engine, identity("marketer@crm.example")),
        Role.VIEWER: admit(engine, identity("viewer@crm.example")),
    }


def audit_rows(engine: Engine) -> list[AuditRow]:
    """Every audit entry, oldest first (read directly: no role needed)."""
    with engine.connect() as conn:
        rows = conn.execute(select(audit_table).order_by(audit_table.c.id)).all()
    return [AuditRow(r.id, r.at, r.user_id, r.user_email, r.action, r.detail) for r in rows]


@pytest.fixture
def csv_files(tmp_path: Path) -> dict[str, Path]:
    customers = tmp_path / "customers.csv"
    customers.write_text("email,name,city\na@shop.example,A,Pune\nb@shop.example,B,Goa\n",
                         encoding="utf-8")
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_email,amount,order_date\n"
                      "o1,a@shop.example,100,2025-01-01\n", encoding="utf-8")
    return {"customers": customers, "orders": orders}

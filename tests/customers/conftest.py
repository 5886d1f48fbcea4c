"""Customer edit tests: customers imported through the real importer, and a team of roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from minicrm_desktop.models.tables import audit_table
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Role
from minicrm_desktop.services.access.identity import Identity
from minicrm_desktop.services.access.users import add_user, admit
from minicrm_desktop.services.importing import import_customers
from tests.helpers import write_csv

CUSTOMERS = (
    "email,name,phone,city,subscribed,tags\n"
    "asha@x.in,Asha Rao,98200 00001,Pune,yes,VIP|newsletter\n"
    "ravi@x.in,Ravi,98200 00002,Mumbai,yes,newsletter\n"
    "zoe@x.in,Zoë,,MÜNCHEN,no,\n"
    "kiran@x.in,Kiran,,,yes,app-user\n"
)


def _identity(email: str) -> Identity:
    return Identity(subject=f"sub-{email}", email=email, name=email.split("@")[0],
                    issuer="https://accounts.google.com")


@pytest.fixture
def team(engine: Engine) -> dict[Role, Actor]:
    admin = admit(engine, _identity("admin@crm.example"))
    add_user(engine, "marketer@crm.example", role=Role.MARKETER, actor=admin)
    add_user(engine, "viewer@crm.example", role=Role.VIEWER, actor=admin)
    return {Role.ADMIN: admin,
            Role.MARKETER: admit(engine, _identity("marketer@crm.example")),
            Role.VIEWER: admit(engine, _identity("viewer@crm.example"))}


@pytest.fixture
def imported(engine: Engine, tmp_path: Path) -> Engine:
    import_customers(engine, write_csv(tmp_path / "c.csv", CUSTOMERS), actor=LOCAL_ADMIN)
    return engine


def audit_entries(engine: Engine, action: str) -> list[dict[str, Any]]:
    import json

    with engine.connect() as conn:
        rows = conn.execute(select(audit_table.c.user_email, audit_table.c.detail)
                            .where(audit_table.c.action == action)
                            .order_by(audit_table.c.id)).all()
    return [{"by": r[0], **json.loads(r[1])} for r in rows]

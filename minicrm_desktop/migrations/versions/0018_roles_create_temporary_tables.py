"""MySQL/MariaDB: the marketer and admin roles may create temporary tables.

A MariaDB customer import sends each batch with LOAD DATA LOCAL into a temporary staging
table and applies it from there (services/importing/staged.py); an account that may not
create temporary tables falls back to multi-row INSERTs, 2-5x slower. The roles that may
import (marketer, admin) get `CREATE TEMPORARY TABLES` on their database; viewers do not,
so the server still refuses them. A temporary table belongs to the session that made it
and writes nothing another session sees, so the grant adds no way to change shared data.

services/access/db_roles.py grants it to roles installed from now on; this grants it to the
roles of a database made before (where the owner could create roles; the owner's next
start after migrating refreshes every role's grants from db_roles too). SQLite: nothing.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection, text

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of db_roles' names: the roles that may import are `<database>_<role>`.
IMPORTING_ROLES = ("marketer", "admin")
_DATABASE = re.compile(r"^[A-Za-z0-9_]{1,48}$")


def _grants(conn: Connection) -> list[tuple[str, str]]:
    """(`database`.*, `role`) for each importing role of this database that exists and this
    account administers, quoted; [] on SQLite or where there are none. Only existing roles:
    a GRANT to a name no role has would be taken for a user's (and, with the server's
    NO_AUTO_CREATE_USER off, create one without a password)."""
    if conn.dialect.name == "sqlite":
        return []
    database = str(conn.execute(text("SELECT DATABASE()")).scalar_one())
    if not _DATABASE.match(database):
        return []
    wanted = [f"{database}_{role}" for role in IMPORTING_ROLES]
    # MariaDB grants a role to the account that created it (the owner) with ADMIN OPTION;
    # a person holding one of them sees it too, but may not grant it (nor migrate).
    present = {str(r[0]) for r in conn.execute(
        text("SELECT ROLE_NAME FROM information_schema.APPLICABLE_ROLES "
             "WHERE ROLE_NAME IN (:a, :b) AND IS_GRANTABLE = 'YES'"),
        {"a": wanted[0], "b": wanted[1]})}
    return [(f"`{database}`.*", f"`{name}`") for name in wanted if name in present]


def upgrade() -> None:
    conn = op.get_bind()
    for on, role in _grants(conn):
        conn.exec_driver_sql(f"GRANT CREATE TEMPORARY TABLES ON {on} TO {role}")


def downgrade() -> None:
    conn = op.get_bind()
    for on, role in _grants(conn):
        conn.exec_driver_sql(f"REVOKE CREATE TEMPORARY TABLES ON {on} FROM {role}")

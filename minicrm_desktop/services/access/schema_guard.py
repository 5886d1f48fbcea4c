"""Who may change the schema, and the safeguards every start checks.

On a shared database only the owner account (the one that created the schema) may
migrate it; anyone else opening an older schema is told to ask an admin, rather than
seeing a migration fail half-way. After migrating, the audit log's triggers are checked
(and made again where they went missing), and the owner refreshes the server's roles.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

from ...errors import MiniCRMError
from .db_roles import install_database_roles, is_schema_owner, is_shared, roles_installed

log = logging.getLogger(__name__)

APPEND_ONLY = "the audit log is append-only"
# Trigger name -> its SQL per dialect (copies of migrations 0007 and 0011).
AUDIT_TRIGGERS: dict[str, dict[str, str]] = {
    f"audit_log_no_{event.lower()}": {
        "sqlite": f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                  f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
        "mysql": f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                 f"FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{APPEND_ONLY}'",
    }
    for event in ("UPDATE", "DELETE")
}
AUDIT_TRIGGERS["audit_log_db_account"] = {
    "sqlite": "CREATE TRIGGER audit_log_db_account BEFORE INSERT ON audit_log "
              "WHEN NEW.db_account IS NOT NULL "
              "BEGIN SELECT RAISE(ABORT, 'audit_log.db_account is set by the server'); END",
    "mysql": "CREATE TRIGGER audit_log_db_account BEFORE INSERT ON audit_log FOR EACH ROW "
             "SET NEW.db_account = SESSION_USER()",
}


class SchemaUpgradeNeeded(MiniCRMError):
    """The schema is older than this app, and this account may not upgrade it."""

    exit_code = 4


def require_schema_rights(
    engine: Engine, current: str | None, head: str | None, describe: str
) -> None:
    """Raise SchemaUpgradeNeeded unless this connection may bring the schema to `head`."""
    if current == head or not is_shared(engine):
        return
    with engine.connect() as conn:
        if is_schema_owner(conn):
            return
        account = conn.execute(text("SELECT CURRENT_USER()")).scalar_one()
    state = "has no MiniCRM tables yet" if current is None else (
        f"is at schema version {current}, and this MiniCRM needs {head}")
    raise SchemaUpgradeNeeded(
        f"The database {describe} {state}. Your database account ({account}) may not "
        "change the schema: ask an admin to upgrade this database (`minicrm init-db` "
        "with the database's owner account), then start MiniCRM again."
    )


def after_upgrade(engine: Engine, *, migrated: bool) -> list[str]:
    """Check the safeguards after migrating; returns what was found and done (for
    `minicrm init-db` to print). On a shared database only the owner account can see and
    mend triggers, and refreshes the roles when the schema changed or they are missing."""
    notices: list[str] = []
    with engine.connect() as conn:
        if is_shared(engine) and not is_schema_owner(conn):
            return notices
        notices += _mend_triggers(conn)
        install = is_shared(engine) and (migrated or not roles_installed(conn))
    if install:
        notices += install_database_roles(engine)
    for notice in notices:
        log.info("%s", notice)
    return notices


def _mend_triggers(conn: Connection) -> list[str]:
    dialect = "sqlite" if conn.dialect.name == "sqlite" else "mysql"
    if dialect == "sqlite":
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        rows = conn.execute(text("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
                                 "WHERE TRIGGER_SCHEMA = DATABASE()"))
    present = {r[0] for r in rows}
    if "audit_log" not in _tables(conn):
        return []
    notices = []
    for name, sql in AUDIT_TRIGGERS.items():
        if name not in present:
            conn.exec_driver_sql(sql[dialect])
            notices.append(f"the audit log's trigger {name} was missing: made it again")
    conn.commit()
    return notices


def _tables(conn: Connection) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(conn).get_table_names())

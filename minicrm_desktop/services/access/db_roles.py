"""Roles the MySQL/MariaDB server enforces, so a role holds even against hand-typed SQL.

On a shared database each person connects with a database account of their own, made by
an admin from the app. The account holds one of three server roles, named after the
database (`crm_viewer`, `crm_marketer`, `crm_admin` for a database `crm`), whose grants
match what the app lets that role do:

- every role reads every table, appends to the audit log (no UPDATE, DELETE, ALTER or
  DROP: only the owner account that created the schema can rewrite it) and, for its own
  sign-in, updates the sign-in columns of `users`;
- marketers also write customers, orders, tags, segments, campaigns and deliveries (and
  may set indexes aside during a bulk import, and create temporary tables: a MariaDB
  import stages its batches in one, migration 0018);
- admins also write users (except `db_account`) and allowed domains, and may call the
  owner's procedures that create database accounts, change their role or lock them.

Only the owner account (the one that ran `minicrm init-db`) changes the schema. It
installs the roles and the procedures, which run with its rights (SQL SECURITY DEFINER)
but can only act on accounts they created themselves and recorded in `users.db_account`
— a column no other account may write — so an admin can't take over the owner account or
give a role the users table doesn't say.

MariaDB lets only the account itself set its own default role (setting another's needs
write access to the `mysql` schema), so `activate_database_role` runs on every new
connection: it turns on the one role granted to the account, and makes it the default for
the next connection (and for the `mysql` command-line client).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, text

from ...models import Base
from ...models.base import MYSQL_TABLE_OPTIONS
from ...models.tables import users_table
from .actor import Role

log = logging.getLogger(__name__)

# Tables whose rows a marketer's work changes; bulk imports also set their indexes aside.
MARKETER_DATA = ("customers", "orders", "tags", "customer_tags")
MARKETER_WORK = ("segments", "campaigns", "campaign_variants", "deliveries")
ADMIN_TABLES = ("allowed_domains",)
# Written through grants of their own below (users: by column) or by no one (the log).
SPECIAL_TABLES = ("users", "audit_log")
# Written by the owner account alone: which identity providers the database trusts, and
# whether it may still be founded (only the founder's first sign-in, as the owner, closes it).
OWNER_TABLES = ("trusted_issuers", "database_settings")
# Users columns only the owner writes (db_account), or only admins.
OWNER_ONLY_USER_COLUMNS = frozenset({"db_account"})
ADMIN_ONLY_USER_COLUMNS = frozenset(
    {"id", "email", "role", "active", "founder", "added_by", "created_at"})
PROCEDURES = ("minicrm_create_account", "minicrm_sync_account", "minicrm_set_account_password")
ACCOUNT_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
_ACCOUNT = re.compile(ACCOUNT_PATTERN)
_DATABASE = re.compile(r"^[A-Za-z0-9_]{1,48}$")
# A routine's string parameters and variables take the database's default collation, which
# is the server's (often utf8mb4_general_ci) when the database was made without one;
# compared with a column of the tables' own collation that is "Illegal mix of collations".
# So each is declared with the tables' collation.
_TEXT = (f"CHARACTER SET {MYSQL_TABLE_OPTIONS['mysql_charset']} "
         f"COLLATE {MYSQL_TABLE_OPTIONS['mysql_collate']}")
# Marks the routines of this release, so an owner's next upgrade replaces older ones.
ROUTINES_VERSION = "minicrm routines 2: declared collations"


def is_shared(bind: Engine | Connection) -> bool:
    return bind.dialect.name != "sqlite"


def role_name(database: str, role: Role) -> str:
    return f"{database}_{Role(role).value}"


def valid_account_name(name: str) -> bool:
    return bool(_ACCOUNT.match(name))


# --- who is connected ---------------------------------------------------------------------


def session_account(conn: Connection) -> str:
    """The account the server authenticated this connection as (its user name)."""
    current = str(conn.execute(text("SELECT CURRENT_USER()")).scalar_one())
    return current.rpartition("@")[0]


def is_schema_owner(conn: Connection) -> bool:
    """Whether this connection's account may change the schema (holds ALTER on the
    database, or on every database). Roles never hold it, so only the owner (or a server
    administrator) does."""
    user, _, host = str(conn.execute(text("SELECT CURRENT_USER()")).scalar_one()).rpartition("@")
    grantee = f"'{user}'@'{host}'"
    found = conn.execute(
        text(
            "SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES "
            "        WHERE GRANTEE = :g AND PRIVILEGE_TYPE = 'ALTER')"
            " + (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES "
            "    WHERE GRANTEE = :g AND PRIVILEGE_TYPE = 'ALTER' "
            "    AND DATABASE() LIKE TABLE_SCHEMA)"
        ),
        {"g": grantee},
    ).scalar_one()
    return bool(found)


def activate_database_role(dbapi_connection: Any, _record: Any) -> None:
    """Engine "connect" listener (MySQL): turn on the MiniCRM role granted to this account,
    if it has one and it is not on yet; make it the account's default. MariaDB only: on
    MySQL 8 the server's `activate_all_roles_on_login` does this (see README)."""
    server = getattr(dbapi_connection, "get_server_info", lambda: "")()
    if "mariadb" not in str(server).lower():
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT CURRENT_ROLE(), DATABASE()")
        current, database = cursor.fetchone()
        if not database or not _DATABASE.match(database):
            return
        names = [role_name(database, r) for r in Role]
        if current in names:
            return
        cursor.execute(
            "SELECT ROLE_NAME FROM information_schema.APPLICABLE_ROLES "
            "WHERE ROLE_NAME IN (%s, %s, %s) ORDER BY ROLE_NAME",
            names,
        )
        row = cursor.fetchone()
        if row is None:
            return  # the owner, a server administrator or a hand-made account
        cursor.execute(f"SET ROLE `{row[0]}`")
        cursor.execute(f"SET DEFAULT ROLE `{row[0]}`")
    finally:
        cursor.close()


# --- installing the roles (the owner, after migrating) ------------------------------------


def grants(database: str) -> dict[Role, list[str]]:
    """The GRANT statements of each role, for the schema as the models describe it."""
    db = f"`{database}`"
    tables = [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]
    user_columns = [c.name for c in users_table.c]
    sign_in = [c for c in user_columns
               if c not in OWNER_ONLY_USER_COLUMNS | ADMIN_ONLY_USER_COLUMNS]
    admin_insert = [c for c in user_columns if c not in OWNER_ONLY_USER_COLUMNS]
    admin_update = [c for c in admin_insert if c != "id"]

    def cols(names: Iterable[str]) -> str:
        return ", ".join(f"`{n}`" for n in names)

    everyone = [f"GRANT SELECT ON {db}.`{t}`" for t in tables]
    everyone += [f"GRANT INSERT ON {db}.`audit_log`",
                 f"GRANT UPDATE ({cols(sign_in)}) ON {db}.`users`"]
    marketing = [f"GRANT INSERT, UPDATE, DELETE, INDEX ON {db}.`{t}`" for t in MARKETER_DATA]
    # Imports stage each batch in a temporary table (importing/staged.py). A temporary
    # table is the session's own: writing it changes nothing another session sees (one
    # named like a real table hides that table from its own session only), and it goes
    # with the session. Viewers don't get it: they may not import.
    marketing += [f"GRANT CREATE TEMPORARY TABLES ON {db}.*"]
    marketing += [f"GRANT INSERT, UPDATE, DELETE ON {db}.`{t}`" for t in MARKETER_WORK]
    admin = [f"GRANT INSERT, UPDATE, DELETE ON {db}.`{t}`" for t in ADMIN_TABLES]
    admin += [f"GRANT INSERT ({cols(admin_insert)}), UPDATE ({cols(admin_update)}) "
              f"ON {db}.`users`"]
    admin += [f"GRANT EXECUTE ON PROCEDURE {db}.`{p}`" for p in PROCEDURES]
    return {
        Role.VIEWER: everyone,
        Role.MARKETER: everyone + marketing,
        Role.ADMIN: everyone + marketing + admin,
    }


def install_database_roles(engine: Engine) -> list[str]:
    """Create or refresh the roles, their grants and the account procedures. Run by the
    owner after migrating (idempotent). Returns notices for the person running it: an
    account without the CREATE USER privilege can't make roles, and says so."""
    with engine.connect() as conn:
        database = str(conn.execute(text("SELECT DATABASE()")).scalar_one())
        if not _DATABASE.match(database):
            return [f"per-person database accounts need a database name of letters, digits "
                    f"and _ (not {database!r})"]
        if not is_schema_owner(conn):
            return []
        try:
            for role in Role:
                _run(conn, f"CREATE ROLE IF NOT EXISTS `{role_name(database, role)}`")
        except Exception as exc:  # noqa: BLE001 - reported, the database still works
            conn.rollback()
            return [f"per-person database accounts are off: this account can't create "
                    f"roles ({_server_message(exc)}); grant it CREATE USER ON *.* and run "
                    "`minicrm init-db` again"]
        for statement in _procedures(database) + _own_row_guard():
            _run(conn, statement)
        for role, statements in grants(database).items():
            name = f"`{role_name(database, role)}`"
            _run(conn, f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {name}")
            for statement in statements:
                _run(conn, f"{statement} TO {name}")
        conn.commit()
    log.info("database roles installed for %s", database)
    return []


def drop_database_roles(conn: Connection, database: str) -> None:
    """Remove the roles of `database` (for tests, and after dropping a database)."""
    for role in Role:
        _run(conn, f"DROP ROLE IF EXISTS `{role_name(database, role)}`")


def roles_installed(conn: Connection) -> bool:
    """Whether this release's procedures are installed (older ones count as missing, so the
    owner's next upgrade replaces them)."""
    found = conn.execute(
        text("SELECT COUNT(*) FROM information_schema.ROUTINES "
             "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = :n "
             "AND ROUTINE_COMMENT = :v"),
        {"n": PROCEDURES[1], "v": ROUTINES_VERSION},
    ).scalar_one()
    return bool(found)


def _run(conn: Connection, statement: str) -> None:
    """Run DDL text as is: through the driver's cursor with no parameters, so the `%` of
    account hosts is not taken for a placeholder."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _server_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    args = getattr(orig, "args", ())
    return str(args[-1]) if args else str(exc).splitlines()[0]


def _own_row_guard() -> list[str]:
    """Column grants let everyone update the sign-in columns of `users`, of every row; this
    trigger keeps a person's account (one named in users.db_account) to its own row unless
    it is an admin's. Accounts no row names (the owner, a server administrator) pass."""
    return [
        "DROP TRIGGER IF EXISTS users_own_row_only",
        f"""CREATE TRIGGER users_own_row_only BEFORE UPDATE ON users FOR EACH ROW
BEGIN
  DECLARE v_mapped INT DEFAULT 0;
  DECLARE v_admin INT DEFAULT 0;
  DECLARE v_me VARCHAR(200) {_TEXT} DEFAULT SUBSTRING_INDEX(SESSION_USER(), '@', 1);
  SELECT COUNT(*), COALESCE(SUM(role = 'admin' AND active), 0) INTO v_mapped, v_admin
    FROM users WHERE db_account = v_me;
  IF v_mapped > 0 AND v_admin = 0 AND NOT (OLD.db_account <=> v_me) THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'only admins change other users';
  END IF;
END""",
    ]


def _procedures(database: str) -> list[str]:
    """The owner's procedures. Each finds the account through `users.db_account` (which
    only the owner writes), so none can reach an account it did not create."""
    roles = {r: role_name(database, r) for r in Role}
    grant_role = "\n".join(
        f"    IF v_role = '{r.value}' THEN SET @minicrm_sql = CONCAT('GRANT `{name}` TO ', "
        f"v_who); END IF;"
        for r, name in roles.items()
    )
    revoke_roles = "\n".join(
        f"      SET @minicrm_sql = CONCAT('REVOKE `{name}` FROM ', v_who); CALL_EXEC"
        for name in roles.values()
    )
    run = "PREPARE minicrm_stmt FROM @minicrm_sql; EXECUTE minicrm_stmt; " \
          "DEALLOCATE PREPARE minicrm_stmt;"
    fail = "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT ="
    lock = (f"    SET @minicrm_sql = CONCAT('ALTER USER ', v_who, IF(v_active, "
            f"' ACCOUNT UNLOCK', ' ACCOUNT LOCK')); {run}")
    create = f"""
CREATE PROCEDURE `minicrm_create_account`(
    IN p_email VARCHAR(320) {_TEXT}, IN p_account VARCHAR(80) {_TEXT},
    IN p_password VARCHAR(200) {_TEXT})
SQL SECURITY DEFINER
COMMENT '{ROUTINES_VERSION}'
BEGIN
  DECLARE v_role VARCHAR(16) {_TEXT} DEFAULT NULL;
  DECLARE v_active INT DEFAULT 1;
  DECLARE v_taken INT DEFAULT 0;
  DECLARE v_created INT DEFAULT 0;
  DECLARE v_who VARCHAR(200) {_TEXT};
  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    IF v_created THEN
      SET @minicrm_sql = CONCAT('DROP USER IF EXISTS ', v_who); {run}
    END IF;
    RESIGNAL;
  END;
  IF p_account IS NULL OR p_account NOT REGEXP '{ACCOUNT_PATTERN}' THEN
    {fail} 'an account name is a-z, then up to 31 of a-z, 0-9 and _';
  END IF;
  IF CHAR_LENGTH(p_password) < 12 THEN
    {fail} 'a database password has at least 12 characters';
  END IF;
  SELECT role, active INTO v_role, v_active FROM users WHERE email = p_email;
  IF v_role IS NULL THEN {fail} 'there is no such user; add them first'; END IF;
  SELECT COUNT(*) INTO v_taken FROM users WHERE email = p_email AND db_account IS NOT NULL;
  IF v_taken THEN {fail} 'this user has a database account already'; END IF;
  SELECT COUNT(*) INTO v_taken FROM users WHERE db_account = p_account;
  IF v_taken THEN {fail} 'another user has this database account'; END IF;
  SET v_who = CONCAT(QUOTE(p_account), '@''%''');
  SET @minicrm_sql = CONCAT('CREATE USER ', v_who, ' IDENTIFIED BY ', QUOTE(p_password));
  {run}
  SET v_created = 1;
  -- A foothold in the database, so connecting with it named works before the role is on.
  SET @minicrm_sql = CONCAT('GRANT SELECT ON `{database}`.`alembic_version` TO ', v_who);
  {run}
{grant_role}
  {run}
{lock}
  UPDATE users SET db_account = p_account WHERE email = p_email;
END"""
    sync = f"""
CREATE PROCEDURE `minicrm_sync_account`(IN p_email VARCHAR(320) {_TEXT})
SQL SECURITY DEFINER
COMMENT '{ROUTINES_VERSION}'
BEGIN
  DECLARE v_account VARCHAR(80) {_TEXT} DEFAULT NULL;
  DECLARE v_role VARCHAR(16) {_TEXT};
  DECLARE v_active INT;
  DECLARE v_who VARCHAR(200) {_TEXT};
  SELECT db_account, role, active INTO v_account, v_role, v_active
    FROM users WHERE email = p_email;
  IF v_account IS NULL THEN {fail} 'this user has no database account'; END IF;
  SET v_who = CONCAT(QUOTE(v_account), '@''%''');
  BEGIN
    DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;  -- a role it did not hold
{revoke_roles.replace("CALL_EXEC", run)}
  END;
{grant_role}
  {run}
{lock}
END"""
    password = f"""
CREATE PROCEDURE `minicrm_set_account_password`(
    IN p_email VARCHAR(320) {_TEXT}, IN p_password VARCHAR(200) {_TEXT})
SQL SECURITY DEFINER
COMMENT '{ROUTINES_VERSION}'
BEGIN
  DECLARE v_account VARCHAR(80) {_TEXT} DEFAULT NULL;
  SELECT db_account INTO v_account FROM users WHERE email = p_email;
  IF v_account IS NULL THEN {fail} 'this user has no database account'; END IF;
  IF CHAR_LENGTH(p_password) < 12 THEN
    {fail} 'a database password has at least 12 characters';
  END IF;
  SET @minicrm_sql = CONCAT('ALTER USER ', QUOTE(v_account), '@''%'' IDENTIFIED BY ',
                            QUOTE(p_password));
  {run}
END"""
    statements: list[str] = []
    for name, body in zip(PROCEDURES, (create, sync, password), strict=True):
        statements += [f"DROP PROCEDURE IF EXISTS `{name}`", body.strip()]
    return statements

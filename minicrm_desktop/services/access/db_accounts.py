"""Each person's own account on a shared MySQL/MariaDB database.

An admin makes it from the Users page or `minicrm users add … --db-account`: the owner's
procedure (db_roles.py) creates the account with a generated password, grants it the
server role of the user's MiniCRM role and records it in `users.db_account`. The password
is shown once; the admin passes it on, and the person keeps it in their keyring. A role
change or a deactivation re-grants or locks the account at once.

At sign-in the app checks that the database account it connected with belongs to the
person signing in, so a borrowed password can't act in someone else's name.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError

from ...models.tables import users_table
from .actor import AccessDenied, Actor, Permission
from .audit import Action, record
from .db_roles import is_schema_owner, is_shared, session_account, valid_account_name

users = users_table
PASSWORD_BYTES = 18  # 24 URL-safe characters
_NOT_NAME = re.compile(r"[^a-z0-9_]+")
# Server errors: SIGNAL from our procedures, CREATE USER on an existing name, and a
# missing EXECUTE (or other) privilege.
_SIGNAL, _USER_EXISTS = 1644, 1396
_DENIED = {1044, 1142, 1143, 1370, 1227}


@dataclass(frozen=True)
class DbCredentials:
    """What the admin passes on, once: the account and its one-time password."""

    email: str
    account: str
    password: str

    def __repr__(self) -> str:  # never print the password by accident
        return f"DbCredentials(email={self.email!r}, account={self.account!r})"


def suggest_account_name(email: str, database: str) -> str:
    """`asha_crm` for asha@example.com on the database `crm`: per server, so the
    database's name keeps two MiniCRM databases' accounts apart."""
    local = _NOT_NAME.sub("_", email.partition("@")[0].lower()).strip("_") or "user"
    if not local[0].isalpha():
        local = "u" + local
    db = _NOT_NAME.sub("_", database.lower()).strip("_")[:12] or "crm"
    return f"{local[:31 - len(db)]}_{db}"


def create_db_account(
    engine: Engine, email: str, *, actor: Actor, account: str | None = None
) -> DbCredentials:
    """Create `email`'s database account (with the role the users table gives them) and
    return its generated password, to be shown once."""
    from .users import UserError, authorize, normalize_email

    email = normalize_email(email)
    require_shared(engine)
    with engine.begin() as conn:
        authorize(conn, actor, Permission.MANAGE_USERS)
        row = conn.execute(select(users.c.db_account).where(users.c.email == email)).first()
        database = str(conn.execute(text("SELECT DATABASE()")).scalar_one())
    if row is None:
        raise UserError(f"there is no user {email}; add them first")
    if row.db_account:
        raise UserError(f"{email} already has the database account {row.db_account}; "
                        "reset its password instead")
    if account is not None and not valid_account_name(account):
        raise UserError(f"{account!r} is not a database account name: a lower-case letter, "
                        "then up to 31 lower-case letters, digits or _")
    base = account or suggest_account_name(email, database)
    # A suggested name taken on the server (another database's user) gets a number.
    names = [base] if account else [base] + [f"{base[:30]}{n}" for n in range(2, 10)]
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    for name in names:
        try:
            _call(engine, "CALL minicrm_create_account(%s, %s, %s)", (email, name, password))
        except _NameTaken:
            continue
        record_change(engine, actor, Action.USER_DB_ACCOUNT, {"email": email, "db_account": name})
        return DbCredentials(email, name, password)
    raise UserError(f"the database account {base} exists on the server already; "
                    "choose another name")


def reset_db_password(engine: Engine, email: str, *, actor: Actor) -> DbCredentials:
    """Give `email`'s database account a new generated password (shown once)."""
    from .users import UserError, authorize, normalize_email

    email = normalize_email(email)
    require_shared(engine)
    with engine.begin() as conn:
        authorize(conn, actor, Permission.MANAGE_USERS)
        account = conn.execute(
            select(users.c.db_account).where(users.c.email == email)).scalar()
    if not account:
        raise UserError(f"{email} has no database account; create one first")
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    _call(engine, "CALL minicrm_set_account_password(%s, %s)", (email, password))
    record_change(engine, actor, Action.USER_DB_PASSWORD, {"email": email, "db_account": account})
    return DbCredentials(email, str(account), password)


def sync_db_account(engine: Engine, email: str) -> None:
    """Make `email`'s database account match their row: the server role of their role,
    locked while they are deactivated. Nothing to do on SQLite or without an account."""
    from .users import UserError

    if not is_shared(engine):
        return
    with engine.connect() as conn:
        account = conn.execute(
            select(users.c.db_account).where(users.c.email == email)).scalar()
    if not account:
        return
    try:
        _call(engine, "CALL minicrm_sync_account(%s)", (email,))
    except (UserError, AccessDenied) as exc:
        raise type(exc)(f"{email}'s change was saved, but their database account "
                        f"{account} could not follow it ({exc}); try again") from None


def record_change(engine: Engine, actor: Actor, action: str, detail: dict[str, Any]) -> None:
    with engine.begin() as conn:
        record(conn, actor, action, detail)


# --- signing in ---------------------------------------------------------------------------


def account_refusal(conn: Connection, email: str, row: Any | None) -> str | None:
    """Why the database account this connection uses may not act as `email` (None when it
    may). `row` is the user's row, or None when they have none yet. SQLite: always None.

    A person's own account (users.db_account) acts only as them. The owner account (the
    one that may change the schema; a server administrator too) is not checked: it can
    do anything in plain SQL anyway, and it is what the founding admin starts with.
    """
    if not is_shared(conn):
        return None
    account = session_account(conn)
    if row is not None and row.db_account == account:
        return None
    if is_schema_owner(conn):
        return None
    if row is not None and row.db_account is None:
        return (f"{email} has no database account of their own yet, and {account} belongs "
                "to someone else. Ask an admin to create yours on the Users page.")
    return (f"The database account {account} belongs to another MiniCRM user, not to "
            f"{email}. Connect with your own database account (ask an admin to create "
            "one on the Users page).")


# --- helpers ------------------------------------------------------------------------------


class _NameTaken(Exception):
    pass


def require_shared(engine: Engine) -> None:
    from .users import UserError

    if not is_shared(engine):
        raise UserError("database accounts are for a database shared over MySQL/MariaDB; "
                        "this one is an embedded SQLite file")


def _call(engine: Engine, statement: str, params: tuple[str, ...]) -> None:
    """Call one of the owner's procedures. Its error becomes a clear message; the
    statement's parameters (a password) never appear in it."""
    from .users import UserError

    try:
        with engine.begin() as conn:
            secret_execute(conn, statement, params)
    except DBAPIError as exc:
        args = getattr(exc.orig, "args", ())
        code = args[0] if args else None
        message = str(args[-1]) if args else "the database refused"
        if code == _USER_EXISTS:
            raise _NameTaken() from None
        if code in _DENIED:
            raise AccessDenied(
                f"your database account may not manage database accounts ({message}). "
                "Ask the database's owner to run `minicrm init-db` (it installs the "
                "account procedures), and connect with an admin's account."
            ) from None
        if code == _SIGNAL:
            raise UserError(message) from None
        raise UserError(f"the database refused: {message}") from None


def secret_execute(conn: Connection, statement: str, params: tuple[str, ...]) -> None:
    """Run a statement with bound parameters through the driver's own cursor, which
    SQLAlchemy's statement logging (on with --debug) does not see: a password passed
    here reaches no log. Driver errors come back as SQLAlchemy's DBAPIError."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError(statement, None, exc) from None
    finally:
        cursor.close()

"""Who may sign in, and with which role: `admit()` at sign-in, and the admin's tools
(add a user, change a role, deactivate, allow a domain).

Over 400 lines on purpose: every rule about who may sign in is here, beside the checks
that enforce it, so admitting and administering cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...errors import MiniCRMError
from ...models.base import utcnow
from ...models.tables import allowed_domains_table, users_table
from ...models.user import EMAIL_LEN, USER_NAME_LEN
from .actor import AccessDenied, Actor, Permission, Role, require
from .audit import Action, record, record_as
from .db_accounts import account_refusal, sync_db_account
from .db_roles import is_schema_owner, is_shared
from .identity import GOOGLE_ISSUER
from .trust import (
    canonical_issuer,
    close_founding,
    founding_open,
    issuer_refusal,
    lock_founding,
)

if TYPE_CHECKING:
    from .identity import Identity

users = users_table
domains = allowed_domains_table
_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
_ADMIT_ATTEMPTS = 3
#: Who the audit log names for the operator's `users add --operator` (no account, no sign-in).
OPERATOR = "operator"


class UserError(MiniCRMError):
    """An admin's request that cannot be done as asked."""

    exit_code = 2


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str
    role: Role
    active: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    added_by: str | None
    db_account: str | None = None  # their own account on a shared database


@dataclass(frozen=True)
class DomainRow:
    domain: str
    role: Role
    added_by: str | None
    created_at: datetime


# --- signing in --------------------------------------------------------------------------


def admit(engine: Engine, identity: Identity) -> Actor:
    """The actor a verified identity signs in as, or AccessDenied with the reason.

    An account is an (issuer, subject) pair; its email is a label. A token from a provider
    this database does not trust is refused. An email an admin added (or that an allowed
    domain covers) is an invitation: the first (issuer, subject) to claim it binds it, and
    any other account with that email is refused afterwards. The first sign-in founds the
    database as admin only while its founding is open (see trust.py). Every sign-in and
    refusal is audited.
    """
    email = identity.email.strip().lower()
    for _ in range(_ADMIT_ATTEMPTS):
        try:
            with engine.begin() as conn:
                outcome = _admit(conn, identity, email)
        except (IntegrityError, _Raced):
            # Another sign-in took the founder slot, this email or this invitation first.
            continue
        if isinstance(outcome, Actor):
            return outcome
        with engine.begin() as conn:
            record_as(conn, None, email, Action.SIGN_IN_REFUSED,
                      {"reason": outcome, "issuer": identity.issuer,
                       "subject": identity.subject})
        raise AccessDenied(outcome)
    raise AccessDenied("signing in failed repeatedly because of concurrent sign-ins; try again")


class _Raced(Exception):
    """A concurrent sign-in changed the row this one was about to claim."""


def _admit(conn: Connection, identity: Identity, email: str) -> Actor | str:
    """Admit in the caller's transaction: an Actor, or the refusal's message."""
    issuer = canonical_issuer(identity.issuer)
    refusal = issuer_refusal(conn, issuer)
    if refusal is not None:
        return refusal
    now = utcnow()
    u = users.c
    row = conn.execute(
        select(users).where(u.issuer == issuer, u.subject == identity.subject)
    ).first()
    if row is not None:
        refusal = account_refusal(conn, email, row)  # on a shared database: whose account?
        if refusal is not None:
            return refusal
        return _sign_in_account(conn, row, identity, email, issuer, now)
    row = conn.execute(select(users).where(u.email == email)).first()
    refusal = account_refusal(conn, email, row)  # on a shared database: whose account?
    if refusal is not None:
        return refusal
    if row is not None:
        return _claim(conn, row, identity, email, issuer, now)
    if founding_open(conn) and conn.execute(select(u.id).limit(1)).first() is None:
        # The founder slot is unique: of two racing first sign-ins, one insert fails.
        actor = _insert_user(conn, identity, issuer, email, Role.ADMIN, now, founder=1,
                             added_by=None)
        close_founding(conn)
        record(conn, actor, Action.SIGN_IN, {"issuer": issuer, "first_admin": True})
        return actor
    domain = email.rpartition("@")[2]
    allowed = conn.execute(select(domains.c.role).where(domains.c.domain == domain)).first()
    if allowed is None:
        return (f"{email} may not use this MiniCRM database. Ask one of its admins to add "
                f"you on the Users page, or to allow the domain {domain}.")
    actor = _insert_user(conn, identity, issuer, email, Role(allowed.role), now,
                         founder=None, added_by=f"domain {domain}")
    record(conn, actor, Action.SIGN_IN, {"issuer": issuer, "via_domain": domain})
    return actor


def _sign_in_account(
    conn: Connection, row: Any, identity: Identity, email: str, issuer: str, now: datetime
) -> Actor | str:
    """The account's own (issuer, subject) is back: its email label follows the provider's
    unless another account holds that address."""
    if not row.active:
        return (f"The account {row.email} has been deactivated — ask an admin of this "
                "MiniCRM to reactivate it.")
    values: dict[str, Any] = {"last_sign_in_at": now}
    if not row.name and identity.name:
        values["name"] = identity.name[:USER_NAME_LEN]
    detail: dict[str, Any] = {"issuer": issuer}
    if email != row.email:
        taken = conn.execute(select(users.c.id).where(users.c.email == email)).first()
        if taken is None:
            values["email"] = email
            detail["email_was"] = row.email
    conn.execute(update(users).where(users.c.id == row.id).values(values))
    actor = Actor(int(row.id), values.get("email", row.email), values.get("name", row.name),
                  Role(row.role))
    record(conn, actor, Action.SIGN_IN, detail)
    return actor


def _claim(
    conn: Connection, row: Any, identity: Identity, email: str, issuer: str, now: datetime
) -> Actor | str:
    """An account with this email but another (or no) identity: an invitation binds to its
    first claimant; one already bound refuses everybody else."""
    legacy = row.issuer is None and row.subject is not None  # bound before issuers counted
    if row.issuer is not None or (legacy and row.subject != identity.subject):
        return (f"{email} already belongs to another account on this MiniCRM database, "
                f"so this {_provider(issuer)} account may not use it. Sign in with the "
                "account that first used this address, or ask an admin.")
    if not row.active:
        return (f"The account {email} has been deactivated — ask an admin of this "
                "MiniCRM to reactivate it.")
    values: dict[str, Any] = {"issuer": issuer, "subject": identity.subject,
                              "last_sign_in_at": now}
    if not row.name and identity.name:
        values["name"] = identity.name[:USER_NAME_LEN]
    # Only while still unclaimed: of two claimants racing, the second updates nothing.
    claimed = conn.execute(
        update(users).where(users.c.id == row.id, users.c.issuer.is_(None)).values(values)
    ).rowcount
    if claimed != 1:
        raise _Raced
    actor = Actor(int(row.id), email, values.get("name", row.name), Role(row.role))
    record(conn, actor, Action.SIGN_IN, {"issuer": issuer, "claimed": True})
    return actor


def _provider(issuer: str) -> str:
    return "Google" if issuer == GOOGLE_ISSUER else issuer


def _insert_user(
    conn: Connection, identity: Identity, issuer: str, email: str, role: Role, now: datetime,
    *, founder: int | None, added_by: str | None,
) -> Actor:
    key = conn.execute(
        insert(users).values(
            email=email, name=identity.name[:USER_NAME_LEN], role=role.value, active=True,
            founder=founder, issuer=issuer, subject=identity.subject, added_by=added_by,
            created_at=now, last_sign_in_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    return Actor(int(key[0]), email, identity.name[:USER_NAME_LEN], role)


def add_first_admin(engine: Engine, email: str, *, name: str = "") -> UserRow:
    """The operator's way in (whoever holds the database's credentials, no sign-in): name
    the first admin of a database that has no active admin, e.g. one upgraded from a
    release without users. The email is an invitation like any other. Refused once the
    database has an active admin: from then on admins manage users."""
    email = normalize_email(email)
    if len(name) > USER_NAME_LEN:
        raise UserError(f"a name has at most {USER_NAME_LEN} characters")
    u = users.c
    with engine.begin() as conn:
        lock_founding(conn)
        admins = conn.execute(
            select(u.email).where(u.role == Role.ADMIN.value, u.active.is_(True)).limit(1)
        ).first()
        if admins is not None:
            raise UserError(f"this database already has an active admin ({admins.email}); "
                            "an admin adds users after signing in")
        existing = conn.execute(select(users).where(u.email == email)).first()
        if existing is None:
            conn.execute(insert(users).values(
                email=email, name=name.strip(), role=Role.ADMIN.value, active=True,
                added_by=OPERATOR, created_at=utcnow(),
            ))
        else:
            conn.execute(update(users).where(u.id == existing.id)
                         .values(role=Role.ADMIN.value, active=True))
        close_founding(conn)
        record_as(conn, None, OPERATOR, Action.USER_ADD,
                  {"email": email, "role": Role.ADMIN.value, "operator": True})
        return _get(conn, email)


def current_actor(engine: Engine | Connection, actor: Actor) -> Actor:
    """The actor as the database sees them now: a role changed or an account deactivated
    since sign-in takes effect at once. The local admin (no user row) is returned as is."""
    if actor.user_id is None:
        if is_shared(engine) and not _owner_connection(engine):
            # The local admin and scheduled work stand for no one: on a database shared
            # over MySQL every change has a signed-in person behind it. (The owner account,
            # like a server administrator, could do anything in plain SQL anyway.)
            raise AccessDenied(f"{actor.name} can't change a database shared over MySQL: "
                               "sign in, and act as yourself.")
        return actor
    stmt = select(users.c.role, users.c.active).where(users.c.id == actor.user_id)
    if isinstance(engine, Connection):
        row = engine.execute(stmt).first()
    else:
        with engine.connect() as conn:
            row = conn.execute(stmt).first()
    if row is None or not row.active:
        raise AccessDenied(f"The account {actor.email} has been deactivated — ask an admin "
                           "to reactivate it.")
    role = Role(row.role)
    return actor if role is actor.role else Actor(actor.user_id, actor.email, actor.name, role)


def _owner_connection(engine: Engine | Connection) -> bool:
    if isinstance(engine, Connection):
        return is_schema_owner(engine)
    with engine.connect() as conn:
        return is_schema_owner(conn)


def authorize(engine: Engine | Connection, actor: Actor, permission: Permission) -> Actor:
    """Check `permission` against the role the actor holds now (not at sign-in)."""
    require(actor, permission)
    now = current_actor(engine, actor)
    require(now, permission)
    return now


# --- the admin's tools -------------------------------------------------------------------


def list_users(engine: Engine, *, actor: Actor) -> list[UserRow]:
    require(actor, Permission.MANAGE_USERS)
    with engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.email)).all()
    return [_user(r._mapping) for r in rows]


def add_user(
    engine: Engine, email: str, *, role: Role, name: str = "", actor: Actor
) -> UserRow:
    """Let `email` sign in with `role`. An existing account (even a deactivated one) is
    refused: change its role or reactivate it instead."""
    email = normalize_email(email)
    role = Role(role)
    if len(name) > USER_NAME_LEN:
        raise UserError(f"a name has at most {USER_NAME_LEN} characters")
    with engine.begin() as conn:
        authorize(conn, actor, Permission.MANAGE_USERS)
        try:  # the unique email refuses a second account
            conn.execute(insert(users).values(
                email=email, name=name.strip(), role=role.value, active=True,
                added_by=actor.email, created_at=utcnow(),
            ))
        except IntegrityError:
            raise UserError(f"{email} is already a user; change their role instead") from None
        record(conn, actor, Action.USER_ADD, {"email": email, "role": role.value})
        return _get(conn, email)


def set_role(engine: Engine, email: str, role: Role, *, actor: Actor) -> UserRow:
    email = normalize_email(email)
    role = Role(role)
    with engine.begin() as conn:
        authorize(conn, actor, Permission.MANAGE_USERS)
        before = _get(conn, email)
        if before.role is not role:
            if before.role is Role.ADMIN and before.active:
                _keep_an_admin(conn, email, "change the role of")
            conn.execute(update(users).where(users.c.email == email).values(role=role.value))
            record(conn, actor, Action.USER_ROLE,
                   {"email": email, "from": before.role.value, "to": role.value})
    # After the commit: the server's GRANT would commit a transaction half-way. Run for
    # an unchanged role too, to mend an account a failed change left behind.
    sync_db_account(engine, email)
    return replace(before, role=role)


def set_active(engine: Engine, email: str, active: bool, *, actor: Actor) -> UserRow:
    """Deactivate (they can no longer sign in, and their open session stops working)
    or reactivate an account. Accounts are never deleted: the audit log names them."""
    email = normalize_email(email)
    with engine.begin() as conn:
        authorize(conn, actor, Permission.MANAGE_USERS)
        before = _get(conn, email)
        if before.active == active:
            return before
        if not active and before.role is Role.ADMIN:
            _keep_an_admin(conn, email, "deactivate")
        conn.execute(update(users).where(users.c.email == email).values(active=active))
        record(conn, actor, Action.USER_ACTIVATE if active else Action.USER_DEACTIVATE,
               {"email": email})
    sync_db_account(engine, email)  # a deactivated person's database account is locked
    return replace(before, active=active)


def deactivate_user(engine: Engine, email: str, *, actor: Actor) -> UserRow:
    return set_active(engine, email, False, actor=actor)


def list_domains(engine: Engine, *, actor: Actor) -> list[DomainRow]:
    require(actor, Permission.MANAGE_USERS)
    with engine.connect() as conn:
        rows = conn.execute(select(domains).order_by(domains.c.domain)).all()
    return [DomainRow(r.domain, Role(r.role), r.added_by, r.created_at) for r in rows]


def allow_domain(
    engine: Engine, domain: str, *, role: Role = Role.VIEWER, actor: Actor
) -> DomainRow:
    """Anyone with a verified address at `domain` may sign in, as `role` (viewer unless
    the admin chooses otherwise). Allowing a domain again changes its role."""
    domain = normalize_domain(domain)
    role = Role(role)
    now = utcnow()
    with engine.begin() as conn:
        authorize(conn, actor, Permission.MANAGE_USERS)
        existing = conn.execute(select(domains).where(domains.c.domain == domain)).first()
        if existing is None:
            try:
                conn.execute(insert(domains).values(domain=domain, role=role.value,
                                                    added_by=actor.email, created_at=now))
            except IntegrityError:
                raise UserError(f"{domain} was allowed by someone else just now") from None
        else:
            conn.execute(update(domains).where(domains.c.domain == domain)
                         .values(role=role.value))
        record(conn, actor, Action.DOMAIN_ALLOW, {"domain": domain, "role": role.value})
        row = conn.execute(select(domains).where(domains.c.domain == domain)).one()
    return DomainRow(row.domain, Role(row.role), row.added_by, row.created_at)


def remove_domain(engine: Engine, domain: str, *, actor: Actor) -> None:
    """Members of `domain` no longer get in unless added one by one (existing accounts
    stay as they are; deactivate them separately)."""
    domain = normalize_domain(domain)
    with engine.begin() as conn:
        authorize(conn, actor, Permission.MANAGE_USERS)
        # Domains are settings, not history: removing one is a real delete, audited.
        gone = conn.execute(domains.delete().where(domains.c.domain == domain)).rowcount
        if not gone:
            raise UserError(f"{domain} is not an allowed domain")
        record(conn, actor, Action.DOMAIN_REMOVE, {"domain": domain})


def normalize_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > EMAIL_LEN or not _EMAIL.match(cleaned):
        raise UserError(f"{email.strip()!r} is not an email address (name@example.com)")
    return cleaned


def normalize_domain(domain: str) -> str:
    cleaned = domain.strip().lower().removeprefix("@")
    if len(cleaned) > 253 or not _DOMAIN.match(cleaned):
        raise UserError(f"{domain.strip()!r} is not a domain name (example.com)")
    return cleaned


def _keep_an_admin(conn: Connection, email: str, verb: str) -> None:
    u = users.c
    others = conn.execute(
        select(func.count()).where(u.role == Role.ADMIN.value, u.active.is_(True),
                                   u.email != email)
    ).scalar_one()
    if not others:
        raise UserError(f"can't {verb} {email}: they are the only active admin. "
                        "Make someone else an admin first.")


def _get(conn: Connection, email: str) -> UserRow:
    row = conn.execute(select(users).where(users.c.email == email)).first()
    if row is None:
        raise UserError(f"there is no user {email}; add them first")
    return _user(row._mapping)


def _user(m: Any) -> UserRow:
    return UserRow(
        id=int(m["id"]),
        email=m["email"],
        name=m["name"],
        role=Role(m["role"]),
        active=bool(m["active"]),
        created_at=m["created_at"],
        last_sign_in_at=m["last_sign_in_at"],
        added_by=m["added_by"],
        db_account=m["db_account"],
    )


def session_actor(engine: Engine, identity: Identity) -> Actor:
    """The actor of a remembered session (the command line's): the identity's active user
    account, found by (issuer, subject), read without recording a new sign-in."""
    email = identity.email.strip().lower()
    issuer = canonical_issuer(identity.issuer)
    with engine.connect() as conn:
        refusal = issuer_refusal(conn, issuer)
        row = conn.execute(select(users).where(users.c.issuer == issuer,
                                               users.c.subject == identity.subject)).first()
        refusal = refusal or account_refusal(conn, email, row)
    if refusal is not None:
        raise AccessDenied(refusal)
    if row is None:
        raise AccessDenied(f"{email} has no account on this database yet: sign in with "
                           "`minicrm login` (or the desktop app) first")
    if not row.active:
        raise AccessDenied(f"The account {row.email} has been deactivated — ask an admin to "
                           "reactivate it.")
    return Actor(int(row.id), row.email, row.name, Role(row.role))

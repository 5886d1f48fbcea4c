"""The acting user as services see it, what each role may do, and the error a refused
action raises. Plain data and no database: views ask `can()` to grey out what a role may
not do, services call `require()` before doing it (the check that counts)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from minicrm_desktop.errors import MiniCRMError


class Role(enum.StrEnum):
    ADMIN = "admin"  # users, settings, everything
    MARKETER = "marketer"  # segments, campaigns, imports
    VIEWER = "viewer"  # read-only


class AccessDenied(MiniCRMError):
    """The signed-in user may not do this, or may not sign in at all."""

    exit_code = 3


@dataclass(frozen=True)
class Actor:
    """Who is acting. `user_id` is None for the local single-user mode (no sign-in)."""

    user_id: int | None
    email: str
    name: str
    role: Role

    @property
    def account_email(self) -> str | None:
        """The email to name as a record's author: None for the local user (no account)."""
        return self.email if self.user_id is not None else None


LOCAL_ADMIN = Actor(user_id=None, email="local", name="Local user", role=Role.ADMIN)

# The app itself finishing work a user already authorised: launching a campaign at the
# time it was scheduled for, and resuming campaigns a crash interrupted. Whoever has the
# app open when that happens (even a viewer) must not block it.
SYSTEM = Actor(user_id=None, email="system", name="MiniCRM (scheduled work)", role=Role.MARKETER)


class Permission(enum.StrEnum):
    """One per kind of change; the value completes "… can't {value}"."""

    IMPORT_DATA = "import data"
    EDIT_CUSTOMERS = "edit customers"
    SEED_DEMO_DATA = "add demo data"
    EDIT_SEGMENTS = "change segments"
    CREATE_CAMPAIGNS = "create or schedule campaigns"
    LAUNCH_CAMPAIGNS = "launch campaigns"
    CONTROL_CAMPAIGNS = "pause, resume or cancel campaigns"
    MANAGE_USERS = "manage users"
    CHANGE_SETTINGS = "change shared settings"
    VIEW_AUDIT = "read the audit log"


_MARKETING = frozenset(
    {
        Permission.IMPORT_DATA,
        Permission.EDIT_CUSTOMERS,
        Permission.EDIT_SEGMENTS,
        Permission.CREATE_CAMPAIGNS,
        Permission.LAUNCH_CAMPAIGNS,
        Permission.CONTROL_CAMPAIGNS,
    }
)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MARKETER: _MARKETING,
    Role.VIEWER: frozenset(),
}

_PLURAL = {Role.ADMIN: "Admins", Role.MARKETER: "Marketers", Role.VIEWER: "Viewers"}


def can(actor: Actor, permission: Permission) -> bool:
    return permission in PERMISSIONS[actor.role]


def least_role_for(permission: Permission) -> Role:
    """The smallest role that has `permission` (for the "ask an admin for …" hint)."""
    for role in (Role.VIEWER, Role.MARKETER, Role.ADMIN):
        if permission in PERMISSIONS[role]:
            return role
    return Role.ADMIN  # pragma: no cover - admins hold every permission


def denial_message(actor: Actor, permission: Permission) -> str:
    who = _PLURAL[actor.role]
    needed = least_role_for(permission)
    if needed is Role.ADMIN:
        return f"{who} can't {permission.value} — only an admin can."
    return f"{who} can't {permission.value} — ask an admin for the {needed.value} role."


def require(actor: Actor, permission: Permission) -> None:
    """Raise AccessDenied unless the actor's role allows `permission`."""
    if not can(actor, permission):
        raise AccessDenied(denial_message(actor, permission))

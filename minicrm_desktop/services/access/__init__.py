"""Who may do what: users, roles, the checks services make, and the audit log."""

from .actor import LOCAL_ADMIN, SYSTEM, AccessDenied, Actor, Permission, Role, can, require

__all__ = [
    "LOCAL_ADMIN",
    "SYSTEM",
    "AccessDenied",
    "Actor",
    "Permission",
    "Role",
    "can",
    "require",
]

"""Changing a setting that affects what the app trusts or connects to (TLS for the shared
server, the sign-in provider…): admins only, and audited. Personal preferences (window
layout, last page) are not routed through here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine

from minicrm_desktop.services.core.settings import Option, Settings

from .actor import Actor, Permission
from .audit import Action, record
from .users import authorize

T = TypeVar("T")


SettingChange = tuple[Option[Any], object, object]  # (option, old value, new value)


def authorize_setting_change(
    engine: Engine, option: Option[Any], old: object, new: object, *, actor: Actor,
    secret: bool = False,
) -> bool:
    """Check that the actor may change `option` and audit the change (naming the setting
    but not its value when `secret`). False when nothing changes. The caller stores the
    value afterwards, on its own thread (QSettings objects are not shared across threads)."""
    return authorize_setting_changes(engine, [(option, old, new)], actor=actor, secret=secret)


def authorize_setting_changes(
    engine: Engine, changes: Sequence[SettingChange], *, actor: Actor, secret: bool = False,
) -> bool:
    """`authorize_setting_change` for settings saved together: one role check, and an
    audit entry for each that changes, in one transaction. False when none changes."""
    changed = False
    with engine.begin() as conn:
        authorize(conn, actor, Permission.CHANGE_SETTINGS)
        for option, old, new in changes:
            if old == new:
                continue
            detail: dict[str, object] = {"setting": option.key, "title": option.title}
            if not secret:
                detail.update({"from": old, "to": new})
            record(conn, actor, Action.SETTING_CHANGE, detail)
            changed = True
    return changed


def change_setting(
    engine: Engine, settings: Settings, option: Option[T], value: T, *, actor: Actor,
    secret: bool = False,
) -> None:
    """Check, audit, then store `value` (for callers that own `settings` on this thread)."""
    if authorize_setting_change(engine, option, settings.get(option), value, actor=actor,
                                secret=secret):
        settings.set(option, value)
        settings.sync()

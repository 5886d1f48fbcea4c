"""Settings sections change what the app trusts or talks to (the AI server, the sign-in
provider): the role check and the audit entry run in a task, then the value is stored on
the GUI thread, which owns the settings object."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.access.settings_changes import (
    SettingChange,
    authorize_setting_changes,
)
from minicrm_desktop.services.core.settings import Option
from minicrm_desktop.services.core.tasks import TaskRunner

ADMINS_ONLY = "Only an admin can change these settings."


@dataclass(frozen=True)
class SettingChanges:
    engine: Engine
    runner: TaskRunner
    actor: Actor

    @property
    def allowed(self) -> bool:
        return can(self.actor, Permission.CHANGE_SETTINGS)

    def change(self, option: Option[Any], old: object, new: object, *,
               then: Callable[[], None], failed: Callable[[str], None],
               secret: bool = False) -> None:
        """Check and audit the change of `option` from `old` to `new`, then call `then`
        (which stores it); a refusal or database error goes to `failed` as a message."""
        self._run([(option, old, new)], f"Saving “{option.title}”",
                  lambda changed: then() if changed else None, failed, secret=secret,
                  quiet=True)

    def change_all(self, changes: Sequence[SettingChange], *, title: str,
                   then: Callable[[], None], failed: Callable[[str], None]) -> None:
        """Check and audit settings saved together (one role check), then call `then`
        (which stores them) whether or not any changed; errors as in `change`."""
        self._run(changes, title, lambda _changed: then(), failed)

    def _run(self, changes: Sequence[SettingChange], title: str,
             done: Callable[[bool], None], failed: Callable[[str], None], *,
             secret: bool = False, quiet: bool = False) -> None:
        engine, actor, changes = self.engine, self.actor, list(changes)

        def error(exc: BaseException) -> None:
            if isinstance(exc, MiniCRMError):
                failed(str(exc))
            else:
                sys.excepthook(type(exc), exc, exc.__traceback__)

        self.runner.run(
            lambda _ctx: authorize_setting_changes(engine, changes, actor=actor, secret=secret),
            title=title, on_success=done, on_error=error, quiet=quiet)

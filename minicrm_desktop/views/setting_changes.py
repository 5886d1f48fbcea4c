"""Settings sections change what the app trusts or talks to (the AI server, the sign-in
provider): the role check and the audit entry run in a task, then the value is stored on
the GUI thread, which owns the settings object."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.access.actor import Actor, Permission, can
from minicrm_desktop.services.access.settings_changes import authorize_setting_change
from minicrm_desktop.services.settings import Option
from minicrm_desktop.services.tasks import TaskRunner

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
        engine, actor = self.engine, self.actor

        def done(changed: bool) -> None:
            if changed:
                then()

        def error(exc: BaseException) -> None:
            if isinstance(exc, MiniCRMError):
                failed(str(exc))
            else:
                sys.excepthook(type(exc), exc, exc.__traceback__)

        self.runner.run(
            lambda _ctx: authorize_setting_change(engine, option, old, new, actor=actor,
                                                  secret=secret),
            title=f"Saving “{option.title}”", on_success=done, on_error=error, quiet=True)

"""Who uses the app this time, asked once at start-up. Kept apart from the sign-in dialog
so that a start without sign-in (the embedded database) does not load the dialog and the
OAuth client (start-up time, benchmarks/startup.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.access.actor import Actor

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

    from minicrm_desktop.services.core.secrets import SecretStore
    from minicrm_desktop.services.core.settings import Settings


def sign_in_at_start(
    url: URL, settings: Settings, prepare: Callable[[Engine], object], *,
    secrets: Callable[[], SecretStore] | None = None,
) -> Actor | None:
    """Who uses the app this time: the local admin (embedded database, no OAuth client), or
    whoever signs in through the window. None when the user quits instead. A shared MySQL
    database without an OAuth client offers to choose its client-secrets file first."""
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.services.auth import requires_sign_in, resolve_oauth_config
    from minicrm_desktop.services.core.bus import EventBus
    from minicrm_desktop.services.core.database import MysqlTls, create_db_engine, is_sqlite
    from minicrm_desktop.services.core.secrets import default_secret_store

    config = resolve_oauth_config(settings)
    if config is None and not is_sqlite(url):
        if not _choose_client_for_mysql(settings):
            return None
        config = resolve_oauth_config(settings)
    if not requires_sign_in(url, config):
        return LOCAL_ADMIN
    assert config is not None
    from minicrm_desktop.services.core.heap import resume_gc
    from minicrm_desktop.services.core.tasks import TaskRunner

    resume_gc()  # the sign-in window may stay open for long: collect as usual meanwhile
    from minicrm_desktop.views.access.sign_in_dialog import SignInDialog

    engine = create_db_engine(url, tls=MysqlTls.configured(settings))
    runner = TaskRunner(EventBus())
    try:
        dialog = SignInDialog(config, engine, runner, (secrets or default_secret_store)(),
                              prepare_database=lambda: prepare(engine))
        QTimer.singleShot(0, dialog.restore)
        dialog.exec()
        return dialog.actor
    finally:
        runner.shutdown()
        engine.dispose()


def _choose_client_for_mysql(settings: Settings) -> bool:
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from minicrm_desktop.services.auth import GOOGLE_CLIENT_SECRETS, load_client_secrets

    while True:
        answer = QMessageBox.question(
            None, "Sign-in required — MiniCRM",
            "This database is shared over MySQL, so everyone signs in with Google, and no "
            "OAuth client is configured yet.\n\nChoose the client-secrets JSON of the "
            "\"Desktop app\" OAuth client your admin created?",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Close)
        if answer != QMessageBox.StandardButton.Open:
            return False
        name, _ = QFileDialog.getOpenFileName(None, "OAuth client secrets — MiniCRM",
                                              str(Path.home()), "JSON files (*.json)")
        if not name:
            continue
        try:
            load_client_secrets(Path(name))
        except MiniCRMError as exc:
            QMessageBox.warning(None, "MiniCRM", str(exc))
            continue
        settings.set(GOOGLE_CLIENT_SECRETS, name)
        settings.sync()
        return True

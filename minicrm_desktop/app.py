"""The desktop app's composition root: `bootstrap()` builds everything, `run_gui()` runs it.

Start-up stays fast by showing the window first: opening and migrating the database (which
imports Alembic and may talk to a remote server) runs as the first background task, and the
pages start querying when the bus says `database_ready`. An unreachable database ends in a
clear message, never a traceback.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from minicrm_desktop.services.access.actor import LOCAL_ADMIN, SYSTEM, Actor

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

    from minicrm_desktop.services.campaigns.email import EmailDefaults
    from minicrm_desktop.services.campaigns.engine import DeliveryEngine
    from minicrm_desktop.services.core.bus import EventBus
    from minicrm_desktop.services.core.secrets import SharedSecretStore
    from minicrm_desktop.services.core.settings import Settings
    from minicrm_desktop.services.core.tasks import TaskRunner
    from minicrm_desktop.views.campaigns.control import CampaignControl
    from minicrm_desktop.views.shell.main_window import MainWindow

log = logging.getLogger("minicrm_desktop")
LOG_FILE_NAME = "minicrm.log"


@dataclass(frozen=True)
class OpenResult:
    """What opening the database found out (plain data, crosses threads)."""

    is_empty: bool


@dataclass
class AppContext:
    url: URL | str  # a plain `sqlite:///FILE` stays a string (see bootstrap)
    engine: Engine
    bus: EventBus
    runner: TaskRunner
    settings: Settings
    window: MainWindow
    campaigns: CampaignControl
    actor: Actor = LOCAL_ADMIN  # who signed in; the local admin in single-user mode
    #: Starts opening the database on a worker (bootstrap calls it unless told to wait).
    start_opening: Callable[[], None] = lambda: None

    def shutdown(self) -> None:
        """Stop background work and close the database; nothing outlives the window.
        Delivery stops first (its writer records every outcome), then the tasks."""
        self.campaigns.shutdown()
        self.runner.shutdown()
        self.engine.dispose()


def open_database(engine: Engine) -> OpenResult:
    """Connect, migrate to the newest schema, and say whether there are customers yet.
    Runs on a worker thread; the first use of the app's engine, which makes it."""
    from sqlalchemy import select

    from minicrm_desktop.models.tables import customers_table
    from minicrm_desktop.services.core.database import check_connection
    from minicrm_desktop.services.core.deferred_engine import real_engine
    from minicrm_desktop.services.core.schema_version import schema_is_current

    engine = real_engine(engine)  # Alembic's env.py checks its type
    check_connection(engine)
    # One query says whether the schema is current; Alembic (a third of a second to import,
    # with its migration scripts) runs only when it is not.
    if not schema_is_current(engine):
        from minicrm_desktop.services.core.migrate import upgrade_to_head

        upgrade_to_head(engine)
    with engine.connect() as conn:
        first = conn.execute(select(customers_table.c.id).limit(1)).first()
    return OpenResult(is_empty=first is None)


def _sqlite_engine(url: str) -> Engine:
    """The engine of a `sqlite:///FILE` URL (a DeferredEngine's maker: runs in the task that
    opens the database). The URL goes through the same checks as any other."""
    from minicrm_desktop.services.core.database import create_db_engine, resolve_database_url

    return create_db_engine(resolve_database_url(url))


def email_defaults(settings: Settings) -> EmailDefaults:
    """A new email campaign's sender and footer, from Settings (loaded when first asked)."""
    from minicrm_desktop.services.campaigns.email import EmailDefaults

    return EmailDefaults.from_settings(settings)


def delivery_engine(engine: Engine) -> DeliveryEngine:
    """The app's delivery engine, made (and its modules loaded) when first needed."""
    from minicrm_desktop.services.campaigns.engine import DeliveryEngine
    from minicrm_desktop.services.campaigns.vendor import default_ledger_path

    return DeliveryEngine(engine, ledger_path=default_ledger_path())


def bootstrap(
    url: URL | str,
    *,
    settings: Settings | None = None,
    offer_demo: bool = True,
    actor: Actor = LOCAL_ADMIN,
    secrets: SharedSecretStore | None = None,
    open_now: bool = True,
) -> AppContext:
    """Build the engine, bus, runner, settings and main window, and start opening the
    database (or, with `open_now=False`, leave that to `ctx.start_opening()`: the app
    calls it once the window is painted). Tests call this with their own URL and a
    dict-backed settings store.

    A plain `sqlite:///FILE` string gets a DeferredEngine: the window is then built, and
    painted, before SQLAlchemy is imported; the task that opens the database makes the
    engine. Any other URL is parsed (and its engine made) here."""
    from minicrm_desktop.services.core.bus import EventBus
    from minicrm_desktop.services.core.deferred_engine import DeferredEngine, sqlite_file
    from minicrm_desktop.services.core.heap import freeze_long_lived
    from minicrm_desktop.services.core.redact import scrub
    from minicrm_desktop.services.core.secrets import SharedSecretStore as SharedStore
    from minicrm_desktop.services.core.settings import QSettingsStore
    from minicrm_desktop.services.core.settings import Settings as SettingsClass
    from minicrm_desktop.services.core.tasks import TaskRunner
    from minicrm_desktop.views.campaigns.control import CampaignControl
    from minicrm_desktop.views.settings.account import install_account_ui
    from minicrm_desktop.views.shell.main_window import MainWindow, Services

    settings = settings or SettingsClass(QSettingsStore())
    file = sqlite_file(url)
    engine: Engine
    if file is not None:
        engine = cast("Engine", DeferredEngine(partial(_sqlite_engine, str(url))))
        description, sqlite = f"Embedded database {file}", True
    else:
        from sqlalchemy.engine import make_url

        from minicrm_desktop.services.core.database import (
            MysqlTls,
            create_db_engine,
            describe_url,
            is_sqlite,
        )

        url = make_url(url) if isinstance(url, str) else url
        engine = create_db_engine(url, tls=MysqlTls.configured(settings))
        description, sqlite = describe_url(url), is_sqlite(url)
    bus = EventBus()
    runner = TaskRunner(bus)
    campaigns = CampaignControl(engine, runner, bus, partial(delivery_engine, engine),
                                scheduler=SYSTEM if sqlite else actor)
    campaigns.email_defaults = partial(email_defaults, settings)
    try:
        window = MainWindow(Services(engine, bus, runner, settings, description, campaigns,
                                     actor=actor, secrets=secrets or SharedStore()))
        install_account_ui(window, actor, settings, runner)
    except BaseException:
        # No window (a resource missing...): stop the delivery writer thread and the pool
        # now, or Qt aborts the process when their objects go ("QThread: Destroyed while
        # thread is still running") and the real error is never seen.
        campaigns.shutdown()
        runner.shutdown()
        engine.dispose()
        raise
    ctx = AppContext(url, engine, bus, runner, settings, window, campaigns, actor)

    def opened(result: OpenResult) -> None:
        log.info("database ready: %s", description)
        # Started: what exists now lives as long as the app (services/core/heap.py).
        freeze_long_lived()
        bus.database_ready.emit()
        campaigns.recover()  # campaigns left running by a crash, and those now due
        from minicrm_desktop.views.customers import should_offer_demo

        if offer_demo and should_offer_demo(sqlite, result.is_empty, settings):
            window.offer_demo_data()

    def failed(exc: BaseException) -> None:
        from minicrm_desktop.errors import MiniCRMError

        if not isinstance(exc, MiniCRMError):
            sys.excepthook(type(exc), exc, exc.__traceback__)
            message = f"The database could not be opened ({description})."
        else:
            message = scrub(str(exc))
        log.error("database unavailable: %s", message)
        bus.database_failed.emit(message)

    def start_opening() -> None:
        runner.run(lambda _ctx: open_database(engine), title="Opening database",
                   on_success=opened, on_error=failed)

    ctx.start_opening = start_opening
    if open_now:
        start_opening()
    return ctx


def configure_logging(debug: bool) -> None:
    """A rotating log file in the user's log folder; the console keeps warnings only."""
    from minicrm_desktop.services.core.paths import log_dir
    from minicrm_desktop.services.core.redact import scrub_log_handlers

    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and not debug:
            handler.setLevel(logging.WARNING)
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE_NAME, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        scrub_log_handlers(root)
        log.warning("cannot write the log file in %s: %s", folder, exc)
        return
    file_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root.addHandler(file_handler)
    scrub_log_handlers(root)  # no password in the log file or on the console


GUI_SWITCH_INTERVAL_S = 0.001


def create_application(argv: list[str] | None = None) -> QApplication:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from minicrm_desktop import APP_NAME, APP_ORG, __version__
    from minicrm_desktop.views.shell.fonts import ensure_fonts
    from minicrm_desktop.views.shell.palette import apply_theme

    QApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    # Every call from Qt into Python (a model's data(), a slot) takes the GIL anew; while
    # delivery workers hold it, each such wait lasts up to the switch interval. 1 ms instead
    # of 5 keeps the GUI's stalls under 50 ms while a campaign sends (benchmarks/delivery.py).
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_ORG)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("minicrm")
    apply_theme(app)
    ensure_fonts()  # a machine with no fonts at all gets the bundled DejaVu Sans
    return app


def _after_first_paint(ctx: AppContext) -> None:
    from minicrm_desktop.services.core.heap import resume_gc

    resume_gc()  # paused by the entry point for the start (heap.pause_gc_for_start)
    ctx.start_opening()


def _parsed(db: str | None) -> URL:
    from minicrm_desktop.services.core.database import resolve_database_url

    return resolve_database_url(db)


def run_gui(db: str | None = None, debug: bool = False) -> int:
    """Open the desktop app; returns the process exit status."""
    from PySide6.QtWidgets import QMessageBox

    from minicrm_desktop.views.shell.feature_scan import use_cheap_scan

    use_cheap_scan()  # before the imports below: each would have its source read
    from minicrm_desktop.errors import MiniCRMError
    from minicrm_desktop.services.auth import resolve_oauth_config
    from minicrm_desktop.services.core.deferred_engine import database_url_text, sqlite_file
    from minicrm_desktop.services.core.redact import scrub
    from minicrm_desktop.services.core.secrets import SharedSecretStore
    from minicrm_desktop.services.core.settings import QSettingsStore, Settings
    from minicrm_desktop.views.access import sign_in_at_start
    from minicrm_desktop.views.common.resources import app_icon
    from minicrm_desktop.views.shell.errors import ErrorReporter

    app = create_application()
    configure_logging(debug)
    reporter = ErrorReporter()
    reporter.install()
    app.setWindowIcon(app_icon())
    try:
        url: URL | str = database_url_text(db)
        if sqlite_file(url) is not None:
            settings = Settings(QSettingsStore())
            secrets = SharedSecretStore()  # one for sign-in, Settings and the AI key
            if resolve_oauth_config(settings) is None:
                # The embedded database and no OAuth client: the local admin, as
                # sign_in_at_start would say, and no SQLAlchemy before the first paint.
                actor: Actor | None = LOCAL_ADMIN
            else:
                actor = sign_in_at_start(_parsed(str(url)), settings, open_database,
                                         secrets=secrets)
        else:
            url = _parsed(db)
            settings = Settings(QSettingsStore())
            secrets = SharedSecretStore()
            actor = sign_in_at_start(url, settings, open_database, secrets=secrets)
        if actor is None:  # quit at the sign-in window
            return 0
        ctx = bootstrap(url, settings=settings, actor=actor, secrets=secrets, open_now=False)
    except MiniCRMError as exc:
        QMessageBox.critical(None, "MiniCRM", scrub(str(exc)))
        return exc.exit_code
    reporter.dialog_parent = ctx.window

    def database_failed(message: str) -> None:
        QMessageBox.critical(ctx.window, "MiniCRM: cannot open the database",
                             f"{scrub(message)}\n\nCheck that the server is running and the URL is "
                             "right, then start MiniCRM again.")
        ctx.window.close()
        app.exit(1)

    ctx.bus.database_failed.connect(database_failed)
    from minicrm_desktop.views.shell import startup_probe
    from minicrm_desktop.views.shell.first_paint import after_first_paint

    if startup_probe.wanted():  # benchmarks/startup.py
        startup_probe.exit_when_painted(ctx.window)
    # The database opens once the window is painted: on two cores a worker importing and
    # querying beside the GUI thread (both need the GIL) only delays that first paint, and
    # what the pages do when it is open would otherwise run before the paint.
    after_first_paint(ctx.window, partial(_after_first_paint, ctx))
    ctx.window.show()
    try:
        status = app.exec()
    finally:
        ctx.shutdown()
        reporter.uninstall()
    return int(status)



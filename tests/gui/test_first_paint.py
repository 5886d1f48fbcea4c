"""Start-up order: the window is painted first, the database opens after (app.run_gui);
the garbage collector paused for the start, and PySide6's module scan made cheap."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from minicrm_desktop.services.core import heap
from minicrm_desktop.services.core.deferred_engine import DeferredEngine, real_engine, sqlite_file
from minicrm_desktop.services.core.settings import Settings
from minicrm_desktop.views.shell import feature_scan
from minicrm_desktop.views.shell.first_paint import after_first_paint

from .conftest import close_app


class _Paints(QObject):
    def __init__(self, seen: list[str]) -> None:
        super().__init__()
        self.seen = seen

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.seen.append("paint")
        return False


def test_the_action_runs_once_just_after_the_first_paint(qtbot: QtBot) -> None:
    seen: list[str] = []
    widget = QWidget()
    qtbot.addWidget(widget)
    paints = _Paints(seen)
    widget.installEventFilter(paints)
    after_first_paint(widget, lambda: seen.append("action"))
    QApplication.processEvents()
    assert seen == []  # not shown, so not painted: nothing yet

    widget.show()
    qtbot.waitUntil(lambda: "action" in seen, timeout=5000)
    assert seen.index("paint") < seen.index("action")
    widget.repaint()
    widget.hide()
    widget.show()
    QApplication.processEvents()
    assert seen.count("action") == 1


def test_the_app_can_wait_to_open_its_database(seeded_url: str, settings: Settings,
                                                qtbot: QtBot) -> None:
    """run_gui builds the window with `open_now=False` and opens the database once the
    window is painted: until then no task runs and no page has asked for data."""
    from minicrm_desktop.app import bootstrap

    ctx = bootstrap(seeded_url, settings=settings, offer_demo=False, open_now=False)
    qtbot.addWidget(ctx.window)
    QApplication.processEvents()
    assert ctx.runner.active_count == 0
    assert not ctx.window.database_is_ready
    with qtbot.waitSignal(ctx.bus.database_ready, timeout=20_000):
        ctx.start_opening()
    assert ctx.window.database_is_ready
    qtbot.waitUntil(lambda: ctx.window.customers_page.model.rowCount() > 0, timeout=10_000)
    close_app(ctx, qtbot)


@pytest.fixture
def collector_back_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    heap._gc_paused = False
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_the_collector_pauses_for_the_start_and_resumes(collector_back_on: None) -> None:
    gc.enable()
    heap.pause_gc_for_start()
    assert not gc.isenabled()
    heap.resume_gc()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what start-up made is out of the collector's way
    heap.resume_gc()  # a second call changes nothing
    assert gc.isenabled()


def test_resuming_leaves_a_collector_someone_else_turned_off(collector_back_on: None) -> None:
    gc.disable()
    heap.pause_gc_for_start()  # already off: not paused by us
    heap.resume_gc()
    assert not gc.isenabled()


def test_the_cheap_scan_tells_qt_modules_from_others() -> None:
    with_qt = types.ModuleType("uses_qt")
    with_qt.QWidget = QWidget  # type: ignore[attr-defined]
    with_qt_module = types.ModuleType("uses_qt_module")
    with_qt_module.QtCore = sys.modules["PySide6.QtCore"]  # type: ignore[attr-defined]
    plain = types.ModuleType("plain")
    plain.value = 3  # type: ignore[attr-defined]
    assert feature_scan._uses_pyside(with_qt)
    assert feature_scan._uses_pyside(with_qt_module)
    assert feature_scan._uses_pyside(sys.modules["PySide6.QtWidgets"])
    assert not feature_scan._uses_pyside(plain)


def test_the_cheap_scan_replaces_pysides_source_reading(
        monkeypatch: pytest.MonkeyPatch) -> None:
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None:
        pytest.skip("this PySide6 has no module scan")
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)
    assert feature_scan.use_cheap_scan()
    assert feature._mod_uses_pyside is feature_scan._uses_pyside


WINDOW_ONLY = """
import sys
from minicrm_desktop.app import bootstrap, create_application
from minicrm_desktop.services.core.settings import DictStore, Settings
app = create_application([])
ctx = bootstrap(sys.argv[1], settings=Settings(DictStore()), offer_demo=False, open_now=False)
ctx.window.show()
app.processEvents()
print(sorted(n for n in sys.argv[2:] if n in sys.modules))
ctx.shutdown()
"""


def test_the_window_is_built_without_the_models_or_the_orm(tmp_path: Path) -> None:
    """What the first paint waits for stays small: with a plain SQLite URL, SQLAlchemy
    itself, the models, the customers queries... load after it (in the tasks that need
    them; the engine is made by the one that opens the database)."""
    heavy = ["sqlalchemy", "minicrm_desktop.models", "sqlalchemy.orm", "sqlalchemy.dialects.mysql",
             "minicrm_desktop.services.customers.queries",
             "minicrm_desktop.services.customers.edits", "minicrm_desktop.views.settings.changes"]
    run = subprocess.run(
        [sys.executable, "-c", WINDOW_ONLY, f"sqlite:///{tmp_path / 'crm.db'}", *heavy],
        capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_views_sort_keys_are_the_queries_sort_columns() -> None:
    from minicrm_desktop.services.customers.queries import SORT_COLUMNS
    from minicrm_desktop.services.customers.rows import SORT_KEYS

    assert set(SORT_COLUMNS) == SORT_KEYS


@pytest.mark.parametrize("url", ["sqlite:////tmp/x/crm.db", "sqlite:///relative/crm.db",
                                 "sqlite:///with space/crm.db", "sqlite:///C:/Users/x/crm.db"])
def test_a_plain_sqlite_url_is_read_as_sqlalchemy_reads_it(url: str) -> None:
    from sqlalchemy.engine import make_url

    assert sqlite_file(url) == make_url(url).database


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///x.db?mode=ro", "sqlite:///a%20b.db",
                                 "mysql+pymysql://u@h:3306/crm", "sqlite+pysqlcipher:///x.db"])
def test_any_other_url_is_left_to_sqlalchemy(url: str) -> None:
    assert sqlite_file(url) is None


def test_the_deferred_engine_is_made_once_at_its_first_use(tmp_path: Path) -> None:
    from sqlalchemy import Engine, text

    from minicrm_desktop.services.core.database import create_db_engine

    made: list[Engine] = []

    def make() -> Engine:
        made.append(create_db_engine(f"sqlite:///{tmp_path / 'crm.db'}"))
        return made[-1]

    deferred = DeferredEngine(make)
    deferred.dispose()  # never made: nothing to close, and nothing is made
    assert not deferred.made
    assert made == []
    with deferred.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert deferred.dialect.name == "sqlite"
    assert len(made) == 1
    assert deferred.made
    assert real_engine(deferred) is made[0]
    assert real_engine(made[0]) is made[0]
    deferred.dispose()


class _Stop(Exception):
    pass


class _QuietReporter:
    dialog_parent: object = None

    def install(self) -> None:
        pass

    def uninstall(self) -> None:
        pass


@pytest.fixture
def gui_start(monkeypatch: pytest.MonkeyPatch, qapp: QApplication) -> dict[str, Any]:
    """run_gui up to the sign-in decision: what it passed to sign-in and to bootstrap."""
    import minicrm_desktop.app as app_module
    import minicrm_desktop.services.auth as auth
    import minicrm_desktop.services.core.settings as settings_module
    import minicrm_desktop.views.access as access
    import minicrm_desktop.views.shell.errors as errors
    from minicrm_desktop.services.core.settings import DictStore

    seen: dict[str, Any] = {"config": None}
    # The test process's application, theme and logging stay as they are.
    monkeypatch.setattr(app_module, "create_application", lambda argv=None: qapp)
    monkeypatch.setattr(app_module, "configure_logging", lambda debug: None)
    monkeypatch.setattr(errors, "ErrorReporter", _QuietReporter)
    monkeypatch.setattr(settings_module, "QSettingsStore", DictStore)
    monkeypatch.setattr(auth, "resolve_oauth_config", lambda settings: seen["config"])

    def sign_in(url: object, *args: object, **kwargs: object) -> None:
        seen["sign_in_url"] = url
        return None  # the user quit at the sign-in window

    def bootstrap(url: object, **kwargs: object) -> None:
        seen["bootstrap"] = (url, kwargs["actor"])
        raise _Stop

    monkeypatch.setattr(access, "sign_in_at_start", sign_in)
    monkeypatch.setattr(app_module, "bootstrap", bootstrap)
    return seen


def test_the_embedded_database_without_a_client_opens_as_the_local_admin(
        gui_start: dict[str, Any], tmp_path: Path) -> None:
    from minicrm_desktop.app import run_gui
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with pytest.raises(_Stop):
        run_gui(db=url)
    assert gui_start["bootstrap"] == (url, LOCAL_ADMIN)
    assert "sign_in_url" not in gui_start


def test_with_a_client_configured_the_embedded_database_still_asks_to_sign_in(
        gui_start: dict[str, Any], tmp_path: Path) -> None:
    from sqlalchemy.engine import URL

    from minicrm_desktop.app import run_gui

    gui_start["config"] = object()
    assert run_gui(db=f"sqlite:///{tmp_path / 'crm.db'}") == 0
    url = gui_start["sign_in_url"]
    assert isinstance(url, URL)
    assert url.database == str(tmp_path / "crm.db")
    assert "bootstrap" not in gui_start


def test_a_mysql_database_goes_through_sign_in(gui_start: dict[str, Any]) -> None:
    from sqlalchemy.engine import URL

    from minicrm_desktop.app import run_gui

    gui_start["config"] = object()
    assert run_gui(db="mysql+pymysql://someone@127.0.0.1:3306/crm") == 0
    url = gui_start["sign_in_url"]
    assert isinstance(url, URL)
    assert url.get_backend_name() == "mysql"

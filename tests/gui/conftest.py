"""Fixtures for the GUI tests: seeded databases, the bus and runner, a bootstrapped app.

Every runner made here is shut down at teardown and the test fails if a task was still
running, as napari does: no test may leave work behind.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.app import AppContext, bootstrap
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN
from minicrm_desktop.services.ai.config import AISettings
from minicrm_desktop.services.campaigns.engine import DeliveryEngine
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.core.settings import DictStore, Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.customers.seed import seed_demo_data
from minicrm_desktop.services.segments.saved import create_segment
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.wizard.drafts import KeepDraftDialog, Leave
from minicrm_desktop.views.segments.dialogs import Unsaved, UnsavedChangesDialog
from minicrm_desktop.views.segments.page import SegmentsPage
from minicrm_desktop.views.shell.main_window import QuitWhileBusy

from . import person

SEED_ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
SMALL_CUSTOMERS = 3_000
LARGE_CUSTOMERS = 40_000


def _seeded_template(folder: Path, template: Path, customers: int) -> Path:
    path = folder / f"seeded-{customers}.db"
    shutil.copyfile(template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    seed_demo_data(engine, customers, seed=11, anchor=SEED_ANCHOR, actor=LOCAL_ADMIN)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def seeded_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _seeded_template(tmp_path_factory.mktemp("seeded"), sqlite_template,
                            SMALL_CUSTOMERS)


@pytest.fixture(scope="session")
def large_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _seeded_template(tmp_path_factory.mktemp("large"), sqlite_template,
                            LARGE_CUSTOMERS)


@pytest.fixture
def seeded_url(seeded_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "seeded.db"
    shutil.copyfile(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def seeded_engine(seeded_url: str) -> Iterator[Engine]:
    engine = create_db_engine(seeded_url)
    yield engine
    engine.dispose()


@pytest.fixture
def large_engine(large_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "large.db"
    shutil.copyfile(large_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def settings() -> Settings:
    return Settings(DictStore())


@pytest.fixture
def bus(qtbot: QtBot) -> EventBus:
    return EventBus()


def _assert_no_work_left(runner: TaskRunner, qtbot: QtBot) -> None:
    leftover = [h.title for h in runner._active.values()]
    running = runner.active_count
    runner.shutdown(timeout_ms=20_000)
    # Deliver the results of tasks that ended during shutdown, so nothing fires later.
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=5_000)
    assert running == 0, f"test left background tasks running: {leftover}"


@pytest.fixture
def runner(bus: EventBus, qtbot: QtBot) -> Iterator[TaskRunner]:
    task_runner = TaskRunner(bus)
    yield task_runner
    _assert_no_work_left(task_runner, qtbot)


@pytest.fixture(autouse=True)
def quit_questions(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The "quit while work runs?" question never blocks a test; tests may read the log."""
    asked: list[list[str]] = []

    def ask(cls: type, parent: object, titles: list[str]) -> bool:
        asked.append(titles)
        return True

    monkeypatch.setattr(QuitWhileBusy, "ask", classmethod(ask))
    return asked


@pytest.fixture(autouse=True)
def draft_questions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """"Keep as draft?" (a wizard with something entered is closed) never blocks a test:
    it discards; tests may read the log, and the person tests ask for the real question
    (`real_dialogs`)."""
    asked: list[str] = []

    def ask(cls: type, parent: object, name: str, *, reopened: bool) -> Leave:
        asked.append(name)
        return Leave.DISCARD

    monkeypatch.setattr(KeepDraftDialog, "ask", classmethod(ask))
    return asked


@pytest.fixture(autouse=True)
def unsaved_questions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """"Save your segment changes?" never blocks a test: it discards, and tests may read
    the log (or answer differently with their own monkeypatch)."""
    asked: list[str] = []

    def ask(cls: type, parent: object, name: str) -> Unsaved:
        asked.append(name)
        return Unsaved.DISCARD

    monkeypatch.setattr(UnsavedChangesDialog, "ask", classmethod(ask))
    return asked


@pytest.fixture(autouse=True)
def _no_global_pool_work() -> Iterator[None]:
    yield
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def start_app(url: str, settings: Settings, qtbot: QtBot, *,
              offer_demo: bool = False) -> AppContext:
    ctx = bootstrap(url, settings=settings, offer_demo=offer_demo)
    qtbot.addWidget(ctx.window)
    with qtbot.waitSignal(ctx.bus.database_ready, timeout=20_000):
        pass
    return ctx


@pytest.fixture
def app_ctx(seeded_url: str, settings: Settings, qtbot: QtBot) -> Iterator[AppContext]:
    ctx = start_app(seeded_url, settings, qtbot)
    ctx.window.show()
    qtbot.waitExposed(ctx.window)
    yield ctx
    close_app(ctx, qtbot)


def close_app(ctx: AppContext, qtbot: QtBot) -> None:
    running = ctx.runner.active_titles()
    ctx.window.close()
    assert not ctx.window.isVisible()
    ctx.campaigns.shutdown()  # delivery first, as AppContext.shutdown does
    ctx.runner.shutdown()
    qtbot.waitUntil(lambda: ctx.runner.active_count == 0, timeout=10_000)
    ctx.engine.dispose()
    # Quiet reads (loading rows, a customer's detail) may be cut short; visible work may not.
    assert running == [], f"test left background work running: {running}"


def open_segments_page(engine: Engine, runner: TaskRunner, bus: EventBus,
                       qtbot: QtBot) -> SegmentsPage:
    """A Segments page on `engine`, started, with its list and tags loaded and its relative
    dates counted from SEED_ANCHOR. Close it with `close_segments_page`."""
    # Not qtbot.addWidget: pytest-qt would delete the page before fixtures tear down,
    # and close_segments_page must still wait for its count.
    page = SegmentsPage(engine, runner, bus, actor=LOCAL_ADMIN, ai=offline_ai())
    page.live.as_of = SEED_ANCHOR
    page.resize(1000, 700)
    page.show()
    with qtbot.waitSignals([page.segments_loaded, page.tags_loaded], timeout=20_000):
        page.start()
    return page


def close_segments_page(page: SegmentsPage, qtbot: QtBot) -> None:
    """Let a pending count finish, then stop counting: no timer or task outlives a test."""
    qtbot.waitUntil(lambda: not page.live.pending and not page.node_editor.busy,
                    timeout=20_000)
    page.shutdown()
    page.close()
    page.deleteLater()


@pytest.fixture
def segments_page(seeded_engine: Engine, runner: TaskRunner, bus: EventBus,
                  qtbot: QtBot) -> Iterator[SegmentsPage]:
    page = open_segments_page(seeded_engine, runner, bus, qtbot)
    yield page
    close_segments_page(page, qtbot)


@pytest.fixture
def make_control(runner: TaskRunner, bus: EventBus,
                 tmp_path: Path) -> Iterator[Callable[[Engine], CampaignControl]]:
    """Campaign controls over a real DeliveryEngine (two workers, fast retries, a vendor
    ledger in tmp_path); each is shut down before the runner, and none may still be
    sending at teardown."""
    made: list[CampaignControl] = []

    def make(engine: Engine) -> CampaignControl:
        delivery = DeliveryEngine(engine, workers=2, ledger_path=tmp_path / "vendor-ledger.db",
                                  retry_base_seconds=0.01)
        control = CampaignControl(engine, runner, bus, delivery)
        made.append(control)
        return control

    yield make
    for control in made:
        control.shutdown()
        assert not control.timer.isActive()
        assert not control.delivery._writer_thread.isRunning()


def offline_ai() -> AISettings:
    """AI settings with no key: the offline engine answers, no keyring or settings file."""
    return AISettings(Settings(DictStore()), api_key="")


# --- the person-like harness (tests/gui/person.py) ------------------------------------------

_REAL_DIALOGS: list[pytest.MonkeyPatch] = []


@pytest.fixture
def real_dialogs() -> Iterator[None]:
    """The real questions, for this test's body only: its own MonkeyPatch is undone
    before the app closes (which must not ask)."""
    patch = pytest.MonkeyPatch()
    _REAL_DIALOGS.append(patch)
    for cls, ask in person.REAL_ASK.items():
        patch.setattr(cls, "ask", ask)
    yield
    patch.undo()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """pytest-qt closes a test's windows before its fixtures end: the scripted answers
    come back first, or a question left by a failed test would wait for nobody."""
    while _REAL_DIALOGS:
        _REAL_DIALOGS.pop().undo()
    yield


@pytest.fixture
def person_app(seeded_url: str, settings: Settings, qtbot: QtBot) -> Iterator[AppContext]:
    """The seeded app with two saved segments whose names differ only at the end, shown
    and active (keys go to the active window)."""
    engine = create_db_engine(seeded_url)
    create_segment(engine, person.LONG, parse_rule(person.PUNE), actor=LOCAL_ADMIN)
    create_segment(engine, f"{person.LONG} (copy)", parse_rule(person.PUNE), actor=LOCAL_ADMIN)
    engine.dispose()
    ctx = start_app(seeded_url, settings, qtbot)
    ctx.window.show()
    person.back_to(ctx.window, qtbot)
    yield ctx
    close_app(ctx, qtbot)



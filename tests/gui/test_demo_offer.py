"""First start on an empty embedded database offers demo data, seeded in the background."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy import text

from minicrm_desktop.services.core.settings import DEMO_OFFER_DISMISSED, DictStore, Settings
from minicrm_desktop.views.customers.demo_data_dialog import DemoDataDialog

from .conftest import close_app, start_app


def test_empty_database_offers_demo_data_and_seeds_it(sqlite_url: str, settings: Settings,
                                                      qtbot: QtBot) -> None:
    ctx = start_app(sqlite_url, settings, qtbot, offer_demo=True)
    try:
        dialog = ctx.window.demo_dialog
        assert isinstance(dialog, DemoDataDialog)
        qtbot.waitUntil(dialog.isVisible, timeout=2000)
        dialog.count_box.setValue(400)
        model = ctx.window.customers_page.model
        progress: list[float] = []
        with qtbot.waitSignal(dialog.seeded, timeout=30_000):
            handle = dialog.start(seed=3)
            handle.progressed.connect(lambda f, _t: progress.append(f))
            assert dialog.progress_bar.isVisible()
        # The seed published customers_changed; the customers view reloads by itself.
        qtbot.waitUntil(lambda: model.total == 400, timeout=10_000)
        assert dialog.report is not None
        assert dialog.report.customers == 400
        assert progress
        assert progress[-1] == 1.0
        assert not dialog.isVisible()
        assert model.total == 400
        assert settings.get(DEMO_OFFER_DISMISSED)
        with ctx.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 400
    finally:
        close_app(ctx, qtbot)


def test_cancel_keeps_finished_batches(sqlite_url: str, settings: Settings,
                                       qtbot: QtBot) -> None:
    ctx = start_app(sqlite_url, settings, qtbot, offer_demo=True)
    try:
        dialog = ctx.window.demo_dialog
        assert dialog is not None
        dialog.count_box.setValue(1_000_000)
        with qtbot.waitSignal(dialog.seeded, timeout=60_000) as blocker:
            handle = dialog.start()
            handle.progressed.connect(lambda *_: dialog.skip_button.click())
        report = blocker.args[0]
        assert report.cancelled
        assert 0 < report.customers < 1_000_000
    finally:
        close_app(ctx, qtbot)


def test_start_empty_with_dont_ask_is_remembered(sqlite_url: str, qtbot: QtBot) -> None:
    store = DictStore()
    ctx = start_app(sqlite_url, Settings(store), qtbot, offer_demo=True)
    dialog = ctx.window.demo_dialog
    assert dialog is not None
    dialog.dont_ask.setChecked(True)
    dialog.skip_button.click()
    assert not dialog.isVisible()
    close_app(ctx, qtbot)
    assert store.values[DEMO_OFFER_DISMISSED.key] is True

    again = start_app(sqlite_url, Settings(store), qtbot, offer_demo=True)
    assert again.window.demo_dialog is None
    close_app(again, qtbot)


def test_no_offer_when_there_are_customers(seeded_url: str, settings: Settings,
                                           qtbot: QtBot) -> None:
    ctx = start_app(seeded_url, settings, qtbot, offer_demo=True)
    assert ctx.window.demo_dialog is None
    close_app(ctx, qtbot)

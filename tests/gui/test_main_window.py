"""The main window: pages, shortcuts, status bar, state across runs, database errors."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from minicrm_desktop.app import AppContext, bootstrap
from minicrm_desktop.services.core.settings import LAST_PAGE, WINDOW_GEOMETRY, DictStore, Settings
from minicrm_desktop.views.customers.import_dialog import ImportDialog
from minicrm_desktop.views.shell.main_window import ADMIN_PAGES, PAGES, MainWindow

from .conftest import SMALL_CUSTOMERS, close_app, start_app


def test_sidebar_switches_pages(app_ctx: AppContext) -> None:
    window = app_ctx.window
    # The local admin (no sign-in) also sees the admins' pages.
    assert [window.sidebar.item(i).text() for i in range(window.sidebar.count())] == \
        ["Customers", "Segments", "Campaigns", "Settings", "Users", "Audit log"]
    for name in (*PAGES, *ADMIN_PAGES):
        window.show_page(name)
        assert window.current_page == name
        current = window.stack.currentWidget()
        assert current is not None
        assert current.objectName() == f"{name}_page"


def test_standard_shortcuts(app_ctx: AppContext, qtbot: QtBot) -> None:
    window = app_ctx.window
    assert window.new_segment_action.shortcut() == QKeySequence("Ctrl+N")
    assert window.find_action.shortcut() == QKeySequence("Ctrl+F")
    assert window.import_action.shortcut() == QKeySequence("Ctrl+I")
    assert window.refresh_action.shortcut() == QKeySequence("F5")
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")

    window.show_page("settings")
    window.find_action.trigger()
    assert window.current_page == "customers"
    qtbot.waitUntil(window.customers_page.search.hasFocus, timeout=2000)

    window.new_segment_action.trigger()
    assert window.current_page == "segments"

    window.import_action.trigger()
    assert isinstance(window.import_dialog, ImportDialog)
    assert window.import_dialog.isVisible()
    window.import_dialog.reject()


def test_refresh_reloads_customers(app_ctx: AppContext, qtbot: QtBot) -> None:
    model = app_ctx.window.customers_page.model
    qtbot.waitUntil(lambda: model.total == SMALL_CUSTOMERS, timeout=10_000)
    with qtbot.waitSignal(model.count_changed, timeout=10_000):
        app_ctx.window.refresh_action.trigger()


def test_status_bar_shows_database_and_work(app_ctx: AppContext, qtbot: QtBot) -> None:
    status = app_ctx.window.status
    assert status.database_label.full_text().startswith("Embedded database ")
    assert status.database_label.full_text().endswith("seeded.db")
    import threading

    release = threading.Event()
    handle = app_ctx.runner.run(lambda _ctx: release.wait(10), title="Counting audience")
    qtbot.waitUntil(lambda: status.work_label.isVisible(), timeout=2000)
    assert status.work_label.text() == "Counting audience"
    release.set()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert not status.work_label.isVisible()


def test_geometry_and_last_page_are_restored(seeded_url: str, qtbot: QtBot) -> None:
    store = DictStore()
    ctx = start_app(seeded_url, Settings(store), qtbot)
    ctx.window.show()
    ctx.window.resize(780, 560)  # inside the offscreen screen (800x800)
    ctx.window.show_page("settings")
    saved_size = ctx.window.size()
    close_app(ctx, qtbot)
    assert store.values[LAST_PAGE.key] == "settings"
    assert store.values[WINDOW_GEOMETRY.key]

    again = start_app(seeded_url, Settings(store), qtbot)
    try:
        assert again.window.current_page == "settings"
        assert again.window.size() == saved_size
    finally:
        close_app(again, qtbot)


def test_unreachable_database_is_reported_clearly(qtbot: QtBot, settings: Settings) -> None:
    # Port 1 on localhost refuses connections at once.
    ctx = bootstrap("mysql+pymysql://crm:secret@127.0.0.1:1/crm", settings=settings)
    qtbot.addWidget(ctx.window)
    with qtbot.waitSignal(ctx.bus.database_failed, timeout=15_000) as blocker:
        pass
    message = blocker.args[0]
    assert "cannot open the database (MySQL server 127.0.0.1:1/crm)" in message
    assert "secret" not in message
    assert "Traceback" not in message
    assert ctx.window.status.database_label.full_text() == "Database unavailable"
    close_app(ctx, qtbot)


def test_settings_page_names_the_database(app_ctx: AppContext) -> None:
    label = app_ctx.window.settings_page.database_label
    assert label.text() == app_ctx.window.status.database_description


def test_window_is_a_main_window(app_ctx: AppContext) -> None:
    assert isinstance(app_ctx.window, MainWindow)
    assert app_ctx.window.windowTitle() == "MiniCRM"
    assert not app_ctx.window.windowIcon().isNull()


def test_quitting_with_work_running_asks_first(app_ctx: AppContext, qtbot: QtBot,
                                               quit_questions: list[list[str]]) -> None:
    import threading

    release = threading.Event()
    handle = app_ctx.runner.run(lambda ctx: release.wait(10) and ctx.cancelled(),
                                title="Importing big.csv")
    qtbot.waitUntil(lambda: app_ctx.runner.active_titles() == ["Importing big.csv"],
                    timeout=2000)
    app_ctx.window.close()
    assert quit_questions == [["Importing big.csv"]]
    assert handle.is_cancelled  # closing cancels running work
    release.set()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass


def test_palettes_follow_the_scheme(qtbot: QtBot) -> None:
    from PySide6.QtGui import QPalette

    from minicrm_desktop.views.shell.palette import dark_palette, light_palette

    window = QPalette.ColorRole.Window
    assert dark_palette().color(window).lightness() < 60
    assert light_palette().color(window).lightness() > 200


def test_icons_follow_a_palette_change(app_ctx: AppContext, qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QApplication

    from minicrm_desktop.views.shell.palette import dark_palette, light_palette

    window = app_ctx.window
    before_action = window.import_action.icon().cacheKey()
    before_item = window.sidebar.item(0).icon().cacheKey()
    before_button = window.customers_page.export_button.icon().cacheKey()
    QApplication.setPalette(dark_palette())
    try:
        qtbot.waitUntil(lambda: window.import_action.icon().cacheKey() != before_action,
                        timeout=2000)
        assert window.sidebar.item(0).icon().cacheKey() != before_item
        assert window.customers_page.export_button.icon().cacheKey() != before_button
    finally:
        QApplication.setPalette(light_palette())

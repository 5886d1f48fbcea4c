"""The main window: sidebar navigation over the pages, menus and shortcuts, status bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QByteArray, QEvent, QSize
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop import __version__
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Permission, can
from minicrm_desktop.services.ai.config import AISettings
from minicrm_desktop.services.bus import EventBus
from minicrm_desktop.services.secrets import SecretStore, SharedSecretStore
from minicrm_desktop.services.settings import (
    LAST_PAGE,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    Settings,
)
from minicrm_desktop.services.tasks import TaskRunner
from minicrm_desktop.views.audit_page import AuditPage
from minicrm_desktop.views.campaign_control import CampaignControl
from minicrm_desktop.views.campaigns_page import CampaignsPage
from minicrm_desktop.views.customers_page import CustomersPage
from minicrm_desktop.views.demo_data_dialog import DemoDataDialog
from minicrm_desktop.views.import_dialog import ImportDialog
from minicrm_desktop.views.resources import app_icon, icon, refresh_themed_icons, themed_icon
from minicrm_desktop.views.segments_page import SegmentsPage
from minicrm_desktop.views.setting_changes import SettingChanges
from minicrm_desktop.views.settings_ai import AISettingsGroup
from minicrm_desktop.views.settings_page import SettingsPage
from minicrm_desktop.views.settings_tls import MysqlTlsGroup
from minicrm_desktop.views.status_bar import AppStatusBar
from minicrm_desktop.views.users_page import UsersPage

# palette(...) in a style sheet is resolved when the sheet is set: set it again on a
# palette change (see changeEvent).
SIDEBAR_STYLE = (
    "QListWidget#sidebar { background: palette(base); padding-top: 8px; outline: 0; }"
    "QListWidget#sidebar::item { padding: 8px 10px; margin: 1px 6px;"
    " border-radius: 6px; border: none; }"
    "QListWidget#sidebar::item:hover:!selected { background: palette(alternate-base); }"
    "QListWidget#sidebar::item:selected { background: palette(highlight);"
    " color: palette(highlighted-text); }"
)
PAGES = ("customers", "segments", "campaigns", "settings")
ADMIN_PAGES = ("users", "audit")  # shown to admins only, after the others
_TITLES = {"customers": "Customers", "segments": "Segments", "campaigns": "Campaigns",
           "settings": "Settings", "users": "Users", "audit": "Audit log"}


@dataclass
class Services:
    """What the window is built from; made by the composition root (app.bootstrap)."""

    engine: Engine
    bus: EventBus
    runner: TaskRunner
    settings: Settings
    database_description: str
    campaigns: CampaignControl
    #: Who is signed in; every page passes it to the services it calls.
    actor: Actor = field(default=LOCAL_ADMIN)
    #: The app's secret store (keyring or encrypted file), shared by everything that
    #: keeps a secret, so one passphrase unlocks it for all.
    secrets: Callable[[], SecretStore] = field(default_factory=SharedSecretStore)


class MainWindow(QMainWindow):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("main_window")
        self.setWindowTitle("MiniCRM")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.import_dialog: ImportDialog | None = None
        self.demo_dialog: DemoDataDialog | None = None
        bus = services.bus

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setFixedWidth(176)
        self.sidebar.setFrameShape(QListWidget.Shape.NoFrame)
        self.sidebar.setStyleSheet(SIDEBAR_STYLE)
        actor = services.actor
        self.ai = AISettings(services.settings, services.secrets)
        self.customers_page = CustomersPage(services.engine, services.runner, bus)
        self.segments_page = SegmentsPage(services.engine, services.runner, bus, actor=actor,
                                          ai=self.ai)
        self.campaigns_page = CampaignsPage(services.engine, services.runner, bus,
                                            services.campaigns, actor=actor, ai=self.ai)
        self.settings_page = SettingsPage(services.database_description)
        self.tls_group = MysqlTlsGroup(services.engine, services.runner, services.settings,
                                       actor=actor)
        self.settings_page.add_section(self.tls_group)
        self.settings_page.add_section(AISettingsGroup(
            self.ai, SettingChanges(services.engine, services.runner, actor)))
        pages: list[QWidget] = [self.customers_page, self.segments_page, self.campaigns_page,
                                self.settings_page]
        self.users_page: UsersPage | None = None
        self.audit_page: AuditPage | None = None
        self.page_names: tuple[str, ...] = PAGES
        if can(actor, Permission.MANAGE_USERS):
            self.users_page = UsersPage(services.engine, services.runner, bus, actor=actor)
            self.audit_page = AuditPage(services.engine, services.runner, bus, actor=actor)
            pages += [self.users_page, self.audit_page]
            self.page_names = PAGES + ADMIN_PAGES
        self.customers_page.import_button.setEnabled(can(actor, Permission.IMPORT_DATA))
        self.stack = QStackedWidget()
        for name, page in zip(self.page_names, pages, strict=True):
            page.setObjectName(f"{name}_page")
            self.stack.addWidget(page)
            QListWidgetItem(icon(name), _TITLES[name], self.sidebar)

        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status = AppStatusBar(bus, services.database_description)
        self.setStatusBar(self.status)
        self.customers_page.status_message.connect(lambda m: self.status.showMessage(m, 8000))
        self.customers_page.import_requested.connect(self.open_import)
        bus.navigate.connect(self.show_page)
        bus.import_finished.connect(
            lambda report: self.status.showMessage(report.summary(), 10_000))

        self._build_menus()
        self._restore()

    # --- menus and shortcuts -------------------------------------------------------------

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.import_action = self._action("&Import CSV…", "Ctrl+I", self.open_import, "import")
        self.export_action = self._action("&Export customers view…", "Ctrl+E",
                                          self.customers_page.export_view, "export")
        self.import_action.setEnabled(can(self.services.actor, Permission.IMPORT_DATA))
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", "Ctrl+Q", self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.quit_action)

        edit_menu = menu.addMenu("&Edit")
        self.find_action = self._action("&Find customers", "Ctrl+F",
                                        self.find_customers, "search")
        edit_menu.addAction(self.find_action)

        view_menu = menu.addMenu("&View")
        self.refresh_action = self._action("&Refresh", "F5",
                                           self.refresh, "refresh")
        view_menu.addAction(self.refresh_action)
        view_menu.addSeparator()
        for number, name in enumerate(self.page_names, start=1):
            view_menu.addAction(self._action(
                _TITLES[name], f"Ctrl+{number}", lambda n=name: self.show_page(n)))

        segments_menu = menu.addMenu("&Segments")
        self.new_segment_action = self._action("&New segment", "Ctrl+N",
                                               self.new_segment, "new")
        segments_menu.addAction(self.new_segment_action)

        help_menu = menu.addMenu("&Help")
        about = self._action("&About MiniCRM", None, self.about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    def _action(self, text: str, shortcut: str | QKeySequence.StandardKey | None,
                slot: object, icon_name: str | None = None) -> QAction:
        action = QAction(text, self)
        if icon_name:
            themed_icon(action, icon_name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    # --- pages ---------------------------------------------------------------------------

    def show_page(self, name: str) -> None:
        if name in self.page_names:
            self.sidebar.setCurrentRow(self.page_names.index(name))

    @property
    def current_page(self) -> str:
        return self.page_names[max(0, self.stack.currentIndex())]

    def find_customers(self) -> None:
        self.show_page("customers")
        self.customers_page.focus_search()

    def refresh(self) -> None:
        self.customers_page.refresh()
        self.status.showMessage("Refreshing…", 2000)

    def new_segment(self) -> None:
        self.show_page("segments")
        self.segments_page.new_segment()

    def open_import(self) -> ImportDialog:
        if self.import_dialog is None:
            s = self.services
            self.import_dialog = ImportDialog(s.engine, s.runner, s.bus, actor=s.actor,
                                              parent=self)
            self.import_dialog.finished.connect(self._import_closed)
        self.import_dialog.show()
        self.import_dialog.raise_()
        return self.import_dialog

    def _import_closed(self) -> None:
        if self.import_dialog is not None and self.import_dialog.handle is None:
            self.import_dialog.deleteLater()
            self.import_dialog = None

    def offer_demo_data(self) -> DemoDataDialog | None:
        s = self.services
        if not can(s.actor, Permission.SEED_DEMO_DATA):
            return None
        self.demo_dialog = DemoDataDialog(s.engine, s.runner, s.bus, s.settings,
                                          actor=s.actor, parent=self)
        self.demo_dialog.open()
        return self.demo_dialog

    def about(self) -> None:
        QMessageBox.about(self, "About MiniCRM",
                          f"MiniCRM Desktop {__version__}\n\nCustomers, segments and "
                          "campaigns for marketers.")

    def changeEvent(self, event: QEvent) -> None:
        # The OS switched light/dark: line icons are drawn in the text colour, redraw them.
        if event.type() == QEvent.Type.PaletteChange:
            self._refresh_icons()
        super().changeEvent(event)

    def _refresh_icons(self) -> None:
        self.sidebar.setStyleSheet(SIDEBAR_STYLE)
        for row, name in enumerate(self.page_names):
            item = self.sidebar.item(row)
            if item is not None:
                item.setIcon(icon(name))
        refresh_themed_icons()

    # --- state across runs ---------------------------------------------------------------

    def _restore(self) -> None:
        settings = self.services.settings
        geometry = settings.get(WINDOW_GEOMETRY)
        if geometry:
            self.restoreGeometry(QByteArray(geometry))
        state = settings.get(WINDOW_STATE)
        if state:
            self.restoreState(QByteArray(state))
        page = settings.get(LAST_PAGE)
        self.show_page(page if page in self.page_names else "customers")

    def save_state(self) -> None:
        settings = self.services.settings
        settings.set(WINDOW_GEOMETRY, bytes(self.saveGeometry().data()))
        settings.set(WINDOW_STATE, bytes(self.saveState().data()))
        settings.set(LAST_PAGE, self.current_page)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Unsaved segment edits: save (then close), discard, or stay.
        if self.isVisible() and not self.segments_page.may_close(self.close):
            event.ignore()
            return
        runner = self.services.runner
        titles = runner.active_titles()
        if titles and QApplication.instance() is not None and self.isVisible() and \
                QuitWhileBusy.ask(self, titles) is False:
            event.ignore()
            return
        self.save_state()
        self.segments_page.shutdown()
        self.campaigns_page.shutdown()
        if self.audit_page is not None:
            self.audit_page.shutdown()
        runner.cancel_all()
        super().closeEvent(event)


class QuitWhileBusy:
    """Asked when quitting with background work running; tests replace `ask`."""

    @classmethod
    def ask(cls, parent: QWidget, titles: list[str]) -> bool:
        answer = QMessageBox.question(
            parent, "Quit MiniCRM?",
            "Work is still running:\n• " + "\n• ".join(titles) +
            "\n\nQuit anyway? Running work stops after its current batch.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes


__all__ = ["PAGES", "MainWindow", "QuitWhileBusy", "Services"]

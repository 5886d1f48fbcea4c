"""The main window: sidebar navigation over the pages, menus and shortcuts, status bar.

Over 400 lines on purpose: it is the one place that wires pages, menus, shortcuts and the
status bar together; each page lives in its own feature folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt
from PySide6.QtGui import QAccessible, QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from minicrm_desktop import __version__
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Permission, can
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.changes import ChangeWatcher
from minicrm_desktop.services.core.secrets import SecretStore, SharedSecretStore
from minicrm_desktop.services.core.settings import (
    LAST_PAGE,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    Settings,
)
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.common.resources import app_icon, icon, refresh_themed_icons, themed_icon
from minicrm_desktop.views.common.widgets import CurrentPageStack
from minicrm_desktop.views.customers import CustomersPage
from minicrm_desktop.views.shell.focus_ring import FocusRing
from minicrm_desktop.views.shell.palette import restyle_style_sheets
from minicrm_desktop.views.shell.status_bar import AppStatusBar

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from minicrm_desktop.services.ai import AISettings
    from minicrm_desktop.views.access import AuditPage, UsersPage
    from minicrm_desktop.views.campaigns import CampaignControl, CampaignsPage
    from minicrm_desktop.views.customers import DemoDataDialog, ImportDialog
    from minicrm_desktop.views.segments import SegmentsPage
    from minicrm_desktop.views.settings import EmailSettingsGroup, MysqlTlsGroup, SettingsPage

# palette(...) in a style sheet is resolved when the sheet is set: it is set again on a
# palette change (see changeEvent).
SIDEBAR_STYLE = (
    "QListWidget#sidebar { background: palette(base); padding-top: 8px; outline: 0;"
    " border: 2px solid transparent; }"
    # No dotted focus rectangle (outline: 0), so show the keyboard focus this way.
    "QListWidget#sidebar:focus { border: 2px solid palette(highlight); }"
    "QListWidget#sidebar::item { padding: 8px 10px; margin: 1px 6px;"
    " border-radius: 6px; border: none; }"
    "QListWidget#sidebar::item:hover:!selected { background: palette(alternate-base); }"
    "QListWidget#sidebar::item:selected { background: palette(highlight);"
    " color: palette(highlighted-text); }"
)
PAGES = ("customers", "segments", "campaigns", "settings")
ADMIN_PAGES = ("users", "audit")  # shown to admins only, after the others
# Which pages show each area of the data (services/core/changes.py).
_PAGES_OF_AREA = {"customers": ("customers", "segments"), "segments": ("segments",),
                  "campaigns": ("campaigns",), "users": ("users",), "audit": ("audit",)}
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
        self.sidebar.setAccessibleName("Pages")
        actor = services.actor
        # Pages are built when first shown (start-up imports and builds only Customers);
        # the properties below build a page when anything asks for it.
        self._pages: dict[str, QWidget] = {}
        self.stale: set[str] = set()  # pages to read again when next shown
        self._settings_sections: list[Callable[[], QWidget]] = []
        self._ai: AISettings | None = None
        self.database_is_ready = False
        bus.database_ready.connect(self._database_ready)
        self.page_names: tuple[str, ...] = PAGES
        if can(actor, Permission.MANAGE_USERS):
            self.page_names = PAGES + ADMIN_PAGES
        self.stack = CurrentPageStack()
        for name in self.page_names:
            QListWidgetItem(icon(name), _TITLES[name], self.sidebar)
        self.customers_page = cast(CustomersPage, self._page("customers"))
        self.customers_page.import_button.setEnabled(can(actor, Permission.IMPORT_DATA))

        self.sidebar.currentRowChanged.connect(self._row_changed)
        self.sidebar.itemClicked.connect(self._sidebar_clicked)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        # A page wider or taller than a small window scrolls instead of holding the
        # window open wider than the screen.
        self.page_area = QScrollArea()
        self.page_area.setObjectName("page_area")
        self.page_area.setWidgetResizable(True)
        self.page_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.page_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.page_area.setWidget(self.stack)
        row.addWidget(self.page_area, 1)
        self.setCentralWidget(central)

        self.status = AppStatusBar(bus, services.database_description)
        self.setStatusBar(self.status)
        self.customers_page.status_message.connect(lambda m: self.status.showMessage(m, 8000))
        self.customers_page.import_requested.connect(self.open_import)
        bus.navigate.connect(self.show_page)
        bus.import_finished.connect(
            lambda report: self.status.showMessage(report.summary(), 10_000))

        # Changes by other processes (the CLI, a colleague on the shared database).
        self.watcher = ChangeWatcher(services.engine, services.runner, parent=self)
        self.watcher.changed.connect(self.data_changed_elsewhere)
        bus.database_ready.connect(self.watcher.start)

        self.setMinimumSize(760, 520)
        self._build_menus()
        self._keyboard_friendly()
        self.focus_ring = FocusRing()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_moved)
        self._restore()

    # --- menus and shortcuts -------------------------------------------------------------

    def _keyboard_friendly(self) -> None:
        """Tab leaves every table and list (arrow keys move inside them), also in pages
        that build their tables later (see _row_changed)."""
        keyboard_friendly(self, self.stack)

    def _focus_moved(self, old: QWidget | None, new: QWidget | None) -> None:
        """The focus shows wherever it goes; entering another window (a dialog, made by
        any page), Tab leaves that window's tables too, and its controls have names."""
        self.focus_ring.follow(new)
        if new is None or (old is not None and old.window() is new.window()):
            return
        window = new.window()
        if window is not self:
            keyboard_friendly(window)

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
        self.page_actions: dict[str, QAction] = {}
        for number, name in enumerate(self.page_names, start=1):
            # triggered(checked) passes a bool: bind the name with partial, not a default
            # argument, or the page would be `False`.
            action = self._action(_TITLES[name], f"Ctrl+{number}",
                                  partial(self._page_action, name))
            self.page_actions[name] = action
            view_menu.addAction(action)

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

    # --- pages, built when first asked for ----------------------------------------------

    def _page(self, name: str) -> QWidget:
        """The page called `name`, built (with its module imported) the first time."""
        page = self._pages.get(name)
        if page is not None:
            return page
        s, actor = self.services, self.services.actor
        start: Callable[[], object] | None = None
        if name == "customers":
            made = CustomersPage(s.engine, s.runner, s.bus, settings=s.settings, actor=actor)
            page, start = made, made.start
        elif name == "segments":
            from minicrm_desktop.views.segments import SegmentsPage

            segments = SegmentsPage(s.engine, s.runner, s.bus, actor=actor, ai=self.ai)
            page, start = segments, segments.start
        elif name == "campaigns":
            from minicrm_desktop.views.campaigns import CampaignsPage

            campaigns = CampaignsPage(s.engine, s.runner, s.bus, s.campaigns, actor=actor,
                                      ai=self.ai)
            page, start = campaigns, campaigns.model.refresh
        elif name == "settings":
            page = self._build_settings_page()
        elif name == "users":
            from minicrm_desktop.views.access import UsersPage

            users = UsersPage(s.engine, s.runner, s.bus, actor=actor)
            page, start = users, users.refresh
        elif name == "audit":
            from minicrm_desktop.views.access import AuditPage

            audit = AuditPage(s.engine, s.runner, s.bus, actor=actor)
            page, start = audit, audit.start
        else:
            raise KeyError(name)
        page.setObjectName(f"{name}_page")
        self._pages[name] = page
        self.stack.addWidget(page)
        self.stale.discard(name)  # it reads the database now, or when it is ready
        if self.database_is_ready and start is not None:
            start()  # it missed `database_ready`: load now
        return page

    def _build_settings_page(self) -> QWidget:
        from minicrm_desktop.views.settings import (
            AISettingsGroup,
            EmailSettingsGroup,
            MysqlTlsGroup,
            SettingChanges,
            SettingsPage,
        )

        s, actor = self.services, self.services.actor
        page = SettingsPage(s.database_description)
        self._tls_group = MysqlTlsGroup(s.engine, s.runner, s.settings, actor=actor)
        page.add_section(self._tls_group)
        page.add_section(AISettingsGroup(self.ai, SettingChanges(s.engine, s.runner, actor)))
        self._email_settings = EmailSettingsGroup(
            s.settings, SettingChanges(s.engine, s.runner, actor))
        page.add_section(self._email_settings)
        for make in self._settings_sections:
            page.add_section(make())
        return page

    def add_settings_section(self, make: Callable[[], QWidget]) -> None:
        """A section for the Settings page, made when the page is built."""
        self._settings_sections.append(make)
        if "settings" in self._pages:
            cast("SettingsPage", self._pages["settings"]).add_section(make())

    def _database_ready(self) -> None:
        self.database_is_ready = True
        # The window is up: load the heaviest modules of the pages not built yet on a worker
        # (services and models only: no widgets), so a page's first showing stays quick.
        self.services.runner.run(_warm_up, title="Loading", quiet=True,
                                 on_error=lambda _exc: None)

    @property
    def ai(self) -> AISettings:
        if self._ai is None:
            from minicrm_desktop.services.ai import AISettings

            self._ai = AISettings(self.services.settings, self.services.secrets)
        return self._ai

    @property
    def segments_page(self) -> SegmentsPage:
        return cast("SegmentsPage", self._page("segments"))

    @property
    def campaigns_page(self) -> CampaignsPage:
        return cast("CampaignsPage", self._page("campaigns"))

    @property
    def settings_page(self) -> SettingsPage:
        return cast("SettingsPage", self._page("settings"))

    @property
    def tls_group(self) -> MysqlTlsGroup:
        self._page("settings")
        return self._tls_group

    @property
    def email_settings(self) -> EmailSettingsGroup:
        self._page("settings")
        return self._email_settings

    @property
    def users_page(self) -> UsersPage | None:
        """None for who may not manage users (no such page)."""
        return cast("UsersPage", self._page("users")) if "users" in self.page_names else None

    @property
    def audit_page(self) -> AuditPage | None:
        return cast("AuditPage", self._page("audit")) if "audit" in self.page_names else None

    # --- navigation ----------------------------------------------------------------------

    def _page_action(self, name: str, _checked: bool = False) -> None:
        """Ctrl+1…: show the page and put the keyboard focus into it."""
        self.show_page(name)
        page = self.stack.currentWidget()
        focus = QApplication.focusWidget()
        if page is not None and (focus is None or not page.isAncestorOf(focus)):
            focus_first_control(page)

    def show_page(self, name: str) -> None:
        if name in self.page_names:
            self.sidebar.setCurrentRow(self.page_names.index(name))

    @property
    def current_page(self) -> str:
        return self.page_names[max(0, self.sidebar.currentRow())]

    def find_customers(self) -> None:
        self.show_page("customers")
        self.customers_page.focus_search()

    def refresh(self) -> None:
        """F5: read the current page again from the database."""
        self.refresh_page(self.current_page)
        self.status.showMessage(f"Refreshing {_TITLES[self.current_page]}…", 2000)

    def refresh_page(self, name: str) -> None:
        self.stale.discard(name)
        if name not in self._pages:
            return  # not built yet: it reads the database when it is
        if name == "customers":
            self.customers_page.refresh()
        elif name == "segments":
            self.segments_page.reload()
        elif name == "campaigns":
            self.services.bus.campaigns_changed.emit()
            detail = getattr(self.campaigns_page, "detail", None)
            if detail is not None and detail.isVisible():
                detail.refresh()
        elif name == "users" and self.users_page is not None:
            self.users_page.refresh()
        elif name == "audit" and self.audit_page is not None:
            self.audit_page.apply_filter()

    def data_changed_elsewhere(self, areas: set[str]) -> None:
        """Another process changed the database: refresh the visible page now, the others
        when they are next shown."""
        pages = {page for area in areas for page in _PAGES_OF_AREA.get(area, ())
                 if page in self.page_names}
        self.stale |= pages
        if self.current_page in pages:
            self.refresh_page(self.current_page)

    def _sidebar_clicked(self, item: QListWidgetItem) -> None:
        """Clicking "Campaigns" shows the campaign list, even from a campaign's own page."""
        if self.page_names[self.sidebar.row(item)] == "campaigns":
            self.campaigns_page.show_list(focus=False)

    def _row_changed(self, row: int) -> None:
        if not 0 <= row < len(self.page_names):
            return
        self.stack.setCurrentWidget(self._page(self.page_names[row]))
        self._keyboard_friendly()
        if self.page_names[row] in self.stale:
            self.refresh_page(self.page_names[row])

    def new_segment(self) -> None:
        self.show_page("segments")
        self.segments_page.new_segment()

    def open_import(self) -> ImportDialog:
        from minicrm_desktop.views.customers import ImportDialog

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
        from minicrm_desktop.views.customers import DemoDataDialog

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
        elif event.type() == QEvent.Type.ActivationChange:
            self.watcher.set_active(self.isActiveWindow())
        super().changeEvent(event)

    def _refresh_icons(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            restyle_style_sheets(app)
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
        segments = cast("SegmentsPage | None", self._pages.get("segments"))
        if self.isVisible() and segments is not None and not segments.may_close(self.close):
            event.ignore()
            return
        runner = self.services.runner
        titles = runner.active_titles() + self._sending_titles()
        if titles and QApplication.instance() is not None and self.isVisible() and \
                QuitWhileBusy.ask(self, titles) is False:
            event.ignore()
            return
        self.save_state()
        self.watcher.stop()
        for name in ("segments", "campaigns", "audit"):  # only those built
            page = self._pages.get(name)
            if page is not None:
                cast(Any, page).shutdown()
        runner.cancel_all()
        super().closeEvent(event)

    def _sending_titles(self) -> list[str]:
        """Campaigns this window is sending: quitting stops them here (they stay Running,
        for a Resume here or in another installation)."""
        page = cast("Any", self._pages.get("campaigns"))
        titles = []
        for campaign_id in self.services.campaigns.running():
            row = page.model.row_of(campaign_id) if page is not None else None
            campaign = page.model.campaign(row) if row is not None else None
            name = f"“{campaign.name}”" if campaign is not None else f"#{campaign_id}"
            titles.append(f"Sending campaign {name} (it stops here; Resume sends the rest)")
        return titles


#: Modules (no Qt widgets in them) that pages built later import; loaded after start-up.
WARM_UP = ("minicrm_desktop.models.rules", "minicrm_desktop.services.segments",
           "minicrm_desktop.services.ai.offline_parser")


def _warm_up(_ctx: object) -> None:
    import importlib

    for module in WARM_UP:
        importlib.import_module(module)


def keyboard_friendly(window: QWidget, named: QWidget | None = None) -> None:
    """Tab leaves every table and list of `window` (arrow keys move inside them), and
    every control inside `named` (default: the window) has an accessible name."""
    for view in window.findChildren(QAbstractItemView):
        view.setTabKeyNavigation(False)
    name_unnamed_controls(named or window)


def name_unnamed_controls(root: QWidget) -> None:
    """Give every control a screen reader could not name (no text, no label) a name from
    its tooltip or its object name ("campaigns_table" -> "Campaigns table")."""
    for widget in root.findChildren(QWidget):
        if not widget.focusPolicy() & Qt.FocusPolicy.TabFocus or widget.accessibleName():
            continue
        if widget.focusProxy() is not None or widget.objectName().startswith("qt_"):
            continue  # a part of another control (a spin box's text), named with it
        iface = QAccessible.queryAccessibleInterface(widget)
        if iface is not None and iface.text(QAccessible.Text.Name).strip():
            continue  # Qt names it from its text or its label
        label = widget.toolTip().split("\n")[0] or widget.objectName().replace("_", " ")
        if not label and isinstance(widget, QAbstractScrollArea):
            page = widget.parentWidget()
            label = page.objectName().replace("_", " ") if page is not None else ""
        if label:
            widget.setAccessibleName(label[:1].upper() + label[1:])


def focus_first_control(page: QWidget) -> None:
    """Focus the first control of `page` that Tab would reach."""
    widget = page.nextInFocusChain()
    while widget is not None and widget is not page:
        if (page.isAncestorOf(widget) and widget.isVisible() and widget.isEnabled()
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus):
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        widget = widget.nextInFocusChain()


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

"""The Users page (admins): who may sign in and with which role, and the email domains
whose members may sign in on their own. Every change runs as a task through the access
services, which check the role again and audit it.

Over 400 lines on purpose: one page whose two tables (users, allowed domains) share its
role checks, task plumbing and messages; the table model is already apart (users_model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.access.actor import Actor, Role
from minicrm_desktop.services.access.db_accounts import (
    DbCredentials,
    create_db_account,
    reset_db_password,
)
from minicrm_desktop.services.access.db_roles import is_shared
from minicrm_desktop.services.access.users import (
    DomainRow,
    UserRow,
    add_user,
    allow_domain,
    list_domains,
    list_users,
    remove_domain,
    set_active,
    set_role,
)
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskCancelled, TaskRunner
from minicrm_desktop.views.access.db_credentials_dialog import DbCredentialsDialog
from minicrm_desktop.views.access.users_model import LOCAL_USER_ID, DomainsModel, UsersModel
from minicrm_desktop.views.common.widgets import PageHeader, muted_label

ROLE_HELP = ("Admin: users, settings and everything else. Marketer: segments, campaigns "
             "and imports. Viewer: can look at everything, change nothing.")


LOCKOUT_TEXT = (
    "⚠ Nobody listed here is an admin. This computer uses the database without sign-in; "
    "if sign-in is turned on later, only the people listed here can open it, and none of "
    "them could manage users. Add yourself as an admin first.")


def _has_active_admin(people: list[UserRow]) -> bool:
    return any(u.active and u.role is Role.ADMIN for u in people)


def _local_row(actor: Actor) -> UserRow:
    from datetime import UTC, datetime

    return UserRow(id=LOCAL_USER_ID, email=actor.email, name=actor.name, role=actor.role,
                   active=True, created_at=datetime.now(UTC), last_sign_in_at=None,
                   added_by=None)


class LockOutWarning:
    """Asked before adding a non-admin in local mode while no admin is listed; tests
    answer it by pressing keys on the real message box."""

    @classmethod
    def ask(cls, parent: QWidget, email: str, role: Role) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, "You could be locked out",
                          f"{email} would be added as {role.value}, and nobody listed is an "
                          "admin.\n\nThis database is used without sign-in now. If sign-in "
                          "is turned on later, only listed people may open it, and no one "
                          "could manage users — not even you.\n\nAdd yourself as an admin "
                          "first (with your own email address).", parent=parent)
        add = box.addButton(f"Add as {role.value} anyway", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is add


def role_box(name: str, default: Role = Role.VIEWER) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for role in Role:
        box.addItem(role.value.capitalize(), role)
    box.setCurrentIndex(list(Role).index(default))
    box.setToolTip(ROLE_HELP)
    return box


def _table(name: str, model: Any) -> QTableView:
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setTabKeyNavigation(False)  # Tab leaves the table
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    # The first column (email, domain) takes the spare width; the others fit their text
    # but never shrink below their title (an empty table has no text to fit).
    header.setMinimumSectionSize(header.fontMetrics().horizontalAdvance("Deactivated") + 24)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(False)
    return table


class UsersPage(QWidget):
    #: The lists were (re)loaded.
    loaded = Signal()
    #: A change was stored (its message, for the user).
    changed = Signal(str)

    def __init__(self, engine: Engine, runner: TaskRunner, bus: EventBus, *, actor: Actor,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.runner = runner
        self.actor = actor
        self.users_model = UsersModel(self)
        self.domains_model = DomainsModel(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(PageHeader("Users", "Who may sign in, and what each may do."))

        self.users_table = _table("users_table", self.users_model)
        self.users_table.setAccessibleName("Users")
        self.users_table.selectionModel().selectionChanged.connect(self._user_selected)
        layout.addWidget(self.users_table, 3)

        selected = QHBoxLayout()
        selected.addWidget(QLabel("Selected user:"))
        self.role_box = role_box("user_role")
        selected.addWidget(self.role_box)
        self.role_button = QPushButton("Change role")
        self.role_button.clicked.connect(self.change_role)
        selected.addWidget(self.role_button)
        self.active_button = QPushButton("Deactivate")
        self.active_button.clicked.connect(self.toggle_active)
        selected.addWidget(self.active_button)
        # Shared databases only: each person's own database account (see README).
        self.db_account_button = QPushButton("Create database account")
        self.db_account_button.setObjectName("db_account_button")
        self.db_account_button.setToolTip(
            "Make this person's own account on the shared database, with the privileges "
            "of their role. Its one-time password is shown once, to pass on privately.")
        self.db_account_button.clicked.connect(self.make_db_account)
        self.db_account_button.setVisible(is_shared(engine))
        selected.addWidget(self.db_account_button)
        self.credentials_dialog: DbCredentialsDialog | None = None
        selected.addSpacing(12)
        selected.addWidget(muted_label(ROLE_HELP), 1)
        layout.addLayout(selected)

        add = QGroupBox("Add a user")
        add_row = QHBoxLayout(add)
        self.email_edit = QLineEdit()
        self.email_edit.setObjectName("new_user_email")
        self.email_edit.setPlaceholderText("name@example.com")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("new_user_name")
        self.name_edit.setPlaceholderText("Name (optional)")
        # Viewer, as on the command line (`minicrm users add`) and for allowed domains.
        self.new_role_box = role_box("new_user_role", Role.VIEWER)
        self.add_button = QPushButton("Add user")
        self.add_button.clicked.connect(self.add_user)
        self.email_edit.returnPressed.connect(self.add_user)
        fields: tuple[tuple[str, QWidget, int], ...] = (
            ("Email:", self.email_edit, 2), ("Name:", self.name_edit, 1),
            ("Role:", self.new_role_box, 0))
        for label, widget, stretch in fields:
            caption = QLabel(label)
            caption.setBuddy(widget)
            widget.setAccessibleName(f"New user's {label.rstrip(':').lower()}")
            add_row.addWidget(caption)
            add_row.addWidget(widget, stretch)
        add_row.addWidget(self.add_button)
        layout.addWidget(add)

        domains = QGroupBox("Allowed domains")
        column = QVBoxLayout(domains)
        column.addWidget(muted_label("Anyone with a verified address at these domains may "
                                     "sign in, with the role given here. Everyone else needs "
                                     "to be added above."))
        self.domains_table = _table("domains_table", self.domains_model)
        self.domains_table.setAccessibleName("Allowed domains")
        self.domains_table.setMaximumHeight(150)
        self.domains_table.selectionModel().selectionChanged.connect(
            lambda *_: self._update_buttons())
        column.addWidget(self.domains_table)
        domain_row = QHBoxLayout()
        self.domain_edit = QLineEdit()
        self.domain_edit.setObjectName("new_domain")
        self.domain_edit.setPlaceholderText("example.com")
        self.domain_role_box = role_box("domain_role")
        self.allow_button = QPushButton("Allow domain")
        self.allow_button.clicked.connect(self.allow_domain)
        self.domain_edit.returnPressed.connect(self.allow_domain)
        self.remove_domain_button = QPushButton("Remove selected domain")
        self.remove_domain_button.clicked.connect(self.remove_domain)
        domain_row.addWidget(QLabel("Domain:"))
        domain_row.addWidget(self.domain_edit, 2)
        domain_row.addWidget(QLabel("Role:"))
        domain_row.addWidget(self.domain_role_box)
        domain_row.addWidget(self.allow_button)
        domain_row.addStretch(1)
        domain_row.addWidget(self.remove_domain_button)
        column.addLayout(domain_row)
        layout.addWidget(domains, 1)

        self.message = QLabel("")
        self.message.setObjectName("users_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        # Local mode: the people listed here are who may sign in once sign-in is on.
        self.lockout_warning = QLabel(LOCKOUT_TEXT)
        self.lockout_warning.setObjectName("lockout_warning")
        self.lockout_warning.setWordWrap(True)
        self.lockout_warning.setStyleSheet("color: #b35c00;")
        self.lockout_warning.setVisible(False)
        layout.insertWidget(1, self.lockout_warning)
        self.domain_edit.setAccessibleName("Domain to allow")
        self.domain_role_box.setAccessibleName("Role for the domain")
        self.role_box.setAccessibleName("Selected user's role")

        bus.database_ready.connect(self.refresh)
        self._update_buttons()

    # --- loading -----------------------------------------------------------------------------

    def refresh(self) -> None:
        engine, actor = self.engine, self.actor

        def task(_ctx: object) -> tuple[list[UserRow], list[DomainRow]]:
            return list_users(engine, actor=actor), list_domains(engine, actor=actor)

        self.runner.run(task, title="Loading users", quiet=True, on_success=self._loaded,
                        on_error=self._failed)

    @property
    def local_mode(self) -> bool:
        """Running as the local admin: an embedded database without sign-in."""
        return self.actor.user_id is None

    def _loaded(self, result: tuple[list[UserRow], list[DomainRow]]) -> None:
        selected = self.selected_user()
        people, domains = result
        self.lockout_warning.setVisible(self.local_mode and bool(people)
                                        and not _has_active_admin(people))
        if self.local_mode:
            people = [_local_row(self.actor), *people]
        self.users_model.set_rows(people)
        self.domains_model.set_rows(domains)
        if selected is not None:
            self.select_user(selected.email)
        self._update_buttons()
        self.loaded.emit()

    # --- selection -----------------------------------------------------------------------------

    def selected_user(self) -> UserRow | None:
        rows = self.users_table.selectionModel().selectedRows()
        return self.users_model.row(rows[0].row()) if rows else None

    def select_user(self, email: str) -> None:
        row = self.users_model.row_of(email)
        if row is not None:
            self.users_table.selectRow(row)

    def selected_domain(self) -> DomainRow | None:
        rows = self.domains_table.selectionModel().selectedRows()
        return self.domains_model.row(rows[0].row()) if rows else None

    def _user_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        user = self.selected_user()
        if user is not None:
            self.role_box.setCurrentIndex(list(Role).index(user.role))
        self._update_buttons()

    def _update_buttons(self) -> None:
        user = self.selected_user()
        self.role_box.setEnabled(user is not None)
        self.role_button.setEnabled(user is not None)
        self.active_button.setEnabled(user is not None)
        self.active_button.setText("Reactivate" if user is not None and not user.active
                                   else "Deactivate")
        self.db_account_button.setEnabled(user is not None)
        self.db_account_button.setText(
            "New database password" if user is not None and user.db_account
            else "Create database account")
        self.remove_domain_button.setEnabled(self.selected_domain() is not None)

    # --- changes -------------------------------------------------------------------------------

    def add_user(self) -> None:
        email, name = self.email_edit.text(), self.name_edit.text()
        role = Role(self.new_role_box.currentData())  # Qt hands the enum back as a str
        if not email.strip():
            self.show_message("Type the new user's email address first.")
            return
        stored = [u for u in self.users_model.rows if u.id != LOCAL_USER_ID]
        if (self.local_mode and role is not Role.ADMIN and not _has_active_admin(stored)
                and not LockOutWarning.ask(self, email.strip(), role)):
            self.show_message("Nobody was added. Add yourself as an admin first.")
            return
        engine, actor = self.engine, self.actor

        def added(user: UserRow) -> None:
            self.email_edit.clear()
            self.name_edit.clear()
            self._done(f"Added {user.email} as {user.role.value}.", select=user.email)

        self._run(lambda: add_user(engine, email, role=role, name=name, actor=actor),
                  "Adding a user", added)

    def change_role(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        role: Role = self.role_box.currentData()
        engine, actor, email = self.engine, self.actor, user.email
        self._run(lambda: set_role(engine, email, role, actor=actor), "Changing a role",
                  lambda u: self._done(f"{u.email} is now {u.role.value}.", select=u.email))

    def toggle_active(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        engine, actor, email, active = self.engine, self.actor, user.email, not user.active
        self._run(lambda: set_active(engine, email, active, actor=actor),
                  "Changing an account",
                  lambda u: self._done(f"{u.email} is "
                                       f"{'active again' if u.active else 'deactivated'}.",
                                       select=u.email))

    def make_db_account(self) -> None:
        """Create the selected person's database account, or give theirs a new password;
        the one-time password is shown once, in a dialog with a Copy button."""
        user = self.selected_user()
        if user is None:
            return
        engine, actor, email = self.engine, self.actor, user.email
        renew = bool(user.db_account)

        def work() -> DbCredentials:
            if renew:
                return reset_db_password(engine, email, actor=actor)
            return create_db_account(engine, email, actor=actor)

        def made(credentials: DbCredentials) -> None:
            self.credentials_dialog = DbCredentialsDialog(credentials, self)
            self.credentials_dialog.open()
            self._done(f"{credentials.email} has the database account "
                       f"{credentials.account}; pass its one-time password on privately.",
                       select=credentials.email)

        self._run(work, "Making a database account", made)

    def allow_domain(self) -> None:
        domain = self.domain_edit.text()
        if not domain.strip():
            self.show_message("Type a domain first, like example.com.")
            return
        role: Role = self.domain_role_box.currentData()
        engine, actor = self.engine, self.actor

        def allowed(row: DomainRow) -> None:
            self.domain_edit.clear()
            self._done(f"Anyone at {row.domain} may now sign in as {row.role.value}.")

        self._run(lambda: allow_domain(engine, domain, role=role, actor=actor),
                  "Allowing a domain", allowed)

    def remove_domain(self) -> None:
        row = self.selected_domain()
        if row is None:
            return
        engine, actor, domain = self.engine, self.actor, row.domain
        self._run(lambda: remove_domain(engine, domain, actor=actor), "Removing a domain",
                  lambda _none: self._done(f"{domain} is no longer allowed."))

    def _run(self, work: Callable[[], Any], title: str,
             done: Callable[[Any], None]) -> None:
        self.runner.run(lambda _ctx: work(), title=title, on_success=done,
                        on_error=self._failed)

    def _done(self, text: str, select: str | None = None) -> None:
        self.show_message(text)
        self.changed.emit(text)
        self.refresh()
        if select is not None:
            self.loaded.connect(lambda: self.select_user(select),
                                Qt.ConnectionType.SingleShotConnection)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, TaskCancelled):
            return
        if isinstance(exc, MiniCRMError):
            self.show_message(str(exc))
            return
        import sys

        sys.excepthook(type(exc), exc, exc.__traceback__)

    def show_message(self, text: str) -> None:
        self.message.setText(text)

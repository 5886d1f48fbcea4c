"""The panel beside the customers table: one customer's contact, aggregates, tags, orders."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Permission, can
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.tasks import TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.services.customers.rows import CustomerDetail
from minicrm_desktop.views.common.formatting import format_date, format_datetime, format_money
from minicrm_desktop.views.common.widgets import TagChip

if TYPE_CHECKING:
    from sqlalchemy import Engine

    # The edits module (with the import and bulk-load code it shares) loads when the
    # panel first edits a customer, not while the window is made.
    from minicrm_desktop.services.customers.edits import (
        CustomerChanges,
        EditableCustomer,
        EditResult,
    )


class CustomerDetailPanel(QWidget):
    #: The detail of the customer asked for last has been shown (its id, or None).
    shown = Signal(object)

    #: An edit was saved (the customer's id).
    saved = Signal(int)

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QWidget | None = None, *, bus: EventBus | None = None,
                 actor: Actor = LOCAL_ADMIN) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self._bus = bus
        self._actor = actor
        self.editing: EditableCustomer | None = None
        self._edit_handle: TaskHandle[Any] | None = None
        self._wanted: int | None = None
        self._handle: TaskHandle[Any] | None = None
        self.detail: CustomerDetail | None = None
        self.setMinimumWidth(240)  # its orders table still reads whole

        self._stack = QStackedWidget()
        self._empty = QLabel("Select a customer to see their orders and tags.")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setEnabled(False)
        self._stack.addWidget(self._empty)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 8, 8, 8)
        self.name_label = QLabel()
        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setWordWrap(True)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.name_label)
        # The email gets the panel's full width: addresses are long and do not wrap.
        self.email_label = QLabel()
        self.email_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.email_label)
        self._build_editor(layout)

        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        for key, title in (
            ("phone", "Phone"), ("city", "City"),
            ("signup_date", "Signed up"), ("visits", "Visits"), ("last_visit", "Last visit"),
            ("subscribed", "Subscribed"), ("order_count", "Orders"),
            ("total_spend", "Total spend"), ("average", "Average order"),
            ("first_order", "First order"), ("last_order", "Last order"),
        ):
            label = QLabel()
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(title, label)
        layout.addLayout(form)

        layout.addWidget(_heading("Tags"))
        self._tags_row = QHBoxLayout()
        self._tags_row.setSpacing(6)
        self._tags_box = QWidget()
        self._tags_box.setLayout(self._tags_row)
        layout.addWidget(self._tags_box)

        self.orders_heading = _heading("Orders")
        layout.addWidget(self.orders_heading)
        self.orders_table = QTableWidget(0, 3)
        self.orders_table.setHorizontalHeaderLabels(["Order", "Date", "Amount"])
        self.orders_table.verticalHeader().setVisible(False)
        self.orders_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.orders_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.orders_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.orders_table, 1)
        self._stack.addWidget(body)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._stack)

    def show_customer(self, customer_id: int | None) -> None:
        """Show a customer; the query runs in the background, stale answers are dropped."""
        if self.editing is not None and customer_id != self.editing.id:
            self.cancel_edit()  # another customer: the open edit is theirs no longer
        self._wanted = customer_id
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if customer_id is None:
            self.detail = None
            self._stack.setCurrentIndex(0)
            self.shown.emit(None)
            return
        engine = self._engine

        def task(_ctx: TaskContext) -> CustomerDetail | None:
            from minicrm_desktop.services.customers.queries import customer_detail

            with engine.connect() as conn:
                return customer_detail(conn, customer_id)

        self._handle = self._runner.run(
            task, title="Loading customer", quiet=True,
            on_success=lambda d: self._on_detail(customer_id, d),
        )

    def _on_detail(self, customer_id: int, detail: CustomerDetail | None) -> None:
        if customer_id != self._wanted:
            return
        self._handle = None
        self.detail = detail
        if detail is None:
            self._empty.setText("This customer no longer exists.")
            self._stack.setCurrentIndex(0)
        else:
            self._fill(detail)
            self._stack.setCurrentIndex(1)
        self.shown.emit(customer_id)

    def _fill(self, d: CustomerDetail) -> None:
        c = d.customer
        self.name_label.setText(c.name or c.email)
        self.email_label.setText(c.email)
        avg = d.avg_order_value_minor
        values = {
            "phone": c.phone or "—", "city": c.city or "—",
            "signup_date": format_date(c.signup_date), "visits": f"{c.visits:,}",
            "last_visit": format_datetime(d.last_visit) or "—",
            "subscribed": "Yes" if c.subscribed else "No",
            "order_count": f"{c.order_count:,}",
            "total_spend": format_money(c.total_spend_minor),
            "average": format_money(avg) if avg is not None else "—",
            "first_order": format_date(d.first_order_at) or "—",
            "last_order": format_date(c.last_order_at) or "—",
        }
        for key, text in values.items():
            self.fields[key].setText(text)
        while self._tags_row.count():
            item = self._tags_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        if d.tags:
            for name in d.tags:
                self._tags_row.addWidget(TagChip(name))
        else:
            none = QLabel("No tags")
            none.setEnabled(False)
            self._tags_row.addWidget(none)
        self._tags_row.addStretch(1)
        shown = len(d.orders)
        self.orders_heading.setText(
            f"Orders ({d.orders_total:,})" if shown == d.orders_total
            else f"Orders (newest {shown:,} of {d.orders_total:,})"
        )
        self.orders_table.setRowCount(shown)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for i, order in enumerate(d.orders):
            self.orders_table.setItem(i, 0, QTableWidgetItem(order.order_id))
            date_item = QTableWidgetItem(format_date(order.order_date))
            date_item.setToolTip(format_datetime(order.order_date))
            self.orders_table.setItem(i, 1, date_item)
            amount = QTableWidgetItem(format_money(order.amount_minor))
            amount.setTextAlignment(right)
            self.orders_table.setItem(i, 2, amount)

    # --- editing -------------------------------------------------------------------------

    def _build_editor(self, layout: QVBoxLayout) -> None:
        """The Edit button and the form it opens (hidden until then)."""
        row = QHBoxLayout()
        self.edit_button = QPushButton("Edit")
        self.edit_button.setObjectName("edit_customer_button")
        self.edit_button.setToolTip("Edit this customer (F2)")
        self.edit_button.clicked.connect(self.start_edit)
        # Viewers may not edit: the button is not there for them (the service checks too).
        self.edit_button.setVisible(can(self._actor, Permission.EDIT_CUSTOMERS))
        row.addWidget(self.edit_button)
        row.addStretch(1)
        layout.addLayout(row)

        self.editor = QWidget()
        self.editor.setObjectName("customer_editor")
        form = QFormLayout(self.editor)
        form.setContentsMargins(0, 0, 0, 0)
        self.name_edit, self.phone_edit = QLineEdit(), QLineEdit()
        self.city_edit, self.tags_edit = QLineEdit(), QLineEdit()
        self.tags_edit.setPlaceholderText("comma-separated, e.g. vip, newsletter")
        self.subscribed_check = QCheckBox("Subscribed")
        for title, edit in (("Name", self.name_edit), ("Phone", self.phone_edit),
                            ("City", self.city_edit), ("Tags", self.tags_edit)):
            edit.setAccessibleName(title)
            edit.returnPressed.connect(self.save_edit)
            form.addRow(title, edit)
        form.addRow("", self.subscribed_check)
        self.edit_message = QLabel()
        self.edit_message.setObjectName("edit_message")
        self.edit_message.setWordWrap(True)
        self.edit_message.setStyleSheet("color: #c62828;")
        form.addRow(self.edit_message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_edit_button = QPushButton("Cancel")
        self.cancel_edit_button.setToolTip("Discard the changes (Escape)")
        self.cancel_edit_button.clicked.connect(self.cancel_edit)
        buttons.addWidget(self.cancel_edit_button)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the changes (Ctrl+S or Enter)")
        self.save_button.clicked.connect(self.save_edit)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        self.editor.setVisible(False)
        layout.addWidget(self.editor)
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in ((QKeySequence.StandardKey.Save, self.save_edit),
                           (QKeySequence(Qt.Key.Key_Escape), self.cancel_edit)):
            shortcut = QShortcut(keys, self.editor)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)

    def start_edit(self) -> None:
        """Read the customer's editable values (and their version) and open the form."""
        if (self.detail is None or self.editing is not None or self._edit_handle is not None
                or not can(self._actor, Permission.EDIT_CUSTOMERS)):
            return
        engine, customer_id = self._engine, self.detail.customer.id

        def task(_ctx: TaskContext) -> EditableCustomer:
            from minicrm_desktop.services.customers.edits import read_customer

            return read_customer(engine, customer_id)

        self._edit_handle = self._runner.run(
            task, title="Opening customer", quiet=True, on_success=self._open_editor,
            on_error=self._edit_failed)

    def _open_editor(self, customer: EditableCustomer) -> None:
        self._edit_handle = None
        if self.detail is None or self.detail.customer.id != customer.id:
            return  # the user moved on while it was read
        self.editing = customer
        self.name_edit.setText(customer.name or "")
        self.phone_edit.setText(customer.phone or "")
        self.city_edit.setText(customer.city or "")
        self.tags_edit.setText(", ".join(customer.tags))
        self.subscribed_check.setChecked(customer.subscribed)
        self.edit_message.clear()
        self.edit_button.setEnabled(False)
        self.editor.setVisible(True)
        self.name_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def changes(self) -> CustomerChanges:
        """What the form holds; blank text clears a field."""
        from minicrm_desktop.services.customers.edits import CustomerChanges

        tags = [t.strip() for t in self.tags_edit.text().split(",") if t.strip()]
        return CustomerChanges(name=self.name_edit.text(), phone=self.phone_edit.text(),
                               city=self.city_edit.text(), tags=tags,
                               subscribed=self.subscribed_check.isChecked())

    def save_edit(self) -> None:
        if self.editing is None or self._edit_handle is not None:
            return
        engine, actor, editing = self._engine, self._actor, self.editing
        changes = self.changes()

        def task(_ctx: TaskContext) -> EditResult:
            from minicrm_desktop.services.customers.edits import edit_customer

            return edit_customer(engine, editing.id, changes, expected=editing.version,
                                 actor=actor)

        self.edit_message.setText("Saving…")
        self.save_button.setEnabled(False)
        self._edit_handle = self._runner.run(
            task, title=f"Saving {editing.email}", quiet=True, on_success=self._saved,
            on_error=self._edit_failed)

    def _saved(self, result: EditResult) -> None:
        self._edit_handle = None
        self._close_editor()
        self.saved.emit(result.customer.id)
        if result.changed and self._bus is not None:
            self._bus.customers_changed.emit()  # the table (and this panel) read it again
        else:
            self.show_customer(result.customer.id)

    def _edit_failed(self, exc: BaseException) -> None:
        """A refused value or a stale edit: said in the panel, the typed values kept."""
        from minicrm_desktop.services.customers.edits import StaleCustomer

        self._edit_handle = None
        self.save_button.setEnabled(True)
        if isinstance(exc, StaleCustomer):
            self.edit_message.setText(f"Not saved: {exc}")
        elif isinstance(exc, MiniCRMError):
            self.edit_message.setText(f"Not saved — {exc}")
        else:
            self.edit_message.setText(f"Could not save: {exc}")
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def cancel_edit(self) -> None:
        """Discard the form's values; nothing is written."""
        if self._edit_handle is not None:
            self._edit_handle.cancel()
            self._edit_handle = None
        self._close_editor()

    def _close_editor(self) -> None:
        self.editing = None
        self.edit_message.clear()
        self.save_button.setEnabled(True)
        self.edit_button.setEnabled(True)
        self.editor.setVisible(False)

    def tag_names(self) -> list[str]:
        return list(self.detail.tags) if self.detail else []


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(0, 8, 0, 0)
    return label

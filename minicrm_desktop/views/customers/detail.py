"""The panel beside the customers table: one customer's contact, aggregates, tags, orders."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.services.core.tasks import TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.services.customers.queries import CustomerDetail, customer_detail
from minicrm_desktop.views.common.formatting import format_date, format_datetime, format_money
from minicrm_desktop.views.common.widgets import TagChip


class CustomerDetailPanel(QWidget):
    #: The detail of the customer asked for last has been shown (its id, or None).
    shown = Signal(object)

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self._wanted: int | None = None
        self._handle: TaskHandle[Any] | None = None
        self.detail: CustomerDetail | None = None
        self.setMinimumWidth(260)

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

    def tag_names(self) -> list[str]:
        return list(self.detail.tags) if self.detail else []


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(0, 8, 0, 0)
    return label

"""The customers table model: a million rows without loading them.

A background task computes the ordered ids of the current view (search + sort, both in
SQL); the first few hundred arrive ahead of the rest so the first page shows at once.
Rows are then read a page at a time by primary key, in a background task, when the view
first asks for them in `data()`; the cells fill in (`dataChanged`) a moment later and the
page stays in a small cache. The GUI thread never waits for the database, even a remote one.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from minicrm_desktop.services.core.tasks import TaskCancelled, TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.services.customers.rows import CustomerQuery, CustomerRow
from minicrm_desktop.views.common.formatting import format_date, format_datetime, format_money

if TYPE_CHECKING:
    # SQLAlchemy, the models and the queries load in the tasks that read (after the
    # window's first paint), not when the page is built.
    from sqlalchemy import Engine

ModelIndex = QModelIndex | QPersistentModelIndex


@dataclasses.dataclass(frozen=True)
class Column:
    key: str  # a CustomerQuery sort key
    title: str
    numeric: bool = False


# What marketers scan first comes first, so it shows beside the detail panel at 1280 px.
COLUMNS = (
    Column("name", "Name"),
    Column("email", "Email"),
    Column("city", "City"),
    Column("total_spend", "Total spend", numeric=True),
    Column("order_count", "Orders", numeric=True),
    Column("last_order_at", "Last order"),
    Column("signup_date", "Signed up"),
    Column("phone", "Phone"),
    Column("subscribed", "Subscribed"),
)

PAGE_SIZE = 200
FIRST_CHUNK = 400
MAX_CACHED_PAGES = 64
CustomerIdRole = Qt.ItemDataRole.UserRole + 1


class CustomerTableModel(QAbstractTableModel):
    #: True while the ids of the view are being computed.
    loading_changed = Signal(bool)
    #: The number of customers in the view, once all ids are known.
    count_changed = Signal(int)
    #: The view's ids failed to load (message).
    load_failed = Signal(str)
    #: A page of rows arrived (its number); its cells were refreshed.
    page_loaded = Signal(int)

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self._query = CustomerQuery()
        self._ids: array[int] = array("q")
        self._complete = True
        self._pages: OrderedDict[int, list[CustomerRow | None]] = OrderedDict()
        self._loading_pages: set[int] = set()
        self._epoch = 0  # bumped whenever the ids are replaced: older page reads are stale
        self._generation = 0
        self._handle: TaskHandle[Any] | None = None
        self.page_fetches = 0  # pages read from the database (tests and benchmark)
        #: True while the reset that ends a refresh (same query, new data) runs.
        self.refreshing = False

    # --- the view's query ----------------------------------------------------------------

    @property
    def query(self) -> CustomerQuery:
        return self._query

    @property
    def loading(self) -> bool:
        return self._handle is not None

    @property
    def total(self) -> int | None:
        """Customers in the view, or None while the count is still coming."""
        return len(self._ids) if self._complete else None

    def set_query(self, query: CustomerQuery) -> None:
        """Show another search or sort: the first rows come as soon as they are read."""
        self._query = query
        self._load(show_first_chunk=True)

    def set_search(self, text: str) -> None:
        if text.strip() != self._query.search:
            self.set_query(dataclasses.replace(self._query, search=text.strip()))

    def refresh(self) -> None:
        """Reload after the data changed; the old rows stay until the new ids are in."""
        self._load(show_first_chunk=False)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        query = dataclasses.replace(self._query, sort=COLUMNS[column].key,
                                    descending=order == Qt.SortOrder.DescendingOrder)
        if query != self._query:
            self.set_query(query)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self.loading_changed.emit(False)

    def _load(self, *, show_first_chunk: bool) -> None:
        if self._handle is not None:
            self._handle.cancel()  # its results will be recognised as stale
        self._generation += 1
        generation = self._generation
        if show_first_chunk:
            # Another query: pages still being read belong to the old one, drop them.
            self._epoch += 1
            self._loading_pages.clear()
        query, engine = self._query, self._engine
        first = FIRST_CHUNK if show_first_chunk else 0

        def task(ctx: TaskContext) -> array[int] | None:
            from minicrm_desktop.services.customers.queries import ordered_ids

            with engine.connect() as conn:
                return ordered_ids(conn, query, first_chunk=first,
                                   on_first_chunk=ctx.partial, should_cancel=ctx.cancelled)

        handle = self._runner.run(task, title="Loading customers", quiet=True,
                                  on_error=lambda exc: self._on_error(generation, exc))
        handle.partial.connect(lambda ids: self._on_first_chunk(generation, ids))
        handle.succeeded.connect(lambda ids: self._on_ids(generation, ids))
        self._handle = handle
        self.loading_changed.emit(True)

    def _on_first_chunk(self, generation: int, ids: array[int]) -> None:
        if generation != self._generation:
            return
        self._reset(ids, complete=False)

    def _on_ids(self, generation: int, ids: array[int] | None) -> None:
        if generation != self._generation or ids is None:
            return
        self._handle = None
        shown = len(self._ids)
        if not self._complete and ids[:shown] == self._ids:
            # The first chunk is on screen: append the rest, keeping scroll and selection.
            if len(ids) > shown:
                self.beginInsertRows(QModelIndex(), shown, len(ids) - 1)
                self._ids = ids
                self._complete = True
                self.endInsertRows()
            self._complete = True
        elif self._complete and ids == self._ids:
            # A refresh found the same rows: re-read the cells, keep everything else.
            self._pages.clear()
            self._loading_pages.clear()
            self._epoch += 1
            if ids:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(ids) - 1, len(COLUMNS) - 1))
        else:
            self.refreshing = self._complete
            try:
                self._reset(ids, complete=True)
            finally:
                self.refreshing = False
        self.loading_changed.emit(False)
        self.count_changed.emit(len(ids))

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation or isinstance(exc, TaskCancelled):
            return
        self._handle = None
        self.loading_changed.emit(False)
        self.load_failed.emit(str(exc))

    def _reset(self, ids: array[int], *, complete: bool) -> None:
        self.beginResetModel()
        self._ids = ids
        self._complete = complete
        self._pages.clear()
        self._loading_pages.clear()
        self._epoch += 1
        self.endResetModel()

    # --- rows ----------------------------------------------------------------------------

    def customer_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, customer_id: int) -> int | None:
        """The row showing a customer, if it is in the view (a C-speed scan of the ids)."""
        try:
            return self._ids.index(customer_id)
        except ValueError:
            return None

    def row_data(self, row: int) -> CustomerRow | None:
        """The row if its page is here; otherwise None, and the page starts loading."""
        if not 0 <= row < len(self._ids):
            return None
        page = self._page(row // PAGE_SIZE)
        return None if page is None else page[row % PAGE_SIZE]

    def is_row_loaded(self, row: int) -> bool:
        return row // PAGE_SIZE in self._pages

    def _page(self, page_no: int) -> list[CustomerRow | None] | None:
        page = self._pages.get(page_no)
        if page is None:
            self._request_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page

    def _request_page(self, page_no: int) -> None:
        if page_no in self._loading_pages:
            return
        self._loading_pages.add(page_no)
        start = page_no * PAGE_SIZE
        ids = self._ids[start:start + PAGE_SIZE]
        engine, epoch = self._engine, self._epoch

        def task(_ctx: TaskContext) -> dict[int, CustomerRow]:
            # One indexed primary-key lookup of at most PAGE_SIZE rows.
            from minicrm_desktop.services.customers.queries import fetch_rows

            with engine.connect() as conn:
                return {r.id: r for r in fetch_rows(conn, ids)}

        self._runner.run(
            task, title="Loading customers", quiet=True,
            on_success=lambda rows: self._on_page(epoch, page_no, ids, rows),
            on_error=lambda exc: self._on_page_error(epoch, page_no, exc),
        )

    def _on_page(self, epoch: int, page_no: int, ids: array[int],
                 rows: dict[int, CustomerRow]) -> None:
        if epoch != self._epoch:
            return  # the view changed meanwhile: these ids are gone
        self._loading_pages.discard(page_no)
        # A row missing from the result was deleted since the ids were read.
        self._pages[page_no] = [rows.get(i) for i in ids]
        self.page_fetches += 1
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        first = page_no * PAGE_SIZE
        last = min(first + len(ids), len(self._ids)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        self.page_loaded.emit(page_no)

    def _on_page_error(self, epoch: int, page_no: int, exc: BaseException) -> None:
        if epoch != self._epoch:
            return
        self._loading_pages.discard(page_no)  # asked for again when next shown
        if not isinstance(exc, TaskCancelled):
            self.load_failed.emit(str(exc))

    # --- QAbstractTableModel -------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section].title
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _alignment(COLUMNS[section])
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        column = COLUMNS[index.column()] if 0 <= index.column() < len(COLUMNS) else None
        if column is None:
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                        CustomerIdRole):
            return None
        if role == CustomerIdRole:
            return self.customer_id(index.row())
        row = self.row_data(index.row())
        if row is None:
            if role != Qt.ItemDataRole.DisplayRole:
                return None
            if not self.is_row_loaded(index.row()):
                return "…" if index.column() == 0 else ""  # its page is on its way
            return "(deleted)" if index.column() == 0 else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(column.key, row)
        return _display(column.key, row)


def _alignment(column: Column) -> int:
    horizontal = Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
    return int(horizontal | Qt.AlignmentFlag.AlignVCenter)


def _display(key: str, row: CustomerRow) -> str:
    match key:
        case "name":
            return row.name or ""
        case "email":
            return row.email
        case "phone":
            return row.phone or ""
        case "city":
            return row.city or ""
        case "signup_date":
            return format_date(row.signup_date)
        case "order_count":
            return f"{row.order_count:,}"
        case "total_spend":
            return format_money(row.total_spend_minor)
        case "last_order_at":
            return format_date(row.last_order_at)
        case "subscribed":
            return "Yes" if row.subscribed else "No"
    return ""


def _tooltip(key: str, row: CustomerRow) -> str | None:
    if key == "signup_date":
        return format_datetime(row.signup_date)
    if key == "last_order_at":
        return format_datetime(row.last_order_at) or None
    if key in ("name", "email", "city", "phone"):
        return _display(key, row) or None  # the whole text where the cell elides it
    return None

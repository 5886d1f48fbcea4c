"""The customers table model: lazy pages, SQL sort and search, checked by qtmodeltester."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, insert, text

from minicrm_desktop.models import Customer
from minicrm_desktop.models.money import format_money
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.customers.queries import CustomerQuery, CustomerRow
from minicrm_desktop.views.customers.table_model import (
    COLUMNS,
    FIRST_CHUNK,
    PAGE_SIZE,
    CustomerIdRole,
    CustomerTableModel,
)

from .conftest import SEED_ANCHOR, SMALL_CUSTOMERS


def loaded_model(engine: Engine, runner: TaskRunner, qtbot: QtBot,
                 query: CustomerQuery | None = None) -> CustomerTableModel:
    model = CustomerTableModel(engine, runner)
    with qtbot.waitSignal(model.count_changed, timeout=10_000):
        model.set_query(query or CustomerQuery())
    return model


def row_now(model: CustomerTableModel, qtbot: QtBot, row: int) -> CustomerRow:
    """The row, waiting for its page to arrive from the background task."""
    if not model.is_row_loaded(row):
        with qtbot.waitSignal(model.page_loaded, timeout=10_000):
            assert model.row_data(row) is None  # not there yet: the read has started
    found = model.row_data(row)
    assert found is not None
    return found


def col(key: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.key == key)


def test_model_passes_qtmodeltester(seeded_engine: Engine, runner: TaskRunner,
                                    qtbot: QtBot, qtmodeltester: ModelTester) -> None:
    model = loaded_model(seeded_engine, runner, qtbot, CustomerQuery(search="delhi"))
    assert model.rowCount() > 0
    qtmodeltester.check(model)  # placeholders while pages load
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=10_000)
    qtmodeltester.check(model)  # and the loaded rows


def test_rows_load_page_by_page_on_demand(seeded_engine: Engine, runner: TaskRunner,
                                          qtbot: QtBot) -> None:
    model = loaded_model(seeded_engine, runner, qtbot)
    assert model.rowCount() == SMALL_CUSTOMERS
    assert model.columnCount() == len(COLUMNS)
    assert model.page_fetches == 0  # nothing read until a row is asked for
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    # Asking shows a placeholder at once; the page arrives off the GUI thread.
    with qtbot.waitSignal(model.page_loaded, timeout=10_000) as first:
        assert model.data(model.index(0, col("name"))) == "…"
        assert model.data(model.index(5, col("email"))) == ""
    assert first.args == [0]
    assert changed == [(0, PAGE_SIZE - 1)]
    assert model.page_fetches == 1
    assert model.data(model.index(5, col("email"))).endswith(".com") or \
        "@" in model.data(model.index(5, col("email")))
    last = SMALL_CUSTOMERS - 1
    with seeded_engine.connect() as conn:
        last_email = conn.execute(text("SELECT email FROM customers ORDER BY id DESC LIMIT 1")
                                  ).scalar_one()
    assert row_now(model, qtbot, last).email == last_email
    assert model.data(model.index(last, col("email"))) == last_email
    assert model.page_fetches == 2
    row_now(model, qtbot, PAGE_SIZE)
    assert model.page_fetches == 3


def test_stale_pages_are_dropped(seeded_engine: Engine, runner: TaskRunner,
                                 qtbot: QtBot) -> None:
    """A page read for the previous search must not fill the rows of the new one."""
    model = loaded_model(seeded_engine, runner, qtbot)
    assert model.row_data(0) is None  # a read for the unfiltered view starts
    with qtbot.waitSignal(model.count_changed, timeout=10_000):
        model.set_search("pune")
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=10_000)
    assert model.page_fetches == 0
    first = row_now(model, qtbot, 0)
    assert first.city == "Pune" or "pune" in first.email


def test_first_rows_show_before_all_ids_arrive(seeded_engine: Engine, runner: TaskRunner,
                                               qtbot: QtBot) -> None:
    model = CustomerTableModel(seeded_engine, runner)
    events: list[tuple[str, int, int | None]] = []
    model.modelReset.connect(lambda: events.append(("reset", model.rowCount(), model.total)))
    model.rowsInserted.connect(
        lambda *_: events.append(("inserted", model.rowCount(), model.total)))
    with qtbot.waitSignal(model.count_changed, timeout=10_000):
        model.set_query(CustomerQuery())
    # The first chunk is shown (count unknown yet), then the rest is appended in place.
    assert events == [("reset", FIRST_CHUNK, None),
                      ("inserted", SMALL_CUSTOMERS, SMALL_CUSTOMERS)]


def test_money_dates_and_flags_are_formatted(seeded_engine: Engine, runner: TaskRunner,
                                             qtbot: QtBot) -> None:
    model = loaded_model(seeded_engine, runner, qtbot,
                         CustomerQuery(sort="total_spend", descending=True))
    top = row_now(model, qtbot, 0)
    assert model.data(model.index(0, col("total_spend"))) == format_money(
        top.total_spend_minor)
    assert str(model.data(model.index(0, col("total_spend")))).startswith("₹")
    assert model.data(model.index(0, col("signup_date"))) == \
        top.signup_date.astimezone().strftime("%d %b %Y")
    assert model.data(model.index(0, col("subscribed"))) in ("Yes", "No")
    alignment = model.data(model.index(0, col("total_spend")), Qt.ItemDataRole.TextAlignmentRole)
    assert alignment & int(Qt.AlignmentFlag.AlignRight)
    assert model.data(model.index(0, 0), CustomerIdRole) == top.id


def test_sorting_is_done_in_sql(seeded_engine: Engine, runner: TaskRunner,
                                qtbot: QtBot) -> None:
    model = loaded_model(seeded_engine, runner, qtbot)
    with qtbot.waitSignal(model.count_changed, timeout=10_000):
        model.sort(col("total_spend"), Qt.SortOrder.DescendingOrder)
    with seeded_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT id FROM customers ORDER BY total_spend_minor DESC, id DESC LIMIT 300"
        )).scalars().all()
    assert [model.customer_id(r) for r in range(300)] == expected
    assert model.query == CustomerQuery(sort="total_spend", descending=True)


def test_search_filters_rows(seeded_engine: Engine, runner: TaskRunner, qtbot: QtBot) -> None:
    model = loaded_model(seeded_engine, runner, qtbot)
    with qtbot.waitSignal(model.count_changed, timeout=10_000) as blocker:
        model.set_search("Pune")
    with seeded_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM customers WHERE name_norm LIKE '%pune%' OR email_norm LIKE "
            "'%pune%' OR phone_norm LIKE '%pune%' OR city_norm LIKE '%pune%'")).scalar_one()
    assert blocker.args == [expected]
    assert 0 < model.rowCount() == expected < SMALL_CUSTOMERS
    for r in range(0, model.rowCount(), PAGE_SIZE):
        row_now(model, qtbot, r)
    assert all(model.data(model.index(r, col("city"))) == "Pune"
               or "pune" in str(model.data(model.index(r, col("email")))).lower()
               for r in range(model.rowCount()))


def test_refresh_shows_new_customers(seeded_engine: Engine, runner: TaskRunner,
                                     qtbot: QtBot) -> None:
    model = loaded_model(seeded_engine, runner, qtbot)
    with seeded_engine.begin() as conn:
        conn.execute(insert(Customer), [{
            "email": "new.person@example.com", "email_norm": "new.person@example.com",
            "name": "New Person", "name_norm": "new person", "signup_date": SEED_ANCHOR,
        }])
    with qtbot.waitSignal(model.count_changed, timeout=10_000) as blocker:
        model.refresh()
    assert blocker.args == [SMALL_CUSTOMERS + 1]
    assert row_now(model, qtbot, SMALL_CUSTOMERS).email == "new.person@example.com"
    assert model.data(model.index(SMALL_CUSTOMERS, col("email"))) == "new.person@example.com"


def test_a_newer_query_wins_over_a_stale_one(seeded_engine: Engine, runner: TaskRunner,
                                             qtbot: QtBot) -> None:
    model = loaded_model(seeded_engine, runner, qtbot)
    counts: list[int] = []
    model.count_changed.connect(counts.append)
    model.set_search("zzz-no-such-customer")
    with qtbot.waitSignal(model.count_changed, timeout=10_000):
        model.set_search("")
    qtbot.waitUntil(lambda: not model.loading and runner.active_count == 0, timeout=10_000)
    assert counts == [SMALL_CUSTOMERS]
    assert model.rowCount() == SMALL_CUSTOMERS

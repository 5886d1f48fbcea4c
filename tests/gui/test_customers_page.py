"""The customers page: search box, selection -> detail panel, export of the view."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.money import format_money
from minicrm_desktop.views.common.file_dialogs import SaveCsvDialog

from .conftest import SMALL_CUSTOMERS


def _loaded(app_ctx: AppContext, qtbot: QtBot) -> None:
    model = app_ctx.window.customers_page.model
    qtbot.waitUntil(lambda: model.total == SMALL_CUSTOMERS, timeout=10_000)


def test_typing_a_search_filters_after_a_pause(app_ctx: AppContext, qtbot: QtBot) -> None:
    _loaded(app_ctx, qtbot)
    page = app_ctx.window.customers_page
    with qtbot.waitSignal(page.model.count_changed, timeout=10_000) as blocker:
        qtbot.keyClicks(page.search, "gmail")
    with app_ctx.engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM customers WHERE email_norm LIKE '%gmail%' OR name_norm "
            "LIKE '%gmail%' OR city_norm LIKE '%gmail%' OR phone_norm LIKE '%gmail%'"
        )).scalar_one()
    assert blocker.args == [expected]
    assert page.count_label.text() == f"{expected:,} customers match “gmail”"


def test_selecting_a_customer_shows_orders_and_tags(app_ctx: AppContext,
                                                    qtbot: QtBot) -> None:
    _loaded(app_ctx, qtbot)
    page = app_ctx.window.customers_page
    with app_ctx.engine.connect() as conn:
        cid = conn.execute(text(
            "SELECT c.id FROM customers c WHERE order_count >= 2 AND EXISTS (SELECT 1 FROM "
            "customer_tags t WHERE t.customer_id = c.id) ORDER BY c.id LIMIT 1")).scalar_one()
        tags = conn.execute(text(
            "SELECT t.name FROM tags t JOIN customer_tags ct ON ct.tag_id = t.id WHERE "
            "ct.customer_id = :c ORDER BY t.name_norm"), {"c": cid}).scalars().all()
        spend, orders = conn.execute(text(
            "SELECT total_spend_minor, order_count FROM customers WHERE id = :c"),
            {"c": cid}).one()
    row = next(r for r in range(page.model.rowCount()) if page.model.customer_id(r) == cid)
    with qtbot.waitSignal(page.detail.shown, timeout=5000) as blocker:
        page.table.selectRow(row)
    assert blocker.args == [cid]
    assert page.detail.tag_names() == tags
    assert page.detail.orders_table.rowCount() == orders
    assert page.detail.fields["total_spend"].text() == format_money(spend)
    assert page.detail.orders_heading.text() == f"Orders ({orders})"


def test_export_writes_the_current_view(app_ctx: AppContext, qtbot: QtBot, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _loaded(app_ctx, qtbot)
    page = app_ctx.window.customers_page
    with qtbot.waitSignal(page.model.count_changed, timeout=10_000) as blocker:
        page.search.setText("bengaluru")
        page.apply_search()
    shown = blocker.args[0]
    target = tmp_path / "bengaluru.csv"
    monkeypatch.setattr(SaveCsvDialog, "ask", classmethod(lambda cls, *a, **k: target))
    with qtbot.waitSignal(page.export_finished, timeout=10_000) as done:
        page.export_button.click()
    assert done.args == [target, shown]
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == shown
    qtbot.waitUntil(lambda: page.model.row_data(19) is not None, timeout=10_000)
    assert [r["email"] for r in rows[:20]] == [
        page.model.row_data(i).email for i in range(20)  # type: ignore[union-attr]
    ]
    assert all(r["city"] == "Bengaluru" or "bengaluru" in r["email"] for r in rows)


def test_selection_survives_a_refresh(app_ctx: AppContext, qtbot: QtBot) -> None:
    _loaded(app_ctx, qtbot)
    page = app_ctx.window.customers_page
    with qtbot.waitSignal(page.detail.shown, timeout=5000):
        page.table.selectRow(42)
    chosen = page.model.customer_id(42)
    # The reset clears the panel (shown(None)); then the same customer comes back.
    with qtbot.waitSignal(page.detail.shown, timeout=10_000,
                          check_params_cb=lambda cid: cid == chosen):
        app_ctx.bus.customers_changed.emit()
    assert page.table.selectionModel().selectedRows()[0].row() == 42


def test_export_to_an_unwritable_place_says_so(app_ctx: AppContext, qtbot: QtBot,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from minicrm_desktop.views.customers.page import ExportFailed

    _loaded(app_ctx, qtbot)
    page = app_ctx.window.customers_page
    shown: list[str] = []
    monkeypatch.setattr(ExportFailed, "show", classmethod(lambda cls, _p, m: shown.append(m)))
    target = tmp_path / "no-such-folder" / "out.csv"
    handle = page.export_to(target)
    with qtbot.waitSignal(handle.finished, timeout=10_000):
        pass
    assert len(shown) == 1
    assert str(target) in shown[0]
    assert page.export_handle is None

"""Each page shows the database as it is (issue 16): changes made by another process (a
real `minicrm` process, or a second engine on the same SQLite file) appear after F5 on
each page, and on the visible page by themselves within seconds, keeping the selection
and the scroll position. Stale messages and a customer who left the view go away.

Only keys and clicks act; asserts read what a person sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.app import AppContext
from minicrm_desktop.models.rules import parse_rule
from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Role
from minicrm_desktop.services.access.users import add_user
from minicrm_desktop.services.core.database import create_db_engine
from minicrm_desktop.services.segments.saved import create_segment

from .person import LONG, Key, Mod, click, press, type_text

ROOT = Path(__file__).resolve().parents[2]


def url_text(ctx: AppContext) -> str:
    """The app's database URL as text (a plain SQLite URL is kept as a string)."""
    url = ctx.url
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


def minicrm(ctx: AppContext, *args: str) -> str:
    """Run the real command line, as another process on the same database."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "minicrm_desktop",
                           "--db", url_text(ctx), *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def second_engine(ctx: AppContext) -> Engine:
    return create_db_engine(ctx.url)


def _count_text(ctx: AppContext) -> str:
    return ctx.window.customers_page.count_label.text()


def test_f5_on_customers_keeps_selection_and_scroll(person_app: AppContext,
                                                     qtbot: QtBot) -> None:
    page = person_app.window.customers_page
    qtbot.waitUntil(lambda: _count_text(person_app) == "3,000 customers", timeout=20_000)
    table = page.table
    click(table.viewport(), table.visualRect(page.model.index(2, 0)).center())
    for _ in range(4):
        press(Key.Key_PageDown)
    qtbot.waitUntil(lambda: page.detail.name_label.isVisible(), timeout=5000)
    chosen = page.detail.name_label.text()
    scroll = table.verticalScrollBar().value()
    assert scroll > 0

    minicrm(person_app, "seed", "--customers", "5", "--seed", "99")
    press(Key.Key_F5, widget=table)
    qtbot.waitUntil(lambda: _count_text(person_app) == "3,005 customers", timeout=20_000)
    qtbot.waitUntil(lambda: page.detail.name_label.text() == chosen, timeout=5000)
    assert table.verticalScrollBar().value() == scroll
    assert page.detail.isVisible()


def test_the_visible_page_refreshes_by_itself(person_app: AppContext, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: _count_text(person_app) == "3,000 customers", timeout=20_000)
    minicrm(person_app, "seed", "--customers", "20", "--seed", "98")
    # No key pressed: the window notices within a few seconds.
    qtbot.waitUntil(lambda: _count_text(person_app) == "3,020 customers", timeout=20_000)


def test_f5_on_segments(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    press(Key.Key_N, Mod.ControlModifier, window)  # every customer
    qtbot.waitUntil(lambda: page.live.label.text().startswith("3,000"), timeout=20_000)
    engine = second_engine(person_app)
    create_segment(engine, "Made elsewhere", parse_rule({"combinator": "and", "rules": []}),
                   actor=LOCAL_ADMIN)
    engine.dispose()
    minicrm(person_app, "seed", "--customers", "12", "--seed", "97")
    press(Key.Key_F5, widget=page.name_edit)
    qtbot.waitUntil(lambda: page.segment_list.count() == 3, timeout=10_000)
    assert "Made elsewhere" in [page.segment_list.item(r).text() for r in range(3)]
    qtbot.waitUntil(lambda: page.live.label.text().startswith("3,012"), timeout=20_000)


def test_f5_on_users_and_audit(person_app: AppContext, qtbot: QtBot) -> None:
    window = person_app.window
    users, audit = window.users_page, window.audit_page
    assert users is not None
    assert audit is not None
    press(Key.Key_6, Mod.ControlModifier, window)
    qtbot.waitUntil(lambda: audit.message.text().endswith("entries"), timeout=10_000)
    before = audit.model.rowCount()
    press(Key.Key_5, Mod.ControlModifier, window)
    engine = second_engine(person_app)
    add_user(engine, "colleague@example.com", role=Role.ADMIN, actor=LOCAL_ADMIN)
    engine.dispose()
    press(Key.Key_F5, widget=QApplication.focusWidget() or window)
    qtbot.waitUntil(lambda: users.users_model.row_of("colleague@example.com") is not None,
                    timeout=10_000)
    press(Key.Key_6, Mod.ControlModifier, window)
    press(Key.Key_F5, widget=QApplication.focusWidget() or window)

    def shown() -> str:
        model = audit.model
        return " ".join(str(model.index(r, c).data()) for r in range(model.rowCount())
                        for c in range(model.columnCount()))

    qtbot.waitUntil(lambda: "colleague@example.com" in shown(), timeout=10_000)
    assert audit.model.rowCount() > before


def test_f5_on_campaigns(person_app: AppContext, qtbot: QtBot, tmp_path: Path) -> None:
    window = person_app.window
    press(Key.Key_3, Mod.ControlModifier, window)
    rule = tmp_path / "pune.json"
    rule.write_text(json.dumps({"combinator": "and", "rules": [
        {"field": "city", "operator": "=", "value": "Pune"},
        {"field": "total_spend", "operator": ">", "value": 40000}]}), encoding="utf-8")
    minicrm(person_app, "campaign", "send", "--name", "Sent from the command line",
            "--rule", str(rule), "--message", "Hello {first_name|there}",
            "--vendor-latency-ms", "0")
    press(Key.Key_F5, widget=QApplication.focusWidget() or window)
    model = window.campaigns_page.model

    def listed() -> list[str]:
        return [str(model.index(r, 0).data()) for r in range(model.rowCount())]

    qtbot.waitUntil(lambda: "Sent from the command line" in listed(), timeout=15_000)


def test_detail_panel_lets_go_of_a_customer_who_left_the_view(
        person_app: AppContext, qtbot: QtBot) -> None:
    page = person_app.window.customers_page
    qtbot.waitUntil(lambda: _count_text(person_app) == "3,000 customers", timeout=20_000)
    click(page.table.viewport(), page.table.visualRect(page.model.index(0, 0)).center())
    qtbot.waitUntil(lambda: page.detail.name_label.isVisible(), timeout=5000)
    click(page.search)
    type_text("no-such-customer-anywhere")
    press(Key.Key_Return)
    qtbot.waitUntil(lambda: _count_text(person_app).startswith("0 customers"), timeout=10_000)
    assert not page.detail.isVisible()
    assert not page.detail.name_label.isVisible()


def test_describe_error_goes_when_another_segment_opens(person_app: AppContext,
                                                        qtbot: QtBot) -> None:
    window = person_app.window
    press(Key.Key_2, Mod.ControlModifier, window)
    page = window.segments_page
    qtbot.waitUntil(lambda: page.segment_list.count() == 2, timeout=10_000)
    panel = page.describe_group
    click(panel.text)
    type_text("zzq wibble frobnicate")
    press(Key.Key_Return, Mod.ControlModifier)
    qtbot.waitUntil(lambda: bool(panel.message.text()), timeout=20_000)
    item = page.segment_list.item(0)
    click(page.segment_list.viewport(), page.segment_list.visualItemRect(item).center())
    qtbot.waitUntil(lambda: page.name_edit.text() == LONG, timeout=5000)
    assert panel.message.text() == ""

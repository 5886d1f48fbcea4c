"""Render the main views to docs/screenshots/*.png at 1280x800 (three also at 1024x640), offscreen.

Seeds a demo database (fixed seed and date, so the pictures are reproducible) in a
temporary folder, opens the real window on it and grabs each view:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Screenshots should not depend on the machine's time zone.
os.environ.setdefault("TZ", "Asia/Kolkata")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (1280, 800)
SMALL = (1024, 640)  # usable down to this size (issue 16)
CUSTOMERS = 2_000
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)

BAD_IMPORT = """email,name,city,visits,signup_date,tags
anita.kulkarni@example.com,Anita Kulkarni,Pune,4,2025-03-02,vip|newsletter
rahul.mehta@example.com,Rahul Mehta,Mumbai,2,2025-04-11,
not-an-email,Broken Row,Delhi,1,2025-05-01,
sara.khan@example.com,Sara Khan,Hyderabad,-3,2025-05-09,
li.wei@example.com,Li Wei,Singapore,7,next tuesday,
priya.nair@example.com,Priya Nair,Kochi,1,2025-06-30,newsletter
"""

#: Saved segments on the Segments page; the first is shown in the rule builder.
SEGMENTS: list[tuple[str, dict[str, object]]] = [
    ("Big spenders in Mumbai or Pune, lapsed", {"combinator": "and", "rules": [
        {"field": "total_spend", "operator": ">", "value": 5000},
        {"combinator": "or", "rules": [
            {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
            {"field": "tags", "operator": "contains", "value": "vip"},
        ]},
        {"combinator": "and", "not": True, "rules": [
            {"field": "last_order_date", "operator": "withinLast",
             "value": {"amount": 6, "unit": "months"}},
        ]},
    ]}),
    ("Newsletter subscribers", {"combinator": "and", "rules": [
        {"field": "subscribed", "operator": "=", "value": True}]}),
    ("One-time buyers", {"combinator": "and", "rules": [
        {"field": "order_count", "operator": "=", "value": 1}]}),
]


#: Demo campaigns sent with the real delivery engine before the window opens:
#: (name, segment, variants, vendor success rate, messages a second or None).
CAMPAIGNS: list[tuple[str, str, list[str], float, int | None]] = [
    ("Welcome back, one-time buyers", "One-time buyers",
     ["Hi {first_name|there}, we miss you! 10% off your next order."], 0.93, None),
    ("Newsletter: monsoon picks", "Newsletter subscribers",
     ["Hi {first_name|there}, the monsoon edit is here.",
      "{first_name|Hello}, new arrivals for {city|your city}!"], 0.9, None),
    ("Diwali offer for subscribers", "Newsletter subscribers",
     ["Hi {first_name|there}, your Diwali gift: ₹500 off over ₹5,000.",
      "{first_name|Friend}, Diwali treats picked for you in {city|your city}.",
      "Happy Diwali, {first_name|there}! Free shipping all week."], 0.88, 250),
]


def seed_campaigns(engine: object, ledger: Path) -> None:
    """Send the demo campaigns for real (the last one paced, so its chart has a shape),
    and leave one launched but unsent: the app resumes it, showing live progress."""
    from sqlalchemy import Engine

    from minicrm_desktop.models.campaign import Channel
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.services.campaigns.headless import run_until_settled
    from minicrm_desktop.services.campaigns.launch import (
        CampaignDraft,
        create_campaign,
        launch_campaign,
    )
    from minicrm_desktop.services.campaigns.vendor import VendorConfig
    from minicrm_desktop.services.segments.saved import find_segment

    assert isinstance(engine, Engine)

    def draft(name: str, segment_name: str, variants: list[str], success: float,
              rate: int | None) -> CampaignDraft:
        segment = find_segment(engine, segment_name)
        assert segment is not None
        return CampaignDraft(name=name, channel=Channel.EMAIL, rule=segment.rule,
                             variants=variants, segment_id=segment.id, as_of=ANCHOR,
                             objective="Demo campaign", rate_per_second=rate,
                             vendor=VendorConfig(success_rate=success, seed=7))

    for spec in CAMPAIGNS:
        campaign_id = create_campaign(engine, draft(*spec), actor=LOCAL_ADMIN)
        launch_campaign(engine, campaign_id, actor=LOCAL_ADMIN)
        run_until_settled(engine, campaign_id, ledger_path=ledger, retry_base_seconds=0.05)
    # Resumed by the app at start, slowly enough to be caught mid-way.
    running = create_campaign(engine, draft(
        "Weekend flash sale", "Newsletter subscribers",
        ["{first_name|Hi}, 24 hours only: 20% off everything."], 0.9, 20), actor=LOCAL_ADMIN)
    launch_campaign(engine, running, actor=LOCAL_ADMIN)


#: (email, name, role) added by the admin; the founder signs in first.
USERS = [
    ("ravi.kumar@example.in", "Ravi Kumar", "marketer"),
    ("meera.iyer@example.in", "Meera Iyer", "marketer"),
    ("sam.lee@agency.example", "Sam Lee", "viewer"),
]


def seed_users(engine: object) -> None:
    """A team: the founding admin, marketers and a viewer, an allowed domain, sign-ins."""
    from sqlalchemy import Engine

    from minicrm_desktop.services.access.actor import Role
    from minicrm_desktop.services.access.identity import Identity
    from minicrm_desktop.services.access.users import (
        add_user,
        admit,
        allow_domain,
        deactivate_user,
    )

    assert isinstance(engine, Engine)

    def identity(email: str, name: str) -> Identity:
        return Identity(subject=email, email=email, name=name,
                        issuer="https://accounts.google.com")

    admin = admit(engine, identity("asha.rao@example.in", "Asha Rao"))
    for email, name, role in USERS:
        add_user(engine, email, role=Role(role), name=name, actor=admin)
    allow_domain(engine, "example.in", role=Role.VIEWER, actor=admin)
    admit(engine, identity("ravi.kumar@example.in", "Ravi Kumar"))
    deactivate_user(engine, "sam.lee@agency.example", actor=admin)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)

    from minicrm_desktop.app import create_application

    # A fixed, throw-away home: the pictures show its paths (settings file, logs, the
    # database), never the machine's user folders, and the same ones on every run.
    folder = Path(tempfile.gettempdir()) / "minicrm-screenshots"
    shutil.rmtree(folder, ignore_errors=True)
    home = folder / "home"
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                      ("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(home / sub)
    os.environ["HOME"] = str(home)
    app = create_application(["screenshots"])
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        shoot_all(app, args.out, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def shoot_all(app: Any, out: Path, folder: Path) -> None:
    from minicrm_desktop.app import bootstrap
    from minicrm_desktop.services.access.actor import LOCAL_ADMIN
    from minicrm_desktop.services.core.database import create_db_engine
    from minicrm_desktop.services.core.migrate import upgrade_to_head
    from minicrm_desktop.services.core.settings import DictStore, Settings
    from minicrm_desktop.services.customers.seed import seed_demo_data
    from minicrm_desktop.services.segments.saved import create_segment

    url = f"sqlite:///{folder / 'demo.db'}"
    engine = create_db_engine(url)
    upgrade_to_head(engine)
    seed_demo_data(engine, CUSTOMERS, seed=2026, anchor=ANCHOR, actor=LOCAL_ADMIN)
    for name, rule in SEGMENTS:
        create_segment(engine, name, rule, actor=LOCAL_ADMIN)
    # The vendor's ledger goes to the app's data folder, inside `folder` (above).
    from minicrm_desktop.services.campaigns.vendor import default_ledger_path

    seed_campaigns(engine, default_ledger_path())
    seed_users(engine)
    engine.dispose()

    ctx = bootstrap(url, settings=Settings(DictStore()), offer_demo=False)
    try:
        shoot_window(app, ctx, out, folder, url)
    finally:  # a failed shot too: every thread stops before the application goes
        from minicrm_desktop.views.shell.main_window import QuitWhileBusy

        # The demo campaign may still be sending: quit without asking (it stays Running).
        QuitWhileBusy.ask = classmethod(lambda *_a, **_k: True)  # type: ignore[method-assign,assignment]
        ctx.window.close()
        ctx.shutdown()


def shoot_window(app: Any, ctx: Any, out: Path, folder: Path, url: str) -> None:
    """Every picture of the main window and its dialogs."""
    from PySide6.QtCore import QItemSelectionModel, QPoint
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication

    window = ctx.window
    window.resize(*SIZE)
    window.show()
    wait_for(app, lambda: ctx.window.customers_page.model.total == CUSTOMERS)

    page = window.customers_page
    row = 3
    page.table.selectionModel().select(
        page.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows,
    )
    wait_for(app, lambda: page.detail.detail is not None)
    save(app, window, out / "customers.png")

    dialog = window.open_import()
    csv_path = folder / "new-customers.csv"
    csv_path.write_text(BAD_IMPORT, encoding="utf-8")
    dialog.load_file(csv_path)
    wait_for(app, lambda: not dialog.detecting)  # the file's format report comes first
    dialog.start_import()
    wait_for(app, lambda: dialog.report is not None)
    # The import changed the customers: the table behind reads its rows again first.
    wait_for(app, lambda: page.model.index(0, 0).data() not in (None, "", "…"))
    dialog.resize(860, 560)
    app.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    painter.fillRect(shot.rect(), QColor(0, 0, 0, 90))  # the dimmed window behind
    dialog_shot: QPixmap = dialog.grab()
    painter.drawPixmap(QPoint((shot.width() - dialog_shot.width()) // 2,
                              (shot.height() - dialog_shot.height()) // 2), dialog_shot)
    painter.end()
    shot.save(str(out / "import-report.png"))
    print(out / "import-report.png")
    dialog.accept()
    from screenshot_forms import shoot_customer_edit, shoot_import_formats

    shoot_import_formats(app, window, out, folder)
    shoot_customer_edit(app, window, out)
    app.processEvents()
    window.statusBar().clearMessage()  # the import's summary is not for later pictures

    segments = window.segments_page
    wait_for(app, lambda: len(segments.segments) == len(SEGMENTS))
    segments.live.as_of = ANCHOR  # relative dates from the seed's date: reproducible
    shown = next(s.id for s in segments.segments.values() if s.name == SEGMENTS[0][0])
    segments.open_segment(shown)
    window.show_page("segments")
    tree = segments.tree
    tree.setCurrentIndex(segments.model.index(0, 0, segments.model.index(1, 0)))
    wait_for(app, lambda: segments.live.count is not None and not segments.live.pending)
    save(app, window, out / "segments.png")
    from screenshot_rules import shoot_builder_menu, shoot_wizard_rule

    shoot_builder_menu(app, window, out)
    # "Describe in words": a sentence becomes a rule tree to review (offline parser).
    segments.new_segment()
    describe = segments.describe_group
    describe.text.setPlainText("customers in Mumbai or Pune who haven't ordered in 6 "
                               "months and spent over ₹5,000")
    describe.fill()
    wait_for(app, lambda: describe.answer is not None and not describe.busy)
    wait_for(app, lambda: segments.live.count is not None and not segments.live.pending)
    save(app, window, out / "segments-describe.png")
    from minicrm_desktop.views.segments.dialogs import Unsaved, UnsavedChangesDialog

    # The described rule was only for the picture: leave it unsaved, without asking.
    UnsavedChangesDialog.ask = classmethod(  # type: ignore[method-assign, assignment]
        lambda cls, parent, name: Unsaved.DISCARD)
    window.show_page("settings")
    save(app, window, out / "settings.png")
    from screenshot_sign_in import shoot_sign_in

    shoot_sign_in(app, out, folder)
    users = window.users_page
    assert users is not None
    window.show_page("users")
    # The users, the founder, and the local admin's own row (local mode).
    wait_for(app, lambda: users.users_model.rowCount() == len(USERS) + 2)
    users.select_user(USERS[1][0])
    save(app, window, out / "users.png")
    audit = window.audit_page
    assert audit is not None
    window.show_page("audit")
    wait_for(app, lambda: audit.model.rowCount() > 0 and not audit.model.loading)
    save(app, window, out / "audit.png")

    shoot_campaigns(app, window, out)
    shoot_wizard_rule(app, window, out, ANCHOR)
    from screenshot_drafts import shoot_bulk, shoot_drafts

    shoot_drafts(app, window, out, url)
    shoot_bulk(app, window, out, ctx.engine, ANCHOR)

    # The dark palette (what a dark OS theme gets), on the customers page.
    from minicrm_desktop.views.shell.palette import dark_palette, light_palette

    QApplication.setPalette(dark_palette())
    window.show_page("customers")
    # The import above changed the customers: wait for the rows read again.
    page = window.customers_page
    wait_for(app, lambda: page.model.index(0, 0).data() not in (None, "", "…"))
    save(app, window, out / "customers-dark.png")
    QApplication.setPalette(light_palette())

    # The smallest window the app is made for.
    window.resize(*SMALL)
    window.show_page("customers")
    save(app, window, out / "customers-1024x640.png")
    window.show_page("segments")
    save(app, window, out / "segments-1024x640.png")


def shoot_campaigns(app: object, window: object, out: Path) -> None:
    """The history with a campaign sending, a campaign's page, and two wizard steps."""
    from PySide6.QtWidgets import QWizard

    from minicrm_desktop.views.shell.main_window import MainWindow

    assert isinstance(window, MainWindow)
    page = window.campaigns_page
    window.show_page("campaigns")
    wait_for(app, lambda: page.model.rowCount() == len(CAMPAIGNS) + 1)
    newest = page.model.campaign(0)  # the campaign the app resumed at start
    assert newest is not None

    def sending() -> bool:
        row = page.model.campaign(0)
        return row is not None and row.progress > 0.2 and page.control.is_running(row.id)

    wait_for(app, sending)
    running = 0
    page.table.selectRow(running)
    save(app, window, out / "campaigns.png")

    shown = page.model.campaign(running + 1)  # the paced Diwali campaign
    assert shown is not None
    page.open_campaign(shown.id)
    detail = page.detail
    assert detail is not None
    wait_for(app, lambda: detail.report is not None and not detail.busy)
    save(app, window, out / "campaign-detail.png")
    # The same page under a dark OS theme: the charts follow the palette.
    from PySide6.QtWidgets import QApplication

    from minicrm_desktop.views.shell.palette import dark_palette, light_palette

    QApplication.setPalette(dark_palette())
    save(app, window, out / "campaign-detail-dark.png")
    QApplication.setPalette(light_palette())
    # The smallest window the app is made for: the log keeps several rows in view.
    size = window.size()
    window.resize(*SMALL)
    save(app, window, out / "campaign-detail-1024x640.png")
    window.resize(size)
    detail.back_requested.emit()

    wizard = page.new_campaign()
    wizard.as_of = ANCHOR
    wizard.basics.name_edit.setText("Monsoon restock alert")
    wizard.basics.objective.setText("Bring one-time buyers back before the sale")
    wizard.next()
    audience = wizard.audience_page
    wait_for(app, lambda: audience.segment_list.count() == len(SEGMENTS))
    audience.segment_list.setCurrentRow(
        next(i for i, s in enumerate(audience.segments) if s.name == "One-time buyers"))
    wait_for(app, lambda: audience.live.count is not None)
    wizard.next()
    message = wizard.message_page
    message.editors[0].edit.setPlainText(
        "Hi {first_name|there}, the monsoon restock is in — {city|your city} store first!")
    message.add_variant()
    message.editors[1].edit.setPlainText(
        "{first_name|Hello}, you spent {total_spend} with us: here is 15% off.")
    message.add_variant()
    message.editors[2].edit.setPlainText("Hi {frist_name}, last chance!")
    message.split.winner_radio.setChecked(True)
    wait_for(app, lambda: bool(message.samples))
    save_dialog(app, window, wizard, out / "campaign-wizard-message.png")
    message.editors[2].edit.setPlainText("Hi {first_name|there}, last chance for 15% off!")
    wizard.next()
    from screenshot_email_ab import shoot_ab_winner, shoot_email_page

    shoot_email_page(app, window, wizard, out)
    review = wizard.review_page
    wait_for(app, lambda: review.review is not None)
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    save_dialog(app, window, wizard, out / "campaign-wizard-review.png")
    wizard.done(0)  # closed as it was only for the picture: no "keep as draft?" question
    wait_for(app, lambda: not wizard.busy)
    from screenshot_suggestions import shoot_variant_suggestions

    shoot_variant_suggestions(app, window, out)
    shoot_ab_winner(app, window, out)


def save_dialog(app: object, window: object, dialog: object, path: Path,
                above: object | None = None) -> None:
    """A dialog over its dimmed window, as the user sees it (and `above`, a dialog it
    opened, over it dimmed in turn)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QPainter
    from PySide6.QtWidgets import QApplication, QWidget

    assert isinstance(window, QWidget)
    QApplication.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    for layer in (dialog, above) if above is not None else (dialog,):
        assert isinstance(layer, QWidget)
        painter.fillRect(shot.rect(), QColor(0, 0, 0, 90))
        inner = layer.grab()
        painter.drawPixmap(QPoint((shot.width() - inner.width()) // 2,
                                  (shot.height() - inner.height()) // 2), inner)
    painter.end()
    shot.save(str(path))
    print(path)


def wait_for(app: object, condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Run the event loop until `condition` holds (results arrive by queued signals)."""
    import time

    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start(20)
    if not condition():
        loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the view did not become ready in time")


def save(app: object, widget: object, path: Path) -> None:
    from PySide6.QtWidgets import QApplication, QWidget

    assert isinstance(widget, QWidget)
    QApplication.processEvents()
    widget.grab().save(str(path))
    print(path)


if __name__ == "__main__":
    sys.exit(main())

"""Render the main views to docs/screenshots/*.png at 1280x800, offscreen.

Seeds a demo database (fixed seed and date, so the pictures are reproducible) in a
temporary folder, opens the real window on it and grabs each view:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Screenshots should not depend on the machine's time zone.
os.environ.setdefault("TZ", "Asia/Kolkata")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (1280, 800)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QItemSelectionModel, QPoint
    from PySide6.QtGui import QColor, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication

    from minicrm_desktop.app import bootstrap, create_application
    from minicrm_desktop.services.database import create_db_engine
    from minicrm_desktop.services.migrate import upgrade_to_head
    from minicrm_desktop.services.seed import seed_demo_data
    from minicrm_desktop.services.segments.saved import create_segment
    from minicrm_desktop.services.settings import DictStore, Settings

    app = create_application(["screenshots"])
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="minicrm-shots-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'demo.db'}"
        engine = create_db_engine(url)
        upgrade_to_head(engine)
        seed_demo_data(engine, CUSTOMERS, seed=2026, anchor=ANCHOR)
        for name, rule in SEGMENTS:
            create_segment(engine, name, rule)
        engine.dispose()

        ctx = bootstrap(url, settings=Settings(DictStore()), offer_demo=False)
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
        save(app, window, args.out / "customers.png")

        dialog = window.open_import()
        csv_path = folder / "new-customers.csv"
        csv_path.write_text(BAD_IMPORT, encoding="utf-8")
        dialog.load_file(csv_path)
        dialog.start_import()
        wait_for(app, lambda: dialog.report is not None)
        dialog.resize(860, 560)
        app.processEvents()
        shot = window.grab()
        painter = QPainter(shot)
        painter.fillRect(shot.rect(), QColor(0, 0, 0, 90))  # the dimmed window behind
        dialog_shot: QPixmap = dialog.grab()
        painter.drawPixmap(QPoint((shot.width() - dialog_shot.width()) // 2,
                                  (shot.height() - dialog_shot.height()) // 2), dialog_shot)
        painter.end()
        shot.save(str(args.out / "import-report.png"))
        print(args.out / "import-report.png")
        dialog.accept()

        segments = window.segments_page
        wait_for(app, lambda: len(segments.segments) == len(SEGMENTS))
        segments.live.as_of = ANCHOR  # relative dates from the seed's date: reproducible
        shown = next(s.id for s in segments.segments.values() if s.name == SEGMENTS[0][0])
        segments.open_segment(shown)
        window.show_page("segments")
        tree = segments.tree
        tree.setCurrentIndex(segments.model.index(0, 0, segments.model.index(1, 0)))
        wait_for(app, lambda: segments.live.count is not None and not segments.live.pending)
        save(app, window, args.out / "segments.png")
        window.show_page("settings")
        save(app, window, args.out / "settings.png")

        # The dark palette (what a dark OS theme gets), on the customers page.
        from minicrm_desktop.views.palette import dark_palette, light_palette

        QApplication.setPalette(dark_palette())
        window.show_page("customers")
        save(app, window, args.out / "customers-dark.png")
        QApplication.setPalette(light_palette())

        window.close()
        ctx.shutdown()
    return 0


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

"""Shared small widgets."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from minicrm_desktop.views.common.widgets import ElidedLabel


def test_elided_label_gives_up_width_and_keeps_the_full_text(qtbot: QtBot) -> None:
    text = "Embedded database " + "/very/long/folder" * 20 + "/crm.db"
    label = ElidedLabel(text)
    qtbot.addWidget(label)
    label.resize(200, 20)
    label.show()
    qtbot.waitExposed(label)
    assert label.minimumSizeHint().width() < 100  # a long path never widens the window
    assert label.text() != text
    assert "…" in label.text()
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.full_text() == text
    assert label.toolTip() == text
    label.resize(label.sizeHint().width() + 10, 20)
    qtbot.waitUntil(lambda: label.text() == text)


def test_timeline_labels_stay_distinct_and_short_within_a_minute() -> None:
    """Buckets of one second within a minute read as seconds (":58", ":59", ":00"); the
    axis title gives the first one's whole time."""
    from datetime import UTC, datetime, timedelta

    from minicrm_desktop.services.campaigns.stats import OutcomeBucket
    from minicrm_desktop.views.campaigns.charts import _axis_title, _bucket_labels

    start = datetime(2026, 12, 2, 12, 50, 55, tzinfo=UTC)
    buckets = [OutcomeBucket(start + timedelta(seconds=i), start + timedelta(seconds=i + 1),
                             1, 0) for i in range(8)]
    labels = _bucket_labels(buckets)
    local = [b.start.astimezone().strftime("%H:%M:%S") for b in buckets]
    assert labels == [t[5:] for t in local]  # ":55" … ":02": the seconds alone
    assert len(set(labels)) == len(labels)
    assert _axis_title(buckets).endswith(local[0])  # the start, to the second
    minutes = [OutcomeBucket(start + timedelta(minutes=i), start + timedelta(minutes=i + 1),
                             1, 0) for i in range(3)]
    assert all(len(label) == 8 for label in _bucket_labels(minutes))  # past a minute: whole

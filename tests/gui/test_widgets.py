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

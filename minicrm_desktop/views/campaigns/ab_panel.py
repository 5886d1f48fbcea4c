"""A campaign page's A/B test with a winner: the test share's results per variant, and
either when the winner will be chosen or which won and why (abtest's recorded reason)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.services.campaigns.abtest import VariantResult
from minicrm_desktop.services.campaigns.wizard import describe_duration, describe_wait
from minicrm_desktop.views.common.formatting import format_datetime

COLUMNS = ("Variant", "Tested", "Delivered", "Failed", "Opened", "Rate")
_METRIC_WORDS = {"delivered": "delivery rate", "engagement": "engagement (opens)"}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def describe_ab(ab: dict[str, Any], status: str, now: datetime | None = None) -> tuple[str, str]:
    """(what the test is, where it stands) in words."""
    share = ab["test_share_percent"]
    metric = _METRIC_WORDS.get(ab.get("metric") or "delivered", "delivery rate")
    seconds = int(ab.get("wait_seconds") or 0)
    wait = describe_wait(seconds)
    chosen = "chosen once the test is sent" if seconds == 0 else f"chosen {wait} after launch"
    plan = (f"{share}% of the audience tested the variants; the winner by {metric}, {chosen}, "
            f"goes to the other {100 - share}%.")
    winner, decide_at = ab.get("winner"), ab.get("decide_at")
    if winner:
        return plan, f"Winner: {winner}. Why: {ab.get('reason') or 'no reason recorded'}."
    if status in ("cancelled", "failed"):
        return plan, "No winner was chosen: the campaign stopped first."
    if decide_at is None:
        return plan, f"The winner will be {chosen}."
    left = (_aware(decide_at) - (now or datetime.now(UTC))).total_seconds()
    # Within the day the clock time (to the second: waits can be short); else the date too.
    when = (_aware(decide_at).astimezone().strftime("%H:%M:%S") if abs(left) < 12 * 3600
            else format_datetime(_aware(decide_at)))
    if left > 0:
        return plan, (f"Waiting for the test results: the winner will be chosen at {when} "
                      f"(in {describe_duration(left).removeprefix('about ')}).")
    return plan, (f"The wait ended at {when}: the winner is chosen as soon as every test "
                  "message has its outcome.")


class ABTestPanel(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ab_panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Words on the left, the test's figures on the right: the page's charts keep their
        # height under the panel.
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        words = QVBoxLayout()
        self.plan = QLabel("")
        self.plan.setWordWrap(True)
        self.outcome = QLabel("")
        self.outcome.setObjectName("ab_outcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        words.addWidget(self.plan)
        words.addWidget(self.outcome)
        words.addStretch(1)
        layout.addLayout(words, 1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("ab_results")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        layout.addWidget(self.table, 1)

    def show_test(self, ab: dict[str, Any] | None, status: str,
                  results: list[VariantResult] | None) -> None:
        """Show the campaign's A/B test; hidden for an even split."""
        self.setVisible(ab is not None)
        if ab is None:
            return
        plan, outcome = describe_ab(ab, status)
        self.plan.setText(f"<b>A/B test with a winner.</b> {html.escape(plan)}")
        self.outcome.setText(outcome)
        rows = results or []
        metric = ab.get("metric") or "delivered"
        self.table.setRowCount(len(rows))
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + self.table.verticalHeader().defaultSectionSize() * len(rows)
                                  + 2 * self.table.frameWidth())
        for row, result in enumerate(rows):
            rate = result.rate(metric)
            won = result.label == ab.get("winner")
            values = (f"{result.label}{'  (winner)' if won else ''}", f"{result.attempted:,}",
                      f"{result.sent:,}", f"{result.failed:,}", f"{result.opened:,}",
                      "—" if rate is None else f"{rate:.1%}")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if won:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)

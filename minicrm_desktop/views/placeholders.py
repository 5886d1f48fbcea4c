"""Pages whose features arrive with later work: Segments (layout ready) and Campaigns."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.views.resources import themed_icon
from minicrm_desktop.views.widgets import PageHeader

SEGMENTS_PLACEHOLDER = "Segments — the rule builder arrives with the segment engine"


class SegmentsPage(QWidget):
    """The Segments page laid out for the rule builder: saved segments on the left; on the
    right the editor area, a reserved "Describe in words" box and the live audience count.
    The builder replaces `editor_area`'s content; the other slots are named for it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(PageHeader("Segments", "Groups of customers defined by rules."))

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Saved segments"))
        self.segment_list = QListWidget()
        self.segment_list.setObjectName("segment_list")
        left_layout.addWidget(self.segment_list, 1)
        self.new_button = QPushButton("New segment")
        themed_icon(self.new_button, "new")
        self.new_button.setEnabled(False)
        self.new_button.setToolTip("Arrives with the segment engine")
        left_layout.addWidget(self.new_button)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.editor_area = QFrame()
        self.editor_area.setObjectName("editor_area")
        self.editor_area.setFrameShape(QFrame.Shape.StyledPanel)
        editor_layout = QVBoxLayout(self.editor_area)
        self.placeholder = QLabel(SEGMENTS_PLACEHOLDER)
        self.placeholder.setObjectName("segments_placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        font = self.placeholder.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.placeholder.setFont(font)
        editor_layout.addWidget(self.placeholder)
        right_layout.addWidget(self.editor_area, 1)

        self.describe_group = QGroupBox("Describe in words")
        describe_layout = QVBoxLayout(self.describe_group)
        self.describe_box = QPlainTextEdit()
        self.describe_box.setObjectName("describe_box")
        self.describe_box.setPlaceholderText(
            "e.g. “customers in Mumbai who spent more than ₹5,000 in the last 90 days” — "
            "the AI assistant will turn a sentence into rules here."
        )
        self.describe_box.setMaximumHeight(72)
        self.describe_box.setEnabled(False)
        describe_layout.addWidget(self.describe_box)
        right_layout.addWidget(self.describe_group)

        count_row = QHBoxLayout()
        self.live_count = QLabel("Audience: —")
        self.live_count.setObjectName("live_count")
        count_row.addWidget(self.live_count)
        count_row.addStretch(1)
        right_layout.addLayout(count_row)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 760])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

    def new_segment(self) -> None:
        """Ctrl+N; the rule builder implements it."""
        self.placeholder.setFocus()


class CampaignsPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(PageHeader("Campaigns", "Messages to the customers of a segment."))
        label = QLabel("Campaigns arrive with the campaign engine.")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label, 1)

"""The line above the rule tree: "Match ALL / ANY of the following", switchable with the
mouse or the keyboard (Alt+M, then the arrow keys); each switch is one undo step."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from minicrm_desktop.views.segments.rule_model import RuleTreeModel

CHOICES = (("ALL", "and"), ("ANY", "or"))


class RootMatchBar(QWidget):
    def __init__(self, model: RuleTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        caption = QLabel("&Match")
        row.addWidget(caption)
        self.combo = QComboBox()
        self.combo.setObjectName("root_match")
        self.combo.setAccessibleName("Match all or any of the following")
        self.combo.setToolTip("ALL: customers meeting every rule below; ANY: at least one")
        for text, combinator in CHOICES:
            self.combo.addItem(text, combinator)
        caption.setBuddy(self.combo)
        row.addWidget(self.combo)
        self.tail = QLabel("of the following")
        row.addWidget(self.tail)
        row.addStretch(1)
        self.combo.currentIndexChanged.connect(self._chosen)
        model.tree_changed.connect(self.refresh)
        model.modelReset.connect(self.refresh)
        self.refresh()

    def text(self) -> str:
        """The line as a person reads it."""
        return f"Match {self.combo.currentText()} of the following" + (
            " (NOT: everyone else)" if self.model.root.negated else "")

    def refresh(self) -> None:
        root = self.model.root
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(root.combinator))
        self.combo.blockSignals(False)
        self.tail.setText("of the following" + (" — NOT: everyone else" if root.negated else ""))

    def _chosen(self, _index: int) -> None:
        root = self.model.root
        self.model.edit_group(root, self.combo.currentData(), root.negated)

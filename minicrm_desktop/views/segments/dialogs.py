"""The Segments page's modal questions, behind replaceable classmethods (tests answer them)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

JSON_FILTER = "Rule JSON (*.json);;All files (*)"


class Unsaved(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class UnsavedChangesDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, name: str) -> Unsaved:
        button = QMessageBox.StandardButton
        answer = QMessageBox.question(
            parent, "Unsaved changes",
            f"“{name}” has changes that are not saved. Save them first?",
            button.Save | button.Discard | button.Cancel, button.Save)
        if answer == button.Save:
            return Unsaved.SAVE
        return Unsaved.DISCARD if answer == button.Discard else Unsaved.CANCEL


class ConfirmDeleteDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, name: str) -> bool:
        button = QMessageBox.StandardButton
        answer = QMessageBox.question(
            parent, "Delete segment?",
            f"Delete the segment “{name}”? Campaigns already sent keep their own copy of "
            "the rule.", button.Yes | button.No, button.No)
        return answer == button.Yes


class SegmentNameDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, title: str, current: str) -> str | None:
        text, ok = QInputDialog.getText(parent, title, "Segment name:", text=current)
        return text.strip() if ok and text.strip() else None


class OpenRuleJsonDialog:
    @classmethod
    def ask(cls, parent: QWidget | None) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(parent, "Import rule JSON", str(Path.home()),
                                              JSON_FILTER)
        return Path(name) if name else None


class SaveRuleJsonDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, suggested: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(parent, "Export rule JSON",
                                              str(Path.home() / suggested), JSON_FILTER)
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(".json")

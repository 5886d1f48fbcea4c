"""The Segments page's rule as JSON: import from a file, export to one, copy to the
clipboard (react-querybuilder format). A mixin of `SegmentsPage`, split out of page.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QWidget

from minicrm_desktop.models.rule_tree import tree_from_rule
from minicrm_desktop.models.rules import RuleError, dump_rule, load_rule
from minicrm_desktop.views.segments.dialogs import OpenRuleJsonDialog, SaveRuleJsonDialog
from minicrm_desktop.views.segments.rule_checks import explain_error
from minicrm_desktop.views.segments.rule_model import RuleTreeModel

if TYPE_CHECKING:
    _Base = QWidget
else:
    _Base = object


class RuleJson(_Base):
    # The page's parts this mixin uses.
    model: RuleTreeModel
    name_edit: QLineEdit

    if TYPE_CHECKING:  # the page's own methods
        def show_problem(self, text: str) -> None: ...
        def problem_message(self) -> str: ...
        def _after_load(self) -> None: ...

    def rule_json_text(self) -> str:
        if self.model.rule is not None:
            return dump_rule(self.model.rule, indent=2)
        # A rule still being edited (refused as it stands) is copied as it is, same shape.
        return json.dumps(self.model.to_json(), indent=2, ensure_ascii=False)

    def import_json(self, path: Path | None = None) -> bool:
        """Replace the rule with one from a JSON file (undoable). False when refused."""
        path = path or OpenRuleJsonDialog.ask(self)
        if path is None:
            return False
        try:
            text = path.read_text(encoding="utf-8")
            root = tree_from_rule(load_rule(text))
        except (OSError, UnicodeDecodeError) as exc:
            self.show_problem(f"Could not import {path.name}: {exc}")
            return False
        except RuleError as exc:  # in a marketer's words, naming the row
            self.show_problem(f"Could not import {path.name}: {explain_error(exc, text)}")
            return False
        self.model.replace_root(root, "Import rule")
        self._after_load()
        return True

    def export_json(self, path: Path | None = None) -> Path | None:
        if self.model.rule is None:
            self.show_problem("Cannot export: " + self.problem_message())
            return None
        stem = re.sub(r"[^\w.-]+", "-", self.name_edit.text().strip()).strip("-") or "segment"
        path = path or SaveRuleJsonDialog.ask(self, f"{stem}.json")
        if path is None:
            return None
        try:
            path.write_text(self.rule_json_text() + "\n", encoding="utf-8")
        except OSError as exc:
            self.show_problem(f"Could not write {path}: {exc}")
            return None
        return path

    def copy_json(self) -> None:
        QGuiApplication.clipboard().setText(self.rule_json_text())

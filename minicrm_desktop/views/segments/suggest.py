"""Value suggestions for a condition's text box: cities, tags and email domains from the
database, in a QCompleter fed off the GUI thread.

Typing restarts a short timer; when it fires, services' suggest_values runs as a quiet
task with what was typed, and its answer fills the completer — unless the text changed
meanwhile (a newer request follows) or the box is gone (a feed dies with its box).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit
from sqlalchemy import Engine

from minicrm_desktop.services.core.tasks import TaskContext, TaskRunner
from minicrm_desktop.services.segments.suggestions import suggest_values

SUGGEST_DELAY_MS = 150
SUGGESTIONS_SHOWN = 12
#: Email operators a domain makes sense for ("ends with gmail.com"), unlike "is".
EMAIL_DOMAIN_OPERATORS = frozenset({"endsWith", "doesNotEndWith", "contains",
                                    "doesNotContain"})


def suggested_field(field: str, operator: str) -> str | None:
    """What to suggest for a condition's value: "city", "tags", "email_domain" or None."""
    if field in ("city", "tags"):
        return field
    if field == "email" and operator in EMAIL_DOMAIN_OPERATORS:
        return "email_domain"
    return None


class ValueSuggester(QObject):
    """Attaches database suggestions to text boxes; `pending` while any is being fetched."""

    #: Suggestions arrived for a box: (what was typed, the values offered).
    offered = Signal(str, list)

    def __init__(self, engine: Engine, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine, self._runner = engine, runner
        self.running = 0

    @property
    def pending(self) -> bool:
        return self.running > 0

    def attach(self, line: QLineEdit, field: str) -> QCompleter:
        return _Feed(self, line, field).completer

    def fetch(self, feed: _Feed, field: str, prefix: str) -> None:
        engine = self._engine

        def work(_ctx: TaskContext) -> tuple[str, list[str]]:
            found = suggest_values(engine, field, prefix, limit=SUGGESTIONS_SHOWN)
            return prefix, [s.value for s in found]

        self.running += 1
        handle = self._runner.run(work, title="Suggesting values", quiet=True,
                                  on_success=feed.arrived, on_error=feed.failed)
        handle.finished.connect(self._done)

    def _done(self) -> None:
        self.running -= 1


class _Feed(QObject):
    """One box's completer and its requests (a child of the box: gone with it)."""

    def __init__(self, suggester: ValueSuggester, line: QLineEdit, field: str) -> None:
        super().__init__(line)
        self.suggester, self.line, self.field = suggester, line, field
        # Until the database answers, what the box offered already (the tags loaded).
        before = line.completer()
        known = before.model() if before is not None else None
        self.model = QStringListModel(
            [str(known.index(row, 0).data()) for row in range(known.rowCount())]
            if known is not None else [], self)
        self.completer = QCompleter(self.model, line)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(SUGGESTIONS_SHOWN)
        line.setCompleter(self.completer)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SUGGEST_DELAY_MS)
        self.timer.timeout.connect(self._ask)
        line.textEdited.connect(self._typed)

    def _typed(self, _text: str) -> None:
        self.timer.start()

    def _wanted(self) -> str:
        return self.line.text().strip().rstrip(",").strip()

    def _ask(self) -> None:
        prefix = self._wanted()
        if prefix:
            self.suggester.fetch(self, self.field, prefix)

    def arrived(self, answer: tuple[str, list[str]]) -> None:
        prefix, values = answer
        if prefix != self._wanted():
            return  # typed on meanwhile: that request's answer follows
        self.model.setStringList(values)
        self.suggester.offered.emit(prefix, values)
        if values and self.line.hasFocus():
            self.completer.setCompletionPrefix(prefix)
            self.completer.complete()

    def failed(self, _exc: BaseException) -> None:
        self.model.setStringList([])  # suggestions are a help: the box works without them

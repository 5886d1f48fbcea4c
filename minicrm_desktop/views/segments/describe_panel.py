"""The rule builder's "Describe in words" box: a sentence in, a rule tree out for review.

The sentence goes to the configured model or the offline parser in a task (never on the GUI
thread); the answer is only offered to the builder (`rule_ready`), never saved. The panel
says which engine answered, and why not the model when it fell back; a sentence that is
not understood gets the precise reason and changes nothing.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)
from sqlalchemy import Engine

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.ai import AISettings, RuleAnswer, load_vocabulary, sentence_to_rule
from minicrm_desktop.services.core.tasks import TaskContext, TaskRunner
from minicrm_desktop.views.common.ai_request import AIRequest
from minicrm_desktop.views.common.widgets import MessageLabel

EXAMPLE = ("e.g. “customers in Mumbai who haven't shopped in 6 months and spent over ₹5,000” "
           "(Ctrl+Enter fills the rules)")
_SUBMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class DescribePanel(QGroupBox):
    #: A parsed rule for the builder to show (the user reviews it before saving).
    rule_ready = Signal(object)
    #: The request ended: the RuleAnswer, or the message shown.
    finished = Signal(object)

    def __init__(self, engine: Engine, runner: TaskRunner, ai: AISettings,
                 parent: QGroupBox | None = None) -> None:
        super().__init__("Describe in words", parent)
        self._engine, self._ai = engine, ai
        self.request: AIRequest[RuleAnswer] = AIRequest(runner)
        self.answer: RuleAnswer | None = None
        column = QVBoxLayout(self)
        row = QHBoxLayout()
        self.text = QPlainTextEdit()
        self.text.setObjectName("describe_box")
        self.text.setPlaceholderText(EXAMPLE)
        self.text.setMaximumHeight(56)
        self.text.setTabChangesFocus(True)
        self.text.installEventFilter(self)
        row.addWidget(self.text, 1)
        buttons = QVBoxLayout()
        self.fill_button = QPushButton("Fill rules")
        self.fill_button.setObjectName("describe_fill")
        self.fill_button.setToolTip("Turn the sentence into rules for you to review "
                                    "(Ctrl+Enter). Nothing is saved until you save.")
        self.fill_button.clicked.connect(self.fill)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        buttons.addWidget(self.fill_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        column.addLayout(row)
        status = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: a model gives no progress to report
        self.progress.setMaximumWidth(120)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        status.addWidget(self.progress)
        self.engine_label = QLabel("")
        self.engine_label.setObjectName("describe_engine")
        self.engine_label.setEnabled(False)
        self.engine_label.setWordWrap(True)  # never widens the page
        status.addWidget(self.engine_label, 1)
        column.addLayout(status)
        self.message = MessageLabel()
        self.message.setObjectName("describe_message")
        column.addWidget(self.message)
        self._show_engine_hint()

    # --- Ctrl+Enter in the text box fills the rules (before the page's own Ctrl+Enter) -----

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.text and event.type() in (QEvent.Type.ShortcutOverride,
                                                     QEvent.Type.KeyPress):
            key = event if isinstance(event, QKeyEvent) else None
            if (key is not None and key.key() in _SUBMIT_KEYS
                    and key.modifiers() & Qt.KeyboardModifier.ControlModifier):
                event.accept()
                if event.type() == QEvent.Type.KeyPress:
                    self.fill()
                return True
        return super().eventFilter(watched, event)

    # --- asking -------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A request (perhaps a cancelled one) has not yet ended."""
        return self.request.busy

    def _show_engine_hint(self) -> None:
        config = self._ai.snapshot()
        self.engine_label.setText(
            "Offline parser (chosen in Settings)" if config.offline_only else
            f"{config.model_label} if a key is set, else the offline parser")

    def fill(self) -> None:
        sentence = self.text.toPlainText().strip()
        if self.request.running:
            return
        if not sentence:
            self._say("Type a sentence describing the customers first.", error=True)
            return
        config, ai, engine = self._ai.snapshot(), self._ai, self._engine

        def work(ctx: TaskContext) -> RuleAnswer:
            ctx.progress(-1, "Reading the sentence")
            vocabulary = load_vocabulary(engine)
            ctx.check_cancelled()
            return sentence_to_rule(ai.resolve(config), sentence, vocabulary,
                                    cancelled=ctx.cancelled)

        self.answer = None
        self._set_busy(True)
        self._say("")
        self.engine_label.setText("Asking " + ("the offline parser" if config.offline_only
                                               else "the AI assistant") + "…")
        self.request.start(work, title="Describing a segment", answered=self._answered,
                           failed=self._failed)

    def cancel(self) -> None:
        if self.request.cancel():
            self._set_busy(False)
            self._say("Cancelled: the rules are unchanged.")
            self._show_engine_hint()
            self.finished.emit("cancelled")

    def _set_busy(self, busy: bool) -> None:
        self.fill_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.say(text, error=error)

    def _answered(self, answer: RuleAnswer) -> None:
        self._set_busy(False)
        self.answer = answer
        self.engine_label.setText(f"Answered by {answer.engine}")
        self._say((answer.notice + " " if answer.notice else "")
                  + "Review the rules, then save.")
        self.rule_ready.emit(answer.rule)
        self.finished.emit(answer)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._show_engine_hint()
        if isinstance(exc, MiniCRMError):
            message = str(exc).rstrip()
            ending = "" if message.endswith((".", "!", "?", ")")) else "."
            self._say(message[:1].upper() + message[1:] + ending + " The rules are unchanged.",
                      error=True)
            self.finished.emit(message)
        else:  # a bug: the error dialog reports it
            self._say("The sentence could not be read because of an internal error.",
                      error=True)
            self.finished.emit(str(exc))
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def clear_message(self) -> None:
        """Another segment is shown: an old answer or error no longer applies to it."""
        if not self.request.running:
            self._say("")

    def shutdown(self) -> None:
        self.request.cancel()

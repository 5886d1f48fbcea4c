""""Suggest variants…" in the campaign wizard: two or three message ideas for the campaign's
objective, tone and channel, from the model or the offline templates; one click puts one
into a variant editor. Requests run as tasks and can be cancelled."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.ai import (
    SMS_LIMIT,
    TONES,
    AISettings,
    VariantsAnswer,
    sms_length,
    suggest_variants,
)
from minicrm_desktop.services.core.tasks import TaskContext, TaskRunner
from minicrm_desktop.views.common.ai_request import AIRequest
from minicrm_desktop.views.common.widgets import MessageLabel


class SuggestVariantsDialog(QDialog):
    #: The user chose a variant's text for the wizard.
    chosen = Signal(str)
    #: Suggestions arrived (the VariantsAnswer) or failed (the message).
    finished_request = Signal(object)

    def __init__(self, runner: TaskRunner, ai: AISettings, *, objective: str, channel: str,
                 segment: str = "", target: str = "A", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("suggest_variants")
        self.setWindowTitle("Suggest message variants")
        self.resize(640, 460)
        self._ai = ai
        self.channel, self.segment = channel, segment
        self.request: AIRequest[VariantsAnswer] = AIRequest(runner)
        self.answer: VariantsAnswer | None = None
        self.use_buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.objective = QLineEdit(objective)
        self.objective.setPlaceholderText("e.g. Win back inactive users")
        form.addRow("Objective:", self.objective)
        self.tone = QComboBox()
        for tone in TONES:
            self.tone.addItem(tone.capitalize(), tone)
        form.addRow("Tone:", self.tone)
        form.addRow("Channel:", QLabel(channel.upper() + (
            f" (each message at most {SMS_LIMIT} characters)" if channel == "sms" else "")))
        layout.addLayout(form)
        row = QHBoxLayout()
        self.suggest_button = QPushButton("Suggest")
        self.suggest_button.setDefault(True)
        self.suggest_button.clicked.connect(self.suggest)
        self.cancel_button = QPushButton("Cancel request")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(120)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.engine_label = QLabel("")
        self.engine_label.setEnabled(False)
        for widget in (self.suggest_button, self.cancel_button, self.progress,
                       self.engine_label):
            row.addWidget(widget)
        row.addStretch(1)
        layout.addLayout(row)
        self.message = MessageLabel()
        layout.addWidget(self.message)
        self.cards = QVBoxLayout()
        layout.addLayout(self.cards, 1)
        layout.addStretch(1)
        self.target = target
        hint = QLabel(f"“Use” puts a message into variant {target}; edit it there as you like.")
        hint.setEnabled(False)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.finished.connect(lambda _code: self.cancel())

    def suggest(self) -> None:
        if self.request.running:
            return
        config, ai = self._ai.snapshot(), self._ai
        objective, channel = self.objective.text().strip(), self.channel
        tone, segment = str(self.tone.currentData()), self.segment

        def work(ctx: TaskContext) -> VariantsAnswer:
            return suggest_variants(ai.resolve(config), objective, channel, tone, segment,
                                    cancelled=ctx.cancelled)

        self._clear_cards()
        self._say("")
        self._busy(True)
        self.engine_label.setText("Writing suggestions…")
        self.request.start(work, title="Suggesting message variants",
                           answered=self._answered, failed=self._failed)

    @property
    def busy(self) -> bool:
        """A request (perhaps a cancelled one) has not yet ended."""
        return self.request.busy

    def cancel(self) -> None:
        if self.request.cancel():
            self._busy(False)
            self.engine_label.setText("Cancelled")

    def _busy(self, busy: bool) -> None:
        self.suggest_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.say(text, error=error)

    def _clear_cards(self) -> None:
        self.use_buttons = []
        while self.cards.count():
            item = self.cards.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _answered(self, answer: VariantsAnswer) -> None:
        self._busy(False)
        self.answer = answer
        self.engine_label.setText(f"By {answer.engine} · intent: {answer.intent}")
        self._say(answer.notice)
        for index, variant in enumerate(answer.variants):
            self.cards.addWidget(self._card(index, variant.text))
        self.finished_request.emit(answer)

    def _card(self, index: int, text: str) -> QWidget:
        card = QFrame()
        card.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(card)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(label, 1)
        side = QVBoxLayout()
        button = QPushButton("Use")
        button.setObjectName(f"use_suggestion_{index}")
        button.setToolTip(f"Put this message into variant {self.target}")
        button.clicked.connect(lambda _c=False, t=text: self.chosen.emit(t))
        side.addWidget(button)
        if self.channel == "sms":
            length = QLabel(f"~{sms_length(text)} chars")
            length.setEnabled(False)
            side.addWidget(length)
        side.addStretch(1)
        row.addLayout(side)
        self.use_buttons.append(button)
        return card

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.engine_label.setText("")
        if isinstance(exc, MiniCRMError):
            self._say(str(exc), error=True)
            self.finished_request.emit(str(exc))
        else:
            self._say("The suggestions failed because of an internal error.", error=True)
            self.finished_request.emit(str(exc))
            sys.excepthook(type(exc), exc, exc.__traceback__)

"""The wizard's message page: up to three variants, AI suggestions, previews on samples."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from minicrm_desktop.models.rules import dump_rule
from minicrm_desktop.services.ai import AISettings
from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.launch import MAX_VARIANTS
from minicrm_desktop.services.campaigns.wizard import PageId
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.services.segments import AudienceMember, audience_sample
from minicrm_desktop.views.campaigns.variant_suggestions import SuggestVariantsDialog
from minicrm_desktop.views.campaigns.wizard.split_choice import SplitChoice
from minicrm_desktop.views.campaigns.wizard.step import (
    LABELS,
    SAMPLE_CUSTOMERS,
    UNTOUCHED,
    StepPage,
    error_label,
)


class VariantEditor(QWidget):
    changed = Signal()

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(f"Variant {label}")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.remove_button = QPushButton("Remove")
        self.edit = QPlainTextEdit()
        self.edit.setObjectName(f"variant_{label.lower()}")
        self.edit.setPlaceholderText("Hi {first_name|there}, …")
        self.edit.setFixedHeight(64)
        self.error = error_label()
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.remove_button, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.edit, 1, 0, 1, 2)
        grid.addWidget(self.error, 2, 0, 1, 2)
        self.edit.textChanged.connect(self._check)

    @property
    def text(self) -> str:
        return self.edit.toPlainText()

    def _check(self) -> None:
        text = self.text
        self.error.setText(steps.variant_problem(text) or "" if text.strip() else "")
        self.changed.emit()


class MessagePage(StepPage):
    page_id = PageId.MESSAGE
    #: The preview was drawn for these sample customers.
    preview_ready = Signal()

    def __init__(self, engine: Engine, runner: TaskRunner, ai: AISettings) -> None:
        super().__init__()
        self._engine, self._runner = engine, runner
        self.ai = ai
        self.suggestions: SuggestVariantsDialog | None = None
        self.setTitle("Message")
        self.setSubTitle("Up to three variants: split evenly, or tested first with the "
                         "winner sent to the rest. "
                         + steps.token_help())
        self.samples: list[AudienceMember] = []
        self.handle: TaskHandle[Any] | None = None
        self._sample_key: str | None = None
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        self.editors: list[VariantEditor] = []
        for label in LABELS[:MAX_VARIANTS]:
            editor = VariantEditor(label)
            editor.changed.connect(self._changed)
            editor.remove_button.clicked.connect(lambda _c=False, e=editor: self.remove(e))
            left.addWidget(editor)
            self.editors.append(editor)
        self.add_button = QPushButton("Add variant")
        self.add_button.clicked.connect(self.add_variant)
        self.suggest_button = QPushButton("Suggest variants…")
        self.suggest_button.setToolTip("Message ideas for the campaign's objective, tone and "
                                       "channel (AI assistant or offline templates)")
        self.suggest_button.clicked.connect(self.suggest_variants)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.suggest_button)
        buttons.addStretch(1)
        left.addLayout(buttons)
        self.split = SplitChoice()
        self.split.changed.connect(self._changed)
        left.addWidget(self.split)
        self.split_error = error_label()
        left.addWidget(self.split_error)
        left.addStretch(1)
        outer.addLayout(left, 3)
        right = QVBoxLayout()
        right.addWidget(QLabel("Preview for customers in the audience"))
        self.preview = QTextBrowser()
        self.preview.setObjectName("message_preview")
        right.addWidget(self.preview, 1)
        outer.addLayout(right, 2)
        self.count = 1
        self.editors[0].edit.setPlainText(UNTOUCHED)
        self._layout_variants()

    def variants(self) -> list[str]:
        return [editor.text for editor in self.editors[: self.count]]

    def _target_index(self) -> int:
        """Where a chosen suggestion goes: the first variant still empty or untouched, else
        a new variant while there is room, else the last one."""
        for index, editor in enumerate(self.editors[: self.count]):
            if editor.text.strip() in ("", UNTOUCHED.strip()):
                return index
        return min(self.count, MAX_VARIANTS - 1)

    def suggestion_target(self) -> VariantEditor:
        index = self._target_index()
        while self.count <= index:
            self.add_variant()
        return self.editors[index]

    def suggest_variants(self) -> SuggestVariantsDialog:
        """Open the suggestions for this campaign's objective and channel."""
        if self.suggestions is not None:
            self.suggestions.close()
            self.suggestions.deleteLater()
        state = self.campaign_wizard().state()
        rule = state.rule
        target = self.editors[self._target_index()]
        dialog = SuggestVariantsDialog(
            self._runner, self.ai, objective=state.objective, channel=state.channel.value,
            segment=dump_rule(rule) if rule is not None else "",
            target=target.label, parent=self)
        dialog.chosen.connect(self.use_suggestion)
        self.suggestions = dialog
        dialog.open()
        dialog.suggest()
        return dialog

    def use_suggestion(self, text: str) -> None:
        editor = self.suggestion_target()
        editor.edit.setPlainText(text)
        editor.edit.setFocus()
        if self.suggestions is not None:
            self.suggestions.accept()

    def add_variant(self) -> None:
        if self.count < MAX_VARIANTS:
            self.count += 1
            self._layout_variants()
            self.editors[self.count - 1].edit.setFocus()
            self._changed()

    def remove(self, editor: VariantEditor) -> None:
        index = self.editors.index(editor)
        if self.count <= 1 or index >= self.count:
            return
        texts = self.variants()
        del texts[index]
        self.count -= 1
        for target, text in zip(self.editors, texts + [""] * MAX_VARIANTS, strict=False):
            target.edit.setPlainText(text)
        self._layout_variants()
        self._changed()

    def _layout_variants(self) -> None:
        for index, editor in enumerate(self.editors):
            editor.setVisible(index < self.count)
            editor.remove_button.setVisible(self.count > 1)
        self.add_button.setEnabled(self.count < MAX_VARIANTS)
        self.split.set_variant_count(self.count)

    def initializePage(self) -> None:
        wizard = self.campaign_wizard()
        self.split.set_engagement_available(wizard.vendor.open_rate > 0)
        rule = wizard.state().rule
        if rule is None:
            return
        key = dump_rule(rule)
        if key == self._sample_key and self.samples:
            self._render()
            return
        if self.handle is not None:
            self.handle.cancel()
        engine, as_of = self._engine, wizard.as_of
        self._sample_key = key
        handle = self._runner.run(
            lambda _ctx: audience_sample(engine, rule, as_of=as_of, size=SAMPLE_CUSTOMERS),
            title="Choosing sample customers", quiet=True, on_error=lambda exc: None)
        handle.succeeded.connect(lambda members, h=handle: self._sampled(h, members))
        handle.failed.connect(lambda exc, h=handle: self._sample_failed(h, exc))
        self.handle = handle

    def _sampled(self, handle: TaskHandle[Any], members: list[AudienceMember]) -> None:
        if handle is self.handle:
            self.handle = None
            self.samples = members
            self._render()

    def _sample_failed(self, handle: TaskHandle[Any], exc: BaseException) -> None:
        if handle is self.handle:
            self.handle = None
            self.preview.setPlainText(f"No preview: {exc}")

    def _changed(self) -> None:
        self._render()
        if self.wizard() is not None:
            self.split_error.setText(steps.ab_problem(self.campaign_wizard().state()) or "")
        self.completeChanged.emit()

    def _render(self) -> None:
        if not self.samples:
            self.preview.setHtml("<p><i>The audience is empty: nobody to preview.</i></p>"
                                 if self.handle is None and self._sample_key else "")
            return
        previews = steps.render_previews(self.variants(), self.samples)
        parts = []
        for label, rendered in zip(LABELS, previews, strict=False):
            parts.append(f"<h4 style='margin-bottom:2px'>Variant {label}</h4>")
            if not rendered:
                parts.append("<p><i>Fix the message to see it.</i></p>")
            for member, text in zip(self.samples, rendered, strict=False):
                parts.append(
                    f"<p style='margin-top:2px'><span style='color:#6e7781'>"
                    f"{html.escape(member.email.lower())}</span><br>"
                    f"{html.escape(text).replace(chr(10), '<br>')}</p>")
        self.preview.setHtml("".join(parts))
        self.preview_ready.emit()

    def isComplete(self) -> bool:
        return steps.message_problem(self.variants()) is None and (
            self.wizard() is None or steps.ab_problem(self.campaign_wizard().state()) is None)

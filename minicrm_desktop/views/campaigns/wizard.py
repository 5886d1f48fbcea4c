"""The New campaign wizard. Its steps, checks, previews and review facts come from the
Qt-free `services.campaigns.wizard`; the pages show them and gather the user's choices.
Every database read runs as a task; launching goes through the app's CampaignControl."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any, cast

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import Channel
from minicrm_desktop.models.rule_tree import ConditionNode, GroupNode
from minicrm_desktop.models.rules import dump_rule
from minicrm_desktop.services.access.actor import Actor
from minicrm_desktop.services.ai.config import AISettings
from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.launch import MAX_VARIANTS, CampaignError
from minicrm_desktop.services.campaigns.vendor import VendorConfig
from minicrm_desktop.services.campaigns.wizard import (
    AudienceReview,
    AudienceSource,
    PageId,
    WizardState,
)
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.services.segments import AudienceMember, audience_sample
from minicrm_desktop.services.segments.saved import SavedSegment, list_segments
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.variant_suggestions import SuggestVariantsDialog
from minicrm_desktop.views.common.widgets import ERROR_COLOR, muted_label
from minicrm_desktop.views.segments import LiveCount, NodeEditor, RuleTreeModel, RuleTreeView

SAMPLE_CUSTOMERS = 3
UNTOUCHED = "Hi {first_name|there}, "  # the first variant's starting text
LABELS = "ABC"


def _error_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
    return label



class _Page(QWizardPage):
    page_id: PageId

    def campaign_wizard(self) -> CampaignWizard:
        return cast(CampaignWizard, self.wizard())

    def nextId(self) -> int:
        wizard = self.wizard()
        if wizard is None:
            return -1
        return steps.next_page(self.page_id, self.campaign_wizard().state())


class BasicsPage(_Page):
    page_id = PageId.BASICS

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Name, channel and objective")
        self.setSubTitle("What the campaign is called, how it reaches customers, and why.")
        form = QFormLayout(self)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("campaign_name")
        self.name_edit.setPlaceholderText("e.g. Diwali offer for loyal customers")
        self.name_edit.setMaxLength(steps.NAME_LIMIT)
        self.channel = QComboBox()
        self.channel.addItem("Email", Channel.EMAIL.value)
        self.channel.addItem("SMS", Channel.SMS.value)
        self.objective = QLineEdit()
        self.objective.setPlaceholderText("e.g. bring back customers who have not ordered")
        form.addRow("Name", self.name_edit)
        form.addRow("Channel", self.channel)
        form.addRow("Objective", self.objective)
        self.registerField("name*", self.name_edit)
        self.registerField("channel", self.channel)
        self.registerField("objective", self.objective)


class AudiencePage(_Page):
    page_id = PageId.AUDIENCE
    segments_loaded = Signal(list)

    def __init__(self, engine: Engine, runner: TaskRunner) -> None:
        super().__init__()
        self._engine, self._runner = engine, runner
        self.setTitle("Audience")
        self.setSubTitle("Send to a saved segment, or build a rule for this campaign.")
        self.segments: list[SavedSegment] = []
        self.handle: TaskHandle[Any] | None = None
        layout = QVBoxLayout(self)
        self.segment_radio = QRadioButton("A saved segment")
        self.rule_radio = QRadioButton("A rule built for this campaign (next step)")
        self.segment_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.segment_radio)
        group.addButton(self.rule_radio)
        layout.addWidget(self.segment_radio)
        self.segment_list = QListWidget()
        self.segment_list.setObjectName("segment_choice")
        layout.addWidget(self.segment_list, 1)
        self.empty = muted_label("No saved segments yet: build a rule instead, or save one on "
                            "the Segments page.")
        self.empty.hide()
        layout.addWidget(self.empty)
        self.live = LiveCount(engine, runner)
        layout.addWidget(self.live)
        layout.addWidget(self.rule_radio)
        self.segment_radio.toggled.connect(self._changed)
        self.segment_list.currentRowChanged.connect(self._changed)

    def initializePage(self) -> None:
        if self.handle is None and not self.segments:
            engine = self._engine
            self.handle = self._runner.run(lambda _ctx: list_segments(engine),
                                           title="Loading segments", quiet=True,
                                           on_success=self._listed,
                                           on_error=lambda exc: self.empty.setText(str(exc)))
            self.handle.finished.connect(self._list_done)

    def _list_done(self) -> None:
        self.handle = None

    def _listed(self, segments: list[SavedSegment]) -> None:
        self.handle = None
        self.segments = segments
        self.segment_list.clear()
        for segment in segments:
            item = QListWidgetItem(segment.name)
            item.setToolTip(segment.description)
            self.segment_list.addItem(item)
        self.empty.setVisible(not segments)
        if segments:
            self.segment_list.setCurrentRow(0)
        self.segments_loaded.emit(segments)

    def selected_segment(self) -> SavedSegment | None:
        row = self.segment_list.currentRow()
        return self.segments[row] if 0 <= row < len(self.segments) else None

    def _changed(self, *_args: object) -> None:
        use_segment = self.segment_radio.isChecked()
        self.segment_list.setEnabled(use_segment)
        segment = self.selected_segment() if use_segment else None
        self.live.setVisible(use_segment)
        if segment is not None:
            self.live.as_of = self.campaign_wizard().as_of if self.wizard() else None
            self.live.set_rule(segment.rule)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        wizard = self.wizard()
        return wizard is not None and steps.audience_problem(
            self.campaign_wizard().state()) is None


class RulePage(_Page):
    page_id = PageId.RULE

    def __init__(self, engine: Engine, runner: TaskRunner) -> None:
        super().__init__()
        self.setTitle("Build the audience")
        self.setSubTitle("Customers matching every condition (or any, per group) receive "
                         "the message. An empty rule means every customer.")
        self.model = RuleTreeModel(self)
        layout = QVBoxLayout(self)
        tools = QHBoxLayout()
        self.add_condition_button = QPushButton("Add condition")
        self.add_group_button = QPushButton("Add group")
        self.delete_button = QPushButton("Delete")
        for button in (self.add_condition_button, self.add_group_button, self.delete_button):
            tools.addWidget(button)
        tools.addStretch(1)
        layout.addLayout(tools)
        self.tree = RuleTreeView(self.model)
        layout.addWidget(self.tree, 1)
        self.message = _error_label()
        layout.addWidget(self.message)
        self.node_editor = NodeEditor(self.model)
        layout.addWidget(self.node_editor)
        self.live = LiveCount(engine, runner)
        layout.addWidget(self.live)
        self.add_condition_button.clicked.connect(self.add_condition)
        self.add_group_button.clicked.connect(self.add_group)
        self.delete_button.clicked.connect(self.delete_selected)
        self.tree.delete_requested.connect(self.delete_selected)
        self.model.tree_changed.connect(self._tree_changed)
        self.tree.selectionModel().currentChanged.connect(self._show_current)
        self.model.modelReset.connect(self._show_current)
        self.model.dataChanged.connect(self._show_current)
        self.model.load(GroupNode())

    def initializePage(self) -> None:
        self.live.as_of = self.campaign_wizard().as_of
        self.tree.expandAll()
        self.tree.setCurrentIndex(self.model.index(0, 0))
        self._tree_changed()

    def _target(self) -> tuple[GroupNode, int | None]:
        node = self.tree.current_node()
        if isinstance(node, GroupNode):
            return node, None
        if isinstance(node, ConditionNode) and node.parent is not None:
            return node.parent, node.parent.children.index(node) + 1
        return self.model.root, None

    def add_condition(self) -> None:
        group, row = self._target()
        node = ConditionNode("city", "in", [])
        self.model.add(group, node, row)
        self.tree.select_node(node)

    def add_group(self) -> None:
        group, row = self._target()
        node = GroupNode("or")
        node.insert(0, ConditionNode("city", "in", []))
        self.model.add(group, node, row)
        self.tree.select_node(node)

    def delete_selected(self) -> None:
        node = self.tree.current_node()
        if node is not None and node.parent is not None:
            parent = node.parent
            self.model.remove(node)
            self.tree.select_node(parent)

    def _show_current(self, *_args: object) -> None:
        self.node_editor.show_node(self.tree.current_node())

    def _tree_changed(self) -> None:
        rule = self.model.rule
        if rule is None:
            problems = self.model.problems
            text = next(iter(problems.values()), "The rule is not complete.")
            self.message.setText(text)
            self.live.set_rule(None, text)
        else:
            self.message.setText("")
            self.live.set_rule(rule)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.model.rule is not None


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
        self.error = _error_label()
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


class MessagePage(_Page):
    page_id = PageId.MESSAGE
    #: The preview was drawn for these sample customers.
    preview_ready = Signal()

    def __init__(self, engine: Engine, runner: TaskRunner, ai: AISettings) -> None:
        super().__init__()
        self._engine, self._runner = engine, runner
        self.ai = ai
        self.suggestions: SuggestVariantsDialog | None = None
        self.setTitle("Message")
        self.setSubTitle("Up to three variants, split A/B/C across the audience. "
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

    def initializePage(self) -> None:
        wizard = self.campaign_wizard()
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
        return steps.message_problem(self.variants()) is None


class ReviewPage(_Page):
    page_id = PageId.REVIEW
    review_ready = Signal(object)

    def __init__(self, engine: Engine, runner: TaskRunner) -> None:
        super().__init__()
        self._engine, self._runner = engine, runner
        self.setTitle("Review and launch")
        self.setSubTitle("The audience is frozen at launch: these figures become facts then.")
        self.review: AudienceReview | None = None
        self.handle: TaskHandle[Any] | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.audience = QLabel("Counting…")
        self.skipped = QLabel("")
        self.skipped.setWordWrap(True)
        self.sendable = QLabel("")
        self.duration = QLabel("")
        for label in (self.audience, self.sendable):
            font = label.font()
            font.setBold(True)
            label.setFont(font)
        form.addRow("Campaign", self.summary)
        form.addRow("Audience", self.audience)
        form.addRow("Skipped", self.skipped)
        form.addRow("Will be sent", self.sendable)
        form.addRow("Estimated time", self.duration)
        self.rate = QSpinBox()
        self.rate.setRange(0, 100_000)
        self.rate.setSpecialValueText("no limit")
        self.rate.setSuffix(" messages a second")
        self.rate.setToolTip("The campaign's rate limit (0: as fast as the vendor accepts)")
        self.recent = QSpinBox()
        self.recent.setRange(0, 24 * 90)
        self.recent.setSpecialValueText("off")
        self.recent.setSuffix(" hours")
        self.recent.setToolTip("Skip customers another campaign messaged this recently")
        for spin in (self.rate, self.recent):
            spin.setMinimumWidth(220)
            spin.setMaximumWidth(260)
        form.addRow("Rate limit", self.rate)
        form.addRow("Skip if messaged within", self.recent)
        layout.addLayout(form)
        layout.addSpacing(12)
        self.now_radio = QRadioButton("Launch now")
        self.later_radio = QRadioButton("Schedule for")
        self.now_radio.setChecked(True)
        when = QHBoxLayout()
        when.addWidget(self.later_radio)
        self.when = QDateTimeEdit()
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("dd MMM yyyy, HH:mm")
        self.when.setDateTime(QDateTime.currentDateTime().addSecs(3600))
        self.when.setEnabled(False)
        when.addWidget(self.when)
        when.addStretch(1)
        layout.addWidget(self.now_radio)
        layout.addLayout(when)
        self.schedule_error = _error_label()
        layout.addWidget(self.schedule_error)
        layout.addStretch(1)
        self.later_radio.toggled.connect(self._schedule_changed)
        self.when.dateTimeChanged.connect(self._schedule_changed)
        self.rate.valueChanged.connect(self._show_duration)
        self.recent.editingFinished.connect(self._recount)
        self._recent_counted: int | None = None

    def rate_per_second(self) -> int | None:
        return self.rate.value() or None

    def recent_hours(self) -> int | None:
        return self.recent.value() or None

    def _recount(self) -> None:
        if self.recent_hours() != self._recent_counted and self.wizard() is not None:
            self.initializePage()

    def scheduled_at(self) -> datetime | None:
        if not self.later_radio.isChecked():
            return None
        return datetime.fromtimestamp(self.when.dateTime().toSecsSinceEpoch(), UTC)

    def initializePage(self) -> None:
        wizard = self.campaign_wizard()
        state = wizard.state()
        channel = "email" if state.channel == Channel.EMAIL else "SMS"
        variants = len(state.variants)
        self.summary.setText(f"“{state.name.strip()}” by {channel}, {variants} "
                             f"variant{'s' if variants > 1 else ''}")
        self.review = None
        self.audience.setText("Counting…")
        self.skipped.setText("")
        self.sendable.setText("")
        self.duration.setText("")
        rule = state.rule
        if rule is None:
            return
        if self.handle is not None:
            self.handle.cancel()
        engine, as_of, recent = self._engine, wizard.as_of, self.recent_hours()
        self._recent_counted = recent
        handle = self._runner.run(
            lambda _ctx: steps.review_audience(engine, rule, state.channel, as_of=as_of,
                                               recent_hours=recent),
            title="Reviewing the audience", quiet=True, on_error=lambda exc: None)
        handle.succeeded.connect(lambda review, h=handle: self._reviewed(h, review))
        handle.failed.connect(lambda exc, h=handle: self._failed(h, exc))
        self.handle = handle
        self._schedule_changed()

    def _reviewed(self, handle: TaskHandle[Any], review: AudienceReview) -> None:
        if handle is not self.handle:
            return
        self.handle = None
        self.review = review
        self.audience.setText(f"{review.audience:,} customers")
        self.skipped.setText("; ".join(f"{n:,} {reason}" for reason, n in
                                       sorted(review.skipped.items(), key=lambda i: -i[1]))
                             or "nobody")
        self.sendable.setText(f"{review.sendable:,} messages")
        self._show_duration()
        self.review_ready.emit(review)
        self.completeChanged.emit()

    def _show_duration(self, *_args: object) -> None:
        if self.review is None or self.wizard() is None:
            return
        seconds = steps.estimated_seconds(self.review.sendable,
                                          rate_per_second=self.rate_per_second(),
                                          vendor=self.campaign_wizard().vendor)
        self.duration.setText(steps.describe_duration(seconds))

    def _failed(self, handle: TaskHandle[Any], exc: BaseException) -> None:
        if handle is self.handle:
            self.handle = None
            self.audience.setText(f"Could not count the audience: {exc}")

    def _schedule_changed(self, *_args: object) -> None:
        later = self.later_radio.isChecked()
        self.when.setEnabled(later)
        self.schedule_error.setText(steps.schedule_problem(self.scheduled_at()) or "")
        wizard = self.wizard()
        if wizard is not None:
            wizard.setButtonText(QWizard.WizardButton.FinishButton,
                                 "Schedule" if later else "Launch")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.review is not None and steps.schedule_problem(self.scheduled_at()) is None


class CampaignWizard(QWizard):
    #: The campaign was handed to the app to create (and launch); carries the draft.
    submitted = Signal(object)

    def __init__(self, engine: Engine, runner: TaskRunner, control: CampaignControl, *,
                 actor: Actor, vendor: VendorConfig | None = None, as_of: datetime | None = None,
                 ai: AISettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaign_wizard")
        self.setWindowTitle("New campaign")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(900, 640)
        self.control = control
        self.actor = actor
        self.vendor = vendor or VendorConfig()
        #: The clock relative dates are counted from (None: now; tests pin it).
        self.as_of = as_of
        self.basics = BasicsPage()
        self.audience_page = AudiencePage(engine, runner)
        self.rule_page = RulePage(engine, runner)
        self.message_page = MessagePage(engine, runner, ai)
        self.review_page = ReviewPage(engine, runner)
        for page in (self.basics, self.audience_page, self.rule_page, self.message_page,
                     self.review_page):
            self.setPage(page.page_id, page)
        self.setStartId(PageId.BASICS)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Launch")

    def state(self) -> WizardState:
        """The choices made so far, as the Qt-free step logic reads them."""
        audience = self.audience_page
        source = AudienceSource.SEGMENT if audience.segment_radio.isChecked() \
            else AudienceSource.RULE
        segment = audience.selected_segment()
        return WizardState(
            name=str(self.field("name") or ""),
            channel=Channel(self.basics.channel.currentData()),
            objective=str(self.field("objective") or ""),
            source=source,
            segment_id=segment.id if segment else None,
            segment_rule=segment.rule if segment else None,
            inline_rule=self.rule_page.model.rule,
            variants=self.message_page.variants(),
            scheduled_at=self.review_page.scheduled_at(),
            rate_per_second=self.review_page.rate_per_second(),
            recent_hours=self.review_page.recent_hours(),
            vendor=self.vendor,
            as_of=self.as_of,
        )

    @property
    def busy(self) -> bool:
        pages = (self.audience_page, self.message_page, self.review_page)
        suggestions = self.message_page.suggestions
        return any(page.handle is not None for page in pages) or self.audience_page.live.pending \
            or self.rule_page.live.pending or (suggestions is not None and suggestions.busy)

    def accept(self) -> None:
        try:
            draft = steps.build_draft(self.state())
        except CampaignError as exc:
            self.review_page.schedule_error.setText(str(exc))
            return
        self.control.submit(draft, actor=self.actor)
        self.submitted.emit(draft)
        super().accept()

    def done(self, result: int) -> None:
        self.stop()
        super().done(result)

    def stop(self) -> None:
        """No more counting or sampling: the wizard is closing."""
        self.audience_page.live.stop()
        self.rule_page.live.stop()
        for page in (self.audience_page, self.message_page, self.review_page):
            if page.handle is not None:
                page.handle.cancel()

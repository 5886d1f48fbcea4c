"""The wizard's review page: the facts to check, and launching now or at a set time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWizard,
)
from sqlalchemy import Engine

from minicrm_desktop.models.campaign import Channel
from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.wizard import AudienceReview, PageId
from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner
from minicrm_desktop.views.campaigns.wizard.step import StepPage, error_label


class ReviewPage(StepPage):
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
        self.form = form = QFormLayout()
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
        self.split = QLabel("")
        self.split.setObjectName("review_split")
        self.split.setWordWrap(True)
        form.addRow("Campaign", self.summary)
        form.addRow("Variants", self.split)
        self.email = QLabel("")
        self.email.setObjectName("review_email")
        self.email.setWordWrap(True)
        form.addRow("Email", self.email)
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
        self.schedule_error = error_label()
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
        self.split.setText(steps.describe_split(state))
        email = state.channel == Channel.EMAIL
        self.email.setText(wizard.email_page.summary() if email else "")
        self.form.setRowVisible(self.email, email)
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

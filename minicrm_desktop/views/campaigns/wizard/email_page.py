"""The wizard's email page: subject, sender, the unsubscribe footer, a preview of the
email as sample customers get it, and a test send to yourself or a few addresses."""

from __future__ import annotations

import html
from dataclasses import asdict
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTextBrowser,
    QVBoxLayout,
)

from minicrm_desktop.services.campaigns import wizard as steps
from minicrm_desktop.services.campaigns.email import (
    SENDER_NAME_LIMIT,
    SUBJECT_LIMIT,
    EmailDefaults,
    preview_email,
    sender_line,
)
from minicrm_desktop.services.campaigns.launch import CampaignError
from minicrm_desktop.services.campaigns.testsend import MAX_TEST_ADDRESSES, TestMessage
from minicrm_desktop.services.campaigns.wizard import PageId, WizardState
from minicrm_desktop.services.core.tasks import TaskHandle
from minicrm_desktop.views.campaigns.wizard.step import LABELS, StepPage, error_label
from minicrm_desktop.views.common.widgets import muted_label

MUTED = "#6e7781"


class EmailPage(StepPage):
    page_id = PageId.EMAIL

    def __init__(self, defaults: EmailDefaults, account_email: str | None) -> None:
        super().__init__()
        self.setTitle("Email: subject, sender and footer")
        self.setSubTitle("Tokens work here as in the message. Every email must carry "
                         "{unsubscribe_url}, in the message or the footer.")
        self.defaults = defaults
        self.handle: TaskHandle[Any] | None = None
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        form = QFormLayout()
        self.subject = QLineEdit()
        self.subject.setObjectName("email_subject")
        self.subject.setMaxLength(SUBJECT_LIMIT)
        self.subject.setPlaceholderText("{first_name|Hello}, … (empty: the campaign's name)")
        self.sender_name = QLineEdit(defaults.sender_name)
        self.sender_name.setObjectName("email_sender_name")
        self.sender_name.setMaxLength(SENDER_NAME_LIMIT)
        self.sender_name.setPlaceholderText(defaults.sender_name)
        self.sender_address = QLineEdit(defaults.sender_address)
        self.sender_address.setObjectName("email_sender_address")
        self.sender_address.setPlaceholderText(defaults.sender_address)
        self.footer = QPlainTextEdit(defaults.footer)
        self.footer.setObjectName("email_footer")
        self.footer.setFixedHeight(60)
        self.footer.setTabChangesFocus(True)
        form.addRow("Subject", self.subject)
        form.addRow("Sender name", self.sender_name)
        form.addRow("From-address", self.sender_address)
        form.addRow("Footer", self.footer)
        left.addLayout(form)
        left.addWidget(muted_label("Sender and footer start from Settings → Email; changes "
                                   "here are for this campaign only."))
        self.problem = error_label()
        self.problem.setObjectName("email_problem")
        left.addWidget(self.problem)
        left.addWidget(self._test_group(account_email))
        left.addStretch(1)
        outer.addLayout(left, 3)
        right = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(QLabel("Preview of variant"))
        self.variant_choice = QComboBox()
        self.variant_choice.setObjectName("email_preview_variant")
        top.addWidget(self.variant_choice)
        top.addStretch(1)
        right.addLayout(top)
        self.preview = QTextBrowser()
        self.preview.setObjectName("email_preview")
        right.addWidget(self.preview, 1)
        outer.addLayout(right, 2)
        for edit in (self.subject, self.sender_name, self.sender_address):
            edit.textChanged.connect(self._changed)
        self.footer.textChanged.connect(self._changed)
        self.variant_choice.currentIndexChanged.connect(self._render)

    def _test_group(self, account_email: str | None) -> QGroupBox:
        group = QGroupBox("Test send")
        column = QVBoxLayout(group)
        column.addWidget(muted_label("Each variant goes through the vendor, marked as a test; "
                                     "the campaign's figures do not count it."))
        self.me_radio = QRadioButton(f"To me ({account_email})" if account_email
                                     else "To me (not signed in: no address)")
        self.me_radio.setEnabled(account_email is not None)
        self.others_radio = QRadioButton(f"To up to {MAX_TEST_ADDRESSES} addresses")
        choice = QButtonGroup(group)
        choice.addButton(self.me_radio)
        choice.addButton(self.others_radio)
        (self.me_radio if account_email else self.others_radio).setChecked(True)
        self.test_addresses = QLineEdit()
        self.test_addresses.setObjectName("test_addresses")
        self.test_addresses.setPlaceholderText("ana@example.com, ravi@example.com")
        self.test_addresses.setAccessibleName("Test addresses")
        self.test_addresses.textEdited.connect(lambda _t: self.others_radio.setChecked(True))
        column.addWidget(self.me_radio)
        row = QHBoxLayout()
        row.addWidget(self.others_radio)
        row.addWidget(self.test_addresses, 1)
        column.addLayout(row)
        send = QHBoxLayout()
        self.test_button = QPushButton("Send test")
        self.test_button.setObjectName("send_test")
        self.test_button.clicked.connect(self.send_test)
        send.addWidget(self.test_button)
        self.test_status = QLabel("")
        self.test_status.setWordWrap(True)
        send.addWidget(self.test_status, 1)
        column.addLayout(send)
        self.test_results = QListWidget()
        self.test_results.setObjectName("test_results")
        self.test_results.setMaximumHeight(96)
        self.test_results.hide()
        column.addWidget(self.test_results)
        return group

    # --- the campaign's email settings ------------------------------------------------------

    def initializePage(self) -> None:
        count = len(self.campaign_wizard().message_page.variants())
        current = max(0, self.variant_choice.currentIndex())
        self.variant_choice.blockSignals(True)
        self.variant_choice.clear()
        self.variant_choice.addItems(list(LABELS[:count]))
        self.variant_choice.setCurrentIndex(min(current, count - 1))
        self.variant_choice.blockSignals(False)
        self._changed()

    def restore_state(self, state: WizardState) -> None:
        """Show a saved state's email settings (a reopened draft)."""
        self.subject.setText(state.subject)
        self.sender_name.setText(state.sender_name or self.defaults.sender_name)
        self.sender_address.setText(state.sender_address or self.defaults.sender_address)
        self.footer.setPlainText(state.footer)

    def _changed(self, *_args: object) -> None:
        if self.wizard() is None:
            return
        self.problem.setText(steps.email_settings_problem(self.campaign_wizard().state()) or "")
        self._render()
        self.completeChanged.emit()

    def _render(self, *_args: object) -> None:
        wizard = self.wizard()
        if wizard is None:
            return
        state = self.campaign_wizard().state()
        samples = self.campaign_wizard().message_page.samples
        index = self.variant_choice.currentIndex()
        if not samples or not 0 <= index < len(state.variants):
            self.preview.setHtml("<p><i>No customer in the audience to preview.</i></p>")
            return
        subject = state.subject.strip() or state.name.strip()
        sender = self._sender(state)
        parts = []
        for member in samples:
            email = preview_email(state.variants[index], subject, state.footer, sender,
                                  asdict(member))
            if email is None:
                self.preview.setHtml("<p><i>Fix the subject, message or footer to see the "
                                     "email.</i></p>")
                return
            parts.append(
                f"<p style='margin-bottom:2px'><span style='color:{MUTED}'>From "
                f"{html.escape(email.sender or '')} · to {html.escape(member.email.lower())}"
                f"</span><br><b>{html.escape(email.subject)}</b></p>"
                f"<p style='margin-top:2px'>{html.escape(email.body).replace(chr(10), '<br>')}"
                "</p><hr>")
        self.preview.setHtml("".join(parts))

    def summary(self) -> str:
        """The review page's line: who it is from and its subject, as stored at launch."""
        state = self.campaign_wizard().state()
        subject = state.subject.strip() or state.name.strip()
        return f"From {self._sender(state)}; subject “{subject}”"

    def _sender(self, state: WizardState) -> str | None:
        """As launch stores it: an empty field takes Settings' default."""
        return sender_line(state.sender_name.strip() or self.defaults.sender_name,
                           state.sender_address.strip() or self.defaults.sender_address)

    def isComplete(self) -> bool:
        return self.wizard() is not None and \
            steps.email_settings_problem(self.campaign_wizard().state()) is None

    # --- the test send ----------------------------------------------------------------------

    def addresses(self) -> list[str]:
        if self.me_radio.isChecked():
            return []  # the service sends to the signed-in user's own address
        text = self.test_addresses.text().replace(";", ",")
        return [part.strip() for part in text.split(",") if part.strip()]

    def send_test(self) -> None:
        if self.handle is not None:
            return
        wizard = self.campaign_wizard()
        self.test_results.clear()
        self.test_results.hide()
        addresses = self.addresses()
        if self.others_radio.isChecked() and not addresses:
            self.test_status.setText("Type the addresses to send the test to.")
            return
        try:
            draft = steps.build_draft(wizard.state())
        except CampaignError as exc:
            self.test_status.setText(f"Cannot send a test: {exc}")
            return
        self.test_button.setEnabled(False)
        self.test_status.setText("Sending the test…")
        handle = wizard.control.send_test(draft, addresses, actor=wizard.actor)
        handle.succeeded.connect(self._tested)
        handle.failed.connect(self._test_failed)
        self.handle = handle

    def _tested(self, messages: list[TestMessage]) -> None:
        self.handle = None
        self.test_button.setEnabled(True)
        sent = sum(m.sent for m in messages)
        self.test_status.setText(f"Test sent: {sent} of {len(messages)} messages delivered.")
        for m in messages:
            outcome = "sent" if m.sent else f"failed: {m.reason}"
            QListWidgetItem(f"{m.address} · variant {m.variant} · {outcome}", self.test_results)
        self.test_results.show()

    def _test_failed(self, exc: BaseException) -> None:
        self.handle = None
        self.test_button.setEnabled(True)
        self.test_status.setText(f"The test was not sent: {exc}")

"""The AI features in the window: the "Describe in words" box (offline and through the
local OpenAI-compatible server), variant suggestions in the wizard, and the campaign
summary. Offscreen, waiting on signals only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import LOCAL_ADMIN, Actor, Role
from minicrm_desktop.services.access.audit import AuditFilter, iter_audit
from minicrm_desktop.services.ai.config import AISettings
from minicrm_desktop.services.ai.summary import campaign_figures, numbers_in, template_summary
from minicrm_desktop.services.ai.variants import SMS_LIMIT, sms_length
from minicrm_desktop.services.campaigns.store import counts
from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.secrets import EncryptedFileSecrets, SecretStore
from minicrm_desktop.services.core.settings import DictStore, Settings
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.services.segments.saved import list_segments
from minicrm_desktop.views.campaigns.control import CampaignControl
from minicrm_desktop.views.campaigns.detail import CampaignDetail
from minicrm_desktop.views.campaigns.wizard import CampaignWizard
from minicrm_desktop.views.segments.page import SegmentsPage
from minicrm_desktop.views.settings.ai import PRIVACY, AISettingsGroup
from minicrm_desktop.views.settings.changes import ADMINS_ONLY, SettingChanges
from tests.gui.conftest import (  # noqa: F401
    bus,
    draft_questions,
    make_control,
    quit_questions,
    runner,
)
from tests.gui.test_campaign_detail import sent_campaign  # noqa: F401
from tests.gui.test_campaign_wizard import population  # noqa: F401
from tests.segments.population import insert_people

from .conftest import TEST_KEY
from .fake_openai import FakeOpenAI, Reply
from .people import people

OFFLINE = AISettings(Settings(DictStore()), api_key="")


def model_settings(fake: FakeOpenAI) -> AISettings:
    return AISettings(Settings(DictStore({"ai/base_url": fake.url, "ai/retries": 0})),
                      api_key=TEST_KEY)


@pytest.fixture
def open_page(sqlite_engine: Engine, runner: TaskRunner, bus: EventBus,  # noqa: F811
              qtbot: QtBot) -> Iterator[Callable[[AISettings], SegmentsPage]]:
    insert_people(sqlite_engine, people())
    pages: list[SegmentsPage] = []

    def open_with(ai: AISettings) -> SegmentsPage:
        page = SegmentsPage(sqlite_engine, runner, bus, actor=LOCAL_ADMIN, ai=ai)
        page.resize(1000, 700)
        page.show()
        with qtbot.waitSignals([page.segments_loaded, page.tags_loaded], timeout=20_000):
            page.start()
        pages.append(page)
        return page

    yield open_with
    for page in pages:
        def idle(p: SegmentsPage = page) -> bool:
            return not p.live.pending and not p.describe_group.busy

        qtbot.waitUntil(idle, timeout=20_000)
        page.shutdown()
        page.close()
        page.deleteLater()


def describe(page: SegmentsPage, qtbot: QtBot, sentence: str) -> Any:
    page.describe_box.setPlainText(sentence)
    page.describe_box.setFocus()
    with qtbot.waitSignal(page.describe_group.finished, timeout=20_000) as done:
        qtbot.keyClick(page.describe_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    return done.args[0]


def test_describe_offline_fills_the_builder_unsaved(open_page: Callable[..., SegmentsPage],
                                                    sqlite_engine: Engine,
                                                    qtbot: QtBot) -> None:
    page = open_page(OFFLINE)
    panel = page.describe_group
    assert page.describe_box.isEnabled()
    describe(page, qtbot, "vip customers in Mumbai or Pune who haven't ordered in 6 months")
    # Ctrl+Enter filled the rules (and did not also add an empty condition).
    assert page.model.to_json()["rules"] == [
        {"field": "tags", "operator": "contains", "value": "vip"},
        {"field": "city", "operator": "in", "value": ["Mumbai", "Pune"]},
        {"field": "last_order_date", "operator": "notWithinLast",
         "value": {"amount": 6, "unit": "months"}},
    ]
    assert panel.engine_label.text() == "Answered by Offline parser"
    assert "Review the rules" in panel.message.text()
    # Nothing saved unseen: the page is dirty and the database has no segment.
    assert page.dirty
    assert list_segments(sqlite_engine) == []
    page.undo_action.trigger()
    assert page.model.to_json()["rules"] == []


def test_describe_says_precisely_what_it_did_not_understand(
        open_page: Callable[..., SegmentsPage], qtbot: QtBot) -> None:
    page = open_page(OFFLINE)
    describe(page, qtbot, "customers in Mumbai")
    before = page.model.to_json()
    message = describe(page, qtbot, "customers in Mumbai who like cricket")
    assert 'could not understand "like cricket"' in message
    panel = page.describe_group
    assert panel.message.isVisible()
    assert "like cricket" in panel.message.text()
    assert page.model.to_json() == before  # unchanged


def test_describe_through_the_model(open_page: Callable[..., SegmentsPage],
                                    fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    rule = {"combinator": "or", "not": False, "version": 1, "rules": [
        {"field": "city", "operator": "=", "value": "Chennai"},
        {"field": "total_spend", "operator": ">=", "value": 25000}]}
    fake_openai.script(Reply.answer({"rule": rule, "not_understood": None}))
    page = open_page(model_settings(fake_openai))
    answer = describe(page, qtbot, "Chennai people or anyone who spent 25k+")
    assert answer.engine == "OpenAI (gpt-4o-mini)"
    assert page.describe_group.engine_label.text() == "Answered by OpenAI (gpt-4o-mini)"
    assert page.model.to_json()["rules"] == rule["rules"]
    assert page.model.to_json()["combinator"] == "or"
    # The model got the city names from the database, and no customer's address.
    sent = str(fake_openai.requests[0]["messages"])
    assert "Chennai" in sent
    assert "@" not in sent


def test_describe_falls_back_offline_with_the_reason(open_page: Callable[..., SegmentsPage],
                                                     fake_openai: FakeOpenAI,
                                                     qtbot: QtBot) -> None:
    fake_openai.script(Reply.fail(429, "Rate limit reached"))
    page = open_page(model_settings(fake_openai))
    answer = describe(page, qtbot, "customers in Chennai")
    assert answer.engine == "Offline parser"
    assert "429" in page.describe_group.message.text()
    assert page.model.to_json()["rules"] == [{"field": "city", "operator": "=",
                                              "value": "Chennai"}]


def test_describe_can_be_cancelled(open_page: Callable[..., SegmentsPage],
                                   fake_openai: FakeOpenAI, runner: TaskRunner,  # noqa: F811
                                   qtbot: QtBot) -> None:
    fake_openai.script(Reply(hang=fake_openai.release, content="{}"))
    page = open_page(model_settings(fake_openai))
    panel = page.describe_group
    page.describe_box.setPlainText("customers in Chennai")
    panel.fill_button.click()
    assert panel.busy
    assert panel.cancel_button.isVisible()
    assert panel.progress.isVisible()
    qtbot.waitUntil(fake_openai.arrived.is_set, timeout=10_000)
    with qtbot.waitSignal(panel.finished, timeout=5_000) as done:
        panel.cancel_button.click()
    assert done.args == ["cancelled"]
    assert "Cancelled" in panel.message.text()
    assert page.model.to_json()["rules"] == []
    # The task itself ends at once, not when the server would have answered.
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=5_000)
    assert panel.fill_button.isEnabled()


# --- variants in the wizard ------------------------------------------------------------------

@pytest.fixture
def wizard(population: Engine, runner: TaskRunner, qtbot: QtBot,  # noqa: F811
           make_control: Callable[[Engine], CampaignControl]  # noqa: F811
           ) -> Iterator[CampaignWizard]:
    made = CampaignWizard(population, runner, make_control(population), actor=LOCAL_ADMIN,
                          ai=OFFLINE)
    made.show()
    qtbot.waitExposed(made)
    yield made
    qtbot.waitUntil(lambda: not made.busy, timeout=10_000)
    made.close()
    made.deleteLater()


def test_suggested_variant_goes_into_the_wizard(wizard: CampaignWizard, qtbot: QtBot) -> None:
    qtbot.keyClicks(wizard.basics.name_edit, "Come back")
    wizard.basics.channel.setCurrentIndex(1)  # SMS
    qtbot.keyClicks(wizard.basics.objective, "Win back inactive users")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.audience_page.segment_list.count() == 1, timeout=10_000)
    wizard.next()
    message = wizard.message_page
    assert wizard.currentId() == 3
    message.suggest_button.click()
    dialog = message.suggestions
    assert dialog is not None
    with qtbot.waitSignal(dialog.finished_request, timeout=10_000) as done:
        pass
    answer = done.args[0]
    assert answer.intent == "win-back"
    assert answer.channel == "sms"
    assert 2 <= len(answer.variants) <= 3 == len(dialog.use_buttons)
    assert all(sms_length(v.text) <= SMS_LIMIT for v in answer.variants)
    dialog.tone.setCurrentIndex(dialog.tone.findData("professional"))
    with qtbot.waitSignal(dialog.finished_request, timeout=10_000) as again:
        dialog.suggest_button.click()
    chosen = again.args[0].variants[1].text
    assert chosen.startswith("Dear ") or "{first_name|" in chosen
    dialog.use_buttons[1].click()  # one click
    assert message.editors[0].text == chosen  # variant A was untouched, so it takes it
    assert message.editors[0].error.text() == ""
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert not dialog.isVisible()
    # A second suggestion goes into a new variant B, keeping A; only once chosen.
    second = message.suggest_variants()
    with qtbot.waitSignal(second.finished_request, timeout=10_000):
        pass
    assert message.count == 1
    second.use_buttons[0].click()
    assert message.count == 2
    assert message.editors[0].text == chosen
    assert message.editors[1].text == second.answer.variants[0].text  # type: ignore[union-attr]


# --- the campaign summary ----------------------------------------------------------------------

@pytest.fixture
def open_detail(runner: TaskRunner, bus: EventBus, qtbot: QtBot  # noqa: F811
                ) -> Iterator[Callable[[Engine, AISettings], CampaignDetail]]:
    pages: list[CampaignDetail] = []

    def make(engine: Engine, ai: AISettings) -> CampaignDetail:
        page = CampaignDetail(engine, runner, bus, ai=ai)
        page.resize(1100, 800)
        page.show()
        pages.append(page)
        return page

    yield make
    for page in pages:
        def idle(p: CampaignDetail = page) -> bool:
            return not p.busy and p.summary_panel.handle is None

        qtbot.waitUntil(idle, timeout=10_000)
        page.shutdown()
        page.close()
        page.deleteLater()


def show_summary(page: CampaignDetail, campaign_id: int, qtbot: QtBot) -> Any:
    with qtbot.waitSignal(page.summary_panel.summary_ready, timeout=20_000) as ready:
        page.show_campaign(campaign_id)
    return ready.args[0]


def test_summary_from_the_template(sent_campaign: tuple[Engine, int],  # noqa: F811
                                   open_detail: Callable[..., CampaignDetail],
                                   qtbot: QtBot) -> None:
    engine, campaign_id = sent_campaign
    page = open_detail(engine, OFFLINE)
    summary = show_summary(page, campaign_id, qtbot)
    final = counts(engine, campaign_id)
    assert final is not None
    text = page.summary_panel.text.text()
    assert summary.engine == "Built-in template"
    assert text == summary.text
    rate = final.sent / (final.sent + final.failed)
    assert f"reached {final.sent:,} of its {final.audience:,} customers ({rate * 100:.1f}%" \
        in text
    assert f"{final.failed:,} failed" in text
    assert f"{final.skipped:,} skipped" in text
    assert page.summary_panel.engine_label.text() == "Built-in template"


def test_summary_phrased_by_the_model_keeps_the_numbers(
        sent_campaign: tuple[Engine, int],  # noqa: F811
        open_detail: Callable[..., CampaignDetail], fake_openai: FakeOpenAI,
        qtbot: QtBot) -> None:
    engine, campaign_id = sent_campaign
    template = template_summary(campaign_figures(engine, campaign_id))
    phrased = "In plain words: " + template.replace(" reached ", " went out to ")
    fake_openai.script(Reply.answer({"summary": phrased}))
    page = open_detail(engine, model_settings(fake_openai))
    summary = show_summary(page, campaign_id, qtbot)
    assert summary.engine == "OpenAI (gpt-4o-mini)"
    assert page.summary_panel.text.text() == phrased
    # Only aggregate figures were sent: the report, no recipient.
    assert fake_openai.user_messages() == ["Report: " + template]


def test_summary_with_invented_numbers_falls_back_to_the_template(
        sent_campaign: tuple[Engine, int],  # noqa: F811
        open_detail: Callable[..., CampaignDetail], fake_openai: FakeOpenAI,
        qtbot: QtBot) -> None:
    engine, campaign_id = sent_campaign
    template = template_summary(campaign_figures(engine, campaign_id))
    invented = {"summary": template + " Next time expect 99.9% delivery."}
    dropped = {"summary": "The campaign went well and most messages arrived."}
    fake_openai.script(Reply.answer(invented), Reply.answer(dropped))
    page = open_detail(engine, model_settings(fake_openai))
    summary = show_summary(page, campaign_id, qtbot)
    assert summary.engine == "Built-in template"
    assert page.summary_panel.text.text() == template
    assert "numbers differ" in summary.notice
    assert "99.9" in fake_openai.user_messages(1)[-1]  # the repair round named it
    assert numbers_in(page.summary_panel.text.text()) == numbers_in(template)


# --- settings --------------------------------------------------------------------------------

class MemorySecrets:
    """A stand-in secret store for the Settings group (the real one is another module's)."""

    description = "the test keyring"

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


@pytest.fixture
def admin_changes(sqlite_engine: Engine, runner: TaskRunner) -> SettingChanges:  # noqa: F811
    return SettingChanges(sqlite_engine, runner, LOCAL_ADMIN)


def test_settings_group_saves_options_and_key_to_the_store(
        qtbot: QtBot, admin_changes: SettingChanges) -> None:
    store = DictStore()
    secrets = MemorySecrets()
    ai = AISettings(Settings(store), lambda: secrets)  # type: ignore[arg-type, return-value]
    group = AISettingsGroup(ai, admin_changes)
    qtbot.addWidget(group)
    group.model.setText("llama3.1")
    with qtbot.waitSignal(group.saved):
        group.model.editingFinished.emit()
    group.base_url.setText("http://localhost:11434/v1")
    with qtbot.waitSignal(group.saved):
        group.base_url.editingFinished.emit()
    with qtbot.waitSignal(group.saved):
        group.timeout.setValue(12)
    with qtbot.waitSignal(group.saved):
        group.offline_only.setChecked(True)
    config = ai.snapshot()
    assert (config.model, config.base_url, config.timeout_s, config.offline_only) == (
        "llama3.1", "http://localhost:11434/v1", 12.0, True)
    group.key.setText("sk-secret-value")
    with qtbot.waitSignal(group.key_changed):
        group.save_key_button.click()
    assert secrets.values == {"openai-api-key": "sk-secret-value"}
    assert group.key.text() == ""  # not left in the widget
    assert "sk-secret" not in str(store.values)  # never in the settings file
    assert "the test keyring" in group.key_status.text()
    assert ai.resolve(config.__class__(offline_only=False)).api_key == "sk-secret-value"
    with qtbot.waitSignal(group.key_changed):
        group.remove_key_button.click()
    assert secrets.values == {}
    # Each change is in the audit log, the key's without its value.
    rows = list(iter_audit(admin_changes.engine, AuditFilter(), actor=LOCAL_ADMIN))
    details = " ".join(str(row) for row in rows)
    assert {"ai/model", "ai/base_url", "ai/timeout_seconds", "ai/offline_only",
            "ai/api_key"} <= {key for key in SETTING_KEYS if key in details}
    assert "sk-secret" not in details
    privacy = group.findChild(type(group.key_status), "settings_ai_privacy")
    assert privacy is not None
    assert privacy.text() == PRIVACY
    assert "No customer's personal data is ever sent" in PRIVACY


def test_key_goes_to_the_encrypted_file_when_there_is_no_keyring(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        admin_changes: SettingChanges) -> None:
    path = tmp_path / "secrets.json"
    store = SecretStore(EncryptedFileSecrets(path, None, scrypt_n=2**10))
    asked: list[bool] = []

    def ask(cls: type, parent: object, *, creating: bool) -> str:
        asked.append(creating)
        return "correct horse"

    monkeypatch.setattr(AISettingsGroup, "ask_passphrase", classmethod(ask))
    settings_store = DictStore()
    ai = AISettings(Settings(settings_store), lambda: store)
    group = AISettingsGroup(ai, admin_changes)
    qtbot.addWidget(group)
    group.key.setText("sk-file-secret")
    with qtbot.waitSignal(group.key_changed):
        group.save_key_button.click()
    assert asked == [True]
    assert "encrypted file" in group.key_status.text()
    assert b"sk-file-secret" not in path.read_bytes()  # encrypted, not plain text
    assert "sk-file-secret" not in str(settings_store.values)
    reopened = SecretStore(EncryptedFileSecrets(path, lambda: "correct horse", scrypt_n=2**10))
    assert reopened.get("openai-api-key") == "sk-file-secret"
    assert ai.resolve(ai.snapshot()).api_key == "sk-file-secret"


def test_no_passphrase_means_nothing_saved(qtbot: QtBot, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           admin_changes: SettingChanges) -> None:
    path = tmp_path / "secrets.json"
    store = SecretStore(EncryptedFileSecrets(path, None, scrypt_n=2**10))
    monkeypatch.setattr(AISettingsGroup, "ask_passphrase",
                        classmethod(lambda cls, parent, *, creating: None))
    group = AISettingsGroup(AISettings(Settings(DictStore()), lambda: store), admin_changes)
    qtbot.addWidget(group)
    group.key.setText("sk-file-secret")
    group.save_key_button.click()
    assert "needs a passphrase" in group.key_status.text()
    assert group.key.text() == ""
    assert not path.exists()


SETTING_KEYS = ("ai/model", "ai/base_url", "ai/timeout_seconds", "ai/offline_only", "ai/api_key")


def test_only_admins_change_ai_settings(qtbot: QtBot, sqlite_engine: Engine,
                                        runner: TaskRunner) -> None:  # noqa: F811
    marketer = Actor(user_id=7, email="m@x.in", name="M", role=Role.MARKETER)
    store = DictStore()
    group = AISettingsGroup(AISettings(Settings(store), lambda: None),
                            SettingChanges(sqlite_engine, runner, marketer))
    qtbot.addWidget(group)
    assert not group.model.isEnabled()
    assert not group.save_key_button.isEnabled()
    assert group.key_status.text() == ADMINS_ONLY
    # Even a change forced past the disabled widgets is refused by the service.
    group.model.setText("other-model")
    with qtbot.waitSignal(group.key_changed):
        group.model.editingFinished.emit()
    assert "admin" in group.key_status.text().lower()
    assert store.values == {}

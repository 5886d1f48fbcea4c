"""The sign-in window, offscreen, against the fake Google: the browser step runs on its own
thread, as a real browser would."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from minicrm_desktop.services.access.actor import Role
from minicrm_desktop.services.access.identity import GOOGLE_ISSUER, Identity
from minicrm_desktop.services.auth.session import admit_identity
from minicrm_desktop.services.core.secrets import REFRESH_TOKEN, EncryptedFileSecrets, SecretStore
from minicrm_desktop.services.core.tasks import TaskRunner
from minicrm_desktop.views.access.sign_in_dialog import SignInDialog

from .conftest import TEST_SCRYPT_N
from .fake_google import FakeGoogle, follow_in_browser


@pytest.fixture(autouse=True)
def _no_passphrase_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test stores know their passphrase: a prompt would be a bug (and would block)."""

    def ask(cls: type, parent: object, *, creating: bool) -> str | None:
        raise AssertionError("the sign-in window asked for a passphrase")

    monkeypatch.setattr(SignInDialog, "ask_passphrase", classmethod(ask))


class Browser:
    """Follows the authorization URL on a thread of its own (or does nothing)."""

    def __init__(self, act: bool = True) -> None:
        self.act = act
        self.opened: list[str] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.opened.append(url)
        if self.act:
            thread = threading.Thread(target=follow_in_browser, args=(url,))
            thread.start()
            self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def make_dialog(
    qtbot: QtBot, fake_google: FakeGoogle, engine: Engine, runner: TaskRunner,
    file_secrets: SecretStore,
) -> Iterator[Callable[..., SignInDialog]]:
    browsers: list[Browser] = []

    def make(browser: Browser | None = None, timeout_s: float = 30,
             secrets: SecretStore = file_secrets) -> SignInDialog:
        browser = browser or Browser()
        browsers.append(browser)
        dialog = SignInDialog(fake_google.config(), engine, runner, secrets,
                              open_browser=browser, timeout_s=timeout_s)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    yield make
    for browser in browsers:
        browser.join()


def test_sign_in_admits_the_first_user_as_admin(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog], file_secrets: SecretStore
) -> None:
    browser = Browser()
    dialog = make_dialog(browser)
    assert dialog.sign_in_button.text() == "Sign in with Google"
    assert not dialog.copy_button.isEnabled()

    with qtbot.waitSignal(dialog.signed_in, timeout=20_000) as signed_in:
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    actor = signed_in.args[0]
    assert (actor.email, actor.role) == ("ana.lima@example.com", Role.ADMIN)
    assert dialog.result() == SignInDialog.DialogCode.Accepted
    assert browser.opened == [dialog.url_field.text()]
    assert file_secrets.get(REFRESH_TOKEN)


def test_copy_button_copies_the_address(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog]
) -> None:
    dialog = make_dialog(Browser(act=False))
    dialog.start_sign_in()
    qtbot.waitUntil(lambda: dialog.url_field.text().startswith("http://127.0.0.1"))
    assert dialog.cancel_button.text() == "Cancel"
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == dialog.url_field.text()
    assert "copied" in dialog.status_text

    with qtbot.waitSignal(dialog.idle, timeout=10_000):
        dialog.cancel_button.click()
    assert dialog.status_text.startswith("Sign-in cancelled")
    assert dialog.isVisible()
    assert dialog.sign_in_button.isEnabled()
    assert dialog.cancel_button.text() == "Quit"


def test_escape_stops_waiting_then_quits(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog]
) -> None:
    """By keys, as a person at the start-up window: Escape while the browser is awaited
    stops waiting (the dialog stays, ready to try again); Escape again quits."""
    dialog = make_dialog(Browser(act=False))
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.url_field.text().startswith("http://127.0.0.1"))
    assert dialog.cancel_button.text() == "Cancel"
    with qtbot.waitSignal(dialog.idle, timeout=10_000):
        qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    assert dialog.status_text.startswith("Sign-in cancelled")
    assert dialog.sign_in_button.isEnabled()
    assert dialog.cancel_button.text() == "Quit"
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == SignInDialog.DialogCode.Rejected
    assert dialog.actor is None  # the app does not start


def test_timeout_message(qtbot: QtBot, make_dialog: Callable[..., SignInDialog]) -> None:
    dialog = make_dialog(Browser(act=False), timeout_s=0.3)
    with qtbot.waitSignal(dialog.idle, timeout=10_000):
        dialog.start_sign_in()
    assert "No answer came back from the browser" in dialog.status_text
    assert dialog.sign_in_button.isEnabled()


def test_refused_user_sees_why(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog], engine: Engine
) -> None:
    admit_identity(engine, Identity("1", "boss@corp.example", "Boss", GOOGLE_ISSUER))
    dialog = make_dialog()
    with qtbot.waitSignal(dialog.idle, timeout=20_000):
        dialog.start_sign_in()
    assert "ana.lima@example.com may not use this MiniCRM database" in dialog.status_text
    assert dialog.actor is None
    assert dialog.isVisible()


def test_bad_token_is_refused(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog], fake_google: FakeGoogle
) -> None:
    fake_google.claim_overrides = {"email_verified": False}
    dialog = make_dialog()
    with qtbot.waitSignal(dialog.idle, timeout=20_000):
        dialog.start_sign_in()
    assert "not a verified email address" in dialog.status_text


def test_restores_the_remembered_session(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog]
) -> None:
    first = make_dialog()
    with qtbot.waitSignal(first.signed_in, timeout=20_000):
        first.start_sign_in()

    again = make_dialog(Browser(act=False))
    with qtbot.waitSignal(again.signed_in, timeout=20_000) as restored:
        again.restore()
    assert restored.args[0].email == "ana.lima@example.com"


def test_nothing_remembered_leaves_the_button(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog]
) -> None:
    dialog = make_dialog()
    with qtbot.waitSignal(dialog.idle, timeout=20_000):
        dialog.restore()
    assert dialog.sign_in_button.isEnabled()
    assert dialog.actor is None


def test_asks_for_a_passphrase_where_there_is_no_keyring(
    qtbot: QtBot, make_dialog: Callable[..., SignInDialog], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[bool] = []

    def ask(cls: type, parent: object, *, creating: bool) -> str | None:
        asked.append(creating)
        return "typed passphrase"

    monkeypatch.setattr(SignInDialog, "ask_passphrase", classmethod(ask))
    path = tmp_path / "prompted.enc"
    store = SecretStore(EncryptedFileSecrets(path, None, scrypt_n=TEST_SCRYPT_N))
    dialog = make_dialog(secrets=store)
    with qtbot.waitSignal(dialog.signed_in, timeout=20_000):
        dialog.start_sign_in()
    assert asked == [True]  # a new file: "choose a passphrase"
    reopened = SecretStore(EncryptedFileSecrets(path, lambda: "typed passphrase"))
    assert reopened.get(REFRESH_TOKEN)

    # Next start: the file exists, so restoring asks for the passphrase to open it.
    again = make_dialog(Browser(act=False), secrets=SecretStore(EncryptedFileSecrets(path, None)))
    with qtbot.waitSignal(again.signed_in, timeout=20_000):
        again.restore()
    assert asked == [True, False]

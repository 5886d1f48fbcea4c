"""Remembered sessions: stored refresh token, restore at start, sign-out revokes."""

from __future__ import annotations

import logging

import pytest

from minicrm_desktop.services.auth.errors import TokenRejected
from minicrm_desktop.services.auth.session import restore_identity, sign_in, sign_out
from minicrm_desktop.services.core.secrets import REFRESH_TOKEN, SecretStore

from .fake_google import FakeGoogle, follow_in_browser


def test_sign_in_remembers_and_restore_verifies_a_fresh_token(
    fake_google: FakeGoogle, file_secrets: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = fake_google.config()
    identity = sign_in(config, file_secrets, open_browser=follow_in_browser, timeout_s=20)
    token = file_secrets.get(REFRESH_TOKEN)
    assert token

    assert restore_identity(config, file_secrets) == identity
    assert token not in caplog.text  # secrets never reach the log

    # A restored session's ID token is checked like a new one.
    fake_google.claim_overrides = {"aud": "another-client"}
    with pytest.raises(TokenRejected, match="wrong audience"):
        restore_identity(config, file_secrets)


def test_sign_out_forgets_and_revokes(fake_google: FakeGoogle, file_secrets: SecretStore) -> None:
    config = fake_google.config()
    sign_in(config, file_secrets, open_browser=follow_in_browser, timeout_s=20)
    token = file_secrets.get(REFRESH_TOKEN)

    assert sign_out(config, file_secrets) == "Signed out, and the session was revoked at Google."
    assert fake_google.revoked == [token]
    assert file_secrets.get(REFRESH_TOKEN) is None
    assert restore_identity(config, file_secrets) is None
    assert sign_out(config, file_secrets) == "Signed out (no remembered session)."


def test_a_session_revoked_elsewhere_is_forgotten(
    fake_google: FakeGoogle, file_secrets: SecretStore
) -> None:
    config = fake_google.config()
    sign_in(config, file_secrets, open_browser=follow_in_browser, timeout_s=20)
    file_secrets.set(REFRESH_TOKEN, "revoked-at-google")

    assert restore_identity(config, file_secrets) is None
    assert file_secrets.get(REFRESH_TOKEN) is None

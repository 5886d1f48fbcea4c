"""Fixtures for the sign-in tests: a fake Google on 127.0.0.1, secret stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from minicrm_desktop.services.core.bus import EventBus
from minicrm_desktop.services.core.secrets import EncryptedFileSecrets, SecretStore
from minicrm_desktop.services.core.tasks import TaskRunner

from .fake_google import FakeGoogle

#: Cheap scrypt for tests (the app uses 2**17); the file format records the cost.
TEST_SCRYPT_N = 2**10


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    """A task runner that outlives the widgets using it; its results are all delivered
    before the test ends."""
    task_runner = TaskRunner(EventBus())
    yield task_runner
    task_runner.shutdown(timeout_ms=20_000)
    qtbot.waitUntil(lambda: task_runner.active_count == 0, timeout=5_000)


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    server = FakeGoogle()
    yield server
    server.close()


@pytest.fixture
def file_secrets(tmp_path: Path) -> SecretStore:
    """An encrypted-file secret store with a known passphrase."""
    return SecretStore(EncryptedFileSecrets(tmp_path / "secrets.enc", lambda: "correct horse",
                                            scrypt_n=TEST_SCRYPT_N))

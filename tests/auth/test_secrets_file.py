"""The encrypted secrets file under change: a new scrypt cost, writers in several processes at
once, and a damaged or altered file."""

from __future__ import annotations

import base64
import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from minicrm_desktop.services.core.secrets import (
    MYSQL_PASSWORD,
    OPENAI_API_KEY,
    REFRESH_TOKEN,
    EncryptedFileSecrets,
    SecretsFileDamaged,
    SecretStore,
    WrongPassphrase,
)

from .conftest import TEST_SCRYPT_N

PASSPHRASE = "correct horse"
WRITES_PER_PROCESS = 40


def _store(path: Path, n: int = TEST_SCRYPT_N) -> SecretStore:
    return SecretStore(EncryptedFileSecrets(path, lambda: PASSPHRASE, scrypt_n=n))


def _header(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def test_a_new_cost_keeps_every_secret(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc"
    old = _store(path)
    old.set(OPENAI_API_KEY, "sk-one")
    old.set(REFRESH_TOKEN, "refresh-two")
    assert _header(path)["n"] == TEST_SCRYPT_N

    # A later release raises the cost: its first change re-encrypts everything.
    newer = _store(path, TEST_SCRYPT_N * 4)
    assert newer.get(OPENAI_API_KEY) == "sk-one"
    newer.set(MYSQL_PASSWORD, "db-three")
    assert _header(path)["n"] == TEST_SCRYPT_N * 4
    for reader in (newer, _store(path), _store(path, TEST_SCRYPT_N * 4)):
        assert reader.get(OPENAI_API_KEY) == "sk-one"
        assert reader.get(REFRESH_TOKEN) == "refresh-two"
        assert reader.get(MYSQL_PASSWORD) == "db-three"

    # An older release (a lower cost) changing the file never weakens it.
    old.delete(REFRESH_TOKEN)
    assert _header(path)["n"] == TEST_SCRYPT_N * 4
    assert _store(path).get(OPENAI_API_KEY) == "sk-one"
    assert _store(path).get(REFRESH_TOKEN) is None


def test_the_default_cost_meets_current_guidance(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc"
    SecretStore(EncryptedFileSecrets(path, lambda: PASSPHRASE)).set(OPENAI_API_KEY, "sk")
    header = _header(path)
    assert header["n"] >= 2**17
    assert header["r"] >= 8
    assert _store(path).get(OPENAI_API_KEY) == "sk"


def test_the_key_is_derived_once_per_process_and_passphrase(tmp_path: Path) -> None:
    """At the full cost a derivation takes a noticeable fraction of a second; the app opens
    the file many times (sign-in, Settings, the AI key, each database connection)."""
    path = tmp_path / "secrets.enc"
    SecretStore(EncryptedFileSecrets(path, lambda: PASSPHRASE)).set(OPENAI_API_KEY, "sk")
    salt = _header(path)["salt"]
    other = tmp_path / "other.enc"
    other.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")

    start = time.perf_counter()
    for _ in range(5):  # new stores, as each part of the app makes; the same passphrase
        assert SecretStore(EncryptedFileSecrets(other, lambda: PASSPHRASE)).get(
            OPENAI_API_KEY) == "sk"
    cached = time.perf_counter() - start
    start = time.perf_counter()
    wrong = SecretStore(EncryptedFileSecrets(other, lambda: "another passphrase"))
    with pytest.raises(WrongPassphrase):
        wrong.get(OPENAI_API_KEY)  # a passphrase not seen before: a full derivation
    derived = time.perf_counter() - start
    assert _header(other)["salt"] == salt
    assert cached < derived


def _writer(path: str, prefix: str, start: Any) -> None:
    """One process storing its own secrets one by one, each a separate rewrite."""
    store = _store(Path(path))
    store.get(OPENAI_API_KEY)  # imports and derives the key before the race starts
    start.wait(60)
    for i in range(WRITES_PER_PROCESS):
        store.set(f"{prefix}-{i}", f"value {prefix} {i}")


def test_writers_in_two_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc"
    _store(path).set(OPENAI_API_KEY, "sk-before")  # both start from an existing file
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)  # both write from the same moment
    writers = [ctx.Process(target=_writer, args=(str(path), prefix, start))
               for prefix in ("a", "b")]
    for proc in writers:
        proc.start()
    for proc in writers:
        proc.join(120)
        assert proc.exitcode == 0
    store = _store(path)
    assert store.get(OPENAI_API_KEY) == "sk-before"
    missing = [f"{p}-{i}" for p in ("a", "b") for i in range(WRITES_PER_PROCESS)
               if store.get(f"{p}-{i}") != f"value {p} {i}"]
    assert missing == []


def _tampered(doc: dict[str, Any], **changes: Any) -> str:
    return json.dumps({**doc, **changes})


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda doc: _tampered(doc, n=1000), "power of two"),
        (lambda doc: _tampered(doc, n=2**40), "cost too high"),
        (lambda doc: _tampered(doc, n="16384"), "not integers"),
        (lambda doc: _tampered(doc, p=0), "out of range"),
        (lambda doc: _tampered(doc, salt="***"), "damaged"),
        (lambda doc: _tampered(doc, salt=base64.b64encode(b"short").decode()), "salt"),
        (lambda doc: _tampered(doc, version=9), "version"),
        (lambda doc: json.dumps({k: v for k, v in doc.items() if k != "token"}), "damaged"),
        (lambda doc: json.dumps([doc]), "not a MiniCRM secrets file"),
        (lambda doc: json.dumps(doc)[:40], "not a MiniCRM secrets file"),
        (lambda doc: "", "not a MiniCRM secrets file"),
    ],
)
def test_a_damaged_file_is_a_clear_error_and_is_left_alone(
    tmp_path: Path, change: Any, why: str
) -> None:
    path = tmp_path / "secrets.enc"
    _store(path).set(OPENAI_API_KEY, "sk-secret-value")
    path.write_text(change(_header(path)), encoding="utf-8")
    damaged = path.read_bytes()
    fresh = _store(path)
    with pytest.raises(SecretsFileDamaged) as failed:
        fresh.get(OPENAI_API_KEY)
    message = str(failed.value)
    assert why in message
    assert str(path) in message
    assert "Delete it and store the secrets again" in message
    assert "sk-secret-value" not in message
    with pytest.raises(SecretsFileDamaged):
        fresh.set(REFRESH_TOKEN, "other")
    assert path.read_bytes() == damaged  # nothing overwritten


def test_the_command_line_reports_a_damaged_file_without_a_traceback(
    tmp_path: Path,
) -> None:
    """`minicrm logout` reads the secrets file: a tampered cost is one clear line."""
    import os

    path = tmp_path / "data" / "MiniCRM" / "secrets.enc"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "kdf": "scrypt", "salt": "AAAAAAAAAAAAAAAAAAAAAA==",
                                "n": 12345, "r": 8, "p": 1, "token": "x"}), encoding="utf-8")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "MINICRM_SECRETS_PASSPHRASE": PASSPHRASE,
           "MINICRM_GOOGLE_CLIENT_SECRETS": "", "QT_QPA_PLATFORM": "offscreen"}
    env.pop("MINICRM_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "minicrm_desktop", "logout"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    assert done.returncode != 0, done.stdout
    assert "is damaged or was altered" in done.stderr
    assert "power of two" in done.stderr

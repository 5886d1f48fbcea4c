"""Secret storage: the real Secret Service keyring (gnome-keyring on a private D-Bus), and
the passphrase-encrypted file where no keyring exists."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from minicrm_desktop.services.core import secrets as secrets_module
from minicrm_desktop.services.core.secrets import (
    MYSQL_PASSWORD,
    OPENAI_API_KEY,
    REFRESH_TOKEN,
    EncryptedFileSecrets,
    SecretsLocked,
    SecretStore,
    SecretsUnavailable,
    SharedSecretStore,
    WrongPassphrase,
    default_secret_store,
)

from .conftest import TEST_SCRYPT_N

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SECRET = "sk-proj-THIS-IS-SECRET-0123456789"


def _daemons_missing() -> str:
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(b) is None]
    return ", ".join(missing)


def _wait_for_bus_name(address: str, name: str, owner: subprocess.Popen[bytes]) -> None:
    """Poll the bus (another process: no signal reaches us) until `name` has an owner."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                      interface="org.freedesktop.DBus")
    deadline = time.monotonic() + 30
    with open_dbus_connection(bus=address) as conn:
        while not conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s",
                                                          (name,))).body[0]:
            if owner.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{name} never appeared on the test bus")
            time.sleep(0.01)


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A private session bus with an unlocked gnome-keyring on it; the keyring backend."""
    missing = _daemons_missing()
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but {missing} is not installed (.ci/run installs it)")
        pytest.skip(f"the Secret Service tests need {missing} (apt-get install gnome-keyring)")
    home = tmp_path / "keyring-home"
    runtime = home / "run"
    runtime.mkdir(parents=True, mode=0o700)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, env=env, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()  # printed once the bus is listening
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    keyring_daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    assert keyring_daemon.stdin is not None
    keyring_daemon.stdin.write(b"test-login-password")  # the login keyring's password
    keyring_daemon.stdin.close()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    try:
        # Until our unlocked daemon owns the name, asking for the service would make the bus
        # start a second, locked one ("Failed to unlock the collection").
        _wait_for_bus_name(address, "org.freedesktop.secrets", keyring_daemon)
        from keyring.backends.SecretService import Keyring

        # Its priority check asks the bus whether the service is there (and activates it).
        assert Keyring.priority > 0
        yield Keyring()
    finally:
        keyring_daemon.terminate()
        keyring_daemon.wait(timeout=30)
        bus.terminate()
        bus.wait(timeout=30)


def test_secret_service_round_trip(secret_service: object) -> None:
    store = default_secret_store(keyring_backend=secret_service)
    assert store.uses_keyring
    assert "SecretService" in store.description
    assert store.get(OPENAI_API_KEY) is None

    store.set(OPENAI_API_KEY, SECRET)
    store.set(MYSQL_PASSWORD, "db-pass")
    assert store.get(OPENAI_API_KEY) == SECRET
    assert store.get(MYSQL_PASSWORD) == "db-pass"
    assert secret_service.get_password("MiniCRM", OPENAI_API_KEY) == SECRET  # type: ignore[attr-defined]

    store.delete(OPENAI_API_KEY)
    store.delete(OPENAI_API_KEY)  # deleting twice is fine
    assert store.get(OPENAI_API_KEY) is None
    assert store.get(MYSQL_PASSWORD) == "db-pass"


def test_encrypted_file_round_trip(file_secrets: SecretStore, tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc"
    assert not file_secrets.uses_keyring
    assert str(path) in file_secrets.description
    assert file_secrets.get(REFRESH_TOKEN) is None
    assert not path.exists()

    file_secrets.set(REFRESH_TOKEN, SECRET)
    file_secrets.set(MYSQL_PASSWORD, "db-pass")
    assert file_secrets.get(REFRESH_TOKEN) == SECRET

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    assert SECRET.encode() not in raw
    assert b"db-pass" not in raw
    assert b"SECRET" not in raw
    assert list(path.parent.glob(".secrets.enc.*")) == []  # no temporary file left behind

    # A new store (the next start) opens it with the passphrase.
    again = SecretStore(EncryptedFileSecrets(path, lambda: "correct horse"))
    assert again.get(REFRESH_TOKEN) == SECRET
    again.delete(REFRESH_TOKEN)
    assert again.get(MYSQL_PASSWORD) == "db-pass"
    assert again.get(REFRESH_TOKEN) is None
    again.delete(MYSQL_PASSWORD)
    assert not path.exists()  # nothing left to keep


def test_wrong_passphrase_is_refused_and_nothing_lost(
    file_secrets: SecretStore, tmp_path: Path
) -> None:
    file_secrets.set(OPENAI_API_KEY, SECRET)
    path = tmp_path / "secrets.enc"
    before = path.read_bytes()

    wrong = SecretStore(EncryptedFileSecrets(path, lambda: "wrong horse"))
    with pytest.raises(WrongPassphrase, match=r"passphrase is wrong.*secrets\.enc"):
        wrong.get(OPENAI_API_KEY)
    with pytest.raises(WrongPassphrase):
        wrong.set(MYSQL_PASSWORD, "x")
    assert path.read_bytes() == before

    # unlock() replaces the passphrase (the GUI asks again).
    wrong.unlock("correct horse")
    assert wrong.get(OPENAI_API_KEY) == SECRET


def test_no_passphrase_means_nothing_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc"
    store = SecretStore(EncryptedFileSecrets(path, lambda: None, scrypt_n=TEST_SCRYPT_N))
    assert store.needs_passphrase
    assert store.get(REFRESH_TOKEN) is None  # nothing stored yet: no need to ask
    with pytest.raises(SecretsUnavailable, match="no passphrase was given.*sign in each time"):
        store.set(REFRESH_TOKEN, SECRET)
    assert not path.exists()

    SecretStore(EncryptedFileSecrets(path, lambda: "pw", scrypt_n=TEST_SCRYPT_N)).set(
        REFRESH_TOKEN, SECRET)
    with pytest.raises(SecretsLocked, match="encrypted and no passphrase was given"):
        store.get(REFRESH_TOKEN)


def test_without_a_keyring_the_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert secrets_module.usable_keyring() is None
        monkeypatch.setenv("MINICRM_SECRETS_PASSPHRASE", "from the environment")
        store = default_secret_store(path=tmp_path / "s.enc")
        store.set(OPENAI_API_KEY, SECRET)
        assert not store.uses_keyring
        assert (tmp_path / "s.enc").exists()
        assert default_secret_store(path=tmp_path / "s.enc").get(OPENAI_API_KEY) == SECRET
    finally:
        keyring.set_keyring(previous)


def test_secret_values_never_reach_the_log(
    file_secrets: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    file_secrets.set(OPENAI_API_KEY, SECRET)
    file_secrets.get(OPENAI_API_KEY)
    file_secrets.delete(OPENAI_API_KEY)
    assert "openai-api-key" in caplog.text
    assert SECRET not in caplog.text


def test_the_app_shares_one_store_so_one_passphrase_serves_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sign-in, Settings and the AI key use one store: unlocked once, unlocked for all."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    shared = SharedSecretStore()
    first = shared()
    assert not first.uses_keyring  # no keyring here: the encrypted file
    assert shared() is first

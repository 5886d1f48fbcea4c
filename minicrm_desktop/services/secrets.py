"""Where secrets live: the OS keyring, or else a passphrase-encrypted file, never plain text.

`default_secret_store()` picks the system keyring (Secret Service, macOS Keychain, Windows
Credential Locker) through the `keyring` package. Where no usable keyring exists, secrets go
into a file encrypted with a key derived (scrypt) from a passphrase the user supplies; without
a passphrase nothing can be stored and the user simply signs in each time.

Secret values are never logged, and never part of an error message.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..errors import MiniCRMError
from .paths import data_dir

log = logging.getLogger(__name__)

SERVICE_NAME = "MiniCRM"

# Names of the secrets the app keeps.
OPENAI_API_KEY = "openai-api-key"
MYSQL_PASSWORD = "mysql-password"
REFRESH_TOKEN = "google-refresh-token"

PASSPHRASE_ENV = "MINICRM_SECRETS_PASSPHRASE"

#: Asked for the encrypted file's passphrase when it is first needed; None means "no passphrase".
PassphraseSource = Callable[[], str | None]


class SecretStoreError(MiniCRMError):
    """A secret cannot be read or stored."""


class SecretsUnavailable(SecretStoreError):
    """Nowhere safe to store a secret: no keyring and no passphrase."""


class SecretsLocked(SecretStoreError):
    """The encrypted secrets file exists but no passphrase was given to open it."""


class WrongPassphrase(SecretStoreError):
    """The passphrase does not open the encrypted secrets file."""


class _Backend(Protocol):
    description: str

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class SecretStore:
    """Get, set and delete named secrets (see the name constants above)."""

    def __init__(self, backend: _Backend) -> None:
        self._backend = backend

    @property
    def description(self) -> str:
        """Where secrets go, for the user: "the system keyring (…)" or "an encrypted file …"."""
        return self._backend.description

    @property
    def uses_keyring(self) -> bool:
        return isinstance(self._backend, KeyringSecrets)

    @property
    def needs_passphrase(self) -> bool:
        """True when reading or writing will ask for a passphrase (encrypted file, not unlocked)."""
        return isinstance(self._backend, EncryptedFileSecrets) and not self._backend.resolve()

    @property
    def locked_file_exists(self) -> bool:
        """True when an encrypted secrets file exists that needs a passphrase to open."""
        backend = self._backend
        return (isinstance(backend, EncryptedFileSecrets) and backend.path.exists()
                and not backend.resolve())

    def unlock(self, passphrase: str) -> None:
        """Give the encrypted file's passphrase up front (the GUI asks on its own thread)."""
        if isinstance(self._backend, EncryptedFileSecrets):
            self._backend.use_passphrase(passphrase)

    def get(self, name: str) -> str | None:
        return self._backend.get(name)

    def set(self, name: str, value: str) -> None:
        if not value:
            raise SecretStoreError(f"Refusing to store an empty {_title(name)}.")
        self._backend.set(name, value)
        log.info("stored %s in %s", name, self._backend.description)

    def delete(self, name: str) -> None:
        self._backend.delete(name)
        log.info("deleted %s from %s", name, self._backend.description)


# --- the OS keyring ----------------------------------------------------------------------


class KeyringSecrets:
    """Secrets in a `keyring` backend, under the service name "MiniCRM"."""

    def __init__(self, backend: Any) -> None:
        self._keyring = backend
        self.description = f"the system keyring ({type(backend).__module__.rsplit('.', 1)[-1]})"

    def get(self, name: str) -> str | None:
        from keyring.errors import KeyringError

        try:
            value = self._keyring.get_password(SERVICE_NAME, name)
        except KeyringError as exc:
            raise SecretStoreError(
                f"The system keyring could not read the {_title(name)}: {exc}"
            ) from None
        return value if isinstance(value, str) else None

    def set(self, name: str, value: str) -> None:
        from keyring.errors import KeyringError

        try:
            self._keyring.set_password(SERVICE_NAME, name, value)
        except KeyringError as exc:
            raise SecretStoreError(
                f"The system keyring could not store the {_title(name)}: {exc}"
            ) from None

    def delete(self, name: str) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self._keyring.delete_password(SERVICE_NAME, name)
        except PasswordDeleteError:
            pass  # nothing stored: already deleted
        except KeyringError as exc:
            raise SecretStoreError(
                f"The system keyring could not delete the {_title(name)}: {exc}"
            ) from None


def usable_keyring() -> Any | None:
    """The system keyring backend, or None where there is none that keeps secrets safely."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring set-up must not stop the app
        log.warning("no keyring: %s", exc)
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    # keyrings.alt's plain-text file would defeat the purpose.
    if "plaintext" in type(backend).__name__.lower():
        return None
    return backend


# --- the encrypted file ------------------------------------------------------------------

_FILE_VERSION = 1
_SCRYPT_N = 2**15  # ~32 MB and ~0.1 s per derivation: slow to guess, quick enough to open
_SCRYPT_R = 8
_SCRYPT_P = 1


class EncryptedFileSecrets:
    """All secrets in one JSON file: a random salt, scrypt parameters and a Fernet token
    (AES-128-CBC + HMAC-SHA256) of the name → value map. Mode 0600, replaced atomically."""

    def __init__(
        self, path: Path, passphrase: PassphraseSource | None, *, scrypt_n: int = _SCRYPT_N
    ) -> None:
        self.path = path
        self.description = f"an encrypted file ({path})"
        self._source = passphrase
        self._passphrase: str | None = None
        self._scrypt_n = scrypt_n
        self._key: tuple[bytes, bytes] | None = None  # (salt, Fernet key) once proven
        self._lock = threading.Lock()

    @property
    def unlocked(self) -> bool:
        return self._passphrase is not None or self._key is not None

    def resolve(self) -> bool:
        """Ask the passphrase source now (if not yet asked); True when one is known."""
        with self._lock:
            if not self.unlocked and self._source is not None:
                self._passphrase = self._source() or None
            return self.unlocked

    def use_passphrase(self, passphrase: str) -> None:
        with self._lock:
            self._passphrase = passphrase
            self._key = None

    def get(self, name: str) -> str | None:
        with self._lock:
            if not self.path.exists():
                return None
            return self._read(for_what=f"read the {_title(name)}").get(name)

    def set(self, name: str, value: str) -> None:
        with self._lock:
            values = self._read(for_what=f"store the {_title(name)}") if self.path.exists() else {}
            values[name] = value
            self._write(values, for_what=f"store the {_title(name)}")

    def delete(self, name: str) -> None:
        with self._lock:
            if not self.path.exists():
                return
            values = self._read(for_what=f"delete the {_title(name)}")
            if values.pop(name, None) is None:
                return
            if values:
                self._write(values, for_what=f"delete the {_title(name)}")
            else:
                self.path.unlink(missing_ok=True)

    # The helpers below run with self._lock held.

    def _ask(self, for_what: str, *, creating: bool) -> str:
        if self._passphrase is None and self._source is not None:
            self._passphrase = self._source()
        if not self._passphrase:
            self._passphrase = None
            if creating:
                raise SecretsUnavailable(
                    f"No system keyring is available and no passphrase was given for an "
                    f"encrypted secrets file, so MiniCRM cannot {for_what}. Set "
                    f"{PASSPHRASE_ENV} or enter a passphrase when asked; otherwise you "
                    f"sign in each time."
                )
            raise SecretsLocked(
                f"The secrets file {self.path} is encrypted and no passphrase was given, "
                f"so MiniCRM cannot {for_what}."
            )
        return self._passphrase

    def _derive(self, passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        raw = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
        return base64.urlsafe_b64encode(raw)

    def _read(self, for_what: str) -> dict[str, str]:
        from cryptography.fernet import Fernet, InvalidToken

        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            salt = base64.b64decode(doc["salt"])
            n, r, p = int(doc["n"]), int(doc["r"]), int(doc["p"])
            token = doc["token"].encode("ascii")
            if doc.get("version") != _FILE_VERSION:
                raise ValueError(f"unknown version {doc.get('version')!r}")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SecretStoreError(
                f"The secrets file {self.path} is unreadable ({exc}); delete it and store "
                f"the secrets again."
            ) from None
        if self._key is None or self._key[0] != salt:
            passphrase = self._ask(for_what, creating=False)
            self._key = (salt, self._derive(passphrase, salt, n, r, p))
        try:
            plain = Fernet(self._key[1]).decrypt(token)
        except InvalidToken:
            self._key = None
            self._passphrase = None  # ask again next time
            raise WrongPassphrase(
                f"The passphrase is wrong: it does not open the encrypted secrets file "
                f"{self.path}."
            ) from None
        values = json.loads(plain)
        return {str(k): str(v) for k, v in values.items()}

    def _write(self, values: dict[str, str], for_what: str) -> None:
        from cryptography.fernet import Fernet

        if self._key is None:
            passphrase = self._ask(for_what, creating=True)
            salt = os.urandom(16)
            self._key = (salt, self._derive(passphrase, salt, self._scrypt_n, _SCRYPT_R, _SCRYPT_P))
        salt, key = self._key
        doc = {
            "version": _FILE_VERSION,
            "kdf": "scrypt",
            "salt": base64.b64encode(salt).decode("ascii"),
            "n": self._scrypt_n,
            "r": _SCRYPT_R,
            "p": _SCRYPT_P,
            "token": Fernet(key).encrypt(json.dumps(values).encode("utf-8")).decode("ascii"),
        }
        _write_private(self.path, json.dumps(doc, indent=1).encode("utf-8"))


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by the owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- choosing -----------------------------------------------------------------------------


def secrets_file_path() -> Path:
    return data_dir() / "secrets.enc"


def env_passphrase() -> str | None:
    """The passphrase from MINICRM_SECRETS_PASSPHRASE, if set."""
    return os.environ.get(PASSPHRASE_ENV) or None


def terminal_passphrase() -> str | None:
    """For the command line: MINICRM_SECRETS_PASSPHRASE, else ask on the terminal."""
    from_env = env_passphrase()
    if from_env or not sys.stdin.isatty():
        return from_env
    import getpass

    try:
        return getpass.getpass("Passphrase for MiniCRM's encrypted secrets file: ") or None
    except (EOFError, KeyboardInterrupt):
        return None


def default_secret_store(
    passphrase: PassphraseSource | None = env_passphrase,
    *,
    keyring_backend: Any | None = None,
    path: Path | None = None,
) -> SecretStore:
    """The system keyring if there is a usable one, else the encrypted file.

    `passphrase` is asked only when the file is used; the GUI passes None and calls
    `unlock()` after asking the user itself.
    """
    backend = keyring_backend if keyring_backend is not None else usable_keyring()
    if backend is not None:
        return SecretStore(KeyringSecrets(backend))
    return SecretStore(EncryptedFileSecrets(path or secrets_file_path(), passphrase))


def _title(name: str) -> str:
    return {
        OPENAI_API_KEY: "OpenAI API key",
        MYSQL_PASSWORD: "MySQL password",
        REFRESH_TOKEN: "Google sign-in (refresh token)",
    }.get(name, f"secret {name!r}")



class SharedSecretStore:
    """The app's one secret store, made on first use. Sign-in, Settings and the AI key all
    call it, so a passphrase given once unlocks the encrypted file for every one of them.
    Making it may ask D-Bus for the keyring: call it from a task where that matters."""

    def __init__(self) -> None:
        self._store: SecretStore | None = None
        self._lock = threading.Lock()

    def __call__(self) -> SecretStore:
        with self._lock:
            if self._store is None:
                self._store = default_secret_store()
            return self._store

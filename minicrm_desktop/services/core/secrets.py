"""Where secrets live: the OS keyring, or else a passphrase-encrypted file, never plain text.

`default_secret_store()` picks the system keyring (Secret Service, macOS Keychain, Windows
Credential Locker) through the `keyring` package. Where no usable keyring exists, secrets go
into a file encrypted with a key derived (scrypt) from a passphrase the user supplies; without
a passphrase nothing can be stored and the user simply signs in each time.

Secret values are never logged, and never part of an error message.

Over 400 lines on purpose: both stores (keyring and encrypted file) and their shared
interface are kept in one place so the rule "never plain text" is checked in one file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from minicrm_desktop.errors import MiniCRMError
from minicrm_desktop.services.core.file_lock import exclusive_lock
from minicrm_desktop.services.core.paths import data_dir

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
# scrypt cost: N = 2**17, r = 8 is ~128 MB and ~0.4 s per derivation (OWASP's current
# minimum); the key is derived once per process and passphrase and then kept in memory.
_SCRYPT_N = 2**17
_SCRYPT_R = 8
_SCRYPT_P = 1
# What a file may ask for (twice today's memory): beyond these a tampered header could make
# us allocate gigabytes or work for minutes before finding out the key is wrong.
_MAX_SCRYPT_MEMORY = 256 << 20
_MAX_SCRYPT_P = 4


class SecretsFileDamaged(SecretStoreError):
    """The encrypted secrets file is not one MiniCRM wrote (damaged or altered)."""


@dataclass(frozen=True)
class _Kdf:
    """The scrypt salt and cost a file was encrypted with."""

    salt: bytes
    n: int
    r: int
    p: int

    def check(self) -> None:
        """ValueError unless these are parameters MiniCRM could have written."""
        if len(self.salt) < 16:
            raise ValueError("salt too short")
        if self.n < 2 or self.n & (self.n - 1):
            raise ValueError("scrypt cost n is not a power of two")
        if not 1 <= self.r <= 64 or not 1 <= self.p <= _MAX_SCRYPT_P:
            raise ValueError("scrypt r or p out of range")
        if 128 * self.n * self.r > _MAX_SCRYPT_MEMORY:
            raise ValueError("scrypt cost too high")


# Derived keys by (salt, cost, digest of the passphrase): one derivation per process.
_KEYS: dict[tuple[bytes, int, int, int, bytes], bytes] = {}
_KEYS_LOCK = threading.Lock()


def _derive(passphrase: str, kdf: _Kdf) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    digest = hashlib.sha256(kdf.salt + passphrase.encode("utf-8")).digest()
    cache_key = (kdf.salt, kdf.n, kdf.r, kdf.p, digest)
    with _KEYS_LOCK:
        known = _KEYS.get(cache_key)
    if known is not None:
        return known
    raw = Scrypt(salt=kdf.salt, length=32, n=kdf.n, r=kdf.r, p=kdf.p).derive(
        passphrase.encode("utf-8"))
    key = base64.urlsafe_b64encode(raw)
    with _KEYS_LOCK:
        _KEYS[cache_key] = key
    return key


class EncryptedFileSecrets:
    """All secrets in one JSON file: a random salt, scrypt parameters and a Fernet token
    (AES-128-CBC + HMAC-SHA256) of the name → value map. Mode 0600, replaced atomically.

    Every change is a read-modify-write under a lock shared with other processes
    (`<file>.lock`), and always uses the salt and cost recorded in the file itself; a file
    written with a lower cost than ours is re-encrypted at ours on its next change."""

    def __init__(
        self, path: Path, passphrase: PassphraseSource | None, *, scrypt_n: int = _SCRYPT_N
    ) -> None:
        self.path = path
        self.description = f"an encrypted file ({path})"
        self._source = passphrase
        self._passphrase: str | None = None
        self._scrypt_n = scrypt_n
        self._lock = threading.Lock()

    @property
    def unlocked(self) -> bool:
        return self._passphrase is not None

    def resolve(self) -> bool:
        """Ask the passphrase source now (if not yet asked); True when one is known."""
        with self._lock:
            if not self.unlocked and self._source is not None:
                self._passphrase = self._source() or None
            return self.unlocked

    def use_passphrase(self, passphrase: str) -> None:
        with self._lock:
            self._passphrase = passphrase or None

    def get(self, name: str) -> str | None:
        with self._lock:
            # An atomic rename replaces the file: a reader sees the old or the new one whole.
            found = self._read(for_what=f"read the {_title(name)}")
            return found[1].get(name) if found else None

    def set(self, name: str, value: str) -> None:
        for_what = f"store the {_title(name)}"
        with self._lock, exclusive_lock(self.path):
            found = self._read(for_what)
            values = found[1] if found else {}
            values[name] = value
            self._write(values, found[0] if found else None, for_what)

    def delete(self, name: str) -> None:
        for_what = f"delete the {_title(name)}"
        with self._lock, exclusive_lock(self.path):
            found = self._read(for_what)
            if found is None or found[1].pop(name, None) is None:
                return
            if found[1]:
                self._write(found[1], found[0], for_what)
            else:
                self.path.unlink(missing_ok=True)

    # The helpers below run with self._lock held.

    def _ask(self, for_what: str, *, creating: bool) -> str:
        if self._passphrase is None and self._source is not None:
            self._passphrase = self._source() or None
        if self._passphrase is None:
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

    def _damaged(self, why: str) -> SecretsFileDamaged:
        return SecretsFileDamaged(
            f"The secrets file {self.path} is damaged or was altered ({why}), so MiniCRM "
            f"cannot use it. Delete it and store the secrets again."
        )

    def _read(self, for_what: str) -> tuple[tuple[_Kdf, bytes], dict[str, str]] | None:
        """(the file's KDF parameters and key, its secrets), or None when there is no file."""
        from cryptography.fernet import Fernet, InvalidToken

        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretStoreError(
                f"The secrets file {self.path} cannot be read: "
                f"{getattr(exc, 'strerror', None) or type(exc).__name__}."
            ) from None
        try:
            doc = json.loads(text)
            if doc.get("version") != _FILE_VERSION or doc.get("kdf", "scrypt") != "scrypt":
                raise ValueError("unknown format version")
            kdf = _Kdf(base64.b64decode(doc["salt"], validate=True),
                       _whole(doc["n"]), _whole(doc["r"]), _whole(doc["p"]))
            kdf.check()
            token = doc["token"].encode("ascii")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            why = str(exc) if isinstance(exc, ValueError) and not isinstance(
                exc, json.JSONDecodeError) else "not a MiniCRM secrets file"
            raise self._damaged(why) from None
        passphrase = self._ask(for_what, creating=False)
        try:
            key = _derive(passphrase, kdf)
        except (ValueError, MemoryError) as exc:
            raise self._damaged(f"scrypt refused its parameters: {exc}") from None
        try:
            plain = Fernet(key).decrypt(token)
        except InvalidToken:
            self._passphrase = None  # ask again next time
            raise WrongPassphrase(
                f"The passphrase is wrong: it does not open the encrypted secrets file "
                f"{self.path}."
            ) from None
        try:
            values = json.loads(plain)
            return (kdf, key), {str(k): str(v) for k, v in values.items()}
        except (ValueError, AttributeError):
            raise self._damaged("its contents are not a list of secrets") from None

    def _write(self, values: dict[str, str], current: tuple[_Kdf, bytes] | None,
               for_what: str) -> None:
        from cryptography.fernet import Fernet

        if current is not None and current[0].n >= self._scrypt_n:
            kdf, key = current  # the file's own salt and cost, never a weaker one
        else:
            # A new file, or one written at a lower cost: a fresh salt, our cost, and every
            # secret re-encrypted with the new key.
            passphrase = self._ask(for_what, creating=current is None)
            kdf = _Kdf(os.urandom(16), self._scrypt_n, _SCRYPT_R, _SCRYPT_P)
            key = _derive(passphrase, kdf)
        doc = {
            "version": _FILE_VERSION,
            "kdf": "scrypt",
            "salt": base64.b64encode(kdf.salt).decode("ascii"),
            "n": kdf.n,
            "r": kdf.r,
            "p": kdf.p,
            "token": Fernet(key).encrypt(json.dumps(values).encode("utf-8")).decode("ascii"),
        }
        _write_private(self.path, json.dumps(doc, indent=1).encode("utf-8"))


def _whole(value: object) -> int:
    """A JSON integer (not a bool, float or string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("scrypt parameters are not integers")
    return value


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

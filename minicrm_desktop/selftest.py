"""`minicrm selftest` and the packaged app's `--selftest`: can this installation start?

Each check exercises what a missing hidden import, data file, plugin or font would break in
a packaged build, and prints one line: "ok   name: detail" or "FAIL name: what is wrong".
The exit status is 0 when every check passed. Everything happens in a temporary folder: the
user's database, settings and keyring are never touched.

The checks that need a screen render offscreen when there is no display, so CI and support
staff on a remote shell can run them too.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

log = logging.getLogger(__name__)

#: Modules not imported by the module check: files Alembic loads itself, and entry points.
_NOT_IMPORTED = ("minicrm_desktop.migrations", "minicrm_desktop.__main__")
#: Loaded by name at run time (see build.spec's loaded_by_name()); platform keyrings are added.
_LOADED_BY_NAME = (
    "sqlalchemy.dialects.sqlite.pysqlite", "sqlalchemy.dialects.mysql.pymysql",
    "alembic.ddl.sqlite", "alembic.ddl.mysql", "keyring.backends.fail",
    "anyio._backends._asyncio", "cryptography.fernet", "certifi",
)
#: How long the main window may take to open the scratch database.
_WINDOW_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL':<5}{self.name}: {self.detail}"


class CheckFailed(Exception):
    """A check found a problem; the message says which."""


@dataclass
class _Scratch:
    """State the checks share: the temporary folder and the migrated database in it."""

    folder: Path
    database_url: str | None = None
    platform_needed: str | None = None  # the desktop's Qt platform plugin, when there is one


# --- the checks ----------------------------------------------------------------------------

def check_modules(_scratch: _Scratch) -> str:
    """Import every module of the app: a module, or a library one of them needs, left out of
    a packaged build fails here instead of in front of a user."""
    import minicrm_desktop

    names = [m.name for m in pkgutil.walk_packages(minicrm_desktop.__path__, "minicrm_desktop.")
             if not m.name.startswith(_NOT_IMPORTED)]
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an import may fail in any way; report them all
            failed.append(f"{name} ({type(exc).__name__}: {_first_line(exc)})")
    if len(names) < 10:
        raise CheckFailed(f"only {len(names)} modules found in {minicrm_desktop.__path__}")
    if failed:
        raise CheckFailed(f"{len(failed)} of {len(names)} modules do not import: "
                          + "; ".join(failed[:3]))
    return f"imported all {len(names)} modules"


def check_libraries(_scratch: _Scratch) -> str:
    """Modules that libraries load from a name at run time, which no import statement
    shows (build.spec names them as hidden imports): a build without them starts fine and
    fails later, on the first MySQL connection, migration or stored secret."""
    names = list(_LOADED_BY_NAME)
    if sys.platform.startswith("linux"):
        names += ["keyring.backends.SecretService", "secretstorage", "jeepney.io.blocking"]
    elif sys.platform == "darwin":
        names += ["keyring.backends.macOS"]
    elif sys.platform == "win32":
        names += ["keyring.backends.Windows"]
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # report every missing module, whatever the error
            failed.append(f"{name} ({type(exc).__name__})")
    if failed:
        raise CheckFailed("cannot load " + ", ".join(failed))
    return f"all {len(names)} modules loaded by name are present"


def check_database(scratch: _Scratch) -> str:
    """Create a SQLite database in the scratch folder and migrate it to the newest schema
    (the Alembic scripts are data files in a package, easily left behind)."""
    from minicrm_desktop.services.core.database import create_db_engine
    from minicrm_desktop.services.core.migrate import (
        current_revision,
        head_revision,
        upgrade_to_head,
    )
    from minicrm_desktop.services.core.schema_version import newest_revision

    url = f"sqlite:///{scratch.folder / 'selftest.db'}"
    engine = create_db_engine(url)
    try:
        head = head_revision(engine)
        if head is None:
            raise CheckFailed("no migrations found")
        if newest_revision() != head:  # the start's quick check would migrate every time
            raise CheckFailed(f"the migration scripts' names say {newest_revision()}, "
                              f"Alembic's head is {head}")
        upgrade_to_head(engine)
        current = current_revision(engine)
    finally:
        engine.dispose()
    if current != head:
        raise CheckFailed(f"scratch SQLite is at {current}, expected {head}")
    scratch.database_url = url
    return f"migrated scratch SQLite to {current}"


def check_mysql_driver(_scratch: _Scratch) -> str:
    """The MySQL/MariaDB dialect and driver load by name from the URL; no server is needed."""
    import pymysql
    from sqlalchemy import create_engine

    engine = create_engine("mysql+pymysql://selftest@127.0.0.1:3306/selftest")
    dialect = f"{engine.dialect.name}+{engine.dialect.driver}"
    engine.dispose()
    return f"PyMySQL {pymysql.__version__} ({dialect} dialect loads)"


def check_ssl(_scratch: _Scratch) -> str:
    """TLS for MySQL, OpenAI and Google: OpenSSL loads and trusts some certificate authority,
    from the system or from certifi's bundle."""
    import ssl

    context = ssl.create_default_context()
    system = context.cert_store_stats()["x509_ca"]
    if system:
        # minicrm_desktop.packaged points a packaged app without a system store at certifi.
        source = os.environ.get("SSL_CERT_FILE") or "the system"
        return f"{ssl.OPENSSL_VERSION}; {system} CA certificates from {source}"
    import certifi

    context.load_verify_locations(certifi.where())
    bundled = context.cert_store_stats()["x509_ca"]
    if not bundled:
        raise CheckFailed(f"{ssl.OPENSSL_VERSION} found no CA certificates (nor in certifi)")
    return f"{ssl.OPENSSL_VERSION}; {bundled} CA certificates from certifi"


def check_keyring(_scratch: _Scratch) -> str:
    """Which keyring backend holds secrets. None is not a failure: secrets then go to the
    encrypted file, so the line says so and passes."""
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return "none (encrypted-file fallback)"
    return name


def check_resources(_scratch: _Scratch) -> str:
    """Every icon loads from resources/ (SVG needs Qt's svg plugins in the build)."""
    from minicrm_desktop.views.common.resources import app_icon, icon, resources_dir

    folder = resources_dir()
    names = sorted(p.stem for p in (folder / "icons").glob("*.svg"))
    if not names:
        raise CheckFailed(f"no icons in {folder / 'icons'}")
    broken = [n for n in names if icon(n, "#000000").pixmap(32, 32).isNull()]
    if app_icon().pixmap(32, 32).isNull():
        broken.append("app (the window icon: is the Qt SVG icon plugin bundled?)")
    if broken:
        raise CheckFailed(f"icons that do not load: {', '.join(broken)}")
    return f"{len(names)} icons from {folder}"


def check_fonts(_scratch: _Scratch) -> str:
    from PySide6.QtGui import QFontInfo
    from PySide6.QtWidgets import QApplication

    from minicrm_desktop.views.shell.fonts import real_families, registered_fonts

    families = real_families()
    if not families:
        raise CheckFailed("no fonts on this system and none bundled: text would show as "
                          "empty boxes (install a font package such as fonts-dejavu-core)")
    resolved = QFontInfo(QApplication.font()).family()
    bundled = registered_fonts()
    source = f"bundled {', '.join(bundled)}" if bundled else "system fonts"
    noun = "family" if len(families) == 1 else "families"
    return f"{len(families)} font {noun} ({source}); the interface uses {resolved}"


def check_text(_scratch: _Scratch) -> str:
    """Render text and look at the pixels: without a usable font Qt draws nothing, or the
    same empty box for every letter, so "iiii" and "WWWW" would cover the same area."""
    narrow, wide = _text_ink("iiii"), _text_ink("WWWW")
    if wide == 0:
        raise CheckFailed("text renders blank: no font draws glyphs")
    if narrow == 0 or wide < narrow * 1.5:
        raise CheckFailed(f"text renders as boxes, not letters (ink {narrow} vs {wide} px): "
                          "no usable font")
    return f"glyphs drawn (ink {narrow} px for 'iiii', {wide} px for 'WWWW')"


def check_main_window(scratch: _Scratch) -> str:
    """Build the real main window on the scratch database, let it open the database in the
    background as at start-up, and render it: labels must carry ink."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    from minicrm_desktop.app import bootstrap
    from minicrm_desktop.services.core.settings import DictStore, Settings

    if scratch.database_url is None:
        raise CheckFailed("skipped: the scratch database could not be created")
    ctx = bootstrap(scratch.database_url, settings=Settings(DictStore()), offer_demo=False)
    try:
        loop = QEventLoop()
        outcome: list[str] = []  # "" when the database opened, else the reason

        def finished(reason: str = "") -> None:
            outcome.append(reason)
            loop.quit()

        ctx.bus.database_ready.connect(lambda: finished())
        ctx.bus.database_failed.connect(lambda message: finished(message or "failed"))
        QTimer.singleShot(_WINDOW_TIMEOUT_MS, loop.quit)
        loop.exec()
        if not outcome:
            raise CheckFailed(f"the database did not open within {_WINDOW_TIMEOUT_MS} ms")
        if outcome[0]:
            raise CheckFailed(f"the window could not open the database: {outcome[0]}")
        window = ctx.window
        window.resize(1280, 800)
        image = window.grab().toImage()
        if image.isNull() or image.width() < 100:
            raise CheckFailed("the main window rendered nothing")
        labels = [w for w in window.findChildren(QLabel)
                  if w.text().strip() and w.isVisibleTo(window) and w.width() > 0]
        inked = [w for w in labels if _ink(w.grab().toImage()) > 0]
        if not inked:
            raise CheckFailed(f"none of the window's {len(labels)} visible labels shows text")
        platform = QApplication.platformName()
        if scratch.platform_needed and platform != scratch.platform_needed:
            raise CheckFailed(
                f"the {scratch.platform_needed} platform plugin did not load, so the app "
                "cannot open a window on this desktop; Qt's message above names the missing "
                "library (X11: libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1)")
        return (f"rendered {image.width()}x{image.height()} on the {platform} platform; "
                f"{len(inked)} labels show text")
    finally:
        ctx.window.close()
        ctx.shutdown()
        ctx.window.deleteLater()


#: The checks that need a QApplication (and so a platform plugin).
_DRAWING_CHECKS = frozenset({"resources", "fonts", "text", "main window"})
CHECKS: list[tuple[str, Callable[[_Scratch], str]]] = [
    ("modules", check_modules),
    ("libraries", check_libraries),
    ("database", check_database),
    ("mysql driver", check_mysql_driver),
    ("ssl", check_ssl),
    ("keyring", check_keyring),
    ("resources", check_resources),
    ("fonts", check_fonts),
    ("text", check_text),
    ("main window", check_main_window),
]


# --- running them --------------------------------------------------------------------------

def run_checks() -> Iterator[CheckResult]:
    """Run every check in order, each isolated from the others' failures. The Qt
    application is created only before the first check that draws: should Qt still abort
    (no platform plugin at all), the lines printed by then tell the rest."""
    platform_needed = _choose_platform()
    from minicrm_desktop.app import create_application

    app_created = False
    with tempfile.TemporaryDirectory(prefix="minicrm-selftest-") as folder:
        scratch = _Scratch(Path(folder), platform_needed=platform_needed)
        for name, check in CHECKS:
            if name in _DRAWING_CHECKS and not app_created:
                create_application(["minicrm-selftest"])
                app_created = True
            try:
                yield CheckResult(name, True, check(scratch))
            except CheckFailed as exc:
                yield CheckResult(name, False, str(exc))
            except Exception as exc:  # any breakage is a finding, not a crash of the self-test
                log.debug("self-test check %s failed", name, exc_info=True)
                yield CheckResult(name, False, f"{type(exc).__name__}: {_first_line(exc)}")


def run_selftest(out: TextIO | None = None) -> int:
    """Print one line per check; 0 when all passed, 1 otherwise."""
    stream = out or _output()
    started = time.perf_counter()
    passed = True
    for result in run_checks():
        passed = passed and result.ok
        print(result.line(), file=stream, flush=True)
    log.info("self-test took %.2f s", time.perf_counter() - started)
    return 0 if passed else 1


def _choose_platform() -> str | None:
    """Offscreen when there is no display (CI, ssh). With a display, the desktop's own
    platform plugin, falling back to offscreen so that a plugin which cannot load (missing
    X11 libraries) becomes a FAIL line instead of Qt aborting the process. Returns the
    plugin the desktop needs, None when any will do. The window is rendered, never shown."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        native = "wayland"
    elif os.environ.get("DISPLAY"):
        native = "xcb"
    else:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return None
    os.environ["QT_QPA_PLATFORM"] = f"{native};offscreen"
    return native


def _output() -> TextIO:
    """Standard output, or, in a windowed Windows build that has none, selftest.txt in the
    log folder (the exit status still says whether all passed)."""
    if sys.stdout is not None:
        return sys.stdout
    from minicrm_desktop.services.core.paths import log_dir

    log_dir().mkdir(parents=True, exist_ok=True)
    return open(log_dir() / "selftest.txt", "w", encoding="utf-8")  # noqa: SIM115


def _text_ink(text: str) -> int:
    from PySide6.QtWidgets import QLabel

    label = QLabel(text)
    label.resize(label.sizeHint().expandedTo(label.minimumSizeHint()))
    return _ink(label.grab().toImage())


def _ink(image: QImage) -> int:
    """Pixels that differ from the top-left (background) pixel."""
    from PySide6.QtGui import QImage

    if image.isNull():
        return 0
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    pixels = memoryview(image.constBits()).cast("B").cast("I")  # one 32-bit word per pixel
    background = pixels[0]
    return sum(1 for value in pixels if value != background)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(run_selftest())

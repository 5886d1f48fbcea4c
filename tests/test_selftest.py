"""`minicrm selftest` in the development install: every check passes here, and the checks
catch what they are for (no fonts, no keyring) on a machine made that way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter

from minicrm_desktop import selftest
from minicrm_desktop.packaged import packaged_argv
from minicrm_desktop.selftest import CheckResult

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("modules", "libraries", "database", "mysql driver", "ssl", "keyring", "resources",
          "fonts", "text", "main window")
EMPTY_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><cachedir>{cache}</cachedir></fontconfig>
"""
# A real keyring backend, importable by name as keyring expects; kept in memory.
MEMORY_KEYRING = '''
from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    priority = 1
    _store: dict = {}

    def get_password(self, service, username):
        return self._store.get((service, username))

    def set_password(self, service, username, password):
        self._store[(service, username)] = password

    def delete_password(self, service, username):
        self._store.pop((service, username), None)
'''


def run_selftest(*args: str, env: dict[str, str] | None = None,
                 ) -> tuple[int, dict[str, str]]:
    """Run `python -m minicrm_desktop ARGS` -> (exit status, {check name: line})."""
    result = subprocess.run(
        [sys.executable, "-m", "minicrm_desktop", *args], cwd=ROOT, capture_output=True,
        text=True, timeout=120, env=env or dict(os.environ), check=False)
    lines = {line[5:].split(":", 1)[0]: line for line in result.stdout.splitlines()}
    assert tuple(lines) == CHECKS, result.stdout + result.stderr
    return result.returncode, lines


def test_every_check_passes_in_the_development_install() -> None:
    status, lines = run_selftest("selftest")
    assert status == 0, "\n".join(lines.values())
    assert all(line.startswith("ok   ") for line in lines.values())
    assert lines["database"].endswith(f"to {_head_revision()}")
    assert "imported all" in lines["modules"]


def test_the_packaged_flag_runs_the_same_checks() -> None:
    assert packaged_argv(["--selftest"]) == ["selftest"]
    assert packaged_argv(["--debug", "--selftest"]) == ["--debug", "selftest"]
    assert packaged_argv(["--db", "sqlite:///x.db"]) == ["--db", "sqlite:///x.db"]
    status, lines = run_selftest("--selftest")
    assert status == 0, "\n".join(lines.values())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fontconfig is Linux's")
def test_a_machine_without_fonts_fails_the_font_and_text_checks(tmp_path: Path) -> None:
    """The development install bundles no font: with fontconfig pointed at no font folder,
    Qt draws every letter as the same box, and the self-test must say so."""
    config = tmp_path / "fonts.conf"
    config.write_text(EMPTY_FONTCONFIG.format(cache=tmp_path / "cache"), encoding="utf-8")
    status, lines = run_selftest("selftest", env=dict(os.environ, FONTCONFIG_FILE=str(config)))
    assert status == 1
    assert lines["fonts"].startswith("FAIL fonts: no fonts on this system")
    assert lines["text"].startswith("FAIL text: text renders as boxes")
    # The other checks still ran and passed: one failure does not hide the rest.
    assert lines["database"].startswith("ok   ")
    assert lines["resources"].startswith("ok   ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is Linux's here")
def test_a_desktop_whose_platform_plugin_cannot_start_fails_the_window_check() -> None:
    """A display the xcb plugin cannot use (here: no X server at :4242) is what a machine
    missing the X11 libraries looks like to Qt: the self-test must report it, not abort."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ":4242"
    status, lines = run_selftest("selftest", env=env)
    assert status == 1
    assert lines["main window"].startswith("FAIL main window: the xcb platform plugin did not")
    assert lines["database"].startswith("ok   ")


def test_no_keyring_is_reported_as_the_encrypted_file_fallback() -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    status, lines = run_selftest("selftest", env=env)
    assert status == 0
    assert lines["keyring"] == "ok   keyring: none (encrypted-file fallback)"


def test_a_working_keyring_is_named(tmp_path: Path) -> None:
    (tmp_path / "memory_keyring.py").write_text(MEMORY_KEYRING, encoding="utf-8")
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="memory_keyring.MemoryKeyring",
               PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path),
                                                        os.environ.get("PYTHONPATH")])))
    status, lines = run_selftest("selftest", env=env)
    assert status == 0
    assert lines["keyring"] == "ok   keyring: memory_keyring.MemoryKeyring"


def test_the_app_still_opens_its_window_from_python_m(tmp_path: Path) -> None:
    """`python -m minicrm_desktop` without --selftest is the desktop app: the start-up probe
    sees its window painted, and the app exits cleanly."""
    env = dict(os.environ, MINICRM_STARTUP_PROBE="1")
    result = subprocess.run(
        [sys.executable, "-m", "minicrm_desktop", "--db", f"sqlite:///{tmp_path / 'crm.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "MINICRM main window shown" in result.stdout


# --- the pieces, in process ------------------------------------------------------------

def test_result_lines_align() -> None:
    assert CheckResult("ssl", True, "fine").line() == "ok   ssl: fine"
    assert CheckResult("ssl", False, "broken").line() == "FAIL ssl: broken"


def test_ink_counts_pixels_that_differ_from_the_background() -> None:
    image = QImage(40, 20, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    assert selftest._ink(image) == 0
    painter = QPainter(image)
    painter.fillRect(10, 5, 4, 3, Qt.GlobalColor.black)
    painter.end()
    assert selftest._ink(image) == 12
    assert selftest._ink(QImage()) == 0


def test_text_check_passes_with_the_system_fonts(qapp: object) -> None:
    assert "glyphs drawn" in selftest.check_text(selftest._Scratch(Path(".")))


def test_database_check_migrates_a_scratch_file(tmp_path: Path) -> None:
    scratch = selftest._Scratch(tmp_path)
    detail = selftest.check_database(scratch)
    assert detail == f"migrated scratch SQLite to {_head_revision()}"
    assert scratch.database_url is not None
    assert (tmp_path / "selftest.db").stat().st_size > 0


def test_a_packaged_app_without_a_system_store_trusts_certifi(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A packaged app on a distribution that keeps its CA certificates where the bundled
    OpenSSL does not look gets certifi's bundle, so TLS still verifies servers."""
    import ssl

    import certifi

    from minicrm_desktop.packaged import use_certifi_without_system_store

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(ssl, "get_default_verify_paths",
                        lambda: ssl.DefaultVerifyPaths(None, None, "", "", "", ""),  # type: ignore[arg-type]
                        )
    use_certifi_without_system_store()
    assert os.environ["SSL_CERT_FILE"] == certifi.where()
    assert ssl.create_default_context().cert_store_stats()["x509_ca"] > 0


def test_a_user_certificate_file_is_left_alone(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    from minicrm_desktop.packaged import use_certifi_without_system_store

    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "company-ca.pem"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    use_certifi_without_system_store()
    assert os.environ["SSL_CERT_FILE"] == str(tmp_path / "company-ca.pem")


def _head_revision() -> str:
    versions = ROOT / "minicrm_desktop" / "migrations" / "versions"
    return max(p.name.split("_", 1)[0] for p in versions.glob("0*.py"))

"""The packaged app: build it with PyInstaller (build.spec) and run the build itself.

A missing hidden import, data file, Qt plugin or font fails here, in CI, not in front of a
user. The build takes about half a minute on two cores; an up-to-date dist/MiniCRM is
reused. Skip these tests locally with `-m 'not package'`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from minicrm_desktop import __version__

pytestmark = [pytest.mark.package, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist" / "MiniCRM"
BINARY = DIST / ("MiniCRM.exe" if os.name == "nt" else "MiniCRM")
SIZE_LIMIT_BYTES = 150 * 1000 * 1000  # the 150 MB
CHECKS = ("modules", "libraries", "database", "mysql driver", "ssl", "keyring", "resources",
          "fonts", "text", "main window")
EMPTY_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><cachedir>{cache}</cachedir></fontconfig>
"""


def _inputs() -> Iterable[Path]:
    """What a build is made from: our code, resources, the spec and the environment."""
    yield ROOT / "build.spec"
    yield ROOT / "pyproject.toml"
    yield Path(sys.prefix) / ".installed"
    for folder in (ROOT / "minicrm_desktop", ROOT / "resources"):
        yield from (p for p in folder.rglob("*") if "__pycache__" not in p.parts)


def _newest_input() -> float:
    return max((p.stat().st_mtime for p in _inputs() if p.is_file()), default=0.0)


@pytest.fixture(scope="module")
def packaged_app() -> Path:
    """dist/MiniCRM/MiniCRM, built now unless a build newer than every input exists."""
    if BINARY.is_file() and BINARY.stat().st_mtime > _newest_input():
        return BINARY
    build = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "build.spec"],
        cwd=ROOT, capture_output=True, text=True, timeout=840, check=False)
    assert build.returncode == 0, f"PyInstaller failed:\n{build.stderr[-4000:]}"
    assert BINARY.is_file()
    return BINARY


def _run(binary: Path, *args: str, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def _checks(output: str) -> dict[str, str]:
    """{check name: its whole line} from the self-test's output."""
    found = {}
    for line in output.splitlines():
        name = line[5:].split(":", 1)[0]
        found[name] = line
    return found


def test_packaged_selftest_passes(packaged_app: Path) -> None:
    started = time.perf_counter()
    result = _run(packaged_app, "--selftest")
    elapsed = time.perf_counter() - started
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines, result.stderr
    assert all(line.startswith("ok   ") for line in lines), result.stdout
    assert tuple(_checks(result.stdout)) == CHECKS
    # Icons come from inside the bundle (sys._MEIPASS), not from a checkout nearby.
    assert str(packaged_app.parent) in _checks(result.stdout)["resources"]
    assert elapsed < 10, f"the self-test took {elapsed:.1f} s"


def test_packaged_folder_within_size_limit(packaged_app: Path) -> None:
    folder = packaged_app.parent
    size = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    assert 20_000_000 < size <= SIZE_LIMIT_BYTES, f"{size / 1e6:.1f} MB"
    # Nothing dangles after build.spec trimmed libraries and plugins.
    dangling = [p for p in folder.rglob("*") if p.is_symlink() and not p.exists()]
    assert dangling == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fontconfig is Linux's")
def test_packaged_app_draws_text_on_a_machine_without_fonts(
        packaged_app: Path, tmp_path: Path) -> None:
    """A fontconfig that knows no font directory is a machine with no fonts at all: the
    bundled DejaVu Sans must take over, and the text must still render."""
    config = tmp_path / "fonts.conf"
    config.write_text(EMPTY_FONTCONFIG.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    env = dict(os.environ, FONTCONFIG_FILE=str(config))
    result = _run(packaged_app, "--selftest", env=env)
    checks = _checks(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bundled DejaVu Sans" in checks["fonts"]
    assert checks["text"].startswith("ok   ")


def test_packaged_command_line_works(packaged_app: Path, tmp_path: Path) -> None:
    """The packaged binary is also the `minicrm` command: version, and a migration that
    loads Alembic's scripts from the bundle."""
    version = _run(packaged_app, "--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"MiniCRM {__version__}"
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    init = _run(packaged_app, "--db", url, "init-db")
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "crm.db").stat().st_size > 0


def test_packaged_app_runs_helper_processes(packaged_app: Path, tmp_path: Path) -> None:
    """Large demo data is generated in a spawned helper process, which a frozen app must
    start through itself (multiprocessing.freeze_support in __main__)."""
    from minicrm_desktop.services.customers.seed import PARALLEL_THRESHOLD

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    seed = _run(packaged_app, "--db", url, "seed", "--customers", str(PARALLEL_THRESHOLD),
                "--seed", "3", timeout=300)
    assert seed.returncode == 0, seed.stderr
    assert seed.stdout.startswith(f"seeded {PARALLEL_THRESHOLD} customers")


def test_packaged_app_opens_its_window(packaged_app: Path, tmp_path: Path) -> None:
    """The real start-up path: the window is painted (the probe reports it), then the app
    exits cleanly."""
    env = dict(os.environ, MINICRM_STARTUP_PROBE="1")
    result = _run(packaged_app, "--db", f"sqlite:///{tmp_path / 'crm.db'}", env=env)
    assert result.returncode == 0, result.stderr
    assert "MINICRM main window shown" in result.stdout

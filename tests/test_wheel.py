"""An install that is not editable (issue 16): build the wheel, install it into a fresh
venv, and run its `minicrm selftest` there. Support staff install test builds this way;
`resources/` must travel in the wheel, and a failing check must end with exit status 1,
never with Qt aborting the process.

The new venv has no pip and no dependencies of its own: a .pth file points it at this
environment's site-packages (the editable install there is not seen: a folder added by a
.pth file is not scanned for .pth files). Skip with `-m 'not wheel'`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = [pytest.mark.wheel, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    if env is None:  # never this checkout's code through PYTHONPATH
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=500, check=False)
    if check:
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", work / "dist",
         ROOT, cwd=work)
    wheel = next((work / "dist").glob("minicrm_desktop-*.whl"))
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=work).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dev-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet",
         wheel, cwd=work)
    return venv


def _selftest(venv: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY",
                                                             "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home), XDG_CONFIG_HOME=str(home / "cfg"),
               XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"),
               XDG_CACHE_HOME=str(home / "cache"))
    # Run from a folder outside the repository, so nothing can be found beside the code.
    return _run(venv / "bin" / "minicrm", "selftest", cwd=home, env=env, check=False)


def test_wheel_install_passes_its_selftest(wheel_venv: Path, tmp_path: Path) -> None:
    location = _run(wheel_venv / "bin" / "python", "-c",
                    "import minicrm_desktop; print(minicrm_desktop.__file__)",
                    cwd=tmp_path).stdout
    assert str(wheel_venv) in location  # the wheel's copy, not the checkout
    done = _selftest(wheel_venv, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resources" in done.stdout
    assert "FAIL" not in done.stdout


def test_a_broken_install_fails_cleanly(wheel_venv: Path, tmp_path: Path) -> None:
    site = Path(_run(wheel_venv / "bin" / "python", "-c",
                     "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=tmp_path).stdout.strip())
    icons = site / "minicrm_desktop" / "resources"
    hidden = tmp_path / "moved-resources"
    shutil.move(icons, hidden)
    try:
        done = _selftest(wheel_venv, tmp_path)
    finally:
        shutil.move(hidden, icons)
    assert done.returncode == 1, done.stdout + done.stderr  # FAIL lines, not an abort
    assert "resources folder is missing" in done.stdout
    assert "QThread" not in done.stderr

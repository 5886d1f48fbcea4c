"""Cold start of the packaged app, process spawn -> main window painted, and its size.

    make package && .venv/bin/python benchmarks/startup.py --json
    .venv/bin/python benchmarks/startup.py --command ".venv/bin/python -m minicrm_desktop"

Each run starts the app with MINICRM_STARTUP_PROBE=1 (minicrm_desktop/views/shell/startup_probe.py):
it prints a line when the main window is first painted, then quits. The figure is the wall
time from spawning the process to that line. The page cache cannot be dropped without root,
so the first run (files possibly not yet cached) is reported apart from the median of the
warm runs. The database is an existing, migrated SQLite file, as a returning user has, made
by the app's own `init-db`; user folders point into a temporary directory. Without a
display the app renders offscreen. Target: <= 1500 ms. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = ROOT / "dist" / "MiniCRM" / ("MiniCRM.exe" if os.name == "nt" else "MiniCRM")
SHOWN_MARK = "MINICRM main window shown"  # as printed by views/shell/startup_probe.py
TARGET_MS = 1500
SIZE_TARGET_MB = 150
TIMEOUT_S = 60


def folder_bytes(folder: Path) -> int:
    """Bytes of every file in the folder; symbolic links count as links, not their target."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ, MINICRM_STARTUP_PROBE="1")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(home / name.lower())
    env.pop("MINICRM_DATABASE_URL", None)
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def prepare_database(command: list[str], url: str, env: dict[str, str]) -> None:
    quiet = dict(env)
    quiet.pop("MINICRM_STARTUP_PROBE")
    subprocess.run([*command, "--db", url, "init-db"], env=quiet, check=True,
                   capture_output=True, timeout=TIMEOUT_S)


def one_start(command: list[str], url: str, env: dict[str, str]) -> float:
    """Milliseconds from spawning the process to its 'main window shown' line."""
    started = time.perf_counter()
    with subprocess.Popen([*command, "--db", url], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        shown_ms = None
        for line in proc.stdout:
            if line.startswith(SHOWN_MARK):
                shown_ms = (time.perf_counter() - started) * 1000
                break
        try:
            _out, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    if shown_ms is None:
        raise RuntimeError(f"the app never showed its window (exit {proc.returncode}):\n"
                           f"{err[-2000:]}")
    return shown_ms


def machine() -> dict[str, Any]:
    return {"system": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY,
                        help="the packaged app (default: dist/MiniCRM/MiniCRM)")
    parser.add_argument("--command", help="start this command line instead of --binary "
                        "(e.g. '.venv/bin/python -m minicrm_desktop' to compare)")
    parser.add_argument("--runs", type=int, default=7, help="runs in all (first + warm)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)

    if args.command:
        command = shlex.split(args.command)
        folder = None
    else:
        if not args.binary.is_file():
            parser.error(f"{args.binary} does not exist: run `make package` first")
        command = [str(args.binary)]
        folder = args.binary.parent

    with tempfile.TemporaryDirectory(prefix="minicrm-startup-") as tmp:
        home = Path(tmp)
        env = environment(home)
        url = f"sqlite:///{home / 'crm.db'}"
        prepare_database(command, url, env)
        times = [one_start(command, url, env) for _ in range(max(2, args.runs))]

    warm = times[1:]
    result: dict[str, Any] = {
        "command": " ".join(command),
        "first_run_ms": round(times[0], 1),
        "warm_median_ms": round(statistics.median(warm), 1),
        "warm_runs_ms": [round(t, 1) for t in warm],
        "target_ms": TARGET_MS,
        "machine": machine(),
        "platform_plugin": env.get("QT_QPA_PLATFORM", "default"),
    }
    if folder is not None:
        size = folder_bytes(folder)
        result.update(folder=str(folder), folder_bytes=size,
                      folder_mb=round(size / 1e6, 1), folder_mib=round(size / 2**20, 1),
                      size_target_mb=SIZE_TARGET_MB)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

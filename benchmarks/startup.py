"""Cold start of the packaged app, process spawn -> main window painted, beside a bare window.

    make package && .venv/bin/python benchmarks/startup.py --json
    .venv/bin/python benchmarks/startup.py --command ".venv/bin/python -m minicrm_desktop"

Each run starts the app with MINICRM_STARTUP_PROBE=1 (minicrm_desktop/views/shell/startup_probe.py):
it prints a line when the main window is first painted, then quits. The figure is the wall
time from spawning the process to that line. The page cache cannot be dropped without root,
so the first run (files possibly not yet cached) is reported apart from the median of the
warm runs. The database is an existing, migrated SQLite file, as a returning user has, made
by the app's own `init-db`; user folders point into a temporary directory. Without a
display the app renders offscreen. Target: <= 1500 ms. Prints JSON.

The baseline is the least a window with a table can cost: this interpreter starting a
bare PySide6 QMainWindow holding a 20x8 QTableWidget, timed to its first paint the same
way. MiniCRM and the bare window are started in turns (who goes first alternates), so both
see the same load: `median_ms` and `bare_median_ms` are medians over the warm runs and
`ratio_to_bare` their quotient (target <= 3).
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
RATIO_TARGET = 3.0

#: The baseline: a bare window with a table, painted once (run with `python -c`).
BARE_WINDOW = f"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget, QTableWidgetItem

class FirstPaint(QObject):
    seen = False
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            print("{SHOWN_MARK}", time.time(), flush=True)
            QTimer.singleShot(0, lambda: QApplication.exit(0))
        return False

app = QApplication(sys.argv)
window = QMainWindow()
table = QTableWidget(20, 8)
for row in range(20):
    for column in range(8):
        table.setItem(row, column, QTableWidgetItem(f"{{row}}, {{column}}"))
window.setCentralWidget(table)
window.resize(1024, 700)
probe = FirstPaint(window)
window.installEventFilter(probe)
window.show()
sys.exit(app.exec())
"""


def folder_bytes(folder: Path) -> int:
    """Bytes of every file in the folder; symbolic links count as links, not their target."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ, MINICRM_STARTUP_PROBE="1")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(home / name.lower())
    env.pop("MINICRM_DATABASE_URL", None)
    # An installed app starts from cached bytecode: without it every start would compile
    # the sources again (half its time). The first run writes the cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def prepare_database(command: list[str], url: str, env: dict[str, str]) -> None:
    quiet = dict(env)
    quiet.pop("MINICRM_STARTUP_PROBE")
    subprocess.run([*command, "--db", url, "init-db"], env=quiet, check=True,
                   capture_output=True, timeout=TIMEOUT_S)


def one_start(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Milliseconds from spawning the process to its 'main window shown' line, and the CPU
    milliseconds (user + system) the process used in all, to its exit just after."""
    cpu_before = _children_cpu_ms()
    started = time.perf_counter()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
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
    return shown_ms, _children_cpu_ms() - cpu_before


def _children_cpu_ms() -> float:
    """CPU time of this process's waited-for children so far (Unix; 0 elsewhere)."""
    try:
        import resource
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


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
        app, bare = [*command, "--db", url], [sys.executable, "-c", BARE_WINDOW]
        runs: dict[str, list[tuple[float, float]]] = {"app": [], "bare": []}
        for run in range(max(2, args.runs)):
            for which in (("app", "bare") if run % 2 == 0 else ("bare", "app")):
                runs[which].append(one_start(app if which == "app" else bare, env))

    times, bare_times = [w for w, _ in runs["app"]], [w for w, _ in runs["bare"]]
    warm, bare_warm = times[1:], bare_times[1:]
    median, bare_median = statistics.median(warm), statistics.median(bare_warm)
    # CPU time is steadier than wall time on a shared machine: a second view of the ratio.
    cpu = statistics.median(c for _, c in runs["app"][1:])
    bare_cpu = statistics.median(c for _, c in runs["bare"][1:])
    result: dict[str, Any] = {
        "command": " ".join(command),
        "median_ms": round(median, 1),
        "bare_median_ms": round(bare_median, 1),
        "ratio_to_bare": round(median / bare_median, 2),
        "ratio_target": RATIO_TARGET,
        "cpu_median_ms": round(cpu, 1),
        "bare_cpu_median_ms": round(bare_cpu, 1),
        "cpu_ratio_to_bare": round(cpu / bare_cpu, 2) if bare_cpu else None,
        "first_run_ms": round(times[0], 1),
        "bare_first_run_ms": round(bare_times[0], 1),
        "warm_median_ms": round(median, 1),  # the older name of median_ms
        "warm_runs_ms": [round(t, 1) for t in warm],
        "bare_warm_runs_ms": [round(t, 1) for t in bare_warm],
        "target_ms": TARGET_MS,
        "load_average": [round(v, 2) for v in os.getloadavg()],
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

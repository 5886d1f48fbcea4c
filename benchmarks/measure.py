"""Running a command and measuring all of its processes: wall time, CPU time, peak RSS.

CPU time comes from the kernel's accounting of waited-for children (RUSAGE_CHILDREN), which
includes grandchildren their parent waited for, such as a helper process. Peak RSS is the
largest *sum* of the resident sets of the process and all its descendants, sampled from
/proc every few milliseconds (Linux), so a helper process's memory counts too.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_S = 0.02


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(p) for p in text.split())
    except OSError:
        pass
    return found


def _tree_rss(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
        todo.extend(_children(pid))
    return total


def run_measured(
    command: Sequence[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)
) -> Measured:
    """Run `command` to completion; raise if its exit status is not one of `ok`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of the children is the largest single process: a floor for the sampled sum.
    peak = max(peak, after.ru_maxrss * 1024 if after.ru_maxrss > before.ru_maxrss else 0)
    if process.returncode not in ok:
        raise RuntimeError(f"{command[:4]} failed ({process.returncode}): {err.strip()[-2000:]}")
    return Measured(round(wall, 3), round(cpu, 3), round(peak / 2**20, 1), out)

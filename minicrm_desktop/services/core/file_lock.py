"""An exclusive lock shared by processes, held on a side file next to the one it guards.

The guarded file itself is replaced atomically (a new inode each time), so it cannot carry
the lock; `<name>.lock` stays put. POSIX uses flock, Windows msvcrt.locking; both are
released by the OS if the process dies.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.lock")


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold the cross-process lock for `path` (blocks until it is free)."""
    side = lock_path(path)
    side.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(side, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd)
        try:
            yield
        finally:
            _release(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _acquire(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for ~10 s, then raises
                return
            except OSError:
                continue

    def _release(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _acquire(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

"""Noticing changes made by another process (the command line, another installation on a
shared database), so every page shows the database as it is.

In-process changes arrive through the event bus. For the rest, `ChangeWatcher` reads a
cheap stamp per area every few seconds while the window is active (a handful of indexed
MAX/COUNT queries, in the TaskRunner) and reports the areas whose stamp moved. Only QtCore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from minicrm_desktop.services.core.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    # The queries (SQLAlchemy and the models) load in the first task that reads a stamp:
    # the window makes its watcher before its first paint, and needs none of them then.
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

POLL_MS = 3_000
AREAS = ("customers", "segments", "campaigns", "users", "audit")


@dataclass(frozen=True)
class DataStamp:
    """What changes when an area's data changes (compared, never interpreted)."""

    customers: tuple[Any, ...]
    segments: tuple[Any, ...]
    campaigns: tuple[Any, ...]
    users: tuple[Any, ...]
    audit: tuple[Any, ...]

    def changed_areas(self, other: DataStamp) -> set[str]:
        return {area for area in AREAS if getattr(self, area) != getattr(other, area)}


def _last_audit(conn: Connection, *families: str) -> int | None:
    """The newest audit entry of the given action families ("import.") — via the
    (action, id) index: one short range per family."""
    from sqlalchemy import func, select

    from minicrm_desktop.models.tables import audit_table

    a = audit_table.c
    best: int | None = None
    for family in families:
        # "import." .. "import/": every action starting with the family's prefix.
        upper = family[:-1] + chr(ord(family[-1]) + 1)
        value = conn.execute(select(func.max(a.id)).where(a.action >= family,
                                                          a.action < upper)).scalar()
        if value is not None and (best is None or value > best):
            best = int(value)
    return best


def read_stamp(engine: Engine) -> DataStamp:
    """One short read of every area's stamp (runs in a task)."""
    from sqlalchemy import func, select

    from minicrm_desktop.models.campaign import Campaign
    from minicrm_desktop.models.segment import segments_table
    from minicrm_desktop.models.tables import (
        allowed_domains_table,
        audit_table,
        customers_table,
        orders_table,
        users_table,
    )

    with engine.connect() as conn:
        one = conn.execute
        customers = (one(select(func.max(customers_table.c.id))).scalar(),
                     one(select(func.max(orders_table.c.id))).scalar(),
                     _last_audit(conn, "import."))
        s = segments_table.c
        segments = tuple(one(select(func.count(), func.max(s.id),
                                    func.max(s.updated_at))).one())
        c = Campaign.__table__.c
        campaigns = (tuple(one(select(func.count(), func.max(c.id))).one()),
                     tuple(tuple(r) for r in one(
                         select(c.status, func.count()).group_by(c.status)
                         .order_by(c.status)).all()),
                     _last_audit(conn, "campaign."))
        u = users_table.c
        users = (tuple(one(select(func.count(), func.max(u.id))).one()),
                 one(select(func.count()).select_from(allowed_domains_table)).scalar(),
                 _last_audit(conn, "user.", "domain."))
        audit = (one(select(func.max(audit_table.c.id))).scalar(),)
    return DataStamp(customers, segments, campaigns, users, audit)


class ChangeWatcher(QObject):
    """Polls `read_stamp` while active; `changed` carries the set of areas that moved."""

    changed = Signal(object)  # set[str]

    def __init__(self, engine: Engine, runner: TaskRunner, *, interval_ms: int = POLL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._runner = runner
        self._stamp: DataStamp | None = None
        self._handle: TaskHandle[Any] | None = None
        self._started = False
        self._active = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check_now)

    def start(self) -> None:
        """The database is open: take the first stamp (the baseline)."""
        self._started = True
        self.check_now()
        self._update_timer()

    def set_active(self, active: bool) -> None:
        """Poll only while the window is the active one (no work in the background)."""
        self._active = active
        self._update_timer()
        if active and self._started:
            self.check_now()  # coming back to the window: catch up at once

    def _update_timer(self) -> None:
        if self._started and self._active:
            self.timer.start()
        else:
            self.timer.stop()

    def check_now(self) -> None:
        if not self._started or self._handle is not None:
            return
        engine = self._engine
        try:
            self._handle = self._runner.run(lambda _ctx: read_stamp(engine),
                                            title="Checking for changes", quiet=True,
                                            on_success=self._read, on_error=self._failed)
        except RuntimeError:  # the runner has shut down
            self.stop()

    def _read(self, stamp: DataStamp) -> None:
        self._handle = None
        old, self._stamp = self._stamp, stamp
        if old is not None:
            areas = stamp.changed_areas(old)
            if areas:
                self.changed.emit(areas)

    def _failed(self, _exc: BaseException) -> None:
        self._handle = None  # a lost connection: the next tick tries again

    def stop(self) -> None:
        self._started = False
        self.timer.stop()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

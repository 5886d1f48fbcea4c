"""The application's event bus: one QObject whose typed signals carry coarse events.

Services publish "something changed" after each operation; views subscribe and decide
what to refresh, so no view needs to know another. Only QtCore: no widgets here.
Signals are emitted on the GUI thread (tasks report back through the runner first), and
carry plain data, never ORM objects.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class EventBus(QObject):
    #: The database is open and migrated; pages may start querying.
    database_ready = Signal()
    #: The database could not be opened (the message is fit for a user).
    database_failed = Signal(str)
    #: Customers or their orders were added, changed or removed (import, seed, edit).
    customers_changed = Signal()
    #: An import finished; carries its ImportReport.
    import_finished = Signal(object)
    #: A segment was saved; carries its id.
    segment_saved = Signal(int)
    #: Background work for the status bar: (task id, title).
    task_started = Signal(int, str)
    #: (task id, fraction 0..1 or -1 when unknown, text).
    task_progress = Signal(int, float, str)
    #: (task id).
    task_finished = Signal(int)
    #: A user asked for a page by name ("customers", "segments", ...).
    navigate = Signal(str)
    #: CampaignCounts: a campaign's counters after the writer applied a batch.
    campaign_progress = Signal(object)
    #: (campaign id, status): a campaign's run ended (completed, paused or cancelled).
    campaign_finished = Signal(int, str)
    #: Campaigns were created, launched or changed status; lists refresh.
    campaigns_changed = Signal()

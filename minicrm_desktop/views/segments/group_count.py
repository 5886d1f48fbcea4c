"""Each group's count beside it in the rule tree, off the GUI thread.

It rides on the live count's machinery: when the total count starts (after its debounce,
or on a reload), the groups are counted too, in one task of their own
(services' draft_group_counts: inactive conditions left out). Any edit cancels a running
count — the service stops mid-query — and drops its result; a generation number makes
sure only the newest result is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from sqlalchemy import Engine

from minicrm_desktop.models.rule_tree import GroupNode, Path, node_at
from minicrm_desktop.services.core.tasks import TaskContext, TaskHandle, TaskRunner
from minicrm_desktop.services.segments.group_counts import draft_group_counts

if TYPE_CHECKING:
    from minicrm_desktop.views.segments.live_count import LiveCount
    from minicrm_desktop.views.segments.rule_model import RuleTreeModel


class GroupCounts(QObject):
    #: New counts are shown (path → count, in the tree as it stands).
    counted = Signal(object)

    def __init__(self, model: RuleTreeModel, live: LiveCount, engine: Engine,
                 runner: TaskRunner) -> None:
        super().__init__(live)
        self.model, self.live = model, live
        self._engine, self._runner = engine, runner
        self.generation = 0
        self._handle: TaskHandle[Any] | None = None
        model.tree_changed.connect(self._tree_changed)
        live.counting.connect(self.count_now)

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def _tree_changed(self) -> None:
        self._drop()
        if self.model.draft_rule is None:  # nothing countable: no stale numbers either
            self.model.set_counts({})

    def _drop(self) -> None:
        self.generation += 1
        if self._handle is not None:
            self._handle.cancel()

    def stop(self) -> None:
        self._drop()

    def count_now(self, *_args: object) -> None:
        if self.model.draft_rule is None:
            return
        self._drop()
        generation, engine, as_of = self.generation, self._engine, self.live.as_of
        tree = self.model.to_json()

        def work(ctx: TaskContext) -> tuple[dict[Path, int], list[Path]] | None:
            return draft_group_counts(engine, tree, as_of=as_of, should_cancel=ctx.cancelled)

        handle = self._runner.run(work, title="Counting groups", quiet=True,
                                  on_success=lambda found: self._counted(generation, found),
                                  on_error=lambda _exc: self._counted(generation, None))
        self._handle = handle
        handle.finished.connect(lambda: self._finished(handle))

    def _finished(self, handle: TaskHandle[Any]) -> None:
        if self._handle is handle:
            self._handle = None

    def _counted(self, generation: int,
                 found: tuple[dict[Path, int], list[Path]] | None) -> None:
        if generation != self.generation:
            return  # the tree changed since: a newer count follows
        if found is None:  # failed: the total count says why; no numbers beside groups
            self.model.set_counts({})
            return
        counts: dict[GroupNode, int] = {}
        for path, n in found[0].items():
            group = node_at(self.model.root, path)
            if isinstance(group, GroupNode):
                counts[group] = n
        self.model.set_counts(counts)
        self.counted.emit(found[0])

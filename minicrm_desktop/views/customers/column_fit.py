"""Fits the customers table's columns into its width: beside the detail panel at 1280 px
every column stays on screen, narrowed down to its title's width at the least; longer
cells elide and show their whole text as a tooltip (the model's ToolTipRole). In a
narrower window the leading columns (who the customer is) stay readable and the last
ones scroll."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QTableView

# Room for the sort indicator and the header's padding beside a column's title.
_TITLE_PADDING = 26
#: The leading columns never narrow below this share of their preferred width.
_KEPT_SHARE = 0.75


class ColumnFitter(QObject):
    """Keeps the visible columns' preferred widths when they fit, and shrinks them in
    proportion (never below their title) when they do not. Once a person drags a column
    edge, their widths stand until the view is resized again."""

    def __init__(self, table: QTableView, preferred: list[int], *, keep: int = 0) -> None:
        """`keep`: how many leading columns stay readable (see _KEPT_SHARE)."""
        super().__init__(table)
        self._table = table
        self._preferred = preferred
        self._keep = keep
        self._fitting = False
        table.viewport().installEventFilter(self)
        table.horizontalHeader().sectionResized.connect(self._user_resized)
        self._user_sized = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.Resize:
            self._user_sized = False
            self.fit()
        return False

    def _user_resized(self, _index: int, _old: int, _new: int) -> None:
        if not self._fitting:
            self._user_sized = True

    def fit(self) -> None:
        if self._user_sized:
            return
        table = self._table
        header = table.horizontalHeader()
        model = table.model()
        shown = [i for i in range(len(self._preferred)) if not table.isColumnHidden(i)]
        if not shown or model is None:
            return
        metrics = header.fontMetrics()
        least = {i: metrics.horizontalAdvance(str(model.headerData(i, header.orientation())))
                 + _TITLE_PADDING for i in shown}
        for i in shown[:self._keep]:
            least[i] = max(least[i], round(self._preferred[i] * _KEPT_SHARE))
        room = table.viewport().width()
        wanted = sum(self._preferred[i] for i in shown)
        widths = {i: self._preferred[i] for i in shown}
        if wanted > room:
            # Shrink only what is above its least width, in proportion to that slack.
            slack = sum(max(0, widths[i] - least[i]) for i in shown)
            excess = wanted - room
            for i in shown:
                give = max(0, widths[i] - least[i])
                widths[i] -= min(give, round(excess * give / slack)) if slack else 0
        self._fitting = True
        try:
            for i in shown:
                table.setColumnWidth(i, widths[i])
        finally:
            self._fitting = False

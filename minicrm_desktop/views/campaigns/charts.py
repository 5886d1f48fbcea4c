"""A campaign's outcome charts: sent and failed over time, and failed and skipped by
reason, drawn in the window's palette (light or dark) with whole-number ticks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalStackedBarSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QEvent, QMargins, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QWidget

from minicrm_desktop.services.campaigns.stats import OutcomeBucket
from minicrm_desktop.views.common.formatting import format_datetime

#: Outcome colours (light, dark): delivered green, failed red, suppressed (skipped) grey.
SENT_COLOURS = (QColor("#2da44e"), QColor("#3fb950"))
FAILED_COLOURS = (QColor("#cf222e"), QColor("#f85149"))
SKIPPED_COLOURS = (QColor("#8c959f"), QColor("#6e7681"))
TIME_BUCKETS = 12


def _clock(value: datetime, seconds: bool) -> str:
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone()
    return local.strftime("%H:%M:%S" if seconds else "%H:%M")


def _axis_title(buckets: list[OutcomeBucket]) -> str:
    if not buckets:
        return ""
    width = int((buckets[0].end - buckets[0].start).total_seconds())
    step = f"{width} s" if width < 60 else f"{width // 60} min"
    start = format_datetime(buckets[0].start)
    if _within_a_minute(buckets, True) and width < 60:
        start += _clock(buckets[0].start, True)[5:]  # the labels are its seconds
    return f"{step} per bar from {start}"  # short: a 1024-wide window keeps it whole


def _bucket_labels(buckets: list[OutcomeBucket]) -> list[str]:
    """Each bucket's start in clock time: buckets are whole seconds aligned on the clock
    (stats.outcomes_over_time), so the labels are distinct and read as times."""
    if not buckets:
        return []
    width = (buckets[0].end - buckets[0].start).total_seconds()
    seconds = width < 60 or any(b.start.second for b in buckets)
    labels = [_clock(b.start, seconds) for b in buckets]
    if _within_a_minute(buckets, seconds):
        # The seconds alone are distinct and fit under narrow bars (":37", ":38"…); the
        # axis title gives the first bar's whole time.
        labels = [label[5:] for label in labels]
    return labels


def _within_a_minute(buckets: list[OutcomeBucket], seconds: bool) -> bool:
    return seconds and (buckets[-1].start - buckets[0].start).total_seconds() < 60


def _tilted(labels: list[str]) -> bool:
    """Whole clock times side by side need room: more than six are tilted."""
    return sum(len(label) > 3 for label in labels) > 6 or len(labels) > 12


def _count_range(top: int) -> tuple[int, int]:
    """The axis's end and tick count for counts up to `top`: a round integer step."""
    step, scale = 1, 1
    while top > step * 5:
        for mantissa in (1, 2, 5, 10):
            step = mantissa * scale
            if top <= step * 5:
                break
        else:
            scale *= 10
            continue
        break
    ticks = max(1, -(-top // step))
    return step * ticks, ticks + 1


def count_axis(top: int) -> QValueAxis:
    """A value axis of whole counts: ticks at a round integer step, never "0 0 0 1"."""
    axis = QValueAxis()
    axis.setLabelFormat("%d")
    end, ticks = _count_range(top)
    axis.setRange(0, end)
    axis.setTickCount(ticks)
    axis.setMinorTickCount(0)
    return axis


@dataclass
class _Timeline:
    """What the timeline chart shows, to change it in place while a campaign sends."""

    labels: list[str]
    title: str
    tilted: bool
    values: tuple[list[float], list[float]]  # sent, failed
    bars: tuple[QBarSet, QBarSet]
    x_axis: QBarCategoryAxis
    y_axis: QValueAxis
    top: int


@dataclass
class _Reasons:
    """What the reasons chart shows, to change it in place while a campaign sends."""

    labels: list[str]
    values: tuple[list[float], list[float]]  # failed, skipped
    bars: tuple[QBarSet, QBarSet]
    y_axis: QBarCategoryAxis
    x_axis: QValueAxis
    top: int


def _bar_set(label: str, colour: QColor) -> QBarSet:
    bars = QBarSet(label)
    bars.setColor(colour)
    bars.setPen(QPen(Qt.PenStyle.NoPen))  # no white outline on a dark background
    return bars


def outcome_colours(dark: bool) -> dict[str, QColor]:
    pick = 1 if dark else 0
    return {"sent": SENT_COLOURS[pick], "failed": FAILED_COLOURS[pick],
            "skipped": SKIPPED_COLOURS[pick]}


def apply_chart_palette(chart: QChart, palette: QPalette) -> None:
    """Draw the chart in the window's palette (light or dark), not QtCharts' white."""
    base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
    grid = palette.color(QPalette.ColorRole.Mid)
    chart.setBackgroundBrush(QBrush(base))
    chart.setBackgroundPen(QPen(grid))
    chart.setPlotAreaBackgroundVisible(False)
    for view in chart.scene().views() if chart.scene() is not None else ():
        view.setBackgroundBrush(QBrush(base))
    chart.setTitleBrush(QBrush(text))
    chart.legend().setLabelColor(text)
    for axis in chart.axes():
        axis.setLabelsColor(text)
        axis.setTitleBrush(QBrush(text))
        axis.setLinePenColor(grid)
        axis.setGridLineColor(grid)



class _ChartView(QChartView):
    """A chart that asks for a modest height and grows into whatever room is left: a
    graphics view otherwise asks for most of the screen, and the scrolling page area gives
    a page its preferred height, so a short window would scroll."""

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), 180)


def _chart_view(chart: QChart) -> QChartView:
    chart.setBackgroundRoundness(4)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = _ChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(180)  # below this the axes' labels are elided
    return view



class OutcomeCharts(QWidget):
    """The two charts side by side; they follow palette changes with the last data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline_chart = QChart()
        self.timeline_chart.setTitle("Outcomes over time")
        self.reasons_chart = QChart()
        self.reasons_chart.setTitle("Failed and skipped, by reason")
        self._data: tuple[list[OutcomeBucket], list[tuple[str, int]],
                          list[tuple[str, int]]] | None = None
        self._timeline: _Timeline | None = None
        self._reasons: _Reasons | None = None
        self._theme_charts()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(_chart_view(self.timeline_chart), 1)
        row.addWidget(_chart_view(self.reasons_chart), 1)  # its labels need the width

    def show_outcomes(self, buckets: list[OutcomeBucket], failures: list[tuple[str, int]],
                      skips: list[tuple[str, int]]) -> None:
        if (buckets, failures, skips) == self._data:
            return  # a poll that found nothing new: no rebuild
        self._data = (buckets, failures, skips)
        rebuilt = (self._show_timeline(buckets), self._show_reasons(failures, skips))
        # New axes take the palette's colours; a chart changed in place keeps its own.
        for chart, new in zip((self.timeline_chart, self.reasons_chart), rebuilt, strict=True):
            if new:
                apply_chart_palette(chart, self.palette())

    def _show_timeline(self, buckets: list[OutcomeBucket], *, rebuild: bool = False) -> bool:
        """Show the buckets; returns whether the chart was made anew (else changed in place)."""
        labels = _bucket_labels(buckets)
        title = _axis_title(buckets)
        tilted = _tilted(labels)
        shown = self._timeline
        if not rebuild and shown is not None and shown.labels and (title, tilted) == (
                shown.title, shown.tilted) and labels[:len(shown.labels)] == shown.labels:
            # The same bars, maybe more of them (a campaign sending adds one now and then):
            # change what changed. Rebuilding the chart (series, axes, layout) each poll
            # cost the GUI thread 8-26 ms under load.
            self._update_timeline(shown, buckets, labels)
            return False
        chart = self.timeline_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        colours = outcome_colours(self._dark())
        sent, failed = _bar_set("Sent", colours["sent"]), _bar_set("Failed", colours["failed"])
        # One call per bar set, not one per bucket: while a campaign sends, each call from
        # Python into Qt on the GUI thread may wait for the GIL the workers hold.
        values = ([float(b.sent) for b in buckets], [float(b.failed) for b in buckets])
        sent.append(values[0])
        failed.append(values[1])
        series = QStackedBarSeries()
        series.append(sent)
        series.append(failed)
        series.setBarWidth(0.9)
        chart.addSeries(series)
        x_axis = QBarCategoryAxis()
        x_axis.append(labels or [""])
        x_axis.setTitleText(title)
        if tilted:
            x_axis.setLabelsAngle(-45)
        top = max((b.sent + b.failed for b in buckets), default=0)
        y_axis = count_axis(top)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x_axis)
        series.attachAxis(y_axis)
        self._timeline = _Timeline(labels, title, tilted, values, (sent, failed), x_axis,
                                   y_axis, top)
        return True

    def _update_timeline(self, shown: _Timeline, buckets: list[OutcomeBucket],
                         labels: list[str]) -> None:
        count = len(shown.labels)
        values = ([float(b.sent) for b in buckets], [float(b.failed) for b in buckets])
        for bars, new, old in zip(shown.bars, values, shown.values, strict=True):
            for index in range(count):
                if new[index] != old[index]:  # mostly the last bar or two
                    bars.replace(index, new[index])
            if len(new) > count:
                bars.append(new[count:])
        if len(labels) > count:
            shown.x_axis.append(labels[count:])
        top = max((b.sent + b.failed for b in buckets), default=0)
        end, ticks = _count_range(top)
        if _count_range(shown.top) != (end, ticks):
            shown.y_axis.setRange(0, end)
            shown.y_axis.setTickCount(ticks)
        shown.labels, shown.values, shown.top = labels, values, top

    def _show_reasons(self, failures: list[tuple[str, int]], skips: list[tuple[str, int]],
                      *, rebuild: bool = False) -> bool:
        """Failures (the vendor refused) in red, suppressions (never tried) in grey; returns
        whether the chart was made anew (else changed in place)."""
        totals: dict[str, list[int]] = {}
        for index, items in enumerate((failures, skips)):
            for reason, n in items:
                totals.setdefault(reason or "(none)", [0, 0])[index] += n
        ordered = sorted(totals.items(), key=lambda item: sum(item[1]))[-8:]  # biggest on top
        labels = [reason for reason, _ in ordered]
        values = ([float(f) for _reason, (f, _k) in ordered],
                  [float(k) for _reason, (_f, k) in ordered])
        top = max((sum(n) for _, n in ordered), default=0)
        shown = self._reasons
        if not rebuild and shown is not None and shown.labels and \
                len(labels) == len(shown.labels):
            # As many reasons as shown (counts grow while a campaign sends, and two close
            # ones may swap places): change the bars and the axes, as the timeline does;
            # rebuilding the chart each poll cost the GUI thread tens of ms under load.
            if labels != shown.labels:
                shown.y_axis.setCategories(labels)
            for bars, new, old in zip(shown.bars, values, shown.values, strict=True):
                for index, value in enumerate(new):
                    if value != old[index]:
                        bars.replace(index, value)
            end, ticks = _count_range(top)
            if _count_range(shown.top) != (end, ticks):
                shown.x_axis.setRange(0, end)
                shown.x_axis.setTickCount(ticks)
            shown.labels, shown.values, shown.top = labels, values, top
            return False
        chart = self.reasons_chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        colours = outcome_colours(self._dark())
        failed = _bar_set("Failed", colours["failed"])
        skipped = _bar_set("Skipped", colours["skipped"])
        failed.append(values[0])
        skipped.append(values[1])
        series = QHorizontalStackedBarSeries()
        series.append(failed)
        series.append(skipped)
        chart.addSeries(series)
        chart.legend().setVisible(bool(ordered))
        y_axis = QBarCategoryAxis()
        y_axis.append(labels or ["No failures"])
        x_axis = count_axis(top)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(y_axis)
        series.attachAxis(x_axis)
        self._reasons = _Reasons(labels, values, (failed, skipped), y_axis, x_axis, top)
        return True

    def _dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    def _theme_charts(self) -> None:
        for chart in (self.timeline_chart, self.reasons_chart):
            apply_chart_palette(chart, self.palette())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            if self._data is not None:
                buckets, failures, skips = self._data
                self._show_timeline(buckets, rebuild=True)  # in the new palette's colours
                self._show_reasons(failures, skips, rebuild=True)
            self._theme_charts()

"""The charts while a campaign sends: each poll's buckets are shown exactly, the timeline
changed in place while its bars stay the same or grow by new ones (a rebuild cost the GUI
thread 8-26 ms a poll under load), and made anew when the bars' width changes; the reasons
chart likewise, in place while its reasons stay the same and in the same order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCharts import (
    QAbstractBarSeries,
    QBarCategoryAxis,
    QChart,
    QHorizontalStackedBarSeries,
    QStackedBarSeries,
    QValueAxis,
)
from pytestqt.qtbot import QtBot

from minicrm_desktop.services.campaigns.stats import OutcomeBucket
from minicrm_desktop.views.campaigns.charts import OutcomeCharts

START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def buckets(counts: list[tuple[int, int]], seconds: int = 1) -> list[OutcomeBucket]:
    width = timedelta(seconds=seconds)
    return [OutcomeBucket(START + width * i, START + width * (i + 1), sent, failed)
            for i, (sent, failed) in enumerate(counts)]


Shown = tuple[QAbstractBarSeries, list[tuple[float, float]], list[str], float]


def _stacked(chart: QChart, kind: type[QAbstractBarSeries]) -> Shown:
    """A chart's one stacked series of two bar sets as a person reads it: the series, each
    bar's two values, the category labels and the value axis's top."""
    (series,) = chart.series()
    assert isinstance(series, kind)
    first, second = series.barSets()
    categories = next(a for a in chart.axes() if isinstance(a, QBarCategoryAxis))
    values = next(a for a in chart.axes() if isinstance(a, QValueAxis))
    bars = [(first.at(i), second.at(i)) for i in range(first.count())]
    assert second.count() == first.count()
    return series, bars, categories.categories(), values.max()


def shown(charts: OutcomeCharts) -> Shown:
    """The timeline: (sent, failed) per bar."""
    return _stacked(charts.timeline_chart, QStackedBarSeries)


counts_st = st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 500)), min_size=1,
                     max_size=12)


# qtbot only keeps the widgets to close at the end: nothing of it to reset between inputs.
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(polls=st.lists(counts_st, min_size=1, max_size=5))
def test_the_timeline_shows_each_polls_buckets_exactly(qtbot: QtBot,
                                                        polls: list[list[tuple[int, int]]]) -> None:
    charts = OutcomeCharts()
    qtbot.addWidget(charts)
    for poll in polls:
        data = buckets(poll)
        charts.show_outcomes(data, [("bounced", 3)], [])
        fresh = OutcomeCharts()
        qtbot.addWidget(fresh)
        fresh.show_outcomes(data, [("bounced", 3)], [])
        _, bars, labels, top = shown(charts)
        _, fresh_bars, fresh_labels, fresh_top = shown(fresh)
        # In place or not, what is shown is what a chart made for this poll alone shows.
        assert bars == [(float(s), float(f)) for s, f in poll]
        assert (bars, labels, top) == (fresh_bars, fresh_labels, fresh_top)


def test_a_sending_campaigns_timeline_changes_in_place(qtbot: QtBot) -> None:
    charts = OutcomeCharts()
    qtbot.addWidget(charts)
    charts.show_outcomes(buckets([(900, 50), (400, 20)]), [], [])
    first, _, _, _ = shown(charts)
    # The last bar grows and a new one comes: the same series, its values changed.
    charts.show_outcomes(buckets([(900, 50), (950, 40), (7000, 10)]), [], [])
    series, bars, labels, top = shown(charts)
    assert series is first
    assert bars == [(900.0, 50.0), (950.0, 40.0), (7000.0, 10.0)]
    assert len(labels) == 3
    assert top >= 7010
    # Wider bars (the campaign has run longer): the chart is made anew.
    charts.show_outcomes(buckets([(2000, 100), (8000, 20)], seconds=5), [], [])
    series, bars, _, _ = shown(charts)
    assert series is not first
    assert bars == [(2000.0, 100.0), (8000.0, 20.0)]


def reasons_shown(charts: OutcomeCharts) -> Shown:
    """The reasons chart: (failed, skipped) per reason."""
    return _stacked(charts.reasons_chart, QHorizontalStackedBarSeries)


reasons_st = st.lists(st.tuples(st.sampled_from(["bounced", "blocked", "invalid", ""]),
                                st.integers(0, 5000)), max_size=4)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(polls=st.lists(st.tuples(reasons_st, reasons_st), min_size=1, max_size=5))
def test_the_reasons_chart_shows_each_polls_reasons_exactly(
        qtbot: QtBot, polls: list[tuple[list[tuple[str, int]], list[tuple[str, int]]]]) -> None:
    charts = OutcomeCharts()
    qtbot.addWidget(charts)
    data = buckets([(1, 0)])
    for failures, skips in polls:
        charts.show_outcomes(data, failures, skips)
        fresh = OutcomeCharts()
        qtbot.addWidget(fresh)
        fresh.show_outcomes(data, failures, skips)
        # In place or not, what is shown is what a chart made for this poll alone shows.
        assert reasons_shown(charts)[1:] == reasons_shown(fresh)[1:]


def test_a_sending_campaigns_reasons_change_in_place(qtbot: QtBot) -> None:
    charts = OutcomeCharts()
    qtbot.addWidget(charts)
    data = buckets([(1, 0)])
    charts.show_outcomes(data, [("bounced", 40), ("blocked", 3)], [("unsubscribed", 1)])
    first, _, labels, _ = reasons_shown(charts)
    # The counts grow, the order stays: the same series, its values changed.
    charts.show_outcomes(data, [("bounced", 900), ("blocked", 30)], [("unsubscribed", 2)])
    series, bars, same_labels, top = reasons_shown(charts)
    assert series is first
    assert same_labels == labels == ["unsubscribed", "blocked", "bounced"]
    assert bars == [(0.0, 2.0), (30.0, 0.0), (900.0, 0.0)]
    assert top >= 900
    # Two reasons swap places: still in place, the labels follow the bars.
    charts.show_outcomes(data, [("bounced", 900), ("blocked", 30)], [("unsubscribed", 95)])
    series, bars, labels, _ = reasons_shown(charts)
    assert series is first
    assert labels == ["blocked", "unsubscribed", "bounced"]
    assert bars == [(30.0, 0.0), (0.0, 95.0), (900.0, 0.0)]
    # Another reason comes: the chart is made anew.
    charts.show_outcomes(data, [("bounced", 950), ("blocked", 30), ("invalid", 5)],
                         [("unsubscribed", 95)])
    series, bars, labels, _ = reasons_shown(charts)
    assert series is not first
    assert labels == ["invalid", "blocked", "unsubscribed", "bounced"]

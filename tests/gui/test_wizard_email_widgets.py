"""The wizard's split choice gives back what it shows, and shows a saved choice again (a
reopened draft): the state's A/B fields round-trip through the widget."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from minicrm_desktop.services.campaigns.launch import MAX_AB_WAIT_SECONDS
from minicrm_desktop.views.campaigns.wizard.split_choice import WAIT_UNITS, SplitChoice
from tests.examples import examples

# Waits the widget can show: a whole number (up to its spin's 999) of one unit.
WAITS = st.sampled_from([size for _name, size in WAIT_UNITS]).flatmap(
    lambda size: st.integers(0, min(999, MAX_AB_WAIT_SECONDS // size)).map(lambda n: n * size))


def test_a_saved_choice_round_trips(qtbot: QtBot) -> None:
    choice = SplitChoice()
    qtbot.addWidget(choice)

    @settings(max_examples=examples(60), deadline=None)
    @given(share=st.one_of(st.none(), st.integers(1, 99)), wait=WAITS,
           metric=st.sampled_from(["delivered", "engagement"]))
    def check(share: int | None, wait: int, metric: str) -> None:
        choice.restore(share, wait, metric)
        assert choice.test_share() == share
        if share is not None:
            assert choice.wait_seconds() == wait
            assert choice.chosen_metric() == metric

    check()


def test_one_variant_means_the_even_split(qtbot: QtBot) -> None:
    choice = SplitChoice()
    qtbot.addWidget(choice)
    choice.restore(30, 3600, "delivered")
    choice.set_variant_count(1)
    assert choice.test_share() is None
    assert not choice.winner_radio.isEnabled()
    choice.set_variant_count(2)
    choice.set_engagement_available(False)
    choice.restore(30, 60, "engagement")
    choice.set_engagement_available(False)
    assert choice.chosen_metric() == "delivered"

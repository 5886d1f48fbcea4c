"""Suggested variants keep to the objective's facts: a suggestion stating an offer, amount,
percentage or date the objective does not give is dropped, from the model (the real client
against a real HTTP server) and from the offline templates alike."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicrm_desktop.services.ai.config import AIConfig
from minicrm_desktop.services.ai.errors import AIRefused
from minicrm_desktop.services.ai.figures import compare_figures, figures_in, unsupported_figures
from minicrm_desktop.services.ai.variants import (
    CHANNELS,
    INTENTS,
    MIN_VARIANTS,
    TONES,
    offline_variants,
    suggest_variants,
)
from tests.examples import examples

from .fake_openai import FakeOpenAI, Reply

DIWALI = "Diwali 15% offer"
OBJECTIVES = ("Cart reminder", "Win back inactive users", "Welcome new signups",
              "Reward loyal customers", "Diwali sale", "New arrivals", "Ask for feedback",
              "Say hello")


def test_the_seen_case_offline_drops_up_to_40_percent() -> None:
    answer = offline_variants(DIWALI, "email", "friendly")
    texts = [v.text for v in answer.variants]
    assert answer.intent == "festival sale"
    assert len(texts) >= MIN_VARIANTS
    assert not any("40%" in t for t in texts)
    # Without a figure of its own, the objective allows none either.
    assert not any("40%" in v.text for v in offline_variants("Diwali sale").variants)


def test_offline_lines_stating_the_objectives_figure_are_kept() -> None:
    texts = [v.text for v in offline_variants("Diwali sale, up to 40% off").variants]
    assert any("40%" in t for t in texts)
    texts = [v.text for v in offline_variants("Win back lapsed customers with 15% off").variants]
    assert any("15%" in t for t in texts)


def test_the_objectives_cover_every_intent() -> None:
    assert {offline_variants(o).intent for o in OBJECTIVES} == {i.name for i in INTENTS} | {
        "general"}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("tone", TONES)
def test_no_offline_suggestion_states_a_figure_the_objective_lacks(channel: str,
                                                                    tone: str) -> None:
    for objective in OBJECTIVES:
        for wording in (objective, f"{objective} 15% offer", f"{objective} till 31 Oct"):
            answer = offline_variants(wording, channel, tone)
            assert len(answer.variants) >= MIN_VARIANTS, wording
            for v in answer.variants:
                assert unsupported_figures(v.text, wording) == (), (wording, v.text)


def test_figures_are_matched_however_written() -> None:
    assert unsupported_figures("Save ₹5,000 this Oct", "Rs 5000 off until October") == ()
    assert unsupported_figures("Half price, free delivery", "Diwali 15% offer") == (
        "free", "half")
    assert unsupported_figures("Hi {first_name|there}, one of our best", "hello") == ()
    assert unsupported_figures("ends 2 Nov", "ends 1 Nov") == ("2",)
    assert figures_in("Buy one get one, BOGO")["buy one get one"] == 2


@settings(max_examples=examples(50), derandomize=True, deadline=None, database=None)
@given(st.lists(st.sampled_from(["15%", "40%", "₹500", "31 Oct", "free", "gift", "Diwali",
                                 "sale", "5,000", "twenty"]), max_size=6),
       st.lists(st.sampled_from(["15%", "40%", "₹500", "31 Oct", "free", "5000"]), max_size=4))
def test_a_text_made_of_the_objectives_words_never_invents(objective: list[str],
                                                          extra: list[str]) -> None:
    source = " ".join(objective)
    assert unsupported_figures(" and ".join(objective), source) == ()
    text = " ".join([*objective, *extra])
    invented = unsupported_figures(text, source)
    assert set(invented) == set(figures_in(text)) - set(figures_in(source))


def test_summary_check_is_the_same_checker_exactly() -> None:
    assert compare_figures("1,140 of 1,284 (92.2%)", "1,284 and 1,140, 92.2%", exact=True).same
    check = compare_figures("1140 of 1,284", "1,140 of 1,284", exact=True)
    assert check.missing == ("1,140",)
    assert check.extra == ("1140",)


def _answer(*texts: str) -> Reply:
    return Reply.answer({"variants": [{"text": t} for t in texts]})


def test_model_suggestion_with_another_figure_is_dropped(fake_openai: FakeOpenAI,
                                                         ai_config: AIConfig) -> None:
    fake_openai.script(_answer(
        "Hi {first_name|there}, our Diwali 15% offer is here!",
        "Hi {first_name|there}, celebrate with up to 40% off!",
        "Dear {first_name|Customer}, enjoy 15% off this Diwali.",
    ))
    answer = suggest_variants(ai_config, DIWALI, "email", "friendly")
    texts = [v.text for v in answer.variants]
    assert texts == ["Hi {first_name|there}, our Diwali 15% offer is here!",
                     "Dear {first_name|Customer}, enjoy 15% off this Diwali."]
    assert answer.engine == "OpenAI (test-model)"
    assert "1 suggestion left out" in answer.notice
    assert "40" in answer.notice
    assert len(fake_openai.requests) == 1


def test_model_with_too_few_truthful_suggestions_is_asked_again(
        fake_openai: FakeOpenAI, ai_config: AIConfig) -> None:
    fake_openai.script(
        _answer("Up to 40% off for Diwali!", "Diwali: 15% off, ends 31 Oct"),
        _answer("Our Diwali 15% offer is on, {first_name|friend}!",
                "Celebrate Diwali with 15% off."),
    )
    answer = suggest_variants(ai_config, DIWALI, "sms", "friendly")
    assert [v.text for v in answer.variants] == [
        "Our Diwali 15% offer is on, {first_name|friend}!", "Celebrate Diwali with 15% off."]
    repair = fake_openai.user_messages(1)[-1]
    assert "40" in repair
    assert "which the objective does not give" in repair


def test_model_inventing_twice_is_refused(fake_openai: FakeOpenAI,
                                          ai_config: AIConfig) -> None:
    bad = _answer("Up to 40% off!", "Free gift with every order!")
    fake_openai.script(bad, bad)
    with pytest.raises(AIRefused, match="objective does not give"):
        suggest_variants(ai_config, DIWALI, "email")

"""Message variants and campaign summaries: offline templates by intent, and the model's
answers held to the templates' rules and to the real figures."""

from __future__ import annotations

import pytest

from minicrm_desktop.services.ai.config import AIConfig
from minicrm_desktop.services.ai.errors import AIRefused
from minicrm_desktop.services.ai.summary import (
    CampaignFigures,
    VariantFigures,
    numbers_in,
    summarise,
    template_summary,
)
from minicrm_desktop.services.ai.variants import (
    CHANNELS,
    SMS_LIMIT,
    TONES,
    check_variant,
    detect_intent,
    offline_variants,
    sms_length,
    suggest_variants,
)
from minicrm_desktop.services.campaigns.templates import parse_template

from .fake_openai import FakeOpenAI, Reply


@pytest.mark.parametrize(("objective", "intent"), [
    ("Win back inactive users", "win-back"),
    ("Re-engage customers we haven't seen", "win-back"),
    ("Welcome new signups", "welcome"),
    ("Reward our loyal VIPs", "loyalty reward"),
    ("Diwali sale: 30% off", "festival sale"),
    ("Launch of the monsoon collection", "new arrivals"),
    ("Remind people about their abandoned cart", "cart reminder"),
    ("Ask for a review of the last order", "feedback"),
    ("Say hello", "general"),
])
def test_intent_from_the_objective(objective: str, intent: str) -> None:
    assert detect_intent(objective).name == intent


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("tone", TONES)
def test_offline_variants_are_distinct_valid_and_fit(channel: str, tone: str) -> None:
    for objective in ("Win back inactive users", "Diwali sale", "Welcome new signups",
                      "Thank loyal customers", "New arrivals", "Cart reminder", "Feedback",
                      "anything"):
        answer = offline_variants(objective, channel, tone)
        texts = [v.text for v in answer.variants]
        assert 2 <= len(texts) <= 3
        assert len(set(texts)) == len(texts)
        for text in texts:
            template = parse_template(text)  # known tokens only
            assert "first_name" in template.tokens
            if channel == "sms":
                assert sms_length(text) <= SMS_LIMIT, text


def test_model_variants_are_repaired_once(fake_openai: FakeOpenAI, ai_config: AIConfig) -> None:
    fake_openai.script(
        Reply.answer({"variants": [{"text": "Hi {frist_name}, come back!"},
                                   {"text": "Hello {name|friend}!"}]}),
        Reply.answer({"variants": [{"text": "Hi {first_name|there}, come back!"},
                                   {"text": "Hello {name|friend}!"}]}),
    )
    answer = suggest_variants(ai_config, "Win back", "email", "friendly")
    assert [v.text for v in answer.variants] == ["Hi {first_name|there}, come back!",
                                                 "Hello {name|friend}!"]
    assert answer.engine == "OpenAI (test-model)"
    assert "unknown token {frist_name}" in fake_openai.user_messages(1)[-1]


def test_model_sms_variants_too_long_twice_are_refused(fake_openai: FakeOpenAI,
                                                       ai_config: AIConfig) -> None:
    long = {"variants": [{"text": "Hi {first_name|there}, " + "x" * 200},
                         {"text": "Short {city|here}"}]}
    fake_openai.script(Reply.answer(long), Reply.answer(long))
    with pytest.raises(AIRefused, match=f"longer than {SMS_LIMIT} characters"):
        suggest_variants(ai_config, "Sale", "sms")


def test_model_unreachable_gives_offline_templates(fake_openai: FakeOpenAI,
                                                   ai_config: AIConfig) -> None:
    fake_openai.script(Reply.fail(503, "overloaded"))
    answer = suggest_variants(ai_config, "Diwali sale", "sms", "urgent")
    assert answer.engine == "Offline templates"
    assert "HTTP 503" in answer.notice
    assert answer.intent == "festival sale"
    assert all(check_variant(v.text, "sms") is None for v in answer.variants)


FIGURES = CampaignFigures(
    name="Spring", channel="sms", status="completed", audience=1284, sent=1140, failed=96,
    skipped=48, failure_reasons=(("invalid number", 60), ("carrier rejected", 36)),
    skip_reasons=(("unsubscribed", 48),),
    variants=(VariantFigures("A", 560, 60), VariantFigures("B", 580, 36)),
)


def test_template_summary_uses_the_real_figures() -> None:
    text = template_summary(FIGURES)
    assert text == (
        "Spring reached 1,140 of its 1,284 customers (92.2% of the messages tried were "
        "delivered); 96 failed, most because "
        "of \u201cinvalid number\u201d (60); 48 skipped, mostly \u201cunsubscribed\u201d (48). "
        "Variant B did best, with 94.2% delivered.")


def test_summary_of_a_cancelled_campaign_counts_only_the_sent_as_reached() -> None:
    cancelled = CampaignFigures(**{**FIGURES.__dict__, "status": "cancelled", "audience": 14000,
                                   "cancelled": 12716})
    text = template_summary(cancelled)
    assert text.startswith("Spring reached 1,140 of its 14,000 customers")
    assert "12,716 never sent because the campaign was cancelled" in text


def test_summary_of_a_running_campaign_says_it_may_change() -> None:
    running = CampaignFigures(**{**FIGURES.__dict__, "status": "running"})
    assert "may still change" in template_summary(running)


def test_summary_without_a_model_is_the_template() -> None:
    summary = summarise(AIConfig(), FIGURES)
    assert summary.engine == "Built-in template"
    assert summary.text == template_summary(FIGURES)


def test_model_summary_with_a_changed_number_is_not_used(fake_openai: FakeOpenAI,
                                                         ai_config: AIConfig) -> None:
    wrong = template_summary(FIGURES).replace("92.2%", "92%")
    fake_openai.script(Reply.answer({"summary": wrong}), Reply.answer({"summary": wrong}))
    summary = summarise(ai_config, FIGURES)
    assert summary.engine == "Built-in template"
    assert numbers_in(summary.text) == numbers_in(template_summary(FIGURES))
    assert "missing: 92.2%" in fake_openai.user_messages(1)[-1] or \
        "92.2" in fake_openai.user_messages(1)[-1]

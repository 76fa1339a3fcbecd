"""The AI call policy and the masks, as pure rules."""

import pytest

from rules.ai_masking import EMAIL_MASK, mask_emails, maskable
from rules.ai_policy import (
    ALLOWED_MODELS,
    DEFAULT_MODEL,
    MAX_PROMPT_CHARS,
    PURPOSE_MAX_TOKENS,
    TRIMMED_MARK,
    credits_for,
    daily_cap,
    max_tokens_for,
    model_allowed,
    out_of_credits,
    trimmed,
)
from rules.usage import PLAN_LIMITS, ai_credits
from schemas.brain import BrainPurpose, ChatMessage
from schemas.usage import CREDITS_PER_1K_TOKENS


def test_the_allow_list_is_the_price_list_and_holds_the_default() -> None:
    assert DEFAULT_MODEL == "gpt-4o-mini" and model_allowed(DEFAULT_MODEL)
    assert set(ALLOWED_MODELS) == set(CREDITS_PER_1K_TOKENS)
    assert not model_allowed("gpt-5-ultra") and not model_allowed("")


@pytest.mark.parametrize("model", ALLOWED_MODELS)
def test_credits_round_up_per_call_as_monthly_metering_prices_them(model: str) -> None:
    assert credits_for(model, 1) == 1
    assert credits_for(model, 1500) == ai_credits({model: 1500})
    assert credits_for(model, 0) == 0


def test_max_tokens_stay_within_the_purposes_bound() -> None:
    purposes: list[BrainPurpose] = ["draft", "diagnose", "chat", "onboarding", "triage", "suggest"]
    for purpose in purposes:
        bound = PURPOSE_MAX_TOKENS[purpose]
        assert max_tokens_for(purpose, None) == bound
        assert max_tokens_for(purpose, bound * 10) == bound
        assert max_tokens_for(purpose, 7) == 7
        assert max_tokens_for(purpose, 0) == 1


def test_daily_caps_are_below_the_monthly_caps_and_unknown_plans_get_the_free_ones() -> None:
    for plan, limits in PLAN_LIMITS.items():
        monthly, daily = limits["ai_credits"], daily_cap(plan)
        assert (daily is None) == (monthly is None)
        assert daily is None or monthly is None or 0 < daily < monthly
    assert daily_cap("no-such-plan") == daily_cap("free")


def test_a_cap_is_reached_at_its_value_and_none_is_unlimited() -> None:
    assert out_of_credits(10, 10) and out_of_credits(11, 10)
    assert not out_of_credits(9, 10) and not out_of_credits(10**9, None)


def test_a_prompt_within_the_bound_is_sent_unchanged() -> None:
    messages = [ChatMessage(role="system", content="rules"), ChatMessage(role="user", content="question")]

    assert trimmed(messages) == messages


def test_an_oversized_prompt_loses_the_end_of_its_longest_message_only() -> None:
    system = ChatMessage(role="system", content="s" * 1000)
    context = ChatMessage(role="user", content="c" * (MAX_PROMPT_CHARS * 2))
    question = ChatMessage(role="user", content="why did it fail?")

    sent = trimmed([system, context, question])

    assert sum(len(m.content) for m in sent) == MAX_PROMPT_CHARS
    assert sent[0] == system and sent[2] == question
    assert sent[1].content.endswith(TRIMMED_MARK) and sent[1].content.startswith("ccc")
    assert context.content == "c" * (MAX_PROMPT_CHARS * 2)  # the caller's messages are not changed


def test_many_long_messages_are_all_cut_until_they_fit() -> None:
    messages = [ChatMessage(role="user", content=str(i) * 1000) for i in range(10)]

    sent = trimmed(messages, limit=3000)

    assert sum(len(m.content) for m in sent) <= 3000
    assert len(sent) == 10


@pytest.mark.parametrize(
    "text",
    [
        "mail ada@example.com now",
        "to: Jane.Doe+billing@sub.example.co.uk,",
        "<o'brien@mail-host.example.org>",
        "x_y-z@a1.io",
    ],
)
def test_email_addresses_are_masked(text: str) -> None:
    masked = mask_emails(text)

    assert EMAIL_MASK in masked and "@" not in masked


def test_text_without_addresses_is_left_alone() -> None:
    text = "Use {{ secrets.TOKEN }} at https://api.example.com/v1?x=@home, decorators like @retry stay"

    assert mask_emails(text) == text


def test_very_short_secret_values_are_not_masked() -> None:
    assert maskable({"PIN": "123", "TOKEN": "abcd", "EMPTY": ""}) == {"TOKEN": "abcd"}

"""Sorting a ticket without the AI: category, priority and sentiment by keywords, and the category's suggested
reply from the catalogs."""

import pytest

from core.i18n import render
from rules.support_triage import SUGGESTED_REPLIES, triage_by_keywords


@pytest.mark.parametrize(
    ("subject", "body", "category"),
    [
        ("Invoice", "I was charged twice this month", "billing"),
        ("Login", "I cannot log in to my account", "account"),
        ("Runs", "My workflow fails with an error since yesterday", "bug"),
        ("Idea", "It would be nice to have a Slack step", "feature_request"),
        ("Schedules", "How do I pause a schedule?", "how_to"),
        ("Hello", "Just saying hi", "other"),
        ("Factura", "Me cobraron dos veces en la factura", "billing"),
        ("エラー", "ワークフローでエラーが出ます", "bug"),
    ],
)
def test_the_category_follows_the_tickets_words(subject: str, body: str, category: str) -> None:
    assert triage_by_keywords(subject, body).category == category


def test_an_outage_is_urgent_a_blocked_customer_high_and_a_wish_low() -> None:
    assert triage_by_keywords("Down", "Production is down, please help asap").priority == "urgent"
    assert triage_by_keywords("Stuck", "I am unable to publish my workflow").priority == "high"
    assert triage_by_keywords("Idea", "A feature suggestion for the editor").priority == "low"
    assert triage_by_keywords("Schedules", "How do I pause a schedule?").priority == "normal"


def test_an_angry_billing_ticket_is_negative_and_high() -> None:
    triage = triage_by_keywords("Refund", "This is unacceptable, you charged my card again")

    assert triage.sentiment == "negative"
    assert (triage.category, triage.priority) == ("billing", "high")


def test_thanks_read_as_positive() -> None:
    assert triage_by_keywords("Thanks", "Thank you, the new editor is great").sentiment == "positive"


def test_keywords_match_whole_words_only() -> None:
    assert triage_by_keywords("Downloads", "Where do I find the cardinal settings?").priority == "normal"
    assert triage_by_keywords("Downloads", "Where do I find the cardinal settings?").category != "billing"


def test_every_category_suggests_a_reply_in_the_customers_language() -> None:
    triage = triage_by_keywords("Invoice", "Wrong invoice")

    assert triage.suggested_reply is SUGGESTED_REPLIES["billing"]
    assert render(triage.suggested_reply, "es").startswith("Gracias por escribirnos")
    assert render(triage.suggested_reply, "ja") != render(triage.suggested_reply, "en")

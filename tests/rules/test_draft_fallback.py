"""The drafter without AI and the checks of a draft: the closest template by keyword, a name from the request, the
validator's report and what to fill in; literal credentials refused where they hide."""

import pytest

from core.i18n import render
from language.validation import validate_definition
from rules.draft_checks import draft_report, literal_secret_issues, repair_request
from rules.draft_fallback import draft_name, fallback_draft, ranked_templates
from rules.draft_prompt import draft_messages, draft_response_schema


@pytest.mark.parametrize(
    ("prompt", "template"),
    [
        (
            "When someone fills in the website form, add the lead to our CRM and send a welcome e-mail",
            "lead-capture-crm",
        ),
        ("Remind customers about unpaid invoices a few days after they are due", "invoice-payment-reminder"),
        ("Check every five minutes that our site is up and e-mail me when it is down", "uptime-check-alert"),
        ("Classify incoming support tickets with AI and send billing ones to finance", "support-ticket-triage"),
        ("Post a message in our Slack channel when a big deal closes", "team-chat-notification"),
        ("Approve refunds before the money goes back to the customer", "refund-approval"),
        ("Email me yesterday's sales numbers every morning", "scheduled-report-email"),
        ("Recordar a los clientes sus facturas pendientes", "invoice-payment-reminder"),
        ("Relance les paniers abandonnés au bout d'une heure", "abandoned-cart-recovery"),
    ],
)
def test_the_drafter_picks_the_template_of_the_use_case(prompt: str, template: str) -> None:
    ranked = ranked_templates(prompt)

    assert ranked[0][0].id == template


def test_a_fallback_draft_is_the_template_named_after_the_request_and_valid() -> None:
    draft = fallback_draft("Refund approvals for our shop, please", "free", "ai_off")

    assert draft.template is not None and draft.template.id == "refund-approval"
    assert draft.definition["name"] == "Refund approvals for our shop, please"
    assert draft.definition["steps"] == draft.template.definition["steps"]
    assert draft.report.valid
    assert validate_definition(draft.definition, "free")[0].valid


def test_the_explanation_names_the_template_the_secrets_and_the_urls_in_the_readers_language() -> None:
    draft = fallback_draft("Refund approvals", "pro", "credits_exhausted")

    spanish = " ".join(render(sentence, "es") for sentence in draft.explanation)

    assert "créditos de IA" in spanish
    assert "«Refund with an approval gate»" in spanish
    assert "PAYMENTS_TOKEN" in spanish and "payments.example.com" in spanish
    assert "order_id, amount, customer_email, reason" in spanish


def test_a_request_no_template_fits_gets_a_valid_single_step_draft() -> None:
    draft = fallback_draft("xyzzy plugh", "free", "provider_failed")

    assert draft.template is None
    assert draft.report.valid
    assert [step["type"] for step in draft.definition["steps"]] == ["log"]


def test_the_name_leaves_out_email_addresses_and_stays_short() -> None:
    name = draft_name("when ada@example.net signs up " + "and then something else " * 10, None)

    assert "@" not in name
    assert name.startswith("When [email] signs up")
    assert len(name) <= 81 and name.endswith("…")


@pytest.mark.parametrize(
    ("step", "path"),
    [
        ({"headers": {"Authorization": "Bearer sk-proj-abcdefghijklmnop"}}, "$.steps[0].headers.Authorization"),
        ({"headers": {"X-Api-Key": "3f9a8b7c6d5e"}}, "$.steps[0].headers['X-Api-Key']"),
        ({"url": "https://api.example.com/items?api_key=3f9a8b7c6d5e"}, "$.steps[0].url"),
        ({"url": "https://admin:hunter2@api.example.com/items"}, "$.steps[0].url"),
        ({"json": {"stripe": "sk_live_abcdefghijkl"}}, "$.steps[0].json.stripe"),
    ],
)
def test_a_literal_credential_is_a_literal_secret_error_at_its_path(step: dict[str, object], path: str) -> None:
    definition = {
        "name": "x",
        "steps": [{"id": "call", "type": "http_request", "url": "https://api.example.com", **step}],
    }

    report = draft_report(definition, "enterprise")

    assert not report.valid
    assert [(issue.path, issue.code) for issue in report.errors] == [(path, "literal_secret")]


def test_secret_references_and_plain_headers_are_no_literal_credentials() -> None:
    step = {
        "id": "call",
        "type": "http_request",
        "url": "https://api.example.com/items?key={{ secrets.API_KEY }}&page=2",
        "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}", "Idempotency-Key": "order-{{ input.id }}"},
    }

    assert literal_secret_issues({"name": "x", "steps": [step]}) == []


def test_the_repair_request_lists_every_error_with_its_path() -> None:
    report = draft_report({"name": "x", "steps": [{"id": "call", "type": "http_request", "url": "nowhere"}]}, "free")

    request = repair_request(report)

    assert "- $.steps[0].url (invalid_value):" in request


def test_the_models_brief_holds_the_plan_rules_examples_and_language() -> None:
    system, user = draft_messages("Remind customers of unpaid invoices", "free", "Japanese (ja)")

    assert user.content == "Remind customers of unpaid invoices"
    assert '"name": "Invoice payment reminders"' in system.content
    assert "Write the explanation in Japanese (ja)" in system.content
    assert "http_request:POST" in system.content and "{{ secrets.NAME }}" in system.content


def test_the_answer_schema_is_the_definition_languages_schema_and_an_explanation() -> None:
    schema = draft_response_schema()

    assert schema["required"] == ["definition", "explanation"]
    assert "steps" in schema["properties"]["definition"]["properties"]
    assert {"HttpStep", "ApprovalStep", "AiStep"} <= set(schema["$defs"])

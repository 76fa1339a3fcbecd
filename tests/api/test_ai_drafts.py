"""POST /api/ai/workflows/draft and GET /api/templates through the real app: a draft in the asked or the reader's
language, the template draft when AI is off, unset or out of credits (asking no AI), 422 for bad bodies."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.main import create_app
from core.ai_credits import day_of
from core.settings import Settings
from schemas.tables import AiCreditDay
from tests.api.tenancy import new_tenant
from tests.api.toggling import set_toggles, toggles_restored  # noqa: F401  (the fixture)
from tests.conftest import founder_headers
from tests.fakes.openai import FakeOpenAI, Reply

DRAFT = "/api/ai/workflows/draft"
VALID = {
    "name": "Tell the team",
    "steps": [{"id": "tell", "type": "log", "message": "a new order arrived"}],
}


@pytest.fixture(scope="module")
def keyless_api(api: TestClient, settings: Settings) -> Iterator[TestClient]:
    """An app without OPENAI_API_KEY, on the session app's worker (which would answer if anyone asked it)."""
    keyless = settings.model_copy(update={"openai_api_key": None, "api_embedded_worker": False})
    with TestClient(create_app(keyless)) as client:
        yield client


def reply(explanation: str = "Logs each new order.") -> Reply:
    return Reply(content={"definition": VALID, "explanation": explanation})


def test_a_draft_is_answered_with_its_report_and_explanation_masks_addresses_and_stores_nothing(
    api: TestClient, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(api, plan="pro", name="Drafter")
    fake_openai.script(reply("Registra cada pedido nuevo."), match="pangolindraft")

    answer = api.post(
        DRAFT,
        json={"prompt": "pangolindraft: log new orders for ada@example.net", "language": "es"},
        headers=tenant.member,
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"], body["rounds"]) == ("ai", None, 1)
    assert body["definition"] == VALID and body["report"] == {"valid": True, "errors": [], "warnings": []}
    assert body["explanation"] == "Registra cada pedido nuevo." and body["credits"] >= 1
    [request] = fake_openai.requests_matching("pangolindraft")
    assert "Write the explanation in Spanish (es)" in request["messages"][0]["content"]
    assert "ada@example.net" not in json.dumps(request) and "[email]" in request["messages"][1]["content"]
    assert api.get("/api/workflows", headers=tenant.member).json() == []


def test_the_explanation_defaults_to_the_readers_language(api: TestClient, fake_openai: FakeOpenAI) -> None:
    tenant = new_tenant(api, plan="pro", name="Leitor")
    fake_openai.script(reply(), match="tapirlocale")

    answer = api.post(
        DRAFT, json={"prompt": "tapirlocale: log new orders"}, headers={**tenant.member, "Accept-Language": "pt-BR"}
    )

    assert answer.status_code == 200, answer.text
    [request] = fake_openai.requests_matching("tapirlocale")
    assert "Write the explanation in Portuguese (Brazil) (pt-BR)" in request["messages"][0]["content"]


@pytest.mark.usefixtures("toggles_restored")
def test_with_ai_switched_off_the_draft_comes_from_a_template_and_no_ai_is_asked(
    api: TestClient, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(api, plan="pro", name="Switched off")
    set_toggles(api, ai_features=False)

    answer = api.post(
        DRAFT,
        json={"prompt": "okapioff: remind customers about unpaid invoices", "language": "it"},
        headers=tenant.admin,
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"], body["credits"]) == ("fallback", "ai_off", 0)
    assert body["template"] == "invoice-payment-reminder" and body["report"]["valid"] is True
    assert body["explanation"].startswith("Le funzioni di IA sono disattivate")
    assert "BILLING_TOKEN" in body["explanation"]
    assert fake_openai.requests_matching("okapioff") == []


def test_without_an_api_key_the_draft_comes_from_a_template_and_no_ai_is_asked(
    keyless_api: TestClient, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(keyless_api, plan="pro", name="Keyless")

    answer = keyless_api.post(DRAFT, json={"prompt": "lemurkey: refund approvals"}, headers=tenant.admin)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"], body["template"]) == (
        "fallback",
        "not_configured",
        "refund-approval",
    )
    assert fake_openai.requests_matching("lemurkey") == []


def test_out_of_ai_credits_answers_429_with_the_template_draft_under_fallback(
    api: TestClient, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(api, plan="free", name="Spent drafts")
    with Session(engine) as session:
        session.add(AiCreditDay(tenant_id=tenant.id, day=day_of(datetime.now(UTC)), credits=10))
        session.commit()

    answer = api.post(DRAFT, json={"prompt": "gerbilcredits: uptime check of our site"}, headers=tenant.admin)

    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert body["code"] == "ai_credits_exhausted"
    fallback = body["fallback"]
    assert (fallback["source"], fallback["fallback_reason"]) == ("fallback", "credits_exhausted")
    assert fallback["template"] == "uptime-check-alert" and fallback["report"]["valid"] is True
    assert fake_openai.requests_matching("gerbilcredits") == []


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "invalid_request", "body.prompt"),
        ({"prompt": ""}, "invalid_request", "body.prompt"),
        ({"prompt": 42}, "invalid_request", "body.prompt"),
        ({"prompt": "x" * 2_001}, "invalid_request", "body.prompt"),
        ({"prompt": "   \n "}, "empty_prompt", "body.prompt"),
        ({"prompt": "log orders", "language": "tlh"}, "unknown_language", "body.language"),
        ({"prompt": "log orders", "language": "x" * 36}, "invalid_request", "body.language"),
    ],
)
def test_bad_bodies_answer_422_with_the_field(api: TestClient, body: dict[str, Any], code: str, field: str) -> None:
    tenant = new_tenant(api, plan="pro", name="Bad bodies")

    answer = api.post(DRAFT, json=body, headers=tenant.member)

    assert answer.status_code == 422, answer.text
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)


def test_drafting_needs_a_tenant(api: TestClient) -> None:
    assert api.post(DRAFT, json={"prompt": "log orders"}).status_code == 401
    answer = api.post(DRAFT, json={"prompt": "log orders"}, headers=founder_headers())
    assert (answer.status_code, answer.json()["code"]) == (403, "tenant_key_required")


def test_the_template_library_is_listed_and_read_by_id(api: TestClient) -> None:
    tenant = new_tenant(api, plan="free", name="Browsing")

    listed = api.get("/api/templates", headers=tenant.member)
    one = api.get("/api/templates/weekly-digest-ai", headers=tenant.member)
    unknown = api.get("/api/templates/no-such-template", headers=tenant.member)

    assert listed.status_code == 200 and 15 <= len(listed.json()) <= 20
    assert one.status_code == 200 and one.json()["title"] == "Weekly digest with an AI summary"
    assert one.json() in listed.json()
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["field"]) == (
        404,
        "template_not_found",
        "template_id",
    )
    assert api.get("/api/templates").status_code == 401

"""POST /api/ai/chat and GET /api/ai/knowledge through the real app: answers citing the passages they used, the
passages under why when the AI is off, unset, out of credits or failing (never a 500), the tenant's own context
only, and bounded input."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.main import create_app
from core.ai_credits import add_ai_credits
from core.settings import Settings
from domain.knowledge import sync_knowledge
from tests.api.tenancy import new_tenant, new_workflow
from tests.api.toggling import set_toggles, toggles_restored  # noqa: F401  (the fixture)
from tests.conftest import founder_headers
from tests.fakes.openai import FakeOpenAI, Reply

CHAT = "/api/ai/chat"
README = Path(__file__).resolve().parents[2] / "README.md"
SECRETS = "How do I store a secret and use it in an HTTP request step?"


@pytest.fixture(scope="module", autouse=True)
def knowledge(api: TestClient, engine: Engine) -> None:
    """The passages the app syncs at start-up, there before the first question (the sync is idempotent)."""
    sync_knowledge(engine, README)


@pytest.fixture(scope="module")
def keyless_api(api: TestClient, settings: Settings) -> Iterator[TestClient]:
    """An app without OPENAI_API_KEY, on the session app's worker."""
    keyless = settings.model_copy(update={"openai_api_key": None, "api_embedded_worker": False})
    with TestClient(create_app(keyless)) as client:
        yield client


def top_passage(api: TestClient, headers: dict[str, str], query: str) -> dict[str, str]:
    found = api.get("/api/ai/knowledge", params={"q": query, "limit": 3}, headers=headers)
    assert found.status_code == 200, found.text
    return found.json()["passages"][0]


def test_an_answer_cites_the_passage_it_used(api: TestClient, fake_openai: FakeOpenAI) -> None:
    tenant = new_tenant(api, plan="pro", name="Asker")
    question = f"{SECRETS} quokkachat"
    top = top_passage(api, tenant.member, question)
    fake_openai.script(
        Reply(content={"answer": "Usa PUT /api/secrets/NAME.", "cited": [top["id"]]}), match="quokkachat"
    )

    answer = api.post(CHAT, json={"question": question, "language": "es"}, headers=tenant.member)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"], body["answer"]) == ("ai", None, "Usa PUT /api/secrets/NAME.")
    [citation] = body["citations"]
    assert (citation["passage_id"], citation["title"], citation["url"]) == (top["id"], top["title"], top["url"])
    assert "`es`" in fake_openai.requests_matching("quokkachat")[-1]["messages"][0]["content"]


@pytest.mark.usefixtures("toggles_restored")
def test_with_ai_switched_off_the_chat_answers_with_the_passages_and_asks_no_ai(
    api: TestClient, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(api, plan="pro", name="Switched off")
    set_toggles(api, "test: AI off", ai_features=False)

    answer = api.post(CHAT, json={"question": f"{SECRETS} quokkaoff"}, headers=tenant.member)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"], body["credits"]) == ("fallback", "ai_off", 0)
    assert body["citations"] and all(c["url"].startswith("/app/help/knowledge/") for c in body["citations"])
    assert body["answer"].startswith("The AI assistant is switched off")
    assert fake_openai.requests_matching("quokkaoff") == []


def test_without_an_api_key_the_chat_answers_in_the_readers_language(
    keyless_api: TestClient, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(keyless_api, plan="pro", name="Keyless")
    headers = {**tenant.member, "Accept-Language": "fr"}

    answer = keyless_api.post(CHAT, json={"question": f"{SECRETS} quokkakeyless"}, headers=headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"]) == ("fallback", "not_configured")
    assert body["answer"].startswith("L'assistant IA n'est pas configuré") and body["citations"]
    assert fake_openai.requests_matching("quokkakeyless") == []


def test_a_failing_provider_gets_the_passages_not_a_500(api: TestClient, fake_openai: FakeOpenAI) -> None:
    tenant = new_tenant(api, plan="pro", name="Unlucky")
    fake_openai.script(Reply(status=500), Reply(status=502), Reply(status=503), match="quokkadown")

    answer = api.post(CHAT, json={"question": f"{SECRETS} quokkadown"}, headers=tenant.member)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"]) == ("fallback", "provider_failed")
    assert body["citations"]
    assert len(fake_openai.requests_matching("quokkadown")) == 3


def test_a_tenant_out_of_credits_gets_429_with_the_fallback(
    api: TestClient, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(api, plan="free", name="Spent chat")
    with engine.begin() as connection:
        add_ai_credits(connection, tenant.id, 1_000)

    answer = api.post(CHAT, json={"question": f"{SECRETS} quokkaspent"}, headers=tenant.member)

    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert body["code"] == "ai_credits_exhausted"
    assert (body["fallback"]["source"], body["fallback"]["fallback_reason"]) == ("fallback", "credits_exhausted")
    assert body["fallback"]["citations"]
    assert fake_openai.requests_matching("quokkaspent") == []


def test_another_tenants_workflow_in_the_context_is_not_found(api: TestClient, fake_openai: FakeOpenAI) -> None:
    owner, stranger = new_tenant(api, name="Owner"), new_tenant(api, name="Stranger")
    workflow_id = new_workflow(api, owner, {"id": "say", "type": "log", "message": "hi"}, name="Quokkasecretflow")

    answer = api.post(
        CHAT,
        json={"question": "Why does this fail? quokkaforeign", "context": {"workflow_id": workflow_id}},
        headers=stranger.admin,
    )

    assert answer.status_code == 404
    assert (answer.json()["code"], answer.json()["field"]) == ("workflow_not_found", "workflow_id")
    assert fake_openai.requests_matching("quokkaforeign") == []


def test_the_own_workflow_in_the_context_reaches_the_ai_and_no_other_tenants(
    api: TestClient, fake_openai: FakeOpenAI
) -> None:
    owner, other = new_tenant(api, name="Owner ctx"), new_tenant(api, name="Other ctx")
    step = {"id": "say", "type": "log", "message": "hi"}
    workflow_id = new_workflow(api, owner, step, name="Quokkaownflow")
    new_workflow(api, other, step, name="Quokkaotherflow")
    fake_openai.script(Reply(content={"answer": "It logs hi.", "cited": []}), match="quokkactx")

    answer = api.post(
        CHAT,
        json={"question": "What does this do? quokkactx", "context": {"workflow_id": workflow_id, "page": "/app"}},
        headers=owner.member,
    )

    assert answer.status_code == 200, answer.text
    sent = str(fake_openai.requests_matching("quokkactx")[-1])
    assert "Quokkaownflow" in sent and "Quokkaotherflow" not in sent


def test_another_tenants_run_in_the_context_is_not_found(api: TestClient) -> None:
    stranger = new_tenant(api, name="Run stranger")

    answer = api.post(
        CHAT, json={"question": "Why?", "context": {"run_id": "not-a-run-of-mine"}}, headers=stranger.member
    )

    assert answer.status_code == 404
    assert answer.json()["code"] == "run_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "x" * 2_001}, "body.question"),
        ({"question": ""}, "body.question"),
        ({"question": "   "}, "body.question"),
        ({}, "body.question"),
        ({"question": "hi", "language": "xx-nope"}, "body.language"),
        ({"question": "hi", "context": {"page": "p" * 201}}, "body.context.page"),
        ({"question": "hi", "context": {"workflow_id": "w" * 65}}, "body.context.workflow_id"),
    ],
)
def test_a_bad_question_is_refused_with_its_field(api: TestClient, body: dict[str, object], field: str) -> None:
    tenant = new_tenant(api, name="Bounded")

    answer = api.post(CHAT, json=body, headers=tenant.member)

    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_the_founder_asks_for_no_tenant(api: TestClient) -> None:
    answer = api.post(CHAT, json={"question": "hello"}, headers=founder_headers())

    assert answer.status_code == 403
    assert answer.json()["code"] == "tenant_key_required"


def test_the_knowledge_base_is_searched_and_read_by_passage(api: TestClient) -> None:
    tenant = new_tenant(api, name="Reader")

    found = api.get("/api/ai/knowledge", params={"q": "approval class founder gate"}, headers=tenant.member)
    first = found.json()["passages"][0]
    read = api.get(f"/api/ai/knowledge/{first['id']}", headers=tenant.member)
    missing = api.get("/api/ai/knowledge/readme-no-such-passage", headers=tenant.member)

    assert found.status_code == 200 and found.json()["query"] == "approval class founder gate"
    assert read.status_code == 200 and read.json() == first
    assert (missing.status_code, missing.json()["code"]) == (404, "passage_not_found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "a" * 201}, "query.q"),
        ({"q": ""}, "query.q"),
        ({"q": "gate", "limit": 21}, "query.limit"),
        ({}, "query.q"),
    ],
)
def test_a_bad_knowledge_search_is_refused_with_its_field(
    api: TestClient, params: dict[str, str | int], field: str
) -> None:
    tenant = new_tenant(api, name="Searcher")

    answer = api.get("/api/ai/knowledge", params=params, headers=tenant.member)

    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_search_syntax_through_the_api_never_errors(api: TestClient) -> None:
    tenant = new_tenant(api, name="Syntax")

    answers = [
        api.get("/api/ai/knowledge", params={"q": q}, headers=tenant.member)
        for q in ('"open', "NEAR(a b)", "title:gate", "*", "!!!", "a OR AND NOT", "-gate +x")
    ]

    assert [a.status_code for a in answers] == [200] * 7

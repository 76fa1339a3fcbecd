"""HelpChat on the real Temporal server, the real database and the fake OpenAI: answers that cite the passages they
used, the search results under a reason when the AI cannot, and a tenant context that stays the tenant's."""

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from activities.help_texts import REASONS
from core.i18n import render
from domain.knowledge import search_knowledge, sync_knowledge
from orchestrator.help_chat import HelpChat
from schemas.brain import ChatContext, ChatPublic, HelpChatInput
from schemas.tables import Tenant, WorkflowDefinitionRow, WorkflowVersionRow
from tests.fakes.openai import FakeOpenAI, Reply

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET_QUESTION = "How do I store a secret and use it in an HTTP request step?"


@pytest.fixture(scope="module", autouse=True)
def knowledge(engine: Engine) -> None:
    sync_knowledge(engine, README)


def new_tenant(engine: Engine, name: str) -> str:
    with Session(engine) as session:
        tenant = Tenant(name=name, plan="enterprise")
        session.add(tenant)
        session.commit()
        return tenant.id


def add_workflow(engine: Engine, tenant_id: str, name: str, steps: list[dict[str, object]]) -> str:
    with Session(engine) as session:
        row = WorkflowDefinitionRow(tenant_id=tenant_id, name=name)
        session.add(row)
        session.flush()
        session.add(WorkflowVersionRow(definition_id=row.id, version=1, body={"name": name, "steps": steps}))
        session.commit()
        return row.id


async def ask(client: Client, queue: str, params: HelpChatInput) -> ChatPublic:
    return await client.execute_workflow(HelpChat.run, params, id=f"test-chat-{uuid.uuid4()}", task_queue=queue)


def chat(question: str, **fields: object) -> HelpChatInput:
    return HelpChatInput.model_validate({"tenant_id": "no-tenant", "question": question, "language": "en", **fields})


async def test_an_answer_cites_the_retrieved_passages_it_used_and_drops_made_up_ids(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    question = f"{SECRET_QUESTION} zqcitehelp"
    top = search_knowledge(engine, question, limit=5)[0]
    answer = {"answer": "Store it with PUT /api/secrets/NAME.", "cited": [top.id, "readme-made-up", top.id]}
    fake_openai.script(Reply(content=answer), match="zqcitehelp")

    result = await ask(client, worker_queue, chat(question))

    assert (result.source, result.fallback_reason) == ("ai", None)
    assert result.answer == "Store it with PUT /api/secrets/NAME."
    assert [c.passage_id for c in result.citations] == [top.id]
    assert result.citations[0].url == f"/app/help/knowledge/{top.id}" and result.citations[0].excerpt
    sent = json.dumps(fake_openai.requests_matching("zqcitehelp")[-1])
    assert f"[{top.id}]" in sent and "`en`" in sent


async def test_the_provider_failing_answers_with_the_passages_found_and_why(
    client: Client, worker_queue: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*[Reply(status=503) for _ in range(3)], match="zqdownhelp")

    result = await ask(client, worker_queue, chat(f"{SECRET_QUESTION} zqdownhelp"))

    assert (result.source, result.fallback_reason, result.credits) == ("fallback", "provider_failed", 0)
    assert 1 <= len(result.citations) <= 3
    assert result.answer.startswith(str(REASONS["provider_failed"]))
    assert all(citation.title in result.answer for citation in result.citations)


async def test_a_refusal_answers_with_the_passages_found(
    client: Client, worker_queue: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(refusal="I cannot help with that"), match="zqrefusehelp")

    result = await ask(client, worker_queue, chat(f"{SECRET_QUESTION} zqrefusehelp"))

    assert (result.source, result.fallback_reason) == ("fallback", "refused")
    assert result.citations


async def test_an_empty_answer_is_not_passed_off_as_the_ais(
    client: Client, worker_queue: str, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(content={"answer": "  ", "cited": []}), match="zqemptyhelp")

    result = await ask(client, worker_queue, chat(f"{SECRET_QUESTION} zqemptyhelp"))

    assert (result.source, result.fallback_reason) == ("fallback", "invalid_answer")


async def test_a_known_reason_asks_no_ai_and_answers_in_the_requested_language(
    client: Client, worker_queue: str, fake_openai: FakeOpenAI
) -> None:
    params = chat(f"{SECRET_QUESTION} zqnokeyhelp", fallback_reason="not_configured").model_copy(
        update={"language": "es"}
    )

    result = await ask(client, worker_queue, params)

    assert (result.source, result.fallback_reason) == ("fallback", "not_configured")
    assert fake_openai.requests_matching("zqnokeyhelp") == []
    spanish = render(REASONS["not_configured"], "es")
    assert spanish != str(REASONS["not_configured"]) and result.answer.startswith(spanish)


async def test_a_question_about_my_workflows_tells_the_ai_only_the_tenants_own_masked(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    mine, theirs = new_tenant(engine, "Mine"), new_tenant(engine, "Theirs")
    steps: list[dict[str, object]] = [
        {"id": "fetch", "type": "http_request", "url": "https://api.example.com/v1/orders?token=zqleakvalue"},
        {"id": "notify", "type": "email", "to": ["boss@mine.example"], "subject": "s", "body": "b"},
    ]
    own = add_workflow(engine, mine, "Zqownflow orders", steps)
    add_workflow(engine, theirs, "Zqforeignflow payroll", steps)
    fake_openai.script(Reply(content={"answer": "Your workflow fetches orders.", "cited": []}), match="zqmineask")

    result = await ask(client, worker_queue, chat("What do my workflows do? zqmineask", tenant_id=mine))

    sent = json.dumps(fake_openai.requests_matching("zqmineask")[-1])
    assert "Zqownflow orders" in sent and own in sent and "api.example.com" in sent
    assert "Zqforeignflow" not in sent
    assert "zqleakvalue" not in sent and "/v1/orders" not in sent and "boss@mine.example" not in sent
    assert (result.source, result.citations) == ("ai", [])


async def test_a_general_question_sends_no_tenant_context(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(engine, "Quiet")
    add_workflow(engine, tenant, "Zqquietflow", [{"id": "say", "type": "log", "message": "hi"}])
    fake_openai.script(Reply(content={"answer": "Like this.", "cited": []}), match="zqgeneralask")

    await ask(client, worker_queue, chat(f"{SECRET_QUESTION} zqgeneralask", tenant_id=tenant))
    named = chat("What is wrong here? zqnamedask", tenant_id=tenant, context=ChatContext(page="/app/workflows"))
    fake_openai.script(Reply(content={"answer": "Nothing.", "cited": []}), match="zqnamedask")
    await ask(client, worker_queue, named)

    assert "Zqquietflow" not in json.dumps(fake_openai.requests_matching("zqgeneralask")[-1])
    assert "/app/workflows" in json.dumps(fake_openai.requests_matching("zqnamedask")[-1])

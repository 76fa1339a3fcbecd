"""The `ai` step's fallback, and the AI policy applied to its call: a step whose AI call fails for good answers its
fallback text or asks its fallback model, and says it fell back; a step without one still fails. The step's prompt
is masked, its model must be allowed, and a tenant out of daily AI credits sends nothing."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowFailureError

from core.ai_credits import credit_status, day_of
from core.security import SecretBox
from core.settings import Settings
from schemas.runs import RunResult
from schemas.tables import AiCreditDay, Tenant, TenantSecret
from tests.api.tenancy import new_tenant as new_api_tenant
from tests.fakes.openai import FakeOpenAI, Reply
from tests.orchestrator.runs import make_run, outcome, start

FAILING = (Reply(status=500), Reply(status=500), Reply(status=500))


def new_tenant(
    engine: Engine, plan: str = "pro", secret: tuple[str, str] | None = None, box: SecretBox | None = None
) -> str:
    with Session(engine) as session:
        tenant = Tenant(name="Steps", plan=plan)
        session.add(tenant)
        session.flush()
        if secret is not None and box is not None:
            session.add(TenantSecret(tenant_id=tenant.id, name=secret[0], ciphertext=box.seal(secret[1])))
        session.commit()
        return tenant.id


async def test_a_text_fallback_answers_when_the_ai_fails_for_good(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*FAILING, match="quetzaltext")
    run = make_run(
        {"id": "ask", "type": "ai", "prompt": "quetzaltext: summarise", "fallback": {"text": "No summary today."}},
        tenant_id=new_tenant(engine),
    )

    result: RunResult = await (await start(client, worker_queue, run)).result()

    assert result.status == "completed"
    step = outcome(result, "ask")
    assert step.result == {
        "text": "No summary today.",
        "model": "fallback",
        "fallback": True,
        "fallback_error": "AiTransientError",
    }
    assert step.attempts == 3
    assert len(fake_openai.requests_matching("quetzaltext")) == 3


async def test_a_model_fallback_asks_the_other_model(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(status=400), match="toucanmodel")
    run = make_run(
        {
            "id": "ask",
            "type": "ai",
            "prompt": "toucanmodel: classify",
            "model": "gpt-4o",
            "fallback": {"model": "gpt-4.1-mini"},
        },
        tenant_id=new_tenant(engine),
    )

    result: RunResult = await (await start(client, worker_queue, run)).result()

    step = outcome(result, "ask")
    assert step.result["model"] == "gpt-4.1-mini" and step.result["fallback"] is True
    assert step.result["text"] == "echo: toucanmodel: classify"
    assert step.result["fallback_error"] == "AiRequestRejected"
    assert [r["model"] for r in fake_openai.requests_matching("toucanmodel")] == ["gpt-4o", "gpt-4.1-mini"]
    assert step.attempts == 2


async def test_a_model_fallback_that_fails_too_fails_the_step(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(status=400), Reply(status=400), match="kiwifails")
    run = make_run(
        {"id": "ask", "type": "ai", "prompt": "kiwifails", "fallback": {"model": "gpt-4o"}},
        tenant_id=new_tenant(engine),
    )

    with pytest.raises(WorkflowFailureError):
        await (await start(client, worker_queue, run)).result()

    assert len(fake_openai.requests_matching("kiwifails")) == 2


async def test_a_step_without_fallback_still_fails(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(status=400), match="emufails")
    run = make_run({"id": "ask", "type": "ai", "prompt": "emufails"}, tenant_id=new_tenant(engine))

    with pytest.raises(WorkflowFailureError):
        await (await start(client, worker_queue, run)).result()


async def test_a_tenant_out_of_daily_credits_gets_the_fallback_without_a_request(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, plan="free")
    with Session(engine) as session:
        session.add(AiCreditDay(tenant_id=tenant_id, day=day_of(datetime.now(UTC)), credits=10))
        session.commit()
    run = make_run(
        {"id": "ask", "type": "ai", "prompt": "heronbroke", "fallback": {"text": "Later."}}, tenant_id=tenant_id
    )

    result: RunResult = await (await start(client, worker_queue, run)).result()

    assert outcome(result, "ask").result["fallback_error"] == "AiCreditsExhausted"
    assert fake_openai.requests_matching("heronbroke") == []


async def test_an_ai_steps_prompt_is_masked_and_its_credits_count_today(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI, settings: Settings
) -> None:
    assert settings.levqor_secrets_key is not None
    box = SecretBox(settings.levqor_secrets_key.get_secret_value())
    tenant_id = new_tenant(engine, secret=("CRM_TOKEN", "crm-4d1f-secret-value"), box=box)
    fake_openai.script(Reply(content="done", prompt_tokens=1500, completion_tokens=500), match="ibismask")
    run = make_run(
        {"id": "ask", "type": "ai", "prompt": "ibismask: greet {{ input.email }} using {{ input.token }}"},
        input={"email": "grace.hopper@navy.example", "token": "crm-4d1f-secret-value"},
        tenant_id=tenant_id,
    )

    await (await start(client, worker_queue, run)).result()

    [request] = fake_openai.requests_matching("ibismask")
    assert request["messages"][0]["content"] == "ibismask: greet [email] using ***"
    with Session(engine) as session:
        assert credit_status(session, tenant_id).daily_used == 2


async def test_an_ai_step_with_a_model_off_the_allow_list_fails_without_a_request(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    run = make_run(
        {"id": "ask", "type": "ai", "prompt": "condorbanned", "model": "gpt-3-davinci"}, tenant_id=new_tenant(engine)
    )

    with pytest.raises(WorkflowFailureError) as caught:
        await (await start(client, worker_queue, run)).result()

    assert "not allowed" in str(caught.value.cause)
    assert fake_openai.requests_matching("condorbanned") == []


def test_a_fallback_names_an_allowed_model_or_a_text(api: TestClient) -> None:
    tenant = new_api_tenant(api, plan="pro", name="Fallbacks")
    step = {"id": "ask", "type": "ai", "prompt": "hi"}

    bad_model = api.post(
        "/api/workflows", json={"name": "f", "steps": [{**step, "fallback": {"model": "gpt-9"}}]}, headers=tenant.admin
    )
    empty_text = api.post(
        "/api/workflows", json={"name": "f", "steps": [{**step, "fallback": {"text": ""}}]}, headers=tenant.admin
    )
    good = api.post(
        "/api/workflows", json={"name": "f", "steps": [{**step, "fallback": {"model": "gpt-4o"}}]}, headers=tenant.admin
    )

    assert bad_model.status_code == 422 and "gpt-9" in bad_model.json()["message"]
    assert bad_model.json()["field"].startswith("$.steps[0].fallback")
    assert empty_text.status_code == 422 and empty_text.json()["field"].startswith("$.steps[0].fallback")
    assert good.status_code == 201, good.text

"""WorkflowDraft on the real dev server against the fake provider: structured outputs, the repair loop with the
validator's report, and the template draft when the AI cannot (a known reason, a refusal, failures, three invalid
drafts). Each test's prompt carries a word of its own, which its scripted replies match."""

import uuid
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from language.validation import validate_definition
from orchestrator.workflow_draft import WorkflowDraft
from rules.ai_policy import credits_for
from schemas.brain import DraftInput, DraftPublic, FallbackReason
from schemas.tables import Tenant
from tests.fakes.openai import FakeOpenAI, Reply

VALID: dict[str, Any] = {
    "name": "Ping the CRM",
    "steps": [
        {
            "id": "ping",
            "type": "http_request",
            "url": "https://crm.example.com/api/ping",
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
        },
        {"id": "done", "type": "log", "message": "pinged {{ steps.ping.status }}"},
    ],
}
BAD_URL: dict[str, Any] = {"name": "Ping the CRM", "steps": [{"id": "ping", "type": "http_request", "url": "crm ping"}]}


def new_tenant(engine: Engine, plan: str = "enterprise") -> str:
    tenant_id = str(uuid.uuid4())
    with Session(engine) as session:
        session.add(Tenant(id=tenant_id, name="Drafty", plan=plan))
        session.commit()
    return tenant_id


async def draft(
    client: Client,
    queue: str,
    tenant_id: str,
    prompt: str,
    language: str = "en",
    reason: FallbackReason | None = None,
) -> DraftPublic:
    params = DraftInput(
        tenant_id=tenant_id, plan="enterprise", prompt=prompt, language=language, fallback_reason=reason
    )
    return await client.execute_workflow(WorkflowDraft.run, params, id=f"test-draft-{uuid.uuid4()}", task_queue=queue)


def answer(definition: dict[str, Any], tokens: int = 1_000) -> Reply:
    return Reply(
        content={"definition": definition, "explanation": "Pings the CRM."}, prompt_tokens=tokens, completion_tokens=0
    )


async def test_an_invalid_draft_goes_back_with_its_report_and_the_repair_is_answered(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(answer(BAD_URL, tokens=1_500), answer(VALID, tokens=2_500), match="quokkarepair")

    result = await draft(client, worker_queue, new_tenant(engine), "quokkarepair: ping our CRM")

    assert (result.source, result.fallback_reason, result.rounds) == ("ai", None, 2)
    assert result.definition == VALID and result.report.valid
    assert result.explanation == "Pings the CRM."
    assert result.credits == credits_for("gpt-4o-mini", 1_500) + credits_for("gpt-4o-mini", 2_500)
    first, second = fake_openai.requests_matching("quokkarepair")
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert '"crm ping"' in second["messages"][2]["content"]
    assert "$.steps[0].url (invalid_value)" in second["messages"][3]["content"]
    assert first["response_format"]["type"] == "json_schema"
    schema = first["response_format"]["json_schema"]["schema"]
    assert "steps" in schema["properties"]["definition"]["properties"]


async def test_three_invalid_drafts_answer_the_template_draft_never_an_invalid_one(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*(answer(BAD_URL) for _ in range(3)), match="wombatinvalid")

    result = await draft(client, worker_queue, new_tenant(engine), "wombatinvalid: refund approvals for our shop")

    assert (result.source, result.fallback_reason, result.rounds) == ("fallback", "invalid_answer", 0)
    assert result.template == "refund-approval"
    assert result.report.valid and result.report.errors == []
    assert validate_definition(result.definition, "enterprise")[0].valid
    assert result.credits == 3 * credits_for("gpt-4o-mini", 1_000)
    assert len(fake_openai.requests_matching("wombatinvalid")) == 3


async def test_a_literal_credential_in_a_draft_is_an_error_the_loop_repairs(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    leaky = {
        "name": "Ping the CRM",
        "steps": [{**VALID["steps"][0], "headers": {"Authorization": "Bearer sk-proj-abcdefghijklmnopqrst"}}],
    }
    fake_openai.script(answer(leaky), answer(VALID), match="numbatleak")

    result = await draft(client, worker_queue, new_tenant(engine), "numbatleak: ping our CRM")

    assert (result.source, result.rounds) == ("ai", 2)
    assert result.definition["steps"][0]["headers"] == {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"}
    repair = fake_openai.requests_matching("numbatleak")[1]["messages"][-1]["content"]
    assert "$.steps[0].headers.Authorization (literal_secret)" in repair


async def test_a_refusal_answers_the_template_draft(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(refusal="I cannot help with that."), match="dingorefuse")

    result = await draft(client, worker_queue, new_tenant(engine), "dingorefuse: weekly digest of our sales")

    assert (result.source, result.fallback_reason) == ("fallback", "refused")
    assert result.report.valid and result.template is not None
    assert len(fake_openai.requests_matching("dingorefuse")) == 1


async def test_server_errors_after_the_retries_answer_the_template_draft(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*(Reply(status=503) for _ in range(3)), match="bilbyfail")

    result = await draft(client, worker_queue, new_tenant(engine), "bilbyfail: uptime check of our site")

    assert (result.source, result.fallback_reason, result.credits) == ("fallback", "provider_failed", 0)
    assert result.template == "uptime-check-alert"
    assert len(fake_openai.requests_matching("bilbyfail")) == 3


async def test_a_reason_known_before_asking_sends_nothing_to_the_model(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    result = await draft(client, worker_queue, new_tenant(engine), "possumoff: refund approvals", "de", "ai_off")

    assert (result.source, result.fallback_reason) == ("fallback", "ai_off")
    assert result.explanation.startswith("KI-Funktionen sind vorerst ausgeschaltet")
    assert fake_openai.requests_matching("possumoff") == []


async def test_the_explanations_language_is_passed_to_the_model(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(answer(VALID), match="koalalang")

    result = await draft(client, worker_queue, new_tenant(engine), "koalalang: ping our CRM", language="ja")

    assert result.source == "ai"
    [request] = fake_openai.requests_matching("koalalang")
    assert "Write the explanation in Japanese (ja)" in request["messages"][0]["content"]


async def test_the_drafts_report_reads_in_the_requested_language(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    plain = {**VALID, "steps": [{**VALID["steps"][0], "url": "http://crm.example.com/api/ping"}, VALID["steps"][1]]}
    fake_openai.script(answer(plain), match="emulang")

    result = await draft(client, worker_queue, new_tenant(engine), "emulang: ping our CRM", language="fr")

    assert (result.source, result.report.valid) == ("ai", True)
    [warning] = result.report.warnings
    assert (warning.path, warning.code) == ("$.steps[0].url", "plain_http")
    assert warning.message == "`url` utilise http:// non chiffré ; préférez https://."

"""RunDiagnosis and AutoRecovery's use of it on the real dev server, with the fake OpenAI: the AI's patch is checked
against the stored version and kept; the rules answer when the AI cannot; AutoRecovery's suggestion becomes the
AI's cause and fix, marked as the AI's, and stays the rules' when the AI cannot answer."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from orchestrator.run_diagnosis import RunDiagnosis
from rules.failure_categories import AI_SUGGESTION_PREFIX, SUGGESTIONS
from schemas.brain import DiagnosisInput, DiagnosisResult, FailureFacts
from schemas.runs import RunInput
from schemas.tables import AiFix, FailureEntry
from tests.fakes.openai import FakeOpenAI, Reply
from tests.orchestrator.test_auto_recovery import recover, stored_run


def stored_failure(engine: Engine, word: str) -> tuple[RunInput, FailureEntry]:
    """A stored definition whose HTTP step failed with a 503 (its URL carries `word`), and its queue entry."""
    step = {"id": "call", "type": "http_request", "url": f"https://crm.example.com/{word}"}
    run = stored_run(engine, str(uuid.uuid4()), step)
    now = datetime.now(UTC)
    entry = FailureEntry(
        tenant_id=run.tenant_id,
        run_id=run.run_id,
        definition_id=run.definition_id,
        version=1,
        step_id="call",
        error_type="HttpServerError",
        message=f"GET https://crm.example.com/{word} answered 503",
        attempts=3,
        first_failed_at=now,
        last_failed_at=now,
    )
    with Session(engine, expire_on_commit=False) as session:
        session.add(entry)
        session.commit()
    return run, entry


def diagnosis_input(run: RunInput, word: str, **fields: Any) -> DiagnosisInput:
    facts = FailureFacts(
        run_id=run.run_id,
        status="failed",
        definition_id=run.definition_id,
        version=1,
        step_id="call",
        step_type="http_request",
        error_type="HttpServerError",
        error_message=f"GET https://crm.example.com/{word} answered 503",
        attempts=3,
        http_status=503,
        definition=run.definition,
    )
    return DiagnosisInput(tenant_id=run.tenant_id, plan="pro", language="en", facts=facts, **fields)


async def diagnose(client: Client, queue: str, params: DiagnosisInput) -> DiagnosisResult:
    return await client.execute_workflow(RunDiagnosis.run, params, id=f"diagnosis-{uuid.uuid4()}", task_queue=queue)


def answer(patch: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "category": "target_5xx",
        "cause": "The CRM is down for maintenance",
        "explanation": "It answers 503 during its nightly window.",
        "summary": "Retry the call up to 6 times",
        "patch": patch,
    }


RETRY = [{"op": "add", "path": "/steps/0/retry", "value": {"max_attempts": 6}}]


async def test_the_ais_patch_is_checked_against_the_stored_version_and_kept(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    word = f"mend{uuid.uuid4().hex[:10]}"
    run, _ = stored_failure(engine, word)
    fake_openai.script(Reply(content=answer(RETRY)), match=word)

    result = await diagnose(client, worker_queue, diagnosis_input(run, word))

    assert (result.source, result.rounds, result.fix_valid) == ("ai", 1, True)
    assert result.summary == "Retry the call up to 6 times" and result.credits > 0
    with Session(engine) as session:
        fix = session.get(AiFix, result.fix_id)
    assert fix is not None and fix.patch == RETRY and fix.source == "ai" and fix.report["valid"]


async def test_the_rules_answer_without_asking_when_the_caller_says_the_ai_cannot(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    word = f"mend{uuid.uuid4().hex[:10]}"
    run, _ = stored_failure(engine, word)

    result = await diagnose(client, worker_queue, diagnosis_input(run, word, fallback_reason="credits_exhausted"))

    assert (result.source, result.fallback_reason, result.category) == ("fallback", "credits_exhausted", "target_5xx")
    assert result.fix_valid and result.fix_id is not None and "503" in result.cause
    assert fake_openai.requests_matching(word) == []


async def test_a_fix_not_kept_when_the_caller_says_so(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    word = f"mend{uuid.uuid4().hex[:10]}"
    run, _ = stored_failure(engine, word)

    result = await diagnose(client, worker_queue, diagnosis_input(run, word, fallback_reason="ai_off", store_fix=False))

    assert result.fix_valid and result.fix_id is None
    with Session(engine) as session:
        assert session.exec(select(AiFix).where(AiFix.run_id == run.run_id)).all() == []


async def test_autorecovery_suggests_the_ais_cause_and_fix_marked_as_the_ais(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    word = f"mend{uuid.uuid4().hex[:10]}"
    run, entry = stored_failure(engine, word)
    fake_openai.script(Reply(content=answer(RETRY)), match=word)

    await recover(client, worker_queue, tenant_id=run.tenant_id)

    with Session(engine) as session:
        assessed = session.get_one(FailureEntry, entry.id)
    assert assessed.category == "target_5xx"
    assert assessed.suggestion == f"{AI_SUGGESTION_PREFIX}The CRM is down for maintenance Retry the call up to 6 times"
    assert len(fake_openai.requests_matching(word)) == 1

    await recover(client, worker_queue, tenant_id=run.tenant_id)

    assert len(fake_openai.requests_matching(word)) == 1  # diagnosed once, not every cycle


async def test_autorecovery_keeps_the_rules_suggestion_when_the_ai_cannot_answer(
    client: Client, worker_queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    word = f"mend{uuid.uuid4().hex[:10]}"
    run, entry = stored_failure(engine, word)
    fake_openai.script(Reply(status=500), Reply(status=500), Reply(status=500), match=word)

    await recover(client, worker_queue, tenant_id=run.tenant_id)

    with Session(engine) as session:
        assessed = session.get_one(FailureEntry, entry.id)
    assert assessed.suggestion == SUGGESTIONS["target_5xx"]

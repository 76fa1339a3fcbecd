"""Before launch a marketing run sends nothing without the founder: it waits at the campaign review gate, and a
rejected (or expired) review lets it finish as a dry run whose outbound steps record what they would have sent.
After launch, and for operations runs at any stage, runs send as they always did."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.usage import UsageActivities
from language.purpose import CAMPAIGN_REVIEW_ID
from orchestrator.user_run import CAMPAIGN_REVIEW_TIMEOUT_S, UserWorkflowRun
from orchestrator.worker import WORKFLOW_RUNNER
from schemas.runs import RunInput, RunResult, StepDecision
from schemas.toggles import LaunchStage
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.orchestrator.runs import make_run, outcome, start, until_progress


def campaign(target: str, recipient: str, path: str, purpose: str, stage: LaunchStage | None) -> RunInput:
    """A campaign: read the list (GET, never held back), draft the text (AI), e-mail it, post it to the CRM."""
    run = make_run(
        {"id": "read_list", "type": "http_request", "url": target + "/json"},
        {"id": "draft", "type": "ai", "prompt": "Write a launch teaser for {{ input.product }}"},
        {
            "id": "announce",
            "type": "email",
            "to": [recipient],
            "subject": "Meet {{ input.product }}",
            "body": "{{ steps.draft.text }}",
        },
        {
            "id": "push",
            "type": "http_request",
            "method": "POST",
            "url": target + path,
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
            "json": {"product": "{{ input.product }}", "count": "{{ steps.read_list.body.value }}"},
        },
        input={"product": "Levqor"},
    )
    definition = {**run.definition, "purpose": purpose}
    return run.model_copy(update={"definition": definition, "launch_stage": stage})


def founder(approved: bool) -> StepDecision:
    return StepDecision(step_id=CAMPAIGN_REVIEW_ID, approved=approved, decided_by="founder", role="founder")


def mail_to(smtp: SmtpSink, recipient: str) -> list[Any]:
    return [mail for mail in smtp.messages if recipient in mail.rcpt_tos]


async def review(handle: WorkflowHandle) -> Any:
    return await until_progress(handle, lambda p: p.waiting is not None and p.waiting.step_id == CAMPAIGN_REVIEW_ID)


async def test_rejected_review_finishes_the_run_as_a_dry_run_that_sends_nothing(
    client: Client, worker_queue: str, target_server: TargetServer, smtp_sink: SmtpSink
) -> None:
    recipient, path = f"lead-{uuid.uuid4().hex[:8]}@example.com", f"/echo/{uuid.uuid4().hex}"
    handle = await start(client, worker_queue, campaign(target_server.url, recipient, path, "marketing", "pre-launch"))

    waiting = await review(handle)
    await handle.execute_update(UserWorkflowRun.decide_step, founder(approved=False))
    result = RunResult.model_validate(await handle.result())

    assert waiting.status == "waiting_approval" and waiting.waiting.approval_class == "C"
    assert [s.step_id for s in waiting.steps] == ["read_list", "draft", CAMPAIGN_REVIEW_ID]
    assert f'E-mail "Meet Levqor" to {recipient} (step announce)' in waiting.waiting.message
    assert f"POST {target_server.url}{path} (step push)" in waiting.waiting.message
    assert result.status == "completed"
    assert outcome(result, CAMPAIGN_REVIEW_ID).status == "rejected"
    announce, push = outcome(result, "announce"), outcome(result, "push")
    assert (announce.status, push.status) == ("dry_run", "dry_run")
    assert announce.result["preview"]["to"] == [recipient]
    assert announce.result["preview"]["subject"] == "Meet Levqor"
    assert announce.result["preview"]["body"] == outcome(result, "draft").result["text"]
    assert push.result["preview"]["method"] == "POST"
    assert push.result["preview"]["url"] == target_server.url + path
    assert push.result["preview"]["headers"]["Authorization"] == "Bearer ***"
    assert push.result["preview"]["json"] == {"product": "Levqor", "count": 42}
    assert mail_to(smtp_sink, recipient) == []
    assert target_server.calls_to(path) == []


async def test_approved_review_sends_the_campaign_for_real(
    client: Client, worker_queue: str, target_server: TargetServer, smtp_sink: SmtpSink
) -> None:
    recipient, path = f"lead-{uuid.uuid4().hex[:8]}@example.com", f"/echo/{uuid.uuid4().hex}"
    run = campaign(target_server.url, recipient, path, "marketing", "pre-launch")
    run.definition["steps"][3]["headers"] = {}  # the recorder's worker has no secrets to resolve
    handle = await start(client, worker_queue, run)

    await review(handle)
    await handle.execute_update(UserWorkflowRun.decide_step, founder(approved=True))
    result = RunResult.model_validate(await handle.result())

    assert result.status == "completed"
    assert outcome(result, CAMPAIGN_REVIEW_ID).status == "approved"
    assert (outcome(result, "announce").status, outcome(result, "push").status) == ("succeeded", "succeeded")
    assert len(mail_to(smtp_sink, recipient)) == 1
    assert [call.method for call in target_server.calls_to(path)] == ["POST"]


@pytest.mark.parametrize(
    ("purpose", "stage"),
    [("marketing", "post-launch"), ("marketing", None), ("operations", "pre-launch")],
    ids=["marketing-after-launch", "marketing-admitted-before-stages", "operations-before-launch"],
)
async def test_runs_the_stage_does_not_govern_send_without_a_review(
    client: Client,
    worker_queue: str,
    target_server: TargetServer,
    smtp_sink: SmtpSink,
    purpose: str,
    stage: LaunchStage | None,
) -> None:
    recipient, path = f"lead-{uuid.uuid4().hex[:8]}@example.com", f"/echo/{uuid.uuid4().hex}"
    run = campaign(target_server.url, recipient, path, purpose, stage)
    run.definition["steps"][3]["headers"] = {}

    result = RunResult.model_validate(await (await start(client, worker_queue, run)).result())

    assert result.status == "completed"
    assert [s.step_id for s in result.steps] == ["read_list", "draft", "announce", "push"]
    assert len(mail_to(smtp_sink, recipient)) == 1
    assert len(target_server.calls_to(path)) == 1


async def test_a_review_nobody_decides_expires_after_three_days_and_the_run_finishes_dry(
    skipping_env: WorkflowEnvironment, engine: Engine
) -> None:
    run = campaign("https://crm.example", "x@example.com", "/leads", "marketing", "pre-launch")
    run.definition["steps"] = run.definition["steps"][2:]  # the e-mail and the POST: no activity runs before them
    queue = f"skip-{uuid.uuid4()}"
    before = await skipping_env.get_current_time()

    async with Worker(
        skipping_env.client,
        task_queue=queue,
        workflows=[UserWorkflowRun],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[UsageActivities(engine).record_usage],
        activity_executor=ThreadPoolExecutor(4),
    ):
        result = RunResult.model_validate(await (await start(skipping_env.client, queue, run)).result())

    assert await skipping_env.get_current_time() - before >= timedelta(seconds=CAMPAIGN_REVIEW_TIMEOUT_S)
    assert result.status == "completed"
    assert outcome(result, CAMPAIGN_REVIEW_ID).result["decided_by"] == "timeout"
    assert [s.status for s in result.steps] == ["rejected", "dry_run", "dry_run"]


async def test_cancelling_a_run_at_its_campaign_review_cancels_it(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    run = campaign(target_server.url, "x@example.com", f"/echo/{uuid.uuid4().hex}", "marketing", "pre-launch")
    handle = await start(client, worker_queue, run)
    await review(handle)

    await handle.cancel()

    with pytest.raises(WorkflowFailureError):
        await handle.result()
    progress = await handle.query(UserWorkflowRun.progress)
    assert progress.status == "cancelled"
    assert outcome(progress, CAMPAIGN_REVIEW_ID).status == "cancelled"

"""Waits of days, at their real length, on Temporal's time-skipping test server."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.usage import UsageActivities
from orchestrator.user_run import UserWorkflowRun
from orchestrator.worker import WORKFLOW_RUNNER
from schemas.runs import RunResult
from starters.runs import start_run
from tests.orchestrator.runs import make_run, outcome

THREE_DAYS = 3 * 24 * 3600
THIRTY_DAYS = 30 * 24 * 3600


async def run_to_end(env: WorkflowEnvironment, engine: Engine, *steps: dict) -> RunResult:
    queue = f"skip-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[UserWorkflowRun],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[UsageActivities(engine).record_usage],
        activity_executor=ThreadPoolExecutor(4),
    ):
        handle = await start_run(env.client, make_run(*steps), queue, eager=False)
        return await handle.result()


async def test_thirty_day_delay_completes_after_thirty_days(skipping_env: WorkflowEnvironment, engine: Engine) -> None:
    before = await skipping_env.get_current_time()

    result = await run_to_end(
        skipping_env,
        engine,
        {"id": "wait", "type": "delay", "seconds": THIRTY_DAYS},
        {"id": "after", "type": "log", "message": "a month later"},
    )

    elapsed = await skipping_env.get_current_time() - before
    assert result.status == "completed"
    assert elapsed >= timedelta(days=30)
    assert outcome(result, "after").finished_at - outcome(result, "wait").started_at >= timedelta(days=30)


async def test_three_day_approval_timeout_rejects_after_three_days(
    skipping_env: WorkflowEnvironment, engine: Engine
) -> None:
    result = await run_to_end(
        skipping_env,
        engine,
        {
            "id": "gate",
            "type": "approval",
            "class": "C",
            "message": "Refund?",
            "timeout_s": THREE_DAYS,
            "on_timeout": "reject",
        },
    )

    gate = outcome(result, "gate")
    assert result.status == "rejected"
    assert gate.result["decided_by"] == "timeout"
    assert timedelta(days=3) <= gate.finished_at - gate.started_at < timedelta(days=3, minutes=1)

"""Building and driving `UserWorkflowRun` in tests."""

import uuid
from typing import Any

from temporalio.client import Client, WorkflowHandle

from language.steps import WorkflowDefinition
from orchestrator.user_run import UserWorkflowRun
from schemas.runs import RetryDefaults, RunInput, RunProgress
from starters.runs import start_run
from tests.conftest import until

FAST_RETRIES = RetryDefaults(initial_interval_s=0.05, max_interval_s=0.2, max_attempts=3)


def make_run(*steps: dict[str, Any], input: dict[str, Any] | None = None, tenant_id: str = "tenant-a") -> RunInput:
    definition = WorkflowDefinition.model_validate({"name": "test run", "steps": list(steps)})
    return RunInput(
        run_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        definition_id="definition-1",
        version=1,
        definition=definition.model_dump(mode="json"),
        input=input or {},
        retry_defaults=FAST_RETRIES,
    )


async def start(client: Client, queue: str, run: RunInput) -> WorkflowHandle:
    return await start_run(client, run, queue, eager=False)


async def until_progress(handle: WorkflowHandle, check: Any, timeout_s: float = 15) -> RunProgress:
    return await until(lambda: handle.query(UserWorkflowRun.progress), check, timeout_s)


def outcome(progress: Any, step_id: str) -> Any:
    return next(step for step in progress.steps if step.step_id == step_id)

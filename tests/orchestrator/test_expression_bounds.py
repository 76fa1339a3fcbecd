"""An expression over the sandbox's bounds fails its step for good, inside the real worker."""

import pytest
from temporalio.client import Client, WorkflowFailureError

from orchestrator.user_run import UserWorkflowRun
from tests.orchestrator.runs import make_run, outcome, start


async def test_an_expensive_expression_fails_its_step_without_retry(client: Client, worker_queue: str) -> None:
    run = make_run(
        {"id": "pad", "type": "transform", "set": {"wide": "input.word.ljust(input.width)"}},
        {"id": "after", "type": "log", "message": "never"},
        input={"word": "a", "width": 10**10},
    )
    handle = await start(client, worker_queue, run)

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    progress = await handle.query(UserWorkflowRun.progress)
    failed = outcome(progress, "pad")
    assert progress.status == "failed"
    assert failed.error is not None and failed.error.type == "ExpressionTooExpensive"
    assert failed.attempts == 1
    assert [step.step_id for step in progress.steps] == ["pad"]

"""Approval gates: who may decide each class, rejections, and what a timeout does."""

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from orchestrator.user_run import UserWorkflowRun
from schemas.runs import RunResult, StepDecision
from tests.orchestrator.runs import make_run, outcome, start, until_progress


def gate(approval_class: str, timeout_s: float = 600, on_timeout: str = "reject") -> dict:
    return {
        "id": "gate",
        "type": "approval",
        "class": approval_class,
        "message": "Ship it?",
        "timeout_s": timeout_s,
        "on_timeout": on_timeout,
    }


def decision(role: str, approved: bool = True, step_id: str = "gate") -> StepDecision:
    return StepDecision(step_id=step_id, approved=approved, decided_by=f"{role}-key", role=role)


async def waiting_run(client: Client, queue: str, approval_class: str) -> WorkflowHandle:
    handle = await start(client, queue, make_run(gate(approval_class), {"id": "done", "type": "log", "message": "ok"}))
    await until_progress(handle, lambda p: p.waiting is not None)
    return handle


async def test_class_a_gate_passes_on_its_own(client: Client, worker_queue: str) -> None:
    result: RunResult = await (await start(client, worker_queue, make_run(gate("A")))).result()

    assert outcome(result, "gate").status == "approved"
    assert outcome(result, "gate").result["decided_by"] == "auto"


@pytest.mark.parametrize(("approval_class", "role"), [("B", "tenant_admin"), ("B", "founder"), ("C", "founder")])
async def test_gate_approved_by_an_allowed_role_continues(
    client: Client, worker_queue: str, approval_class: str, role: str
) -> None:
    handle = await waiting_run(client, worker_queue, approval_class)

    await handle.execute_update(UserWorkflowRun.decide_step, decision(role))

    result: RunResult = await handle.result()
    assert result.status == "completed"
    assert [s.status for s in result.steps] == ["approved", "succeeded"]


@pytest.mark.parametrize(("approval_class", "role"), [("B", "member"), ("C", "member"), ("C", "tenant_admin")])
async def test_gate_refuses_a_caller_without_the_role(
    client: Client, worker_queue: str, approval_class: str, role: str
) -> None:
    handle = await waiting_run(client, worker_queue, approval_class)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(UserWorkflowRun.decide_step, decision(role))

    assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "RoleNotAllowed"
    waiting = (await handle.query(UserWorkflowRun.progress)).waiting
    assert waiting is not None and waiting.step_id == "gate"
    await handle.cancel()


@pytest.mark.parametrize("approval_class", ["B", "C"])
async def test_rejected_gate_ends_the_run_as_rejected(client: Client, worker_queue: str, approval_class: str) -> None:
    handle = await waiting_run(client, worker_queue, approval_class)

    await handle.execute_update(UserWorkflowRun.decide_step, decision("founder", approved=False))

    result: RunResult = await handle.result()
    assert result.status == "rejected"
    assert [s.step_id for s in result.steps] == ["gate"]


async def test_deciding_a_step_that_is_not_waiting_is_refused(client: Client, worker_queue: str) -> None:
    handle = await waiting_run(client, worker_queue, "B")

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(UserWorkflowRun.decide_step, decision("founder", step_id="done"))

    assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "StepNotWaiting"
    await handle.cancel()


@pytest.mark.parametrize(("on_timeout", "status"), [("approve", "completed"), ("reject", "rejected")])
async def test_gate_timeout_acts_as_configured(client: Client, worker_queue: str, on_timeout: str, status: str) -> None:
    run = make_run(gate("B", timeout_s=0.5, on_timeout=on_timeout))

    result: RunResult = await (await start(client, worker_queue, run)).result()

    assert result.status == status
    assert outcome(result, "gate").result["decided_by"] == "timeout"


async def test_gate_timeout_with_fail_fails_the_run(client: Client, worker_queue: str) -> None:
    handle = await start(client, worker_queue, make_run(gate("C", timeout_s=0.5, on_timeout="fail")))

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    progress = await handle.query(UserWorkflowRun.progress)
    assert progress.error is not None and progress.error.type == "ApprovalExpired"
    assert outcome(progress, "gate").status == "failed"

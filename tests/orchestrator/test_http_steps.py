"""How `UserWorkflowRun` runs an HTTP step: a budgeted local first attempt for safe methods, a regular
activity after it and for unsafe methods, and an update's answer that never waits for the call."""

import uuid

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from orchestrator.user_run import UserWorkflowRun
from schemas.runs import RunResult, StepDecision
from tests.conftest import until
from tests.fakes.target import TargetServer
from tests.orchestrator.runs import make_run, outcome, start, until_progress


async def scheduled_activities(handle: WorkflowHandle) -> int:
    """The HTTP calls the run scheduled as regular activities."""
    history = await handle.fetch_history()
    return sum(
        event.activity_task_scheduled_event_attributes.activity_type.name == "http_request"
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    )


async def markers(handle: WorkflowHandle) -> list[str]:
    history = await handle.fetch_history()
    return [
        event.marker_recorded_event_attributes.marker_name
        for event in history.events
        if event.HasField("marker_recorded_event_attributes")
    ]


async def test_a_quick_get_stays_one_local_activity(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    handle = await start(
        client, worker_queue, make_run({"id": "fetch", "type": "http_request", "url": target_server.url + "/json"})
    )

    result: RunResult = await handle.result()

    assert outcome(result, "fetch").status == "succeeded" and outcome(result, "fetch").attempts == 1
    assert await scheduled_activities(handle) == 0
    assert await markers(handle) == ["core_local_activity"]


async def test_a_slow_get_goes_on_as_a_regular_activity_and_counts_both_attempts(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    name = uuid.uuid4().hex
    run = make_run({"id": "fetch", "type": "http_request", "url": target_server.url + f"/stall-once/{name}?seconds=1"})

    result: RunResult = await (handle := await start(client, worker_queue, run)).result()

    calls = target_server.calls_to(f"/stall-once/{name}")
    assert outcome(result, "fetch").status == "succeeded"
    assert outcome(result, "fetch").attempts == 2 and outcome(result, "fetch").error is None
    assert len(calls) == 2 and {call.headers["idempotency-key"] for call in calls} == {f"{run.run_id}:fetch"}
    assert await scheduled_activities(handle) == 1


async def test_a_failing_get_retries_as_a_regular_activity_and_reports_every_attempt(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    run = make_run({"id": "fetch", "type": "http_request", "url": target_server.url + "/status/502?case=retry"})
    handle = await start(client, worker_queue, run)

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    progress = await handle.query(UserWorkflowRun.progress)
    step = outcome(progress, "fetch")
    assert (step.status, step.attempts, step.error.type) == ("failed", 3, "HttpServerError")
    # Three requests, unless a very busy worker cut the local attempt off before it sent its request.
    assert len([c for c in target_server.calls_to("/status/502") if c.query.get("case") == "retry"]) in (2, 3)
    assert await scheduled_activities(handle) == 1


async def test_a_client_error_on_the_local_attempt_ends_the_step(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    run = make_run({"id": "fetch", "type": "http_request", "url": target_server.url + "/status/404?case=local"})
    handle = await start(client, worker_queue, run)

    with pytest.raises(WorkflowFailureError):
        await handle.result()

    progress = await handle.query(UserWorkflowRun.progress)
    # One attempt, or two when a very busy worker cut the local one off at its budget; never the third the
    # step's policy allows, since a 404 is not retried.
    assert progress.error is not None and progress.error.type == "HttpClientError"
    assert outcome(progress, "fetch").attempts == 1 + await scheduled_activities(handle) <= 2


async def test_a_post_is_a_regular_activity_and_is_sent_once_even_when_slow(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    name = uuid.uuid4().hex
    run = make_run(
        {
            "id": "push",
            "type": "http_request",
            "method": "POST",
            "url": target_server.url + f"/stall-once/{name}?seconds=0.5",
        }
    )

    result: RunResult = await (handle := await start(client, worker_queue, run)).result()

    assert outcome(result, "push").attempts == 1
    assert len(target_server.calls_to(f"/stall-once/{name}")) == 1
    assert await scheduled_activities(handle) == 1


async def test_a_decision_is_answered_before_the_http_step_after_the_gate_ends(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    run = make_run(
        {"id": "gate", "type": "approval", "class": "B", "message": "Ship?"},
        {"id": "fetch", "type": "http_request", "url": target_server.url + "/slow?seconds=2"},
    )
    handle = await start(client, worker_queue, run)
    await until_progress(handle, lambda p: p.waiting is not None)
    # The gate's e-mail to its approvers is out of the way (this tenant has none to write to); a decision made
    # while it is still out waits for it in a task of its own, after which the step may take its local attempt.
    await until(lambda: handle.describe(), lambda d: not d.raw_description.pending_activities)

    await handle.execute_update(
        UserWorkflowRun.decide_step,
        StepDecision(step_id="gate", approved=True, decided_by="admin-key", role="tenant_admin"),
    )

    progress = await handle.query(UserWorkflowRun.progress)
    assert (progress.current_step, outcome(progress, "fetch").status) == ("fetch", "running")
    result: RunResult = await handle.result()
    assert outcome(result, "fetch").status == "succeeded" and outcome(result, "fetch").attempts == 1
    assert await scheduled_activities(handle) == 1


async def test_a_get_allowed_one_attempt_sends_one_request_however_slow(
    client: Client, worker_queue: str, target_server: TargetServer
) -> None:
    name = uuid.uuid4().hex
    url = target_server.url + f"/stall-once/{name}?seconds=0.5"
    run = make_run({"id": "fetch", "type": "http_request", "url": url, "retry": {"max_attempts": 1}})

    result: RunResult = await (handle := await start(client, worker_queue, run)).result()

    assert outcome(result, "fetch").status == "succeeded" and outcome(result, "fetch").attempts == 1
    assert len(target_server.calls_to(f"/stall-once/{name}")) == 1
    assert await scheduled_activities(handle) == 1

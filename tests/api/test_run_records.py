"""Reading runs: a retrying step's attempts and last error while it runs, and closed runs read from the
record they left, without a query (which would make a worker replay them)."""

import asyncio
import uuid
from contextlib import suppress

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle

from core.settings import Settings
from domain.runs import effective_status, read_run, visible_run
from orchestrator.user_run import UserWorkflowRun
from orchestrator.worker import build_worker
from schemas.runs import RunInput, RunPublic, StepDecision
from starters.runs import TemporalRunControl
from tests.api.tenancy import new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.fakes.target import TargetServer
from tests.orchestrator.runs import FAST_RETRIES, make_run, start, until_progress

NO_WORKER_WAIT_S = 10


def test_a_retrying_step_shows_its_attempts_and_last_error_while_it_runs(
    api: TestClient, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    retry = {"max_attempts": 10, "initial_interval_s": 1, "backoff": 1, "max_interval_s": 1}
    url = target_server.url + f"/status/500?case={uuid.uuid4().hex}"
    workflow_id = new_workflow(api, tenant, {"id": "fetch", "type": "http_request", "url": url, "retry": retry})
    answer = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    run_id = answer.json()["run_id"]

    run = poll_run(
        api, run_id, tenant.member, lambda r: r["steps"] and r["steps"][0]["attempts"] >= 2 and r["steps"][0]["error"]
    )

    step = run["steps"][0]
    assert (run["status"], run["current_step"], step["status"]) == ("running", "fetch", "running")
    assert step["error"]["type"] == "HttpServerError" and "answered 500" in step["error"]["message"]
    assert api.post(f"/api/runs/{run_id}/cancel", headers=tenant.member).status_code == 202
    cancelled = poll_run(api, run_id, tenant.member, finished)
    assert (cancelled["status"], cancelled["steps"][0]["status"]) == ("cancelled", "cancelled")


async def as_queried(client: Client, handle: WorkflowHandle) -> RunPublic:
    """The body GET /api/runs/{id} answered before closed runs left their record: the `progress` query."""
    progress = await handle.query(UserWorkflowRun.progress)
    description = await client.get_workflow_handle(handle.id).describe()
    return RunPublic(
        **progress.model_dump(exclude={"status", "tenant_id"}),
        status=effective_status(progress.status, description.status),
        started_at=description.start_time,
        closed_at=description.close_time,
    )


async def finish(handle: WorkflowHandle) -> None:
    with suppress(Exception):
        await handle.result()


async def test_closed_runs_read_the_same_without_a_worker(
    client: Client, settings: Settings, engine: Engine, target_server: TargetServer
) -> None:
    queue = f"test-{uuid.uuid4()}"
    failing = make_run(
        {"id": "fetch", "type": "http_request", "url": target_server.url + "/json"},
        {"id": "push", "type": "http_request", "method": "POST", "url": target_server.url + "/status/503"},
        input={"order": 7},
    )
    async with build_worker(client, settings, engine, task_queue=queue):
        handles: dict[str, WorkflowHandle] = {
            "completed": await start(
                client,
                queue,
                make_run(
                    {"id": "fetch", "type": "http_request", "url": target_server.url + "/json"},
                    {"id": "keep", "type": "transform", "set": {"n": "input.n + 1"}},
                    input={"n": 1},
                ),
            ),
            "failed": await start(client, queue, failing),
            "cancelled": await start(client, queue, make_run({"id": "wait", "type": "delay", "seconds": 3600})),
            "rejected": await start(
                client, queue, make_run({"id": "gate", "type": "approval", "class": "C", "message": "Refund?"})
            ),
        }
        await until_progress(handles["cancelled"], lambda p: p.current_step == "wait")
        await handles["cancelled"].cancel(reason="not needed")
        await until_progress(handles["rejected"], lambda p: p.waiting is not None)
        rejection = StepDecision(step_id="gate", approved=False, decided_by="founder", role="founder")
        await handles["rejected"].execute_update(UserWorkflowRun.decide_step, rejection)
        for handle in handles.values():
            await finish(handle)
        expected = {name: await as_queried(client, handle) for name, handle in handles.items()}

    read = {
        name: await asyncio.wait_for(
            read_run(await visible_run(client, handle.id.removeprefix("run-"), "tenant-a")), NO_WORKER_WAIT_S
        )
        for name, handle in handles.items()
    }

    assert read == expected
    assert {name: body.status for name, body in read.items()} == {
        "completed": "completed",
        "failed": "failed",
        "cancelled": "cancelled",
        "rejected": "rejected",
    }
    assert read["failed"].error is not None and read["failed"].error.type == "HttpServerError"
    assert read["cancelled"].error is not None and "not needed" in read["cancelled"].error.message


async def test_a_failed_run_is_redriven_without_a_worker_replaying_it(
    client: Client, settings: Settings, engine: Engine, target_server: TargetServer
) -> None:
    queue = f"test-{uuid.uuid4()}"
    failing = make_run(
        {"id": "fetch", "type": "http_request", "url": target_server.url + "/json"},
        {"id": "push", "type": "http_request", "url": target_server.url + "/status/503"},
    )
    async with build_worker(client, settings, engine, task_queue=queue):
        failed = await start(client, queue, failing)
        await finish(failed)
        steps = (await failed.query(UserWorkflowRun.progress)).steps

    redriven = await asyncio.wait_for(
        TemporalRunControl(client, queue).redrive(failing.run_id, failing.definition, FAST_RETRIES, "redrive"),
        NO_WORKER_WAIT_S,
    )

    assert redriven is not None and redriven[1] is True
    handle = client.get_workflow_handle(f"run-{redriven[0]}")
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [params] = await client.data_converter.decode(started.input.payloads, [RunInput])
    assert params.resume is not None and params.resume.from_run_id == failing.run_id
    assert params.resume.outcomes == steps
    await handle.terminate("test over")

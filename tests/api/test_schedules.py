"""Tenant schedules through the API: create, validate, trigger, pause, change, delete, walls, new versions."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow

from core.errors import ApiError
from core.metering import add_usage
from core.settings import Settings
from domain import schedules
from language.steps import WorkflowDefinition
from rules.usage import PLAN_LIMITS, period_of
from schemas.runs import RunInput
from schemas.schedules import ScheduleCreate, ScheduleTiming, ScheduleUpdate
from schemas.tables import Tenant
from starters.runs import LIFECYCLE_PAUSE
from starters.schedules import create_schedule, follow_new_version, new_schedule_id, update_schedule
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run, waiting
from tests.conftest import founder_headers, until

DONE = {"id": "done", "type": "log", "message": "done"}
WEEKDAYS_AT_9 = {"cron": "0 9 * * 1-5", "timezone": "America/New_York"}
HOURLY = {"interval_s": 3600}


def schedule(api: TestClient, tenant: ApiTenant, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    created = api.post(f"/api/workflows/{workflow_id}/schedules", json=body, headers=tenant.member)
    assert created.status_code == 201, created.text
    return created.json()


def poll(api: TestClient, path: str, headers: dict[str, str], check: Callable[[Any], bool]) -> Any:
    """Visibility (lists) and a schedule's recent runs catch up a moment after the change."""
    deadline = time.monotonic() + 10
    while not check(body := api.get(path, headers=headers).json()):
        assert time.monotonic() < deadline, f"{path} never matched; last: {body}"
        time.sleep(0.05)
    return body


def listed(schedule_id: str) -> Callable[[Any], bool]:
    return lambda body: schedule_id in [s["id"] for s in body]


@pytest.fixture(scope="module")
def owner(api: TestClient) -> tuple[ApiTenant, str]:
    tenant = new_tenant(api)
    schema = {"type": "object", "properties": {"amount": {"type": "number"}}}
    return tenant, new_workflow(api, tenant, DONE, input_schema=schema)


def test_a_cron_schedule_describes_itself_and_its_next_times_in_its_zone(
    api: TestClient, owner: tuple[ApiTenant, str]
) -> None:
    tenant, workflow_id = owner

    created = schedule(api, tenant, workflow_id, {**WEEKDAYS_AT_9, "input": {"amount": 5}})

    assert created["id"].startswith("sched-") and created["workflow_id"] == workflow_id
    assert created["description"] == "At 09:00, Monday through Friday"
    assert (created["overlap"], created["paused"], created["version"]) == ("skip", False, 1)
    assert created["input"] == {"amount": 5}
    times = [datetime.fromisoformat(t) for t in created["next_run_times"]]
    assert len(times) == 3 and times == sorted(times)
    assert all((t.hour, t.minute, t.weekday() < 5) == (9, 0, True) for t in times)
    assert all(t.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4)) for t in times)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cron": "61 * * * *"}, "body.cron"),
        ({"cron": "every day"}, "body.cron"),
        ({"cron": "0 0 9 * * *"}, "body.cron"),
        ({"cron": "0 9 L * *"}, "body.cron"),  # the right shape, refused by the server
        ({}, "body.cron"),
        ({"cron": "0 9 * * *", "interval_s": 3600}, "body.cron"),
        ({**HOURLY, "timezone": "Mars/Olympus"}, "body.timezone"),
        ({"interval_s": 30}, "body.interval_s"),
        ({**HOURLY, "overlap": "sometimes"}, "body.overlap"),
        ({**HOURLY, "input": {"amount": "lots"}}, "input.amount"),
    ],
)
def test_an_invalid_schedule_answers_422_with_the_field(
    api: TestClient, owner: tuple[ApiTenant, str], body: dict[str, Any], field: str
) -> None:
    tenant, workflow_id = owner

    answer = api.post(f"/api/workflows/{workflow_id}/schedules", json=body, headers=tenant.member)

    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_a_cron_the_server_refuses_on_change_answers_422_and_changes_nothing(
    api: TestClient, owner: tuple[ApiTenant, str]
) -> None:
    tenant, workflow_id = owner
    created = schedule(api, tenant, workflow_id, WEEKDAYS_AT_9)
    path = f"/api/schedules/{created['id']}"

    refused = api.patch(path, json={"cron": "0 9 * * FRI-MON"}, headers=tenant.member)
    after = api.get(path, headers=tenant.member).json()

    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == ("invalid_schedule", "body.cron")
    assert (after["cron"], after["description"]) == (created["cron"], created["description"])


def test_a_cron_the_server_takes_but_no_wording_fits_is_described_as_written(
    api: TestClient, owner: tuple[ApiTenant, str]
) -> None:
    tenant, workflow_id = owner

    created = schedule(api, tenant, workflow_id, {"cron": "0 9 * * SUNDAY"})

    assert (created["cron"], created["description"]) == ("0 9 * * SUNDAY", "Cron 0 9 * * SUNDAY")
    assert all(datetime.fromisoformat(t).weekday() == 6 for t in created["next_run_times"])


def test_a_triggered_schedule_starts_an_ordinary_run_that_completes(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    created = schedule(api, tenant, workflow_id, HOURLY)

    triggered = api.post(f"/api/schedules/{created['id']}/trigger", headers=tenant.member)

    assert triggered.status_code == 202
    run_id = triggered.json()["run_id"]
    assert run_id.startswith(created["id"])
    fired = poll(api, f"/api/schedules/{created['id']}", tenant.member, lambda s: len(s["recent_runs"]) == 1)
    assert fired["recent_runs"][0]["run_id"] == run_id
    run = poll_run(api, run_id, tenant.member, finished)
    assert (run["status"], run["trigger"], run["definition_id"]) == ("completed", "schedule", workflow_id)
    poll(
        api,
        f"/api/runs?workflow_id={workflow_id}",
        tenant.member,
        lambda page: [(r["run_id"], r["trigger"]) for r in page["runs"]] == [(run_id, "schedule")],
    )


def test_a_paused_schedule_shows_its_note_and_no_next_times_but_can_be_triggered(
    api: TestClient, owner: tuple[ApiTenant, str]
) -> None:
    tenant, workflow_id = owner
    created = schedule(api, tenant, workflow_id, HOURLY)

    path = f"/api/schedules/{created['id']}"

    paused = api.patch(path, json={"paused": True, "note": "holidays"}, headers=tenant.member).json()
    triggered = api.post(f"{path}/trigger", headers=tenant.member)
    fired = poll(api, path, tenant.member, lambda s: len(s["recent_runs"]) == 1)
    resumed = api.patch(path, json={"paused": False, "note": "back"}, headers=tenant.member).json()

    assert (paused["paused"], paused["note"], paused["next_run_times"]) == (True, "holidays", [])
    assert triggered.status_code == 202 and fired["paused"] is True
    assert (resumed["paused"], resumed["note"], len(resumed["next_run_times"])) == (False, "back", 3)


def test_a_trigger_the_overlap_policy_skips_answers_no_run(api: TestClient) -> None:
    tenant = new_tenant(api)
    gate = {"id": "gate", "type": "approval", "class": "B", "message": "ok?", "timeout_s": 3600}
    workflow_id = new_workflow(api, tenant, gate)
    created = schedule(api, tenant, workflow_id, {**HOURLY, "overlap": "skip"})
    path = f"/api/schedules/{created['id']}/trigger"

    first = api.post(path, headers=tenant.member).json()
    second = api.post(path, headers=tenant.member).json()

    assert first["run_id"].startswith(created["id"])
    assert poll_run(api, first["run_id"], tenant.member, waiting)["status"] == "waiting_approval"
    assert second == {"schedule_id": created["id"], "status": "triggered", "run_id": None}


async def test_a_paused_schedule_does_not_fire_until_resumed(
    api: TestClient, client: Client, settings: Settings
) -> None:
    # One-second intervals are below the API's bound, so this drives the Temporal side directly; a running
    # twin shows the server was firing while the paused one stayed silent.
    params = RunInput(
        tenant_id=f"t-{uuid.uuid4()}",
        definition_id="d-paused",
        version=1,
        trigger="schedule",
        definition=WorkflowDefinition.model_validate({"name": "flow", "steps": [DONE]}).model_dump(mode="json"),
    )
    paused_id, twin_id = new_schedule_id(), new_schedule_id()
    every_second = ScheduleTiming(interval_s=1)
    queue = settings.task_queue
    await create_schedule(client, paused_id, params, every_second, queue, paused=True, note="hold")
    await create_schedule(client, twin_id, params, every_second, queue)
    paused, twin = client.get_schedule_handle(paused_id), client.get_schedule_handle(twin_id)

    await until(twin.describe, lambda d: d.info.num_actions >= 2)
    silent = await paused.describe()
    await update_schedule(client, paused_id, ScheduleUpdate(paused=False))
    fired = await until(paused.describe, lambda d: d.info.num_actions >= 1)

    assert silent.info.num_actions == 0
    assert (silent.schedule.state.paused, silent.schedule.state.note) == (True, "hold")
    assert fired.schedule.state.paused is False
    await asyncio.gather(paused.delete(), twin.delete())


def test_changing_the_timing_changes_the_description(api: TestClient, owner: tuple[ApiTenant, str]) -> None:
    tenant, workflow_id = owner
    created = schedule(api, tenant, workflow_id, WEEKDAYS_AT_9)
    path = f"/api/schedules/{created['id']}"

    cron_change = {"cron": "30 7 * * *", "timezone": "Europe/Berlin", "overlap": "buffer_one"}
    to_cron = api.patch(path, json=cron_change, headers=tenant.member)
    to_interval = api.patch(path, json={"interval_s": 120, "input": {"amount": 7}}, headers=tenant.member)
    bad_input = api.patch(path, json={"input": {"amount": "lots"}}, headers=tenant.member)

    assert to_cron.status_code == 200, to_cron.text
    assert {k: to_cron.json()[k] for k in ("cron", "interval_s", "description", "timezone", "overlap")} == {
        "cron": "30 7 * * *",
        "interval_s": None,
        "description": "At 07:30",
        "timezone": "Europe/Berlin",
        "overlap": "buffer_one",
    }
    times = [datetime.fromisoformat(t) for t in to_cron.json()["next_run_times"]]
    assert all(t.strftime("%H:%M") == "07:30" for t in times)
    assert all(t.utcoffset() in (timedelta(hours=1), timedelta(hours=2)) for t in times)
    assert {k: to_interval.json()[k] for k in ("cron", "interval_s", "description", "input", "overlap")} == {
        "cron": None,
        "interval_s": 120,
        "description": "Every 2 minutes",
        "input": {"amount": 7},
        "overlap": "buffer_one",
    }
    assert (bad_input.status_code, bad_input.json()["field"]) == (422, "input.amount")


def test_a_deleted_schedule_is_gone(api: TestClient, owner: tuple[ApiTenant, str]) -> None:
    tenant, workflow_id = owner
    created = schedule(api, tenant, workflow_id, HOURLY)

    deleted = api.delete(f"/api/schedules/{created['id']}", headers=tenant.member)

    assert deleted.status_code == 204
    gone = api.get(f"/api/schedules/{created['id']}", headers=tenant.member)
    assert gone.status_code == 404
    assert (gone.json()["code"], gone.json()["field"]) == ("schedule_not_found", "schedule_id")
    assert api.delete(f"/api/schedules/{created['id']}", headers=tenant.member).status_code == 404
    poll(api, "/api/schedules", tenant.member, lambda body: not listed(created["id"])(body))


def test_another_tenants_schedule_answers_404_like_a_made_up_one(api: TestClient) -> None:
    owner, stranger = new_tenant(api), new_tenant(api, name="Other")
    workflow_id = new_workflow(api, owner, DONE)
    schedule_id = schedule(api, owner, workflow_id, HOURLY)["id"]
    made_up = api.get(f"/api/schedules/sched-{uuid.uuid4()}", headers=stranger.member).json()

    answers = [
        api.get(f"/api/schedules/{schedule_id}", headers=stranger.member),
        api.patch(f"/api/schedules/{schedule_id}", json={"paused": True}, headers=stranger.member),
        api.delete(f"/api/schedules/{schedule_id}", headers=stranger.member),
        api.post(f"/api/schedules/{schedule_id}/trigger", headers=stranger.member),
    ]

    assert [(a.status_code, a.json()) for a in answers] == [(404, made_up)] * 4
    assert api.get(f"/api/workflows/{workflow_id}/schedules", headers=stranger.member).status_code == 404
    assert api.get(f"/api/schedules/{schedule_id}", headers=founder_headers()).status_code == 200
    poll(api, "/api/schedules", founder_headers(), listed(schedule_id))
    assert not listed(schedule_id)(api.get("/api/schedules", headers=stranger.member).json())
    assert api.get(f"/api/schedules/{schedule_id}", headers=owner.member).json()["paused"] is False


def test_a_tenant_lists_its_schedules_all_and_per_workflow(api: TestClient) -> None:
    tenant = new_tenant(api)
    first, second = new_workflow(api, tenant, DONE), new_workflow(api, tenant, DONE)
    one, two = schedule(api, tenant, first, HOURLY)["id"], schedule(api, tenant, second, WEEKDAYS_AT_9)["id"]

    everything = poll(api, "/api/schedules", tenant.member, lambda body: len(body) == 2)
    per_workflow = poll(api, f"/api/workflows/{first}/schedules", tenant.member, lambda body: len(body) == 1)

    assert [s["id"] for s in everything] == [two, one]
    assert [s["id"] for s in per_workflow] == [one]


async def test_a_new_version_moves_the_definitions_schedules_to_it(api: TestClient, client: Client) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    created = schedule(api, tenant, workflow_id, HOURLY)
    new_steps = [{"id": "hello", "type": "log", "message": "v2"}, DONE]
    put = api.put(f"/api/workflows/{workflow_id}", json={"name": "flow", "steps": new_steps}, headers=tenant.admin)
    assert put.status_code == 200, put.text
    definition = WorkflowDefinition.model_validate(put.json()["definition"])

    def follow() -> Awaitable[int]:
        return follow_new_version(client, tenant.id, workflow_id, 2, definition)

    moved = await until(follow, lambda n: n == 1)

    assert moved == 1
    assert api.get(f"/api/schedules/{created['id']}", headers=tenant.member).json()["version"] == 2
    api.post(f"/api/schedules/{created['id']}/trigger", headers=tenant.member)
    fired = poll(api, f"/api/schedules/{created['id']}", tenant.member, lambda s: len(s["recent_runs"]) == 1)
    run = poll_run(api, fired["recent_runs"][0]["run_id"], tenant.member, finished)
    assert (run["version"], [s["step_id"] for s in run["steps"]]) == (2, ["hello", "done"])


def test_a_new_definition_version_moves_its_schedules_to_it(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    created = schedule(api, tenant, workflow_id, HOURLY)
    poll(api, f"/api/workflows/{workflow_id}/schedules", tenant.member, lambda listed: len(listed) == 1)

    put = api.put(f"/api/workflows/{workflow_id}", json={"name": "flow", "steps": [DONE]}, headers=tenant.admin)

    assert put.status_code == 200
    assert api.get(f"/api/schedules/{created['id']}", headers=tenant.member).json()["version"] == 2


def set_runs_used(engine: Engine, tenant_id: str, used: int) -> None:
    with engine.begin() as connection:
        add_usage(connection, tenant_id, period_of(datetime.now(UTC)), "runs", used)


def runs_used(api: TestClient, tenant: ApiTenant) -> int:
    return int(api.get("/api/usage", headers=tenant.member).json()["metrics"]["runs"]["used"])


@pytest.mark.parametrize(("transition", "code"), [("suspend", "tenant_suspended"), ("delete", "tenant_deleted")])
def test_a_tenant_that_may_not_run_cannot_create_resume_change_or_trigger_schedules(
    api: TestClient, transition: str, code: str
) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    path = f"/api/schedules/{schedule(api, tenant, workflow_id, {**HOURLY, 'paused': True})['id']}"
    changed = api.post(f"/api/tenants/{tenant.id}/{transition}", json={}, headers=founder_headers())
    assert changed.status_code == 200, changed.text

    answers = [
        api.post(f"/api/workflows/{workflow_id}/schedules", json=HOURLY, headers=tenant.member),
        api.patch(path, json={"paused": False}, headers=tenant.member),
        api.patch(path, json={"interval_s": 60}, headers=tenant.member),
        api.post(f"{path}/trigger", headers=tenant.member),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, code)] * 4
    founder_view = api.get(path, headers=founder_headers()).json()
    assert (founder_view["paused"], founder_view["interval_s"], founder_view["recent_runs"]) == (True, 3600, [])


async def test_the_schedule_operations_themselves_refuse_a_tenant_that_may_not_run(
    api: TestClient, client: Client, engine: Engine, settings: Settings
) -> None:
    # The API refuses a suspended tenant's keys before any route runs; the operations hold the gate
    # themselves, for every other caller (the web app, the CLI).
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    created = schedule(api, tenant, workflow_id, {**HOURLY, "paused": True})
    api.post(f"/api/tenants/{tenant.id}/suspend", json={}, headers=founder_headers())
    description = await client.get_schedule_handle(created["id"]).describe()

    calls = [
        schedules.create_schedule(engine, client, settings, workflow_id, tenant.id, ScheduleCreate(interval_s=3600)),
        schedules.change_schedule(engine, client, created["id"], tenant.id, ScheduleUpdate(paused=False)),
        schedules.trigger_schedule(engine, client, description, tenant.id),
    ]
    codes = []
    for call in calls:
        with pytest.raises(ApiError) as refused:
            await call
        codes.append((refused.value.status, refused.value.code, refused.value.field))

    assert codes == [(403, "tenant_suspended", "tenant_id")] * 3
    assert (await client.get_schedule_handle(created["id"]).describe()).info.num_actions == 0


def test_a_free_tenant_at_its_run_limit_cannot_add_resume_or_trigger_schedules_but_may_pause(
    api: TestClient, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(api, tenant, DONE)
    running, paused = (schedule(api, tenant, workflow_id, {**HOURLY, "paused": p})["id"] for p in (False, True))
    set_runs_used(engine, tenant.id, PLAN_LIMITS["free"]["runs"] or 0)

    answers = [
        api.post(f"/api/workflows/{workflow_id}/schedules", json={"interval_s": 60}, headers=tenant.member),
        api.patch(f"/api/schedules/{paused}", json={"paused": False}, headers=tenant.member),
        api.post(f"/api/schedules/{paused}/trigger", headers=tenant.member),
    ]
    pause = api.patch(f"/api/schedules/{running}", json={"paused": True}, headers=tenant.member)

    assert [(a.status_code, a.json()["code"], a.json()["metric"]) for a in answers] == [
        (429, "usage_limit_reached", "runs")
    ] * 3
    assert pause.status_code == 200 and pause.json()["paused"] is True
    assert len(api.get(f"/api/workflows/{workflow_id}/schedules", headers=tenant.member).json()) <= 2
    assert api.get(f"/api/schedules/{paused}", headers=tenant.member).json()["paused"] is True


def test_the_platforms_pause_note_is_refused(api: TestClient, owner: tuple[ApiTenant, str]) -> None:
    tenant, workflow_id = owner

    forged = api.post(
        f"/api/workflows/{workflow_id}/schedules",
        json={**HOURLY, "paused": True, "note": f"{LIFECYCLE_PAUSE}tenant suspended"},
        headers=tenant.member,
    )

    assert (forged.status_code, forged.json()["code"], forged.json()["field"]) == (422, "invalid_note", "body.note")


async def fire(client: Client, schedule_id: str) -> str:
    """Fires the schedule the way its timer does (not through the API's gate) and answers the run's id."""
    handle = client.get_schedule_handle(schedule_id)
    await handle.trigger()
    fired = await until(handle.describe, lambda d: len(d.info.recent_actions) == 1)
    action = fired.info.recent_actions[0].action
    assert isinstance(action, ScheduleActionExecutionStartWorkflow)
    return action.workflow_id.removeprefix("run-")


@pytest.mark.parametrize("cause", ["suspended", "run_limit", "ai_paused"])
async def test_a_fired_run_of_a_tenant_that_may_not_run_ends_refused_and_counts_nowhere(
    api: TestClient, client: Client, engine: Engine, cause: str
) -> None:
    tenant = new_tenant(api, plan="enterprise" if cause == "ai_paused" else "free")
    ai_step = {"id": "ask", "type": "ai", "prompt": "hello"}
    workflow_id = new_workflow(api, tenant, *([ai_step] if cause == "ai_paused" else [DONE]))
    created = schedule(api, tenant, workflow_id, {**HOURLY, "paused": True})
    limit = PLAN_LIMITS["free"]["runs"] or 0
    if cause == "suspended":
        api.post(f"/api/tenants/{tenant.id}/suspend", json={}, headers=founder_headers())
    elif cause == "run_limit":
        set_runs_used(engine, tenant.id, limit)
    else:
        with Session(engine) as session:
            row = session.get_one(Tenant, tenant.id)
            row.ai_paused = True
            session.add(row)
            session.commit()
    used_before = runs_used(api, tenant) if cause != "suspended" else 0

    run_id = await fire(client, created["id"])

    run = poll_run(api, run_id, founder_headers(), finished)
    expected = {"suspended": "tenant_suspended", "run_limit": "usage_limit_reached", "ai_paused": "tenant_throttled"}
    assert (run["status"], run["steps"], run["error"]["type"]) == ("refused", [], expected[cause])
    refused = poll(
        api,
        f"/api/runs?status=refused&workflow_id={workflow_id}",
        founder_headers(),
        lambda page: len(page["runs"]) == 1,
    )
    assert refused["runs"][0]["run_id"] == run_id
    assert failures(api, founder_headers(), run_id) == []
    if cause != "suspended":
        assert runs_used(api, tenant) == used_before


async def test_a_fired_run_over_the_concurrency_cap_ends_refused_but_does_not_count_itself(
    api: TestClient, client: Client, engine: Engine
) -> None:
    tenant = new_tenant(api)
    waiting = new_workflow(api, tenant, {"id": "wait", "type": "delay", "seconds": 3600})
    created = schedule(api, tenant, new_workflow(api, tenant, DONE), {**HOURLY, "paused": True})
    busy = api.post(f"/api/workflows/{waiting}/runs", json={}, headers=tenant.member).json()["run_id"]
    with Session(engine) as session:
        row = session.get_one(Tenant, tenant.id)
        row.max_concurrent_runs = 1
        session.add(row)
        session.commit()
    await until(
        lambda: client.count_workflows(
            f"WorkflowType = 'UserWorkflowRun' AND TenantId = '{tenant.id}' AND ExecutionStatus = 'Running'"
        ),
        lambda counted: counted.count == 1,
    )

    first = await fire(client, created["id"])
    refused = poll_run(api, first, tenant.member, finished)
    api.post(f"/api/runs/{busy}/cancel", headers=tenant.member)
    poll_run(api, busy, tenant.member, finished)
    await client.get_schedule_handle(created["id"]).trigger()
    second = await until(client.get_schedule_handle(created["id"]).describe, lambda d: len(d.info.recent_actions) == 2)
    action = second.info.recent_actions[1].action
    assert isinstance(action, ScheduleActionExecutionStartWorkflow)
    admitted = poll_run(api, action.workflow_id.removeprefix("run-"), tenant.member, finished)

    assert (refused["status"], refused["error"]["type"]) == ("refused", "tenant_throttled")
    assert admitted["status"] == "completed"  # the run being admitted does not count against the cap


async def test_a_fired_run_is_admitted_and_counted_once(api: TestClient, client: Client) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(api, tenant, DONE)
    created = schedule(api, tenant, workflow_id, {**HOURLY, "paused": True})

    run_id = await fire(client, created["id"])

    assert poll_run(api, run_id, tenant.member, finished)["status"] == "completed"
    assert runs_used(api, tenant) == 1
    await asyncio.sleep(0.5)  # a second count (at the run's end, as before) would have landed by now
    assert runs_used(api, tenant) == 1


def failures(api: TestClient, headers: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    return [f for f in api.get("/api/failures", headers=headers).json() if f["run_id"] == run_id]

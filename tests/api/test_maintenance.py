"""Maintenance mode and the AI switch, as every way a run starts meets them: API start, webhook, schedule (trigger and
fired), re-drive and AutoRecovery are refused with 503 and the founder's message; runs in flight finish; writes that
start no run keep working."""

import uuid

import pytest
from fastapi.testclient import TestClient
from temporalio.client import Client

from core.settings import Settings
from language.steps import WorkflowDefinition
from orchestrator.auto_recovery import AutoRecovery
from orchestrator.user_run import UserWorkflowRun
from schemas.recovery import AutoRecoveryInput
from schemas.runs import RunInput
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.toggling import set_toggles, toggles_restored  # noqa: F401  (the fixture)
from tests.api.waiting import finished, poll_run, waiting

pytestmark = pytest.mark.usefixtures("toggles_restored")
NOTE = {"id": "note", "type": "log", "message": "hello"}
ASK = {"id": "ask", "type": "ai", "prompt": "hello"}
MESSAGE = "Upgrading the database; back at 10:00 UTC"


def start(api: TestClient, tenant: ApiTenant, workflow_id: str) -> dict:
    answer = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    return {"status": answer.status_code, "headers": answer.headers, **answer.json()}


def assert_maintenance(answer: dict) -> None:
    assert answer["status"] == 503, answer
    assert (answer["code"], answer["message"]) == ("maintenance", MESSAGE)
    assert answer["headers"]["retry-after"] == str(answer["retry_after_s"])


def test_api_starts_and_webhooks_are_refused_with_503_and_retry_after(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, NOTE)
    hook = api.put(f"/api/workflows/{workflow_id}/webhook", json={}, headers=tenant.admin).json()

    set_toggles(api, "database upgrade", maintenance=True, maintenance_message=MESSAGE)
    started = start(api, tenant, workflow_id)
    delivered = api.post(hook["url"], json={"order": 1})

    assert_maintenance(started)
    assert_maintenance({"status": delivered.status_code, "headers": delivered.headers, **delivered.json()})
    runs = api.get(f"/api/runs?workflow_id={workflow_id}", headers=tenant.member).json()["runs"]
    assert runs == []


def test_writes_that_start_no_run_keep_working(api: TestClient) -> None:
    tenant = new_tenant(api)
    set_toggles(api, "database upgrade", maintenance=True)

    workflow_id = new_workflow(api, tenant, NOTE)
    created = api.post(f"/api/workflows/{workflow_id}/schedules", json={"interval_s": 3600}, headers=tenant.member)

    assert created.status_code == 201, created.text
    assert api.put("/api/secrets/TOKEN", json={"value": "s3cret"}, headers=tenant.admin).status_code in (200, 201, 204)
    triggered = api.post(f"/api/schedules/{created.json()['id']}/trigger", headers=tenant.member)
    assert (triggered.status_code, triggered.json()["code"]) == (503, "maintenance")
    assert triggered.headers["retry-after"]


async def test_a_schedule_fired_run_is_refused_before_its_first_step(
    api: TestClient, client: Client, settings: Settings
) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, NOTE)
    set_toggles(api, "database upgrade", maintenance=True, maintenance_message=MESSAGE)
    params = RunInput(
        tenant_id=tenant.id,
        definition_id=workflow_id,
        version=1,
        trigger="schedule",
        definition=WorkflowDefinition.model_validate({"name": "flow", "steps": [NOTE]}).model_dump(mode="json"),
    )

    result = await client.execute_workflow(
        UserWorkflowRun.run, params, id=f"test-maintenance-{uuid.uuid4()}", task_queue=settings.task_queue
    )

    assert result.status == "refused" and result.steps == []
    assert result.error is not None and (result.error.type, result.error.message) == ("maintenance", MESSAGE)


async def test_re_drives_and_auto_recovery_are_refused(api: TestClient, client: Client, settings: Settings) -> None:
    tenant = new_tenant(api)
    call = {"id": "call", "type": "http_request", "url": "http://127.0.0.1:1/"}  # refused: a transient failure
    workflow_id = new_workflow(api, tenant, call)
    run_id = start(api, tenant, workflow_id)["run_id"]
    assert poll_run(api, run_id, tenant.member, finished)["status"] == "failed"
    [failure] = api.get("/api/failures", headers=tenant.member).json()
    set_toggles(api, "database upgrade", maintenance=True, maintenance_message=MESSAGE)

    retried = api.post(f"/api/runs/{run_id}/retry", headers=tenant.admin)
    recovered = await client.execute_workflow(
        AutoRecovery.run,
        AutoRecoveryInput(apply=True, tenant_id=tenant.id),
        id=f"test-recovery-{uuid.uuid4()}",
        task_queue=settings.task_queue,
    )

    assert (retried.status_code, retried.json()["code"], retried.json()["message"]) == (503, "maintenance", MESSAGE)
    assert retried.headers["retry-after"]
    assert recovered.redriven == [] and recovered.refused == {failure["id"]: "maintenance"}


def test_runs_in_flight_finish_during_maintenance(api: TestClient) -> None:
    tenant = new_tenant(api)
    delayed = new_workflow(api, tenant, {"id": "wait", "type": "delay", "seconds": 2}, NOTE)
    gated = new_workflow(api, tenant, {"id": "gate", "type": "approval", "class": "B", "message": "go?"}, NOTE)
    delayed_run, gated_run = start(api, tenant, delayed)["run_id"], start(api, tenant, gated)["run_id"]
    poll_run(api, gated_run, tenant.member, waiting)

    set_toggles(api, "database upgrade", maintenance=True, maintenance_message=MESSAGE)
    decided = api.post(f"/api/runs/{gated_run}/approvals/gate", json={"decision": "approve"}, headers=tenant.admin)

    assert decided.status_code == 200, decided.text
    for run_id in (delayed_run, gated_run):
        run = poll_run(api, run_id, tenant.member, finished)
        assert run["status"] == "completed", run
    assert start(api, tenant, delayed)["code"] == "maintenance"


def test_with_ai_features_off_ai_workflows_are_refused_and_others_start(api: TestClient) -> None:
    tenant = new_tenant(api)
    with_ai, without_ai = new_workflow(api, tenant, ASK), new_workflow(api, tenant, NOTE)

    set_toggles(api, "AI provider outage", ai_features=False)
    refused, started = start(api, tenant, with_ai), start(api, tenant, without_ai)

    assert (refused["status"], refused["code"], refused["field"]) == (503, "ai_disabled", "definition")
    in_japanese = api.post(
        f"/api/workflows/{with_ai}/runs", json={"input": {}}, headers={**tenant.member, "Accept-Language": "ja"}
    )
    assert in_japanese.json()["message"].startswith("このプラットフォームでは現在 AI 機能がオフ")
    assert started["status"] == 202, started
    assert poll_run(api, started["run_id"], tenant.member, finished)["status"] == "completed"
    set_toggles(api, "provider is back", ai_features=True)
    again = start(api, tenant, with_ai)
    assert again["status"] == 202 and poll_run(api, again["run_id"], tenant.member, finished)["status"] == "completed"


def test_an_ai_step_already_running_fails_for_good_once_ai_is_off(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, {"id": "wait", "type": "delay", "seconds": 2}, ASK)
    run_id = start(api, tenant, workflow_id)["run_id"]

    set_toggles(api, "AI provider outage", ai_features=False)
    run = poll_run(api, run_id, tenant.member, finished)

    assert run["status"] == "failed"
    assert run["error"]["type"] == "AiDisabled"
    assert [(s["step_id"], s["status"], s["attempts"]) for s in run["steps"]][-1] == ("ask", "failed", 1)

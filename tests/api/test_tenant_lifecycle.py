"""Tenant lifecycle through the API: transitions, illegal ones, and what a suspended tenant cannot do."""

import time

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.api.tenancy import new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers

DONE = {"id": "done", "type": "log", "message": "done"}


def change(api: TestClient, tenant_id: str, transition: str, reason: str | None = None) -> Response:
    return api.post(f"/api/tenants/{tenant_id}/{transition}", json={"reason": reason}, headers=founder_headers())


def test_every_transition_is_applied_and_recorded(api: TestClient) -> None:
    tenant = new_tenant(api)

    answers = [change(api, tenant.id, name, f"because {name}") for name in ("suspend", "resume", "delete", "restore")]

    assert [a.status_code for a in answers] == [200] * 4
    assert [a.json()["status"] for a in answers] == ["suspended", "active", "deleted", "active"]
    assert answers[2].json()["purge_at"] is not None and answers[3].json()["purge_at"] is None
    detail = api.get(f"/api/tenants/{tenant.id}", headers=tenant.admin).json()
    assert [(t["name"], t["from_status"], t["to_status"]) for t in detail["history"]] == [
        ("suspend", "active", "suspended"),
        ("resume", "suspended", "active"),
        ("delete", "active", "deleted"),
        ("restore", "deleted", "active"),
    ]
    assert detail["history"][0]["reason"] == "because suspend"


def test_illegal_transitions_answer_409_with_the_current_state(api: TestClient) -> None:
    tenant = new_tenant(api)

    resume_active = change(api, tenant.id, "resume")
    restore_active = change(api, tenant.id, "restore")
    change(api, tenant.id, "delete")
    suspend_deleted = change(api, tenant.id, "suspend")
    unknown = change(api, tenant.id, "explode")

    assert [(a.status_code, a.json()["current_state"]) for a in (resume_active, restore_active, suspend_deleted)] == [
        (409, "active"),
        (409, "active"),
        (409, "deleted"),
    ]
    assert resume_active.json()["code"] == "illegal_transition"
    assert unknown.status_code == 422


def test_only_the_founder_changes_a_tenants_state(api: TestClient) -> None:
    tenant = new_tenant(api)

    answer = api.post(f"/api/tenants/{tenant.id}/suspend", json={}, headers=tenant.admin)

    assert answer.status_code == 403 and answer.json()["code"] == "founder_only"


def test_a_suspended_tenant_cannot_start_runs_until_resumed(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    change(api, tenant.id, "suspend", "unpaid")

    refused = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member)
    change(api, tenant.id, "resume")
    accepted = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member)

    assert refused.status_code == 403 and refused.json()["code"] == "tenant_suspended"
    assert accepted.status_code == 202


def test_suspension_pauses_the_tenants_schedules_and_resuming_restores_them(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    created = api.post(
        f"/api/workflows/{workflow_id}/schedules", json={"interval_s": 3600}, headers=tenant.member
    ).json()
    deadline = time.monotonic() + 10
    while not api.get(f"/api/workflows/{workflow_id}/schedules", headers=tenant.member).json():
        assert time.monotonic() < deadline, "schedule never became visible"
        time.sleep(0.1)

    change(api, tenant.id, "suspend")
    paused = api.get(f"/api/schedules/{created['id']}", headers=founder_headers()).json()
    change(api, tenant.id, "resume")
    resumed = api.get(f"/api/schedules/{created['id']}", headers=tenant.member).json()

    assert paused["paused"] is True and resumed["paused"] is False


def schedules_of(api: TestClient, headers: dict[str, str], workflow_id: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(found := api.get(f"/api/workflows/{workflow_id}/schedules", headers=headers).json()) < count:
        assert time.monotonic() < deadline, "schedules never became visible"
        time.sleep(0.1)
    return found


@pytest.mark.parametrize(("transition", "status"), [("suspend", "suspended"), ("delete", "deleted")])
def test_suspending_or_deleting_a_tenant_cancels_its_runs_in_flight_with_the_reason(
    api: TestClient, transition: str, status: str
) -> None:
    tenant, bystander = new_tenant(api), new_tenant(api)
    waits = {"id": "wait", "type": "delay", "seconds": 3600}
    runs = [
        api.post(f"/api/workflows/{new_workflow(api, owner, waits)}/runs", json={}, headers=owner.member).json()
        for owner in (tenant, tenant, bystander)
    ]
    for run, owner in zip(runs, (tenant, tenant, bystander), strict=True):
        poll_run(api, run["run_id"], owner.member, lambda body: body["current_step"] == "wait")

    assert change(api, tenant.id, transition, "unpaid").status_code == 200
    stopped = [poll_run(api, run["run_id"], founder_headers(), finished) for run in runs[:2]]
    untouched = api.get(f"/api/runs/{runs[2]['run_id']}", headers=bystander.member).json()

    assert [(r["status"], r["error"]["message"]) for r in stopped] == [
        ("cancelled", f"run was cancelled: tenant {status}")
    ] * 2
    assert [s["status"] for r in stopped for s in r["steps"]] == ["cancelled", "cancelled"]
    assert (untouched["status"], untouched["closed_at"]) == ("running", None)
    api.post(f"/api/runs/{runs[2]['run_id']}/cancel", headers=bystander.member)


def test_resuming_restores_only_the_schedules_the_lifecycle_paused(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    body = {"interval_s": 3600}
    running = api.post(f"/api/workflows/{workflow_id}/schedules", json=body, headers=tenant.member).json()
    held = api.post(
        f"/api/workflows/{workflow_id}/schedules",
        json={**body, "paused": True, "note": "holidays"},
        headers=tenant.member,
    ).json()
    schedules_of(api, tenant.member, workflow_id, 2)

    change(api, tenant.id, "suspend")
    while_suspended = {s["id"]: s["paused"] for s in schedules_of(api, founder_headers(), workflow_id, 2)}
    change(api, tenant.id, "resume")
    after = {s["id"]: (s["paused"], s["note"]) for s in schedules_of(api, tenant.member, workflow_id, 2)}

    assert while_suspended == {running["id"]: True, held["id"]: True}
    assert after == {running["id"]: (False, "tenant active"), held["id"]: (True, "holidays")}

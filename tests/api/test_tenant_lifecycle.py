"""Tenant lifecycle through the API: transitions, illegal ones, and what a suspended tenant cannot do."""

import time

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.api.tenancy import new_tenant, new_workflow
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

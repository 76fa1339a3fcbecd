"""Data-subject requests: exporting a tenant's data, deleting its account, and the recorded deadlines."""

import json
import time
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from schemas.tables import ApiKey, AuditEntry
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers

LOG = {"id": "hello", "type": "log", "message": "hello"}
SECRET_VALUE = "sk-live-never-export-me-0042"


def exported(api: TestClient, tenant: ApiTenant, timeout_s: float = 10) -> dict[str, Any]:
    started = api.post("/api/me/export-data", headers=tenant.admin)
    assert started.status_code == 202, started.text
    assert started.json()["workflow_id"] == f"export-{started.json()['request_id']}"
    deadline = time.monotonic() + timeout_s
    while True:
        answer = api.get(f"/api/me/export-data/{started.json()['request_id']}", headers=tenant.admin)
        if answer.status_code == 200:
            return answer.json()
        assert answer.status_code == 202 and answer.json()["status"] == "pending", answer.text
        assert time.monotonic() < deadline, "export never finished"
        time.sleep(0.05)


def runs_listed(api: TestClient, tenant: ApiTenant, run_id: str) -> None:
    deadline = time.monotonic() + 10
    while run_id not in {r["run_id"] for r in api.get("/api/runs", headers=tenant.member).json()["runs"]}:
        assert time.monotonic() < deadline, "run never became visible"  # visibility is eventually consistent
        time.sleep(0.05)


def test_the_export_holds_the_tenants_data_but_no_secrets(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, name="Exporter")
    workflow_id = new_workflow(api, tenant, LOG)
    api.put(
        f"/api/workflows/{workflow_id}",
        json={"name": "flow v2", "steps": [LOG, {**LOG, "id": "again"}]},
        headers=tenant.admin,
    )
    api.put("/api/secrets/CRM_TOKEN", json={"value": SECRET_VALUE}, headers=tenant.admin)
    hook = api.put(f"/api/workflows/{workflow_id}/webhook", json={"signed": True}, headers=tenant.admin).json()
    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member).json()["run_id"]
    poll_run(api, run_id, tenant.member, finished)
    runs_listed(api, tenant, run_id)

    export = exported(api, tenant)

    archive, text = export["archive"], json.dumps(export)
    assert export["status"] == "completed" and export["completed_at"] is not None
    assert archive["tenant"]["id"] == tenant.id and archive["tenant"]["name"] == "Exporter"
    assert [v["version"] for v in archive["definitions"][0]["versions"]] == [1, 2]
    assert [s["name"] for s in archive["secrets"]] == ["CRM_TOKEN"]
    assert [(r["run_id"], r["definition_id"], r["status"]) for r in archive["runs"]] == [
        (run_id, workflow_id, "completed")
    ]
    assert archive["webhooks"][0]["signed"] is True and len(archive["api_keys"]) == 2
    with Session(engine) as session:
        hashes = [k.key_hash for k in session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant.id))]
    for forbidden in (SECRET_VALUE, hook["token"], hook["signing_secret"], *hashes):
        assert forbidden not in text
    assert "data_export_requested" in {entry["action"] for entry in archive["audit_log"]}


def test_another_tenants_export_is_not_found_and_members_may_not_export(api: TestClient) -> None:
    owner, stranger = new_tenant(api), new_tenant(api)
    request_id = api.post("/api/me/export-data", headers=owner.admin).json()["request_id"]

    foreign = api.get(f"/api/me/export-data/{request_id}", headers=stranger.admin)
    by_member = api.post("/api/me/export-data", headers=owner.member)

    assert foreign.status_code == 404 and foreign.json()["field"] == "request_id"
    assert by_member.status_code == 403 and by_member.json()["code"] == "admin_only"


def test_deleting_the_account_soft_deletes_the_tenant_and_records_the_request(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, LOG)

    deleted = api.post("/api/me/delete-account", headers=tenant.admin)
    again = api.post("/api/me/delete-account", headers=tenant.admin)

    assert deleted.status_code == 202, deleted.text
    assert deleted.json()["state"] == "deleted" and deleted.json()["purge_at"] is not None
    assert api.get(f"/api/tenants/{tenant.id}", headers=founder_headers()).json()["status"] == "deleted"
    refused = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member)
    assert refused.status_code == 403 and refused.json()["code"] == "tenant_deleted"
    assert again.status_code == 403 and again.json()["current_state"] == "deleted"  # its keys may only read now
    requests = api.get("/api/me/data-requests", headers=tenant.admin).json()
    assert [(r["id"], r["kind"], r["status"]) for r in requests] == [
        (deleted.json()["request_id"], "erasure", "pending")
    ]
    deadline_in = datetime.fromisoformat(requests[0]["deadline_at"]) - datetime.fromisoformat(
        requests[0]["requested_at"]
    )
    assert deadline_in == timedelta(days=30) and "archive" not in requests[0]
    with Session(engine) as session:
        actions = session.exec(select(AuditEntry.action).where(AuditEntry.tenant_id == tenant.id)).all()
    assert "account_deletion_requested" in actions

"""Tenant secrets: stored encrypted, listed by name only, resolved by the HTTP activity and never
written into a run's history or result."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from schemas.tables import TenantSecret
from starters.runs import run_workflow_id
from tests.api.tenancy import new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.fakes.target import TargetServer

TOKEN = "crm-token-3f9a1c-very-secret"


def test_secrets_are_stored_encrypted_and_listed_by_name_only(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)

    stored = api.put("/api/secrets/CRM_TOKEN", json={"value": TOKEN}, headers=tenant.admin)

    assert stored.status_code == 200 and "value" not in stored.json()
    assert [s["name"] for s in api.get("/api/secrets", headers=tenant.member).json()] == ["CRM_TOKEN"]
    with Session(engine) as session:
        row = session.exec(select(TenantSecret).where(TenantSecret.tenant_id == tenant.id)).one()
    assert TOKEN not in row.ciphertext


def test_only_admins_change_secrets_and_names_are_checked(api: TestClient) -> None:
    tenant = new_tenant(api)

    by_member = api.put("/api/secrets/CRM_TOKEN", json={"value": TOKEN}, headers=tenant.member)
    bad_name = api.put("/api/secrets/crm-token", json={"value": TOKEN}, headers=tenant.admin)
    empty = api.put("/api/secrets/CRM_TOKEN", json={"value": ""}, headers=tenant.admin)

    assert by_member.status_code == 403 and by_member.json()["code"] == "admin_only"
    assert bad_name.status_code == 422 and bad_name.json()["field"] == "path.name"
    assert empty.status_code == 422 and empty.json()["field"] == "body.value"
    assert api.get("/api/secrets", headers=tenant.admin).json() == []


def test_another_tenants_secret_is_not_found(api: TestClient) -> None:
    owner, stranger = new_tenant(api), new_tenant(api, name="Stranger")
    api.put("/api/secrets/CRM_TOKEN", json={"value": TOKEN}, headers=owner.admin)

    deleted = api.delete("/api/secrets/CRM_TOKEN", headers=stranger.admin)

    assert deleted.status_code == 404 and deleted.json()["code"] == "secret_not_found"
    assert api.get("/api/secrets", headers=stranger.admin).json() == []
    assert api.delete("/api/secrets/CRM_TOKEN", headers=owner.admin).status_code == 204


async def test_a_step_sends_the_secret_but_history_and_result_never_hold_it(
    api: TestClient, client: Client, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    api.put("/api/secrets/CRM_TOKEN", json={"value": TOKEN}, headers=tenant.admin)
    workflow_id = new_workflow(
        api,
        tenant,
        {
            "id": "push",
            "type": "http_request",
            "method": "POST",
            "url": target_server.url + "/echo?t=secret-e2e",
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
            "json": {"token": "{{ secrets.CRM_TOKEN }}"},
        },
    )

    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()["run_id"]

    run = poll_run(api, run_id, tenant.member, finished)
    sent = [c for c in target_server.calls_to("/echo") if c.query.get("t") == "secret-e2e"]
    assert run["status"] == "completed"
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}" and sent[0].json == {"token": TOKEN}
    assert run["steps"][0]["result"]["body"]["json"] == {"token": "***"}
    history = await client.get_workflow_handle(run_workflow_id(run_id)).fetch_history()
    assert TOKEN not in history.to_json()


def test_a_missing_secret_fails_the_step_without_retrying(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api,
        tenant,
        {
            "id": "push",
            "type": "http_request",
            "url": target_server.url + "/echo?t=missing-secret",
            "headers": {"X-Api-Key": "{{ secrets.NEVER_SET }}"},
        },
    )

    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()["run_id"]

    run = poll_run(api, run_id, tenant.member, finished)
    assert run["status"] == "failed"
    assert run["error"]["type"] == "SecretNotFound" and run["steps"][0]["attempts"] == 1
    assert [c for c in target_server.calls_to("/echo") if c.query.get("t") == "missing-secret"] == []

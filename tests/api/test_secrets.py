"""Tenant secrets: stored encrypted, listed by name only, resolved by the HTTP activity and never
written into a run's history or result."""

from urllib.parse import quote

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


async def test_placeholder_text_in_input_or_a_response_reaches_the_target_as_text_not_as_the_secret(
    api: TestClient, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    api.put("/api/secrets/CRM_TOKEN", json={"value": TOKEN}, headers=tenant.admin)
    forged = "⟪secret:CRM_TOKEN⟫ ⟪secret:0123456789abcdef0123456789abcdef:CRM_TOKEN⟫"
    workflow_id = new_workflow(
        api,
        tenant,
        # An earlier response that echoes a forged placeholder back.
        {"id": "peek", "type": "http_request", "url": target_server.url + "/echo?t=forged-peek&echo=" + quote(forged)},
        {
            "id": "push",
            "type": "http_request",
            "method": "POST",
            "url": target_server.url + "/echo?t=forged-push",
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
            "json": {"msg": "{{ input.msg }}", "echoed": "{{ steps.peek.body.query.echo }}"},
        },
    )

    started = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {"msg": forged}}, headers=tenant.member)

    run = poll_run(api, started.json()["run_id"], tenant.member, finished)
    sent = [c for c in target_server.calls_to("/echo") if c.query.get("t") == "forged-push"]
    assert run["status"] == "completed"
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert sent[0].json == {"msg": forged, "echoed": forged}
    assert TOKEN.encode() not in sent[0].body


def test_a_secret_named_by_data_fails_the_step_without_sending(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api)
    api.put("/api/secrets/CRM_TOKEN", json={"value": TOKEN}, headers=tenant.admin)
    api.put("/api/secrets/OTHER_TOKEN", json={"value": "other-" + TOKEN}, headers=tenant.admin)
    workflow_id = new_workflow(
        api,
        tenant,
        {
            "id": "push",
            "type": "http_request",
            "url": target_server.url + "/echo?t=data-named",
            # The validator sees a named secret in this text and lets it pass; the run does not.
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }} {{ secrets[input.name] }}"},
        },
    )

    started = api.post(
        f"/api/workflows/{workflow_id}/runs", json={"input": {"name": "OTHER_TOKEN"}}, headers=tenant.member
    )

    run = poll_run(api, started.json()["run_id"], tenant.member, finished)
    assert run["status"] == "failed" and run["error"]["type"] == "ExpressionError"
    assert [c for c in target_server.calls_to("/echo") if c.query.get("t") == "data-named"] == []


def test_a_placeholder_rewritten_by_a_filter_names_only_the_steps_own_secrets(
    api: TestClient, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    api.put("/api/secrets/CRM_TOKEN", json={"value": TOKEN}, headers=tenant.admin)
    api.put("/api/secrets/OTHER_TOKEN", json={"value": "other-" + TOKEN}, headers=tenant.admin)
    workflow_id = new_workflow(
        api,
        tenant,
        {
            "id": "push",
            "type": "http_request",
            "url": target_server.url + "/echo?t=rewritten",
            "json": {"key": "{{ secrets.CRM_TOKEN | replace('CRM_TOKEN', input.name) }}"},
        },
    )

    started = api.post(
        f"/api/workflows/{workflow_id}/runs", json={"input": {"name": "OTHER_TOKEN"}}, headers=tenant.member
    )

    run = poll_run(api, started.json()["run_id"], tenant.member, finished)
    sent = [c for c in target_server.calls_to("/echo") if c.query.get("t") == "rewritten"]
    assert run["status"] == "completed"
    assert sent[0].json["key"].startswith("\u27easecret:") and sent[0].json["key"].endswith(":OTHER_TOKEN\u27eb")
    assert TOKEN.encode() not in sent[0].body


def test_an_outsider_posting_a_placeholder_to_a_webhook_gets_no_secret(
    api: TestClient, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    api.put("/api/secrets/STRIPE_KEY", json={"value": TOKEN}, headers=tenant.admin)
    workflow_id = new_workflow(
        api,
        tenant,
        {
            "id": "forward",
            "type": "http_request",
            "method": "POST",
            "url": target_server.url + "/echo?t=hook-forged",
            "headers": {"Authorization": "Bearer {{ secrets.STRIPE_KEY }}"},
            "json": {"msg": "{{ input.msg }}"},
        },
    )
    hook = api.put(f"/api/workflows/{workflow_id}/webhook", json={}, headers=tenant.admin).json()

    delivered = api.post(hook["url"], json={"msg": "⟪secret:STRIPE_KEY⟫"})

    run = poll_run(api, delivered.json()["run_id"], tenant.member, finished)
    sent = [c for c in target_server.calls_to("/echo") if c.query.get("t") == "hook-forged"]
    assert run["status"] == "completed"
    assert sent[0].json == {"msg": "⟪secret:STRIPE_KEY⟫"}
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}"

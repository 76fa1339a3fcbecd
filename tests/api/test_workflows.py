"""Definitions through the API: validation reports, versions and tenant walls."""

from fastapi.testclient import TestClient

from tests.api.tenancy import new_tenant, new_workflow
from tests.conftest import founder_headers

LOG = {"id": "hello", "type": "log", "message": "hi {{ input.name }}"}


def test_valid_definition_is_stored_as_version_one(api: TestClient) -> None:
    tenant = new_tenant(api)

    created = api.post("/api/workflows", json={"name": "greet", "steps": [LOG]}, headers=tenant.member)

    assert created.status_code == 201
    body = created.json()
    assert body["version"] == 1 and body["definition"]["steps"][0]["id"] == "hello"
    assert [w["id"] for w in api.get("/api/workflows", headers=tenant.member).json()] == [body["id"]]


def test_invalid_definition_answers_422_with_the_report_and_stores_nothing(api: TestClient) -> None:
    tenant = new_tenant(api)
    broken = {
        "name": "broken",
        "steps": [
            {"id": "Bad-Id", "type": "log", "message": "x"},
            {"id": "check", "type": "condition", "expression": "input.x >", "then": "nowhere", "else": "end"},
        ],
    }

    answer = api.post("/api/workflows", json=broken, headers=tenant.admin)

    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "invalid_definition" and body["valid"] is False
    paths = {error["path"] for error in body["errors"]}
    assert {"$.steps[0].id", "$.steps[1].then"} <= paths
    assert body["field"] == body["errors"][0]["path"]
    assert api.get("/api/workflows", headers=tenant.admin).json() == []


def test_validate_reports_without_storing(api: TestClient) -> None:
    tenant = new_tenant(api)

    report = api.post(
        "/api/workflows/validate", json={"name": "x", "steps": [{"id": "a", "type": "delay"}]}, headers=tenant.admin
    )

    assert report.status_code == 200
    assert report.json()["valid"] is False
    assert report.json()["errors"][0]["path"] == "$.steps[0].seconds"
    assert api.get("/api/workflows", headers=tenant.admin).json() == []


def test_validation_uses_the_tenants_plan_for_risky_steps(api: TestClient) -> None:
    free, enterprise = new_tenant(api, plan="free"), new_tenant(api, plan="enterprise")
    mail = {
        "name": "mail",
        "steps": [{"id": "send", "type": "email", "to": ["a@example.com"], "subject": "s", "body": "b"}],
    }

    on_free = api.post("/api/workflows/validate", json=mail, headers=free.admin).json()
    on_enterprise = api.post("/api/workflows/validate", json=mail, headers=enterprise.admin).json()

    assert [e["code"] for e in on_free["errors"]] == ["risky_step_needs_approval"]
    assert on_enterprise["valid"] is True


def test_put_adds_a_version_and_old_versions_stay_readable(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, LOG)

    updated = api.put(
        f"/api/workflows/{workflow_id}",
        json={"name": "greet v2", "steps": [LOG, {**LOG, "id": "again"}]},
        headers=tenant.admin,
    )

    assert updated.status_code == 200 and updated.json()["version"] == 2
    first = api.get(f"/api/workflows/{workflow_id}?version=1", headers=tenant.admin).json()
    assert len(first["definition"]["steps"]) == 1
    assert (
        api.get(f"/api/workflows/{workflow_id}?version=9", headers=tenant.admin).json()["code"] == "version_not_found"
    )


def test_another_tenants_definition_is_not_found(api: TestClient) -> None:
    owner, stranger = new_tenant(api), new_tenant(api, name="Stranger")
    workflow_id = new_workflow(api, owner, LOG)

    read = api.get(f"/api/workflows/{workflow_id}", headers=stranger.admin)
    write = api.put(f"/api/workflows/{workflow_id}", json={"name": "mine", "steps": [LOG]}, headers=stranger.admin)
    start = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=stranger.admin)

    assert [read.status_code, write.status_code, start.status_code] == [404, 404, 404]
    assert read.json()["code"] == "workflow_not_found"
    assert api.get("/api/workflows", headers=stranger.admin).json() == []


def test_definitions_need_a_tenant_key(api: TestClient) -> None:
    answer = api.post("/api/workflows", json={"name": "x", "steps": [LOG]}, headers=founder_headers())

    assert answer.status_code == 403 and answer.json()["code"] == "tenant_key_required"


def test_non_object_definition_is_reported_at_the_root(api: TestClient) -> None:
    tenant = new_tenant(api)

    answer = api.post("/api/workflows", json=[1, 2], headers=tenant.admin)

    assert answer.status_code == 422 and answer.json()["field"] == "$"


def test_a_member_key_cannot_change_a_definition_or_weaken_its_gate(api: TestClient) -> None:
    tenant = new_tenant(api)
    gate = {"id": "gate", "type": "approval", "class": "B", "message": "an admin approves"}
    workflow_id = new_workflow(api, tenant, gate, LOG)

    weakened = {"name": "flow", "steps": [{**gate, "class": "A"}, LOG]}
    by_member = api.put(f"/api/workflows/{workflow_id}", json=weakened, headers=tenant.member)
    by_admin = api.put(f"/api/workflows/{workflow_id}", json={"name": "flow", "steps": [gate]}, headers=tenant.admin)
    draft = api.post("/api/workflows", json={"name": "draft", "steps": [LOG]}, headers=tenant.member)

    assert (by_member.status_code, by_member.json()["code"]) == (403, "admin_only")
    assert by_member.json()["field"] == "authorization"
    assert by_admin.status_code == 200 and by_admin.json()["version"] == 2
    versions = [api.get(f"/api/workflows/{workflow_id}?version={n}", headers=tenant.member).json() for n in (1, 2)]
    assert [v["definition"]["steps"][0]["class"] for v in versions] == ["B", "B"]
    assert draft.status_code == 201


PLAIN_HTTP = {"id": "ping", "type": "http_request", "method": "GET", "url": "http://example.com/ping"}


def test_storing_a_version_answers_the_validators_warnings(api: TestClient) -> None:
    tenant = new_tenant(api)
    body = {"name": "pinger", "steps": [PLAIN_HTTP]}
    expected = api.post("/api/workflows/validate", json=body, headers=tenant.admin).json()["warnings"]

    created = api.post("/api/workflows", json=body, headers=tenant.admin)
    updated = api.put(f"/api/workflows/{created.json()['id']}", json=body, headers=tenant.admin)
    clean = api.post("/api/workflows", json={"name": "greet", "steps": [LOG]}, headers=tenant.admin)

    assert created.status_code == 201 and updated.status_code == 200
    assert [w["code"] for w in created.json()["warnings"]] == ["plain_http"]
    assert created.json()["warnings"] == [{k: w[k] for k in ("path", "code", "message")} for w in expected]
    assert updated.json()["warnings"] == created.json()["warnings"] and updated.json()["version"] == 2
    assert clean.json()["warnings"] == []
    assert "warnings" not in api.get(f"/api/workflows/{created.json()['id']}", headers=tenant.admin).json()

"""Tenants, API keys and authentication."""

from fastapi.testclient import TestClient

from core.security import hash_api_key
from core.settings import Settings
from tests.api.tenancy import new_tenant
from tests.conftest import founder_headers


def test_founder_creates_a_tenant_with_a_key_shown_once(api: TestClient) -> None:
    created = api.post("/api/tenants", json={"name": "Globex", "plan": "pro"}, headers=founder_headers())

    assert created.status_code == 201
    body = created.json()
    assert body["tenant"]["plan"] == "pro"
    assert body["api_key"]["key"].startswith("lvq_") and body["api_key"]["role"] == "admin"
    tenant = api.get(
        f"/api/tenants/{body['tenant']['id']}", headers={"Authorization": f"Bearer {body['api_key']['key']}"}
    )
    assert tenant.status_code == 200 and tenant.json()["name"] == "Globex"


def test_api_keys_are_stored_only_as_hashes(api: TestClient, settings: Settings) -> None:
    from sqlmodel import Session, create_engine, select

    from schemas.tables import ApiKey

    key = api.post("/api/tenants", json={"name": "Hashco"}, headers=founder_headers()).json()["api_key"]

    with Session(create_engine(settings.database_url)) as session:
        row = session.exec(select(ApiKey).where(ApiKey.id == key["id"])).one()
    assert row.key_hash == hash_api_key(key["key"]) and key["key"] not in row.model_dump_json()


def test_only_the_founder_creates_tenants(api: TestClient) -> None:
    tenant = new_tenant(api)

    refused = api.post("/api/tenants", json={"name": "Sneaky"}, headers=tenant.admin)

    assert refused.status_code == 403 and refused.json()["code"] == "founder_only"


def test_missing_or_unknown_token_is_unauthenticated(api: TestClient) -> None:
    missing = api.get("/api/workflows")
    unknown = api.get("/api/workflows", headers={"Authorization": "Bearer lvq_not-a-real-key"})

    assert missing.status_code == 401 and missing.json()["field"] == "authorization"
    assert unknown.status_code == 401 and unknown.json()["code"] == "unauthenticated"


def test_a_member_key_cannot_issue_keys(api: TestClient) -> None:
    tenant = new_tenant(api)

    refused = api.post(f"/api/tenants/{tenant.id}/api-keys", json={"role": "admin"}, headers=tenant.member)

    assert refused.status_code == 403 and refused.json()["code"] == "admin_only"


def test_another_tenant_is_not_found(api: TestClient) -> None:
    mine, theirs = new_tenant(api), new_tenant(api, name="Other")

    read = api.get(f"/api/tenants/{theirs.id}", headers=mine.admin)
    keys = api.post(f"/api/tenants/{theirs.id}/api-keys", json={"role": "admin"}, headers=mine.admin)

    assert read.status_code == 404 and keys.status_code == 404
    assert keys.json()["code"] == "tenant_not_found"


def test_bad_tenant_body_is_a_clear_error(api: TestClient) -> None:
    wrong_plan = api.post("/api/tenants", json={"name": "X", "plan": "platinum"}, headers=founder_headers())
    no_name = api.post("/api/tenants", json={}, headers=founder_headers())
    not_json = api.post(
        "/api/tenants", content=b"{nope", headers={**founder_headers(), "content-type": "application/json"}
    )

    assert wrong_plan.status_code == 422 and wrong_plan.json()["field"] == "body.plan"
    assert no_name.status_code == 422 and no_name.json()["field"] == "body.name"
    assert not_json.status_code == 422 and not_json.json()["code"] == "invalid_json"

"""Tenants, API keys and authentication."""

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.main import create_app
from core.security import hash_api_key
from core.settings import Settings
from schemas.tables import AuditEntry
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


def audit_actions(engine: Engine, tenant_id: str) -> list[tuple[str, str, dict]]:
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.tenant_id == tenant_id).order_by(col(AuditEntry.at))
        ).all()
    return [(row.action, row.actor, row.detail) for row in rows if row.action.startswith("api_key.")]


def admin_key_id(api: TestClient, tenant_id: str) -> str:
    """The id of the tenant's first (admin) key, as the founder lists it."""
    keys = api.get(f"/api/tenants/{tenant_id}/api-keys", headers=founder_headers()).json()
    return next(key["id"] for key in keys if key["role"] == "admin")


def test_keys_are_listed_with_their_label_but_never_the_key(api: TestClient, engine: Engine) -> None:
    tenant, stranger = new_tenant(api), new_tenant(api, name="Stranger")
    issued = api.post(
        f"/api/tenants/{tenant.id}/api-keys", json={"role": "member", "label": "ci runner"}, headers=tenant.admin
    ).json()

    listed = api.get(f"/api/tenants/{tenant.id}/api-keys", headers=tenant.admin)
    by_founder = api.get(f"/api/tenants/{tenant.id}/api-keys", headers=founder_headers())
    by_member = api.get(f"/api/tenants/{tenant.id}/api-keys", headers=tenant.member)
    by_stranger = api.get(f"/api/tenants/{tenant.id}/api-keys", headers=stranger.admin)

    assert listed.status_code == 200 and listed.json() == by_founder.json()
    keys = {key["id"]: key for key in listed.json()}
    assert len(keys) == 3 and issued["label"] == "ci runner"
    mine = keys[issued["id"]]
    assert (mine["prefix"], mine["role"], mine["label"], mine["revoked_at"]) == (
        issued["prefix"],
        "member",
        "ci runner",
        None,
    )
    assert mine["created_at"] and "last_used_at" in mine
    assert issued["key"] not in listed.text and hash_api_key(issued["key"]) not in listed.text
    assert not {"key", "key_hash"} & set(mine)
    assert (by_member.status_code, by_member.json()["code"]) == (403, "admin_only")
    assert (by_stranger.status_code, by_stranger.json()["code"]) == (404, "tenant_not_found")
    created = [(actor, detail["key_id"]) for action, actor, detail in audit_actions(engine, tenant.id)]
    assert created[0][0] == "founder" and created[-1] == (f"key:{admin_key_id(api, tenant.id)}", issued["id"])


def test_a_revoked_key_is_refused_at_once_and_the_revocation_is_audited(api: TestClient, engine: Engine) -> None:
    tenant, stranger = new_tenant(api), new_tenant(api, name="Stranger")
    issued = api.post(f"/api/tenants/{tenant.id}/api-keys", json={}, headers=tenant.admin).json()
    key = {"Authorization": f"Bearer {issued['key']}"}
    assert api.get("/api/workflows", headers=key).status_code == 200  # now in the process's cache

    foreign = api.delete(f"/api/tenants/{stranger.id}/api-keys/{issued['id']}", headers=stranger.admin)
    across = api.delete(f"/api/tenants/{tenant.id}/api-keys/{issued['id']}", headers=stranger.admin)
    by_member = api.delete(f"/api/tenants/{tenant.id}/api-keys/{issued['id']}", headers=tenant.member)
    still_works = api.get("/api/workflows", headers=key)
    revoked = api.delete(f"/api/tenants/{tenant.id}/api-keys/{issued['id']}", headers=tenant.admin)
    refused = api.get("/api/workflows", headers=key)
    again = api.delete(f"/api/tenants/{tenant.id}/api-keys/{issued['id']}", headers=tenant.admin)
    unknown = api.delete(f"/api/tenants/{tenant.id}/api-keys/no-such-key", headers=tenant.admin)

    assert (foreign.status_code, foreign.json()["code"]) == (404, "api_key_not_found")
    assert (across.status_code, across.json()["code"]) == (404, "tenant_not_found")
    assert (by_member.status_code, still_works.status_code) == (403, 200)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthenticated")
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert (unknown.status_code, unknown.json()["field"]) == (404, "key_id")
    revocations = [entry for entry in audit_actions(engine, tenant.id) if entry[0] == "api_key.revoked"]
    assert revocations == [
        (
            "api_key.revoked",
            f"key:{admin_key_id(api, tenant.id)}",
            {"key_id": issued["id"], "prefix": issued["prefix"], "role": "member"},
        )
    ]


def test_a_tenant_cannot_revoke_its_last_admin_key_but_the_founder_can(api: TestClient) -> None:
    tenant = new_tenant(api)
    admin_id = admin_key_id(api, tenant.id)

    refused = api.delete(f"/api/tenants/{tenant.id}/api-keys/{admin_id}", headers=tenant.admin)
    still_admin = api.get(f"/api/tenants/{tenant.id}/api-keys", headers=tenant.admin)
    by_founder = api.delete(f"/api/tenants/{tenant.id}/api-keys/{admin_id}", headers=founder_headers())

    assert (refused.status_code, refused.json()["code"]) == (409, "last_admin_key")
    assert still_admin.status_code == 200
    assert by_founder.status_code == 200
    assert api.get(f"/api/tenants/{tenant.id}", headers=tenant.admin).status_code == 401


def test_a_suspended_or_deleted_tenants_keys_may_only_read_their_state_and_pay(api: TestClient) -> None:
    tenant = new_tenant(api)
    assert api.get("/api/workflows", headers=tenant.member).status_code == 200  # now in the process's cache

    def change(transition: str) -> None:
        answer = api.post(f"/api/tenants/{tenant.id}/{transition}", json={}, headers=founder_headers())
        assert answer.status_code == 200, answer.text

    change("suspend")
    suspended = [
        api.get("/api/workflows", headers=tenant.member),
        api.post("/api/workflows", json={"name": "x", "steps": []}, headers=tenant.admin),
        api.post(f"/api/tenants/{tenant.id}/api-keys", json={}, headers=tenant.admin),
    ]
    state = api.get(f"/api/tenants/{tenant.id}", headers=tenant.admin)
    billing = api.get("/api/billing", headers=tenant.admin)
    change("resume")
    resumed = api.get("/api/workflows", headers=tenant.member)
    change("delete")
    deleted = api.get("/api/workflows", headers=tenant.member)

    assert [(a.status_code, a.json()["code"]) for a in suspended] == [(403, "tenant_suspended")] * 3
    assert suspended[0].json()["field"] == "authorization"
    assert state.status_code == 200 and state.json()["status"] == "suspended"
    assert billing.status_code == 200
    assert resumed.status_code == 200
    assert (deleted.status_code, deleted.json()["code"]) == (403, "tenant_deleted")


@pytest.fixture
def other_process(settings: Settings) -> Iterator[TestClient]:
    """A second API process on the same database with a short key cache (no worker of its own)."""
    short = settings.model_copy(update={"api_key_cache_ttl_s": 0.5, "api_embedded_worker": False})
    with TestClient(create_app(short)) as test_client:
        yield test_client


def refused_while_in_use(client: TestClient, headers: dict[str, str], code: str, within_s: float) -> float:
    """Uses the key every 20 ms (each use a cache hit) until it is refused with `code`; the seconds it took."""
    started = time.monotonic()
    while True:
        answer = client.get("/api/workflows", headers=headers)
        elapsed = time.monotonic() - started
        if answer.status_code != 200:
            assert answer.json()["code"] == code, answer.text
            return elapsed
        assert elapsed < within_s, f"still accepted after {elapsed:.1f} s"
        time.sleep(0.02)


def test_another_process_refuses_a_revoked_key_and_a_suspended_tenant_within_its_ttl_however_busy(
    api: TestClient, other_process: TestClient
) -> None:
    tenant, suspended = new_tenant(api), new_tenant(api, name="Suspended")
    issued = api.post(f"/api/tenants/{tenant.id}/api-keys", json={}, headers=tenant.admin).json()
    key = {"Authorization": f"Bearer {issued['key']}"}
    assert other_process.get("/api/workflows", headers=key).status_code == 200
    assert other_process.get("/api/workflows", headers=suspended.member).status_code == 200

    assert api.delete(f"/api/tenants/{tenant.id}/api-keys/{issued['id']}", headers=tenant.admin).status_code == 200
    revoked_after = refused_while_in_use(other_process, key, "unauthenticated", within_s=0.5 + 2)
    assert api.post(f"/api/tenants/{suspended.id}/suspend", json={}, headers=founder_headers()).status_code == 200
    suspended_after = refused_while_in_use(other_process, suspended.member, "tenant_suspended", within_s=0.5 + 2)

    assert revoked_after < 2.5 and suspended_after < 2.5


def test_a_lifecycle_change_through_the_json_api_is_audited_as_the_founder(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)

    suspended = api.post(f"/api/tenants/{tenant.id}/suspend", json={"reason": "unpaid"}, headers=founder_headers())
    resumed = api.post(f"/api/tenants/{tenant.id}/resume", json={}, headers=founder_headers())

    assert (suspended.status_code, resumed.status_code) == (200, 200), suspended.text
    with Session(engine) as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant.id, col(AuditEntry.action).startswith("tenant."))
            .order_by(col(AuditEntry.at))
        ).all()
    assert [(e.action, e.actor, e.detail.get("status"), e.detail.get("reason")) for e in entries] == [
        ("tenant.suspended", "founder", "suspended", "unpaid"),
        ("tenant.resumed", "founder", "active", None),
    ]

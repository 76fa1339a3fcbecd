"""Creating tenants and keys through the API, as a founder would."""

from dataclasses import dataclass

from fastapi.testclient import TestClient

from tests.conftest import founder_headers


@dataclass
class ApiTenant:
    id: str
    admin: dict[str, str]
    member: dict[str, str]


def new_tenant(api: TestClient, plan: str = "enterprise", name: str = "Acme") -> ApiTenant:
    created = api.post("/api/tenants", json={"name": name, "plan": plan}, headers=founder_headers())
    assert created.status_code == 201, created.text
    tenant_id, admin_key = created.json()["tenant"]["id"], created.json()["api_key"]["key"]
    admin = {"Authorization": f"Bearer {admin_key}"}
    member_key = api.post(f"/api/tenants/{tenant_id}/api-keys", json={"role": "member"}, headers=admin)
    assert member_key.status_code == 201, member_key.text
    return ApiTenant(id=tenant_id, admin=admin, member={"Authorization": f"Bearer {member_key.json()['key']}"})


def new_workflow(api: TestClient, tenant: ApiTenant, *steps: dict, **extra: object) -> str:
    created = api.post("/api/workflows", json={"name": "flow", "steps": list(steps), **extra}, headers=tenant.admin)
    assert created.status_code == 201, created.text
    return created.json()["id"]

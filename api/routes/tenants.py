"""Tenants and their API keys. The founder creates tenants; a tenant admin may add keys to its own tenant."""

from fastapi import APIRouter, status

from api.deps import CallerDep, FounderDep, SessionDep
from api.errors import ApiError
from core.security import new_api_key
from schemas.api import ApiKeyCreate, ApiKeyCreated, KeyRole, TenantCreate, TenantCreated, TenantPublic
from schemas.tables import ApiKey, Tenant

router = APIRouter(prefix="/api/tenants", tags=["tenants"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, _founder: FounderDep, session: SessionDep) -> TenantCreated:
    """Create a tenant and its first (admin) API key; the key is shown only in this answer."""
    tenant = Tenant(name=body.name.strip(), plan=body.plan)
    session.add(tenant)
    session.flush()
    key = _issue_key(session, tenant.id, "admin", "first key")
    session.commit()
    return TenantCreated(tenant=TenantPublic.model_validate(tenant, from_attributes=True), api_key=key)


@router.get("")
def list_tenants(_founder: FounderDep, session: SessionDep) -> list[TenantPublic]:
    """Every tenant (founder only)."""
    tenants = session.query(Tenant).order_by(Tenant.created_at).all()
    return [TenantPublic.model_validate(tenant, from_attributes=True) for tenant in tenants]


@router.get("/{tenant_id}")
def get_tenant(tenant_id: str, caller: CallerDep, session: SessionDep) -> TenantPublic:
    """One tenant: the founder sees any, a tenant key only its own."""
    return TenantPublic.model_validate(_visible_tenant(session, tenant_id, caller), from_attributes=True)


@router.post("/{tenant_id}/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(tenant_id: str, body: ApiKeyCreate, caller: CallerDep, session: SessionDep) -> ApiKeyCreated:
    """Issue another API key for a tenant (founder, or an admin key of that tenant)."""
    tenant = _visible_tenant(session, tenant_id, caller)
    if not caller.is_founder and caller.role != "admin":
        raise ApiError(403, "admin_only", "Only an admin key may issue keys", field="authorization")
    key = _issue_key(session, tenant.id, body.role, body.label)
    session.commit()
    return key


def _visible_tenant(session: SessionDep, tenant_id: str, caller: CallerDep) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or not (caller.is_founder or caller.tenant_id == tenant.id):
        raise ApiError(404, "tenant_not_found", "No tenant with this id", field="tenant_id")
    return tenant


def _issue_key(session: SessionDep, tenant_id: str, role: KeyRole, label: str | None) -> ApiKeyCreated:
    fresh = new_api_key()
    row = ApiKey(tenant_id=tenant_id, role=role, prefix=fresh.prefix, key_hash=fresh.key_hash, label=label)
    session.add(row)
    session.flush()
    return ApiKeyCreated(id=row.id, tenant_id=tenant_id, role=role, prefix=fresh.prefix, key=fresh.plaintext)

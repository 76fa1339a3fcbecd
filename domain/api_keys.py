"""API keys: the key behind a token's hash as authentication reads it (with its tenant's state), the stamp of
its last use, and listing and revoking a tenant's keys (audited)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Engine, update
from sqlmodel import Session, col, or_, select

from core.errors import ApiError
from schemas.i18n import tr
from schemas.tables import ApiKey, AuditEntry, Tenant
from schemas.tenants import ApiKeyPublic


@dataclass(frozen=True)
class KeyHolder:
    """An unrevoked key and the status of its tenant (mirrored from the tenant's lifecycle)."""

    key_id: str
    tenant_id: str
    role: str
    tenant_status: str


def active_key(engine: Engine, key_hash: str) -> KeyHolder | None:
    """The unrevoked key with this hash and its tenant's status, in one query; None when there is none."""
    with Session(engine) as session:
        found = session.exec(
            select(ApiKey.id, ApiKey.tenant_id, ApiKey.role, Tenant.status)
            .join(Tenant, col(Tenant.id) == col(ApiKey.tenant_id))
            .where(ApiKey.key_hash == key_hash, col(ApiKey.revoked_at).is_(None))
        ).first()
    return None if found is None else KeyHolder(*found)


def record_key_use(engine: Engine, key_id: str, at: datetime, interval_s: float) -> None:
    """Sets the key's last_used_at unless another API process did so within the interval. Never raises:
    it runs after the response, and a lost usage stamp must never fail or slow a request."""
    recent = at - timedelta(seconds=interval_s)
    try:
        with Session(engine) as session:
            stale = or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) < recent)
            session.execute(update(ApiKey).where(col(ApiKey.id) == key_id, stale).values(last_used_at=at))
            session.commit()
    except Exception as err:
        structlog.get_logger().warning("key use not recorded", key_id=key_id, error_type=type(err).__name__)


def audit_key(session: Session, key: ApiKey, action: str, actor: str) -> None:
    """Adds the audit entry of a key's creation or revocation (never the key or its hash) to the session."""
    detail = {"key_id": key.id, "prefix": key.prefix, "role": key.role}
    session.add(AuditEntry(tenant_id=key.tenant_id, actor=actor[:100], action=action, detail=detail))


def tenant_keys(session: Session, tenant_id: str) -> list[ApiKeyPublic]:
    """The tenant's keys, revoked ones included, oldest first; never a key or its hash."""
    rows = session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(col(ApiKey.created_at))).all()
    return [ApiKeyPublic.model_validate(row, from_attributes=True) for row in rows]


def revoke_key(session: Session, tenant_id: str, key_id: str, actor: str, by_founder: bool) -> ApiKeyPublic:
    """Revokes the tenant's key and audits it; revoking a revoked key changes nothing. 404 for another
    tenant's key; 409 `last_admin_key` when a tenant's own admin would revoke its last admin key (the
    founder may, and can issue the tenant a new one)."""
    # Locks the tenant row (PostgreSQL), so two revocations cannot each leave the other as the last admin key.
    session.exec(select(Tenant).where(Tenant.id == tenant_id).with_for_update()).first()
    key = session.get(ApiKey, key_id)
    if key is None or key.tenant_id != tenant_id:
        raise ApiError(404, "api_key_not_found", tr("No API key with this id"), field="key_id")
    if key.revoked_at is None:
        if key.role == "admin" and not by_founder and _other_admin_keys(session, key) == 0:
            message = tr("This is the tenant's last admin key: issue another admin key first")
            raise ApiError(409, "last_admin_key", message, field="key_id")
        key.revoked_at = datetime.now(UTC)
        session.add(key)
        audit_key(session, key, "api_key.revoked", actor)
        session.commit()
    return ApiKeyPublic.model_validate(key, from_attributes=True)


def _other_admin_keys(session: Session, key: ApiKey) -> int:
    others = select(ApiKey.id).where(
        ApiKey.tenant_id == key.tenant_id,
        ApiKey.role == "admin",
        col(ApiKey.revoked_at).is_(None),
        ApiKey.id != key.id,
    )
    return len(session.exec(others).all())

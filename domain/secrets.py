"""Tenant secrets: stored encrypted, listed by name only, never answered in plain text."""

from datetime import UTC, datetime

from pydantic import SecretStr
from sqlmodel import Session, select

from core.errors import ApiError
from core.security import SecretBox
from domain.store import commit_or_conflict
from schemas.i18n import tr
from schemas.secrets import SecretPublic
from schemas.tables import TenantSecret


def secret_names(session: Session, tenant_id: str) -> list[SecretPublic]:
    """The tenant's secrets by name, without their values."""
    rows = session.exec(
        select(TenantSecret).where(TenantSecret.tenant_id == tenant_id).order_by(TenantSecret.name)
    ).all()
    return [SecretPublic.model_validate(row, from_attributes=True) for row in rows]


def store_secret(
    session: Session, tenant_id: str, name: str, value: str, secrets_key: SecretStr | None
) -> SecretPublic:
    """Creates or replaces the secret, sealed with `secrets_key`: 503 when the platform has none, 409 when
    the same name was created concurrently."""
    box = _box(secrets_key)
    row = _find(session, tenant_id, name) or TenantSecret(tenant_id=tenant_id, name=name, ciphertext="")
    row.ciphertext, row.updated_at = box.seal(value), datetime.now(UTC)
    session.add(row)
    commit_or_conflict(session, "secret_conflict", tr("The secret was created at the same moment; retry"), field="name")
    return SecretPublic.model_validate(row, from_attributes=True)


def remove_secret(session: Session, tenant_id: str, name: str) -> None:
    """Deletes the secret; 404 when the tenant has none by this name."""
    row = _find(session, tenant_id, name)
    if row is None:
        raise ApiError(404, "secret_not_found", tr("No secret with this name"), field="name")
    session.delete(row)
    session.commit()


def _find(session: Session, tenant_id: str, name: str) -> TenantSecret | None:
    return session.exec(
        select(TenantSecret).where(TenantSecret.tenant_id == tenant_id, TenantSecret.name == name)
    ).first()


def _box(secrets_key: SecretStr | None) -> SecretBox:
    if secrets_key is None:
        raise ApiError(503, "secrets_not_configured", tr("Set LEVQOR_SECRETS_KEY to store secrets"), field=None)
    return SecretBox(secrets_key.get_secret_value())

"""Tenant secrets: set, list (names only) and delete. HTTP steps read them as `{{ secrets.NAME }}`."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from api.deps import CurrentTenant, SessionDep, SettingsDep, require_admin
from core.errors import ApiError
from core.security import SecretBox
from schemas.api import SecretPublic, SecretUpdate
from schemas.tables import TenantSecret

router = APIRouter(prefix="/api/secrets", tags=["secrets"])
SecretName = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{0,63}$", description="UPPER_SNAKE_CASE")]


@router.get("")
def list_secrets(tenant: CurrentTenant, session: SessionDep) -> list[SecretPublic]:
    """The names of the tenant's secrets; values are never shown."""
    rows = session.exec(
        select(TenantSecret).where(TenantSecret.tenant_id == tenant.tenant_id).order_by(TenantSecret.name)
    ).all()
    return [SecretPublic.model_validate(row, from_attributes=True) for row in rows]


@router.put("/{name}")
def put_secret(
    name: SecretName, body: SecretUpdate, tenant: CurrentTenant, session: SessionDep, settings: SettingsDep
) -> SecretPublic:
    """Create or replace a secret (admin keys only); it is stored encrypted."""
    require_admin(tenant, "secrets")
    box = _box(settings)
    row = _find(session, tenant.tenant_id, name) or TenantSecret(tenant_id=tenant.tenant_id, name=name, ciphertext="")  # type: ignore[arg-type]
    row.ciphertext, row.updated_at = box.seal(body.value), datetime.now(UTC)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        raise ApiError(409, "secret_conflict", "The secret was created at the same moment; retry", field="name") from None
    return SecretPublic.model_validate(row, from_attributes=True)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_secret(name: SecretName, tenant: CurrentTenant, session: SessionDep) -> None:
    """Delete a secret (admin keys only); steps that still use it fail with SecretNotFound."""
    require_admin(tenant, "secrets")
    row = _find(session, tenant.tenant_id, name)
    if row is None:
        raise ApiError(404, "secret_not_found", "No secret with this name", field="name")
    session.delete(row)
    session.commit()


def _find(session: SessionDep, tenant_id: str | None, name: str) -> TenantSecret | None:
    return session.exec(
        select(TenantSecret).where(TenantSecret.tenant_id == tenant_id, TenantSecret.name == name)
    ).first()



def _box(settings: SettingsDep) -> SecretBox:
    if settings.levqor_secrets_key is None:
        raise ApiError(503, "secrets_not_configured", "Set LEVQOR_SECRETS_KEY to store secrets", field=None)
    return SecretBox(settings.levqor_secrets_key.get_secret_value())

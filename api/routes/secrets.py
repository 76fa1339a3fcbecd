"""Tenant secrets: set, list (names only) and delete. HTTP steps read them as `{{ secrets.NAME }}`."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import CurrentTenant, SessionDep, SettingsDep, require_admin
from domain.secrets import remove_secret, secret_names, store_secret
from schemas.i18n import tr
from schemas.secrets import SECRET_NAME_PATTERN, SecretPublic, SecretUpdate

router = APIRouter(prefix="/api/secrets", tags=["secrets"])
SecretName = Annotated[str, Path(pattern=SECRET_NAME_PATTERN, description="UPPER_SNAKE_CASE")]


@router.get("")
def list_secrets(tenant: CurrentTenant, session: SessionDep) -> list[SecretPublic]:
    """The names of the tenant's secrets; values are never shown."""
    return secret_names(session, str(tenant.tenant_id))


@router.put("/{name}")
def put_secret(
    name: SecretName, body: SecretUpdate, tenant: CurrentTenant, session: SessionDep, settings: SettingsDep
) -> SecretPublic:
    """Create or replace a secret (admin keys only); it is stored encrypted."""
    require_admin(tenant, tr("secrets"))
    return store_secret(session, str(tenant.tenant_id), name, body.value, settings.levqor_secrets_key)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_secret(name: SecretName, tenant: CurrentTenant, session: SessionDep) -> None:
    """Delete a secret (admin keys only); steps that still use it fail with SecretNotFound."""
    require_admin(tenant, tr("secrets"))
    remove_secret(session, str(tenant.tenant_id), name)

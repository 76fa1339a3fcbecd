"""A workflow's inbound webhook: create it or rotate its credentials, read its configuration, delete it."""

from fastapi import APIRouter, Response, status

from api.deps import CurrentTenant, HooksDep, OwnedDefinition, SessionDep, SettingsDep, require_admin
from domain import webhooks
from schemas.i18n import tr
from schemas.webhooks import WebhookConfig, WebhookCreated, WebhookPublic

router = APIRouter(prefix="/api/workflows", tags=["webhooks"])


@router.put("/{workflow_id}/webhook", responses={201: {"model": WebhookCreated}})
def put_webhook(
    workflow_id: str,
    body: WebhookConfig,
    tenant: CurrentTenant,
    session: SessionDep,
    settings: SettingsDep,
    hooks: HooksDep,
    response: Response,
) -> WebhookCreated:
    """Create the hook (201) or rotate its token and signing secret (200); both are shown only here."""
    require_admin(tenant, tr("webhooks"))
    hook, created = webhooks.put_hook(session, workflow_id, tenant.tenant_id, body, settings)
    hooks.forget_where(lambda known: known.definition_id == workflow_id)  # the old token stops working at once
    if created:
        response.status_code = status.HTTP_201_CREATED
    return hook


@router.get("/{workflow_id}/webhook")
def get_webhook(definition: OwnedDefinition, session: SessionDep) -> WebhookPublic:
    """The hook's configuration, without its token or signing secret."""
    return webhooks.hook_config(session, definition.id)


@router.delete("/{workflow_id}/webhook", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(workflow_id: str, tenant: CurrentTenant, session: SessionDep, hooks: HooksDep) -> None:
    """Delete the hook (admin keys only); its URL answers 404 from now on."""
    require_admin(tenant, tr("webhooks"))
    webhooks.delete_hook(session, workflow_id, tenant.tenant_id)
    hooks.forget_where(lambda known: known.definition_id == workflow_id)

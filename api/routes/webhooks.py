"""A workflow's inbound webhook: create it or rotate its credentials, read its configuration, delete it."""

import secrets

from fastapi import APIRouter, Response, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.deps import CurrentTenant, SessionDep, SettingsDep, require_admin
from api.routes.workflows import owned_definition
from core.errors import ApiError
from core.security import SecretBox, hash_api_key
from core.settings import Settings
from schemas.tables import WebhookTrigger
from schemas.webhooks import WebhookConfig, WebhookCreated, WebhookPublic

router = APIRouter(prefix="/api/workflows", tags=["webhooks"])
TOKEN_PREFIX = "whk_"
SIGNING_SECRET_PREFIX = "whsec_"
HOOK_PATH = "/api/hooks/"


@router.put("/{workflow_id}/webhook", responses={201: {"model": WebhookCreated}})
def put_webhook(
    workflow_id: str, body: WebhookConfig, tenant: CurrentTenant, session: SessionDep, settings: SettingsDep,
    response: Response,
) -> WebhookCreated:
    """Create the hook (201) or rotate its token and signing secret (200); both are shown only here."""
    require_admin(tenant, "webhooks")
    owned_definition(session, workflow_id, tenant.tenant_id)  # type: ignore[arg-type]
    box = signing_box(settings) if body.signed else None
    hook = find_hook(session, workflow_id)
    if hook is None:
        response.status_code = status.HTTP_201_CREATED
        hook = WebhookTrigger(
            tenant_id=tenant.tenant_id, definition_id=workflow_id, token_hash=""  # type: ignore[arg-type]
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    signing_secret = SIGNING_SECRET_PREFIX + secrets.token_urlsafe(32) if box else None
    hook.token_hash = hash_api_key(token)
    hook.signing_secret = box.seal(signing_secret) if box and signing_secret else None
    hook.wait_for_result, hook.wait_timeout_s = body.wait_for_result, body.wait_timeout_s
    session.add(hook)
    try:
        session.commit()
    except IntegrityError:
        raise ApiError(409, "webhook_conflict", "The webhook was changed at the same moment; retry",
                       field="workflow_id") from None
    return WebhookCreated(**_public(hook).model_dump(), url=HOOK_PATH + token, token=token,
                          signing_secret=signing_secret)


@router.get("/{workflow_id}/webhook")
def get_webhook(workflow_id: str, tenant: CurrentTenant, session: SessionDep) -> WebhookPublic:
    """The hook's configuration, without its token or signing secret."""
    owned_definition(session, workflow_id, tenant.tenant_id)  # type: ignore[arg-type]
    return _public(_existing(session, workflow_id))


@router.delete("/{workflow_id}/webhook", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(workflow_id: str, tenant: CurrentTenant, session: SessionDep) -> None:
    """Delete the hook (admin keys only); its URL answers 404 from now on."""
    require_admin(tenant, "webhooks")
    owned_definition(session, workflow_id, tenant.tenant_id)  # type: ignore[arg-type]
    session.delete(_existing(session, workflow_id))
    session.commit()


def find_hook(session: Session, definition_id: str) -> WebhookTrigger | None:
    return session.exec(select(WebhookTrigger).where(WebhookTrigger.definition_id == definition_id)).first()


def signing_box(settings: Settings) -> SecretBox:
    """What seals and opens signing secrets; 503 while no secrets key is configured."""
    if settings.levqor_secrets_key is None:
        raise ApiError(503, "secrets_not_configured", "Set LEVQOR_SECRETS_KEY to use signed webhooks")
    return SecretBox(settings.levqor_secrets_key.get_secret_value())


def _existing(session: Session, definition_id: str) -> WebhookTrigger:
    hook = find_hook(session, definition_id)
    if hook is None:
        raise ApiError(404, "webhook_not_found", "This workflow has no webhook", field="workflow_id")
    return hook



def _public(hook: WebhookTrigger) -> WebhookPublic:
    return WebhookPublic(
        definition_id=hook.definition_id, signed=hook.signing_secret is not None,
        wait_for_result=hook.wait_for_result, wait_timeout_s=hook.wait_timeout_s, created_at=hook.created_at,
    )

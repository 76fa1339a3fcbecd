"""A workflow's inbound webhook: its configuration, its credentials (the URL token and an optional signing
secret, both shown once; only the token's hash and the sealed secret are stored), and finding it by token."""

import secrets

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.errors import ApiError
from core.security import SecretBox, hash_api_key
from core.settings import Settings
from domain.definitions import tenant_definition
from domain.store import commit_or_conflict
from schemas.i18n import tr
from schemas.tables import WebhookTrigger
from schemas.webhooks import WebhookConfig, WebhookCreated, WebhookPublic

TOKEN_PREFIX = "whk_"
SIGNING_SECRET_PREFIX = "whsec_"
HOOK_PATH = "/api/hooks/"
MAX_TOKEN_LENGTH = 200


def put_hook(
    session: Session, workflow_id: str, tenant_id: str, config: WebhookConfig, settings: Settings
) -> tuple[WebhookCreated, bool]:
    """Creates the tenant's hook for the definition (True) or rotates its token and signing secret (False);
    the answer is the only place either is shown. 404 for another tenant's definition, 503 for a signed
    hook while no secrets key is set, 409 `webhook_conflict` when a concurrent change got there first."""
    tenant_definition(session, workflow_id, tenant_id)
    box = signing_box(settings) if config.signed else None
    hook = _find(session, workflow_id)
    created = hook is None
    if hook is None:
        hook = WebhookTrigger(tenant_id=tenant_id, definition_id=workflow_id, token_hash="")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    signing_secret = SIGNING_SECRET_PREFIX + secrets.token_urlsafe(32) if box else None
    hook.token_hash = hash_api_key(token)
    hook.signing_secret = box.seal(signing_secret) if box and signing_secret else None
    hook.wait_for_result, hook.wait_timeout_s = config.wait_for_result, config.wait_timeout_s
    session.add(hook)
    commit_or_conflict(
        session, "webhook_conflict", "The webhook was changed at the same moment; retry", field="workflow_id"
    )
    answer = WebhookCreated(
        **_public(hook).model_dump(), url=HOOK_PATH + token, token=token, signing_secret=signing_secret
    )
    return answer, created


def hook_config(session: Session, definition_id: str) -> WebhookPublic:
    """The definition's hook configuration, without its token or signing secret; 404 when it has none."""
    return _public(_existing(session, definition_id))


def tenant_hooks(session: Session, tenant_id: str) -> list[WebhookPublic]:
    """The configuration of every hook of the tenant, oldest first; never a token or signing secret."""
    hooks = session.exec(
        select(WebhookTrigger).where(WebhookTrigger.tenant_id == tenant_id).order_by(col(WebhookTrigger.created_at))
    ).all()
    return [_public(hook) for hook in hooks]


def delete_hook(session: Session, workflow_id: str, tenant_id: str) -> None:
    """Deletes the tenant's hook of the definition; its URL answers 404 from then on."""
    tenant_definition(session, workflow_id, tenant_id)
    session.delete(_existing(session, workflow_id))
    session.commit()


def hook_key(token: str) -> str:
    """What a hook is found by: its URL token's hash; 404 for a token longer than any this API issues."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise _hook_not_found()
    return hash_api_key(token)


def hook_by_hash(engine: Engine, token_hash: str) -> WebhookTrigger:
    """The hook whose URL token hashes to `token_hash`; an unknown token and a deleted hook answer alike (404)."""
    with Session(engine) as session:
        hook = session.exec(select(WebhookTrigger).where(WebhookTrigger.token_hash == token_hash)).first()
    if hook is None:
        raise _hook_not_found()
    return hook


def _hook_not_found() -> ApiError:
    return ApiError(404, "hook_not_found", tr("No webhook at this address"), field="token")


def signing_box(settings: Settings) -> SecretBox:
    """What seals and opens signing secrets; 503 while no secrets key is configured."""
    if settings.levqor_secrets_key is None:
        raise ApiError(503, "secrets_not_configured", tr("Set LEVQOR_SECRETS_KEY to use signed webhooks"))
    return SecretBox(settings.levqor_secrets_key.get_secret_value())


def _find(session: Session, definition_id: str) -> WebhookTrigger | None:
    return session.exec(select(WebhookTrigger).where(WebhookTrigger.definition_id == definition_id)).first()


def _existing(session: Session, definition_id: str) -> WebhookTrigger:
    hook = _find(session, definition_id)
    if hook is None:
        raise ApiError(404, "webhook_not_found", tr("This workflow has no webhook"), field="workflow_id")
    return hook


def _public(hook: WebhookTrigger) -> WebhookPublic:
    return WebhookPublic(
        definition_id=hook.definition_id,
        signed=hook.signing_secret is not None,
        wait_for_result=hook.wait_for_result,
        wait_timeout_s=hook.wait_timeout_s,
        created_at=hook.created_at,
    )

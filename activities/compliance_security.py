"""ComplianceAudit's access checks: idle API keys, the founder credential, unsigned webhooks, plain-HTTP targets."""

import json
import re
import string
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, or_, select

from activities.compliance_privacy import scoped
from schemas.compliance import AuditScope, Finding, Severity
from schemas.tables import (
    ApiKey,
    WebhookTrigger,
    WorkflowDefinitionRow,
    WorkflowVersionRow,
)

STRONG_LENGTH, STRONG_CLASSES = 32, 3
# How a step's templates name a tenant secret: `{{ secrets.API_TOKEN }}`.
SECRET_REFERENCE = re.compile(r"\bsecrets\.[A-Z][A-Z0-9_]*")


def idle_key_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """Live keys not used (or, never used, created) within `api_key_unused_days`."""
    cutoff = scope.as_of - timedelta(days=scope.api_key_unused_days)
    idle = or_(
        col(ApiKey.last_used_at) < cutoff, (col(ApiKey.last_used_at).is_(None)) & (col(ApiKey.created_at) < cutoff)
    )
    query = scoped(select(ApiKey).where(col(ApiKey.revoked_at).is_(None), idle), ApiKey.tenant_id, scope.tenant_id)
    return [
        Finding.of(
            "api_key_unused",
            "medium" if key.role == "admin" else "low",
            f"The {key.role} API key {key.prefix}… has not been used for {scope.api_key_unused_days:g} days",
            "Revoke keys nobody uses; issue a new one when it is needed again.",
            key.tenant_id,
            key_id=key.id,
            prefix=key.prefix,
            role=key.role,
            label=key.label,
            last_used_at=key.last_used_at.isoformat() if key.last_used_at else None,
        )
        for key in session.exec(query.order_by(col(ApiKey.created_at))).all()
    ]


def founder_credential_findings(token: str) -> list[Finding]:
    """The founder token's length and character classes; the token itself is never reported."""
    classes = sum(
        any(c in group for c in token) for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    )
    classes += any(not c.isalnum() for c in token)
    if len(token) >= STRONG_LENGTH and classes >= STRONG_CLASSES:
        return []
    severity: Severity = "medium" if len(token) >= 24 and classes >= 2 else "high"
    return [
        Finding.of(
            "founder_credential_weak",
            severity,
            "The founder credential is weak",
            f"Set LEVQOR_FOUNDER_TOKEN to a random value of at least {STRONG_LENGTH} characters "
            f"from {STRONG_CLASSES} or more character classes (e.g. `openssl rand -base64 36`).",
            length=len(token),
            character_classes=classes,
        )
    ]


def unsigned_webhook_findings(session: Session, scope: AuditScope) -> list[Finding]:
    query = scoped(
        select(WebhookTrigger).where(col(WebhookTrigger.signing_secret).is_(None)),
        WebhookTrigger.tenant_id,
        scope.tenant_id,
    )
    return [
        Finding.of(
            "webhook_unsigned",
            "medium",
            "A webhook accepts deliveries without a signature",
            "Recreate the webhook with `signed: true` and have the sender sign each delivery; "
            "anyone who learns its URL can start runs.",
            hook.tenant_id,
            webhook_id=hook.id,
            definition_id=hook.definition_id,
        )
        for hook in session.exec(query.order_by(col(WebhookTrigger.created_at))).all()
    ]


def plain_http_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """HTTP steps of each definition's latest version whose URL is plain http; high when they carry a secret."""
    query = scoped(
        select(WorkflowDefinitionRow, WorkflowVersionRow).join(
            WorkflowVersionRow,
            (col(WorkflowVersionRow.definition_id) == WorkflowDefinitionRow.id)
            & (col(WorkflowVersionRow.version) == WorkflowDefinitionRow.latest_version),
        ),
        WorkflowDefinitionRow.tenant_id,
        scope.tenant_id,
    )
    findings = []
    for definition, version in session.exec(query.order_by(col(WorkflowDefinitionRow.created_at))).all():
        for step in _http_steps(version.body):
            url = str(step.get("url", ""))
            if not url.lower().startswith("http://"):
                continue
            carries_secret = bool(SECRET_REFERENCE.search(json.dumps(step)))
            findings.append(
                Finding.of(
                    "plain_http_target",
                    "high" if carries_secret else "medium",
                    f"Step {step.get('id')} of workflow {definition.name[:60]} calls a plain-HTTP URL",
                    "Use https:// so requests (and any credentials in them) are encrypted in transit.",
                    definition.tenant_id,
                    definition_id=definition.id,
                    version=version.version,
                    step_id=step.get("id"),
                    host=_host(url),
                    carries_secret=carries_secret,
                )
            )
    return findings


def _http_steps(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in body.get("steps", []) if isinstance(body, dict) else []:
        if isinstance(step, dict) and step.get("type") == "http_request":
            yield step


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None

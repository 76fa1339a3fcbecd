"""ComplianceAudit's security checks: idle API keys, the founder credential, unsigned webhooks, plain-HTTP
targets, and tenant secrets that ended up in log-like text. Findings name secrets, never show them."""

import json
import os
import re
import string
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, or_, select

from activities.compliance_privacy import aware, scoped
from core.security import SecretBox
from schemas.compliance import AuditScope, Finding
from schemas.tables import (
    ApiKey,
    AuditEntry,
    FailureEntry,
    TenantSecret,
    WebhookTrigger,
    WorkflowDefinitionRow,
    WorkflowVersionRow,
)

STRONG_LENGTH, STRONG_CLASSES = 32, 3
# Shorter values would match ordinary words and numbers; they are reported as too short to search for.
MIN_SEARCHABLE_SECRET = 8
LOG_SCAN_BYTES = 64 * 1024 * 1024
MAX_PLACES = 20
# How a step's templates name a tenant secret: `{{ secrets.API_TOKEN }}`.
SECRET_REFERENCE = re.compile(r"\bsecrets\.[A-Z][A-Z0-9_]*")


def idle_key_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """Live keys not used (or, never used, created) within `api_key_unused_days`."""
    cutoff = scope.as_of - timedelta(days=scope.api_key_unused_days)
    idle = or_(col(ApiKey.last_used_at) < cutoff, (col(ApiKey.last_used_at).is_(None)) & (col(ApiKey.created_at) < cutoff))
    query = scoped(select(ApiKey).where(col(ApiKey.revoked_at).is_(None), idle), ApiKey.tenant_id, scope.tenant_id)
    return [
        Finding.of("api_key_unused", "medium" if key.role == "admin" else "low",
                   f"The {key.role} API key {key.prefix}… has not been used for {scope.api_key_unused_days:g} days",
                   "Revoke keys nobody uses; issue a new one when it is needed again.", key.tenant_id,
                   key_id=key.id, prefix=key.prefix, role=key.role, label=key.label,
                   last_used_at=aware(key.last_used_at).isoformat() if key.last_used_at else None)
        for key in session.exec(query.order_by(col(ApiKey.created_at))).all()
    ]


def founder_credential_findings(token: str) -> list[Finding]:
    """The founder token's length and character classes; the token itself is never reported."""
    classes = sum(any(c in group for c in token) for group in
                  (string.ascii_lowercase, string.ascii_uppercase, string.digits))
    classes += any(not c.isalnum() for c in token)
    if len(token) >= STRONG_LENGTH and classes >= STRONG_CLASSES:
        return []
    severity = "medium" if len(token) >= 24 and classes >= 2 else "high"
    return [Finding.of("founder_credential_weak", severity, "The founder credential is weak",
                       f"Set LEVQOR_FOUNDER_TOKEN to a random value of at least {STRONG_LENGTH} characters "
                       f"from {STRONG_CLASSES} or more character classes (e.g. `openssl rand -base64 36`).",
                       length=len(token), character_classes=classes)]


def unsigned_webhook_findings(session: Session, scope: AuditScope) -> list[Finding]:
    query = scoped(select(WebhookTrigger).where(col(WebhookTrigger.signing_secret).is_(None)),
                   WebhookTrigger.tenant_id, scope.tenant_id)
    return [Finding.of("webhook_unsigned", "medium", "A webhook accepts deliveries without a signature",
                       "Recreate the webhook with `signed: true` and have the sender sign each delivery; "
                       "anyone who learns its URL can start runs.", hook.tenant_id,
                       webhook_id=hook.id, definition_id=hook.definition_id)
            for hook in session.exec(query.order_by(col(WebhookTrigger.created_at))).all()]


def plain_http_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """HTTP steps of each definition's latest version whose URL is plain http; high when they carry a secret."""
    query = scoped(select(WorkflowDefinitionRow, WorkflowVersionRow).join(
        WorkflowVersionRow, (WorkflowVersionRow.definition_id == WorkflowDefinitionRow.id)
        & (WorkflowVersionRow.version == WorkflowDefinitionRow.latest_version)),
        WorkflowDefinitionRow.tenant_id, scope.tenant_id)
    findings = []
    for definition, version in session.exec(query.order_by(col(WorkflowDefinitionRow.created_at))).all():
        for step in _http_steps(version.body):
            url = str(step.get("url", ""))
            if not url.lower().startswith("http://"):
                continue
            carries_secret = bool(SECRET_REFERENCE.search(json.dumps(step)))
            findings.append(Finding.of(
                "plain_http_target", "high" if carries_secret else "medium",
                f"Step {step.get('id')} of workflow {definition.name[:60]} calls a plain-HTTP URL",
                "Use https:// so requests (and any credentials in them) are encrypted in transit.",
                definition.tenant_id, definition_id=definition.id, version=version.version,
                step_id=step.get("id"), host=_host(url), carries_secret=carries_secret))
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


def secret_exposure_findings(session: Session, scope: AuditScope, box: SecretBox | None,
                             log_file: str | None) -> list[Finding]:
    """Each tenant secret whose value appears in its tenant's failure messages or audit details, or in the
    application log file: critical, with the places it was found (ids, byte offsets), never the value."""
    if box is None:
        return [Finding.of("secret_scan_skipped", "info", "Tenant secrets could not be searched for in logs",
                           "Set LEVQOR_SECRETS_KEY on the worker so the audit can decrypt secrets to search for them.")]
    secrets, findings = _decrypted(session, scope, box)
    places: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    by_tenant: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for (tenant_id, name), value in secrets.items():
        by_tenant[tenant_id][name] = _forms(value)
    for tenant_id, forms in by_tenant.items():
        failures = session.exec(select(FailureEntry.id, FailureEntry.message).where(FailureEntry.tenant_id == tenant_id))
        audits = session.exec(select(AuditEntry.id, AuditEntry.detail).where(AuditEntry.tenant_id == tenant_id))
        texts = [("failure_entry", row_id, message) for row_id, message in failures.all()]
        texts += [("audit_entry", row_id, json.dumps(detail)) for row_id, detail in audits.all()]
        for source, row_id, text in texts:
            for name, variants in forms.items():
                if any(v in text for v in variants):
                    places[(tenant_id, name)].append({"source": source, "id": row_id})
    if log_file:
        _search_log_file(log_file, by_tenant, places)
    for (tenant_id, name), found in sorted(places.items()):
        findings.append(Finding.of(
            "secret_in_logs", "critical", f"The value of secret {name} appears in logs",
            f"Rotate {name} at its issuer now, store the new value with PUT /api/secrets/{name}, and delete or "
            "redact the listed entries.", tenant_id, secret=name, occurrences=len(found), places=found[:MAX_PLACES]))
    return findings


def _decrypted(session: Session, scope: AuditScope, box: SecretBox) -> tuple[dict[tuple[str, str], str], list[Finding]]:
    query = scoped(select(TenantSecret), TenantSecret.tenant_id, scope.tenant_id)
    values, findings = {}, []
    for row in session.exec(query).all():
        try:
            value = box.open(row.ciphertext)
        except ValueError:
            findings.append(Finding.of("secret_undecryptable", "medium", f"Secret {row.name} cannot be decrypted",
                                       f"It was sealed with another LEVQOR_SECRETS_KEY: set {row.name} again.",
                                       row.tenant_id, secret=row.name))
            continue
        if len(value) >= MIN_SEARCHABLE_SECRET:
            values[(row.tenant_id, row.name)] = value
    return values, findings


def _forms(value: str) -> list[str]:
    """The value as written, and as it looks inside a JSON string."""
    return list({value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]})


def _search_log_file(path: str, by_tenant: dict[str, dict[str, list[str]]],
                     places: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    """Searches the last LOG_SCAN_BYTES of the log file line by line; a missing file has nothing to find."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return
    with handle:
        offset = max(0, os.fstat(handle.fileno()).st_size - LOG_SCAN_BYTES)
        handle.seek(offset)
        for raw in handle:
            line = raw.decode("utf-8", errors="replace")
            for tenant_id, forms in by_tenant.items():
                for name, variants in forms.items():
                    if any(v in line for v in variants):
                        places[(tenant_id, name)].append({"source": "log_file", "byte_offset": offset})
            offset += len(raw)

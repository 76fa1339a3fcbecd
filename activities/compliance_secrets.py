"""ComplianceAudit's search for tenant secrets in log-like text: failure messages, audit details and the
application log file. Values are decrypted here and only here; findings name the secret and where it was."""

import json
import os
import re
from collections import defaultdict
from typing import Any

from sqlmodel import Session, select

from activities.compliance_privacy import scoped
from core.security import SecretBox
from schemas.compliance import AuditScope, Finding
from schemas.tables import AuditEntry, FailureEntry, TenantSecret

# Shorter values would match ordinary words and numbers, so they are not searched for.
MIN_SEARCHABLE_SECRET = 8
LOG_SCAN_BYTES = 64 * 1024 * 1024
MAX_PLACES = 20
Owner = tuple[str, str]  # (tenant id, secret name)


class Needles:
    """Every searchable form of the secrets in scope, found in one regular-expression pass per text."""

    def __init__(self, values: dict[Owner, str]) -> None:
        self._owners: dict[str, set[Owner]] = defaultdict(set)
        for owner, value in values.items():
            for form in {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}:
                self._owners[form].add(owner)
        # Longest first: a secret that contains another is matched whole.
        forms = sorted(self._owners, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, forms))) if forms else None

    def owners_in(self, text: str) -> set[Owner]:
        if self._pattern is None:
            return set()
        return {owner for match in self._pattern.finditer(text) for owner in self._owners[match.group()]}


def secret_exposure_findings(
    session: Session, scope: AuditScope, box: SecretBox | None, log_file: str | None
) -> list[Finding]:
    """Each tenant secret whose value appears in failure messages, audit details or the last LOG_SCAN_BYTES of
    the log file: critical, with the places it was found (row ids, byte offsets)."""
    if box is None:
        return [
            Finding.of(
                "secret_scan_skipped",
                "info",
                "Tenant secrets could not be searched for in logs",
                "Set LEVQOR_SECRETS_KEY on the worker so the audit can decrypt secrets to search for them.",
            )
        ]
    values, findings = _decrypted(session, scope, box)
    needles, places = Needles(values), defaultdict(list)
    if values:
        for source, row_id, text in _stored_texts(session, scope):
            for owner in needles.owners_in(text):
                places[owner].append({"source": source, "id": row_id})
        for offset, line in _log_lines(log_file):
            for owner in needles.owners_in(line):
                places[owner].append({"source": "log_file", "byte_offset": offset})
    for (tenant_id, name), found in sorted(places.items()):
        findings.append(
            Finding.of(
                "secret_in_logs",
                "critical",
                f"The value of secret {name} appears in logs",
                f"Rotate {name} at its issuer now, store the new value with PUT /api/secrets/{name}, and delete or "
                "redact the listed entries.",
                tenant_id,
                secret=name,
                occurrences=len(found),
                places=found[:MAX_PLACES],
            )
        )
    return findings


def _decrypted(session: Session, scope: AuditScope, box: SecretBox) -> tuple[dict[Owner, str], list[Finding]]:
    values, findings = {}, []
    for row in session.exec(scoped(select(TenantSecret), TenantSecret.tenant_id, scope.tenant_id)).all():
        try:
            value = box.open(row.ciphertext)
        except ValueError:
            findings.append(
                Finding.of(
                    "secret_undecryptable",
                    "medium",
                    f"Secret {row.name} cannot be decrypted",
                    f"It was sealed with another LEVQOR_SECRETS_KEY: set {row.name} again.",
                    row.tenant_id,
                    secret=row.name,
                )
            )
            continue
        if len(value) >= MIN_SEARCHABLE_SECRET:
            values[(row.tenant_id, row.name)] = value
    return values, findings


def _stored_texts(session: Session, scope: AuditScope) -> Any:
    failures = scoped(select(FailureEntry.id, FailureEntry.message), FailureEntry.tenant_id, scope.tenant_id)
    for row_id, message in session.exec(failures.execution_options(yield_per=1000)):
        yield "failure_entry", row_id, message
    audits = scoped(select(AuditEntry.id, AuditEntry.detail), AuditEntry.tenant_id, scope.tenant_id)
    for row_id, detail in session.exec(audits.execution_options(yield_per=1000)):
        yield "audit_entry", row_id, json.dumps(detail)


def _log_lines(path: str | None) -> Any:
    """(byte offset, line) of the file's last LOG_SCAN_BYTES; nothing when unset or missing."""
    if not path or not os.path.exists(path):
        return
    with open(path, "rb") as handle:
        offset = max(0, os.fstat(handle.fileno()).st_size - LOG_SCAN_BYTES)
        handle.seek(offset)
        for raw in handle:
            yield offset, raw.decode("utf-8", errors="replace")
            offset += len(raw)

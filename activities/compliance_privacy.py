"""ComplianceAudit's privacy checks: data-subject request deadlines, legal documents, data kept past retention."""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from core.retention import count_expired, last_enforced, oldest_by_tenant, oldest_kept, tenant_days
from rules.retention import COLLECTED_CLASSES
from schemas.compliance import AuditScope, Finding
from schemas.legal import LEGAL_KINDS, LEGAL_LABELS, CookieConsentConfig
from schemas.retention import PLATFORM_CLASSES
from schemas.tables import DataRequest, LegalDocument

LEGAL_REVIEW_AFTER = timedelta(days=365)
# The RetentionEnforcer runs daily: a pass missed is a hiccup, two in a row a finding.
ENFORCER_STALE_AFTER = timedelta(days=2)


def scoped(query: Any, column: Any, tenant_id: str | None) -> Any:
    return query if tenant_id is None else query.where(column == tenant_id)


def data_request_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """Open export/erasure requests past their deadline (critical) or due within the warning window (high)."""
    query = scoped(select(DataRequest).where(DataRequest.status != "completed"), DataRequest.tenant_id, scope.tenant_id)
    findings = []
    for row in session.exec(query.order_by(col(DataRequest.deadline_at))).all():
        left = row.deadline_at - scope.as_of
        detail = {
            "request_id": row.id,
            "kind": row.kind,
            "status": row.status,
            "deadline_at": row.deadline_at.isoformat(),
        }
        if left < timedelta(0):
            findings.append(
                Finding.of(
                    "dsar_overdue",
                    "critical",
                    f"A data {row.kind} request is {-left.days or 1} day(s) past its deadline",
                    "Answer the request now (GDPR art. 12(3): one month) and record why it was late.",
                    row.tenant_id,
                    **detail,
                )
            )
        elif row.status == "failed" or left <= timedelta(days=scope.dsar_warning_days):
            reason = "failed and must be run again" if row.status == "failed" else f"due in {left.days} day(s)"
            findings.append(
                Finding.of(
                    "dsar_deadline",
                    "high",
                    f"A data {row.kind} request is {reason}",
                    "Complete the request before its deadline; a failed export can be requested again.",
                    row.tenant_id,
                    **detail,
                )
            )
    return findings


def legal_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """Each legal document and the cookie-consent configuration: published, in effect, versioned, reviewed."""
    by_kind: dict[str, list[LegalDocument]] = defaultdict(list)
    for row in session.exec(select(LegalDocument)).all():
        by_kind[row.kind].append(row)
    findings = []
    for kind in LEGAL_KINDS:
        label = LEGAL_LABELS[kind]
        in_effect = [d for d in by_kind[kind] if d.effective_at <= scope.as_of]
        if not in_effect:
            title = f"No {label} is in effect" + (" yet" if by_kind[kind] else "")
            findings.append(
                Finding.of(
                    "legal_missing",
                    "high",
                    title,
                    f"Publish the {label} with PUT /api/compliance/legal/{kind}.",
                    kind=kind,
                    scheduled=len(by_kind[kind]),
                )
            )
            continue
        current = max(in_effect, key=lambda d: d.effective_at)
        findings += _document_findings(kind, label, current, scope.as_of)
    return findings


def _document_findings(kind: str, label: str, doc: LegalDocument, now: datetime) -> list[Finding]:
    detail = {"kind": kind, "version": doc.version, "effective_at": doc.effective_at.isoformat()}
    findings = []
    if not doc.version.strip() or not (doc.url or doc.text or doc.config):
        findings.append(
            Finding.of(
                "legal_unversioned",
                "medium",
                f"The {label} in effect has no version or content",
                f"Publish the {label} again with a version and its url or text.",
                **detail,
            )
        )
    if now - doc.effective_at > LEGAL_REVIEW_AFTER:
        findings.append(
            Finding.of(
                "legal_stale",
                "low",
                f"The {label} has not been revised for over a year",
                f"Review the {label} and publish a new version, even if unchanged.",
                **detail,
            )
        )
    if kind == "cookie_consent":
        findings += _consent_findings(doc, detail)
    return findings


def _consent_findings(doc: LegalDocument, detail: dict[str, Any]) -> list[Finding]:
    try:
        config = CookieConsentConfig.model_validate(doc.config or {})
    except ValueError:
        return [
            Finding.of(
                "cookie_consent_invalid",
                "high",
                "The cookie-consent configuration is not valid",
                "Publish a cookie_consent version with a `config` listing the cookie categories.",
                **detail,
            )
        ]
    opted_in = [c.id for c in config.categories if c.default_enabled and not c.required]
    if not opted_in:
        return []
    return [
        Finding.of(
            "cookie_consent_default_on",
            "high",
            "Non-essential cookies are enabled before consent",
            "Set default_enabled to false for every category that is not strictly necessary.",
            categories=opted_in,
            **detail,
        )
    ]


def enforcer_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """A high finding when no full RetentionEnforcer pass completed within ENFORCER_STALE_AFTER."""
    last = last_enforced(session, None)
    if last is not None and scope.as_of - last <= ENFORCER_STALE_AFTER:
        return []
    when = (
        "has never completed a pass" if last is None else f"last completed a pass {(scope.as_of - last).days} days ago"
    )
    return [
        Finding.of(
            "retention_enforcer_stale",
            "high",
            f"The RetentionEnforcer {when}",
            "Data is kept past its retention until it runs: check the platform-retention-enforcer schedule and the "
            "worker's logs, then trigger the schedule.",
            last_completed_at=last.isoformat() if last else None,
        )
    ]


def expired_findings(session: Session, scope: AuditScope) -> list[Finding]:
    """Records still kept past their policy: each tenant's classes (by its plan and overrides) and, in an
    audit of every tenant, the platform's classes."""
    findings = []
    for data_class in COLLECTED_CLASSES:
        oldest = oldest_by_tenant(session, data_class, scope.tenant_id)
        days = tenant_days(session, oldest)
        for tenant_id, at in sorted(oldest.items()):
            cutoff = scope.as_of - timedelta(days=days[tenant_id][data_class])
            if at < cutoff:
                count = count_expired(session, data_class, tenant_id, cutoff)
                findings.append(_expired(data_class, tenant_id, count, at, days[tenant_id][data_class]))
    if scope.tenant_id is None:
        for name in PLATFORM_CLASSES:
            policy_days = getattr(scope.platform_retention, name)
            cutoff = scope.as_of - timedelta(days=policy_days)
            if count := count_expired(session, name, None, cutoff):
                findings.append(_expired(name, None, count, oldest_kept(session, name, None) or cutoff, policy_days))
    return findings


def _expired(data_class: str, tenant_id: str | None, count: int, oldest: datetime, days: int) -> Finding:
    what = data_class.replace("_", " ")
    return Finding.of(
        "retention_rows",
        "medium",
        f"{count} {what} record(s) are older than their {days}-day retention",
        "The RetentionEnforcer deletes them on its next pass; if they stay, check its latest report "
        "(GET /api/retention/reports/latest) and the tenant's policy (GET /api/tenants/{id}/retention).",
        tenant_id,
        data_class=data_class,
        count=count,
        oldest=oldest.isoformat(),
        days=days,
    )

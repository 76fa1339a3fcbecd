"""ComplianceAudit's side effects: one activity per family of checks (each only reads and returns findings),
storing the report, and e-mailing the founder about critical findings."""

from collections import Counter

from sqlalchemy import Engine, delete
from sqlmodel import Session, col
from temporalio import activity

from activities.compliance_privacy import (
    data_request_findings,
    enforcer_findings,
    expired_findings,
    legal_findings,
)
from activities.compliance_secrets import secret_exposure_findings
from activities.compliance_security import (
    founder_credential_findings,
    idle_key_findings,
    plain_http_findings,
    unsigned_webhook_findings,
)
from activities.email import EmailActivities, mask_address
from activities.recipients import founder_alert_language
from core.i18n import render
from core.security import SecretBox
from schemas.compliance import (
    AuditScope,
    CriticalAlert,
    Finding,
    Findings,
    FounderNotified,
    ReportDraft,
    ReportOpening,
)
from schemas.i18n import tr, trn
from schemas.runs import EmailMessage
from schemas.tables import ComplianceFinding, ComplianceReport

# Findings travel through the workflow's history, whose payloads Temporal limits to 2 MB.
MAX_FINDINGS_PER_FAMILY = 300


class ComplianceActivities:
    def __init__(
        self,
        engine: Engine,
        box: SecretBox | None,
        founder_token: str,
        log_file: str | None,
        email: EmailActivities,
        founder_email: str | None,
    ) -> None:
        self._engine, self._box = engine, box
        self._founder_token, self._log_file = founder_token, log_file
        self._email, self._founder_email = email, founder_email

    @activity.defn(name="check_data_requests")
    def check_data_requests(self, scope: AuditScope) -> Findings:
        """GDPR/DSAR: export and erasure requests past or near their 30-day deadline."""
        with Session(self._engine) as session:
            return capped(data_request_findings(session, scope))

    @activity.defn(name="check_legal_documents")
    def check_legal_documents(self, scope: AuditScope) -> Findings:
        """Terms, privacy and cookie policies and the cookie-consent configuration: present, versioned, current."""
        with Session(self._engine) as session:
            return capped(legal_findings(session, scope))

    @activity.defn(name="check_retention")
    def check_retention(self, scope: AuditScope) -> Findings:
        """Whether the RetentionEnforcer ran lately, and records (the run archive's included) kept past their
        tenant's policy or the platform's (rules/retention.py)."""
        with Session(self._engine) as session:
            return capped(enforcer_findings(session, scope) + expired_findings(session, scope))

    @activity.defn(name="check_access")
    def check_access(self, scope: AuditScope) -> Findings:
        """Idle API keys, the founder credential's strength, unsigned webhooks and plain-HTTP step targets."""
        with Session(self._engine) as session:
            items = idle_key_findings(session, scope) + founder_credential_findings(self._founder_token)
            items += unsigned_webhook_findings(session, scope) + plain_http_findings(session, scope)
        return capped(items)

    @activity.defn(name="check_secret_exposure")
    def check_secret_exposure(self, scope: AuditScope) -> Findings:
        """Tenant secrets whose values appear in failure messages, audit details or the application log file."""
        with Session(self._engine) as session:
            return capped(secret_exposure_findings(session, scope, self._box, self._log_file))

    @activity.defn(name="open_compliance_report")
    def open_report(self, opening: ReportOpening) -> None:
        """The report's row in status `running`; the API may have written it already."""
        with Session(self._engine) as session:
            if session.get(ComplianceReport, opening.report_id) is None:
                session.add(
                    ComplianceReport(
                        id=opening.report_id,
                        trigger=opening.trigger,
                        tenant_id=opening.tenant_id,
                        started_at=opening.started_at,
                    )
                )
                session.commit()

    @activity.defn(name="store_compliance_report")
    def store_report(self, draft: ReportDraft) -> None:
        """Completes the report with its findings; repeating it writes the same findings once."""
        with Session(self._engine) as session:
            report = session.get(ComplianceReport, draft.report_id)
            if report is None:
                report = ComplianceReport(id=draft.report_id, trigger="schedule")
            session.execute(delete(ComplianceFinding).where(col(ComplianceFinding.report_id) == draft.report_id))
            report.status, report.finished_at, report.score = "completed", draft.finished_at, draft.score
            report.counts, report.founder_notified = draft.counts, draft.founder_notified
            session.add(report)
            session.add_all(ComplianceFinding(report_id=draft.report_id, **f.model_dump()) for f in draft.findings)
            session.commit()
        activity.logger.info("compliance report stored", extra={"report_id": draft.report_id, "score": draft.score})

    @activity.defn(name="notify_founder_of_critical_findings")
    def notify_founder(self, alert: CriticalAlert) -> FounderNotified:
        """E-mails FOUNDER_EMAIL once per report (the Message-ID derives from the report id)."""
        if self._founder_email is None:
            activity.logger.warning(
                "critical compliance findings, but FOUNDER_EMAIL is not set", extra={"report_id": alert.report_id}
            )
            return FounderNotified(sent=False)
        with Session(self._engine) as session:
            language = founder_alert_language(session, self._founder_email)
        subject = trn(
            "Levqor compliance: %(num)s critical finding, score %(score)s/100",
            "Levqor compliance: %(num)s critical findings, score %(score)s/100",
            len(alert.titles),
            score=alert.score,
        )
        details = f"GET /api/compliance/reports/{alert.report_id}"
        paragraphs = (
            render(tr("The compliance audit found critical issues:"), language),
            "\n".join(f"- {title}" for title in alert.titles),
            render(tr("Details: %(where)s", where=details), language),
        )
        self._email.send_email(
            EmailMessage(
                to=[self._founder_email],
                idempotency_key=f"compliance-report-{alert.report_id}",
                subject=render(subject, language),
                body="\n\n".join(paragraphs) + "\n",
            )
        )
        activity.logger.info(
            "founder notified", extra={"report_id": alert.report_id, "to": mask_address(self._founder_email)}
        )
        return FounderNotified(sent=True)


def capped(items: list[Finding]) -> Findings:
    """At most MAX_FINDINGS_PER_FAMILY findings, most severe first; the rest become one finding that carries
    their summed penalty, so the score stays right while the history stays small."""
    if len(items) <= MAX_FINDINGS_PER_FAMILY:
        return Findings(items=items)
    ordered = sorted(items, key=lambda f: -f.penalty)
    kept, rest = ordered[: MAX_FINDINGS_PER_FAMILY - 1], ordered[MAX_FINDINGS_PER_FAMILY - 1 :]
    summary = Finding(
        check="findings_truncated",
        severity=rest[0].severity,
        penalty=sum(f.penalty for f in rest),
        title=f"{len(rest)} more findings of this kind are not listed",
        remediation="Fix the listed findings, or audit one tenant at a time (POST /api/compliance/reports/run "
        "with tenant_id) to list the rest.",
        detail={"checks": dict(Counter(f.check for f in rest))},
    )
    return Findings(items=[*kept, summary])

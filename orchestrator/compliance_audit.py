"""Audits the platform's compliance once a day (or when the founder asks): GDPR/DSAR deadlines, legal
documents and cookie consent, data retention and security. Passive: it only reads and writes its report.

Each family of checks is one activity; a family that keeps failing becomes a high `audit_incomplete`
finding instead of ending the audit. The report gets a 0-100 score and counts per severity, and a
critical finding e-mails the founder before the report is stored.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.compliance import ComplianceActivities
    from orchestrator.retries import JOB_TIMEOUT, NOTIFY_RETRY, NOTIFY_TIMEOUT
    from rules.compliance_score import counts_of, score_of
    from rules.retention import default_platform_retention
    from schemas.compliance import (
        AuditScope,
        ComplianceAuditInput,
        ComplianceAuditResult,
        CriticalAlert,
        Finding,
        Findings,
        ReportDraft,
        ReportOpening,
    )

# A family of checks reads much of the platform; one that keeps failing becomes a finding, not a retry loop.
CHECK_TIMEOUT = timedelta(minutes=10)
CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=3
)
# The report is all the audit leaves behind after minutes of checks: more attempts than JOB_RETRY's five.
REPORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1), maximum_attempts=10
)
# A family's check is a sync (thread-pool) or async activity method.
Check = (
    Callable[[ComplianceActivities, AuditScope], Findings]
    | Callable[[ComplianceActivities, AuditScope], Awaitable[Findings]]
)
CHECKS: dict[str, Check] = {
    "data_requests": ComplianceActivities.check_data_requests,
    "legal_documents": ComplianceActivities.check_legal_documents,
    "retention": ComplianceActivities.check_retention,
    "access": ComplianceActivities.check_access,
    "secret_exposure": ComplianceActivities.check_secret_exposure,
}


@workflow.defn
class ComplianceAudit:
    @workflow.run
    async def run(self, params: ComplianceAuditInput) -> ComplianceAuditResult:
        report_id = params.report_id or str(workflow.uuid4())
        started = workflow.now()
        await self._store(
            ComplianceActivities.open_report,
            ReportOpening(report_id=report_id, tenant_id=params.tenant_id, trigger=params.trigger, started_at=started),
        )
        scope = AuditScope(
            report_id=report_id,
            tenant_id=params.tenant_id,
            as_of=started,
            platform_retention=params.platform_retention or default_platform_retention(),
            dsar_warning_days=params.dsar_warning_days,
            api_key_unused_days=params.api_key_unused_days,
        )
        families = await asyncio.gather(*(self._check(name, scope) for name in CHECKS))
        findings = [finding for family in families for finding in family]
        score, counts = score_of(findings), counts_of(findings)
        notified = counts["critical"] > 0 and await self._notify(
            CriticalAlert(
                report_id=report_id, score=score, titles=[f.title for f in findings if f.severity == "critical"]
            )
        )
        await self._store(
            ComplianceActivities.store_report,
            ReportDraft(
                report_id=report_id,
                finished_at=workflow.now(),
                score=score,
                counts=counts,
                findings=findings,
                founder_notified=notified,
            ),
        )
        return ComplianceAuditResult(report_id=report_id, score=score, counts=counts, founder_notified=notified)

    async def _check(self, name: str, scope: AuditScope) -> list[Finding]:
        try:
            found: Findings = await workflow.execute_activity_method(
                CHECKS[name], scope, start_to_close_timeout=CHECK_TIMEOUT, retry_policy=CHECK_RETRY
            )
        except ActivityError as err:  # one broken family must not hide the others' findings
            cause = err.cause.type if isinstance(err.cause, ApplicationError) else type(err.cause).__name__
            workflow.logger.warning("compliance check failed", extra={"family": name, "error_type": cause})
            return [
                Finding.of(
                    "audit_incomplete",
                    "high",
                    f"The {name.replace('_', ' ')} checks could not run",
                    "Look at the worker's logs for this report's audit, fix the cause and run the audit again.",
                    family=name,
                    error_type=cause,
                )
            ]
        return found.items

    async def _notify(self, alert: CriticalAlert) -> bool:
        try:
            sent = await workflow.execute_activity_method(
                ComplianceActivities.notify_founder,
                alert,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError:
            workflow.logger.warning("founder could not be notified", extra={"report_id": alert.report_id})
            return False
        return sent.sent

    async def _store(self, activity: Callable[[ComplianceActivities, Any], None], argument: Any) -> None:
        await workflow.execute_activity_method(
            activity, argument, start_to_close_timeout=JOB_TIMEOUT, retry_policy=REPORT_RETRY
        )

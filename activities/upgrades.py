"""The UpgradePlanner's side effects: reading the signals plans come from, and writing the plans."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select
from temporalio import activity

from rules.upgrade_proposals import MIN_FAILED_HEARTBEATS, MIN_REPEATED_FAILURES, NEAR_LIMIT_SHARE
from rules.usage import is_metric, limits_for, period_of
from schemas.tables import (
    ComplianceFinding,
    ComplianceReport,
    FailureEntry,
    HealthRecord,
    Tenant,
    UpgradePlan,
    UsageCounter,
)
from schemas.upgrades import (
    FailedCheck,
    FailureGroup,
    FindingSignal,
    PlanWrite,
    TenantSignal,
    UpgradePlannerInput,
    UpgradePlannerResult,
    UpgradeSignals,
)

LIVE = ("open", "in_progress")
SERIOUS = ("high", "critical")


class UpgradeActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="gather_upgrade_signals")
    def gather_signals(self, params: UpgradePlannerInput) -> UpgradeSignals:
        """Repeated open failures per step, throttled tenants, tenants near their plan's limits, the
        serious findings of the latest platform-wide compliance audit, and heartbeat checks that keep failing."""
        with Session(self._engine) as session:
            return UpgradeSignals(
                failure_groups=_failure_groups(session),
                throttled_tenants=_throttled(session),
                near_limit_tenants=_near_limit(session),
                compliance_findings=_serious_findings(session),
                failed_checks=_failed_checks(session, datetime.now(UTC) - timedelta(seconds=params.window_s)),
            )

    @activity.defn(name="write_upgrade_plans")
    def write_plans(self, write: PlanWrite) -> UpgradePlannerResult:
        """Refreshes the live plan of each proposal's fingerprint or creates it, and archives open plans
        no rebuild has proposed for `stale_after_s`. One transaction: a failed write leaves nothing half done."""
        now = datetime.now(UTC)
        created = refreshed = 0
        with Session(self._engine) as session:
            for proposal in write.proposals:
                live = session.exec(
                    select(UpgradePlan).where(
                        UpgradePlan.fingerprint == proposal.fingerprint, col(UpgradePlan.status).in_(LIVE)
                    )
                ).first()
                fields = proposal.model_dump(exclude={"metadata"})
                if live is None:
                    live, created = UpgradePlan(**fields, plan_metadata=proposal.metadata), created + 1
                else:
                    for name, value in fields.items():
                        setattr(live, name, value)
                    live.plan_metadata, refreshed = proposal.metadata, refreshed + 1
                live.last_seen_at = now
                session.add(live)
            session.flush()
            archived = _archive_stale(
                session, {p.fingerprint for p in write.proposals}, now - timedelta(seconds=write.stale_after_s), now
            )
            session.commit()
        activity.logger.info(
            "upgrade plans written",
            extra={"plans_created": created, "plans_refreshed": refreshed, "plans_archived": archived},
        )
        return UpgradePlannerResult(
            proposed=len(write.proposals), created=created, refreshed=refreshed, archived=archived
        )


def _archive_stale(session: Session, proposed: set[str], seen_before: datetime, now: datetime) -> int:
    stale = session.exec(
        select(UpgradePlan).where(UpgradePlan.status == "open", col(UpgradePlan.last_seen_at) <= seen_before)
    ).all()
    archived = [plan for plan in stale if plan.fingerprint not in proposed]
    for plan in archived:
        plan.status, plan.archived_at = "archived", now
        session.add(plan)
    return len(archived)


def _failure_groups(session: Session) -> list[FailureGroup]:
    category = func.coalesce(FailureEntry.category, "unknown")
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel's select() is typed for at most four columns
            FailureEntry.tenant_id, FailureEntry.definition_id, FailureEntry.step_id, category, func.count()
        )
        .where(FailureEntry.status == "open")
        .group_by(FailureEntry.tenant_id, FailureEntry.definition_id, FailureEntry.step_id, category)
        .having(func.count() >= MIN_REPEATED_FAILURES)
    ).all()
    return [FailureGroup(tenant_id=t, definition_id=d, step_id=s, category=c, count=n) for t, d, s, c, n in rows]


def _throttled(session: Session) -> list[TenantSignal]:
    tenants = session.exec(
        select(Tenant).where(
            Tenant.status != "purged", or_(col(Tenant.max_concurrent_runs).is_not(None), col(Tenant.ai_paused))
        )
    ).all()
    return [
        TenantSignal(
            tenant_id=t.id, plan=t.plan, detail={"max_concurrent_runs": t.max_concurrent_runs, "ai_paused": t.ai_paused}
        )
        for t in tenants
    ]


def _near_limit(session: Session) -> list[TenantSignal]:
    rows = session.exec(
        select(Tenant.id, Tenant.plan, UsageCounter.metric, UsageCounter.value)
        .join(UsageCounter, col(UsageCounter.tenant_id) == Tenant.id)
        .where(UsageCounter.period == period_of(datetime.now(UTC)), Tenant.status == "active")
    ).all()
    shares: dict[tuple[str, str], dict[str, float]] = {}
    for tenant_id, plan, metric, value in rows:
        limit = limits_for(plan).get(metric) if is_metric(metric) else None
        if limit and value / limit >= NEAR_LIMIT_SHARE:
            shares.setdefault((tenant_id, plan), {})[metric] = round(value / limit, 3)
    return [TenantSignal(tenant_id=t, plan=p, detail=used) for (t, p), used in sorted(shares.items())]


def _serious_findings(session: Session) -> list[FindingSignal]:
    latest = session.exec(
        select(ComplianceReport)
        .where(col(ComplianceReport.tenant_id).is_(None), col(ComplianceReport.finished_at).is_not(None))
        .order_by(col(ComplianceReport.finished_at).desc())
        .limit(1)
    ).first()
    if latest is None:
        return []
    findings = session.exec(
        select(ComplianceFinding).where(
            ComplianceFinding.report_id == latest.id, col(ComplianceFinding.severity).in_(SERIOUS)
        )
    ).all()
    return [
        FindingSignal(
            report_id=latest.id, **f.model_dump(include={"check", "severity", "title", "remediation", "tenant_id"})
        )
        for f in findings
    ]


def _failed_checks(session: Session, since: datetime) -> list[FailedCheck]:
    checks = session.exec(select(HealthRecord.checks).where(col(HealthRecord.at) >= since)).all()
    failed: dict[str, int] = {}
    for record in checks:
        for name, check in record.items():
            if check.get("status") == "failed":
                failed[name] = failed.get(name, 0) + 1
    return [
        FailedCheck(name=name, failed=count, total=len(checks))
        for name, count in sorted(failed.items())
        if count >= MIN_FAILED_HEARTBEATS
    ]

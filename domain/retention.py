"""A tenant's retention: its policy per class of data (plan default or the founder's override, and the
bounds) with the oldest record it still keeps; the founder setting policies within the plan's bounds, audited;
and the RetentionEnforcer's latest report. The policies themselves are rules/retention.py."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.errors import ApiError
from core.retention import last_enforced, oldest_kept, tenant_policies
from domain.tenants import visible_tenant
from rules.retention import out_of_bounds
from schemas.i18n import tr
from schemas.retention import (
    RetentionPolicyPublic,
    RetentionPublic,
    RetentionReportEntryPublic,
    RetentionReportPublic,
    RetentionUpdate,
)
from schemas.tables import AuditEntry, RetentionOverride, RetentionReport, RetentionReportEntry, Tenant


def tenant_retention(session: Session, tenant_id: str, scope: str | None) -> RetentionPublic:
    """The tenant's policies and oldest records kept, if `scope` (the caller's tenant; None for the founder)
    may see it; 404 `tenant_not_found` otherwise."""
    tenant = visible_tenant(session, tenant_id, scope)
    policies = [
        RetentionPolicyPublic(
            **policy.model_dump(),
            oldest_kept_at=oldest_kept(session, policy.data_class, tenant.id) if policy.collected else None,
        )
        for policy in tenant_policies(session, tenant)
    ]
    return RetentionPublic(
        tenant_id=tenant.id, plan=tenant.plan, policies=policies, last_enforced_at=last_enforced(session, tenant.id)
    )


def set_tenant_retention(engine: Engine, tenant_id: str, body: RetentionUpdate, actor: str) -> RetentionPublic:
    """Sets (or, with null, removes) the founder's overrides, each within the tenant's plan's bounds, and
    audits the change, in one transaction. 404 `tenant_not_found`; 422 `retention_out_of_bounds` naming the
    class, and nothing changes."""
    with Session(engine) as session:
        tenant = visible_tenant(session, tenant_id, None)
        for data_class, days in body.policies.items():
            reason = None if days is None else out_of_bounds(tenant.plan, data_class, days)
            if reason is not None:
                raise ApiError(422, "retention_out_of_bounds", reason, field=f"body.policies.{data_class}")
        before = _apply(session, tenant, body, actor)
        detail = {"policies": dict(body.policies), "before": before}
        session.add(AuditEntry(tenant_id=tenant.id, actor=actor[:100], action="retention_policy_set", detail=detail))
        session.commit()
        return tenant_retention(session, tenant.id, None)


def latest_report(session: Session, limit: int) -> RetentionReportPublic:
    """The newest RetentionEnforcer pass (completed or still running) with at most `limit` of its entries,
    most deleted first; 404 `retention_report_not_found` before the first pass."""
    report = session.exec(select(RetentionReport).order_by(col(RetentionReport.as_of).desc())).first()
    if report is None:
        raise ApiError(404, "retention_report_not_found", tr("The RetentionEnforcer has not run yet"))
    entries = session.exec(
        select(RetentionReportEntry)
        .where(RetentionReportEntry.report_id == report.id)
        .order_by(col(RetentionReportEntry.deleted).desc(), col(RetentionReportEntry.data_class))
        .limit(limit)
    ).all()
    return RetentionReportPublic(
        **report.model_dump(),
        entries=[RetentionReportEntryPublic.model_validate(e, from_attributes=True) for e in entries],
    )


def _apply(session: Session, tenant: Tenant, body: RetentionUpdate, actor: str) -> dict[str, int | None]:
    """Writes the overrides; what each class's override was before."""
    rows = session.exec(select(RetentionOverride).where(RetentionOverride.tenant_id == tenant.id)).all()
    existing = {row.data_class: row for row in rows}
    before: dict[str, int | None] = {}
    for data_class, days in body.policies.items():
        row = existing.get(data_class)
        before[data_class] = row.days if row else None
        if days is None:
            if row is not None:
                session.delete(row)
            continue
        row = row or RetentionOverride(tenant_id=tenant.id, data_class=data_class, days=days, set_by=actor[:100])
        row.days, row.set_by, row.set_at = days, actor[:100], datetime.now(UTC)
        session.add(row)
    session.flush()
    return before

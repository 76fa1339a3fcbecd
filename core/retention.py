"""Which rows each retention class is, and the clock its age is read from: the one definition the
RetentionEnforcer deletes by, the compliance audit counts by and the API reports the oldest record kept by.
Also reading a tenant's policies (its plan and the founder's overrides) from the database."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, delete, func, null, true, union, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from rules.retention import collected_days, resolve
from schemas.retention import DataClass, ResolvedPolicy, RetentionClass
from schemas.tables import (
    AiInteraction,
    AuditEntry,
    DataRequest,
    FailureEntry,
    HealthRecord,
    RetentionOverride,
    RetentionReport,
    RunArchiveEntry,
    TelemetryEvent,
    Tenant,
)


@dataclass(frozen=True)
class Records:
    """A class's rows: `table`, aged by `clock`, one tenant's by `tenant` (None: not per tenant), narrowed by
    `only`; `erase` names columns emptied instead of deleting the row (the row itself must stay)."""

    table: Any
    key: Any
    clock: Any
    tenant: Any | None
    only: tuple[ColumnElement[bool], ...] = ()
    erase: tuple[str, ...] = ()
    """Emptied to SQL NULL (a JSON column's None would be stored as JSON `null`, which IS NOT NULL)."""


RECORDS: dict[RetentionClass, Records] = {
    "run_history": Records(
        RunArchiveEntry, RunArchiveEntry.run_id, RunArchiveEntry.closed_at, RunArchiveEntry.tenant_id
    ),
    "failure_queue": Records(FailureEntry, FailureEntry.id, FailureEntry.last_failed_at, FailureEntry.tenant_id),
    "audit_log": Records(AuditEntry, AuditEntry.id, AuditEntry.at, AuditEntry.tenant_id),
    "telemetry": Records(TelemetryEvent, TelemetryEvent.id, TelemetryEvent.at, TelemetryEvent.tenant_id),
    # The request row and its dates stay: the DSAR trail. Only the copy of the tenant's data goes.
    "export_archive": Records(
        DataRequest,
        DataRequest.id,
        DataRequest.completed_at,
        DataRequest.tenant_id,
        # A purge's None is stored as JSON `null`, which is no archive either.
        only=(
            col(DataRequest.kind) == "export",
            col(DataRequest.archive).is_not(None),
            cast(col(DataRequest.archive), String) != "null",
        ),
        erase=("archive",),
    ),
    # The Brain's audit of AI calls, with their masked prompt and answer excerpts; the platform's own calls keep none.
    "ai_transcripts": Records(
        AiInteraction,
        AiInteraction.id,
        AiInteraction.created_at,
        AiInteraction.tenant_id,
        only=(col(AiInteraction.tenant_id).is_not(None),),
    ),
    "health_records": Records(HealthRecord, HealthRecord.id, HealthRecord.at, None),
    "platform_telemetry": Records(
        TelemetryEvent, TelemetryEvent.id, TelemetryEvent.at, None, only=(col(TelemetryEvent.tenant_id).is_(None),)
    ),
    "platform_audit_log": Records(
        AuditEntry, AuditEntry.id, AuditEntry.at, None, only=(col(AuditEntry.tenant_id).is_(None),)
    ),
}


def _kept(records: Records, tenant_id: str | None) -> list[ColumnElement[bool]]:
    where = [col(records.clock).is_not(None), *records.only]
    if records.tenant is not None:
        where.append(col(records.tenant) == tenant_id if tenant_id is not None else true())
    return where


def expire_batch(
    session: Session, data_class: RetentionClass, tenant_id: str | None, cutoff: datetime, limit: int
) -> int:
    """Deletes (or empties) at most `limit` of the class's rows older than `cutoff`; how many. The caller
    commits. Running it again after a commit finds only what is left."""
    records = RECORDS[data_class]
    keys = select(records.key).where(*_kept(records, tenant_id), col(records.clock) < cutoff).limit(limit)
    chosen = list(session.exec(keys).all())
    if not chosen:
        return 0
    if records.erase:
        session.execute(
            update(records.table).where(col(records.key).in_(chosen)).values({name: null() for name in records.erase})
        )
    else:
        session.execute(delete(records.table).where(col(records.key).in_(chosen)))
    return len(chosen)


def count_expired(session: Session, data_class: RetentionClass, tenant_id: str | None, cutoff: datetime) -> int:
    """How many of the class's rows (of the tenant, when the class is per tenant) are older than `cutoff`."""
    records = RECORDS[data_class]
    query = (
        select(func.count()).select_from(records.table).where(*_kept(records, tenant_id), col(records.clock) < cutoff)
    )
    return session.exec(query).one()


def oldest_kept(session: Session, data_class: RetentionClass, tenant_id: str | None) -> datetime | None:
    """The class's oldest record still kept, or None."""
    records = RECORDS[data_class]
    return session.exec(select(func.min(records.clock)).where(*_kept(records, tenant_id))).one()


def oldest_by_tenant(session: Session, data_class: DataClass, tenant_id: str | None) -> dict[str, datetime]:
    """Each tenant's oldest record of the class (only `tenant_id`'s when given)."""
    records = RECORDS[data_class]
    query = select(records.tenant, func.min(records.clock)).where(*_kept(records, tenant_id))
    if tenant_id is None:
        query = query.where(col(records.tenant).is_not(None))
    return {str(tenant): oldest for tenant, oldest in session.exec(query.group_by(records.tenant)).all() if oldest}


def tenants_with_records(session: Session, after: str | None, limit: int, only: list[str] | None) -> list[str]:
    """Tenant ids that own rows of any collected class (a tenant since removed too), in order, after `after`."""
    parts: list[Select[Any]] = []
    for records in {id(r.table): r for r in RECORDS.values() if r.tenant is not None}.values():
        part: Select[Any] = sa_select(col(records.tenant).label("tenant_id")).where(col(records.tenant).is_not(None))
        if after is not None:
            part = part.where(col(records.tenant) > after)
        if only is not None:
            part = part.where(col(records.tenant).in_(only))
        parts.append(part)
    everyone = union(*parts).subquery()
    query = sa_select(everyone.c.tenant_id).order_by(everyone.c.tenant_id).limit(limit)
    return [str(tenant_id) for tenant_id in session.execute(query).scalars().all()]


def tenant_days(session: Session, tenant_ids: Iterable[str]) -> dict[str, dict[RetentionClass, int]]:
    """Each tenant's days per collected class: its plan's defaults (the free plan's for a tenant with no
    row) and the founder's overrides."""
    wanted = list(tenant_ids)
    plans = dict(session.exec(select(Tenant.id, Tenant.plan).where(col(Tenant.id).in_(wanted))).all())
    overrides = _overrides(session, wanted)
    return {t: collected_days(plans.get(t, "free"), overrides.get(t, {})) for t in wanted}


def tenant_policies(session: Session, tenant: Tenant) -> list[ResolvedPolicy]:
    """Every class's policy for the tenant, with where its days come from."""
    return resolve(tenant.plan, _overrides(session, [tenant.id]).get(tenant.id, {}))


def _overrides(session: Session, tenant_ids: list[str]) -> dict[str, dict[str, int]]:
    rows = session.exec(select(RetentionOverride).where(col(RetentionOverride.tenant_id).in_(tenant_ids))).all()
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        found.setdefault(row.tenant_id, {})[row.data_class] = row.days
    return found


# How far back to look for the latest completed pass that covered a tenant: passes limited to some tenants
# (tests, founders' one-off runs) are rare.
RECENT_PASSES = 50


def last_enforced(session: Session, tenant_id: str | None) -> datetime | None:
    """When the latest completed RetentionEnforcer pass covering the tenant measured its cutoffs; with no
    tenant, the latest full pass (every tenant and the platform's classes)."""
    recent = session.exec(
        select(RetentionReport)
        .where(RetentionReport.status == "completed")
        .order_by(col(RetentionReport.as_of).desc())
        .limit(RECENT_PASSES)
    ).all()
    # tenant_ids None is stored as JSON null, which SQL cannot tell from a list without dialect-specific JSON.
    covering = (r for r in recent if r.tenant_ids is None or (tenant_id is not None and tenant_id in r.tenant_ids))
    return next((r.as_of for r in covering), None)

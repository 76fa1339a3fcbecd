"""The failure queue and re-drive: runs whose step failed for good, and starting them again from there."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from anyio import to_thread
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecutionStatus

from core.errors import ApiError
from core.settings import Settings
from domain.admission import start_admitted_redrive
from domain.run_history import ArchivedRun
from domain.runs import FoundRun
from domain.tenant_admin import tenant_names
from language.steps import WorkflowDefinition
from schemas.failures import FailurePublic, HealingSuggestion
from schemas.i18n import tr
from schemas.ops import FailureQueue
from schemas.runs import RunAccepted, RunProgress
from schemas.tables import AuditEntry, FailureEntry, WorkflowDefinitionRow, WorkflowVersionRow
from starters.archived_runs import archived_run
from starters.runs import redrive_input, run_record

# The failures counted per day at most (a bound on one page's read; a flood beyond it is drawn at this height).
MAX_COUNTED = 50_000


def list_failures(
    session: Session,
    tenant_id: str | None,
    status: Literal["open", "redriven"] | None,
    priority: Literal["normal", "high", "critical"] | None,
    workflow_id: str | None,
    limit: int,
) -> list[FailurePublic]:
    """Failed runs of the tenant (every tenant's when None), most recent failure first."""
    query = select(FailureEntry).order_by(col(FailureEntry.last_failed_at).desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(FailureEntry.tenant_id == tenant_id)
    for column, value in (
        (FailureEntry.status, status),
        (FailureEntry.priority, priority),
        (FailureEntry.definition_id, workflow_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return [FailurePublic.model_validate(row, from_attributes=True) for row in session.exec(query).all()]


def get_failure(session: Session, failure_id: str, tenant_id: str | None) -> FailurePublic:
    """One entry of the tenant's failure queue (any tenant's when None); 404 for another tenant's."""
    row = session.get(FailureEntry, failure_id)
    if row is None or tenant_id not in (None, row.tenant_id):
        raise ApiError(404, "failure_not_found", tr("No failure with this id"), field="failure_id")
    return FailurePublic.model_validate(row, from_attributes=True)


def healing_plan(session: Session, tenant_id: str | None, limit: int) -> list[HealingSuggestion]:
    """AutoRecovery's suggestion for each assessed failure of the tenant (every tenant's when None),
    newest assessment first."""
    query = select(FailureEntry).where(col(FailureEntry.category).is_not(None))
    if tenant_id is not None:
        query = query.where(FailureEntry.tenant_id == tenant_id)
    rows = session.exec(query.order_by(col(FailureEntry.assessed_at).desc()).limit(limit)).all()
    return [HealingSuggestion.model_validate(row, from_attributes=True) for row in rows]


async def redrive_failed_run(
    engine: Engine, temporal: Client, settings: Settings, run: FoundRun, version: int | None = None
) -> RunAccepted:
    """Starts a new run of the failed run's version that resumes at the failed step, reusing the results of
    the steps that had succeeded; marks its failure-queue entry re-driven. 409 unless the run failed (and its
    record is readable, in Temporal or the run archive); the re-drive passes admission like every start (403
    tenant not active, 429 limit used up or throttled). `version` resumes it on another version of the same
    definition instead (a fix applied to it)."""
    failed = await _failed_record(engine, temporal, run)
    number = failed.version if version is None else version
    definition = await to_thread.run_sync(_version, engine, failed.definition_id, number)
    params = redrive_input(failed, definition.model_dump(mode="json"), settings.retry_defaults(), version=version)
    new_run = await start_admitted_redrive(engine, temporal, settings, params)
    await to_thread.run_sync(_mark_redriven, engine, run.run_id, params.run_id)
    return RunAccepted(
        run_id=params.run_id, workflow_id=new_run.id, definition_id=params.definition_id, version=params.version
    )


async def _failed_record(engine: Engine, temporal: Client, run: FoundRun) -> RunProgress:
    """The failed run's record, from the failure it left or the archive, never by replaying it."""
    not_failed = ApiError(409, "run_not_failed", tr("Only a failed run can be retried"), field="run_id")
    if isinstance(run, ArchivedRun):
        whole = await archived_run(engine, temporal, run.run_id, whole=True)  # its large results back in place
        if run.entry.status != "failed" or whole is None or whole.record is None:
            raise not_failed
        return whole.record
    if run.description.status != WorkflowExecutionStatus.FAILED:
        raise not_failed
    return await run_record(run.handle, run.description)


def _version(engine: Engine, definition_id: str, version: int) -> WorkflowDefinition:
    with Session(engine) as session:
        row = session.exec(
            select(WorkflowVersionRow).where(
                WorkflowVersionRow.definition_id == definition_id, WorkflowVersionRow.version == version
            )
        ).first()
    if row is None:
        raise ApiError(409, "version_gone", tr("The failed run's definition version no longer exists"), field="run_id")
    return WorkflowDefinition.model_validate(row.body)


def failure_queue(
    session: Session,
    tenant_id: str | None,
    status: Literal["open", "redriven"] | None,
    priority: Literal["normal", "high", "critical"] | None,
    limit: int,
) -> FailureQueue:
    """`list_failures` across tenants (or of one) for the founder, with the tenants' and workflows' names."""
    found = list_failures(session, tenant_id, status, priority, None, limit)
    tenant_ids, workflow_ids = {f.tenant_id for f in found}, {f.workflow_id for f in found}
    workflows = session.exec(
        select(WorkflowDefinitionRow.id, WorkflowDefinitionRow.name).where(
            col(WorkflowDefinitionRow.id).in_(workflow_ids)
        )
    ).all()
    return FailureQueue(failures=found, tenant_names=tenant_names(session, tenant_ids), workflow_names=dict(workflows))


def failures_per_day(session: Session, tenant_id: str | None, days: int, today: date) -> list[tuple[date, int]]:
    """How many runs of the tenant (every tenant's when None) last failed on each of the `days` days up to
    `today` (UTC), oldest first; days without a failure count 0."""
    first = today - timedelta(days=days - 1)
    query = select(FailureEntry.last_failed_at).where(
        col(FailureEntry.last_failed_at) >= datetime.combine(first, time(), tzinfo=UTC)
    )
    if tenant_id is not None:
        query = query.where(FailureEntry.tenant_id == tenant_id)
    counted = Counter(at.astimezone(UTC).date() for at in session.exec(query.limit(MAX_COUNTED)).all())
    return [(first + timedelta(days=i), counted.get(first + timedelta(days=i), 0)) for i in range(days)]


async def redrive_as(engine: Engine, temporal: Client, settings: Settings, run: FoundRun, actor: str) -> RunAccepted:
    """`redrive_failed_run` on behalf of `actor` (the founder), audited in the run's tenant's log."""
    accepted = await redrive_failed_run(engine, temporal, settings, run)
    await to_thread.run_sync(_audit_redrive, engine, run.run_id, accepted.run_id, actor)
    return accepted


def _audit_redrive(engine: Engine, run_id: str, new_run_id: str, actor: str) -> None:
    with Session(engine) as session:
        entry = session.exec(select(FailureEntry).where(FailureEntry.run_id == run_id)).first()
        detail = {"run_id": run_id, "new_run_id": new_run_id}
        tenant_id = entry.tenant_id if entry is not None else None
        session.add(AuditEntry(tenant_id=tenant_id, actor=actor[:100], action="run.redriven", detail=detail))
        session.commit()


def _mark_redriven(engine: Engine, run_id: str, new_run_id: str) -> None:
    with Session(engine) as session:
        entry = session.exec(select(FailureEntry).where(FailureEntry.run_id == run_id)).first()
        if entry is not None:
            entry.status, entry.redriven_run_id = "redriven", new_run_id
            session.add(entry)
            session.commit()


def failure_of_run(session: Session, run_id: str, tenant_id: str | None) -> FailurePublic | None:
    """The failure-queue entry a run left (with AutoRecovery's category and suggestion once assessed), if the
    tenant owns it (any tenant's when None); None when the run left none."""
    query = select(FailureEntry).where(FailureEntry.run_id == run_id)
    if tenant_id is not None:
        query = query.where(FailureEntry.tenant_id == tenant_id)
    row = session.exec(query).first()
    return FailurePublic.model_validate(row, from_attributes=True) if row is not None else None

"""The failure queue and re-drive: runs whose step failed for good, and starting them again from there."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowExecutionStatus

from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep, TemporalDep
from api.routes.runs import owned_run
from core.errors import ApiError
from language.steps import WorkflowDefinition
from orchestrator.user_run import UserWorkflowRun
from schemas.api import FailurePublic, HealingSuggestion, RunAccepted
from schemas.tables import FailureEntry, WorkflowVersionRow
from starters.runs import redrive_input, start_run

router = APIRouter(prefix="/api", tags=["failures"])


@router.get("/failures")
def list_failures(
    caller: CallerDep, session: SessionDep,
    status: Literal["open", "redriven"] | None = None,
    priority: Literal["normal", "high", "critical"] | None = None,
    workflow_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FailurePublic]:
    """Failed runs, most recent failure first: the caller's tenant's, or every tenant's for the founder."""
    query = select(FailureEntry).order_by(col(FailureEntry.last_failed_at).desc()).limit(limit)
    if not caller.is_founder:
        query = query.where(FailureEntry.tenant_id == caller.tenant_id)
    for column, value in ((FailureEntry.status, status), (FailureEntry.priority, priority),
                          (FailureEntry.definition_id, workflow_id)):
        if value is not None:
            query = query.where(column == value)
    return [FailurePublic.model_validate(row, from_attributes=True) for row in session.exec(query).all()]


@router.get("/failures/{failure_id}")
def get_failure(failure_id: str, caller: CallerDep, session: SessionDep) -> FailurePublic:
    """One entry of the failure queue."""
    row = session.get(FailureEntry, failure_id)
    if row is None or not (caller.is_founder or row.tenant_id == caller.tenant_id):
        raise ApiError(404, "failure_not_found", "No failure with this id", field="failure_id")
    return FailurePublic.model_validate(row, from_attributes=True)


@router.get("/guardian/healing-plan")
def healing_plan(caller: CallerDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[HealingSuggestion]:
    """AutoRecovery's suggestion for each assessed failure, newest assessment first."""
    query = select(FailureEntry).where(col(FailureEntry.category).is_not(None))
    if not caller.is_founder:
        query = query.where(FailureEntry.tenant_id == caller.tenant_id)
    rows = session.exec(query.order_by(col(FailureEntry.assessed_at).desc()).limit(limit)).all()
    return [HealingSuggestion.model_validate(row, from_attributes=True) for row in rows]


@router.post("/runs/{run_id}/retry", status_code=status.HTTP_202_ACCEPTED)
async def retry_run(
    run_id: str, caller: CallerDep, temporal: TemporalDep, engine: EngineDep, settings: SettingsDep
) -> RunAccepted:
    """Re-drive a failed run: a new run of the same version resumes at the failed step, reusing the
    results of the steps that had succeeded (they are not executed again)."""
    handle, description = await owned_run(temporal, run_id, caller)
    if description.status != WorkflowExecutionStatus.FAILED:
        raise ApiError(409, "run_not_failed", "Only a failed run can be retried", field="run_id")
    failed = await handle.query(UserWorkflowRun.progress)
    definition = await run_in_threadpool(_version, engine, failed.definition_id, failed.version)
    params = redrive_input(failed, definition.model_dump(mode="json"), settings.retry_defaults())
    new_run = await start_run(temporal, params, settings.task_queue, eager=settings.api_embedded_worker)
    await run_in_threadpool(_mark_redriven, engine, run_id, params.run_id)
    return RunAccepted(run_id=params.run_id, workflow_id=new_run.id, definition_id=params.definition_id,
                       version=params.version)


def _version(engine: EngineDep, definition_id: str, version: int) -> WorkflowDefinition:
    with Session(engine) as session:
        row = session.exec(select(WorkflowVersionRow).where(
            WorkflowVersionRow.definition_id == definition_id, WorkflowVersionRow.version == version)).first()
    if row is None:
        raise ApiError(409, "version_gone", "The failed run's definition version no longer exists", field="run_id")
    return WorkflowDefinition.model_validate(row.body)


def _mark_redriven(engine: EngineDep, run_id: str, new_run_id: str) -> None:
    with Session(engine) as session:
        entry = session.exec(select(FailureEntry).where(FailureEntry.run_id == run_id)).first()
        if entry is not None:
            entry.status, entry.redriven_run_id = "redriven", new_run_id
            session.add(entry)
            session.commit()

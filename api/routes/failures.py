"""The failure queue and re-drive: runs whose step failed for good, and starting them again from there."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from api.deps import CallerDep, EngineDep, OwnedRun, SessionDep, SettingsDep, TemporalDep, require_tenant_admin
from domain import failures
from schemas.failures import FailurePublic, HealingSuggestion
from schemas.i18n import tr
from schemas.runs import RunAccepted

router = APIRouter(prefix="/api", tags=["failures"])


@router.get("/failures")
def list_failures(
    caller: CallerDep,
    session: SessionDep,
    status: Literal["open", "redriven"] | None = None,
    priority: Literal["normal", "high", "critical"] | None = None,
    workflow_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FailurePublic]:
    """Failed runs, most recent failure first: the caller's tenant's, or every tenant's for the founder."""
    return failures.list_failures(session, caller.tenant_id, status, priority, workflow_id, limit)


@router.get("/failures/{failure_id}")
def get_failure(failure_id: str, caller: CallerDep, session: SessionDep) -> FailurePublic:
    """One entry of the failure queue."""
    return failures.get_failure(session, failure_id, caller.tenant_id)


@router.get("/guardian/healing-plan")
def healing_plan(
    caller: CallerDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[HealingSuggestion]:
    """AutoRecovery's suggestion for each assessed failure, newest assessment first."""
    return failures.healing_plan(session, caller.tenant_id, limit)


@router.post("/runs/{run_id}/retry", status_code=status.HTTP_202_ACCEPTED)
async def retry_run(
    run: OwnedRun, caller: CallerDep, temporal: TemporalDep, engine: EngineDep, settings: SettingsDep
) -> RunAccepted:
    """Re-drive a failed run (a tenant admin or the founder): a new run of the same version resumes at the
    failed step, reusing the results of the steps that had succeeded (they are not executed again)."""
    require_tenant_admin(caller, tr("retry a run"))
    return await failures.redrive_failed_run(engine, temporal, settings, run)

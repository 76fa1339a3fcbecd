"""Runs: start one, list and read them (from Temporal, or the run archive once closed), cancel, and decide
approval gates."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, status

from api.deps import CallerDep, CurrentTenant, EngineDep, OwnedRun, SettingsDep, TemporalDep, UsageDep
from domain import approvals, runs
from language.steps import STEP_ID_PATTERN
from schemas.runs import (
    RunAccepted,
    RunCreate,
    RunPage,
    RunPublic,
    RunStatus,
    StepDecision,
    StepDecisionCreate,
    StepResultPublic,
)

router = APIRouter(prefix="/api", tags=["runs"])
ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"


@router.post("/workflows/{workflow_id}/runs", status_code=status.HTTP_202_ACCEPTED)
async def start_run(
    workflow_id: str,
    body: RunCreate,
    tenant: CurrentTenant,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    usage: UsageDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> RunAccepted:
    """Start a run of the latest version; the same `Idempotency-Key` never starts a second run. 429 when
    the plan's monthly limits are used up or the cost throttle holds."""
    return await runs.start_api_run(
        engine,
        temporal,
        settings,
        usage,
        workflow_id,
        tenant.tenant_id,
        body.input,
        idempotency_key,
    )


@router.get("/runs")
async def list_runs(
    caller: CallerDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    workflow_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    status: RunStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=2000)] = None,
) -> RunPage:
    """The caller's runs: those in flight first, then by closing time, newest first, for as long as the
    tenant's history retention keeps them; filter by workflow and status."""
    token_key = settings.levqor_founder_token.get_secret_value()
    return await runs.list_runs(engine, temporal, caller.tenant_id, workflow_id, status, limit, page_token, token_key)


@router.get("/runs/{run_id}")
async def get_run(run: OwnedRun) -> RunPublic:
    """A run's status, current step, pending gate and every step's result, attempts and error."""
    return await runs.read_run(run)


@router.get("/runs/{run_id}/steps/{step_id}/result")
async def get_step_result(
    step_id: Annotated[str, Path(pattern=STEP_ID_PATTERN)], run: OwnedRun, engine: EngineDep, temporal: TemporalDep
) -> StepResultPublic:
    """One step's result, whole; a closed run's large results are kept apart and read here (`result_ref`)."""
    return await runs.step_result(engine, temporal, run, step_id)


@router.post("/runs/{run_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_run(run_id: str, run: OwnedRun) -> dict[str, str]:
    """Ask a running run to stop; it records the step it was on as cancelled."""
    await runs.cancel_run(run)
    return {"run_id": run_id, "status": "cancelling"}


@router.post("/runs/{run_id}/approvals/{step_id}", status_code=status.HTTP_200_OK)
async def decide_step(
    run_id: str, step_id: str, body: StepDecisionCreate, caller: CallerDep, run: OwnedRun, engine: EngineDep
) -> dict[str, Any]:
    """Approve or reject a waiting gate: class B needs a tenant admin, class C the founder. The run records who
    decided: a signed-in user's e-mail, an API key's prefix and label, or `founder` (the founder token)."""
    decision = StepDecision(
        step_id=step_id,
        approved=body.decision == "approve",
        role=caller.decider_role,
        decided_by=await approvals.decider_name(engine, caller.user_id, caller.key_id),
        comment=body.comment,
    )
    await approvals.decide_step(run, decision)
    return {"run_id": run_id, "step_id": step_id, "decision": body.decision}

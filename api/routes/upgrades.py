"""Upgrade plans for the founder: rebuild them now, list and read them, move their status, summarise."""

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy

from api.deps import EngineDep, FounderDep, SettingsDep, TemporalDep
from core.errors import ApiError
from orchestrator.upgrade_planner import UpgradePlanner
from schemas.api import UpgradePlanUpdate
from schemas.tables import UpgradePlan
from schemas.upgrades import (
    PlanCategory,
    PlanStatus,
    UpgradePlannerInput,
    UpgradePlannerResult,
    UpgradePlanPublic,
    UpgradeSummary,
)

router = APIRouter(prefix="/api/guardian/upgrade", tags=["upgrades"])
REBUILD_WORKFLOW_ID = "upgrade-planner-rebuild"
TOP_OPEN = 5


@router.post("/plans/rebuild")
async def rebuild_plans(_founder: FounderDep, temporal: TemporalDep, settings: SettingsDep) -> UpgradePlannerResult:
    """Run the UpgradePlanner now and answer what it created, refreshed and archived. Concurrent calls join
    the same run."""
    handle = await temporal.start_workflow(
        UpgradePlanner.run, UpgradePlannerInput(stale_after_s=settings.upgrade_plan_stale_after_s),
        id=REBUILD_WORKFLOW_ID, task_queue=settings.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        return await handle.result()
    except WorkflowFailureError as err:
        raise ApiError(503, "planner_failed", "The UpgradePlanner could not finish; try again shortly") from err


@router.get("/plans")
async def list_plans(
    _founder: FounderDep, engine: EngineDep, status: PlanStatus | None = None, category: PlanCategory | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[UpgradePlanPublic]:
    """Plans, most urgent first, then newest; filter by status and category."""
    return await run_in_threadpool(_plans, engine, status, category, limit)


@router.get("/plans/{plan_id}")
async def get_plan(plan_id: str, _founder: FounderDep, engine: EngineDep) -> UpgradePlanPublic:
    """One plan with its metadata (the signal it came from)."""
    return _public(await run_in_threadpool(_plan, engine, plan_id))


@router.patch("/plans/{plan_id}")
async def update_plan(plan_id: str, body: UpgradePlanUpdate, _founder: FounderDep, engine: EngineDep) -> UpgradePlanPublic:
    """Move a plan to in_progress, applied or archived (the planner never applies anything itself)."""
    return await run_in_threadpool(_set_status, engine, plan_id, body.status)


@router.get("/summary")
async def summarise_plans(_founder: FounderDep, engine: EngineDep) -> UpgradeSummary:
    """Plans by status and category, open plans by priority, and the most urgent open ones."""
    plans = await run_in_threadpool(_plans, engine, None, None, None)
    open_plans = [plan for plan in plans if plan.status == "open"]
    return UpgradeSummary(
        by_status=dict(Counter(plan.status for plan in plans)), by_category=dict(Counter(plan.category for plan in plans)),
        open_by_priority=dict(sorted(Counter(plan.priority for plan in open_plans).items())), top_open=open_plans[:TOP_OPEN],
    )


def _plans(engine: EngineDep, status: str | None, category: str | None, limit: int | None) -> list[UpgradePlanPublic]:
    query = select(UpgradePlan).order_by(col(UpgradePlan.priority), col(UpgradePlan.created_at).desc())
    if status:
        query = query.where(UpgradePlan.status == status)
    if category:
        query = query.where(UpgradePlan.category == category)
    with Session(engine) as session:
        return [_public(plan) for plan in session.exec(query.limit(limit))]


def _plan(engine: EngineDep, plan_id: str) -> UpgradePlan:
    with Session(engine) as session:
        plan = session.get(UpgradePlan, plan_id) if len(plan_id) <= 36 else None
    if plan is None:
        raise ApiError(404, "plan_not_found", "No upgrade plan with this id", field="plan_id")
    return plan


def _set_status(engine: EngineDep, plan_id: str, status: str) -> UpgradePlanPublic:
    plan = _plan(engine, plan_id)
    if plan.status == "archived":
        raise ApiError(409, "plan_archived", "An archived plan stays archived; a rebuild proposes it anew",
                       field="status")
    with Session(engine, expire_on_commit=False) as session:
        plan.status = status
        session.add(plan)
        session.commit()
    return _public(plan)


def _public(plan: UpgradePlan) -> UpgradePlanPublic:
    return UpgradePlanPublic(**plan.model_dump(exclude={"plan_metadata"}), metadata=plan.plan_metadata)

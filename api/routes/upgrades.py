"""Upgrade plans for the founder: rebuild them now, list and read them, move their status, summarise."""

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, FounderDep, SettingsDep, TemporalDep
from domain.upgrades import plan_by_id, plan_summary, plans_by_urgency, run_planner_now, set_plan_status
from schemas.upgrades import (
    PlanCategory,
    PlanStatus,
    UpgradePlannerResult,
    UpgradePlanPublic,
    UpgradePlanUpdate,
    UpgradeSummary,
)

router = APIRouter(prefix="/api/guardian/upgrade", tags=["upgrades"])


@router.post("/plans/rebuild")
async def rebuild_plans(_founder: FounderDep, temporal: TemporalDep, settings: SettingsDep) -> UpgradePlannerResult:
    """Run the UpgradePlanner now and answer what it created, refreshed and archived. Concurrent calls join
    the same run."""
    return await run_planner_now(temporal, settings)


@router.get("/plans")
async def list_plans(
    _founder: FounderDep,
    engine: EngineDep,
    status: PlanStatus | None = None,
    category: PlanCategory | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[UpgradePlanPublic]:
    """Plans, most urgent first, then newest; filter by status and category."""
    return await run_in_threadpool(plans_by_urgency, engine, status, category, limit)


@router.get("/plans/{plan_id}")
async def get_plan(plan_id: str, _founder: FounderDep, engine: EngineDep) -> UpgradePlanPublic:
    """One plan with its metadata (the signal it came from)."""
    return await run_in_threadpool(plan_by_id, engine, plan_id)


@router.patch("/plans/{plan_id}")
async def update_plan(
    plan_id: str, body: UpgradePlanUpdate, _founder: FounderDep, engine: EngineDep
) -> UpgradePlanPublic:
    """Move a plan to in_progress, applied or archived (the planner never applies anything itself)."""
    return await run_in_threadpool(set_plan_status, engine, plan_id, body.status)


@router.get("/summary")
async def summarise_plans(_founder: FounderDep, engine: EngineDep) -> UpgradeSummary:
    """Plans by status and category, open plans by priority, and the most urgent open ones."""
    return await run_in_threadpool(plan_summary, engine)

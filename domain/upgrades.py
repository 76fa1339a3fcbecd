"""Upgrade plans for the founder: rebuilding them now, listing and reading them, moving their status,
summarising them. The UpgradePlanner workflow writes them; nothing here applies a plan."""

from collections import Counter

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy

from core.errors import ApiError
from core.settings import Settings
from orchestrator.upgrade_planner import UpgradePlanner
from schemas.tables import UpgradePlan
from schemas.upgrades import UpgradePlannerInput, UpgradePlannerResult, UpgradePlanPublic, UpgradeSummary

REBUILD_WORKFLOW_ID = "upgrade-planner-rebuild"
TOP_OPEN = 5
# Longer ids cannot name a plan (the column holds 36 characters); they answer 404 without a query.
MAX_PLAN_ID = 36


async def run_planner_now(temporal: Client, settings: Settings) -> UpgradePlannerResult:
    """Runs the UpgradePlanner and answers what it created, refreshed and archived; concurrent calls join
    the same run. 503 `planner_failed` when the run fails."""
    handle = await temporal.start_workflow(
        UpgradePlanner.run,
        UpgradePlannerInput(stale_after_s=settings.upgrade_plan_stale_after_s),
        id=REBUILD_WORKFLOW_ID,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        return await handle.result()
    except WorkflowFailureError as err:
        message = "The UpgradePlanner could not finish; try again shortly"
        raise ApiError(503, "planner_failed", message) from err


def plans_by_urgency(
    engine: Engine, status: str | None = None, category: str | None = None, limit: int | None = None
) -> list[UpgradePlanPublic]:
    """Plans, most urgent first, then newest; only those of `status` and `category` when given."""
    query = select(UpgradePlan).order_by(col(UpgradePlan.priority), col(UpgradePlan.created_at).desc())
    if status:
        query = query.where(UpgradePlan.status == status)
    if category:
        query = query.where(UpgradePlan.category == category)
    with Session(engine) as session:
        return [_public(plan) for plan in session.exec(query.limit(limit))]


def plan_by_id(engine: Engine, plan_id: str) -> UpgradePlanPublic:
    """The plan; 404 `plan_not_found` when there is none."""
    with Session(engine) as session:
        return _public(_plan(session, plan_id))


def set_plan_status(engine: Engine, plan_id: str, status: str) -> UpgradePlanPublic:
    """Moves the plan to `status`; 404 `plan_not_found`, 409 `plan_archived` when it is archived already."""
    with Session(engine, expire_on_commit=False) as session:
        plan = _plan(session, plan_id)
        if plan.status == "archived":
            message = "An archived plan stays archived; a rebuild proposes it anew"
            raise ApiError(409, "plan_archived", message, field="status")
        plan.status = status
        session.add(plan)
        session.commit()
    return _public(plan)


def plan_summary(engine: Engine) -> UpgradeSummary:
    """Plans by status and category, open plans by priority, and the TOP_OPEN most urgent open ones."""
    plans = plans_by_urgency(engine)
    open_plans = [plan for plan in plans if plan.status == "open"]
    return UpgradeSummary(
        by_status=dict(Counter(plan.status for plan in plans)),
        by_category=dict(Counter(plan.category for plan in plans)),
        open_by_priority=dict(sorted(Counter(plan.priority for plan in open_plans).items())),
        top_open=open_plans[:TOP_OPEN],
    )


def _public(plan: UpgradePlan) -> UpgradePlanPublic:
    return UpgradePlanPublic(**plan.model_dump(exclude={"plan_metadata"}), metadata=plan.plan_metadata)


def _plan(session: Session, plan_id: str) -> UpgradePlan:
    plan = session.get(UpgradePlan, plan_id) if len(plan_id) <= MAX_PLAN_ID else None
    if plan is None:
        raise ApiError(404, "plan_not_found", "No upgrade plan with this id", field="plan_id")
    return plan

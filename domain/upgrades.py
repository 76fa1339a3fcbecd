"""Upgrade plans for the founder: rebuilding them now, listing and reading them, moving their status,
summarising them. The UpgradePlanner workflow writes them; nothing here applies a plan."""

from collections import Counter

from anyio import to_thread
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy

from core.errors import ApiError
from core.settings import Settings
from orchestrator.upgrade_planner import UpgradePlanner
from schemas.i18n import tr
from schemas.tables import AuditEntry, UpgradePlan
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
        message = tr("The UpgradePlanner could not finish; try again shortly")
        raise ApiError(503, "planner_failed", message) from err


async def run_planner_as(engine: Engine, temporal: Client, settings: Settings, actor: str) -> UpgradePlannerResult:
    """`run_planner_now` on behalf of `actor` (a founder signed in to the panel), audited with what it did."""
    result = await run_planner_now(temporal, settings)
    entry = AuditEntry(actor=actor[:100], action="upgrade_plans.rebuilt", detail=result.model_dump())
    await to_thread.run_sync(_record, engine, entry)
    return result


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


def set_plan_status(engine: Engine, plan_id: str, status: str, actor: str | None = None) -> UpgradePlanPublic:
    """Moves the plan to `status` (audited as `actor` when given); 404 `plan_not_found`, 409 `plan_archived` when
    it is archived already, 409 `plan_not_reopenable` to move it back to open (only a rebuild proposes a plan)."""
    with Session(engine, expire_on_commit=False) as session:
        plan = _plan(session, plan_id)
        if plan.status == "archived":
            message = tr("An archived plan stays archived; a rebuild proposes it anew")
            raise ApiError(409, "plan_archived", message, field="status")
        if status == "open" and plan.status != "open":
            message = tr("A plan goes back to open only when a rebuild proposes it anew")
            raise ApiError(409, "plan_not_reopenable", message, field="status")
        moved = {"plan_id": plan.id, "title": plan.title, "from": plan.status, "to": status}
        plan.status = status
        session.add(plan)
        if actor is not None:
            session.add(AuditEntry(actor=actor[:100], action="upgrade_plan.moved", detail=moved))
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


def _record(engine: Engine, entry: AuditEntry) -> None:
    with Session(engine) as session:
        session.add(entry)
        session.commit()


def _public(plan: UpgradePlan) -> UpgradePlanPublic:
    return UpgradePlanPublic(**plan.model_dump(exclude={"plan_metadata"}), metadata=plan.plan_metadata)


def _plan(session: Session, plan_id: str) -> UpgradePlan:
    plan = session.get(UpgradePlan, plan_id) if len(plan_id) <= MAX_PLAN_ID else None
    if plan is None:
        raise ApiError(404, "plan_not_found", tr("No upgrade plan with this id"), field="plan_id")
    return plan

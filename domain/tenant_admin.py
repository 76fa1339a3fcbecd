"""The founder's console over tenants: every tenant at a glance (status, plan, this month's runs against the plan,
throttle), one tenant's dossier (lifecycle state, usage, people, recent trail), and the lifecycle's actions taken
by a named founder and audited as theirs. The lifecycle itself stays `update_lifecycle`'s (domain/tenants.py)."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, or_, select
from temporalio.client import Client

from core.errors import ApiError
from core.settings import Settings
from domain.accounts import tenant_users
from domain.api_keys import tenant_keys
from domain.tenants import describe_tenant, update_lifecycle
from domain.usage import period_usage
from orchestrator.tenant_lifecycle import TenantLifecycle
from rules.usage import limits_for, period_of
from schemas.i18n import Text, tr
from schemas.ops import TenantAction, TenantDossier, TenantGlance, TenantList, TrailEntry
from schemas.tables import AuditEntry, FailureEntry, Tenant, UsageCounter, User
from schemas.tenants import TenantChange, TenantDetail, Throttle, ThrottleLift

TRAIL_SHOWN = 25
# Why the lifecycle refused an action, said without the state (the page shows it beside the message).
REFUSALS: dict[TenantAction, Text] = {
    "suspend": tr("Only an active tenant can be suspended."),
    "resume": tr("Only a suspended tenant can be resumed."),
    "delete": tr("Only an active or suspended tenant can be deleted."),
    "restore": tr("Only a deleted tenant can be restored, and only within its grace period."),
    "throttle": tr("Only an active or suspended tenant can be throttled."),
    "lift": tr("This tenant is not throttled."),
}
PURGED = tr("This tenant was purged: nothing can change it any more.")


def tenant_list(session: Session, status: str | None, search: str | None, limit: int) -> TenantList:
    """Tenants newest first, of `status` and whose name contains `search` (or whose id it is), at most `limit`,
    each with this month's runs against its plan; every tenant counted by status."""
    query = select(Tenant)
    if status:
        query = query.where(Tenant.status == status)
    if search:
        query = query.where(or_(col(Tenant.name).ilike(f"%{_like(search)}%", escape="\\"), Tenant.id == search))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    tenants = session.exec(query.order_by(col(Tenant.created_at).desc()).limit(limit)).all()
    counted = session.exec(select(Tenant.status, func.count()).group_by(Tenant.status)).all()
    runs = dict(
        session.exec(
            select(UsageCounter.tenant_id, UsageCounter.value).where(
                UsageCounter.period == period_of(datetime.now(UTC)),
                UsageCounter.metric == "runs",
                col(UsageCounter.tenant_id).in_([t.id for t in tenants]),
            )
        ).all()
    )
    return TenantList(
        tenants=[_glance(tenant, runs.get(tenant.id, 0)) for tenant in tenants],
        by_status={status: count for status, count in counted},
        total=total,
    )


async def tenant_dossier(engine: Engine, temporal: Client, tenant_id: str) -> TenantDossier:
    """The tenant with its lifecycle's state, usage, current users, API keys, open failures and latest audit entries;
    404 `tenant_not_found`."""
    detail = await describe_tenant(engine, temporal, tenant_id, None)
    return await asyncio.to_thread(_dossier, engine, detail)


async def act_on_tenant(
    engine: Engine,
    temporal: Client,
    settings: Settings,
    tenant_id: str,
    action: TenantAction,
    actor: str,
    reason: str | None,
    max_concurrent_runs: int = 2,
) -> TenantDetail:
    """Moves the tenant through its lifecycle (suspend, resume, delete, restore) or puts on or lifts its throttle,
    as `actor`, and audits it (a throttle is audited by the lifecycle's own activity). 404 for an unknown
    tenant; 409 `illegal_transition` / `not_throttled` with the tenant's current state when the lifecycle
    refuses."""
    message: TenantChange | Throttle | ThrottleLift
    update: Any
    if action == "throttle":
        update, message = (
            TenantLifecycle.throttle,
            Throttle(max_concurrent_runs=max_concurrent_runs, ai_paused=True, by=actor, reason=reason or "founder"),
        )
    elif action == "lift":
        update, message = TenantLifecycle.lift_throttle, ThrottleLift(by=actor, reason=reason)
    else:
        update, message = TenantLifecycle.change, TenantChange(name=action, by=actor, reason=reason)
    code = "not_throttled" if action == "lift" else "illegal_transition"
    detail = await update_lifecycle(
        engine, temporal, settings, tenant_id, update, message,
        refused=lambda current: ApiError(409, code, REFUSALS[action], field="action", current_state=current),
        purged=ApiError(409, "illegal_transition", PURGED, field="action", current_state="purged"),
    )  # fmt: skip
    return detail


def tenant_names(session: Session, tenant_ids: set[str]) -> dict[str, str]:
    """The names of these tenants by id (those that exist)."""
    if not tenant_ids:
        return {}
    return dict(session.exec(select(Tenant.id, Tenant.name).where(col(Tenant.id).in_(tenant_ids))).all())


def _glance(tenant: Tenant, runs_used: int) -> TenantGlance:
    return TenantGlance(
        id=tenant.id,
        name=tenant.name,
        plan=tenant.plan,
        status=tenant.status,
        throttled=tenant.max_concurrent_runs is not None or tenant.ai_paused,
        created_at=tenant.created_at,
        runs_used=runs_used,
        runs_limit=limits_for(tenant.plan)["runs"],
    )


def _dossier(engine: Engine, detail: TenantDetail) -> TenantDossier:
    with Session(engine) as session:
        users = tenant_users(session, detail.id)
        keys = tenant_keys(session, detail.id)
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == detail.id)
            .order_by(col(AuditEntry.at).desc())
            .limit(TRAIL_SHOWN)
        ).all()
        actors = _people(session, {e.actor for e in entries} | {t.by for t in detail.history})
        failures_open = session.exec(
            select(func.count()).where(FailureEntry.tenant_id == detail.id, FailureEntry.status == "open")
        ).one()
    trail = [
        TrailEntry(
            actor=actors.get(entry.actor, entry.actor),
            action=entry.action,
            at=entry.at,
            reason=str(entry.detail["reason"]) if entry.detail.get("reason") else None,
            detail=entry.detail,
        )
        for entry in entries
    ]
    usage = period_usage(engine, detail.id)
    return TenantDossier(
        tenant=detail, usage=usage, users=users, keys=keys, trail=trail, failures_open=failures_open, actors=actors
    )


def _people(session: Session, actors: set[str]) -> dict[str, str]:
    """The e-mail of each `user:<id>` actor, keyed by the actor as the log writes it."""
    ids = {actor.removeprefix("user:") for actor in actors if actor.startswith("user:")}
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.email).where(col(User.id).in_(ids))).all()
    return {f"user:{user_id}": email for user_id, email in rows}


def _like(text: str) -> str:
    """`text` matched literally inside LIKE (its own % and _ escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

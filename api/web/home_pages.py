"""The workspace's home: runs today and this month, failures open, approvals waiting, this month's usage against
the plan as a picture, the tenant's recent activity, and every section.

Each figure comes from the function the JSON API answers it with, and stays cheap however many runs a tenant has:
this month's runs from the usage counters (`period_usage`, as GET /api/usage), today's from one visibility count,
failures from the failure queue's own listing (bounded), approvals from `pending_approvals` (as GET /api/approvals)."""

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, EngineDep, TemporalDep
from api.web.app_routes import BLURBS, COMING_SOON, route_paths
from api.web.deps import PageCaller
from api.web.pages import SECTIONS, page_locale, render
from api.web.runs_view import may_decide
from api.web.usage_chart import usage_svg
from domain.accounts import tenant_users
from domain.approvals import pending_approvals
from domain.audit_log import recent_activity
from domain.failures import list_failures
from domain.runs import runs_started_since
from domain.usage import period_usage
from schemas.audit import AuditEntryPublic
from schemas.i18n import Text, tr

router = APIRouter(include_in_schema=False)
FAILURES_COUNTED = 99
ACTORS = {"founder": tr("the Levqor founder"), "billing": tr("billing (Stripe)")}
# The audit log's actions a tenant's home shows most; others read as their words (`webhook.rotated`).
ACTIONS = {
    "user.invited": tr("User invited"), "user.role_changed": tr("User role changed"), "user.removed": tr("User removed"),
    "api_key.created": tr("API key created"), "api_key.revoked": tr("API key revoked"),
    "run.redriven": tr("Run re-driven"), "billing_contact_changed": tr("Billing contact changed"),
    "data_export_requested": tr("Data export requested"), "account_deletion_requested": tr("Account deletion requested"),
    "tenant.throttled": tr("Runs throttled"), "tenant.throttle_lifted": tr("Throttle lifted"),
    "retention_policy_set": tr("Retention policy set"), "tenant.backup_exported": tr("Backup exported"),
}  # fmt: skip
ACTIVITY_SHOWN = 8


@router.get("/app")
async def home(request: Request, caller: PageCaller, engine: EngineDep, temporal: TemporalDep) -> HTMLResponse:
    """Where a signed-in user lands: the figures that need attention, the month's usage, what happened lately."""
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    runs_today = await runs_started_since(temporal, caller.tenant_id, midnight)
    waiting = await pending_approvals(temporal, caller.tenant_id)
    figures = await run_in_threadpool(_stored_figures, engine, caller)
    usage = figures["usage"]
    built = set(route_paths(request.app.router.routes))
    soon = {key for key, _label, path in SECTIONS if key in COMING_SOON and path not in built}
    return render(
        request, "home/home.html", title=tr("Home"), section="home", runs_today=runs_today,
        approvals_waiting=len(waiting), approvals_mine=sum(1 for a in waiting if may_decide(caller, a.gate)),
        chart=usage_svg(usage, "home-usage", page_locale(request)) if usage else None, blurbs=BLURBS, soon=soon, **figures,
    )  # fmt: skip


def _stored_figures(engine: Engine, caller: Caller) -> dict[str, Any]:
    """What the database answers: the month's usage, open failures (counted up to a bound) and recent activity
    with who did it; the founder, who belongs to no tenant, sees every tenant's failures and no usage."""
    tenant_id = caller.tenant_id
    with Session(engine) as session:
        open_failures = list_failures(session, tenant_id, "open", None, None, FAILURES_COUNTED + 1)
        activity = recent_activity(session, tenant_id, ACTIVITY_SHOWN) if tenant_id else []
        people = {user.id: user.email for user in tenant_users(session, tenant_id)} if tenant_id else {}
    return {
        "usage": period_usage(engine, tenant_id) if tenant_id else None,
        "failures_open": len(open_failures),
        "failures_more": len(open_failures) > FAILURES_COUNTED,
        "activity": [(entry, actor_name(entry, people), action_words(entry)) for entry in activity],
    }


def actor_name(entry: AuditEntryPublic, people: dict[str, str]) -> Text | str:
    """Who acted, as a person reads it: a user's e-mail, an API key, the founder, or the system that did it."""
    kind, _, ident = entry.actor.partition(":")
    if kind == "user":
        return people.get(ident) or tr("a removed user")
    if kind == "key":
        return tr("an API key")
    return ACTORS.get(entry.actor, entry.actor)


def action_words(entry: AuditEntryPublic) -> Text | str:
    """What happened, in words: the known actions translated, any other `user.role_changed` as 'User role changed'."""
    if entry.action in ACTIONS:
        return ACTIONS[entry.action]
    words = re.sub(r"\bapi\b", "API", entry.action.replace(".", " ").replace("_", " ").strip())
    return words[:1].upper() + words[1:]

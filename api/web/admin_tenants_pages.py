"""The Admin Power Panel's tenants: every tenant with its status, plan, this month's runs against the plan and
throttle, searchable and filtered by status; a tenant's page (lifecycle state and history, usage, users, recent
audit entries); and its lifecycle actions, each behind a page that names the tenant and says what will happen (the
tenant's name typed for a delete), taken as the signed-in founder and audited. The lifecycle's refusals (409) are
shown on the tenant's page. Founders only: 404 for anyone else."""

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CallersDep, EngineDep, SessionDep, SettingsDep, TemporalDep
from api.web.admin_ops_view import TENANT_STATUSES, formats, founder_actor
from api.web.deps import FounderPage
from api.web.locale import page_redirect
from api.web.pages import page_locale, render
from api.web.usage_chart import usage_svg
from core.errors import ApiError
from domain.tenant_admin import act_on_tenant, tenant_dossier, tenant_list
from schemas.i18n import tr
from schemas.ops import TenantAction
from schemas.tenants import LEGAL

router = APIRouter(prefix="/admin/power/tenants", include_in_schema=False)
SHOWN = 200
TenantId = Annotated[str, Path(max_length=36)]
StatusFilter = Literal["all", "active", "suspended", "deleted", "purged"]
# The actions the tenant's status allows (the lifecycle still decides: a stale page's post is refused with a 409).
ALLOWED: dict[TenantAction, tuple[str, ...]] = {
    "suspend": LEGAL["suspend"][0],
    "resume": LEGAL["resume"][0],
    "delete": LEGAL["delete"][0],
    "restore": LEGAL["restore"][0],
    "throttle": ("active", "suspended"),
}
DONE = {
    "suspend": tr("Suspended. Its runs in flight were cancelled and its schedules paused."),
    "resume": tr("Resumed. Its users and keys can work again."),
    "delete": tr("Deleted. It can be restored until the grace period ends."),
    "restore": tr("Restored. It is active again."),
    "throttle": tr("Throttled. It runs at most the runs at once you chose, and no AI steps."),
    "lift": tr("Throttle lifted. Its plan's normal limits apply again."),
}


@router.get("")
def tenants_page(
    request: Request, _me: FounderPage, session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "", status: Annotated[StatusFilter, Query()] = "all",
) -> HTMLResponse:  # fmt: skip
    """Every tenant, newest first, with a search by name or id and a filter by status."""
    listed = tenant_list(session, None if status == "all" else status, q.strip() or None, SHOWN)
    return render(
        request, "admin/tenants.html", title=tr("Tenants"), section="admin", listed=listed, q=q, chosen=status,
        statuses=TENANT_STATUSES, fmt=formats(request), shown=SHOWN,
    )  # fmt: skip


@router.get("/{tenant_id}")
async def tenant_page(
    request: Request, tenant_id: TenantId, _me: FounderPage, engine: EngineDep, temporal: TemporalDep,
    done: Annotated[TenantAction | None, Query()] = None,
) -> HTMLResponse:  # fmt: skip
    """One tenant: its lifecycle's state and history, this month's usage, users and recent audit entries."""
    return await _tenant(request, engine, temporal, tenant_id, notice=DONE[done] if done else None)


@router.get("/{tenant_id}/{action}")
async def confirm_page(
    request: Request, tenant_id: TenantId, action: TenantAction, _me: FounderPage, engine: EngineDep,
    temporal: TemporalDep, settings: SettingsDep,
) -> HTMLResponse:  # fmt: skip
    """Asks before an action: names the tenant and says what will happen."""
    dossier = await tenant_dossier(engine, temporal, tenant_id)
    return _confirm(request, dossier.tenant.name, tenant_id, action, settings.tenant_grace_period_s)


@router.post("/{tenant_id}/{action}")
async def act(
    request: Request, tenant_id: TenantId, action: TenantAction, me: FounderPage, engine: EngineDep,
    temporal: TemporalDep, settings: SettingsDep, callers: CallersDep,
    reason: Annotated[str, Form(max_length=500)] = "", confirm_name: Annotated[str, Form(max_length=300)] = "",
    max_concurrent_runs: Annotated[int, Form(ge=0, le=10_000)] = 2,
) -> Response:  # fmt: skip
    """Takes the action as the signed-in founder (a delete only once the tenant's name is typed); shows the tenant."""
    dossier = await tenant_dossier(engine, temporal, tenant_id)
    name = dossier.tenant.name
    if action == "delete" and confirm_name.strip() != name:
        error = tr("The name you typed does not match. Nothing was deleted.")
        return _confirm(request, name, tenant_id, action, settings.tenant_grace_period_s, error=error)
    try:
        await act_on_tenant(
            engine, temporal, settings, tenant_id, action, founder_actor(me), reason.strip() or None,
            max_concurrent_runs,
        )  # fmt: skip
    except ApiError as err:
        if err.status != 409:
            raise
        return await _tenant(request, engine, temporal, tenant_id, status=409, error=err.message)
    callers.forget(tenant_id=tenant_id)
    return page_redirect(request, f"/admin/power/tenants/{tenant_id}?done={action}")


async def _tenant(
    request: Request, engine: EngineDep, temporal: TemporalDep, tenant_id: str, status: int = 200, **extra: object
) -> HTMLResponse:
    dossier = await tenant_dossier(engine, temporal, tenant_id)
    current = dossier.tenant.status
    throttled = dossier.tenant.throttle is not None
    actions: list[TenantAction] = [a for a, allowed in ALLOWED.items() if current in allowed]
    if throttled:
        actions = [a for a in actions if a != "throttle"]
        actions.append("lift")
    chart = usage_svg(dossier.usage, "tenant-usage", page_locale(request))
    return render(
        request, "admin/tenant.html", status=status, title=dossier.tenant.name, section="admin", dossier=dossier,
        actions=actions, chart=chart, statuses=TENANT_STATUSES, fmt=formats(request), **extra,
    )  # fmt: skip


def _confirm(
    request: Request, name: str, tenant_id: str, action: TenantAction, grace_s: float, error: object = None
) -> HTMLResponse:
    return render(
        request, "admin/tenant_confirm.html", status=422 if error else 200, title=name, section="admin",
        tenant_name=name, tenant_id=tenant_id, action=action, grace=formats(request).duration(grace_s), error=error,
    )  # fmt: skip

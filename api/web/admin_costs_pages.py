"""The Admin Power Panel's cost monitor (founders only): every tenant's spend (month to date, latest hourly rate,
trailing average) as a table and a picture, who is throttled, throttle and lift buttons, and the recent throttle
actions of the autopilot and the founders. Throttling goes through the tenant's lifecycle, which audits it."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, SettingsDep, TemporalDep
from api.web import cost_chart
from api.web.admin_ops_view import founder_actor
from api.web.cost_chart import cost_svg
from api.web.deps import FounderPage
from api.web.locale import page_url
from api.web.pages import page_locale, render
from api.web.panel_formats import Formats
from core.i18n import render as render_text
from domain import cost
from domain.approvals import decider_name
from domain.tenant_admin import act_on_tenant
from schemas.cost import CostAction
from schemas.i18n import Text, tr

router = APIRouter(prefix="/admin/power/costs", include_in_schema=False)
TenantId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,36}$")]
NOTICES = {
    "throttled": tr("Throttled: the tenant's new runs are capped until you lift it."),
    "lifted": tr("Throttle lifted: the plan's normal limits apply again."),
}
ACTION_WORDS = {"tenant.throttled": tr("Throttled"), "tenant.throttle_lifted": tr("Throttle lifted")}
SHOWN_ACTIONS = 25


@router.get("")
async def costs(
    request: Request,
    _founder: FounderPage,
    engine: EngineDep,
    settings: SettingsDep,
    done: Annotated[str, Query(max_length=16)] = "",
    scanned: Annotated[int, Query(ge=0)] = 0,
    spikes: Annotated[int, Query(ge=0)] = 0,
    throttled: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Spend per tenant as a table and a picture, the throttled tenants, and the latest throttle actions."""
    found = await run_in_threadpool(
        cost.cost_overview,
        engine,
        settings.cost_trailing_samples,
        settings.cost_spike_factor,
        settings.cost_spike_floor_usd_per_hour,
    )
    locale = page_locale(request)
    actions = found.actions[:SHOWN_ACTIONS]
    return render(
        request,
        "admin/costs.html",
        title=render_text(tr("Cost monitor"), locale),
        part="costs",
        overview=found,
        chart=cost_svg(found.tenants, locale),
        throttled=[t for t in found.tenants if cost_chart.throttled(t)],
        names={t.tenant_id: t.name for t in found.tenants},
        actions=actions,
        people=await _people(engine, actions),
        action_words=ACTION_WORDS,
        fmt=Formats(locale),
        notice=_checked(scanned, spikes, throttled) if done == "checked" else NOTICES.get(done),
    )


@router.post("/check")
async def check(
    request: Request, _founder: FounderPage, temporal: TemporalDep, settings: SettingsDep
) -> RedirectResponse:
    """Runs the cost autopilot over every live tenant now; the page then says what it found and did."""
    result = await cost.check_now(temporal, settings, None)
    found = f"scanned={result.scanned}&spikes={len(result.spikes)}&throttled={len(result.throttled)}"
    return RedirectResponse(page_url(request, f"/admin/power/costs?done=checked&{found}"), status_code=303)


@router.post("/{tenant_id}/throttle")
async def throttle(
    request: Request,
    tenant_id: TenantId,
    founder: FounderPage,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    reason: Annotated[str, Form(min_length=1, max_length=500, pattern=r"\S")],
    max_concurrent_runs: Annotated[int, Form(ge=0, le=10_000)] = 2,
) -> RedirectResponse:
    """Throttles a tenant by hand, as the autopilot would (AI steps paused too); the audit names the founder."""
    await act_on_tenant(
        engine, temporal, settings, tenant_id, "throttle", founder_actor(founder), reason.strip(), max_concurrent_runs
    )
    return RedirectResponse(page_url(request, "/admin/power/costs?done=throttled"), status_code=303)


@router.post("/{tenant_id}/lift")
async def lift(
    request: Request,
    tenant_id: TenantId,
    founder: FounderPage,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    """Lifts a tenant's throttle; the audit names the founder."""
    await act_on_tenant(engine, temporal, settings, tenant_id, "lift", founder_actor(founder), reason.strip() or None)
    return RedirectResponse(page_url(request, "/admin/power/costs?done=lifted"), status_code=303)


def _checked(scanned: int, spikes: int, throttled: int) -> Text:
    return tr(
        "The autopilot checked %(scanned)s tenants: %(spikes)s spending spikes, %(throttled)s newly throttled.",
        scanned=scanned,
        spikes=spikes,
        throttled=throttled,
    )


async def _people(engine: EngineDep, actions: list[CostAction]) -> dict[str, str]:
    """The founders who acted (`user:<id>` in the audit log) by actor, as a person reads them."""
    users = {a.actor for a in actions if a.actor.startswith("user:")}
    return {actor: await decider_name(engine, actor.removeprefix("user:"), None) for actor in sorted(users)}

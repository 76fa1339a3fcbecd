"""Usage & billing: this month's usage against the plan (a picture and a table, from `period_usage` as GET
/api/usage), the plan, subscription and dunning state (`billing_with_dunning`, as GET /api/billing), and for admins
buttons that create a Stripe Checkout Session or a customer portal session (`create_checkout_session`,
`create_portal_session`, as the JSON routes) and answer 303 to Stripe's page. What the domain refuses (payments not
set up, no billing e-mail, already subscribed, Stripe unreachable) is shown on the page in words."""

from typing import Annotated, Any

from babel.core import get_global
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, EngineDep, SettingsDep, TemporalDep, audit_actor, caller_tenant, require_admin
from api.web.deps import PageCaller
from api.web.pages import page_locale, render
from api.web.usage_chart import usage_svg
from core.errors import ApiError
from core.i18n import locale_id
from domain.billing import billing_with_dunning
from domain.checkout import create_checkout_session, create_portal_session
from domain.usage import period_usage
from rules.checkout import PAID_PLANS, purchasable_items
from rules.pricing import CATALOG, price_list, regions
from schemas.api import PLANS
from schemas.billing import CheckoutCreate
from schemas.i18n import tr
from schemas.usage import METRICS

router = APIRouter(prefix="/app/usage", include_in_schema=False)
METRIC_NAMES = {
    "runs": tr("Runs"), "steps": tr("Billable steps"), "api_calls": tr("API calls"), "ai_credits": tr("AI credits"),
}  # fmt: skip
FRIENDLY = {
    "billing_not_configured": tr("Payments are not set up on this platform yet. Ask the Levqor team to buy a plan."),
    "price_not_configured": tr("This item cannot be bought online yet. Ask the Levqor team."),
    "stripe_unavailable": tr("Stripe did not answer just now. Nothing was charged; try again in a minute."),
    "stripe_rejected": tr("Stripe refused the request. Nothing was charged; the Levqor team has been told."),
    "no_stripe_customer": tr("Buy a plan or package first; the billing portal then manages it."),
}


@router.get("")
async def usage_page(request: Request, caller: PageCaller, engine: EngineDep, temporal: TemporalDep) -> HTMLResponse:
    """The month's usage against the plan, and billing."""
    return await _page(request, engine, temporal, caller)


@router.post("/checkout")
async def checkout(
    request: Request, caller: PageCaller, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep,
    item: Annotated[str, Form(max_length=64)], region: Annotated[str, Form(max_length=8)] = "",
    billing_email: Annotated[str, Form(max_length=320)] = "",
) -> Response:  # fmt: skip
    """Creates a Checkout Session for a plan or package (admins) and sends the browser to Stripe's page."""
    tenant_id = caller_tenant(caller, tr("Billing accounts"))
    require_admin(caller, tr("billing"))
    try:
        order = CheckoutCreate(item=item, region=region.strip() or None, billing_email=billing_email.strip() or None)
    except ValidationError:
        error = tr("Check the form: a region is a two-letter country code and the e-mail a full address.")
        return await _page(request, engine, temporal, caller, 422, error=error)
    try:
        started = await create_checkout_session(engine, temporal, settings, tenant_id, audit_actor(caller), order, None)
    except ApiError as err:
        return await _page(request, engine, temporal, caller, err.status, error=FRIENDLY.get(err.code, err.message))
    if not started.url:
        return await _page(request, engine, temporal, caller, 502, error=FRIENDLY["stripe_rejected"])
    return RedirectResponse(started.url, status_code=303)


@router.post("/portal")
async def portal(
    request: Request, caller: PageCaller, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> Response:
    """Opens Stripe's customer portal (plan, card, invoices, cancelling) for admins."""
    tenant_id = caller_tenant(caller, tr("Billing accounts"))
    require_admin(caller, tr("billing"))
    try:
        opened = await create_portal_session(engine, temporal, settings, tenant_id)
    except ApiError as err:
        return await _page(request, engine, temporal, caller, err.status, error=FRIENDLY.get(err.code, err.message))
    return RedirectResponse(opened.url, status_code=303)


async def _page(
    request: Request, engine: Any, temporal: Any, caller: Caller, status: int = 200, **extra: Any
) -> HTMLResponse:
    if caller.tenant_id is None:
        return render(request, "billing/usage.html", status=status, title=tr("Usage & billing"),
                      section="usage", founder=True, **extra)  # fmt: skip
    usage = await run_in_threadpool(period_usage, engine, caller.tenant_id)
    billing = await billing_with_dunning(engine, temporal, caller.tenant_id)
    admin = caller.role == "admin"
    if not admin:
        billing.billing_email = None  # as GET /api/billing answers a member
    prices = price_list(_region(request, billing.billing_country))
    priced = {item.id: item for item in (*prices.plans, *prices.packages)}
    items = [(key, priced[key]) for key in purchasable_items() if key in priced]
    plans = sorted((i for i in items if i[0] in PAID_PLANS), key=lambda item: PLANS.index(item[0]))
    return render(
        request, "billing/usage.html", status=status, title=tr("Usage & billing"), section="usage", usage=usage,
        prices=prices, regions=regions(),
        chart=usage_svg(usage, "billing-usage", page_locale(request)), metrics=[(m, METRIC_NAMES[m], usage.metrics[m]) for m in METRICS],
        billing=billing, admin=admin, plans=plans, suggested=_next_plan(usage.plan),
        packages=[i for i in items if i[0] not in PAID_PLANS], **extra,
    )  # fmt: skip


def _next_plan(plan: str) -> str:
    """The plan above the tenant's, which the form offers first."""
    above = [p for p in PLANS if p in PAID_PLANS and PLANS.index(p) > PLANS.index(plan)] if plan in PLANS else []
    return above[0] if above else "pro"


def _region(request: Request, billing_country: str | None) -> str:
    """The priced region the page shows prices for: the one asked for (?region=), else the billing country's,
    else the page language's likeliest country (hi → IN, ja → JP, pt-BR → BR); else the default (US)."""
    language = locale_id(page_locale(request))
    likely = str(get_global("likely_subtags").get(language.split("_")[0], "")).rpartition("_")[2]
    territory = language.rpartition("_")[2] if "_" in language else likely
    for wanted in (request.query_params.get("region", ""), billing_country or "", territory):
        if wanted.upper() in CATALOG.regions:
            return wanted.upper()
    return CATALOG.default_region

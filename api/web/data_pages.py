"""Data: the tenant's data-subject requests (GDPR/CCPA) with their deadlines, and for admins: request an export,
download its archive as a JSON file once the DataExport workflow completed it, and delete the account after typing
the tenant's name (then signed out). The same functions as /api/me (`start_export`, `tenant_export`,
`request_account_deletion`, `tenant_data_requests`) with the same checks: admins only, another tenant's request 404."""

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import (
    SESSION_COOKIE,
    Caller,
    CallersDep,
    EngineDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    audit_actor,
    caller_tenant,
    require_admin,
)
from api.web.deps import PageCaller, PageSession
from api.web.locale import page_redirect
from api.web.pages import render, secure_request
from core.errors import ApiError
from domain.data_requests import request_account_deletion, start_export, tenant_data_requests, tenant_export
from domain.tenants import visible_tenant
from domain.web_sessions import end_session
from schemas.i18n import tr

router = APIRouter(prefix="/app/data", include_in_schema=False)
NOTICES = {"export": tr("Export requested. It is gathered in the background; reload this page to download it.")}


@router.get("")
def data_page(
    request: Request, caller: PageCaller, session: SessionDep, done: Annotated[Literal["export", ""], Query()] = ""
) -> HTMLResponse:
    """The tenant's requests, newest first; admins export and delete."""
    return _page(request, session, caller, notice=NOTICES.get(done))


@router.post("/export")
async def request_export(
    request: Request, caller: PageCaller, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> RedirectResponse:
    """Starts a DataExport of everything the tenant holds (admins)."""
    tenant_id = caller_tenant(caller, tr("Data requests"))
    require_admin(caller, tr("data requests"))
    await start_export(engine, temporal, settings.task_queue, tenant_id, audit_actor(caller))
    return page_redirect(request, "/app/data?done=export")


@router.get("/exports/{request_id}/download")
def download_export(request_id: str, caller: PageCaller, session: SessionDep) -> Response:
    """The export's archive as a JSON file (admins); 404 for another tenant's, 409 while it is gathered."""
    tenant_id = caller_tenant(caller, tr("Data requests"))
    require_admin(caller, tr("data requests"))
    export = tenant_export(session, tenant_id, request_id)
    if export.status != "completed" or export.archive is None:
        raise ApiError(409, "export_not_ready", tr("This export is not ready yet; download it once it is completed"))
    body = json.dumps(export.model_dump(mode="json"), ensure_ascii=False, indent=2)
    filename = f"levqor-export-{export.requested_at:%Y-%m-%d}-{export.id[:8]}.json"
    return Response(
        body, media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
                 "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


@router.get("/delete")
def confirm_delete(request: Request, caller: PageCaller, session: SessionDep) -> HTMLResponse:
    """Asks the admin to type the tenant's name before deleting the account."""
    tenant = visible_tenant(session, caller_tenant(caller, tr("Data requests")), caller.tenant_id)
    require_admin(caller, tr("the account"))
    return render(request, "data/delete.html", title=tr("Delete the account"), section="data", tenant=tenant)


@router.post("/delete")
async def delete_account(
    request: Request, me: PageSession, caller: PageCaller, session: SessionDep, engine: EngineDep,
    temporal: TemporalDep, settings: SettingsDep, callers: CallersDep,
    confirm_name: Annotated[str, Form(max_length=300)] = "",
) -> Response:  # fmt: skip
    """Deletes the account (soft now, purged after the grace period) once the name typed matches; signs out."""
    tenant = visible_tenant(session, caller_tenant(caller, tr("Data requests")), caller.tenant_id)
    require_admin(caller, tr("the account"))
    if confirm_name.strip() != tenant.name:
        error = tr("The name you typed does not match. Nothing was deleted.")
        return render(request, "data/delete.html", status=422, title=tr("Delete the account"), section="data",
                      tenant=tenant, error=error)  # fmt: skip
    started = await request_account_deletion(engine, temporal, settings, tenant.id, audit_actor(caller))
    callers.forget(tenant_id=tenant.id)
    end_session(session, request.cookies.get(SESSION_COOKIE, ""), datetime.now(UTC))
    request.state.web_session = None  # the goodbye page is a signed-out page
    response = render(request, "data/deleted.html", title=tr("Account deleted"), name=tenant.name, started=started)
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure_request(request), samesite="lax")
    return response


def _page(request: Request, session: Session, caller: Caller, status: int = 200, **extra: Any) -> HTMLResponse:
    tenant_id = caller.tenant_id
    requests = tenant_data_requests(session, tenant_id) if tenant_id else []
    return render(
        request, "data/list.html", status=status, title=tr("Data"), section="data", requests=requests,
        admin=tenant_id is not None and caller.role == "admin", founder=tenant_id is None,
        pending=any(r.status == "pending" for r in requests), **extra,
    )  # fmt: skip

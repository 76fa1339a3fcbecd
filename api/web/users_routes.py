"""Users & keys: a tenant's admins (and the founder) invite users, change roles, remove users, and issue, list and
revoke API keys, through the same domain functions and checks as the JSON routes. Members see a notice only."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from api.deps import (
    Caller,
    CallersDep,
    EngineDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    audit_actor,
    require_tenant_admin,
)
from api.web.deps import PageCaller
from api.web.pages import render
from core.errors import ApiError
from domain.accounts import change_role, remove_user, tenant_users
from domain.api_keys import revoke_key, tenant_keys
from domain.sign_in import invite
from domain.tenants import add_api_key, all_tenants, visible_tenant
from schemas.accounts import TenantRole, UserInvite
from schemas.api import KeyRole
from schemas.i18n import Text, tr

router = APIRouter(prefix="/app", include_in_schema=False)
TenantField = Annotated[str, Form(max_length=36)]


@router.get("/users")
def users_page(request: Request, caller: PageCaller, session: SessionDep, tenant_id: str = "") -> HTMLResponse:
    """The tenant's users and keys (the founder first picks a tenant)."""
    return _page(request, session, caller, tenant_id)


@router.post("/users/invite")
async def invite_user(
    request: Request, caller: PageCaller, session: SessionDep, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep, email: Annotated[str, Form(max_length=254)], role: Annotated[TenantRole, Form()],
    tenant_id: TenantField = "",
) -> HTMLResponse:  # fmt: skip
    tenant = _tenant(session, caller, tenant_id)
    require_tenant_admin(caller, tr("invite users"))
    try:
        body = UserInvite(email=email.strip(), role=role)
    except ValueError:
        return _page(request, session, caller, tenant, 422, error=tr("That is not an e-mail address."))
    user = await _answer(invite(engine, temporal, settings, tenant, caller.tenant_id, body, audit_actor(caller)))
    if isinstance(user, ApiError):
        return _page(request, session, caller, tenant, user.status, error=user.message)
    return _page(request, session, caller, tenant, notice=tr("Invitation sent to %(email)s.", email=user.email))


@router.post("/users/{user_id}/role")
def change_user_role(
    request: Request, user_id: str, caller: PageCaller, session: SessionDep, role: Annotated[TenantRole, Form()],
    tenant_id: TenantField = "",
) -> HTMLResponse:  # fmt: skip
    tenant = _tenant(session, caller, tenant_id)
    require_tenant_admin(caller, tr("change roles"))
    return _act(request, session, caller, tenant, lambda: change_role(session, tenant, user_id, role, audit_actor(caller)),
                tr("Role changed."))  # fmt: skip


@router.post("/users/{user_id}/remove")
def remove(
    request: Request, user_id: str, caller: PageCaller, session: SessionDep, tenant_id: TenantField = ""
) -> HTMLResponse:
    tenant = _tenant(session, caller, tenant_id)
    require_tenant_admin(caller, tr("remove users"))
    return _act(request, session, caller, tenant, lambda: remove_user(session, tenant, user_id, audit_actor(caller)),
                tr("User removed."))  # fmt: skip


@router.post("/keys")
def create_key(
    request: Request, caller: PageCaller, session: SessionDep, role: Annotated[KeyRole, Form()],
    label: Annotated[str, Form(max_length=200)] = "", tenant_id: TenantField = "",
) -> HTMLResponse:  # fmt: skip
    """Issues a key and shows it once, in this answer."""
    tenant = _tenant(session, caller, tenant_id)
    require_tenant_admin(caller, tr("issue keys"))
    created = add_api_key(session, tenant, role, label.strip() or None, audit_actor(caller))
    return _page(request, session, caller, tenant, new_key=created)


@router.post("/keys/{key_id}/revoke")
def revoke(
    request: Request, key_id: str, caller: PageCaller, session: SessionDep, callers: CallersDep,
    tenant_id: TenantField = "",
) -> HTMLResponse:  # fmt: skip
    tenant = _tenant(session, caller, tenant_id)
    require_tenant_admin(caller, tr("revoke keys"))
    page = _act(request, session, caller, tenant,
                lambda: revoke_key(session, tenant, key_id, audit_actor(caller), caller.is_founder), tr("Key revoked."))  # fmt: skip
    callers.forget(key_id=key_id)
    return page


def _tenant(session: Session, caller: Caller, tenant_id: str) -> str:
    """The tenant the page acts on: the caller's own, or (founder) the one named; 404 for another's."""
    return visible_tenant(session, tenant_id or caller.tenant_id or "", caller.tenant_id).id


async def _answer(pending: Any) -> Any:
    try:
        return await pending
    except ApiError as err:
        return err


def _act(request: Request, session: Session, caller: Caller, tenant: str, change: Any, done: Text) -> HTMLResponse:
    """Runs one change and shows the page with its outcome; a refusal (409 last admin, 404) is shown, not raised."""
    try:
        change()
    except ApiError as err:
        session.rollback()
        return _page(request, session, caller, tenant, err.status, error=err.message)
    return _page(request, session, caller, tenant, notice=done)


def _page(
    request: Request, session: Session, caller: Caller, tenant_id: str, status: int = 200, **extra: Any
) -> HTMLResponse:
    if not tenant_id and caller.is_founder and caller.tenant_id is None:
        return render(request, "users.html", title=tr("Users & keys"), section="users", tenants=all_tenants(session))
    tenant = visible_tenant(session, tenant_id or caller.tenant_id or "", caller.tenant_id)
    admin = caller.is_founder or caller.role == "admin"
    context: dict[str, Any] = {"tenant": tenant, "admin": admin, **extra}
    if admin:
        context |= {"users": tenant_users(session, tenant.id), "keys": tenant_keys(session, tenant.id)}
    return render(request, "users.html", status=status, title=tr("Users & keys"), section="users", **context)

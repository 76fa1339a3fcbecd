"""A tenant's users of the web app: list, invite (an e-mailed sign-in link), change a role, remove (founder, or an
admin of that tenant, by key or signed in)."""

from fastapi import APIRouter, status

from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep, TemporalDep, audit_actor, require_tenant_admin
from domain.accounts import change_role, remove_user, tenant_users
from domain.sign_in import invite
from domain.tenants import visible_tenant
from schemas.accounts import UserInvite, UserPublic, UserRoleChange
from schemas.i18n import tr

router = APIRouter(prefix="/api/tenants", tags=["users"])


@router.get("/{tenant_id}/users")
def list_users(tenant_id: str, caller: CallerDep, session: SessionDep) -> list[UserPublic]:
    """The tenant's current users, oldest first."""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    require_tenant_admin(caller, tr("list users"))
    return tenant_users(session, tenant.id)


@router.post("/{tenant_id}/users", status_code=status.HTTP_201_CREATED)
async def invite_user(
    tenant_id: str,
    body: UserInvite,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> UserPublic:
    """Add a user by e-mail with a role; they receive a sign-in link (409 `email_taken` for another account's)."""
    visible_tenant(session, tenant_id, caller.tenant_id)
    require_tenant_admin(caller, tr("invite users"))
    return await invite(engine, temporal, settings, tenant_id, caller.tenant_id, body, audit_actor(caller))


@router.patch("/{tenant_id}/users/{user_id}")
def change_user_role(
    tenant_id: str, user_id: str, body: UserRoleChange, caller: CallerDep, session: SessionDep
) -> UserPublic:
    """Change a user's role; the tenant's last admin stays an admin (409 `last_admin`)."""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    require_tenant_admin(caller, tr("change roles"))
    return change_role(session, tenant.id, user_id, body.role, audit_actor(caller))


@router.delete("/{tenant_id}/users/{user_id}")
def delete_user(tenant_id: str, user_id: str, caller: CallerDep, session: SessionDep) -> UserPublic:
    """Remove a user and end their sessions at once; never the tenant's last admin (409 `last_admin`)."""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    require_tenant_admin(caller, tr("remove users"))
    return remove_user(session, tenant.id, user_id, audit_actor(caller))

"""Users of the web app: find, invite, change a role, remove; and the founder's own user.

Every function takes the acting tenant's id and answers 404 for another tenant's user, like a made-up id.
Who may call them (a tenant admin or the founder) is the caller's check (`api/web/deps.py`)."""

from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.errors import ApiError
from schemas.accounts import TenantRole, UserPublic
from schemas.i18n import tr
from schemas.tables import AuditEntry, User, WebSession

FOUNDER_FALLBACK_EMAIL = "founder@levqor.localhost"


def normalized_email(email: str) -> str:
    return email.strip().lower()


def active_user(session: Session, email: str) -> User | None:
    """The user who signs in with `email` (any case), unless removed."""
    user = session.exec(select(User).where(User.email == normalized_email(email))).first()
    return user if user is not None and user.removed_at is None else None


def tenant_users(session: Session, tenant_id: str) -> list[UserPublic]:
    """The tenant's current users, oldest first."""
    rows = session.exec(
        select(User).where(User.tenant_id == tenant_id, col(User.removed_at).is_(None)).order_by(col(User.created_at))
    ).all()
    return [UserPublic.model_validate(row, from_attributes=True) for row in rows]


def invite_user(session: Session, tenant_id: str, email: str, role: TenantRole, actor: str) -> User:
    """Adds `email` to the tenant with `role` (bringing back a user the tenant removed). 409 `email_taken` when the
    address belongs to a founder or another tenant's user; an existing user of this tenant keeps its role."""
    address = normalized_email(email)
    user = session.exec(select(User).where(User.email == address)).first()
    if user is not None and (user.tenant_id != tenant_id or user.role == "founder"):
        raise ApiError(409, "email_taken", tr("This address already belongs to another account"), field="email")
    if user is None:
        user = User(tenant_id=tenant_id, email=address, role=role, invited_by=actor[:100])
    elif user.removed_at is not None:
        user.removed_at, user.role, user.invited_by = None, role, actor[:100]
    session.add(user)
    _audit(session, tenant_id, actor, "user.invited", user, role=user.role)
    session.commit()
    return user


def change_role(session: Session, tenant_id: str, user_id: str, role: TenantRole, actor: str) -> UserPublic:
    """Gives the tenant's user `role`. 409 `last_admin` when it would leave the tenant without an admin."""
    user = tenant_user(session, tenant_id, user_id)
    if user.role == "admin" and role != "admin":
        _refuse_last_admin(session, user)
    user.role = role
    session.add(user)
    _audit(session, tenant_id, actor, "user.role_changed", user, role=role)
    session.commit()
    return UserPublic.model_validate(user, from_attributes=True)


def remove_user(session: Session, tenant_id: str, user_id: str, actor: str) -> UserPublic:
    """Removes the tenant's user and ends its sessions at once. 409 `last_admin` for the tenant's last admin."""
    user = tenant_user(session, tenant_id, user_id)
    if user.role == "admin":
        _refuse_last_admin(session, user)
    now = datetime.now(UTC)
    user.removed_at = now
    session.add(user)
    session.execute(
        update(WebSession)
        .where(col(WebSession.user_id) == user.id, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    _audit(session, tenant_id, actor, "user.removed", user)
    session.commit()
    return UserPublic.model_validate(user, from_attributes=True)


def tenant_user(session: Session, tenant_id: str, user_id: str) -> User:
    """The tenant's current user `user_id`; 404 `user_not_found` for anyone else's or a removed one."""
    user = session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id or user.removed_at is not None:
        raise ApiError(404, "user_not_found", tr("No user with this id"), field="user_id")
    return user


def founder_user(session: Session, founder_email: str | None) -> User:
    """The founder's user: the one with FOUNDER_EMAIL, created on first use (or, without FOUNDER_EMAIL, the first
    founder, else one with a placeholder address). An address already used by a tenant's user is not taken over."""
    address = normalized_email(founder_email or "")
    found = session.exec(select(User).where(User.email == address)).first() if address else None
    if found is not None and found.role == "founder":
        return found
    if found is None and not address:
        found = session.exec(select(User).where(User.role == "founder").order_by(col(User.created_at))).first()
        if found is not None:
            return found
    email = address if address and found is None else FOUNDER_FALLBACK_EMAIL
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(tenant_id=None, email=email, role="founder", invited_by="platform")
        session.add(user)
        session.commit()
    return user


def _refuse_last_admin(session: Session, user: User) -> None:
    others = session.exec(
        select(User.id).where(
            User.tenant_id == user.tenant_id, User.role == "admin", col(User.removed_at).is_(None), User.id != user.id
        )
    ).first()
    if others is None:
        raise ApiError(409, "last_admin", tr("This is the tenant's last admin: make another user admin first"))


def _audit(session: Session, tenant_id: str, actor: str, action: str, user: User, **detail: str) -> None:
    """Audits a change to a user by id (the address is personal data and stays in the user's row)."""
    entry = AuditEntry(tenant_id=tenant_id, actor=actor[:100], action=action, detail={"user_id": user.id, **detail})
    session.add(entry)

"""Server-side web sessions. The cookie holds a random secret; the row's id is its SHA-256, so the table alone
signs nobody in. A session ends `idle_s` after its last request or `max_age_s` after sign-in, whichever is first,
or when revoked (sign-out, the user removed)."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from core.security import hash_api_key
from schemas.accounts import SessionView
from schemas.tables import Tenant, User, WebSession

# A session's last_seen_at is written at most this often (not on every request).
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionLimits:
    idle_s: int
    max_age_s: int

    def expiry(self, created_at: datetime, now: datetime) -> datetime:
        return min(now + timedelta(seconds=self.idle_s), created_at + timedelta(seconds=self.max_age_s))


def start_session(session: Session, user: User, now: datetime, limits: SessionLimits) -> str:
    """A new session for `user`; returns the cookie's secret (shown to nobody else, stored only hashed)."""
    secret = secrets.token_urlsafe(32)
    row = WebSession(
        id=hash_api_key(secret),
        user_id=user.id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=limits.expiry(now, now),
    )
    session.add(row)
    session.commit()
    return secret


def live_session(engine: Engine, secret: str, now: datetime, limits: SessionLimits) -> SessionView | None:
    """The live session behind a cookie's secret, with its user and tenant; slides its expiry. None when the secret
    is unknown, the session revoked or expired, or its user removed."""
    with Session(engine, expire_on_commit=False) as session:
        found = session.exec(
            select(WebSession, User, Tenant)
            .join(User, col(User.id) == col(WebSession.user_id))
            .join(Tenant, col(Tenant.id) == col(User.tenant_id), isouter=True)
            .where(WebSession.id == hash_api_key(secret), col(WebSession.revoked_at).is_(None))
        ).first()
        if found is None:
            return None
        row, user, tenant = found
        if row.expires_at <= now or user.removed_at is not None:
            return None
        if now - row.last_seen_at >= TOUCH_INTERVAL:
            row.last_seen_at, row.expires_at = now, limits.expiry(row.created_at, now)
            session.add(row)
            session.commit()
        return _view(row, user, tenant)


def end_session(session: Session, secret: str, now: datetime) -> None:
    """Revokes the session behind a cookie's secret (sign-out); nothing for an unknown one."""
    session.execute(
        update(WebSession)
        .where(col(WebSession.id) == hash_api_key(secret), col(WebSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.commit()


def _view(row: WebSession, user: User, tenant: Tenant | None) -> SessionView:
    return SessionView(
        session_id=row.id,
        csrf_token=row.csrf_secret,
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,  # the column only ever holds a UserRole
        tenant_id=user.tenant_id,
        tenant_name=tenant.name if tenant else None,
        tenant_status=tenant.status if tenant else "active",
        created_at=row.created_at,
        expires_at=row.expires_at,
        language=user.language,
    )

"""Signing in by e-mail, end to end: a link request (after the caller's rate limit) or an invitation writes a link
row, and the `SignInMail` workflow mints and e-mails its token. Redeeming a link starts a web session."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from core.settings import Settings
from domain.accounts import founder_user, invite_user
from domain.sign_in_links import client_hash, issue_link, redeem_link, request_link
from domain.tenants import visible_tenant
from domain.web_sessions import SessionLimits, start_session
from schemas.accounts import SignInMailInput, UserInvite, UserPublic
from schemas.tables import User
from starters.sign_in_mail import send_sign_in_mail


def session_limits(settings: Settings) -> SessionLimits:
    return SessionLimits(idle_s=settings.web_session_idle_s, max_age_s=settings.web_session_max_age_s)


async def request_sign_in(engine: Engine, temporal: Client, settings: Settings, email: str, ip: str) -> None:
    """E-mails a sign-in link to `email` if it has an account (and the address's cap allows); otherwise nothing.
    The caller answers the same either way, so nobody learns which addresses have accounts."""
    ip_hash = client_hash(ip, settings.levqor_founder_token.get_secret_value())
    link_id = await asyncio.to_thread(_request_link, engine, settings, email, ip_hash)
    if link_id is not None:
        await send_sign_in_mail(temporal, _mail(settings, link_id, "sign_in"), settings.task_queue)


async def invite(
    engine: Engine,
    temporal: Client,
    settings: Settings,
    tenant_id: str,
    scope: str | None,
    body: UserInvite,
    actor: str,
) -> UserPublic:
    """Adds the user to the tenant (404 for a tenant the caller may not see) and e-mails an invitation link."""
    user, link_id = await asyncio.to_thread(_invite, engine, settings, tenant_id, scope, body, actor)
    if link_id is not None:
        await send_sign_in_mail(temporal, _mail(settings, link_id, "invite"), settings.task_queue)
    return user


def sign_in_with_link(session: Session, settings: Settings, token: str) -> str | None:
    """The new session's cookie secret for a valid link (spending the link); None otherwise."""
    now = datetime.now(UTC)
    user = redeem_link(session, token, now)
    return None if user is None else start_session(session, user, now, session_limits(settings))


def sign_in_as_founder(session: Session, settings: Settings) -> str:
    """A new session for the founder's user (the caller checked the founder token)."""
    user = founder_user(session, settings.founder_email)
    return start_session(session, user, datetime.now(UTC), session_limits(settings))


def _request_link(engine: Engine, settings: Settings, email: str, ip_hash: str) -> str | None:
    with Session(engine) as session:
        return request_link(
            session,
            email,
            ip_hash,
            datetime.now(UTC),
            settings.sign_in_link_ttl_s,
            settings.sign_in_links_per_email,
            settings.sign_in_rate_window_s,
            settings.founder_email,
        )


def _invite(
    engine: Engine, settings: Settings, tenant_id: str, scope: str | None, body: UserInvite, actor: str
) -> tuple[UserPublic, str | None]:
    with Session(engine, expire_on_commit=False) as session:
        tenant = visible_tenant(session, tenant_id, scope)
        user: User = invite_user(session, tenant.id, body.email, body.role, actor)
        link_id = issue_link(
            session,
            user,
            None,
            datetime.now(UTC),
            settings.sign_in_link_ttl_s,
            settings.sign_in_links_per_email,
            settings.sign_in_rate_window_s,
        )
        return UserPublic.model_validate(user, from_attributes=True), link_id


def _mail(settings: Settings, link_id: str, kind: str) -> SignInMailInput:
    return SignInMailInput.model_validate({"link_id": link_id, "base_url": settings.web_base_url, "kind": kind})

"""Self-service sign-up, while the founder has new sign-ups on: a new team (a tenant on the free plan, with its
lifecycle) whose first admin gets a sign-in link by e-mail. An address that already has an account gets a sign-in
link instead, and the caller answers the same either way, so sign-up tells nobody which addresses have accounts."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from core.errors import ApiError
from core.settings import Settings
from core.toggles import read_toggles
from domain.accounts import invite_user, normalized_email
from domain.sign_in import request_sign_in
from domain.sign_in_links import SignInLimiter, client_hash, issue_link
from domain.tenants import add_keyless_tenant
from schemas.accounts import SignInMailInput
from schemas.i18n import tr
from schemas.signup import SignUpCreate
from schemas.tables import User
from schemas.tenants import TenantCreate
from starters.sign_in_mail import send_sign_in_mail

ACTOR = "sign-up"


def signups_open(engine: Engine) -> bool:
    return read_toggles(engine).new_signups


async def sign_up(
    engine: Engine, temporal: Client, settings: Settings, limiter: SignInLimiter, body: SignUpCreate, ip: str
) -> None:
    """Makes the team and its admin and e-mails the link, or e-mails a sign-in link to an address that has an account.
    403 `signups_closed` while new sign-ups are off; 429 `too_many_requests` past the limits of sign-in links (per
    address and per client, counted with them), whether or not the address has an account."""
    if not await asyncio.to_thread(signups_open, engine):
        raise ApiError(403, "signups_closed", tr("New sign-ups are closed for now; please try again later"))
    if not limiter.allow(body.email, ip):
        raise ApiError(429, "too_many_requests", tr("Too many requests; please wait a few minutes"), field="email")
    if await asyncio.to_thread(_known_address, engine, settings, body.email):
        await request_sign_in(engine, temporal, settings, body.email, ip)
        return
    tenant = await add_keyless_tenant(engine, temporal, settings, TenantCreate(name=body.team, plan="free"))
    ip_hash = client_hash(ip, settings.levqor_founder_token.get_secret_value())
    link_id = await asyncio.to_thread(_first_admin, engine, settings, tenant.id, body.email, ip_hash)
    if link_id is not None:
        mail = SignInMailInput(link_id=link_id, base_url=settings.web_base_url, kind="sign_in")
        await send_sign_in_mail(temporal, mail, settings.task_queue)


def _known_address(engine: Engine, settings: Settings, email: str) -> bool:
    """Whether the address is a user's (a removed one's too: the address stays theirs) or the founder's."""
    address = normalized_email(email)
    if settings.founder_email and address == normalized_email(settings.founder_email):
        return True
    with Session(engine) as session:
        return session.exec(select(User.id).where(User.email == address)).first() is not None


def _first_admin(engine: Engine, settings: Settings, tenant_id: str, email: str, ip_hash: str) -> str | None:
    with Session(engine, expire_on_commit=False) as session:
        user = invite_user(session, tenant_id, email, "admin", ACTOR)
        return issue_link(
            session,
            user,
            ip_hash,
            datetime.now(UTC),
            settings.sign_in_link_ttl_s,
            settings.sign_in_links_per_email,
            settings.sign_in_rate_window_s,
        )

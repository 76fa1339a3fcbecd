"""Which language an e-mail is written in: its recipient's, read from the accounts when the mail is sent, so a
language (like an address) never enters a workflow's history.

A person's e-mails follow `app_user.language`; a tenant's billing contact reads the language of the tenant's user
with that address, else its first admin's; a founder alert the founder's. English when nothing says otherwise."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from core.i18n import DEFAULT, canonical_tag, when
from schemas.tables import User


def users_languages(session: Session, addresses: Iterable[str]) -> dict[str, str]:
    """Each address's language: its current user's, English for an address no user has."""
    wanted = [address.strip().lower() for address in addresses]
    query = select(User.email, User.language).where(col(User.email).in_(wanted), col(User.removed_at).is_(None))
    found = {email: _tag(language) for email, language in session.exec(query).all()}
    return {address: found.get(address.strip().lower(), DEFAULT) for address in addresses}


def user_language(session: Session, address: str) -> str:
    return users_languages(session, [address])[address]


def tenant_contact_language(session: Session, tenant_id: str, address: str) -> str:
    """The language of a tenant's contact address (its billing e-mail): the tenant's user with that address,
    else the tenant's first admin, else English."""
    users = select(User.email, User.language).where(User.tenant_id == tenant_id, col(User.removed_at).is_(None))
    same = session.exec(users.where(User.email == address.strip().lower())).first()
    if same is not None:
        return _tag(same[1])
    admin = session.exec(users.where(User.role == "admin").order_by(col(User.created_at))).first()
    return _tag(admin[1]) if admin is not None else DEFAULT


def founder_language(session: Session) -> str:
    """The language of the (first) founder's account; English without one."""
    query = select(User.language).where(User.role == "founder", col(User.removed_at).is_(None))
    return _tag(session.exec(query.order_by(col(User.created_at))).first())


def mail_time(moment: datetime, tag: str) -> str:
    """A moment in an e-mail: as readers of `tag` write it, in UTC (and saying so)."""
    return f"{when(moment.astimezone(UTC), tag, 'short')} UTC"


def _tag(language: str | None) -> str:
    return canonical_tag(language) or DEFAULT


def founder_alert_language(session: Session, address: str) -> str:
    """The language of a founder alert sent to `address` (FOUNDER_EMAIL): its user's, else the founder's."""
    known = session.exec(select(User.language).where(User.email == address.strip().lower())).first()
    return _tag(known) if known is not None else founder_language(session)

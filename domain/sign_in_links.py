"""Magic sign-in links: requesting one (rate-limited, the same answer whether or not the address has an account)
and redeeming one (single use, before it expires, for the user it was sent to).

A link row is written here without a token; the `SignInMail` workflow's activity mints the token, stores its hash
and e-mails it, so the token exists only in the e-mail and never in a workflow's history."""

import hashlib
import hmac
import time
from collections import deque
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from core.security import hash_api_key
from domain.accounts import active_user, founder_user, normalized_email
from schemas.tables import SignInLink, User


class SignInLimiter:
    """How many links each e-mail address and each client address asked for lately, in this process: at most
    `per_email` and `per_ip` within `window_s`. Counted for every request, known address or not, so a refusal tells
    nothing about accounts. Bounded: past `size` keys it forgets everything (a burst then passes once)."""

    def __init__(self, per_email: int, per_ip: int, window_s: float, size: int = 50_000) -> None:
        self._limits = {"email": per_email, "ip": per_ip}
        self._window_s, self._size = window_s, size
        self._seen: dict[str, deque[float]] = {}

    def allow(self, email: str, ip: str, now: float | None = None) -> bool:
        """Counts one request; False when either key is over its limit (the request is then not counted)."""
        at = time.monotonic() if now is None else now
        keys = {"email": f"e:{normalized_email(email)}", "ip": f"i:{ip}"}
        recent = {kind: self._recent(key, at) for kind, key in keys.items()}
        if any(len(recent[kind]) >= self._limits[kind] for kind in keys):
            return False
        if len(self._seen) >= self._size:
            self._seen.clear()
            recent = {kind: self._recent(key, at) for kind, key in keys.items()}
        for times in recent.values():
            times.append(at)
        return True

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self._window_s:
            times.popleft()
        return times


def client_hash(ip: str, key: str) -> str:
    """A keyed hash of a client address (addresses are few enough to reverse a plain hash)."""
    return hmac.new(key.encode(), b"sign-in-ip\0" + ip.encode(), hashlib.sha256).hexdigest()


def request_link(
    session: Session,
    email: str,
    ip_hash: str,
    now: datetime,
    ttl_s: int,
    cap: int,
    window_s: int,
    founder_email: str | None,
) -> str | None:
    """The id of a new link to e-mail to `email`, or None when there is nobody to send one to (no such user) or the
    address had `cap` links within `window_s` (the database's count: every API process shares it). The founder's
    address gets its user on first request."""
    address = normalized_email(email)
    user = active_user(session, address)
    if user is None and founder_email and address == normalized_email(founder_email):
        user = founder_user(session, founder_email)
    if user is None:
        return None
    return issue_link(session, user, ip_hash, now, ttl_s, cap, window_s)


def issue_link(
    session: Session, user: User, ip_hash: str | None, now: datetime, ttl_s: int, cap: int, window_s: int
) -> str | None:
    """A new link row for `user` (for an invitation too), or None past the per-address cap."""
    since = now - timedelta(seconds=window_s)
    recent = session.exec(
        select(func.count())
        .select_from(SignInLink)
        .where(SignInLink.email == user.email, SignInLink.created_at > since)
    ).one()
    if recent >= cap:
        return None
    link = SignInLink(email=user.email, user_id=user.id, requested_ip=ip_hash, created_at=now,
                      expires_at=now + timedelta(seconds=ttl_s))  # fmt: skip
    session.add(link)
    session.commit()
    return link.id


def redeem_link(session: Session, token: str, now: datetime) -> User | None:
    """The user a link signs in, marking it used; None for an unknown, used or expired token, or when the user was
    removed or no longer has the address the link was sent to. The update is atomic: of two redemptions racing
    for one link, one wins."""
    token_hash = hash_api_key(token)
    used = session.execute(
        update(SignInLink)
        .where(
            col(SignInLink.token_hash) == token_hash,
            col(SignInLink.used_at).is_(None),
            col(SignInLink.expires_at) > now,
        )
        .values(used_at=now)
    )
    session.commit()
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return None
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == token_hash)).one()
    user = session.get(User, link.user_id)
    if user is None or user.removed_at is not None or user.email != link.email:
        return None
    return user


def link_email(session: Session, token: str, now: datetime) -> str | None:
    """The address an unused, unexpired link was sent to (the landing page names it); None otherwise. Reads only."""
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == hash_api_key(token))).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link.email

"""API keys as authentication reads them: the key behind a token's hash, and the stamp of its last use."""

from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, update
from sqlmodel import Session, col, or_, select

from schemas.tables import ApiKey


def active_key(engine: Engine, key_hash: str) -> ApiKey | None:
    """The unrevoked key with this hash, or None when there is none or it was revoked."""
    with Session(engine) as session:
        key = session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
    return None if key is None or key.revoked_at is not None else key


def record_key_use(engine: Engine, key_id: str, at: datetime, interval_s: float) -> None:
    """Sets the key's last_used_at unless another API process did so within the interval. Never raises:
    it runs after the response, and a lost usage stamp must never fail or slow a request."""
    recent = at - timedelta(seconds=interval_s)
    try:
        with Session(engine) as session:
            stale = or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) < recent)
            session.execute(update(ApiKey).where(col(ApiKey.id) == key_id, stale).values(last_used_at=at))
            session.commit()
    except Exception as err:
        structlog.get_logger().warning("key use not recorded", key_id=key_id, error_type=type(err).__name__)

"""A user's language: the one their pages and e-mails are in when nothing else chose (a core/i18n.py tag)."""

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from core.i18n import canonical_tag
from schemas.tables import User


def store_language(engine: Engine, user_id: str, tag: str) -> None:
    """Keeps `tag` (a supported language; anything else is ignored) as the user's language."""
    language = canonical_tag(tag)
    if language is None:
        return
    with Session(engine) as session:
        session.execute(update(User).where(col(User.id) == user_id).values(language=language))
        session.commit()

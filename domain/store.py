"""What every resource's writes share: committing a change or answering the conflict it ran into."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.errors import ApiError
from schemas.i18n import Text


def commit_or_conflict(session: Session, code: str, message: str | Text, field: str | None = None) -> None:
    """Commits the session; a unique or foreign-key clash (a concurrent change) answers 409 `code`."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ApiError(409, code, message, field=field) from None

"""Legal documents and the cookie-consent configuration: immutable published versions, each effective
from its own date."""

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from core.errors import ApiError
from domain.store import commit_or_conflict
from schemas.legal import LEGAL_KINDS, LegalDocumentCreate, LegalDocumentPublic, LegalDocuments, LegalKind
from schemas.tables import LegalDocument


def legal_documents(session: Session) -> LegalDocuments:
    """Per kind the version in effect now (None before the first), and every version that takes effect later."""
    now = datetime.now(UTC)
    rows = session.exec(select(LegalDocument).order_by(col(LegalDocument.effective_at))).all()
    current: dict[str, LegalDocumentPublic | None] = dict.fromkeys(LEGAL_KINDS)
    upcoming = []
    for row in rows:
        public = LegalDocumentPublic.model_validate(row, from_attributes=True)
        if row.effective_at <= now:
            current[row.kind] = public  # ordered by effective date: the last one in effect wins
        else:
            upcoming.append(public)
    return LegalDocuments(current=current, upcoming=upcoming)


def versions_of(session: Session, kind: LegalKind) -> list[LegalDocumentPublic]:
    """Every published version of one document, latest effective date first."""
    rows = session.exec(
        select(LegalDocument).where(LegalDocument.kind == kind).order_by(col(LegalDocument.effective_at).desc())
    ).all()
    return [LegalDocumentPublic.model_validate(row, from_attributes=True) for row in rows]


def publish_document(session: Session, kind: LegalKind, body: LegalDocumentCreate) -> LegalDocumentPublic:
    """Publishes a new version. Only cookie_consent takes (and needs) a `config`: 422 otherwise; an existing
    version number answers 409, since versions are immutable."""
    if kind == "cookie_consent" and body.config is None:
        raise ApiError(422, "config_required", "The cookie-consent banner needs its `config`", field="body.config")
    if kind != "cookie_consent" and body.config is not None:
        raise ApiError(422, "config_not_allowed", "Only cookie_consent takes a `config`", field="body.config")
    row = LegalDocument(
        kind=kind,
        version=body.version,
        url=body.url,
        text=body.text,
        config=body.config.model_dump() if body.config else None,
        effective_at=body.effective_at.astimezone(UTC),
    )
    session.add(row)
    commit_or_conflict(
        session, "version_exists", f"Version {body.version} of {kind} is already published", field="body.version"
    )
    return LegalDocumentPublic.model_validate(row, from_attributes=True)

"""Legal documents and the cookie-consent configuration: the founder publishes versions, anyone reads them."""

from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from api.deps import FounderDep, SessionDep
from core.errors import ApiError
from schemas.legal import LEGAL_KINDS, LegalDocumentCreate, LegalDocumentPublic, LegalDocuments, LegalKind
from schemas.tables import LegalDocument

router = APIRouter(prefix="/api/compliance/legal", tags=["legal"])


@router.get("")
def get_legal_documents(session: SessionDep) -> LegalDocuments:
    """The version of each document in effect now, and versions that take effect later (no credential needed)."""
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


@router.get("/{kind}")
def list_versions(kind: LegalKind, session: SessionDep) -> list[LegalDocumentPublic]:
    """Every published version of one document, latest effective date first."""
    rows = session.exec(select(LegalDocument).where(LegalDocument.kind == kind)
                        .order_by(col(LegalDocument.effective_at).desc())).all()
    return [LegalDocumentPublic.model_validate(row, from_attributes=True) for row in rows]


@router.put("/{kind}")
def publish_version(kind: LegalKind, body: LegalDocumentCreate, _founder: FounderDep,
                    session: SessionDep) -> LegalDocumentPublic:
    """Publish a new version (founder); versions are immutable, so an existing version number answers 409."""
    if kind == "cookie_consent" and body.config is None:
        raise ApiError(422, "config_required", "The cookie-consent banner needs its `config`", field="body.config")
    if kind != "cookie_consent" and body.config is not None:
        raise ApiError(422, "config_not_allowed", "Only cookie_consent takes a `config`", field="body.config")
    row = LegalDocument(kind=kind, version=body.version, url=body.url, text=body.text,
                        config=body.config.model_dump() if body.config else None,
                        effective_at=body.effective_at.astimezone(UTC))
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        raise ApiError(409, "version_exists", f"Version {body.version} of {kind} is already published",
                       field="body.version") from None
    return LegalDocumentPublic.model_validate(row, from_attributes=True)

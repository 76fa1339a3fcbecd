"""Legal documents and the cookie-consent configuration: immutable published versions, each effective
from its own date."""

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from core.errors import ApiError
from domain.legal_translations import check_translation, publics, translation_row
from domain.store import commit_or_conflict
from schemas.i18n import tr
from schemas.legal import LEGAL_KINDS, LegalDocumentCreate, LegalDocumentPublic, LegalDocuments, LegalKind
from schemas.tables import AuditEntry, LegalDocument


def legal_documents(session: Session) -> LegalDocuments:
    """Per kind the version in effect now (None before the first), and every version that takes effect later."""
    now = datetime.now(UTC)
    rows = session.exec(select(LegalDocument).order_by(col(LegalDocument.effective_at))).all()
    current: dict[str, LegalDocumentPublic | None] = dict.fromkeys(LEGAL_KINDS)
    upcoming = []
    for row, public in zip(rows, publics(session, rows), strict=True):
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
    return publics(session, rows)


def publish_document(session: Session, kind: LegalKind, body: LegalDocumentCreate, actor: str) -> LegalDocumentPublic:
    """Publishes a new version with its translations (audited). Only cookie_consent takes (and needs) a `config`:
    422 otherwise; an existing version number answers 409, since versions are immutable."""
    if kind == "cookie_consent" and body.config is None:
        raise ApiError(422, "config_required", tr("The cookie-consent banner needs its `config`"), field="body.config")
    if kind != "cookie_consent" and body.config is not None:
        raise ApiError(422, "config_not_allowed", tr("Only cookie_consent takes a `config`"), field="body.config")
    row = LegalDocument(
        kind=kind,
        version=body.version,
        url=body.url,
        text=body.text,
        config=body.config.model_dump() if body.config else None,
        effective_at=body.effective_at.astimezone(UTC),
    )
    for language, translation in body.translations.items():
        check_translation(kind, row.config, language, translation, f"body.translations.{language}")
    session.add(row)  # its id is set already; the unit of work inserts it before its translations
    session.add_all(translation_row(row.id, language, t) for language, t in body.translations.items())
    detail = {"kind": kind, "version": body.version, "languages": sorted(body.translations)}
    session.add(AuditEntry(actor=actor[:100], action="legal_published", detail=detail))
    commit_or_conflict(
        session, "version_exists", f"Version {body.version} of {kind} is already published", field="body.version"
    )
    return publics(session, [row])[0]

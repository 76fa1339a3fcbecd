"""Legal documents in the tier-1 languages: a version's translations (published with it or later, each immutable),
and which text a reader of one language is shown (the English original where a translation is missing)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.errors import ApiError
from core.i18n import DEFAULT, TIER1
from domain.store import commit_or_conflict
from schemas.i18n import tr
from schemas.legal import LegalDocumentPublic, LegalKind, LegalTranslationCreate, LegalTranslationPublic
from schemas.tables import AuditEntry, LegalDocument, LegalTranslation

LANGUAGES = tuple(tag for tag in TIER1 if tag != DEFAULT)


def check_translation(
    kind: str, config: dict[str, Any] | None, language: str, body: LegalTranslationCreate, field: str
) -> None:
    """422 unless `language` is a tier-1 language other than English and `descriptions` (cookie_consent only) name
    the configuration's categories."""
    if language not in LANGUAGES:
        raise ApiError(
            422, "unknown_language",
            tr("Translations are for these languages: %(languages)s", languages=", ".join(LANGUAGES)), field=field,
        )  # fmt: skip
    if body.descriptions and kind != "cookie_consent":
        raise ApiError(422, "descriptions_not_allowed", tr("Only cookie_consent takes `descriptions`"), field=field)
    known = {category["id"] for category in (config or {}).get("categories", [])}
    if unknown := sorted(set(body.descriptions or {}) - known):
        raise ApiError(
            422, "unknown_category", tr("No category %(id)s in this configuration", id=unknown[0]),
            field=f"{field}.descriptions",
        )  # fmt: skip


def translation_row(document_id: str, language: str, body: LegalTranslationCreate) -> LegalTranslation:
    return LegalTranslation(
        document_id=document_id, language=language, url=body.url, text=body.text, descriptions=body.descriptions
    )


def publish_translation(
    session: Session, kind: LegalKind, version: str, language: str, body: LegalTranslationCreate, actor: str
) -> LegalDocumentPublic:
    """Adds one language to a published version (404 for an unknown version, 409 when that language exists)."""
    document = session.exec(
        select(LegalDocument).where(LegalDocument.kind == kind, LegalDocument.version == version)
    ).first()
    if document is None:
        raise ApiError(404, "version_not_found", tr("No version %(version)s of %(kind)s", version=version, kind=kind))
    check_translation(kind, document.config, language, body, "language")
    session.add(translation_row(document.id, language, body))
    detail = {"kind": kind, "version": version, "languages": [language]}
    session.add(AuditEntry(actor=actor[:100], action="legal_translation_published", detail=detail))
    commit_or_conflict(
        session, "translation_exists",
        tr("Version %(version)s of %(kind)s is already published in %(language)s", version=version, kind=kind,
           language=language),
        field="language",
    )  # fmt: skip
    return publics(session, [document])[0]


def publics(session: Session, rows: Sequence[LegalDocument]) -> list[LegalDocumentPublic]:
    """`rows` as the API shows them, each with its translations (one query for all)."""
    by_document: dict[str, dict[str, LegalTranslationPublic]] = defaultdict(dict)
    ids = [row.id for row in rows]
    if ids:
        found = session.exec(select(LegalTranslation).where(col(LegalTranslation.document_id).in_(ids))).all()
        for translation in found:
            public = LegalTranslationPublic.model_validate(translation, from_attributes=True)
            by_document[translation.document_id][translation.language] = public
    return [
        LegalDocumentPublic.model_validate(row, from_attributes=True).model_copy(
            update={"translations": dict(sorted(by_document[row.id].items()))}
        )
        for row in rows
    ]


def in_effect(session: Session, kind: LegalKind, now: datetime) -> LegalDocumentPublic | None:
    """The version of `kind` in effect at `now` with its translations, or None before the first."""
    row = session.exec(
        select(LegalDocument)
        .where(LegalDocument.kind == kind, col(LegalDocument.effective_at) <= now)
        .order_by(col(LegalDocument.effective_at).desc(), col(LegalDocument.published_at).desc())
        .limit(1)
    ).first()
    return publics(session, [row])[0] if row else None


def next_version(session: Session, kind: LegalKind, now: datetime) -> LegalDocument | None:
    """The version of `kind` that takes effect next after `now`, if one is scheduled."""
    return session.exec(
        select(LegalDocument)
        .where(LegalDocument.kind == kind, col(LegalDocument.effective_at) > now)
        .order_by(col(LegalDocument.effective_at))
        .limit(1)
    ).first()

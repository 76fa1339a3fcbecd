"""Legal documents and the cookie-consent configuration: the founder publishes versions (and their translations),
anyone reads them, and a visitor's cookie choice is recorded."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from api.deps import FounderDep, SessionDep, audit_actor
from api.web.consent_choice import ConsentVisitor, record_choice, small_consent_body
from domain.legal import legal_documents, publish_document, versions_of
from domain.legal_translations import publish_translation
from schemas.legal import (
    VERSION_PATTERN,
    ConsentCreate,
    ConsentPublic,
    LegalDocumentCreate,
    LegalDocumentPublic,
    LegalDocuments,
    LegalKind,
    LegalTranslationCreate,
)

router = APIRouter(prefix="/api/compliance/legal", tags=["legal"])


@router.get("")
def get_legal_documents(session: SessionDep) -> LegalDocuments:
    """The version of each document in effect now, and versions that take effect later (no credential needed)."""
    return legal_documents(session)


@router.post("/consent", dependencies=[Depends(small_consent_body)])
def record_cookie_choice(
    request: Request, response: Response, body: ConsentCreate, visitor: ConsentVisitor, session: SessionDep
) -> ConsentPublic:
    """Record a visitor's cookie choice under the configuration version they were shown (CSRF token in the
    `X-CSRF-Token` header, as the pages send it); the answer sets the essential consent cookie."""
    return record_choice(request, response, session, body, visitor.user_id if visitor else None)


@router.get("/{kind}")
def list_versions(kind: LegalKind, session: SessionDep) -> list[LegalDocumentPublic]:
    """Every published version of one document, latest effective date first."""
    return versions_of(session, kind)


@router.put("/{kind}")
def publish_version(
    kind: LegalKind, body: LegalDocumentCreate, founder: FounderDep, session: SessionDep
) -> LegalDocumentPublic:
    """Publish a new version (founder), optionally with its translations by tier-1 language; versions are
    immutable, so an existing version number answers 409."""
    return publish_document(session, kind, body, audit_actor(founder))


@router.put("/{kind}/{version}/translations/{language}")
def publish_version_translation(
    kind: LegalKind,
    version: Annotated[str, Path(pattern=VERSION_PATTERN)],
    language: str,
    body: LegalTranslationCreate,
    founder: FounderDep,
    session: SessionDep,
) -> LegalDocumentPublic:
    """Add a version's translation into a tier-1 language (founder), e.g. `ja` or `pt-BR`; once published it is
    immutable, so publishing the same language again answers 409."""
    return publish_translation(session, kind, version, language, body, audit_actor(founder))

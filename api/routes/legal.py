"""Legal documents and the cookie-consent configuration: the founder publishes versions, anyone reads them."""

from fastapi import APIRouter

from api.deps import FounderDep, SessionDep
from domain.legal import legal_documents, publish_document, versions_of
from schemas.legal import LegalDocumentCreate, LegalDocumentPublic, LegalDocuments, LegalKind

router = APIRouter(prefix="/api/compliance/legal", tags=["legal"])


@router.get("")
def get_legal_documents(session: SessionDep) -> LegalDocuments:
    """The version of each document in effect now, and versions that take effect later (no credential needed)."""
    return legal_documents(session)


@router.get("/{kind}")
def list_versions(kind: LegalKind, session: SessionDep) -> list[LegalDocumentPublic]:
    """Every published version of one document, latest effective date first."""
    return versions_of(session, kind)


@router.put("/{kind}")
def publish_version(
    kind: LegalKind, body: LegalDocumentCreate, _founder: FounderDep, session: SessionDep
) -> LegalDocumentPublic:
    """Publish a new version (founder); versions are immutable, so an existing version number answers 409."""
    return publish_document(session, kind, body)

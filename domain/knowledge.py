"""The knowledge base: passages built from the README, the language reference and the templates, kept in step with
them at start-up, and searched with the database's full-text search (PostgreSQL `tsvector`, SQLite FTS5)."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.errors import ApiError
from core.knowledge_search import public_passage, search_passages
from domain.knowledge_sources import SourcePassage, readme_passages, reference_passages, template_passages
from schemas.brain import KnowledgePassage
from schemas.i18n import tr
from schemas.tables import KnowledgePassageRow

KNOWLEDGE_URL = "/app/help/knowledge/{id}"
"""Where a passage reads in the web app's knowledge browser."""
log = structlog.get_logger()


@dataclass(frozen=True)
class KnowledgeSync:
    added: int
    updated: int
    removed: int
    unchanged: int


def build_passages(readme: str) -> list[KnowledgePassage]:
    """Every passage of the knowledge base, from the README's text, the language reference and the templates."""
    sources: Iterator[SourcePassage] = (
        part for parts in (readme_passages(readme), reference_passages(), template_passages()) for part in parts
    )
    return [_passage(source) for source in sources]


def _passage(source: SourcePassage) -> KnowledgePassage:
    passage_id = f"{source.source}-{source.anchor}"[:120]
    return KnowledgePassage(
        id=passage_id,
        source=source.source,
        title=source.title[:300],
        body=source.body[:8_000],
        url=KNOWLEDGE_URL.format(id=passage_id),
    )


def sync_knowledge(engine: Engine, readme_path: Path) -> KnowledgeSync:
    """Brings the stored passages in step with the sources: adds new ones, rewrites those whose digest changed and
    removes those that are gone. Idempotent; when nothing changed it reads the digests and writes nothing."""
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    if not readme:
        log.warning("knowledge base without the README", path=str(readme_path))
    wanted = {passage.id: (position, passage) for position, passage in enumerate(build_passages(readme))}
    added = updated = unchanged = 0
    with Session(engine) as session:
        stored = {row.id: row for row in session.exec(select(KnowledgePassageRow))}
        for passage_id, (position, passage) in wanted.items():
            digest = _digest(passage, position)
            row = stored.get(passage_id)
            if row is None:
                session.add(_row(passage, position, digest))
                added += 1
            elif row.digest != digest:
                for field, value in _row(passage, position, digest).model_dump(exclude={"id"}).items():
                    setattr(row, field, value)
                updated += 1
            else:
                unchanged += 1
        gone = [row for passage_id, row in stored.items() if passage_id not in wanted]
        for row in gone:
            session.delete(row)
        try:
            session.commit()
        except IntegrityError:  # another process added the same passages at the same moment: its sync stands
            session.rollback()
            log.info("knowledge base synced by another process")
            return KnowledgeSync(added=0, updated=0, removed=0, unchanged=len(wanted))
    result = KnowledgeSync(added=added, updated=updated, removed=len(gone), unchanged=unchanged)
    log.info("knowledge base synced", **result.__dict__)
    return result


def _digest(passage: KnowledgePassage, position: int) -> str:
    material = "\x1f".join((passage.source, passage.title, passage.url, passage.body, str(position)))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _row(passage: KnowledgePassage, position: int, digest: str) -> KnowledgePassageRow:
    return KnowledgePassageRow(
        id=passage.id,
        source=passage.source,
        title=passage.title,
        url=passage.url,
        body=passage.body,
        digest=digest,
        position=position,
        updated_at=datetime.now(UTC),
    )


def search_knowledge(engine: Engine, query: str, limit: int = 5) -> list[KnowledgePassage]:
    """The passages matching any word of `query` (≤ 200 characters, ≤ 12 words are used), best first."""
    return search_passages(engine, query, limit)


def knowledge_passage(engine: Engine, passage_id: str) -> KnowledgePassage:
    """One passage by its id; 404 `passage_not_found` for an id the knowledge base does not hold."""
    with Session(engine) as session:
        row = session.get(KnowledgePassageRow, passage_id[:120])
    if row is None:
        raise ApiError(404, "passage_not_found", tr("No knowledge passage with this id"), field="passage_id")
    return public_passage(row)


def list_knowledge(engine: Engine, source: str | None = None) -> list[KnowledgePassage]:
    """Every passage (of one source when given), in the sources' order: what the knowledge browser lists."""
    with Session(engine) as session:
        query = select(KnowledgePassageRow).order_by(col(KnowledgePassageRow.position))
        if source is not None:
            query = query.where(KnowledgePassageRow.source == source)
        return [public_passage(row) for row in session.exec(query)]


def sync_knowledge_quietly(engine: Engine, readme_path: Path) -> None:
    """`sync_knowledge` as the API's start-up runs it, beside serving: a failure is logged, never raised (the search
    then answers from the passages stored before)."""
    try:
        sync_knowledge(engine, readme_path)
    except Exception:
        log.exception("knowledge base sync failed", path=str(readme_path))

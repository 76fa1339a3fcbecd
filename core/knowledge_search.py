"""Full-text search of the knowledge base (migration 0022's index): PostgreSQL's `tsvector` ranked by `ts_rank`,
SQLite's FTS5 ranked by `bm25`. The API's knowledge search and the help chat's activity both search here."""

import re

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from schemas.brain import KnowledgePassage
from schemas.tables import KnowledgePassageRow

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 12
MAX_HITS = 20
TERM = re.compile(r"\w+")
OPERATORS = frozenset({"or", "and", "not", "near"})

POSTGRES_SEARCH = text(
    "SELECT id FROM knowledge_passage, websearch_to_tsquery('english', :query) AS query "
    "WHERE to_tsvector('english', title || ' ' || body) @@ query "
    "ORDER BY ts_rank(setweight(to_tsvector('english', title), 'A') || to_tsvector('english', body), query) DESC, "
    "position LIMIT :limit"
)
SQLITE_SEARCH = text(
    "SELECT passage_id FROM knowledge_fts WHERE knowledge_fts MATCH :query "
    "ORDER BY bm25(knowledge_fts, 0.0, 5.0, 1.0) LIMIT :limit"
)


def query_terms(query: str) -> list[str]:
    """The words of a query as the search uses them: at most MAX_QUERY_TERMS of its first MAX_QUERY_CHARS
    characters, without punctuation or operators (so no search syntax reaches the database)."""
    words = TERM.findall(query[:MAX_QUERY_CHARS])
    return [word for word in words if word.lower() not in OPERATORS][:MAX_QUERY_TERMS]


def search_passages(engine: Engine, query: str, limit: int = 5) -> list[KnowledgePassage]:
    """The passages that match any of the query's words, best first (titles weigh more); [] for a query with no
    words. `limit` is bounded to 1–MAX_HITS."""
    terms = query_terms(query)
    if not terms:
        return []
    limit = max(1, min(limit, MAX_HITS))
    with Session(engine) as session:
        if engine.dialect.name == "sqlite":
            # Each word quoted: FTS5 reads it as a string, never as an operator or a column filter.
            match, statement = " OR ".join(f'"{term}"' for term in terms), SQLITE_SEARCH
        else:
            # websearch_to_tsquery never raises on its input; " or " ranks passages by how many words match.
            match, statement = " or ".join(terms), POSTGRES_SEARCH
        ids = [row[0] for row in session.connection().execute(statement, {"query": match, "limit": limit})]
        return passages_by_id(session, ids)


def passages_by_id(session: Session, ids: list[str]) -> list[KnowledgePassage]:
    """The passages among `ids` that exist, in the order of `ids`."""
    if not ids:
        return []
    found = session.exec(select(KnowledgePassageRow).where(col(KnowledgePassageRow.id).in_(ids)))
    rows = {row.id: row for row in found}
    return [public_passage(rows[passage_id]) for passage_id in ids if passage_id in rows]


def public_passage(row: KnowledgePassageRow) -> KnowledgePassage:
    return KnowledgePassage(id=row.id, source=row.source, title=row.title, body=row.body, url=row.url)

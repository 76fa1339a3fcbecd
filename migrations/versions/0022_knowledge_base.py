"""The knowledge base: passages from the README, the language reference and the templates, with full-text search.

PostgreSQL searches a GIN index on the passages' English `tsvector`; SQLite an FTS5 table that triggers keep in step
with `knowledge_passage` (domain/knowledge.py queries both).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(passage_id UNINDEXED, title, body, tokenize='porter unicode61')",
    "CREATE TRIGGER knowledge_passage_fts_insert AFTER INSERT ON knowledge_passage BEGIN "
    "INSERT INTO knowledge_fts (passage_id, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER knowledge_passage_fts_delete AFTER DELETE ON knowledge_passage BEGIN "
    "DELETE FROM knowledge_fts WHERE passage_id = old.id; END",
    "CREATE TRIGGER knowledge_passage_fts_update AFTER UPDATE ON knowledge_passage BEGIN "
    "DELETE FROM knowledge_fts WHERE passage_id = old.id; "
    "INSERT INTO knowledge_fts (passage_id, title, body) VALUES (new.id, new.title, new.body); END",
)
POSTGRES_SEARCH = (
    "CREATE INDEX ix_knowledge_passage_search ON knowledge_passage "
    "USING gin (to_tsvector('english', title || ' ' || body))"
)


def upgrade() -> None:
    op.create_table(
        "knowledge_passage",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("body", sa.String(length=8_000), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_passage"),
    )
    op.create_index("ix_knowledge_passage_source", "knowledge_passage", ["source"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    else:
        op.execute(POSTGRES_SEARCH)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS knowledge_passage_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_knowledge_passage_search")
    op.drop_index("ix_knowledge_passage_source", table_name="knowledge_passage")
    op.drop_table("knowledge_passage")

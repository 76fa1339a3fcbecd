"""Legal documents in the tier-1 languages (one translation per version and language) and the visitors' cookie
choices (consent records).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_translation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("text", sa.String(length=100_000), nullable=True),
        sa.Column("descriptions", sa.JSON(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["legal_document.id"], name="fk_legal_translation_document_id_legal_document"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_legal_translation"),
        sa.UniqueConstraint("document_id", "language", name="uq_legal_translation_document_id_language"),
    )
    op.create_index("ix_legal_translation_document_id", "legal_translation", ["document_id"])
    op.create_table(
        "consent_record",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("config_version", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_record"),
    )
    op.create_index("ix_consent_record_visitor_id", "consent_record", ["visitor_id"])
    op.create_index("ix_consent_record_user_id", "consent_record", ["user_id"])
    op.create_index("ix_consent_record_at", "consent_record", ["at"])


def downgrade() -> None:
    op.drop_index("ix_consent_record_at", table_name="consent_record")
    op.drop_index("ix_consent_record_user_id", table_name="consent_record")
    op.drop_index("ix_consent_record_visitor_id", table_name="consent_record")
    op.drop_table("consent_record")
    op.drop_index("ix_legal_translation_document_id", table_name="legal_translation")
    op.drop_table("legal_translation")

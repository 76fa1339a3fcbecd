"""Compliance reports and findings, versioned legal documents, and when each API key was last used.

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("apikey", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "compliance_report",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("founder_notified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_compliance_report_status", "compliance_report", ["status"])
    op.create_index("ix_compliance_report_started_at", "compliance_report", ["started_at"])
    op.create_table(
        "compliance_finding",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("penalty", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("remediation", sa.String(length=2000), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["compliance_report.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_compliance_finding_report_id", "compliance_finding", ["report_id"])
    op.create_index("ix_compliance_finding_tenant_id", "compliance_finding", ["tenant_id"])
    op.create_table(
        "legal_document",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("text", sa.String(length=100_000), nullable=True),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "version"),
    )
    op.create_index("ix_legal_document_kind", "legal_document", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_legal_document_kind", table_name="legal_document")
    op.drop_table("legal_document")
    op.drop_index("ix_compliance_finding_tenant_id", table_name="compliance_finding")
    op.drop_index("ix_compliance_finding_report_id", table_name="compliance_finding")
    op.drop_table("compliance_finding")
    op.drop_index("ix_compliance_report_started_at", table_name="compliance_report")
    op.drop_index("ix_compliance_report_status", table_name="compliance_report")
    op.drop_table("compliance_report")
    with op.batch_alter_table("apikey") as batch:
        batch.drop_column("last_used_at")

"""Retention: founders' per-tenant policy overrides and the RetentionEnforcer's reports.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_override",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("data_class", sa.String(length=32), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name="fk_retention_override_tenant_id_tenant"),
        sa.PrimaryKeyConstraint("id", name="pk_retention_override"),
        sa.UniqueConstraint("tenant_id", "data_class", name="uq_retention_override_tenant_id_data_class"),
    )
    op.create_table(
        "retention_report",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_ids", sa.JSON(), nullable=True),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retention_report"),
    )
    op.create_index("ix_retention_report_as_of", "retention_report", ["as_of"])
    op.create_table(
        "retention_report_entry",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=False),
        sa.Column("data_class", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["retention_report.id"], name="fk_retention_report_entry_report_id_retention_report"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_retention_report_entry"),
    )
    op.create_index("ix_retention_report_entry_report_id", "retention_report_entry", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_retention_report_entry_report_id", table_name="retention_report_entry")
    op.drop_table("retention_report_entry")
    op.drop_index("ix_retention_report_as_of", table_name="retention_report")
    op.drop_table("retention_report")
    op.drop_table("retention_override")

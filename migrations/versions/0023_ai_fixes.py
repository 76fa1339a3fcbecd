"""Fixes the AI debugger proposed for failed runs, and which were applied.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_fix",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("definition_id", sa.String(length=36), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("patch", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=2000), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.String(length=100), nullable=True),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.Column("redriven_run_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ai_fix"),
    )
    op.create_index("ix_ai_fix_tenant_id", "ai_fix", ["tenant_id"])
    op.create_index("ix_ai_fix_run_id", "ai_fix", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_ai_fix_run_id", table_name="ai_fix")
    op.drop_index("ix_ai_fix_tenant_id", table_name="ai_fix")
    op.drop_table("ai_fix")

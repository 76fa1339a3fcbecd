"""AI interactions (the Brain's audit of each AI call, masked) and daily AI credit counts.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_interaction",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("prompt_excerpt", sa.String(length=2000), nullable=True),
        sa.Column("answer_excerpt", sa.String(length=2000), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ai_interaction"),
    )
    op.create_index("ix_ai_interaction_tenant_id", "ai_interaction", ["tenant_id"])
    op.create_index("ix_ai_interaction_created_at", "ai_interaction", ["created_at"])
    op.create_table(
        "ai_credit_day",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ai_credit_day"),
        sa.UniqueConstraint("tenant_id", "day", name="uq_ai_credit_day_tenant_id_day"),
    )
    op.create_index("ix_ai_credit_day_tenant_id", "ai_credit_day", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_ai_credit_day_tenant_id", table_name="ai_credit_day")
    op.drop_table("ai_credit_day")
    op.drop_index("ix_ai_interaction_created_at", table_name="ai_interaction")
    op.drop_index("ix_ai_interaction_tenant_id", table_name="ai_interaction")
    op.drop_table("ai_interaction")

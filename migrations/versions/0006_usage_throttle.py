"""Throttle columns on the tenant and the cost autopilot's spend samples.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenant") as batch:
        batch.add_column(sa.Column("max_concurrent_runs", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("ai_paused", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "spend_sample",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("rate_micros_per_hour", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_spend_sample_tenant_id", "spend_sample", ["tenant_id"])
    op.create_index("ix_spend_sample_at", "spend_sample", ["at"])


def downgrade() -> None:
    op.drop_index("ix_spend_sample_at", table_name="spend_sample")
    op.drop_index("ix_spend_sample_tenant_id", table_name="spend_sample")
    op.drop_table("spend_sample")
    with op.batch_alter_table("tenant") as batch:
        batch.drop_column("ai_paused")
        batch.drop_column("max_concurrent_runs")

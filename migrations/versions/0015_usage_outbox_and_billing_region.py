"""The usage outbox's applied batch ids, and the billing country a checkout was paid from.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_batch",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_batch"),
    )
    op.create_index("ix_usage_batch_applied_at", "usage_batch", ["applied_at"])
    with op.batch_alter_table("billing_account") as table:
        table.add_column(sa.Column("billing_country", sa.String(length=2), nullable=True))
        table.add_column(sa.Column("region_mismatch", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("billing_account") as table:
        table.drop_column("region_mismatch")
        table.drop_column("billing_country")
    op.drop_index("ix_usage_batch_applied_at", table_name="usage_batch")
    op.drop_table("usage_batch")

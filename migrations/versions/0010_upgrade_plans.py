"""The UpgradePlanner's plans.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upgrade_plan",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("risk_level", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("auto_applicable", sa.Boolean(), nullable=False),
        sa.Column("safe_mode", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
    )
    for column in ("fingerprint", "status", "category"):
        op.create_index(f"ix_upgrade_plan_{column}", "upgrade_plan", [column])
    # One live plan per fingerprint, even when two rebuilds race; applied and archived ones may repeat.
    live = sa.text("status IN ('open', 'in_progress')")
    op.create_index(
        "uq_upgrade_plan_live_fingerprint",
        "upgrade_plan",
        ["fingerprint"],
        unique=True,
        postgresql_where=live,
        sqlite_where=live,
    )


def downgrade() -> None:
    op.drop_index("uq_upgrade_plan_live_fingerprint", table_name="upgrade_plan")
    for column in ("fingerprint", "status", "category"):
        op.drop_index(f"ix_upgrade_plan_{column}", table_name="upgrade_plan")
    op.drop_table("upgrade_plan")

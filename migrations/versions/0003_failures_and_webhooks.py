"""The failure queue and inbound webhook triggers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failure_entry",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("definition_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("error_type", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=4000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("redriven_run_id", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("suggestion", sa.String(length=2000), nullable=True),
        sa.Column("auto_applicable", sa.Boolean(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id"),
    )
    op.create_index("ix_failure_entry_tenant_id", "failure_entry", ["tenant_id"])
    op.create_index("ix_failure_entry_definition_id", "failure_entry", ["definition_id"])
    op.create_index("ix_failure_entry_status", "failure_entry", ["status"])
    op.create_table(
        "webhook_trigger",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("definition_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("signing_secret", sa.String(length=1000), nullable=True),
        sa.Column("wait_for_result", sa.Boolean(), nullable=False),
        sa.Column("wait_timeout_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["definition_id"], ["workflow_definition.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_webhook_trigger_tenant_id", "webhook_trigger", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_trigger_tenant_id", table_name="webhook_trigger")
    op.drop_table("webhook_trigger")
    op.drop_index("ix_failure_entry_status", table_name="failure_entry")
    op.drop_index("ix_failure_entry_definition_id", table_name="failure_entry")
    op.drop_index("ix_failure_entry_tenant_id", table_name="failure_entry")
    op.drop_table("failure_entry")

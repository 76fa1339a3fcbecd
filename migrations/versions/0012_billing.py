"""Stripe billing: each tenant's billing account and the Stripe events applied.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_account",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("billing_email", sa.String(length=320), nullable=True),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=True),
        sa.Column("subscription_status", sa.String(length=32), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("tenant_id"),
        sa.UniqueConstraint("stripe_customer_id"),
    )
    op.create_table(
        "billing_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("dunning", sa.String(length=16), nullable=True),
        sa.Column("invoice_id", sa.String(length=255), nullable=True),
        sa.Column("workflow_run_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_billing_event_tenant_id", "billing_event", ["tenant_id"])
    op.create_index("ix_billing_event_invoice_id", "billing_event", ["invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_billing_event_invoice_id", table_name="billing_event")
    op.drop_index("ix_billing_event_tenant_id", table_name="billing_event")
    op.drop_table("billing_event")
    op.drop_table("billing_account")

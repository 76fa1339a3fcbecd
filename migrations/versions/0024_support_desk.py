"""The support desk: tickets and their messages.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_ticket",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=5_000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=True),
        sa.Column("requester_email", sa.String(length=254), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=True),
        sa.Column("sentiment", sa.String(length=16), nullable=True),
        sa.Column("suggested_reply", sa.String(length=5_000), nullable=True),
        sa.Column("triage_source", sa.String(length=16), nullable=True),
        sa.Column("fallback_reason", sa.String(length=32), nullable=True),
        sa.Column("triage_credits", sa.Integer(), nullable=False),
        sa.Column("reply_token", sa.String(length=64), nullable=False),
        sa.Column("csat_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("last_escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csat_score", sa.Integer(), nullable=True),
        sa.Column("csat_comment", sa.String(length=1_000), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name="fk_support_ticket_tenant_id_tenant"),
        sa.PrimaryKeyConstraint("id", name="pk_support_ticket"),
        sa.UniqueConstraint("reply_token", name="uq_support_ticket_reply_token"),
        sa.UniqueConstraint("csat_token_hash", name="uq_support_ticket_csat_token_hash"),
    )
    op.create_index("ix_support_ticket_tenant_id", "support_ticket", ["tenant_id"])
    op.create_index("ix_support_ticket_status", "support_ticket", ["status"])
    op.create_index("ix_support_ticket_created_at", "support_ticket", ["created_at"])
    op.create_index("ix_support_ticket_closed_at", "support_ticket", ["closed_at"])
    op.create_table(
        "support_message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("body", sa.String(length=5_000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["support_ticket.id"], name="fk_support_message_ticket_id_support_ticket"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_support_message"),
    )
    op.create_index("ix_support_message_ticket_id", "support_message", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_support_message_ticket_id", table_name="support_message")
    op.drop_table("support_message")
    op.drop_index("ix_support_ticket_closed_at", table_name="support_ticket")
    op.drop_index("ix_support_ticket_created_at", table_name="support_ticket")
    op.drop_index("ix_support_ticket_status", table_name="support_ticket")
    op.drop_index("ix_support_ticket_tenant_id", table_name="support_ticket")
    op.drop_table("support_ticket")

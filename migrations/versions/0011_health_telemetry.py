"""Health records, telemetry events and daily reports (platform health).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health_record",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("db_ok", sa.Boolean(), nullable=False),
        sa.Column("temporal_ok", sa.Boolean(), nullable=False),
        sa.Column("stripe_status", sa.String(length=16), nullable=False),
        sa.Column("ai_status", sa.String(length=16), nullable=False),
        sa.Column("error_count_recent", sa.Integer(), nullable=False),
        sa.Column("worker_count", sa.Integer(), nullable=True),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_health_record_at", "health_record", ["at"])
    op.create_table(
        "telemetry_event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_telemetry_event_source", "telemetry_event", ["source"])
    op.create_index("ix_telemetry_event_tenant_id", "telemetry_event", ["tenant_id"])
    op.create_index("ix_telemetry_event_at", "telemetry_event", ["at"])
    op.create_table(
        "daily_report",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_daily_report_day", "daily_report", ["day"])


def downgrade() -> None:
    op.drop_index("ix_daily_report_day", table_name="daily_report")
    op.drop_table("daily_report")
    op.drop_index("ix_telemetry_event_at", table_name="telemetry_event")
    op.drop_index("ix_telemetry_event_tenant_id", table_name="telemetry_event")
    op.drop_index("ix_telemetry_event_source", table_name="telemetry_event")
    op.drop_table("telemetry_event")
    op.drop_index("ix_health_record_at", table_name="health_record")
    op.drop_table("health_record")

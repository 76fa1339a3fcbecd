"""The run archive: closed runs' records kept for the tenant's history retention, and the archiver's cursor.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_archive",
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("definition_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=True),
        sa.Column("results", sa.LargeBinary(), nullable=True),
        sa.Column("record_bytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_archive"),
    )
    op.create_index("ix_run_archive_definition_id", "run_archive", ["definition_id"])
    op.create_index("ix_run_archive_tenant_closed", "run_archive", ["tenant_id", "closed_at", "run_id"])
    op.create_index("ix_run_archive_closed", "run_archive", ["closed_at", "run_id"])
    op.create_table(
        "run_archive_cursor",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("archived_through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_run_archive_cursor"),
    )


def downgrade() -> None:
    op.drop_table("run_archive_cursor")
    op.drop_index("ix_run_archive_closed", table_name="run_archive")
    op.drop_index("ix_run_archive_tenant_closed", table_name="run_archive")
    op.drop_index("ix_run_archive_definition_id", table_name="run_archive")
    op.drop_table("run_archive")

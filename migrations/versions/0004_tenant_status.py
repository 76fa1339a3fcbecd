"""Tenant status, mirrored from the tenant's lifecycle workflow.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenant") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="active"))


def downgrade() -> None:
    with op.batch_alter_table("tenant") as batch:
        batch.drop_column("status")

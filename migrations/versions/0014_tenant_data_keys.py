"""Per-tenant data keys of the payload codec, wrapped by the platform key; purge destroys a tenant's key.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_data_key",
        sa.Column("tenant_id", sa.String(length=200), nullable=False),
        sa.Column("wrapped_key", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_data_key"),
    )


def downgrade() -> None:
    op.drop_table("tenant_data_key")

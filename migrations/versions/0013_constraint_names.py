"""Constraint names by the tables' naming convention on databases built before it was set.

Since the convention is on the target metadata, 0001-0012 name primary keys, unique constraints and
foreign keys by it on a new database (`pk_tenant`, `uq_apikey_key_hash`, `fk_apikey_tenant_id_tenant`).
A database built earlier has PostgreSQL's own names (`tenant_pkey`, `apikey_key_hash_key`,
`apikey_tenant_id_fkey`) or, on SQLite, none at all. This brings those to the same names, so every
database matches the models and a later migration can drop or alter a constraint by its name. On a
database that already has them it changes nothing.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy, not an import: what this migration does must not change when the models' convention does.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every table at 0012: its unique column groups and its foreign keys as (column, referred table).
TABLES: dict[str, tuple[list[tuple[str, ...]], list[tuple[str, str]]]] = {
    "apikey": ([("key_hash",)], [("tenant_id", "tenant")]),
    "audit_entry": ([], []),
    "billing_account": ([("stripe_customer_id",)], [("tenant_id", "tenant")]),
    "billing_event": ([], []),
    "compliance_finding": ([], [("report_id", "compliance_report")]),
    "compliance_report": ([], []),
    "daily_report": ([], []),
    "data_request": ([], []),
    "failure_entry": ([("run_id",)], []),
    "health_record": ([], []),
    "legal_document": ([("kind", "version")], []),
    "spend_sample": ([], []),
    "telemetry_event": ([], []),
    "tenant": ([], []),
    "tenant_secret": ([("tenant_id", "name")], [("tenant_id", "tenant")]),
    "upgrade_plan": ([], []),
    "usage_counter": ([("tenant_id", "period", "metric")], []),
    "webhook_trigger": (
        [("definition_id",), ("token_hash",)],
        [("definition_id", "workflow_definition"), ("tenant_id", "tenant")],
    ),
    "workflow_definition": ([], [("tenant_id", "tenant")]),
    "workflow_version": ([("definition_id", "version")], [("definition_id", "workflow_definition")]),
}

RENAME_IF_PRESENT = """
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = CAST('"{table}"' AS regclass) AND conname = '{old}') THEN
    ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}";
  END IF;
END $$
"""


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _name_sqlite_constraints()
    else:
        _rename_postgresql_constraints()


def downgrade() -> None:
    # Nothing before 0013 refers to a constraint by name, so both spellings serve it.
    pass


def _rename_postgresql_constraints() -> None:
    # A DO block rather than a lookup from Python, so `alembic upgrade --sql` renders it as well.
    for table, old, new in _postgresql_renames():
        op.execute(RENAME_IF_PRESENT.format(table=table, old=old, new=new))


def _postgresql_renames() -> list[tuple[str, str, str]]:
    """(table, PostgreSQL's default name, the convention's name) of every constraint 0001-0012 create."""
    renames = []
    for table, (uniques, foreign_keys) in TABLES.items():
        renames.append((table, f"{table}_pkey", f"pk_{table}"))
        for columns in uniques:
            renames.append((table, f"{table}_{'_'.join(columns)}_key", f"uq_{table}_{'_'.join(columns)}"))
        for column, referred in foreign_keys:
            renames.append((table, f"{table}_{column}_fkey", f"fk_{table}_{column}_{referred}"))
    return renames


def _name_sqlite_constraints() -> None:
    # SQLite cannot rename a constraint: a table with an unnamed one is rebuilt, and the rebuild names
    # the unnamed ones by the convention and keeps the rest (columns, indexes, data) as they are.
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        reflected = [
            inspector.get_pk_constraint(table),
            *inspector.get_unique_constraints(table),
            *inspector.get_foreign_keys(table),
        ]
        if any(c.get("name") is None for c in reflected):
            with op.batch_alter_table(table, recreate="always", naming_convention=NAMING_CONVENTION):
                pass

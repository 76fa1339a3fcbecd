"""Alembic environment: brings the database at `sqlalchemy.url` (or DATABASE_URL) to SQLModel's metadata."""

import os
from typing import Literal

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import schemas.tables  # noqa: F401  (registers the tables and their naming convention on SQLModel.metadata)
from schemas.columns import UtcDateTime

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url in the Alembic config or DATABASE_URL")
    return url


def render_item(kind: str, obj: object, _context: object) -> str | Literal[False]:
    """Autogenerate writes a UtcDateTime column as the plain type it stores, so migrations import no model code."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    """Renders the SQL instead of running it (`alembic upgrade head --sql`)."""
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                compare_type=True,
                # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
                render_as_batch=connection.dialect.name == "sqlite",
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

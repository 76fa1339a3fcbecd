"""The Alembic migrations build exactly the schema the table models describe, on SQLite and PostgreSQL."""

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Engine,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
    create_engine,
    inspect,
    make_url,
    pool,
    text,
)
from sqlalchemy.sql.schema import DEFAULT_NAMING_CONVENTION
from sqlmodel import Session, SQLModel, select

from core.db import MIGRATIONS, migrate
from schemas.tables import ApiKey, Tenant, is_search_index_object  # (and registers every table on SQLModel.metadata)


@pytest.fixture(params=["sqlite", "server"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, and a scratch one on the DATABASE_URL server if set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'levqor.db'}"
        return
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url or server_url.startswith("sqlite"):
        pytest.skip("DATABASE_URL names no database server")
    scratch = f"levqor_migrations_{uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield make_url(server_url).set(database=scratch).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    yield engine
    engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def is_search_index(name: str | None) -> bool:
    """The full-text search objects a migration adds beside a table (SEARCH_INDEX_OBJECTS), and SQLite's FTS5
    shadow tables of them (`knowledge_fts_data` ...): no table model describes them."""
    return is_search_index_object(name)


def modelled(_object: object, name: str | None, _type: str, _reflected: bool, _compare_to: object) -> bool:
    return not is_search_index(name)


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": modelled})
        return compare_metadata(context, SQLModel.metadata)


def table_names(engine: Engine) -> set[str]:
    return {name for name in inspect(engine).get_table_names() if not is_search_index(name)}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_snapshot(engine: Engine) -> dict[str, object]:
    inspector = inspect(engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in inspector.get_foreign_keys(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def constraint_names(engine: Engine) -> dict[str, list[str | None]]:
    """The names of each table's primary key, unique constraints and foreign keys in the database."""
    inspector = inspect(engine)
    return {
        table: sorted(
            (
                c["name"]
                for c in (
                    inspector.get_pk_constraint(table),
                    *inspector.get_unique_constraints(table),
                    *inspector.get_foreign_keys(table),
                )
            ),
            key=str,
        )
        for table in SQLModel.metadata.tables
        if inspector.has_table(table)  # an older revision has not made the later tables yet
    }


def model_constraint_names() -> dict[str, list[object]]:  # a name, or None or SQLAlchemy's unnamed marker
    named = (PrimaryKeyConstraint, UniqueConstraint, ForeignKeyConstraint)
    return {
        name: sorted((c.name for c in table.constraints if isinstance(c, named)), key=str)
        for name, table in SQLModel.metadata.tables.items()
    }


def test_migrated_schema_matches_the_table_models(database_url: str, engine: Engine) -> None:
    migrate(database_url)

    assert schema_differences(engine) == []
    assert table_names(engine) == {*SQLModel.metadata.tables, "alembic_version"}
    assert constraint_names(engine) == model_constraint_names()


def test_a_database_built_before_the_naming_convention_gets_its_names(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SQLModel.metadata, "naming_convention", DEFAULT_NAMING_CONVENTION)
    command.upgrade(alembic_config(database_url), "0012")
    monkeypatch.undo()
    assert constraint_names(engine) != model_constraint_names()
    tenant_id = str(uuid4())
    with Session(engine) as session:
        session.add(Tenant(id=tenant_id, name="built before"))
        session.flush()
        session.add(ApiKey(tenant_id=tenant_id, role="admin", prefix="lq_", key_hash="h" * 64))
        session.commit()

    migrate(database_url)

    assert schema_differences(engine) == []
    assert constraint_names(engine) == model_constraint_names()
    with Session(engine) as session:
        assert session.exec(select(ApiKey.tenant_id)).all() == [tenant_id]


def test_migrating_twice_changes_nothing(database_url: str, engine: Engine) -> None:
    migrate(database_url)
    before = schema_snapshot(engine)

    migrate(database_url)

    assert schema_snapshot(engine) == before
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert [current_revision(engine)] == head


def test_downgrade_to_base_removes_every_table(database_url: str, engine: Engine) -> None:
    migrate(database_url)

    command.downgrade(alembic_config(database_url), "base")

    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}  # the search objects too
    assert current_revision(engine) is None

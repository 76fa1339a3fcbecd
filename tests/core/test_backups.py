"""Backups of the application database, made and restored for real on SQLite and on the PostgreSQL server of
the test command: every table's rows come back, the app serves the restored tenants, a corrupted backup and
a non-empty target are refused, and an older schema is migrated forward."""

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, pool, text
from sqlmodel import Session

from api.main import create_app
from core.backup_engines import BackupError, facts_of
from core.backup_restore import restore_backup
from core.backups import drop_scratch, make_backup, new_backup_id, verify_backup
from core.db import MIGRATIONS, create_db_engine, migrate
from core.settings import Settings
from schemas.backups import BackupManifest
from schemas.tables import ApiKey, AuditEntry, Tenant
from tests.conftest import founder_headers

NewDatabase = Callable[[], str]


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """Makes empty databases of one engine: SQLite files, or scratch databases on the DATABASE_URL server."""
    if request.param == "sqlite":
        yield lambda: f"sqlite:///{tmp_path / f'{uuid4().hex[:8]}.db'}"
        return
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgresql"):
        pytest.skip("DATABASE_URL names no PostgreSQL server")
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    names: list[str] = []

    def make() -> str:
        names.append(f"levqor_backup_{uuid4().hex[:12]}")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{names[-1]}"'))
        return make_url(server).set(database=names[-1]).render_as_string(hide_password=False)

    yield make
    for name in names:
        drop_scratch(admin, name)
    admin.dispose()


def seed(url: str, tenants: int = 3) -> list[str]:
    """Tenants with an API key and an audit entry each; their names."""
    engine = create_db_engine(url)
    names = [f"Tenant {uuid4().hex[:6]}" for _ in range(tenants)]
    with Session(engine) as session:
        for name in names:
            tenant = Tenant(name=name)
            session.add(tenant)
            session.flush()
            session.add(ApiKey(tenant_id=tenant.id, role="admin", prefix="lvq_x", key_hash=uuid4().hex))
            session.add(AuditEntry(tenant_id=tenant.id, actor="founder", action="tenant_created"))
        session.commit()
    engine.dispose()
    return names


def backup_of(url: str, folder: Path) -> BackupManifest:
    at = datetime.now(UTC)
    manifest = make_backup(url, folder, new_backup_id(at), at)
    return verify_backup(url, folder, manifest.backup_id, datetime.now(UTC))


def test_a_backup_restores_into_an_empty_database_and_the_app_serves_its_tenants(
    new_database: NewDatabase, tmp_path: Path, settings: Settings
) -> None:
    source = new_database()
    migrate(source)
    names = seed(source)
    manifest = backup_of(source, tmp_path / "backups")
    target = new_database()
    if target.startswith("sqlite"):
        migrate(target)  # tables but no rows: empty enough to restore into

    result = restore_backup(target, tmp_path / "backups" / f"{manifest.backup_id}.json")
    in_target = facts_of(target)[0]  # before the app starts and syncs its knowledge base into it

    restored = settings.model_copy(update={"database_url": target, "api_embedded_worker": False})
    with TestClient(create_app(restored)) as api:
        listed = api.get("/api/tenants", headers=founder_headers())
    assert manifest.verified and manifest.row_counts["tenant"] == 3 and manifest.row_counts["audit_entry"] == 3
    assert result.row_counts == in_target == manifest.row_counts
    assert listed.status_code == 200 and sorted(t["name"] for t in listed.json()) == sorted(names)


def test_a_corrupted_backup_is_refused_by_its_checksum(new_database: NewDatabase, tmp_path: Path) -> None:
    source = new_database()
    migrate(source)
    seed(source)
    manifest = backup_of(source, tmp_path)
    file = tmp_path / str(manifest.file)
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    target = new_database()

    with pytest.raises(BackupError) as refused:
        restore_backup(target, file)
    reverified = verify_backup(source, tmp_path, manifest.backup_id, datetime.now(UTC))

    assert refused.value.code == "backup_corrupted" and "checksum" in refused.value.message
    assert facts_of(target)[0] == {}  # nothing was written
    assert (
        reverified.verified is False and reverified.verification and "checksum" in str(reverified.verification.detail)
    )


def test_restore_refuses_a_database_that_holds_rows_unless_forced(new_database: NewDatabase, tmp_path: Path) -> None:
    source = new_database()
    migrate(source)
    seed(source, tenants=2)
    manifest = backup_of(source, tmp_path)
    target = new_database()
    migrate(target)
    seed(target, tenants=5)

    with pytest.raises(BackupError) as refused:
        restore_backup(target, tmp_path / str(manifest.file))
    kept = facts_of(target)[0]["tenant"]
    forced = restore_backup(target, tmp_path / str(manifest.file), force=True)

    assert refused.value.code == "database_not_empty" and "--force" in refused.value.message and kept == 5
    assert forced.row_counts == manifest.row_counts and forced.row_counts["tenant"] == 2


def test_a_backup_of_an_older_schema_is_migrated_forward(new_database: NewDatabase, tmp_path: Path) -> None:
    source = new_database()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", source.replace("%", "%%"))
    command.upgrade(config, "0015")
    names = seed(source, tenants=2)
    manifest = backup_of(source, tmp_path)
    target = new_database()
    head = new_database()
    migrate(head)

    result = restore_backup(target, tmp_path / str(manifest.file))

    engine = create_db_engine(target)
    with engine.connect() as connection:
        restored = sorted(connection.execute(text("SELECT name FROM tenant")).scalars())
    engine.dispose()
    assert manifest.schema_revision == result.from_revision == "0015" and manifest.verified
    assert result.to_revision == facts_of(head)[1] != "0015"
    assert set(facts_of(target)[0]) == set(facts_of(head)[0]) and restored == sorted(names)

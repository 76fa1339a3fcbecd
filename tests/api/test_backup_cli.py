"""`levqor backup` as a founder runs it: settings from the environment, a SQLite database of its own, exit
codes and messages for a refused restore (a database with rows, a corrupted file)."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from api.cli import main
from core.backup_engines import facts_of
from core.db import create_db_engine, migrate
from core.settings import get_settings
from schemas.tables import Tenant


@pytest.fixture
def app_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL and BACKUP_DIR in the environment, read by the CLI as by the server."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("LEVQOR_FOUNDER_TOKEN", "founder-token-for-cli-tests-0123")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def add_tenants(url: str, *names: str) -> None:
    engine = create_db_engine(url)
    with Session(engine) as session:
        session.add_all(Tenant(name=name) for name in names)
        session.commit()
    engine.dispose()


def test_create_prints_a_verified_manifest_and_list_shows_it(
    app_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenants(app_database, "Acme", "Globex")

    created = main(["backup", "create"])
    manifest = json.loads(capsys.readouterr().out)
    listed = main(["backup", "list"])
    table = capsys.readouterr().out.splitlines()

    assert created == listed == 0
    assert manifest["verification"]["verified"] is True and manifest["row_counts"]["tenant"] == 2
    assert table[0].split()[:3] == ["BACKUP", "CREATED", "(UTC)"]
    assert table[1].split()[0] == manifest["backup_id"] and table[1].split()[-2:] == ["yes", facts_of(app_database)[1]]


def test_restore_refuses_a_database_with_rows_unless_forced(
    app_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenants(app_database, "Acme")
    main(["backup", "create"])
    backup = next((tmp_path / "backups").glob("*.sqlite3"))
    add_tenants(app_database, "Initech")
    capsys.readouterr()

    refused = main(["backup", "restore", str(backup)])
    message = capsys.readouterr().err
    forced = main(["backup", "restore", str(backup), "--force"])
    restored = capsys.readouterr().out

    assert refused == 1 and "holds 2 rows" in message and "--force" in message
    assert forced == 0 and restored.startswith("restored levqor-") and facts_of(app_database)[0]["tenant"] == 1


def test_a_corrupted_backup_is_refused_with_a_clear_message(
    app_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenants(app_database, "Acme")
    main(["backup", "create"])
    backup = next((tmp_path / "backups").glob("*.sqlite3"))
    data = bytearray(backup.read_bytes())
    data[100] ^= 0x01
    backup.write_bytes(bytes(data))
    capsys.readouterr()

    code = main(["backup", "restore", str(backup), "--force"])

    assert code == 1 and "checksum" in capsys.readouterr().err
    assert facts_of(app_database)[0]["tenant"] == 1

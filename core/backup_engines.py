"""The engine-level mechanics of backups: SQLite through its online backup API, PostgreSQL through pg_dump
(custom format, in the snapshot the row counts are read in) and pg_restore, plus the row counts and schema
revision of a database. core/backups.py builds backups, verification and restores on these."""

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, make_url, pool, text

from core.logs import redact_text
from schemas.tables import is_search_index_object

PG_BIN_ROOT = Path("/usr/lib/postgresql")
TOOL_TIMEOUT_S = 6 * 3600
# libpq reads these from the environment; the password never appears on a command line.
LIBPQ_QUERY_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                   "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"}  # fmt: skip


class BackupError(Exception):
    """A backup, verification or restore that cannot go on; `code` is stable, `message` is for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def scratch_engine(url: str) -> Engine:
    """An engine without a pool, for one short job on `url`."""
    return create_engine(url, poolclass=pool.NullPool)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("backup_unsupported", "an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def sqlite_copy(source: Path, target: Path, standalone: bool = False) -> None:
    """Copies the whole database `source` onto `target` with SQLite's online backup API: a consistent copy
    while others write, and `target`'s earlier content is replaced. `standalone`: the copy leaves WAL mode, so
    it is one self-contained file (a backup)."""
    if not source.is_file():
        raise BackupError("backup_not_found", f"no SQLite database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        if standalone:
            dst.execute("PRAGMA journal_mode=DELETE")


def database_facts(connection: Connection) -> tuple[dict[str, int], str | None]:
    """Every table's row count and the Alembic revision, read on `connection` (in its transaction). The full-text
    search's own tables are left out: they are derived from the passages, not data of their own."""
    quote = connection.dialect.identifier_preparer.quote
    counts = {
        name: int(connection.execute(text(f"SELECT COUNT(*) FROM {quote(name)}")).scalar_one())
        for name in sorted(inspect(connection).get_table_names())
        if not is_search_index_object(name)
    }
    revision = None
    if "alembic_version" in counts and counts["alembic_version"]:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    return counts, revision


def facts_of(url: str) -> tuple[dict[str, int], str | None]:
    engine = scratch_engine(url)
    try:
        with engine.connect() as connection:
            return database_facts(connection)
    finally:
        engine.dispose()


def pg_dump(url: str, target: Path) -> tuple[dict[str, int], str | None]:
    """Dumps `url` into `target` (custom format) and returns the row counts and revision of the very snapshot
    dumped: the counts are read in a repeatable-read transaction whose snapshot pg_dump imports."""
    engine = scratch_engine(url)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                facts = database_facts(connection)
                args = ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
                run_pg_tool("pg_dump", url, [*args, f"--file={target}"])
                return facts
    finally:
        engine.dispose()


def pg_restore(url: str, source: Path) -> None:
    """Restores the custom-format dump `source` into the (empty) database of `url`, in one transaction."""
    args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    run_pg_tool("pg_restore", url, [*args, f"--dbname={make_url(url).database}", str(source)])


def pg_drop_tables(url: str) -> None:
    """Drops every table and view of the database's current schema (what a forced restore replaces)."""
    engine = scratch_engine(url)
    try:
        with engine.begin() as connection:
            quote, found = connection.dialect.identifier_preparer.quote, inspect(connection)
            for view in found.get_view_names():
                connection.execute(text(f"DROP VIEW IF EXISTS {quote(view)} CASCADE"))
            for table in found.get_table_names():
                connection.execute(text(f"DROP TABLE IF EXISTS {quote(table)} CASCADE"))
    finally:
        engine.dispose()


def run_pg_tool(name: str, url: str, args: list[str]) -> None:
    """Runs pg_dump or pg_restore against `url`'s server, the credentials passed in libpq's environment."""
    result = subprocess.run(
        [pg_tool(name), *args], env=libpq_env(url), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S
    )
    if result.returncode != 0:
        tail = redact_text(result.stderr.strip())[-500:]
        raise BackupError(f"{name.replace('_', '')}_failed", f"{name} exited with {result.returncode}: {tail}")


def pg_tool(name: str) -> str:
    """`name` from the highest /usr/lib/postgresql/<version>/bin, else from PATH."""
    found = sorted(PG_BIN_ROOT.glob(f"*/bin/{name}"), key=lambda p: _version_key(p.parent.parent.name))
    if found:
        return str(found[-1])
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError("tool_missing", f"{name} is not installed: install the postgresql-client package")
    return on_path


def libpq_env(url: str) -> dict[str, str]:
    parsed = make_url(url)
    env = dict(os.environ)
    fields = {"PGHOST": parsed.host, "PGPORT": parsed.port, "PGUSER": parsed.username,
              "PGPASSWORD": parsed.password, "PGDATABASE": parsed.database}  # fmt: skip
    env.update({key: str(value) for key, value in fields.items() if value is not None})
    for key, value in parsed.query.items():
        if key in LIBPQ_QUERY_ENV and isinstance(value, str):
            env[LIBPQ_QUERY_ENV[key]] = value
    return env


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)

"""Backups of the application database: the one place that makes, verifies and prunes them (restoring is in
core/backup_restore.py, manifests in core/backup_manifests.py, the engines' tools in core/backup_engines.py);
the PlatformBackup workflow's activities and the `levqor backup` command both call these functions.

A backup is a file in the backup folder (`<id>.sqlite3`, or `<id>.dump` in pg_dump's custom format) with its
manifest `<id>.json` beside it: time, engine, size, sha256, Alembic revision and every table's row count."""

import os
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from core.backup_engines import (
    BackupError,
    facts_of,
    pg_dump,
    pg_restore,
    scratch_engine,
    sqlite_copy,
    sqlite_path,
)
from core.backup_manifests import checked_file, list_manifests, manifest_path, read_manifest, sha256_of, write_manifest
from core.settings import VERSION
from rules.backups import backups_to_keep, count_differences
from schemas.backups import BackupEngine, BackupManifest, BackupVerification, PruneResult, RetentionPolicy

SUFFIX: dict[BackupEngine, str] = {"sqlite": ".sqlite3", "postgresql": ".dump"}


def engine_of(url: str) -> BackupEngine:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError("backup_unsupported", f"backups support SQLite and PostgreSQL, not {backend}")
    return "sqlite" if backend == "sqlite" else "postgresql"


def new_backup_id(at: datetime) -> str:
    """`levqor-<UTC time>-<8 hex>`: sorts by time, and two backups of one second do not collide."""
    return f"levqor-{at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def make_backup(url: str, folder: Path, backup_id: str, at: datetime) -> BackupManifest:
    """Backs up the database of `url` into `folder` and writes its manifest (not verified yet). A crash leaves
    only a `.partial` file, never a backup without a manifest; making the same id again replaces it."""
    engine = engine_of(url)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{backup_id}{SUFFIX[engine]}"
    partial = target.with_name(target.name + ".partial")
    if engine == "sqlite":
        sqlite_copy(sqlite_path(url), partial, standalone=True)
        counts, revision = facts_of(f"sqlite:///{partial}")
    else:
        counts, revision = pg_dump(url, partial)
    os.replace(partial, target)
    manifest = BackupManifest(
        backup_id=backup_id,
        created_at=at,
        engine=engine,
        file=target.name,
        size_bytes=target.stat().st_size,
        sha256=sha256_of(target),
        schema_revision=revision,
        row_counts=counts,
        version=VERSION,
    )
    write_manifest(folder, manifest)
    return manifest


def verify_backup(url: str, folder: Path, backup_id: str, at: datetime) -> BackupManifest:
    """Restores the backup into a scratch database (a temporary SQLite file; a database created and dropped on
    `url`'s PostgreSQL server), compares every table's row count with the manifest and records the outcome
    in the manifest. A failed verification is an outcome, not an exception."""
    manifest = read_manifest(folder, backup_id)
    try:
        backup = checked_file(folder, manifest)
        restored = _scratch_counts(url, manifest.engine, backup)
        differences = count_differences(manifest.row_counts, restored)
        detail = f"row counts differ: {', '.join(differences)}" if differences else None
    except BackupError as err:
        differences, detail = ["restore"], err.message
    except Exception as err:  # a scratch database that cannot be made or read: the backup is not verified
        differences, detail = ["restore"], f"{type(err).__name__}: {str(err)[:300]}"
    manifest.verification = BackupVerification(verified=not differences, at=at, detail=detail)
    write_manifest(folder, manifest)
    return manifest


def record_failure(folder: Path, backup_id: str, engine: BackupEngine, at: datetime, error: str) -> BackupManifest:
    """Marks the backup failed in its manifest (one without a file when it was never made), so the heartbeat
    and `levqor backup list` see the failed attempt."""
    folder.mkdir(parents=True, exist_ok=True)
    if manifest_path(folder, backup_id).is_file():
        manifest = read_manifest(folder, backup_id)
        manifest.error = manifest.error or error[:500]
    else:
        manifest = BackupManifest(backup_id=backup_id, created_at=at, engine=engine, error=error[:500], version=VERSION)
    write_manifest(folder, manifest)
    return manifest


def prune_backups(folder: Path, policy: RetentionPolicy) -> PruneResult:
    """Deletes every backup (file and manifest) the retention rule does not keep; see rules/backups.py."""
    manifests = list_manifests(folder)
    keep = backups_to_keep(manifests, policy.keep_daily, policy.keep_weekly)
    removed = [m.backup_id for m in manifests if m.backup_id not in keep]
    for manifest in manifests:
        if manifest.backup_id not in keep:
            if manifest.file:
                (folder / manifest.file).unlink(missing_ok=True)
            manifest_path(folder, manifest.backup_id).unlink(missing_ok=True)
    return PruneResult(removed=removed, kept=[m.backup_id for m in manifests if m.backup_id in keep])


def _scratch_counts(url: str, engine: BackupEngine, backup: Path) -> dict[str, int]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="levqor-verify-") as scratch:
            copy = Path(scratch) / "verify.db"
            sqlite_copy(backup, copy)
            return facts_of(f"sqlite:///{copy}")[0]
    if engine_of(url) != "postgresql":
        raise BackupError("engine_mismatch", "a PostgreSQL backup is verified on a PostgreSQL server")
    name = f"levqor_verify_{uuid.uuid4().hex[:12]}"
    admin = scratch_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            scratch = make_url(url).set(database=name).render_as_string(hide_password=False)
            pg_restore(scratch, backup)
            return facts_of(scratch)[0]
        finally:
            drop_scratch(admin, name)
    finally:
        admin.dispose()


def drop_scratch(admin: Engine, name: str, attempts: int = 10) -> None:
    """Drops a scratch database, ending its connections. An autovacuum worker that just entered it cannot be
    ended by a role without pg_signal_backend (the refusal is InsufficientPrivilege); it leaves within moments."""
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)

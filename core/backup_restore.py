"""Restoring a backup into the configured database (`levqor backup restore`): checksum first, only into an
empty database unless forced, then migrated forward to the code's Alembic head."""

from pathlib import Path

from core.backup_engines import BackupError, facts_of, pg_drop_tables, pg_restore, sqlite_copy, sqlite_path
from core.backup_manifests import checked_file, read_manifest
from core.backups import SUFFIX, engine_of
from core.db import migrate
from schemas.backups import BackupManifest, RestoreResult

# Alembic's bookkeeping, and the knowledge base every API start syncs from the README and the templates: a
# database holding only these (freshly migrated, or after an API start) counts as empty.
BOOKKEEPING_TABLES = {"alembic_version", "knowledge_passage"}


def restore_backup(url: str, path: Path, force: bool = False) -> RestoreResult:
    """Restores the backup at `path` (its file or its manifest) into the database of `url`, replacing what is
    there, and migrates it to head. Raises BackupError, changing nothing, when the file does not match its
    manifest's checksum (`backup_corrupted`), the engines differ (`engine_mismatch`), or the database holds
    rows and `force` is off (`database_not_empty`)."""
    manifest = manifest_for(path)
    backup = checked_file(path.parent, manifest)
    if engine_of(url) != manifest.engine:
        raise BackupError("engine_mismatch", f"a {manifest.engine} backup cannot be restored into {engine_of(url)}")
    rows = rows_in(url)
    if rows and not force:
        raise BackupError(
            "database_not_empty",
            f"the database holds {sum(rows.values())} rows in {len(rows)} tables; restore replaces a database only "
            "when it is empty (no rows outside alembic_version and the knowledge base): pass --force to replace it",
        )
    if manifest.engine == "sqlite":
        sqlite_copy(backup, sqlite_path(url))
    else:
        pg_drop_tables(url)
        pg_restore(url, backup)
    migrate(url)
    counts, revision = facts_of(url)
    return RestoreResult(
        backup_id=manifest.backup_id, from_revision=manifest.schema_revision, to_revision=revision, row_counts=counts
    )


def manifest_for(path: Path) -> BackupManifest:
    """The manifest of the backup at `path`: the manifest itself, or the `.json` beside a backup file."""
    name = path.name
    for suffix in (".json", *SUFFIX.values()):
        if name.endswith(suffix):
            return read_manifest(path.parent, name.removesuffix(suffix))
    raise BackupError(
        "backup_not_found", f"{path} is neither a backup file ({', '.join(SUFFIX.values())}) nor a manifest"
    )


def rows_in(url: str) -> dict[str, int]:
    """The tables of `url` that hold rows, Alembic's bookkeeping aside; {} for a missing SQLite file."""
    if engine_of(url) == "sqlite" and not sqlite_path(url).exists():
        return {}
    counts, _revision = facts_of(url)
    return {table: count for table, count in counts.items() if count and table not in BOOKKEEPING_TABLES}

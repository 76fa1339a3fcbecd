"""`levqor backup list|create|restore PATH [--force]`: backups of the application database, run locally
against DATABASE_URL and BACKUP_DIR (read as the server reads them), not through the API. The work is done
by core/backups.py, the functions the PlatformBackup workflow's activities call.

Exit codes: 0 done; 1 refused or failed (a corrupted backup, a database that is not empty without --force,
a backup that did not verify); 2 the settings cannot be read."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from core.backup_engines import BackupError
from core.backup_manifests import list_manifests
from core.backup_restore import restore_backup
from core.backups import make_backup, new_backup_id, verify_backup
from core.settings import Settings, get_settings
from schemas.backups import BackupManifest


def add_backup_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    backup = commands.add_parser("backup", help="back up or restore the application database (DATABASE_URL)")
    actions = backup.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the backups in BACKUP_DIR, newest first")
    actions.add_parser("create", help="make and verify a backup now, and print its manifest")
    restore = actions.add_parser("restore", help="restore a backup into the configured database, when empty")
    restore.add_argument("path", type=Path, help="the backup file, or its manifest (.json)")
    restore.add_argument("--force", action="store_true", help="replace a database that already holds rows")


def run_backup(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Runs `levqor backup <action>` with `settings` (read from the environment when None)."""
    try:
        settings = settings or get_settings()
    except ValidationError as err:
        fields = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        return _fail(f"the settings cannot be read ({fields})", code=2)
    try:
        if args.action == "list":
            return list_backups(Path(settings.backup_dir))
        if args.action == "create":
            return create_backup(settings.database_url, Path(settings.backup_dir))
        return restore(settings.database_url, args.path, args.force)
    except BackupError as err:
        return _fail(err.message)


def create_backup(url: str, folder: Path) -> int:
    at = datetime.now(UTC)
    manifest = make_backup(url, folder, new_backup_id(at), at)
    manifest = verify_backup(url, folder, manifest.backup_id, datetime.now(UTC))
    sys.stdout.write(manifest.model_dump_json(indent=2) + "\n")
    if not manifest.verified:
        return _fail(f"backup {manifest.backup_id} did not verify: {manifest.verification}")
    return 0


def list_backups(folder: Path) -> int:
    manifests = list_manifests(folder)
    if not manifests:
        sys.stdout.write(f"no backups in {folder}\n")
        return 0
    sys.stdout.write(f"{'BACKUP':<36}{'CREATED (UTC)':<22}{'ENGINE':<12}{'SIZE':>12}  {'VERIFIED':<10}REVISION\n")
    for m in manifests:
        size = f"{m.size_bytes / 1024:.1f} KiB" if m.file else "-"
        when = f"{m.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        line = f"{m.backup_id:<36}{when:<22}{m.engine:<12}{size:>12}  {_verified(m):<10}{m.schema_revision or '-'}"
        sys.stdout.write(line + "\n")
    return 0


def restore(url: str, path: Path, force: bool) -> int:
    result = restore_backup(url, path, force=force)
    rows = sum(count for table, count in result.row_counts.items() if table != "alembic_version")
    sys.stdout.write(
        f"restored {result.backup_id} (revision {result.from_revision} → {result.to_revision}): "
        f"{rows} rows in {len(result.row_counts)} tables\n"
    )
    return 0


def _verified(manifest: BackupManifest) -> str:
    if manifest.error:
        return "failed"
    if manifest.verification is None:
        return "pending"
    return "yes" if manifest.verified else "NO"


def _fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"levqor backup: {message}\n")
    return code

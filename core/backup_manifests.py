"""Backup manifests (`<id>.json` beside each backup file in the backup folder): reading, writing, listing,
and checking a backup file against its manifest's sha256."""

import hashlib
import os
from pathlib import Path

from core.backup_engines import BackupError
from schemas.backups import BackupManifest


def list_manifests(folder: Path) -> list[BackupManifest]:
    """Every readable manifest in `folder`, newest first; an unreadable one is skipped."""
    found = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            found.append(BackupManifest.model_validate_json(path.read_bytes()))
        except ValueError:
            continue
    return sorted(found, key=lambda m: m.created_at, reverse=True)


def read_manifest(folder: Path, backup_id: str) -> BackupManifest:
    path = manifest_path(folder, backup_id)
    if not path.is_file():
        raise BackupError("backup_not_found", f"no manifest {path.name} in {folder}")
    return BackupManifest.model_validate_json(path.read_bytes())


def write_manifest(folder: Path, manifest: BackupManifest) -> None:
    """Written whole or not at all (a temporary file renamed over the old one)."""
    path = manifest_path(folder, manifest.backup_id)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(manifest.model_dump_json(indent=2) + "\n")
    os.replace(partial, path)


def manifest_path(folder: Path, backup_id: str) -> Path:
    return folder / f"{backup_id}.json"


def checked_file(folder: Path, manifest: BackupManifest) -> Path:
    """The backup's file, after its sha256 matched the manifest's; BackupError when missing or corrupted."""
    if manifest.file is None or manifest.sha256 is None:
        raise BackupError("backup_failed", f"backup {manifest.backup_id} has no file: {manifest.error}")
    path = folder / manifest.file
    if not path.is_file():
        raise BackupError("backup_not_found", f"the backup file {path} is missing")
    if sha256_of(path) != manifest.sha256:
        raise BackupError("backup_corrupted", f"{path} does not match its manifest's sha256 checksum: corrupted")
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()

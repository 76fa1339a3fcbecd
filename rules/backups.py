"""Which backups to keep, whether a restored copy matches its manifest, and how healthy backups are."""

from datetime import date, datetime, timedelta

from schemas.backups import BackupManifest
from schemas.health import CheckResult


def backups_to_keep(manifests: list[BackupManifest], keep_daily: int, keep_weekly: int) -> set[str]:
    """The ids to keep: the newest verified backup of each of the `keep_daily` most recent days (UTC) that have
    one, and of each of the `keep_weekly` most recent ISO weeks that have one. Backups that are not verified
    (failed, or verification pending) are kept only while newer than the newest verified one, at most
    `keep_daily` of them: evidence for the heartbeat and the founder, bounded when verification keeps failing."""
    newest_first = sorted(manifests, key=lambda m: m.created_at, reverse=True)
    verified = [m for m in newest_first if m.verified]
    days: set[date] = set()
    weeks: set[tuple[int, int]] = set()
    keep: set[str] = set()
    for manifest in verified:
        day, week = manifest.created_at.date(), manifest.created_at.isocalendar()[:2]
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(manifest.backup_id)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(manifest.backup_id)
    since = verified[0].created_at if verified else None
    recent = [m for m in newest_first if not m.verified and (since is None or m.created_at > since)]
    return keep | {m.backup_id for m in recent[:keep_daily]}


def count_differences(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    """`table: expected → found` for every table whose row count differs (a missing table counts as absent)."""
    return [
        f"{table}: {expected.get(table, 'absent')} → {found.get(table, 'absent')}"
        for table in sorted(set(expected) | set(found))
        if expected.get(table) != found.get(table)
    ]


def backup_check(
    manifests: list[BackupManifest], now: datetime, stale_after: timedelta, enabled: bool, watching_since: datetime
) -> CheckResult:
    """The heartbeat's `backup` check: failed when the latest finished backup failed or is older than
    `stale_after`, or when there has been none for `stale_after` since `watching_since` (the worker's start);
    a backup still being verified is not judged yet. `not_configured` when scheduled backups are off."""
    if not enabled:
        return CheckResult(name="backup", status="not_configured", latency_ms=0.0)
    finished = [m for m in manifests if m.error is not None or m.verification is not None]
    latest = max(finished, key=lambda m: m.created_at, default=None)
    if latest is None:
        overdue = now - watching_since > stale_after
        detail = f"no backup in the {_hours(now - watching_since)} since the worker started" if overdue else None
        return CheckResult(name="backup", status="failed" if overdue else "ok", latency_ms=0.0, detail=detail)
    detail = None
    if latest.failed:
        reason = latest.error or (latest.verification.detail if latest.verification else None)
        detail = f"backup {latest.backup_id} failed: {reason}"
    elif now - latest.created_at > stale_after:
        detail = f"the latest backup is {_hours(now - latest.created_at)} old"
    return CheckResult(
        name="backup",
        status="failed" if detail else "ok",
        latency_ms=0.0,
        detail=detail[:300] if detail else None,
        last_backup_at=latest.created_at,
        backup_verified=latest.verified,
    )


def _hours(age: timedelta) -> str:
    return f"{age.total_seconds() / 3600:.1f} h"

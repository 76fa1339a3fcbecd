"""Which backups are kept (N daily, M weekly copies) and when the heartbeat calls backups unhealthy, on
synthetic manifests dated in the past; pruning deletes the others' files and manifests."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.backup_manifests import list_manifests, write_manifest
from core.backups import prune_backups
from rules.backups import backup_check, backups_to_keep
from schemas.backups import BackupManifest, BackupVerification, RetentionPolicy

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday
DAY = timedelta(days=1)


def manifest(at: datetime, verified: bool | None = True, error: str | None = None) -> BackupManifest:
    check = None if verified is None else BackupVerification(verified=verified, at=at)
    return BackupManifest(
        backup_id=f"levqor-{at:%Y%m%dT%H%M%SZ}",
        created_at=at,
        engine="sqlite",
        file=None if error else f"levqor-{at:%Y%m%dT%H%M%SZ}.sqlite3",
        error=error,
        verification=None if error else check,
    )


def two_a_day(days: int) -> list[BackupManifest]:
    """Verified backups at 02:00 and 14:00 UTC on each of the `days` days up to NOW."""
    start = NOW.replace(hour=0) - (days - 1) * DAY
    return [manifest(start + n * DAY + timedelta(hours=h)) for n in range(days) for h in (2, 14)]


def ids(*days: str) -> set[str]:
    return {f"levqor-{day}T140000Z" for day in days}


def test_the_newest_backup_of_each_of_the_last_days_and_weeks_is_kept() -> None:
    kept = backups_to_keep(two_a_day(60), keep_daily=7, keep_weekly=4)

    daily = ids("20261126", "20261127", "20261128", "20261129", "20261130", "20261201", "20261202")
    weekly = ids("20261115", "20261122", "20261129", "20261202")  # ISO weeks end on Sundays
    assert kept == daily | weekly


def test_failed_backups_are_kept_only_while_newer_than_the_newest_verified_one() -> None:
    history = two_a_day(3)
    old_failure = manifest(NOW - 2 * DAY + timedelta(hours=5), error="disk full")
    new_failure = manifest(NOW, verified=False)
    pending = manifest(NOW + timedelta(minutes=5), verified=None)

    kept = backups_to_keep([*history, old_failure, new_failure, pending], keep_daily=2, keep_weekly=0)

    assert kept == ids("20261201", "20261202") | {new_failure.backup_id, pending.backup_id}


def test_pruning_deletes_the_backups_not_kept_with_their_manifests(tmp_path: Path) -> None:
    for item in two_a_day(10):
        (tmp_path / str(item.file)).write_bytes(b"backup")
        write_manifest(tmp_path, item)

    result = prune_backups(tmp_path, RetentionPolicy(keep_daily=3, keep_weekly=2))

    left = {m.backup_id for m in list_manifests(tmp_path)}
    files = {p.name for p in tmp_path.iterdir()}
    assert left == set(result.kept) == ids("20261129", "20261130", "20261201", "20261202")
    assert len(result.removed) == 20 - 4 and files == {f"{i}.json" for i in left} | {f"{i}.sqlite3" for i in left}


def test_the_backup_check_fails_on_a_failed_or_stale_backup_and_waits_for_the_first() -> None:
    stale_after, started = timedelta(hours=26), NOW - timedelta(hours=1)

    def check(*manifests: BackupManifest, since: datetime = started, enabled: bool = True) -> tuple[str, str | None]:
        result = backup_check(list(manifests), NOW, stale_after, enabled, since)
        return result.status, result.detail

    fresh = manifest(NOW - timedelta(hours=3))
    assert check(fresh) == ("ok", None)
    assert check(fresh, manifest(NOW - timedelta(minutes=1), verified=None)) == ("ok", None)  # still verifying
    assert check(manifest(NOW - timedelta(hours=27)))[0] == "failed"
    assert check(fresh, manifest(NOW, error="pg_dump exited with 1"))[1] == (
        f"backup levqor-{NOW:%Y%m%dT%H%M%SZ} failed: pg_dump exited with 1"
    )
    assert check(fresh, manifest(NOW, verified=False))[0] == "failed"
    assert check() == ("ok", None)
    assert check(since=NOW - timedelta(hours=30))[0] == "failed"
    assert check(enabled=False) == ("not_configured", None)
    assert backup_check([fresh], NOW, stale_after, True, started).last_backup_at == fresh.created_at

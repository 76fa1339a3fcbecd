"""Archives closed user runs in batches, off every run's own path: a pass every minute (a platform
Schedule) moves the runs that closed since the last pass from Temporal's visibility into the run archive,
where they stay readable for the tenant's history retention after Temporal's namespace retention drops them."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.run_archive import RunArchiveActivities
    from orchestrator.retries import JOB_RETRY
    from schemas.run_archive import ArchiveWindow, RunArchiverInput, RunArchiverResult

# One window: listing and writing up to max_runs_per_window runs, heartbeating after every page.
ARCHIVE_TIMEOUT = timedelta(minutes=10)
ARCHIVE_HEARTBEAT = timedelta(minutes=1)


@workflow.defn
class RunArchiver:
    @workflow.run
    async def run(self, params: RunArchiverInput) -> RunArchiverResult:
        """Archives up to the moment the pass started less the visibility lag (a run closing just before
        may not be listed yet), one bounded window at a time, until caught up or `max_windows` windows."""
        window = ArchiveWindow(
            through=workflow.now() - timedelta(seconds=params.visibility_lag_s),
            max_runs=params.max_runs_per_window,
            first_window_s=params.first_window_s,
        )
        archived, windows, through = 0, 0, None
        while windows < params.max_windows:
            progress = await workflow.execute_activity_method(
                RunArchiveActivities.archive_closed_runs,
                window,
                start_to_close_timeout=ARCHIVE_TIMEOUT,
                heartbeat_timeout=ARCHIVE_HEARTBEAT,
                retry_policy=JOB_RETRY,
            )
            archived, windows, through = archived + progress.archived, windows + 1, progress.archived_through
            if progress.caught_up:
                break
        return RunArchiverResult(archived=archived, windows=windows, archived_through=through)

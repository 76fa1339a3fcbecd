"""Exports one tenant's data for a data-subject request: the archive is written to the request's row.

The archive is gathered and stored by one activity, so it never enters the workflow's history. If the
activity gives up, the request is marked failed and the workflow fails.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.data_requests import DataRequestActivities
    from orchestrator.retries import STORE_RETRY, STORE_TIMEOUT
    from schemas.data_requests import DataExportInput, DataExportResult

# Gathering and storing a whole tenant's archive is one activity; a request that is gone will not come back.
EXPORT_TIMEOUT = timedelta(minutes=5)
EXPORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
    non_retryable_error_types=["RequestNotFound"],
)
EXPORT_WORKFLOW_PREFIX = "export-"


def export_workflow_id(request_id: str) -> str:
    return f"{EXPORT_WORKFLOW_PREFIX}{request_id}"


@workflow.defn
class DataExport:
    @workflow.run
    async def run(self, params: DataExportInput) -> DataExportResult:
        try:
            return await workflow.execute_activity_method(
                DataRequestActivities.write_export,
                params,
                start_to_close_timeout=EXPORT_TIMEOUT,
                retry_policy=EXPORT_RETRY,
            )
        except ActivityError:
            await workflow.execute_activity_method(
                DataRequestActivities.mark_failed,
                params,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            raise

"""Deletes what is past its retention, once a day on a platform schedule: the platform's own classes
(health records, platform telemetry and audit entries), then every tenant's classes by its plan and the
founder's overrides (rules/retention.py). THE place that deletes by age.

Every cutoff is measured from one moment, `workflow.now()` when the pass starts (carried across
continue-as-new). A tenant's classes are deleted in bounded batches, one activity call per round, until a
round finds fewer rows than a batch; each batch is counted in the pass's report as it is deleted. A second
pass right after deletes nothing. The pass continues as new between pages of tenants when its history grows.
"""

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities
    from orchestrator.retries import JOB_RETRY, JOB_TIMEOUT
    from schemas.retention import (
        PLATFORM_CLASSES,
        ExpiryBatch,
        ReportClosing,
        ReportOpening,
        RetentionClass,
        RetentionEnforcerInput,
        RetentionEnforcerResult,
        TenantPage,
    )

TENANT_PAGE = 100


@workflow.defn
class RetentionEnforcer:
    @workflow.run
    async def run(self, params: RetentionEnforcerInput) -> RetentionEnforcerResult:
        report_id = params.report_id or str(workflow.uuid4())
        as_of = params.as_of or workflow.now()
        if params.report_id is None:
            await workflow.execute_activity_method(
                RetentionActivities.open_report,
                ReportOpening(report_id=report_id, as_of=as_of, tenant_ids=params.tenant_ids),
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
        if params.tenant_ids is None and not params.platform_done:
            days: dict[RetentionClass, int] = {name: getattr(params.platform, name) for name in PLATFORM_CLASSES}
            await self._expire(report_id, None, self._cutoffs(as_of, days), params.batch_size)
        await self._tenants(params, report_id, as_of)
        return await workflow.execute_activity_method(
            RetentionActivities.close_report,
            ReportClosing(report_id=report_id, finished_at=workflow.now()),
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )

    async def _tenants(self, params: RetentionEnforcerInput, report_id: str, as_of: datetime) -> None:
        """Page by page through the tenants that own records; continues as new between pages when told to."""
        after = params.after_tenant_id
        while True:
            page = await workflow.execute_activity_method(
                RetentionActivities.list_policies,
                TenantPage(after_tenant_id=after, limit=TENANT_PAGE, tenant_ids=params.tenant_ids),
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
            for tenant in page.tenants:
                await self._expire(report_id, tenant.tenant_id, self._cutoffs(as_of, tenant.days), params.batch_size)
            if page.next_after is None:
                return
            after = page.next_after
            if workflow.info().is_continue_as_new_suggested():
                update = {"report_id": report_id, "as_of": as_of, "after_tenant_id": after, "platform_done": True}
                workflow.continue_as_new(params.model_copy(update=update))

    async def _expire(
        self, report_id: str, tenant_id: str | None, cutoffs: dict[RetentionClass, datetime], size: int
    ) -> None:
        """Batches of the classes in `cutoffs` until each class's last batch came back short."""
        while cutoffs:
            deleted = await workflow.execute_activity_method(
                RetentionActivities.expire_records,
                ExpiryBatch(report_id=report_id, tenant_id=tenant_id, cutoffs=cutoffs, batch_size=size),
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
            cutoffs = {name: cutoff for name, cutoff in cutoffs.items() if deleted.deleted.get(name, 0) >= size}

    @staticmethod
    def _cutoffs(as_of: datetime, days: dict[RetentionClass, int]) -> dict[RetentionClass, datetime]:
        return {name: as_of - timedelta(days=count) for name, count in days.items()}

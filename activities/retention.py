"""The RetentionEnforcer's side effects: its report, the tenants and their policies page by page, and
deleting what is past its time in bounded batches, each counted in the report in the transaction that
deleted it (a retried batch finds only what is left, so nothing is deleted or counted twice)."""

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from core.retention import expire_batch, tenant_days, tenants_with_records
from schemas.retention import (
    ExpiryBatch,
    ExpiryDeleted,
    PolicyPage,
    ReportClosing,
    ReportOpening,
    RetentionClass,
    RetentionEnforcerResult,
    TenantPage,
    TenantPolicies,
)
from schemas.tables import RetentionReport, RetentionReportEntry


class RetentionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="open_retention_report")
    def open_report(self, opening: ReportOpening) -> None:
        """The pass's report in status `running`; opening it again changes nothing."""
        with Session(self._engine) as session:
            if session.get(RetentionReport, opening.report_id) is None:
                session.add(RetentionReport(id=opening.report_id, as_of=opening.as_of, tenant_ids=opening.tenant_ids))
                session.commit()

    @activity.defn(name="list_retention_policies")
    def list_policies(self, page: TenantPage) -> PolicyPage:
        """Up to `page.limit` tenants that own records, after `page.after_tenant_id`, with their days per class."""
        with Session(self._engine) as session:
            tenant_ids = tenants_with_records(session, page.after_tenant_id, page.limit, page.tenant_ids)
            days = tenant_days(session, tenant_ids)
        return PolicyPage(
            tenants=[TenantPolicies(tenant_id=t, days=days[t]) for t in tenant_ids],
            next_after=tenant_ids[-1] if len(tenant_ids) == page.limit else None,
        )

    @activity.defn(name="expire_records")
    def expire_records(self, batch: ExpiryBatch) -> ExpiryDeleted:
        """One batch of each class in `batch.cutoffs`: at most `batch_size` rows older than the cutoff each,
        deleted and counted in the report in one transaction per class."""
        deleted: dict[RetentionClass, int] = {}
        for data_class, cutoff in batch.cutoffs.items():
            with Session(self._engine) as session:
                deleted[data_class] = expire_batch(session, data_class, batch.tenant_id, cutoff, batch.batch_size)
                if deleted[data_class]:
                    _count(session, batch, data_class, cutoff, deleted[data_class])
                session.commit()
        if any(deleted.values()):
            activity.logger.info("records expired", extra={"tenant_id": batch.tenant_id, "deleted": deleted})
        return ExpiryDeleted(deleted=deleted)

    @activity.defn(name="close_retention_report")
    def close_report(self, closing: ReportClosing) -> RetentionEnforcerResult:
        """Completes the report with its totals per class; closing it again writes the same."""
        with Session(self._engine) as session:
            report = session.get(RetentionReport, closing.report_id)
            entries = session.exec(
                select(RetentionReportEntry).where(RetentionReportEntry.report_id == closing.report_id)
            ).all()
            totals: dict[str, int] = {}
            for entry in entries:
                totals[entry.data_class] = totals.get(entry.data_class, 0) + entry.deleted
            if report is not None:
                report.status, report.finished_at, report.totals = "completed", closing.finished_at, totals
                session.add(report)
                session.commit()
        activity.logger.info("retention pass completed", extra={"report_id": closing.report_id, "totals": totals})
        return RetentionEnforcerResult(report_id=closing.report_id, totals=totals)


def _count(session: Session, batch: ExpiryBatch, data_class: RetentionClass, cutoff: datetime, deleted: int) -> None:
    entry = session.exec(
        select(RetentionReportEntry).where(
            RetentionReportEntry.report_id == batch.report_id,
            RetentionReportEntry.data_class == data_class,
            col(RetentionReportEntry.tenant_id).is_(None)
            if batch.tenant_id is None
            else RetentionReportEntry.tenant_id == batch.tenant_id,
        )
    ).first()
    if entry is None:
        entry = RetentionReportEntry(
            report_id=batch.report_id, data_class=data_class, tenant_id=batch.tenant_id, cutoff=cutoff
        )
    entry.deleted += deleted
    session.add(entry)

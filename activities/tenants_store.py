"""A tenant's lifecycle side effects: its status on the row, its schedules, and purging its data."""

import asyncio
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select
from temporalio import activity

from core.payload_codec import destroy_tenant_key
from schemas.tables import (
    AiCreditDay,
    AiFix,
    AiInteraction,
    ApiKey,
    AuditEntry,
    BillingAccount,
    ComplianceFinding,
    ConsentRecord,
    DataRequest,
    FailureEntry,
    RunArchiveEntry,
    SignInLink,
    SpendSample,
    SupportMessage,
    SupportTicket,
    TelemetryEvent,
    Tenant,
    TenantSecret,
    UsageCounter,
    User,
    WebhookTrigger,
    WebSession,
    WorkflowDefinitionRow,
    WorkflowVersionRow,
)
from schemas.tenants import RunsCancel, SchedulesPause, StatusRecord, ThrottleRecord

PURGED_NAME = "purged tenant"
# Rows that are the tenant's alone, deleted whole on purge (workflow versions go with their definitions).
ERASED_TABLES = (
    WebhookTrigger,
    WorkflowDefinitionRow,
    TenantSecret,
    ApiKey,
    FailureEntry,
    RunArchiveEntry,
    TelemetryEvent,
    SpendSample,
    UsageCounter,
    AiInteraction,
    AiCreditDay,
    AiFix,
    SupportTicket,  # its messages first (below): the customer's words and address
)


class ScheduleControl(Protocol):
    async def set_schedules_paused(self, tenant_id: str, paused: bool, note: str) -> int: ...

    async def delete_tenant_schedules(self, tenant_id: str) -> int: ...

    async def delete_tenant_runs(self, tenant_id: str) -> int: ...


class RunCanceller(Protocol):
    """Cancels a tenant's runs in flight; `starters.runs.TemporalRunControl` is the real one."""

    async def cancel_tenant_runs(self, tenant_id: str, reason: str) -> int: ...


class TenantStoreActivities:
    def __init__(self, engine: Engine, schedules: ScheduleControl, runs: RunCanceller | None = None) -> None:
        self._engine, self._schedules, self._runs = engine, schedules, runs

    @activity.defn(name="record_tenant_status")
    def record_status(self, record: StatusRecord) -> None:
        """Mirrors the lifecycle's status onto the tenant row, which the API checks on every start."""
        with Session(self._engine) as session:
            tenant = session.get(Tenant, record.tenant_id)
            if tenant is not None:
                tenant.status = record.status
                session.add(tenant)
                session.commit()

    @activity.defn(name="record_tenant_throttle")
    def record_throttle(self, record: ThrottleRecord) -> None:
        """Mirrors a throttle put on or lifted onto the tenant row (checked on every start) and audits it."""
        throttle = record.throttle
        with Session(self._engine) as session:
            tenant = session.get(Tenant, record.tenant_id)
            if tenant is not None:
                tenant.max_concurrent_runs = throttle.max_concurrent_runs if throttle else None
                tenant.ai_paused = throttle.ai_paused if throttle else False
                session.add(tenant)
            session.add(
                AuditEntry(
                    tenant_id=record.tenant_id,
                    actor=record.by[:100],
                    action="tenant.throttled" if throttle else "tenant.throttle_lifted",
                    detail=throttle.model_dump(mode="json") if throttle else {"reason": record.reason},
                )
            )
            session.commit()

    @activity.defn(name="pause_tenant_schedules")
    async def pause_schedules(self, request: SchedulesPause) -> int:
        """Pauses (or resumes) every schedule of the tenant; returns how many changed."""
        return await self._schedules.set_schedules_paused(request.tenant_id, request.paused, request.note)

    @activity.defn(name="cancel_tenant_runs")
    async def cancel_runs(self, request: RunsCancel) -> int:
        """Cancels every run of the tenant in flight; each run records the reason. Returns how many."""
        if self._runs is None:
            raise RuntimeError("TenantStoreActivities needs a run canceller to cancel runs")
        cancelled = await self._runs.cancel_tenant_runs(request.tenant_id, request.reason)
        activity.logger.info("tenant runs cancelled", extra={"tenant_id": request.tenant_id, "runs": cancelled})
        return cancelled

    @activity.defn(name="purge_tenant")
    async def purge_tenant(self, record: StatusRecord) -> None:
        """Erases the tenant's personal data: its schedules (their inputs with them), its rows (`_erase_rows`),
        its data key, which leaves whatever Temporal still holds of its runs unreadable, and its runs'
        executions. Each part is idempotent, so a retry finishes what an attempt left."""
        schedules = await self._schedules.delete_tenant_schedules(record.tenant_id)
        await asyncio.to_thread(self._erase_rows, record.tenant_id)
        runs = await self._schedules.delete_tenant_runs(record.tenant_id)
        activity.logger.info(
            "tenant purged", extra={"tenant_id": record.tenant_id, "schedules": schedules, "runs": runs}
        )

    def _erase_rows(self, tenant_id: str) -> None:
        """Deletes what is the tenant's alone; keeps the tenant row (renamed), the requests' and audit trail's
        what-and-when, and the billing events with their Stripe invoice ids, which the books must keep."""
        with Session(self._engine) as session:
            definitions = select(WorkflowDefinitionRow.id).where(WorkflowDefinitionRow.tenant_id == tenant_id)
            session.execute(delete(WorkflowVersionRow).where(col(WorkflowVersionRow.definition_id).in_(definitions)))
            _erase_users(session, tenant_id)
            tickets = select(SupportTicket.id).where(SupportTicket.tenant_id == tenant_id)
            session.execute(delete(SupportMessage).where(col(SupportMessage.ticket_id).in_(tickets)))
            for table in ERASED_TABLES:
                session.execute(delete(table).where(col(table.tenant_id) == tenant_id))
            tenant = session.get(Tenant, tenant_id)
            if tenant is not None:
                tenant.name, tenant.status = PURGED_NAME, "purged"
                session.add(tenant)
            session.execute(
                update(BillingAccount)
                .where(col(BillingAccount.tenant_id) == tenant_id)
                .values(billing_email=None, stripe_customer_id=None, stripe_subscription_id=None)
            )
            session.execute(update(AuditEntry).where(col(AuditEntry.tenant_id) == tenant_id).values(detail={}))
            session.execute(
                update(ComplianceFinding).where(col(ComplianceFinding.tenant_id) == tenant_id).values(detail={})
            )
            session.execute(update(DataRequest).where(col(DataRequest.tenant_id) == tenant_id).values(archive=None))
            session.execute(
                update(DataRequest)
                .where(
                    col(DataRequest.tenant_id) == tenant_id,
                    col(DataRequest.kind) == "erasure",
                    col(DataRequest.status) == "pending",
                )
                .values(status="completed", completed_at=datetime.now(UTC))
            )
            destroy_tenant_key(session, tenant_id)
            session.commit()


def _erase_users(session: Session, tenant_id: str) -> None:
    """The tenant's web app users (their addresses are personal data), with their sessions and sign-in links; their
    cookie choices are kept without them."""
    users = select(User.id).where(User.tenant_id == tenant_id)
    session.execute(delete(WebSession).where(col(WebSession.user_id).in_(users)))
    session.execute(delete(SignInLink).where(col(SignInLink.user_id).in_(users)))
    # a cookie choice stays as the proof it was given, no longer linked to the person
    session.execute(update(ConsentRecord).where(col(ConsentRecord.user_id).in_(users)).values(user_id=None))
    session.execute(delete(User).where(col(User.tenant_id) == tenant_id))

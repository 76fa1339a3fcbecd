"""Dunning for one tenant after a failed payment: a grace period with e-mail reminders, then suspension
through the tenant's lifecycle until the tenant pays.

Messages: `payment_failed` adds another unpaid invoice; `settle` marks one paid (or, when the
subscription ended, all of them). Once nothing is outstanding the workflow ends; if it suspended the
tenant it resumes it first. A founder's suspension is left alone. An invoice that fails while it is
closing starts it over (continue-as-new). The state is readable with `state`.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.billing_store import BillingStoreActivities
    from activities.dunning import DunningActivities
    from orchestrator.retries import STORE_RETRY, STORE_TIMEOUT
    from schemas.billing import (
        BillingAudit,
        DunningInput,
        DunningNotice,
        DunningState,
        InvoiceFailed,
        NoticeKind,
        Settlement,
        TenantStatusChange,
    )

DUNNING_WORKFLOW_PREFIX = "dunning-"
# A notice is one e-mail: a few attempts, then dunning goes on without it (see _notify).
NOTICE_TIMEOUT = timedelta(seconds=30)
NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)


def dunning_workflow_id(tenant_id: str) -> str:
    return f"{DUNNING_WORKFLOW_PREFIX}{tenant_id}"


@workflow.defn
class Dunning:
    @workflow.init
    def __init__(self, params: DunningInput) -> None:
        # Set here, not in run: a signal can arrive with the very first workflow task.
        now = workflow.now()
        self._state = DunningState(
            tenant_id=params.tenant_id,
            outstanding=[params.invoice_id],
            started_at=now,
            grace_ends_at=now + timedelta(seconds=params.policy.grace_period_s),
        )
        self._notices = 0
        self._late: list[str] = []

    @workflow.run
    async def run(self, params: DunningInput) -> DunningState:
        state = self._state
        await self._audit(
            "dunning_started", invoice_id=params.invoice_id, grace_ends_at=state.grace_ends_at.isoformat()
        )
        await self._notify("payment_failed", params)
        interval = timedelta(seconds=params.policy.reminder_interval_s)
        while not self._paid() and workflow.now() < state.grace_ends_at:
            try:
                await workflow.wait_condition(self._paid, timeout=min(interval, state.grace_ends_at - workflow.now()))
            except TimeoutError:
                pass
            if not self._paid() and workflow.now() < state.grace_ends_at:
                state.reminders_sent += 1
                await self._notify("reminder", params)
        if not self._paid():
            await self._suspend(params)
            await workflow.wait_condition(self._paid)
        await self._close(params)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._late:  # failed while this dunning was closing: it starts over, under the same id
            workflow.continue_as_new(params.model_copy(update={"invoice_id": self._late[0]}))
        return state

    @workflow.signal
    def payment_failed(self, failed: InvoiceFailed) -> None:
        if self._state.settled_by is not None:
            self._late.append(failed.invoice_id)
        elif failed.invoice_id not in self._state.outstanding:
            self._state.outstanding.append(failed.invoice_id)

    @workflow.signal
    def settle(self, settlement: Settlement) -> None:
        outstanding = self._state.outstanding
        if settlement.reason == "subscription_ended":
            outstanding.clear()
        elif settlement.invoice_id in outstanding:
            outstanding.remove(settlement.invoice_id)
        if not outstanding and self._state.settled_by is None:
            self._state.settled_by = settlement.reason

    @workflow.query
    def state(self) -> DunningState:
        return self._state

    def _paid(self) -> bool:
        return not self._state.outstanding

    async def _suspend(self, params: DunningInput) -> None:
        invoices = ", ".join(self._state.outstanding)
        changed = await workflow.execute_activity_method(
            DunningActivities.change_tenant,
            TenantStatusChange(tenant_id=params.tenant_id, name="suspend", reason=f"payment overdue: {invoices}"[:500]),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        self._state.status = "suspended"
        self._state.suspended_by_dunning = changed.applied
        await self._audit("suspended_for_nonpayment", applied=changed.applied, status=changed.status)
        if changed.applied:
            await self._notify("suspended", params)

    async def _close(self, params: DunningInput) -> None:
        state = self._state
        if state.suspended_by_dunning:
            changed = await workflow.execute_activity_method(
                DunningActivities.change_tenant,
                TenantStatusChange(
                    tenant_id=params.tenant_id, name="resume", reason=f"billing settled: {state.settled_by}"
                ),
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            await self._audit("resumed_after_payment", applied=changed.applied, status=changed.status)
        state.status, state.settled_at = "settled", workflow.now()
        await self._audit("dunning_settled", settled_by=state.settled_by, reminders_sent=state.reminders_sent)
        if state.settled_by == "paid":
            await self._notify("settled", params)

    async def _notify(self, kind: NoticeKind, params: DunningInput) -> None:
        """One e-mail to the billing contact; a refused or undeliverable one is logged, dunning goes on."""
        self._notices += 1
        info = workflow.info()
        notice = DunningNotice(
            tenant_id=params.tenant_id,
            kind=kind,
            invoice_id=self._state.outstanding[0] if self._state.outstanding else None,
            amount=params.amount,
            currency=params.currency,
            grace_ends_at=self._state.grace_ends_at,
            idempotency_key=f"{info.workflow_id}/{info.run_id}/{self._notices}",
        )
        try:
            await workflow.execute_activity_method(
                DunningActivities.send_notice,
                notice,
                start_to_close_timeout=NOTICE_TIMEOUT,
                retry_policy=NOTICE_RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning("dunning notice not sent", extra={"kind": kind, "error": str(err.cause)})

    async def _audit(self, action: str, **detail: str | int | float | bool | None) -> None:
        await workflow.execute_activity_method(
            BillingStoreActivities.record_audit,
            BillingAudit(tenant_id=self._state.tenant_id, action=action, detail=detail),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )

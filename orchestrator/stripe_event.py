"""Applies one Stripe event, once: one workflow per event id (a repeated delivery cannot start a second).

The store activity records the event and changes the tenant's plan and Stripe ids in one transaction,
then this workflow hands payment trouble to the tenant's `Dunning` workflow: a failed payment starts
it (or adds the invoice to the one running), a paid invoice or an ended subscription settles it.
"""

from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.billing_store import BillingStoreActivities
    from orchestrator.dunning import Dunning, dunning_workflow_id
    from orchestrator.retries import STORE_RETRY, STORE_TIMEOUT
    from schemas.billing import DunningInput, EventApplied, InvoiceFailed, Settlement, StripeEventInput


@workflow.defn
class StripeEvent:
    @workflow.run
    async def run(self, event: StripeEventInput) -> EventApplied:
        applied = await workflow.execute_activity_method(
            BillingStoreActivities.apply_event,
            event,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        if applied.tenant_id is None or applied.outcome != "applied":
            return applied
        if applied.dunning == "start":
            await self._start_dunning(applied.tenant_id, event)
        elif applied.dunning is not None:
            settlement = Settlement(
                invoice_id=event.invoice_id, reason="paid" if applied.dunning == "settle" else "subscription_ended"
            )
            await self._settle(applied.tenant_id, settlement)
        return applied

    async def _start_dunning(self, tenant_id: str, event: StripeEventInput) -> None:
        invoice_id = event.invoice_id or event.event_id
        params = DunningInput(
            tenant_id=tenant_id,
            invoice_id=invoice_id,
            amount=event.amount,
            currency=event.currency,
            policy=event.dunning,
        )
        try:
            # Abandoned, not cancelled, when this workflow ends: dunning outlives the event by days.
            await workflow.start_child_workflow(
                Dunning.run,
                params,
                id=dunning_workflow_id(tenant_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            handle = workflow.get_external_workflow_handle_for(Dunning.run, dunning_workflow_id(tenant_id))
            await handle.signal(Dunning.payment_failed, InvoiceFailed(invoice_id=invoice_id))

    async def _settle(self, tenant_id: str, settlement: Settlement) -> None:
        handle = workflow.get_external_workflow_handle_for(Dunning.run, dunning_workflow_id(tenant_id))
        try:
            await handle.signal(Dunning.settle, settlement)
        except FailureError:  # no dunning in progress: nothing to settle
            workflow.logger.info("no dunning to settle", extra={"tenant_id": tenant_id})

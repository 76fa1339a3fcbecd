"""Starting the billing workflows (checkout, the customer portal and Stripe events) and asking a tenant's
dunning for its state."""

import asyncio
import uuid

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from orchestrator.billing_portal import BillingPortal
from orchestrator.checkout import Checkout
from orchestrator.dunning import Dunning, dunning_workflow_id
from orchestrator.stripe_event import StripeEvent
from schemas.billing import (
    CheckoutInput,
    CheckoutSession,
    DunningState,
    PortalInput,
    PortalSession,
    StripeEventInput,
)

CHECKOUT_ID_NAMESPACE = uuid.UUID("0b5d2f8e-4c1a-4e67-9f3b-6a2d8c1e7f40")


def checkout_workflow_id(tenant_id: str, idempotency_key: str) -> str:
    return f"checkout-{uuid.uuid5(CHECKOUT_ID_NAMESPACE, f'{tenant_id}/{idempotency_key}')}"


def stripe_event_workflow_id(event_id: str) -> str:
    return f"stripe-event-{event_id}"


async def run_checkout(
    client: Client, params: CheckoutInput, task_queue: str, eager: bool, timeout_s: float
) -> CheckoutSession:
    """The Checkout Session for this idempotency key: created once, the same one for a repeated request
    (a failed attempt may be repeated). Raises WorkflowFailureError, or TimeoutError after `timeout_s`."""
    workflow_id = checkout_workflow_id(params.tenant_id, params.idempotency_key)
    try:
        handle = await client.start_workflow(
            Checkout.run,
            params,
            id=workflow_id,
            task_queue=task_queue,
            request_eager_start=eager,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle_for(Checkout.run, workflow_id)
    return await asyncio.wait_for(handle.result(), timeout_s)


async def open_billing_portal(
    client: Client, params: PortalInput, task_queue: str, eager: bool, timeout_s: float
) -> PortalSession:
    """A customer portal link; raises WorkflowFailureError, or TimeoutError after `timeout_s`."""
    handle = await client.start_workflow(
        BillingPortal.run,
        params,
        id=f"billing-portal-{uuid.uuid4()}",
        task_queue=task_queue,
        request_eager_start=eager,
    )
    return await asyncio.wait_for(handle.result(), timeout_s)


async def start_stripe_event(client: Client, event: StripeEventInput, task_queue: str, eager: bool) -> bool:
    """Starts the event's workflow; False when this event id is running or was applied (a repeated delivery).
    A run that failed or was terminated may be started again: the event row still prevents a second apply."""
    try:
        await client.start_workflow(
            StripeEvent.run,
            event,
            id=stripe_event_workflow_id(event.event_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            request_eager_start=eager,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def dunning_state(client: Client, tenant_id: str) -> DunningState | None:
    """The tenant's latest dunning, running or settled; None when it never had one (or it aged out)."""
    try:
        return await client.get_workflow_handle(dunning_workflow_id(tenant_id)).query(Dunning.state)
    except (RPCError, WorkflowQueryFailedError):
        return None

"""StripeEvent on the real dev server: handing payments to the tenant's Dunning, which may or may not run."""

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowExecutionStatus

from orchestrator.dunning import Dunning, dunning_workflow_id
from orchestrator.stripe_event import StripeEvent
from schemas.billing import (
    DunningInput,
    DunningPolicy,
    EventApplied,
    InvoiceFailed,
    Settlement,
    StripeEventInput,
)
from schemas.tables import BillingAccount, Tenant
from starters.billing import stripe_event_workflow_id
from tests.conftest import until

LONG_GRACE = DunningPolicy(grace_period_s=3600, reminder_interval_s=1800)


def seed_tenant(engine: Engine) -> tuple[str, str]:
    tenant_id, customer = str(uuid.uuid4()), f"cus_{uuid.uuid4().hex[:12]}"
    with Session(engine) as session:
        session.add(Tenant(id=tenant_id, name="Payer", plan="pro"))
        session.flush()
        session.add(BillingAccount(tenant_id=tenant_id, stripe_customer_id=customer))
        session.commit()
    return tenant_id, customer


def new_invoice_id() -> str:
    return f"in_{uuid.uuid4().hex[:14]}"


async def apply(client: Client, queue: str, kind: str, customer: str, invoice_id: str) -> EventApplied:
    event = StripeEventInput(
        event_id=f"evt_{uuid.uuid4().hex}",
        type=kind,
        created=datetime.now(UTC),
        customer_id=customer,
        invoice_id=invoice_id,
        amount=2900,
        currency="eur",
        dunning=LONG_GRACE,
    )
    handle = await client.start_workflow(
        StripeEvent.run, event, id=stripe_event_workflow_id(event.event_id), task_queue=queue
    )
    return await asyncio.wait_for(handle.result(), 15)


async def test_a_payment_without_dunning_in_progress_settles_nothing_and_completes(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    _tenant_id, customer = seed_tenant(engine)

    applied = await apply(client, worker_queue, "invoice.paid", customer, new_invoice_id())

    assert (applied.outcome, applied.dunning) == ("applied", "settle")


async def test_a_second_failed_invoice_joins_the_running_dunning(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    tenant_id, customer = seed_tenant(engine)
    dunning = client.get_workflow_handle(dunning_workflow_id(tenant_id))

    one, two = new_invoice_id(), new_invoice_id()

    first = await apply(client, worker_queue, "invoice.payment_failed", customer, one)
    second = await apply(client, worker_queue, "invoice.payment_failed", customer, two)
    both = await until(lambda: dunning.query(Dunning.state), lambda s: len(s.outstanding) == 2)
    await apply(client, worker_queue, "invoice.paid", customer, one)
    one_left = await until(lambda: dunning.query(Dunning.state), lambda s: s.outstanding == [two])

    assert first.dunning == second.dunning == "start"
    assert both.outstanding == [one, two] and both.status == "grace"
    assert one_left.settled_by is None
    await dunning.terminate("test over")


async def test_a_failure_reported_after_the_invoice_was_paid_starts_no_dunning(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    _tenant_id, customer = seed_tenant(engine)
    invoice = new_invoice_id()

    await apply(client, worker_queue, "invoice.paid", customer, invoice)
    late_failure = await apply(client, worker_queue, "invoice.payment_failed", customer, invoice)

    assert (late_failure.outcome, late_failure.dunning) == ("applied", None)


async def test_an_invoice_failing_as_dunning_settles_is_dunned_again(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    tenant_id, _customer = seed_tenant(engine)
    first, late = new_invoice_id(), new_invoice_id()
    handle = await client.start_workflow(
        Dunning.run,
        DunningInput(tenant_id=tenant_id, invoice_id=first, policy=LONG_GRACE),
        id=dunning_workflow_id(tenant_id),
        task_queue=worker_queue,
    )

    await handle.signal(Dunning.settle, Settlement(invoice_id=first, reason="paid"))
    await handle.signal(Dunning.payment_failed, InvoiceFailed(invoice_id=late))
    again = await until(
        lambda: client.get_workflow_handle(handle.id).query(Dunning.state), lambda s: s.outstanding == [late]
    )

    assert again.status == "grace" and again.settled_by is None
    settled_run = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    assert (await settled_run.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    await client.get_workflow_handle(handle.id).terminate("test over")

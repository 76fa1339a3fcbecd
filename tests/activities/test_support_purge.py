"""A purged tenant's support tickets go with its other personal data: the tickets, their messages and the
customers' addresses; a public contact's ticket stays."""

import uuid

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.tenants_store import TenantStoreActivities
from schemas.tables import SupportMessage, SupportTicket, Tenant
from schemas.tenants import StatusRecord
from tests.activities.test_billing_store import NoSchedules


def ticket(tenant_id: str | None) -> SupportTicket:
    return SupportTicket(tenant_id=tenant_id, origin="app" if tenant_id else "contact", subject="Help",
                         body="My address is dana@leaving.example", requester_email="dana@leaving.example",
                         reply_token=uuid.uuid4().hex)  # fmt: skip


async def test_purging_a_tenant_erases_its_support_tickets_and_their_messages(engine: Engine) -> None:
    tenant_id = str(uuid.uuid4())
    with Session(engine, expire_on_commit=False) as session:
        session.add(Tenant(id=tenant_id, name="Leaving Ltd"))
        session.flush()
        mine, contact = ticket(tenant_id), ticket(None)
        session.add_all([mine, contact])
        session.flush()
        reply = SupportMessage(ticket_id=mine.id, author="founder", body="We are on it.")
        session.add(reply)
        session.commit()

    await ActivityEnvironment().run(
        TenantStoreActivities(engine, NoSchedules()).purge_tenant, StatusRecord(tenant_id=tenant_id, status="purged")
    )

    with Session(engine) as session:
        assert session.get(SupportTicket, mine.id) is None
        assert session.get(SupportMessage, reply.id) is None
        assert session.get(SupportTicket, contact.id) is not None

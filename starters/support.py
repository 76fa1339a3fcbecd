"""The caller's side of `SupportTicket` workflows: their ids, starting one per ticket, and a ticket's handle for
its updates (replies, closing, the satisfaction score)."""

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from orchestrator.support_ticket import SupportTicket
from schemas.support import SupportTicketInput, SupportTicketResult


def ticket_workflow_id(ticket_id: str) -> str:
    return f"support-ticket-{ticket_id}"


async def start_ticket(client: Client, params: SupportTicketInput, task_queue: str) -> None:
    """Starts the ticket's workflow and returns at once; starting it twice starts one."""
    await client.start_workflow(
        SupportTicket.run,
        params,
        id=ticket_workflow_id(params.ticket_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


def ticket_handle(client: Client, ticket_id: str) -> WorkflowHandle[SupportTicket, SupportTicketResult]:
    return client.get_workflow_handle_for(SupportTicket.run, ticket_workflow_id(ticket_id))

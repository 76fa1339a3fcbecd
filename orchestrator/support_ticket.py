"""One support ticket, from its triage to the customer's satisfaction score: tier-aware SLA deadlines as durable
timers that escalate to the founders.

The AI triages the ticket (the keyword rules when it cannot); the recorded triage sets the deadlines. Until the
first founder reply (the `reply` update) is due, the workflow waits; when the deadline passes it escalates, then
waits for closing (the `close` update) until the resolution deadline, escalating again if that passes. Closed, it
asks the customer for a score and waits for it (the `rate` update) for `csat_wait_days`, then ends."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.support import SupportActivities
    from orchestrator.brain_calls import ask_brain
    from orchestrator.retries import NOTIFY_RETRY, NOTIFY_TIMEOUT, STORE_RETRY, STORE_TIMEOUT
    from schemas.brain import BrainAnswer
    from schemas.support import (
        CsatNotice,
        Escalation,
        RecordedTriage,
        ReplyNotice,
        SupportTicketInput,
        SupportTicketResult,
        TicketClosing,
        TicketProgress,
        TicketRef,
        TicketStatus,
        TriageOutcome,
    )

# Tickets begun before the founders heard of each new ticket (with its reply address) heard only of escalations.
NEW_TICKET_NOTICE = "support-ticket-new-ticket-notice"


@workflow.defn
class SupportTicket:
    def __init__(self) -> None:
        self._status: TicketStatus = "new"
        self._escalations: list[str] = []
        self._answered = False
        self._closed = False
        self._score: int | None = None

    @workflow.run
    async def run(self, params: SupportTicketInput) -> SupportTicketResult:
        triage = await self._triage(params)
        if self._status == "new":
            self._status = "open"
        if workflow.patched(NEW_TICKET_NOTICE):
            await self._mail(SupportActivities.notify_new_ticket, TicketRef(ticket_id=params.ticket_id))
        if not await self._wait_until(lambda: self._answered or self._closed, triage.deadlines.first_response_due):
            await self._escalate(params, "first_response")
        if not await self._wait_until(lambda: self._closed, triage.deadlines.resolution_due):
            await self._escalate(params, "resolution")
            await workflow.wait_condition(lambda: self._closed)
        await self._mail(SupportActivities.request_rating, TicketRef(ticket_id=params.ticket_id))
        try:
            await workflow.wait_condition(
                lambda: self._score is not None, timeout=timedelta(days=params.csat_wait_days)
            )
        except TimeoutError:
            pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return SupportTicketResult(
            ticket_id=params.ticket_id, status=self._status, escalations=self._escalations, csat_score=self._score
        )

    async def _triage(self, params: SupportTicketInput) -> RecordedTriage:
        ask = await workflow.execute_activity_method(
            SupportActivities.triage_ask,
            params,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        answer = await ask_brain(ask)
        opened_at = workflow.info().start_time
        if isinstance(answer, BrainAnswer):
            outcome = TriageOutcome(
                ticket_id=params.ticket_id, opened_at=opened_at, answer=answer.data, credits=answer.credits
            )
        else:
            outcome = TriageOutcome(ticket_id=params.ticket_id, opened_at=opened_at, fallback_reason=answer)
        return await workflow.execute_activity_method(
            SupportActivities.record_triage, outcome, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )

    async def _wait_until(self, done: Callable[[], bool], due: datetime) -> bool:
        """Whether `done` came true before `due` (a durable timer)."""
        left = due - workflow.now()
        if left <= timedelta(0):
            return done()
        try:
            await workflow.wait_condition(done, timeout=left)
        except TimeoutError:
            return done()
        return True

    async def _escalate(self, params: SupportTicketInput, deadline: Literal["first_response", "resolution"]) -> None:
        self._escalations.append(deadline)
        await self._mail(
            SupportActivities.escalate, Escalation(ticket_id=params.ticket_id, deadline=deadline, at=workflow.now())
        )

    async def _mail(self, activity: Any, params: BaseModel) -> None:
        """An e-mailing activity; a mail SMTP refuses for good is logged, and the ticket goes on without it."""
        try:
            await workflow.execute_activity_method(
                activity, params, start_to_close_timeout=NOTIFY_TIMEOUT, retry_policy=NOTIFY_RETRY
            )
        except ActivityError as err:
            workflow.logger.warning("support mail not sent", extra={"activity": activity.__name__, "error": str(err)})

    @workflow.update
    async def reply(self, notice: ReplyNotice) -> TicketProgress:
        """A message stored on the ticket: e-mailed to the customer (a founder's) or to the founders (the
        customer's)."""
        if notice.author == "founder":
            self._answered, self._status = True, "answered"
        else:
            self._status = "open"
        await self._mail(SupportActivities.deliver_message, notice)
        return self.progress()

    @reply.validator
    def _open_for_replies(self, notice: ReplyNotice) -> None:
        if self._closed:
            raise ApplicationError("the ticket is closed", type="TicketClosed")

    @workflow.update
    async def close(self, closing: TicketClosing) -> TicketProgress:
        self._closed, self._status = True, "closed"
        await workflow.execute_activity_method(
            SupportActivities.record_closing, closing, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )
        return self.progress()

    @close.validator
    def _not_closed(self, closing: TicketClosing) -> None:
        if self._closed:
            raise ApplicationError("the ticket is closed already", type="TicketClosed")

    @workflow.update
    def rate(self, notice: CsatNotice) -> TicketProgress:
        self._score = notice.score
        return self.progress()

    @rate.validator
    def _closed_and_unrated(self, notice: CsatNotice) -> None:
        if not self._closed:
            raise ApplicationError("the ticket is not closed yet", type="TicketNotClosed")
        if self._score is not None:
            raise ApplicationError("the ticket was rated already", type="TicketAlreadyRated")

    @workflow.query
    def progress(self) -> TicketProgress:
        return TicketProgress(
            status=self._status,
            escalations=list(self._escalations),
            first_response=self._answered,
            rated=self._score is not None,
        )

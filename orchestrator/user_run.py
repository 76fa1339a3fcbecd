"""Runs one version of a tenant's workflow definition, step by step.

Pure steps (`log`, `condition`, `transform`) are evaluated inline. A short safe HTTP call (GET, HEAD,
OPTIONS) first tries one attempt as a local activity within LOCAL_HTTP_BUDGET and, when that attempt
times out or fails retryably, goes on as a regular activity with the rest of the step's attempts; a local
activity holds the workflow task, and with it every query, update answer and cancellation, so it gets
no longer than that. Everything else with a side effect is a regular activity. Approval gates wait for the
`decide_step` update (validated: the gate must be waiting and the caller must hold the role), and
`progress` answers with every step's outcome. The run ends completed, rejected (a gate said no),
failed (a step failed for good; the workflow fails), cancelled (with the reason it was given), or refused:
a schedule's run is admitted by the run itself, as its first step, and one admission turns away ends
before any step, counted nowhere. However it ends, it leaves its record where it can be read without
replaying it: in its result, in its failure's details, or (cancelled) in its memo.
"""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError, RetryState
from temporalio.exceptions import TimeoutError as TemporalTimeoutError
from temporalio.workflow import ActivityHandle

with workflow.unsafe.imports_passed_through():
    from activities.ai import AiActivities
    from activities.approval_notices import ApprovalNoticeActivities
    from activities.email import EmailActivities
    from activities.http import HttpActivities
    from activities.runs_store import RunStoreActivities
    from activities.usage import UsageActivities
    from language.expressions import (
        ExpressionError,
        SecretPlaceholders,
        evaluate,
        render,
        render_value,
        secret_references,
    )
    from language.purpose import CAMPAIGN_REVIEW_ID, is_outbound
    from language.steps import (
        END,
        AiStep,
        AiTextFallback,
        ApprovalStep,
        ConditionStep,
        DelayStep,
        EmailStep,
        HttpStep,
        LogStep,
        Step,
        TransformStep,
        WorkflowDefinition,
    )
    from orchestrator.retries import NON_RETRYABLE_TYPES, STORE_TIMEOUT, retry_for
    from orchestrator.search_attributes import RUN_STATUS
    from rules.admission import CALLER_ADMITTED, uses_ai
    from rules.launch import email_line, email_preview, governed, held_back, http_line, http_preview, review_message
    from rules.usage import ADMITTED_TRIGGERS
    from schemas.runs import (
        CLOSED_RUN_MEMO,
        RUN_WORKFLOW_PREFIX,
        AiPrompt,
        AiReply,
        ApprovalNotice,
        ApprovalNoticeSent,
        EmailMessage,
        FailureReport,
        HttpCall,
        HttpReply,
        PendingApproval,
        Refusal,
        RetryDefaults,
        RunInput,
        RunProgress,
        RunResult,
        RunStatus,
        ScheduledAdmission,
        StepDecision,
        StepError,
        StepOutcome,
        StepStatus,
    )
    from schemas.usage import UsageRecord

# HTTP calls up to this timeout may start as local activities (no extra history events); longer ones heartbeat.
LOCAL_HTTP_MAX_TIMEOUT = timedelta(seconds=30)
# How long the local first attempt of a safe HTTP call may wait for its answer, as the activity measures it
# once it runs, before the call goes on as a regular activity: that long it holds the workflow task, and with
# it queries, update answers and cancellation. The workflow's own bound on the attempt is looser, so a busy
# worker (the activity starting late, its completion arriving late) does not push quick calls off the fast
# path: with 250 ms as the workflow's bound, bench.throughput's bursts on a loaded machine fell back often.
LOCAL_HTTP_BUDGET = timedelta(milliseconds=250)
LOCAL_HTTP_BOUND = timedelta(seconds=2)
# Methods whose repetition does no harm: only these get a local first attempt, which may be cut off
# after the request was sent and so be sent again by the regular attempt that follows.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Since this patch an HTTP call is a local activity only for one budgeted attempt of a safe method; it goes
# on as a regular activity after that, and unsafe methods are regular activities from the start.
HTTP_LOCAL_BUDGET_PATCH = "http-local-budget"
# Since this patch a cancelled run leaves its record in its memo (a failed one in its failure's details, a
# finished one in its result), so a closed run is read without a query, which would replay it.
CLOSED_RECORD_PATCH = "closed-run-record"
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
EMAIL_STEP_TIMEOUT = timedelta(seconds=60)
AI_STEP_TIMEOUT = timedelta(seconds=120)
RECORD_FAILURE_PATCH = "record-failure-in-queue"
COUNT_RUN_PATCH = "count-unadmitted-run"
# Since this patch every run is admitted and counted once before its first step: by its caller (API, webhook,
# re-drives) or, for a schedule's run, by the run's own admission check; none counts itself at the end.
ADMIT_RUN_PATCH = "admit-every-run"
# Not STORE_RETRY: a run's failure record and its count must not be lost to a database outage, yet the
# run must end some day: attempts spread out to 5 minutes apart, for at most a day.
RECORD_GIVE_UP = timedelta(days=1)
RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))
DECIDERS = {"B": ("tenant_admin", "founder"), "C": ("founder",)}
# Since this patch a class B or C gate that starts waiting e-mails its approvers (activities/approval_notices.py,
# which looks them up: their addresses never enter the history). The gate does not wait for the notice: it is
# started, not awaited, and a notice that fails for good is given up (the inbox still lists the gate).
APPROVAL_NOTICE_PATCH = "approval-notice"
NOTICE_TIMEOUT = timedelta(seconds=60)
NOTICE_GIVE_UP = timedelta(hours=1)
NOTICE_SETTLE = timedelta(seconds=10)
NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
    non_retryable_error_types=["SmtpRejected", "EmailInvalidRecipient"],
)
# How long a marketing run admitted before launch waits for the founder's campaign review before it goes on as a dry
# run. No patch guards the review: only runs whose input carries `launch_stage` (new ones) can reach it.
CAMPAIGN_REVIEW_TIMEOUT_S = 3 * 24 * 3600
# Ends that Temporal's ExecutionStatus names by itself (Completed, Failed, Canceled).
CLOSING_STATUSES = frozenset({"completed", "failed", "cancelled"})
LOG_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class StepFailed(Exception):
    def __init__(self, error: StepError, attempts: int) -> None:
        super().__init__(error.message)
        self.error, self.attempts = error, attempts


# Not sandboxed: the sandbox re-imported and proxied modules for every run, the largest share of the API
# process's CPU per run (bench.throughput). Determinism is guarded by the replay tests and by
# tests/orchestrator/test_determinism.py: nothing this module runs reads a clock or randomness or does I/O.
@workflow.defn(sandboxed=False)
class UserWorkflowRun:
    @workflow.init
    def __init__(self, params: RunInput) -> None:
        if not params.run_id:  # a schedule's runs share one input; each has its own workflow id
            run_id = workflow.info().workflow_id.removeprefix(RUN_WORKFLOW_PREFIX)
            params = params.model_copy(update={"run_id": run_id})
        self._params = params
        self._definition = WorkflowDefinition.model_validate(params.definition)
        self._status: RunStatus = "running"
        self._current: str | None = None
        self._waiting: PendingApproval | None = None
        self._outcomes: list[StepOutcome] = []
        self._results: dict[str, Any] = {}
        self._vars: dict[str, Any] = {}
        self._decisions: dict[str, StepDecision] = {}
        self._error: StepError | None = None
        self._counted = False
        self._stage = params.launch_stage
        # Before launch, a marketing run's campaign: None until its review, then sent for real or run dry.
        self._campaign: Literal["send", "dry"] | None = None
        # A gate was decided in the workflow task now running: its update's answer leaves with that task.
        self._answer_pending = False

    @workflow.run
    async def run(self, params: RunInput) -> RunResult:
        try:
            refusal = await self._admit()
            if refusal is not None:
                return self._refuse(refusal)
            await self._walk()
        except StepFailed as failure:
            self._error = failure.error
            self._set_status("failed")
            if workflow.patched(RECORD_FAILURE_PATCH):
                await self._record_failure(failure)
            await self._count_unadmitted_run()
            raise ApplicationError(
                f"step {self._current} failed: {failure.error.message}",
                failure.error.model_dump(),
                self._record().model_dump(mode="json"),
                type="StepFailed",
                non_retryable=True,
            ) from None
        except asyncio.CancelledError:
            reason = workflow.cancellation_reason()
            self._error = StepError(
                type="Cancelled", message=f"run was cancelled: {reason}" if reason else "run was cancelled"
            )
            self._mark_current("cancelled", self._error)
            self._set_status("cancelled")
            if workflow.patched(CLOSED_RECORD_PATCH):
                workflow.upsert_memo({CLOSED_RUN_MEMO: self._record().model_dump(mode="json")})
            raise
        if self._status == "running":
            self._set_status("completed")
        self._current = None
        await self._count_unadmitted_run()
        return self._result()

    async def _walk(self) -> None:
        steps = self._definition.steps
        index = {step.id: position for position, step in enumerate(steps)}
        reusable = _reusable(self._params)
        position: int | None = 0
        while position is not None and self._status == "running":
            step = steps[position]
            self._current = step.id
            if step.id in reusable:
                target = self._reuse(step, reusable[step.id])
            else:
                if self._campaign is None and is_outbound(step) and self._governed():
                    await self._review_campaign(position)
                    self._current = step.id
                outcome = StepOutcome(step_id=step.id, type=step.type, status="running", started_at=workflow.now())
                self._outcomes.append(outcome)
                target = await self._execute(step, outcome)
                if not isinstance(step, LogStep | ConditionStep | TransformStep | ApprovalStep) and (
                    outcome.status != "dry_run"
                ):
                    self._answer_pending = False  # the step waited: the task that carried the answer has ended
                outcome.finished_at = workflow.now()
                self._results[step.id] = outcome.result
            if target is None:
                target = step.next if step.next else (steps[position + 1].id if position + 1 < len(steps) else END)
            position = None if target == END else index[target]

    def _reuse(self, step: Step, prior: StepOutcome) -> str | None:
        """Takes a finished step's outcome from the run being re-driven instead of running it again."""
        assert self._params.resume is not None  # only a re-driven run reuses outcomes
        self._outcomes.append(prior.model_copy(update={"reused_from": self._params.resume.from_run_id}))
        self._results[step.id] = prior.result
        if isinstance(step, TransformStep):
            self._vars.update(prior.result or {})
        if isinstance(step, ConditionStep):
            return step.then if (prior.result or {}).get("value") else step.else_
        return None

    async def _record_failure(self, failure: StepFailed) -> None:
        params, outcome = self._params, self._outcomes[-1]
        report = FailureReport(
            tenant_id=params.tenant_id,
            run_id=params.run_id,
            definition_id=params.definition_id,
            version=params.version,
            step_id=outcome.step_id,
            error=failure.error,
            attempts=failure.attempts,
            first_failed_at=outcome.started_at or workflow.now(),
            last_failed_at=outcome.finished_at or workflow.now(),
        )
        await workflow.execute_activity_method(
            RunStoreActivities.record_failure,
            report,
            start_to_close_timeout=STORE_TIMEOUT,
            schedule_to_close_timeout=RECORD_GIVE_UP,
            retry_policy=RECORD_RETRY,
        )

    async def _admit(self) -> Refusal | None:
        """A schedule's run passes the same admission as an API start, as a local activity (no extra round
        trip to the server) that also counts it; the refusal when the tenant may not run now. Runs that
        started before ADMIT_RUN_PATCH were not admitted and count themselves at the end."""
        params = self._params
        if params.trigger in ADMITTED_TRIGGERS:  # the API admitted and counted it: no patch marker on the hot path
            return None
        if not workflow.patched(ADMIT_RUN_PATCH):
            return None
        self._counted = True
        if params.trigger in CALLER_ADMITTED:
            return None
        decision = await workflow.execute_local_activity_method(
            UsageActivities.admit_scheduled_run,
            ScheduledAdmission(
                tenant_id=params.tenant_id,
                run_id=params.run_id,
                workflow_id=workflow.info().workflow_id,
                uses_ai=uses_ai(self._definition),
            ),
            start_to_close_timeout=STORE_TIMEOUT,
            schedule_to_close_timeout=RECORD_GIVE_UP,
            retry_policy=RECORD_RETRY,
        )
        self._stage = decision.launch_stage
        return decision.refusal

    def _refuse(self, refusal: Refusal) -> RunResult:
        """Ends the run before its first step: no usage, no failure-queue entry."""
        self._error = StepError(type=refusal.code, message=refusal.message)
        self._set_status("refused")
        return self._result()

    async def _count_unadmitted_run(self) -> None:
        """Counts the start of a run that began before ADMIT_RUN_PATCH and that the API did not admit (and
        count): schedules, re-drives. A local activity. Steps and AI credits are metered by the worker."""
        params = self._params
        if self._counted or params.trigger in ADMITTED_TRIGGERS or not workflow.patched(COUNT_RUN_PATCH):
            return
        await workflow.execute_local_activity_method(
            UsageActivities.record_usage,
            UsageRecord(tenant_id=params.tenant_id, run_id=params.run_id, runs=1),
            start_to_close_timeout=STORE_TIMEOUT,
            schedule_to_close_timeout=RECORD_GIVE_UP,
            retry_policy=RECORD_RETRY,
        )

    async def _execute(self, step: Step, outcome: StepOutcome) -> str | None:
        """Runs one step, fills its outcome, and names the next step when the step chooses it."""
        try:
            return await self._dispatch(step, outcome)
        except ExpressionError as err:
            # ExpressionError, or ExpressionTooExpensive over the sandbox's bounds: neither heals by retrying.
            failure = StepFailed(StepError(type=type(err).__name__, message=str(err)), 1)
        except (ActivityError, ApplicationError, TemporalTimeoutError) as err:
            # Regular activities fail with ActivityError; local ones with the activity's own error.
            if _cancelled(err):
                raise asyncio.CancelledError() from err
            failure = StepFailed(*_activity_failure(err, _max_attempts(step, self._params.retry_defaults)))
        except StepFailed as err:
            failure = err
        outcome.status, outcome.error, outcome.attempts = "failed", failure.error, failure.attempts
        outcome.finished_at = workflow.now()
        raise failure

    async def _dispatch(self, step: Step, outcome: StepOutcome) -> str | None:
        scope = self._scope()
        match step:
            case LogStep():
                message = render(step.message, scope)
                workflow.logger.log(LOG_LEVELS[step.level], message, extra={"step_id": step.id})
                self._succeed(outcome, {"message": message})
            case ConditionStep():
                value = bool(evaluate(step.expression, scope))
                self._succeed(outcome, {"value": value})
                return step.then if value else step.else_
            case TransformStep():
                values = {name: evaluate(expression, scope) for name, expression in step.set.items()}
                self._vars.update(values)
                self._succeed(outcome, values)
            case DelayStep():
                outcome.status = "waiting"
                await workflow.sleep(timedelta(seconds=step.seconds))
                self._succeed(outcome, {"seconds": step.seconds})
            case HttpStep():
                call = self._http_call(step, scope)
                if self._runs_dry(step):
                    self._hold_back(outcome, http_preview(call))
                    return None
                reply = await self._call_http(step, call, outcome)
                self._succeed(outcome, reply.model_dump(exclude={"attempt"}), reply.attempt)
            case EmailStep():
                mail = self._email_message(step, scope)
                if self._runs_dry(step):
                    self._hold_back(outcome, email_preview(mail))
                    return None
                receipt = await self._send_email(step, mail)
                self._succeed(outcome, receipt.model_dump(exclude={"attempt"}), receipt.attempt)
            case AiStep():
                result, attempts = await self._ask_ai(step, scope)
                self._succeed(outcome, result, attempts)
            case ApprovalStep():
                await self._await_decision(step, outcome, render(step.message, scope))
        return None

    def _http_call(self, step: HttpStep, scope: dict[str, Any]) -> HttpCall:
        # The activity fills in only placeholders carrying this call's fresh marker, for the names the
        # templates name: text from input or a response that looks like a placeholder stays text.
        names = secret_references([step.url, step.headers, step.json_body, step.body])
        marker = workflow.uuid4().hex if names else None
        scope = {**scope, "secrets": SecretPlaceholders(marker or "", names)}
        return HttpCall(
            tenant_id=self._params.tenant_id,
            secret_marker=marker,
            secret_names=sorted(names),
            method=step.method,
            url=render(step.url, scope),
            headers={name: render(value, scope) for name, value in step.headers.items()},
            json_body=render_value(step.json_body, scope),
            body=render(step.body, scope) if step.body is not None else None,
            timeout_s=step.timeout_s,
            expected_status=step.expected_status,
            save_response=step.save_response,
            idempotency_key=self._idempotency_key(step.id),
        )

    async def _call_http(self, step: HttpStep, call: HttpCall, outcome: StepOutcome) -> HttpReply:
        policy = retry_for(step.retry, self._params.retry_defaults)
        timeout = timedelta(seconds=step.timeout_s + 5)
        if timedelta(seconds=step.timeout_s) > LOCAL_HTTP_MAX_TIMEOUT:
            return await self._http_activity(call, timeout, policy)
        # A gate's answer leaves with the workflow task, which a local activity would hold; a step allowed
        # one attempt sends one request. The patch marker is recorded only off the fast path.
        local_first = call.method.upper() in SAFE_METHODS and not self._answer_pending and policy.maximum_attempts != 1
        if not local_first and workflow.patched(HTTP_LOCAL_BUDGET_PATCH):
            return await self._http_activity(call, timeout, policy)
        if not local_first:  # a run that began before the patch
            return await workflow.execute_local_activity_method(
                HttpActivities.call, call, start_to_close_timeout=timeout, retry_policy=policy
            )
        budgeted = call.model_copy(update={"answer_budget_s": LOCAL_HTTP_BUDGET.total_seconds()})
        try:
            return await workflow.execute_local_activity_method(
                HttpActivities.call,
                budgeted,
                start_to_close_timeout=LOCAL_HTTP_BOUND,
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except (ActivityError, ApplicationError, TemporalTimeoutError) as err:
            # Before the patch the local activity had the step's whole policy: its failure was final.
            if _cancelled(err) or not _retryable(err) or not workflow.patched(HTTP_LOCAL_BUDGET_PATCH):
                raise
            outcome.attempts = 1
            if not _cut_off(err):
                outcome.error = _activity_failure(err, 1)[0]  # a cut-off attempt is no error of the target
            return await self._http_after_local(call, timeout, policy, err)

    async def _http_after_local(
        self, call: HttpCall, timeout: timedelta, policy: RetryPolicy, local_failure: FailureError
    ) -> HttpReply:
        """The rest of a call whose local first attempt did not answer: a regular activity with the step's
        remaining attempts and backoff, after the policy's first interval when that attempt failed (a
        timeout means the target is slow, not failing: the next attempt starts at once)."""
        if not _cut_off(local_failure):
            first = local_failure.cause if isinstance(local_failure, ActivityError) else local_failure
            delay = first.next_retry_delay if isinstance(first, ApplicationError) else None
            await workflow.sleep(delay or policy.initial_interval)
        remaining = policy.maximum_attempts - 1 if policy.maximum_attempts else 0
        later = timedelta(seconds=policy.initial_interval.total_seconds() * policy.backoff_coefficient)
        rest = RetryPolicy(
            initial_interval=min(later, policy.maximum_interval or later),
            backoff_coefficient=policy.backoff_coefficient,
            maximum_interval=policy.maximum_interval,
            maximum_attempts=remaining,
            non_retryable_error_types=policy.non_retryable_error_types,
        )
        try:
            reply = await self._http_activity(call, timeout, rest)
        except (ActivityError, ApplicationError, TemporalTimeoutError) as err:
            if _cancelled(err):
                raise
            error, attempts = _activity_failure(err, remaining)
            raise StepFailed(error, attempts + 1) from None
        return reply.model_copy(update={"attempt": reply.attempt + 1})

    async def _http_activity(self, call: HttpCall, timeout: timedelta, policy: RetryPolicy) -> HttpReply:
        return await workflow.execute_activity_method(
            HttpActivities.call,
            call,
            start_to_close_timeout=timeout,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=policy,
        )

    def _email_message(self, step: EmailStep, scope: dict[str, Any]) -> EmailMessage:
        return EmailMessage(
            tenant_id=self._params.tenant_id,
            to=[render(address, scope) for address in step.to],
            subject=render(step.subject, scope),
            body=render(step.body, scope),
            idempotency_key=self._idempotency_key(step.id),
        )

    async def _send_email(self, step: EmailStep, message: EmailMessage) -> Any:
        return await workflow.execute_activity_method(
            EmailActivities.send_email,
            message,
            start_to_close_timeout=EMAIL_STEP_TIMEOUT,
            retry_policy=retry_for(step.retry, self._params.retry_defaults),
        )

    async def _ask_ai(self, step: AiStep, scope: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """The step's result and attempts. Only a step with a `fallback` catches the call's final failure (steps
        without one keep the command sequence runs recorded before fallbacks existed): a text fallback answers
        its text, a model fallback asks that model with the step's retry policy once more."""
        prompt = AiPrompt(
            tenant_id=self._params.tenant_id,
            prompt=render(step.prompt, scope),
            model=step.model,
            max_tokens=step.max_tokens,
            idempotency_key=self._idempotency_key(step.id),
        )
        if step.fallback is None:
            reply = await self._complete(step, prompt)
            return reply.model_dump(exclude={"attempt"}), reply.attempt
        try:
            reply = await self._complete(step, prompt)
            return reply.model_dump(exclude={"attempt"}), reply.attempt
        except ActivityError as err:
            if _cancelled(err):
                raise
            error, attempts = _activity_failure(err, _max_attempts(step, self._params.retry_defaults))
        fell_back = {"fallback": True, "fallback_error": error.type}
        if isinstance(step.fallback, AiTextFallback):
            return {"text": step.fallback.text, "model": "fallback", **fell_back}, attempts
        second = prompt.model_copy(
            update={"model": step.fallback.model, "idempotency_key": f"{prompt.idempotency_key}:fallback"}
        )
        try:
            reply = await self._complete(step, second)
        except ActivityError as err:
            if _cancelled(err):
                raise
            again, more = _activity_failure(err, _max_attempts(step, self._params.retry_defaults))
            raise StepFailed(again, attempts + more) from None
        return {**reply.model_dump(exclude={"attempt"}), **fell_back}, attempts + reply.attempt

    async def _complete(self, step: AiStep, prompt: AiPrompt) -> AiReply:
        return await workflow.execute_activity_method(
            AiActivities.complete,
            prompt,
            start_to_close_timeout=AI_STEP_TIMEOUT,
            retry_policy=retry_for(step.retry, self._params.retry_defaults),
        )

    def _governed(self) -> bool:
        return governed(self._definition.purpose, self._stage)

    def _runs_dry(self, step: Step) -> bool:
        """Whether an outbound step of a marketing run admitted before launch sends nothing: its campaign was not
        approved (rejected, or the review expired)."""
        return self._campaign != "send" and is_outbound(step) and self._governed()

    def _hold_back(self, outcome: StepOutcome, preview: dict[str, Any]) -> None:
        outcome.status, outcome.result, outcome.attempts, outcome.error = "dry_run", held_back(preview), 0, None

    async def _review_campaign(self, position: int) -> None:
        """Before a marketing run admitted before launch sends anything, a class C gate asks the founder to review
        what it may send (its outbound steps from here, rendered as far as they can be now). Approved, the run sends
        for real; rejected or expired, it goes on as a dry run. Either way the run goes on."""
        scope = self._scope()
        lines = [self._review_line(step, scope) for step in self._definition.steps[position:] if is_outbound(step)]
        gate = ApprovalStep(
            id=CAMPAIGN_REVIEW_ID,
            approval_class="C",
            message="campaign review",
            timeout_s=CAMPAIGN_REVIEW_TIMEOUT_S,
            on_timeout="reject",
        )
        self._current = gate.id
        outcome = StepOutcome(step_id=gate.id, type=gate.type, status="running", started_at=workflow.now())
        self._outcomes.append(outcome)
        await self._await_decision(gate, outcome, review_message(lines), ends_run=False)
        outcome.finished_at = workflow.now()
        self._campaign = "send" if self._decisions[gate.id].approved else "dry"

    def _review_line(self, step: Step, scope: dict[str, Any]) -> Any:
        """One outbound step as the review lists it: rendered with what the run knows now, or as written when its
        templates read what is not known yet."""
        if isinstance(step, EmailStep):
            try:
                return email_line(step.id, self._email_message(step, scope))
            except ExpressionError:
                return email_line(step.id, EmailMessage(to=step.to, subject=step.subject, body="", idempotency_key=""))
        assert isinstance(step, HttpStep)  # is_outbound: e-mail or HTTP
        try:
            call = HttpCall(
                method=step.method,
                url=render(step.url, self._review_scope(step, scope)),
                timeout_s=0,
                idempotency_key="",
            )
        except ExpressionError:
            call = HttpCall(method=step.method, url=step.url, timeout_s=0, idempotency_key="")
        return http_line(step.id, call)

    def _review_scope(self, step: HttpStep, scope: dict[str, Any]) -> dict[str, Any]:
        """The scope a step's URL is rendered in for the review: secrets as placeholders (masked in the message)."""
        return {**scope, "secrets": SecretPlaceholders("0" * 32, secret_references([step.url]))}

    async def _await_decision(
        self, step: ApprovalStep, outcome: StepOutcome, message: str, ends_run: bool = True
    ) -> None:
        if step.approval_class == "A":
            self._decide(outcome, StepDecision(step_id=step.id, approved=True, decided_by="auto", role="founder"))
            return
        requested = workflow.now()
        self._waiting = PendingApproval(
            step_id=step.id,
            approval_class=step.approval_class,
            message=message,
            requested_at=requested,
            expires_at=requested + timedelta(seconds=step.timeout_s),
            on_timeout=step.on_timeout,
        )
        outcome.status = "waiting"
        self._set_status("waiting_approval")
        notice = self._notify_approvers(self._waiting) if workflow.patched(APPROVAL_NOTICE_PATCH) else None
        try:
            await workflow.wait_condition(lambda: step.id in self._decisions, timeout=timedelta(seconds=step.timeout_s))
        except TimeoutError:
            self._on_timeout(step)
        finally:
            self._waiting = None
        if self._status == "waiting_approval":
            self._set_status("running")
        decision = self._decisions[step.id]
        self._answer_pending = decision.decided_by != "timeout"
        if self._answer_pending and notice is not None and not notice.done():
            await self._let_notice_land(notice)
        self._decide(outcome, decision, ends_run)

    def _notify_approvers(self, gate: PendingApproval) -> ActivityHandle[ApprovalNoticeSent]:
        """Starts the e-mail to the gate's approvers; the gate waits for its decision meanwhile, and the notice's
        outcome is read by no one."""
        params = self._params
        notice = ApprovalNotice(
            tenant_id=params.tenant_id,
            run_id=params.run_id,
            definition_id=params.definition_id,
            version=params.version,
            step_id=gate.step_id,
            approval_class=gate.approval_class,
            message=gate.message,
            expires_at=gate.expires_at,
        )
        sending = workflow.start_activity_method(
            ApprovalNoticeActivities.notify_approvers,
            notice,
            start_to_close_timeout=NOTICE_TIMEOUT,
            schedule_to_close_timeout=NOTICE_GIVE_UP,
            retry_policy=NOTICE_RETRY,
        )
        sending.add_done_callback(_forget)
        return sending

    async def _let_notice_land(self, notice: ActivityHandle[ApprovalNoticeSent]) -> None:
        """Waits (at most NOTICE_SETTLE) for a notice still out when its gate was decided. Otherwise a run that ends
        in the workflow task carrying the decision could see that task refused by the server, and the decision's
        update aborted (WorkflowNotReady), when the notice's result arrives during the task (an unhandled event);
        waiting ends that task with a timer instead. The decision's answer leaves with it."""
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(notice.done, timeout=NOTICE_SETTLE)
        self._answer_pending = False

    def _on_timeout(self, step: ApprovalStep) -> None:
        if step.on_timeout == "fail":
            raise StepFailed(StepError(type="ApprovalExpired", message=f"approval of {step.id} expired"), 1)
        approved = step.on_timeout == "approve"
        self._decisions[step.id] = StepDecision(
            step_id=step.id,
            approved=approved,
            decided_by="timeout",
            role="founder",
            comment=f"no decision within {step.timeout_s:g} s",
        )

    def _decide(self, outcome: StepOutcome, decision: StepDecision, ends_run: bool = True) -> None:
        outcome.status = "approved" if decision.approved else "rejected"
        outcome.attempts = 1
        outcome.result = {"approved": decision.approved, "decided_by": decision.decided_by, "comment": decision.comment}
        if not decision.approved and ends_run:
            self._set_status("rejected")

    @workflow.update
    def decide_step(self, decision: StepDecision) -> None:
        self._decisions[decision.step_id] = decision

    @decide_step.validator
    def _gate_is_waiting_for_caller(self, decision: StepDecision) -> None:
        if self._waiting is None or self._waiting.step_id != decision.step_id:
            raise ApplicationError(f"step {decision.step_id} is not waiting for a decision", type="StepNotWaiting")
        if decision.role not in DECIDERS[self._waiting.approval_class]:
            raise ApplicationError(
                f"class {self._waiting.approval_class} gates cannot be decided by a {decision.role}",
                type="RoleNotAllowed",
            )

    @workflow.query
    def progress(self) -> RunProgress:
        return self._record()

    def _record(self) -> RunProgress:
        params = self._params
        return RunProgress(
            run_id=params.run_id,
            tenant_id=params.tenant_id,
            definition_id=params.definition_id,
            version=params.version,
            status=self._status,
            current_step=self._current,
            waiting=self._waiting,
            steps=self._outcomes,
            vars=self._vars,
            error=self._error,
            trigger=params.trigger,
            resumed_from=params.resume.from_run_id if params.resume else None,
            input=params.input,
        )

    def _result(self) -> RunResult:
        record = self._record()
        return RunResult(**record.model_dump(exclude={"waiting"}))

    def _scope(self) -> dict[str, Any]:
        return {"input": self._params.input, "steps": self._results, "vars": self._vars}

    def _idempotency_key(self, step_id: str) -> str:
        return f"{self._params.run_id}:{step_id}"

    def _succeed(self, outcome: StepOutcome, result: Any, attempts: int = 1) -> None:
        outcome.status, outcome.result, outcome.attempts, outcome.error = "succeeded", result, attempts, None

    def _mark_current(self, status: StepStatus, error: StepError) -> None:
        if self._outcomes and self._outcomes[-1].status in ("running", "waiting"):
            self._outcomes[-1].status, self._outcomes[-1].error = status, error
            self._outcomes[-1].finished_at = workflow.now()

    def _set_status(self, status: RunStatus) -> None:
        """The run's status, and RunStatus in visibility where Temporal's ExecutionStatus does not already
        say it: a run that ends completed, failed or cancelled keeps the RunStatus it had (see
        starters/runs.py `effective_status`)."""
        self._status = status
        if status in CLOSING_STATUSES and not self._params.closing_status_upsert:
            return
        workflow.upsert_search_attributes([RUN_STATUS.value_set(status)])


def _forget(task: "asyncio.Task[Any]") -> None:
    """Reads a finished notice's failure, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


def _reusable(params: RunInput) -> dict[str, StepOutcome]:
    """The outcomes a re-driven run takes over: every step of the failed run that finished well."""
    if params.resume is None:
        return {}
    return {o.step_id: o for o in params.resume.outcomes if o.status in ("succeeded", "approved")}


def _max_attempts(step: Step, defaults: RetryDefaults) -> int:
    override = getattr(step, "retry", None)
    return override.max_attempts if override is not None else defaults.max_attempts


def _cancelled(err: FailureError) -> bool:
    return isinstance(err, CancelledError) or isinstance(err.cause, CancelledError)


def _cut_off(err: FailureError) -> bool:
    """Whether a local first attempt ended for want of time (its budget, or the workflow's bound on it)."""
    cause = err.cause if isinstance(err, ActivityError) and isinstance(err.cause, FailureError) else err
    return isinstance(cause, TemporalTimeoutError) or (
        isinstance(cause, ApplicationError) and cause.type == "HttpAnswerBudgetExceeded"
    )


def _retryable(err: FailureError) -> bool:
    """Whether the step's retry policy would try again after this failure of a single attempt."""
    cause = err.cause if isinstance(err, ActivityError) and isinstance(err.cause, FailureError) else err
    if isinstance(cause, ApplicationError):
        return not cause.non_retryable and cause.type not in NON_RETRYABLE_TYPES
    return isinstance(cause, TemporalTimeoutError)


def _activity_failure(err: FailureError, max_attempts: int) -> tuple[StepError, int]:
    """The error type, message and attempt count an activity reported when it gave up."""
    exhausted = 1
    if isinstance(err, ActivityError):
        exhausted = max_attempts if err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED else 1
        err = err.cause if isinstance(err.cause, FailureError) else err
    if isinstance(err, ApplicationError):
        details = err.details[0] if err.details and isinstance(err.details[0], dict) else {}
        return StepError(type=err.type or "ActivityError", message=err.message), int(details.get("attempt", exhausted))
    if isinstance(err, TemporalTimeoutError):
        kind = err.type.name.lower() if err.type else "timeout"
        return StepError(type="Timeout", message=f"step timed out ({kind})"), exhausted
    return StepError(type=type(err).__name__, message=err.message), exhausted

"""What crosses the boundary of `UserWorkflowRun`: its input, messages, query answers and activity calls."""

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.api import StrictBody
from schemas.i18n import Text
from schemas.toggles import LaunchStage

# `refused`: a schedule-fired run that admission turned away before its first step (counted nowhere).
RunStatus = Literal["running", "waiting_approval", "completed", "failed", "rejected", "cancelled", "refused"]
# `dry_run`: an outbound step of a marketing run before launch that sent nothing (its result previews what it would have).
StepStatus = Literal["running", "waiting", "succeeded", "failed", "cancelled", "approved", "rejected", "dry_run"]
DeciderRole = Literal["member", "tenant_admin", "founder"]
# The memo key under which a cancelled run leaves its record (RunProgress as JSON) as it ends: a failed run's
# record is the second detail of its failure, a finished run's is its result.
CLOSED_RUN_MEMO = "closed_run"
# A run's workflow id is this prefix and its run id; the workflow and its callers both read one from the other.
RUN_WORKFLOW_PREFIX = "run-"
# How a rendered HTTP call names a tenant secret: `⟪secret:<marker>:NAME⟫`, where the marker is the call's own
# random `secret_marker`. The workflow never sees the value; the HTTP activity fills in only placeholders that
# carry the call's marker and name one of its `secret_names`, so text from data can never become a secret.
SECRET_PLACEHOLDER = re.compile(r"\u27easecret:([0-9a-f]{32}):([A-Z][A-Z0-9_]{0,63})\u27eb")


class RetryDefaults(BaseModel):
    """The platform's default retry policy for side-effecting steps (from settings)."""

    initial_interval_s: float = 1.0
    max_interval_s: float = 300.0
    max_attempts: int = 5
    backoff: float = 2.0


class RunInput(BaseModel):
    """One run of a definition version. An empty `run_id` (a schedule's runs) is taken from the
    workflow id; `resume` re-drives a failed run from its failed step."""

    run_id: str = ""
    tenant_id: str
    definition_id: str
    version: int
    definition: dict[str, Any]
    """The definition version as stored (JSON); the workflow reads it with the definition language."""
    input: dict[str, Any] = Field(default_factory=dict)
    retry_defaults: RetryDefaults = Field(default_factory=RetryDefaults)
    trigger: Literal["api", "schedule", "webhook", "redrive", "auto_recovery"] = "api"
    resume: "ResumePoint | None" = None
    closing_status_upsert: bool = True
    """Whether the run writes RunStatus as it ends completed, failed or cancelled. Runs started since the
    platform reads those from Temporal's own ExecutionStatus are started with False (one history event and
    one visibility write fewer per run); an older run's input lacks the field and replays the write it made."""
    launch_stage: LaunchStage | None = None
    """The platform's launch stage, read once when the run was admitted; before launch a marketing run's outbound steps
    wait for a founder's campaign review (rules/launch.py). None (runs admitted before there was one, and a schedule's
    runs, which their own admission tells) behaves as after launch."""


class Refusal(BaseModel):
    """Why admission turns a start away: the API answers it as an error, a scheduled run ends `refused`."""

    status: int
    code: str
    message: str
    field: str
    extra: dict[str, Any] = Field(default_factory=dict)
    text: Text | None = None
    """`message` as a catalog text, which the API answers in the reader's language (None in older histories)."""


class ScheduledAdmission(BaseModel):
    """What the admission check of a schedule-fired run needs to decide, from the run itself."""

    tenant_id: str
    run_id: str
    workflow_id: str
    uses_ai: bool


class AdmissionDecision(BaseModel):
    refusal: Refusal | None = None
    launch_stage: LaunchStage | None = None
    """The launch stage at the admission of a schedule's run (None from admissions recorded before there was one)."""


class StepError(BaseModel):
    type: str
    message: str


class StepOutcome(BaseModel):
    step_id: str
    type: str
    status: StepStatus
    attempts: int = 0
    result: Any = None
    error: StepError | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reused_from: str | None = None
    """The run whose result this step reused instead of running again (re-drive)."""
    result_ref: str | None = None
    """Set in the run archive for a result too large to keep inline (`result` is None then): where to read it."""


class ResumePoint(BaseModel):
    """What a re-driven run reuses: the failed run's id and the outcomes of its finished steps."""

    from_run_id: str
    outcomes: list[StepOutcome]


class FailureReport(BaseModel):
    tenant_id: str
    run_id: str
    definition_id: str
    version: int
    step_id: str
    error: StepError
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime


class FailureRecorded(BaseModel):
    failure_id: str
    priority: Literal["normal", "high", "critical"]


class PendingApproval(BaseModel):
    step_id: str
    approval_class: Literal["B", "C"]
    message: str
    requested_at: datetime
    expires_at: datetime
    on_timeout: Literal["reject", "approve", "fail"]


class ApprovalNotice(BaseModel):
    """What the approvers of a gate that started waiting are told. Who they are (and their addresses, which are
    personal data) is looked up by the activity when it sends, so no address enters the run's history."""

    tenant_id: str
    run_id: str
    definition_id: str
    version: int
    step_id: str
    approval_class: Literal["B", "C"]
    message: str
    expires_at: datetime


class ApprovalNoticeSent(BaseModel):
    recipients: int
    message_id: str | None = None


class StepDecision(BaseModel):
    step_id: str
    approved: bool
    decided_by: str
    """Who decided, for people to read: a signed-in user's name and e-mail, an API key's prefix and label,
    `founder` (the founder token), `auto` (class A) or `timeout`. Decisions made before held a key id."""
    role: DeciderRole
    comment: str | None = None


class RunProgress(BaseModel):
    run_id: str
    tenant_id: str
    definition_id: str
    version: int
    status: RunStatus
    current_step: str | None = None
    waiting: PendingApproval | None = None
    steps: list[StepOutcome] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    error: StepError | None = None
    trigger: str = "api"
    resumed_from: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)


class RunResult(BaseModel):
    """What a run returns. Since the run record went into the result, it also carries the rest of what
    `progress` answers for a closed run (no gate waits then), so a closed run is read without replaying
    it; results of runs that closed before have None there."""

    run_id: str
    status: RunStatus
    steps: list[StepOutcome]
    vars: dict[str, Any] = Field(default_factory=dict)
    tenant_id: str | None = None
    definition_id: str | None = None
    version: int | None = None
    current_step: str | None = None
    error: StepError | None = None
    trigger: str | None = None
    resumed_from: str | None = None
    input: dict[str, Any] | None = None

    def record(self) -> RunProgress | None:
        """The closed run's record as `progress` would answer it; None for a result without one."""
        if self.tenant_id is None or self.definition_id is None or self.version is None:
            return None
        return RunProgress(
            **self.model_dump(exclude={"trigger", "input"}),
            trigger=self.trigger or "api",
            input=self.input or {},
        )


class HttpCall(BaseModel):
    """One outbound request. The activity resolves the placeholders the step's templates rendered: those
    with this call's `secret_marker` (fresh per call, drawn by the workflow) naming one of `secret_names`
    (the secrets the step's templates name). Any other placeholder-like text is sent as it is."""

    tenant_id: str | None = None
    secret_marker: str | None = None
    secret_names: list[str] = Field(default_factory=list)
    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = None
    body: str | None = None
    timeout_s: float
    expected_status: list[int] = Field(default_factory=list)
    save_response: bool = True
    idempotency_key: str
    answer_budget_s: float | None = None
    """Set on a local first attempt: how long, once the activity runs, it waits for the answer before it
    gives up (retryably, HttpAnswerBudgetExceeded) so the call can go on as a regular activity."""


class HttpReply(BaseModel):
    status: int
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    truncated: bool = False
    attempt: int = 1


class EmailMessage(BaseModel):
    tenant_id: str | None = None
    to: list[str]
    subject: str
    body: str
    idempotency_key: str
    reply_to: str | None = None
    """A Reply-To address (the support desk's per-ticket reply address); None: replies go to the sender."""


class EmailReceipt(BaseModel):
    message_id: str
    recipients: int
    attempt: int = 1


class AiPrompt(BaseModel):
    tenant_id: str | None = None
    prompt: str
    model: str
    max_tokens: int
    idempotency_key: str


class AiReply(BaseModel):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempt: int = 1


RunInput.model_rebuild()


class RunCreate(StrictBody):
    input: dict[str, Any] = Field(default_factory=dict)


class RunAccepted(BaseModel):
    run_id: str
    workflow_id: str
    definition_id: str
    version: int


class RunSummary(BaseModel):
    run_id: str
    definition_id: str | None
    status: str
    trigger: str
    started_at: datetime | None
    closed_at: datetime | None


class RunPage(BaseModel):
    runs: list[RunSummary]
    next_page_token: str | None = None


class RunPublic(BaseModel):
    run_id: str
    definition_id: str
    version: int
    status: RunStatus
    current_step: str | None
    waiting: PendingApproval | None
    steps: list[StepOutcome]
    vars: dict[str, Any]
    error: StepError | None
    trigger: str
    resumed_from: str | None
    input: dict[str, Any]
    started_at: datetime | None
    closed_at: datetime | None


class StepResultPublic(BaseModel):
    """One step's result, whole: how a result the run archive keeps apart (`result_ref`) is read."""

    run_id: str
    step_id: str
    result: Any


class StepDecisionCreate(StrictBody):
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)


class ApprovalPublic(BaseModel):
    run_id: str
    tenant_id: str
    definition_id: str
    gate: PendingApproval

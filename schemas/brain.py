"""The Brain's shapes: one AI call (what a workflow asks, what the provider answered), and the bodies of the AI
endpoints: drafts, diagnoses and fixes, chat, the knowledge base, onboarding. Every answer says whether the AI
wrote it (`source: "ai"`) or a rule did because the AI could not (`source: "fallback"`, with the reason)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

AiSource = Literal["ai", "fallback"]
FallbackReason = Literal[
    "ai_off",  # the founder switched AI features off
    "not_configured",  # no OPENAI_API_KEY
    "credits_exhausted",  # the tenant's daily or monthly AI credits are used up
    "provider_failed",  # timeouts, 429 and 5xx after the retries, a 4xx the provider refused the request with
    "refused",  # the model refused to answer
    "invalid_answer",  # the answer never passed the checks (a draft still invalid after its repair rounds)
]
BrainPurpose = Literal["draft", "diagnose", "chat", "onboarding", "triage", "suggest"]
MAX_PROMPT_CHARS = 2_000
"""The longest question, sentence or goal a person may send to an AI endpoint."""


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class BrainAsk(BaseModel):
    """One AI call, as a workflow asks for it; the activity bounds, masks, meters and audits it."""

    tenant_id: str | None
    """Whose credits pay for it; None for the platform's own calls (triage of a public contact)."""
    purpose: BrainPurpose
    messages: list[ChatMessage] = Field(min_length=1)
    response_schema: dict[str, Any] | None = None
    """A JSON Schema the answer must follow (structured outputs); None for free text."""
    schema_name: str = "answer"
    model: str | None = None
    """None: the policy's default model."""
    max_tokens: int | None = None
    """None: the policy's bound for `purpose`."""


class BrainAnswer(BaseModel):
    text: str
    data: dict[str, Any] | None = None
    """The structured answer, parsed, when `response_schema` was given."""
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    credits: int = 0


class Sourced(BaseModel):
    """What every AI endpoint's answer carries: who wrote it, why not the AI, what it cost."""

    source: AiSource
    fallback_reason: FallbackReason | None = None
    credits: int = 0
    """AI credits this answer used: AI rounds that came before a fallback count too (0 when no AI call was made)."""


class ReportIssue(BaseModel):
    path: str
    code: str
    message: str
    severity: Literal["error", "warning"]


class DraftReport(BaseModel):
    """The definition validator's report on a draft."""

    valid: bool
    errors: list[ReportIssue] = []
    warnings: list[ReportIssue] = []


class DraftCreate(BaseModel):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    language: str | None = Field(default=None, max_length=35)
    """A language tag for the explanation; None: the reader's language."""


class DraftInput(BaseModel):
    """`WorkflowDraft`'s input (also started as a child by `OnboardingPlan`)."""

    tenant_id: str
    plan: str
    """The tenant's plan: the validator's guardrails depend on it."""
    prompt: str
    language: str
    """The explanation's language tag."""
    fallback_reason: FallbackReason | None = None
    """Set when the caller already knows the AI cannot answer (AI off, no key, credits used up): fallback only."""


class DraftPublic(Sourced):
    definition: dict[str, Any]
    """A definition; it passes the validator when `report.valid`, and is never called valid otherwise."""
    report: DraftReport
    explanation: str
    rounds: int = 0
    """AI rounds it took (a first draft and its repairs, at most 3); 0 for a fallback."""
    template: str | None = None
    """The template a fallback draft started from."""


class FixPublic(BaseModel):
    fix_id: str
    summary: str
    patch: list[dict[str, Any]]
    """A JSON Patch (RFC 6902) against the definition version that ran."""
    definition_id: str
    base_version: int
    report: DraftReport
    """The validator's report on the patched definition."""
    diff: str
    """A unified diff of the definition's JSON, before and after."""
    applied_version: int | None = None
    source: AiSource = "ai"
    """Who proposed it: the AI, or the error category's rules."""
    created_at: datetime | None = None
    applied_at: datetime | None = None
    redriven_run_id: str | None = None


class DiagnosisPublic(Sourced):
    run_id: str
    step_id: str | None
    category: str
    """The error category (as AutoRecovery classifies failures)."""
    cause: str
    explanation: str
    fix: FixPublic | None = None


class FixApply(BaseModel):
    redrive: bool = False
    """Also re-drive the run from the failed step, on the new version."""


class FixApplied(BaseModel):
    fix_id: str
    definition_id: str
    version: int
    redriven_run_id: str | None = None


class DiagnosisCreate(BaseModel):
    language: str | None = Field(default=None, max_length=35)
    """A language tag for the cause and explanation; None: the reader's language."""


class FailureFacts(BaseModel):
    """What a diagnosis knows of a failed or rejected run, masked before it enters a workflow: a secret stays its
    `{{ secrets.NAME }}`, e-mail addresses and credential-looking values are cut."""

    run_id: str
    status: Literal["failed", "rejected"]
    definition_id: str
    version: int
    step_id: str | None
    step_type: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    attempts: int = 0
    http_status: int | None = None
    body_excerpt: str | None = None
    """At most 1 KB of what the target answered, where the run kept it."""
    decided_by: str | None = None
    """Who rejected a gate (`timeout` when nobody decided in time)."""
    definition: dict[str, Any]
    """The version that ran (JSON), masked."""
    input: dict[str, Any] = Field(default_factory=dict)


class DiagnosisInput(BaseModel):
    """`RunDiagnosis`'s input (also started as a child by `AutoRecovery`)."""

    tenant_id: str
    plan: str
    language: str
    facts: FailureFacts
    fallback_reason: FallbackReason | None = None
    """Set when the caller already knows the AI cannot answer: the category's rules only."""
    store_fix: bool = True
    """Keep the proposed fix (table ai_fix) so it can be applied; AutoRecovery's suggestions keep none."""


class DiagnosisRuling(BaseModel):
    """A diagnosis before its fix is checked: the AI's structured answer or the category's rules."""

    category: str
    cause: str
    explanation: str
    summary: str
    patch: list[dict[str, Any]] = Field(default_factory=list)


class FixProposal(BaseModel):
    """A fix to check against the version that ran (and to keep, when `store`)."""

    tenant_id: str
    plan: str
    language: str
    run_id: str
    definition_id: str
    version: int
    summary: str
    patch: list[dict[str, Any]]
    source: AiSource
    store: bool = True


class FixCheck(BaseModel):
    """A checked fix: kept as `fix_id` when it applies and validates, else why not (masked, for a repair round)."""

    fix_id: str | None = None
    valid: bool
    problem: str | None = None


class DiagnosisResult(BaseModel):
    run_id: str
    step_id: str | None
    category: str
    cause: str
    explanation: str
    summary: str = ""
    source: AiSource
    fallback_reason: FallbackReason | None = None
    credits: int = 0
    fix_id: str | None = None
    """The stored fix, when one applied and validated."""
    fix_valid: bool = False
    rounds: int = 0
    """AI rounds (a first answer and at most one repair of its patch); 0 for a fallback."""


class ChatContext(BaseModel):
    """Where the person asks from, so the answer can be about it."""

    page: str | None = Field(default=None, max_length=200)
    workflow_id: str | None = Field(default=None, max_length=64)
    run_id: str | None = Field(default=None, max_length=64)


class ChatCreate(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    context: ChatContext | None = None
    language: str | None = Field(default=None, max_length=35)


class Citation(BaseModel):
    passage_id: str
    source: Literal["readme", "reference", "template"]
    title: str
    url: str
    """Where the whole passage reads, in the web app's knowledge browser."""
    excerpt: str


class ChatPublic(Sourced):
    answer: str
    citations: list[Citation] = []


class KnowledgePassage(BaseModel):
    id: str
    source: Literal["readme", "reference", "template"]
    title: str
    body: str
    url: str


class KnowledgeHits(BaseModel):
    query: str
    passages: list[KnowledgePassage]


class OnboardingCreate(BaseModel):
    goals: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    language: str | None = Field(default=None, max_length=35)


class OnboardingPublic(Sourced):
    plan: list[str]
    """A short plan: what to do first, in order."""
    draft: DraftPublic


class AiInteractionPublic(BaseModel):
    """One AI call as the tenant's audit keeps it (masked, for as long as the tenant's retention allows)."""

    id: str
    purpose: BrainPurpose
    source: AiSource
    model: str | None
    credits: int
    created_at: datetime
    outcome: str = "answered"
    """answered, refused, invalid_answer, failed (the provider), credits_exhausted or model_not_allowed."""


class WorkflowTemplate(BaseModel):
    """A ready workflow for a common use case (the template library in the definition language's package): what the
    fallback drafter starts from, what the knowledge base cites and what the editor offers."""

    id: str
    title: str
    description: str
    use_case: str
    keywords: list[str]
    definition: dict[str, Any]


SuggestionKind = Literal["retry_step", "guard_with_approval", "name_a_fallback", "describe_the_input"]


class WorkflowSuggestion(BaseModel):
    """One improvement the rules (rules/workflow_suggestions.py) see in a workflow's latest version."""

    kind: SuggestionKind
    step_id: str | None
    """The step it concerns; None for the workflow's own fields."""
    field: str
    """The field to change: the step's (`retry`, `fallback`) or the workflow's (`input_schema`)."""
    failures: int = 0
    """How often this step failed for good lately (the failure queue), for "retry this step"."""


class AiCreditStatus(BaseModel):
    """A tenant's AI credits: used today (UTC) and this month against its plan's caps (None: unlimited)."""

    tenant_id: str
    plan: str
    day: str
    daily_used: int
    daily_cap: int | None
    period: str
    monthly_used: int
    monthly_cap: int | None
    paused: bool
    """The cost autopilot paused the tenant's AI (Tenant.ai_paused)."""
    exhausted: bool
    """No AI call is made for the tenant now: a cap is reached or its AI is paused."""


class HelpChatInput(BaseModel):
    """`HelpChat`'s input: the question, where it was asked from, and the answer's language tag."""

    tenant_id: str
    question: str
    context: ChatContext | None = None
    language: str
    fallback_reason: FallbackReason | None = None
    """Set when the caller already knows the AI cannot answer (AI off, no key): the search results only."""


class KnowledgeQuery(BaseModel):
    query: str
    limit: int = 5


class RetrievedPassage(BaseModel):
    """A passage the search found: its citation (with an excerpt) and the text the AI reads."""

    citation: Citation
    body: str


class KnowledgeFound(BaseModel):
    passages: list[RetrievedPassage]


class TenantContextAsk(BaseModel):
    tenant_id: str
    question: str
    context: ChatContext | None = None


class TenantContext(BaseModel):
    """What the help chat may tell the AI about the tenant's own workflows and runs: names, step ids and types,
    statuses and error kinds; never input values, secrets or e-mail addresses."""

    facts: list[str] = []


class ChatFallbackAsk(BaseModel):
    reason: FallbackReason
    language: str
    citations: list[Citation]


class OnboardingInput(BaseModel):
    """`OnboardingPlan`'s input."""

    tenant_id: str
    tenant_plan: str
    goals: str
    language: str
    fallback_reason: FallbackReason | None = None


class OnboardingFallbackAsk(BaseModel):
    goals: str
    language: str


class OnboardingSteps(BaseModel):
    """A plan and the sentence its first workflow is drafted from."""

    plan: list[str]
    first_workflow: str

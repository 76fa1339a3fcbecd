"""Diagnoses a failed or rejected run: the likely cause and a validated JSON Patch fix; the error category's rules
when the AI cannot.

The AI answers a structured output (category, cause, explanation, summary, patch) from the run's masked facts.
Its patch is applied to the version that ran and validated by an activity (`check_fix`); a patch that does not
apply or validate gets one repair round (the AI is told why), and is dropped if it still fails: the diagnosis then
carries no fix. When the AI cannot answer (or the caller says it cannot), the rules answer (`diagnose_by_rules`)
and their patch is checked the same way. Ends with the diagnosis; a kept fix is named by `fix_id`."""

import json
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.diagnosis import DiagnosisActivities
    from orchestrator.brain_calls import ask_brain
    from orchestrator.retries import STORE_TIMEOUT
    from schemas.brain import (
        BrainAnswer,
        BrainAsk,
        ChatMessage,
        DiagnosisInput,
        DiagnosisResult,
        DiagnosisRuling,
        FallbackReason,
        FixCheck,
        FixProposal,
    )
    from schemas.recovery import Category

CHECK_RETRY = RetryPolicy(maximum_attempts=3, non_retryable_error_types=["VersionGone"])
MAX_TEXT = 2_000
CATEGORIES: list[Category | str] = [
    "transient_network",
    "target_5xx",
    "auth_4xx",
    "validation",
    "timeout",
    "approval_timed_out",
    "rejected",
    "unknown",
]
OPERATION = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
        "path": {"type": "string"},
        "from": {"type": "string"},
        "value": {},
    },
    "required": ["op", "path"],
}
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": CATEGORIES},
        "cause": {"type": "string"},
        "explanation": {"type": "string"},
        "summary": {"type": "string"},
        "patch": {"type": "array", "items": OPERATION, "maxItems": 20},
    },
    "required": ["category", "cause", "explanation", "summary", "patch"],
}
INSTRUCTIONS = (
    "You are the debugger of Levqor, a workflow-automation platform. A tenant's workflow run failed or was rejected; "
    "its facts follow as JSON: the failed step, its error type and message, attempts, the HTTP status and an excerpt "
    "of the answer, the definition version that ran and the run's input. Secrets appear only as "
    "{{ secrets.NAME }} and e-mail addresses and credentials are masked (***): never write a masked value and never "
    "invent a secret's value. Answer with the category of the failure, the likely cause (one sentence), an "
    "explanation (a short paragraph), a one-line summary of the fix, and the fix itself as a JSON Patch (RFC 6902) "
    "against the definition (paths such as /steps/0/timeout_s). Useful fixes: a longer timeout_s, a retry override "
    "{max_attempts (1-10), initial_interval_s, max_interval_s, backoff}, a corrected URL or expression. Use an empty "
    "patch when no change to the definition helps (a wrong secret, a person's rejection). Write the cause, "
    "explanation and summary in the language with the tag {language}."
)


@workflow.defn
class RunDiagnosis:
    @workflow.run
    async def run(self, params: DiagnosisInput) -> DiagnosisResult:
        reason: FallbackReason | None = params.fallback_reason
        if reason is None:
            messages = _messages(params)
            answer = await ask_brain(_ask(params, messages))
            if isinstance(answer, BrainAnswer):
                ruling = _ruling(answer.data)
                if ruling is not None:
                    return await self._by_ai(params, messages, answer, ruling)
                reason = "invalid_answer"
            else:
                reason = answer
        return await self._by_rules(params, reason)

    async def _by_ai(
        self, params: DiagnosisInput, messages: list[ChatMessage], answer: BrainAnswer, ruling: DiagnosisRuling
    ) -> DiagnosisResult:
        credits, rounds = answer.credits, 1
        check = await self._check(params, ruling, "ai") if ruling.patch else FixCheck(valid=False)
        if ruling.patch and not check.valid:
            repair = [
                *messages,
                ChatMessage(role="assistant", content=answer.text),
                ChatMessage(
                    role="user",
                    content=f"That patch cannot be applied: {check.problem}. Answer again with a corrected patch "
                    "(an empty patch if none helps).",
                ),
            ]
            repaired = await ask_brain(_ask(params, repair))
            if isinstance(repaired, BrainAnswer):
                credits, rounds = credits + repaired.credits, 2
                again = _ruling(repaired.data)
                if again is not None and again.patch:
                    ruling = ruling.model_copy(update={"patch": again.patch, "summary": again.summary})
                    check = await self._check(params, ruling, "ai")
        return _result(params, ruling, check, source="ai", credits=credits, rounds=rounds)

    async def _by_rules(self, params: DiagnosisInput, reason: FallbackReason) -> DiagnosisResult:
        ruling = await workflow.execute_activity_method(
            DiagnosisActivities.diagnose_by_rules,
            params,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=CHECK_RETRY,
        )
        check = await self._check(params, ruling, "fallback") if ruling.patch else FixCheck(valid=False)
        return _result(params, ruling, check, source="fallback", fallback_reason=reason)

    async def _check(self, params: DiagnosisInput, ruling: DiagnosisRuling, source: str) -> FixCheck:
        facts = params.facts
        proposal = FixProposal(
            tenant_id=params.tenant_id,
            plan=params.plan,
            language=params.language,
            run_id=facts.run_id,
            definition_id=facts.definition_id,
            version=facts.version,
            summary=ruling.summary,
            patch=ruling.patch,
            source="ai" if source == "ai" else "fallback",
            store=params.store_fix,
        )
        return await workflow.execute_activity_method(
            DiagnosisActivities.check_fix, proposal, start_to_close_timeout=STORE_TIMEOUT, retry_policy=CHECK_RETRY
        )


def _messages(params: DiagnosisInput) -> list[ChatMessage]:
    facts = json.dumps(params.facts.model_dump(mode="json"), ensure_ascii=False)
    return [
        ChatMessage(role="system", content=INSTRUCTIONS.replace("{language}", params.language)),
        ChatMessage(role="user", content=facts),
    ]


def _ask(params: DiagnosisInput, messages: list[ChatMessage]) -> BrainAsk:
    return BrainAsk(
        tenant_id=params.tenant_id,
        purpose="diagnose",
        messages=messages,
        response_schema=ANSWER_SCHEMA,
        schema_name="diagnosis",
    )


def _ruling(data: dict[str, Any] | None) -> DiagnosisRuling | None:
    """The AI's answer as a ruling, its texts bounded; None when it is not one."""
    try:
        ruling = DiagnosisRuling.model_validate(data)
    except ValidationError:
        return None
    if not all(isinstance(op, dict) for op in ruling.patch):
        return None
    return ruling.model_copy(
        update={
            "category": ruling.category[:40],
            "cause": ruling.cause[:MAX_TEXT],
            "explanation": ruling.explanation[:MAX_TEXT],
            "summary": ruling.summary[:MAX_TEXT],
        }
    )


def _result(
    params: DiagnosisInput,
    ruling: DiagnosisRuling,
    check: FixCheck,
    *,
    source: str,
    credits: int = 0,
    rounds: int = 0,
    fallback_reason: FallbackReason | None = None,
) -> DiagnosisResult:
    return DiagnosisResult(
        run_id=params.facts.run_id,
        step_id=params.facts.step_id,
        category=ruling.category,
        cause=ruling.cause,
        explanation=ruling.explanation,
        summary=ruling.summary if check.valid else "",
        source="ai" if source == "ai" else "fallback",
        fallback_reason=fallback_reason,
        credits=credits,
        fix_id=check.fix_id,
        fix_valid=check.valid,
        rounds=rounds,
    )

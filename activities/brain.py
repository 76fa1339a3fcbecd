"""The Brain's AI calls through the OpenAI API: one chat completion per call, free text or a structured output
that follows a JSON Schema. Bounded, masked, metered in the tenant's AI credits and audited here, so every
workflow that asks gets the same rules (rules/ai_policy.py)."""

import asyncio
import json
from dataclasses import dataclass

import openai
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.ai_guard import AiGuard, ai_failure, masked, status_failure
from activities.secrets import SecretStore
from core.toggles import read_toggles
from rules.ai_policy import DEFAULT_MODEL, MAX_ANSWER_CHARS, MAX_PROMPT_CHARS, credits_for, max_tokens_for, trimmed
from schemas.brain import BrainAnswer, BrainAsk, ChatMessage
from schemas.tables import AiInteraction

EXCERPT_CHARS = 2_000


class BrainActivities:
    def __init__(self, client: openai.AsyncOpenAI | None, engine: Engine, secrets: SecretStore | None = None) -> None:
        self._client, self._engine = client, engine
        self._guard = AiGuard(engine, secrets)

    @activity.defn(name="brain_ask")
    async def ask(self, ask: BrainAsk) -> BrainAnswer:
        """The model's answer to `ask.messages`, parsed when `ask.response_schema` is set. The messages are masked
        (e-mail addresses, the tenant's secret values) and bounded (rules/ai_policy.py) before they are sent; each
        call the provider answers is metered and leaves an `ai_interaction` row.

        Raises ApplicationError. Non-retryable: AiDisabled, AiNotConfigured, AiCreditsExhausted, AiModelNotAllowed,
        AiPromptTooLarge, AiRequestRejected (a 4xx other than 408/409/429), AiRefused. Retryable: AiTransientError,
        AiInvalidAnswer (a structured answer that is not a JSON object, or too large)."""
        if not (await asyncio.to_thread(read_toggles, self._engine)).ai_features:
            raise ai_failure("AI features are switched off on this platform for now", "AiDisabled", final=True)
        if self._client is None:
            raise ai_failure("OPENAI_API_KEY is not set", "AiNotConfigured", final=True)
        model = ask.model or DEFAULT_MODEL
        try:
            secrets = await asyncio.to_thread(self._guard.admit, ask.tenant_id, model)
        except ApplicationError as err:
            await asyncio.to_thread(self._record, ask, model, _OUTCOMES.get(err.type or "", "refused_by_policy"))
            raise
        messages = trimmed([ChatMessage(role=m.role, content=masked(m.content, secrets)) for m in ask.messages])
        if sum(len(m.content) for m in messages) > MAX_PROMPT_CHARS:
            raise ai_failure("the prompt is larger than the policy allows", "AiPromptTooLarge", final=True)
        request: dict[str, object] = {
            "model": model,
            "messages": [message.model_dump() for message in messages],
            "max_tokens": max_tokens_for(ask.purpose, ask.max_tokens),
        }
        if ask.response_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": ask.schema_name, "schema": ask.response_schema, "strict": False},
            }
        call = _Call(ask, model, messages, secrets)
        try:
            completion = await self._client.chat.completions.create(**request)  # type: ignore[call-overload]
        except openai.APIStatusError as err:
            await asyncio.to_thread(self._record, ask, model, "failed", call)
            raise status_failure(err) from None
        except openai.APIConnectionError as err:  # timeouts included
            await asyncio.to_thread(self._record, ask, model, "failed", call)
            raise ai_failure(f"could not reach the OpenAI API: {type(err).__name__}", "AiTransientError") from None
        return await asyncio.to_thread(self._answer, completion, call)

    def _answer(self, completion: openai.types.chat.ChatCompletion, call: "_Call") -> BrainAnswer:
        """The answer, metered and recorded; raises AiRefused or AiInvalidAnswer (the tokens are still paid for)."""
        message = completion.choices[0].message if completion.choices else None
        usage = completion.usage
        tokens = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
        credits = credits_for(call.model, sum(tokens))
        text = (message.content or "") if message else ""
        failure: ApplicationError | None = None
        outcome = "answered"
        if message is not None and message.refusal:
            failure = ai_failure(f"the model refused: {message.refusal[:200]}", "AiRefused", final=True)
            outcome, text = "refused", message.refusal
        data = _structured(text) if failure is None and call.ask.response_schema is not None else None
        if failure is None and call.ask.response_schema is not None and data is None:
            failure = ai_failure("the structured answer is not a JSON object of the allowed size", "AiInvalidAnswer")
            outcome = "invalid_answer"
        self._guard.meter(call.ask.tenant_id, credits)
        self._record(call.ask, call.model, outcome, call, text, tokens, credits)
        if failure is not None:
            raise failure
        return BrainAnswer(
            text=text[:MAX_ANSWER_CHARS],
            data=data,
            model=completion.model,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            credits=credits,
        )

    def _record(
        self,
        ask: BrainAsk,
        model: str,
        outcome: str,
        call: "_Call | None" = None,
        answer: str | None = None,
        tokens: tuple[int, int] = (0, 0),
        credits: int = 0,
    ) -> None:
        """One `ai_interaction` row. The excerpts are masked like the request, and kept only for a tenant's calls
        (its retention deletes them); the platform's own calls (a stranger's contact form) keep none."""
        keep = ask.tenant_id is not None and call is not None
        prompt = "\n".join(f"{m.role}: {m.content}" for m in call.messages) if keep and call else None
        row = AiInteraction(
            tenant_id=ask.tenant_id,
            purpose=ask.purpose,
            model=model,
            outcome=outcome,
            prompt_excerpt=prompt[:EXCERPT_CHARS] if prompt is not None else None,
            answer_excerpt=masked(answer, call.secrets)[:EXCERPT_CHARS] if keep and call and answer else None,
            prompt_tokens=tokens[0],
            completion_tokens=tokens[1],
            credits=credits,
            workflow_id=activity.info().workflow_id,
        )
        with Session(self._engine) as session:
            session.add(row)
            session.commit()


@dataclass(frozen=True)
class _Call:
    """One call on its way: what was asked, and the masked messages and the secrets they were masked with."""

    ask: BrainAsk
    model: str
    messages: list[ChatMessage]
    secrets: dict[str, str]


_OUTCOMES = {"AiModelNotAllowed": "model_not_allowed", "AiCreditsExhausted": "credits_exhausted"}


def _structured(text: str) -> dict[str, object] | None:
    if len(text) > MAX_ANSWER_CHARS:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None

"""The Brain's AI calls through the OpenAI API: one chat completion per call, free text or a structured output
that follows a JSON Schema. Bounded, masked, metered in the tenant's AI credits and audited here, so every
workflow that asks gets the same rules."""

import asyncio
import json

import openai
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.toggles import read_toggles
from rules.usage import ai_credits
from schemas.brain import BrainAnswer, BrainAsk

RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 429})
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_MAX_TOKENS = 1_500


class BrainActivities:
    def __init__(self, client: openai.AsyncOpenAI | None, engine: Engine) -> None:
        self._client, self._engine = client, engine

    @activity.defn(name="brain_ask")
    async def ask(self, ask: BrainAsk) -> BrainAnswer:
        """The model's answer to `ask.messages`, parsed when `ask.response_schema` is set.

        Raises ApplicationError. Non-retryable: AiDisabled, AiNotConfigured, AiCreditsExhausted, AiModelNotAllowed,
        AiRequestRejected (a 4xx other than 408/409/429), AiRefused. Retryable: AiTransientError, AiInvalidAnswer
        (a structured answer that is not JSON)."""
        if not (await asyncio.to_thread(read_toggles, self._engine)).ai_features:
            raise _failure("AI features are switched off on this platform for now", "AiDisabled", final=True)
        if self._client is None:
            raise _failure("OPENAI_API_KEY is not set", "AiNotConfigured", final=True)
        model = ask.model or DEFAULT_MODEL
        request: dict[str, object] = {
            "model": model,
            "messages": [message.model_dump() for message in ask.messages],
            "max_tokens": ask.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if ask.response_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": ask.schema_name, "schema": ask.response_schema, "strict": False},
            }
        try:
            completion = await self._client.chat.completions.create(**request)  # type: ignore[call-overload]
        except openai.APIStatusError as err:
            raise _status_failure(err) from None
        except openai.APIConnectionError as err:  # timeouts included
            raise _failure(f"could not reach the OpenAI API: {type(err).__name__}", "AiTransientError") from None
        return _answer(completion, ask)


def _answer(completion: openai.types.chat.ChatCompletion, ask: BrainAsk) -> BrainAnswer:
    message = completion.choices[0].message if completion.choices else None
    if message is not None and message.refusal:
        raise _failure(f"the model refused: {message.refusal[:200]}", "AiRefused", final=True)
    text = (message.content or "") if message else ""
    usage = completion.usage
    prompt_tokens = usage.prompt_tokens if usage else 0
    completion_tokens = usage.completion_tokens if usage else 0
    data = None
    if ask.response_schema is not None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _failure("the structured answer is not a JSON object", "AiInvalidAnswer")
    return BrainAnswer(
        text=text,
        data=data,
        model=completion.model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        credits=ai_credits({completion.model: prompt_tokens + completion_tokens}),
    )


def _status_failure(err: openai.APIStatusError) -> ApplicationError:
    status = err.status_code
    message = f"OpenAI API answered {status}"
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES:
        return _failure(message, "AiRequestRejected", final=True, status=status)
    return _failure(message, "AiTransientError", status=status)


def _failure(message: str, type: str, *, final: bool = False, status: int | None = None) -> ApplicationError:
    details: dict[str, int] = {"attempt": activity.info().attempt}
    if status is not None:
        details["status"] = status
    return ApplicationError(message, details, type=type, non_retryable=final)

"""Text completions for `ai` workflow steps, through the OpenAI API, while the founder has AI features on."""

import asyncio

import openai
from sqlalchemy import Engine
from temporalio import activity

from activities.ai_guard import AiGuard, ai_failure, masked, status_failure
from activities.secrets import SecretStore
from core.toggles import read_toggles
from rules.ai_policy import credits_for, model_allowed, trimmed
from schemas.brain import ChatMessage
from schemas.runs import AiPrompt, AiReply

AI_REQUEST_TIMEOUT = openai.Timeout(120, connect=10)


def build_ai_client(
    api_key: str | None, base_url: str | None, timeout_s: float | None = None
) -> openai.AsyncOpenAI | None:
    """The worker's one client (each request bounded by `timeout_s`, else AI_REQUEST_TIMEOUT), or None when no API
    key is configured. The SDK does not retry: the activity's retry policy does."""
    if not api_key:
        return None
    timeout = AI_REQUEST_TIMEOUT if timeout_s is None else openai.Timeout(timeout_s, connect=min(timeout_s, 10))
    return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)


class AiActivities:
    def __init__(
        self, client: openai.AsyncOpenAI | None, engine: Engine | None = None, secrets: SecretStore | None = None
    ) -> None:
        self._client, self._engine = client, engine
        self._guard = AiGuard(engine, secrets) if engine is not None else None

    @activity.defn(name="ai_complete")
    async def complete(self, prompt: AiPrompt) -> AiReply:
        """Sends `prompt` as a single user message and returns the reply's text and token usage.

        The prompt is masked (e-mail addresses, the tenant's secret values) and bounded first, and the call's
        credits count in the tenant's daily credits (StepMetering counts the month's).

        Raises ApplicationError, details[0] = {"attempt", "status"?}. Non-retryable: AiDisabled (the founder
        switched AI features off, read through `engine`), AiNotConfigured, AiModelNotAllowed, AiCreditsExhausted
        (checked through `engine`), AiRequestRejected (a 4xx other than 408/409/429). Retryable: AiTransientError."""
        if self._engine is not None and not (await asyncio.to_thread(read_toggles, self._engine)).ai_features:
            raise ai_failure("AI features are switched off on this platform for now", "AiDisabled", final=True)
        if self._client is None:
            raise ai_failure(
                "AI steps need an OpenAI API key, and OPENAI_API_KEY is not set",
                "AiNotConfigured",
                final=True,
            )
        secrets = await asyncio.to_thread(self._admit, prompt)
        [message] = trimmed([ChatMessage(role="user", content=masked(prompt.prompt, secrets))])
        try:
            completion = await self._client.chat.completions.create(
                model=prompt.model,
                messages=[{"role": "user", "content": message.content}],
                max_tokens=prompt.max_tokens,
            )
        except openai.APIStatusError as err:
            raise status_failure(err) from None
        except openai.APIConnectionError as err:
            raise ai_failure(f"could not reach the OpenAI API: {err}", "AiTransientError") from None
        except Exception as err:
            raise ai_failure(f"AI completion failed: {type(err).__name__}: {err}", "AiTransientError") from err
        reply = _reply(completion)
        if self._guard is not None:
            credits = credits_for(prompt.model, reply.prompt_tokens + reply.completion_tokens)
            await asyncio.to_thread(self._guard.meter, prompt.tenant_id, credits, monthly=False)
        return reply

    def _admit(self, prompt: AiPrompt) -> dict[str, str]:
        """The secrets to mask; raises AiModelNotAllowed or AiCreditsExhausted (with no engine: the model only)."""
        if self._guard is not None:
            return self._guard.admit(prompt.tenant_id, prompt.model)
        if not model_allowed(prompt.model):
            raise ai_failure(f"model {prompt.model!r} is not allowed", "AiModelNotAllowed", final=True)
        return {}


def _reply(completion: openai.types.chat.ChatCompletion) -> AiReply:
    message = completion.choices[0].message if completion.choices else None
    text = (message.content or message.refusal or "") if message else ""
    usage = completion.usage
    activity.logger.info(
        "ai step answered", extra={"model": completion.model, "tokens": usage.total_tokens if usage else 0}
    )
    return AiReply(
        text=text,
        model=completion.model,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        attempt=activity.info().attempt,
    )

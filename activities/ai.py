"""Text completions for `ai` workflow steps, through the OpenAI API, while the founder has AI features on."""

import asyncio

import openai
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.toggles import read_toggles
from schemas.runs import AiPrompt, AiReply

RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 429})
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
    def __init__(self, client: openai.AsyncOpenAI | None, engine: Engine | None = None) -> None:
        self._client, self._engine = client, engine

    @activity.defn(name="ai_complete")
    async def complete(self, prompt: AiPrompt) -> AiReply:
        """Sends `prompt` as a single user message and returns the reply's text and token usage.

        Raises ApplicationError, details[0] = {"attempt", "status"?}. Non-retryable: AiDisabled (the founder
        switched AI features off, read through `engine`), AiNotConfigured, AiRequestRejected (a 4xx other than
        408/409/429). Retryable: AiTransientError."""
        if self._engine is not None and not (await asyncio.to_thread(read_toggles, self._engine)).ai_features:
            raise _failure("AI features are switched off on this platform for now", "AiDisabled", final=True)
        if self._client is None:
            raise _failure(
                "AI steps need an OpenAI API key, and OPENAI_API_KEY is not set",
                "AiNotConfigured",
                final=True,
            )
        try:
            completion = await self._client.chat.completions.create(
                model=prompt.model,
                messages=[{"role": "user", "content": prompt.prompt}],
                max_tokens=prompt.max_tokens,
            )
        except openai.APIStatusError as err:
            raise _status_failure(err) from None
        except openai.APIConnectionError as err:
            raise _failure(f"could not reach the OpenAI API: {err}", "AiTransientError") from None
        except Exception as err:
            raise _failure(f"AI completion failed: {type(err).__name__}: {err}", "AiTransientError") from err
        return _reply(completion)


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


def _status_failure(err: openai.APIStatusError) -> ApplicationError:
    status = err.status_code
    message = f"OpenAI API answered {status}: {err.message}"
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES:
        return _failure(message, "AiRequestRejected", final=True, status=status)
    return _failure(message, "AiTransientError", status=status)


def _failure(message: str, type: str, *, final: bool = False, status: int | None = None) -> ApplicationError:
    """The error every failure becomes; `final` marks it non-retryable."""
    details: dict[str, int] = {"attempt": activity.info().attempt}
    if status is not None:
        details["status"] = status
    return ApplicationError(message, details, type=type, non_retryable=final)

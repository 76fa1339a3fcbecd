from collections.abc import AsyncIterator
from dataclasses import replace

import openai
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.ai import AiActivities, build_ai_client
from schemas.runs import AiPrompt, AiReply
from tests.fakes import plugin, unused_port
from tests.fakes.openai import FakeOpenAI

# Until tests/conftest.py registers tests.fakes.plugin, the fixture is brought in here.
fake_openai = plugin.fake_openai

PROMPT = AiPrompt(prompt="summarise the week", model="gpt-4.1-nano", max_tokens=50, idempotency_key="run-1/ai")


@pytest.fixture(scope="module")
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    client = build_ai_client("test-key", fake_openai.base_url)
    assert client is not None
    async with client:
        yield client


async def complete(client: openai.AsyncOpenAI | None, attempt: int = 1) -> AiReply:
    env = ActivityEnvironment()
    env.info = replace(env.info, attempt=attempt)
    return await env.run(AiActivities(client).complete, PROMPT)


async def failure_of(client: openai.AsyncOpenAI | None, attempt: int = 1) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await complete(client, attempt)
    return caught.value


async def test_reply_text_and_token_usage_come_from_the_model(
    client: openai.AsyncOpenAI, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reset()

    reply = await complete(client, attempt=2)

    assert reply.text == "echo: summarise the week"
    assert reply.model == "gpt-4.1-nano"
    assert (reply.prompt_tokens, reply.completion_tokens) == (3, 4)
    assert reply.attempt == 2
    [request] = fake_openai.requests
    assert request["messages"] == [{"role": "user", "content": "summarise the week"}]
    assert request["max_tokens"] == 50


async def test_missing_api_key_is_not_retried() -> None:
    err = await failure_of(None, attempt=2)

    assert err.type == "AiNotConfigured"
    assert err.non_retryable
    assert "OPENAI_API_KEY" in err.message
    assert err.details[0] == {"attempt": 2}


def test_no_client_is_built_without_an_api_key() -> None:
    assert build_ai_client(None, None) is None
    assert build_ai_client("", "http://127.0.0.1:1/v1") is None


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_rejected_request_is_not_retried(
    client: openai.AsyncOpenAI, fake_openai: FakeOpenAI, status: int
) -> None:
    fake_openai.fail_next(status)

    err = await failure_of(client, attempt=3)

    assert err.type == "AiRequestRejected"
    assert err.non_retryable
    assert err.details[0] == {"attempt": 3, "status": status}


@pytest.mark.parametrize("status", [500, 503, 429, 408])
async def test_server_errors_and_rate_limits_are_retried(
    client: openai.AsyncOpenAI, fake_openai: FakeOpenAI, status: int
) -> None:
    fake_openai.fail_next(status)

    err = await failure_of(client)

    assert err.type == "AiTransientError"
    assert not err.non_retryable
    assert err.details[0] == {"attempt": 1, "status": status}


async def test_unreachable_api_is_retried() -> None:
    client = build_ai_client("test-key", f"http://127.0.0.1:{unused_port()}/v1")
    assert client is not None

    async with client:
        err = await failure_of(client, attempt=2)

    assert err.type == "AiTransientError"
    assert not err.non_retryable
    assert err.details[0] == {"attempt": 2}

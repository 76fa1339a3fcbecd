"""A Brain workflow asking through `ask_brain` on a real worker: provider failures are retried with the Brain's
policy, and what never heals (or heals too late) becomes the reason the workflow falls back."""

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest_asyncio
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from activities.ai import build_ai_client
from activities.brain import BrainActivities
from activities.secrets import SecretStore
from core.security import SecretBox
from core.settings import Settings
from orchestrator.brain_calls import ask_brain
from schemas.brain import BrainAnswer, BrainAsk, ChatMessage, FallbackReason
from schemas.tables import Tenant
from tests.fakes.openai import FakeOpenAI, Reply


@workflow.defn(sandboxed=False)
class AskOnce:
    """A stand-in Brain workflow: one ask, its answer or the reason to fall back."""

    @workflow.run
    async def run(self, ask: BrainAsk) -> BrainAnswer | FallbackReason:
        return await ask_brain(ask)


@pytest_asyncio.fixture
async def queue(client: Client, settings: Settings, engine: Engine) -> AsyncIterator[str]:
    """AskOnce and the real brain_ask activity, built as the worker builds it."""
    assert settings.levqor_secrets_key is not None
    box = SecretBox(settings.levqor_secrets_key.get_secret_value())
    ai = build_ai_client("test-key", settings.openai_base_url, settings.ai_request_timeout_s)
    brain = BrainActivities(ai, engine, SecretStore(engine, box))
    name = f"brain-{uuid.uuid4()}"
    async with Worker(
        client, task_queue=name, workflows=[AskOnce], activities=[brain.ask], activity_executor=ThreadPoolExecutor(4)
    ):
        yield name


def new_tenant(engine: Engine) -> str:
    with Session(engine) as session:
        tenant = Tenant(name="Asks", plan="pro")
        session.add(tenant)
        session.commit()
        return tenant.id


async def ask_once(
    client: Client, queue: str, tenant_id: str, marker: str, model: str | None = None
) -> BrainAnswer | FallbackReason:
    messages = [ChatMessage(role="user", content=f"{marker}?")]
    ask = BrainAsk(tenant_id=tenant_id, purpose="chat", messages=messages, model=model)
    return await client.execute_workflow(AskOnce.run, ask, id=f"ask-once-{uuid.uuid4()}", task_queue=queue)


async def test_a_server_error_is_retried_and_the_answer_arrives(
    client: Client, queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(status=503), Reply(content="the answer", completion_tokens=2), match="dugongretry")

    answer = await ask_once(client, queue, new_tenant(engine), "dugongretry")

    assert isinstance(answer, BrainAnswer) and answer.text == "the answer"
    assert len(fake_openai.requests_matching("dugongretry")) == 2


async def test_rate_limits_on_every_attempt_fall_back_as_a_provider_failure(
    client: Client, queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(status=429), Reply(status=429), Reply(status=429), match="manateelimit")

    answer = await ask_once(client, queue, new_tenant(engine), "manateelimit")

    assert answer == "provider_failed"
    assert len(fake_openai.requests_matching("manateelimit")) == 3


async def test_a_provider_that_never_answers_in_time_falls_back_after_the_retries(
    client: Client, queue: str, engine: Engine, fake_openai: FakeOpenAI, settings: Settings
) -> None:
    slow = Reply(content="too late", delay_s=settings.ai_request_timeout_s + 0.5)
    fake_openai.script(slow, slow, slow, match="slothtimeout")

    answer = await ask_once(client, queue, new_tenant(engine), "slothtimeout")

    assert answer == "provider_failed"
    assert len(fake_openai.requests_matching("slothtimeout")) == 3


async def test_a_refusal_falls_back_at_once(
    client: Client, queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply(refusal="No."), Reply(content="never asked"), match="marmotrefuse")

    answer = await ask_once(client, queue, new_tenant(engine), "marmotrefuse")

    assert answer == "refused"
    assert len(fake_openai.requests_matching("marmotrefuse")) == 1


async def test_a_model_off_the_allow_list_falls_back_without_a_request(
    client: Client, queue: str, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    answer = await ask_once(client, queue, new_tenant(engine), "ocelotmodel", model="o1-pro")

    assert answer == "provider_failed"
    assert fake_openai.requests_matching("ocelotmodel") == []

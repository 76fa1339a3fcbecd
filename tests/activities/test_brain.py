"""The Brain's one AI call against the fake provider: structured answers, refusals, the model allow-list, token
bounds, masking, credits (daily and monthly) checked before and metered after, and the audit row of each call."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import openai
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.ai import build_ai_client
from activities.brain import BrainActivities
from activities.secrets import SecretStore
from core.ai_credits import credit_status, day_of
from core.security import SecretBox
from rules.ai_policy import MAX_PROMPT_CHARS, PURPOSE_MAX_TOKENS, credits_for
from rules.usage import period_of
from schemas.brain import AiCreditStatus, BrainAnswer, BrainAsk, BrainPurpose, ChatMessage
from schemas.tables import AiCreditDay, AiInteraction, Tenant, TenantSecret, UsageCounter
from tests.fakes.openai import FakeOpenAI, Reply

SECRET = "sk-live-7f3e9a-never-sent"
SCHEMA = {"type": "object", "properties": {"category": {"type": "string"}}, "required": ["category"]}


@pytest.fixture(scope="module")
async def ai_client(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    client = build_ai_client("test-key", fake_openai.base_url, 2.0)
    assert client is not None
    async with client:
        yield client


@pytest.fixture(scope="module")
def box() -> SecretBox:
    return SecretBox(SecretBox.new_key())


@pytest.fixture
def brain(ai_client: openai.AsyncOpenAI, engine: Engine, box: SecretBox) -> BrainActivities:
    return BrainActivities(ai_client, engine, SecretStore(engine, box))


def new_tenant(engine: Engine, box: SecretBox, plan: str = "free", *, ai_paused: bool = False) -> str:
    tenant_id = str(uuid.uuid4())
    with Session(engine) as session:
        session.add(Tenant(id=tenant_id, name="Brainy", plan=plan, ai_paused=ai_paused))
        session.flush()
        session.add(TenantSecret(tenant_id=tenant_id, name="STRIPE_KEY", ciphertext=box.seal(SECRET)))
        session.commit()
    return tenant_id


def question(tenant_id: str | None, text: str, purpose: BrainPurpose = "chat", **extra: Any) -> BrainAsk:
    system = ChatMessage(role="system", content="You help Levqor users.")
    return BrainAsk(
        tenant_id=tenant_id, purpose=purpose, messages=[system, ChatMessage(role="user", content=text)], **extra
    )


async def ask(brain: BrainActivities, request: BrainAsk) -> BrainAnswer:
    return await ActivityEnvironment().run(brain.ask, request)


async def failure_of(brain: BrainActivities, request: BrainAsk) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await ask(brain, request)
    return caught.value


def credits_of(engine: Engine, tenant_id: str) -> AiCreditStatus:
    with Session(engine) as session:
        return credit_status(session, tenant_id)


def interactions(engine: Engine, tenant_id: str | None) -> list[AiInteraction]:
    with Session(engine) as session:
        owner = AiInteraction.tenant_id == tenant_id if tenant_id else col(AiInteraction.tenant_id).is_(None)
        return list(session.exec(select(AiInteraction).where(owner)).all())


async def test_a_structured_answer_is_parsed_metered_and_audited(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)
    fake_openai.script(
        Reply(content={"category": "billing"}, prompt_tokens=900, completion_tokens=600), match="zebracorn"
    )

    answer = await ask(brain, question(tenant_id, "classify zebracorn", "triage", response_schema=SCHEMA))

    assert answer.data == {"category": "billing"}
    assert (answer.prompt_tokens, answer.completion_tokens, answer.credits) == (900, 600, 2)
    [request] = fake_openai.requests_matching("zebracorn")
    assert request["response_format"]["json_schema"]["schema"] == SCHEMA
    assert request["model"] == "gpt-4o-mini"
    status = credits_of(engine, tenant_id)
    assert (status.daily_used, status.monthly_used) == (2, 2)
    [row] = interactions(engine, tenant_id)
    assert (row.purpose, row.outcome, row.credits, row.prompt_tokens, row.completion_tokens) == (
        "triage",
        "answered",
        2,
        900,
        600,
    )
    assert row.prompt_excerpt is not None and "zebracorn" in row.prompt_excerpt
    assert row.answer_excerpt == '{"category": "billing"}'


async def test_a_refusal_is_final_and_still_paid_for(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)
    fake_openai.script(Reply(refusal="I can't help with that.", prompt_tokens=1000), match="quokkaplot")

    err = await failure_of(brain, question(tenant_id, "quokkaplot please"))

    assert err.type == "AiRefused" and err.non_retryable
    [row] = interactions(engine, tenant_id)
    assert (row.outcome, row.credits) == ("refused", credits_for("gpt-4o-mini", 1000 + 5))


async def test_a_structured_answer_that_is_not_json_is_retried(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)
    fake_openai.script(Reply(content="not json at all"), match="wombatique")

    err = await failure_of(brain, question(tenant_id, "wombatique", response_schema=SCHEMA))

    assert err.type == "AiInvalidAnswer" and not err.non_retryable
    assert [row.outcome for row in interactions(engine, tenant_id)] == ["invalid_answer"]


async def test_a_model_off_the_allow_list_is_refused_before_any_request(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)

    err = await failure_of(brain, question(tenant_id, "okapimode", model="gpt-5-ultra"))

    assert err.type == "AiModelNotAllowed" and err.non_retryable
    assert "gpt-4o-mini" in err.message
    assert fake_openai.requests_matching("okapimode") == []
    assert [row.outcome for row in interactions(engine, tenant_id)] == ["model_not_allowed"]


async def test_max_tokens_are_clamped_to_the_purposes_bound(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)

    await ask(brain, question(tenant_id, "narwhalbound one", max_tokens=100_000))
    await ask(brain, question(tenant_id, "narwhalbound two", max_tokens=50))

    first, second = fake_openai.requests_matching("narwhalbound")
    assert first["max_tokens"] == PURPOSE_MAX_TOKENS["chat"]
    assert second["max_tokens"] == 50


async def test_an_oversized_prompt_is_trimmed_to_the_bound(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)
    context = "lorem " * 20_000

    await ask(brain, question(tenant_id, f"axolotlsize {context}"))

    [request] = fake_openai.requests_matching("axolotlsize")
    sent = [m["content"] for m in request["messages"]]
    assert sum(len(content) for content in sent) <= MAX_PROMPT_CHARS
    assert sent[0] == "You help Levqor users."
    assert sent[1].startswith("axolotlsize lorem") and sent[1].endswith("[...]")


async def test_email_addresses_and_secret_values_never_reach_the_provider(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)
    text = f"pangolinmask: mail jane.doe+ops@example.co.uk with key {SECRET} and header 'Bearer {SECRET}'"

    await ask(brain, question(tenant_id, text))

    [request] = fake_openai.requests_matching("pangolinmask")
    sent = str(request)
    assert "jane.doe" not in sent and "example.co.uk" not in sent and SECRET not in sent
    assert "[email]" in sent and "***" in sent
    [row] = interactions(engine, tenant_id)
    assert row.prompt_excerpt is not None and SECRET not in row.prompt_excerpt and "jane.doe" not in row.prompt_excerpt
    assert row.answer_excerpt is not None and SECRET not in row.answer_excerpt  # the echo of the masked prompt


async def test_a_tenant_out_of_daily_credits_is_refused_without_a_request(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box, plan="free")
    with Session(engine) as session:
        session.add(AiCreditDay(tenant_id=tenant_id, day=day_of(datetime.now(UTC)), credits=10))
        session.commit()

    err = await failure_of(brain, question(tenant_id, "capybaracap"))

    assert err.type == "AiCreditsExhausted" and err.non_retryable
    assert fake_openai.requests_matching("capybaracap") == []
    assert [row.outcome for row in interactions(engine, tenant_id)] == ["credits_exhausted"]


async def test_a_tenant_out_of_monthly_credits_is_refused_without_a_request(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box, plan="starter")
    with Session(engine) as session:
        period = period_of(datetime.now(UTC))
        session.add(UsageCounter(tenant_id=tenant_id, period=period, metric="ai_credits", value=2_000))
        session.commit()

    err = await failure_of(brain, question(tenant_id, "tapirmonth"))

    assert err.type == "AiCreditsExhausted"
    assert fake_openai.requests_matching("tapirmonth") == []


async def test_a_tenant_whose_ai_the_autopilot_paused_is_refused_without_a_request(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box, plan="enterprise", ai_paused=True)

    err = await failure_of(brain, question(tenant_id, "lemurpause"))

    assert err.type == "AiCreditsExhausted" and "paused" in err.message
    assert fake_openai.requests_matching("lemurpause") == []


async def test_the_platforms_own_calls_keep_no_excerpts(
    brain: BrainActivities, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    before = {row.id for row in interactions(engine, None)}

    await ask(brain, question(None, "ibexplatform from a stranger"))

    [row] = [row for row in interactions(engine, None) if row.id not in before]
    assert (row.outcome, row.prompt_excerpt, row.answer_excerpt) == ("answered", None, None)
    assert fake_openai.requests_matching("ibexplatform")


async def test_a_provider_error_is_retryable_and_a_rejected_request_is_not(
    brain: BrainActivities, engine: Engine, box: SecretBox, fake_openai: FakeOpenAI
) -> None:
    tenant_id = new_tenant(engine, box)
    fake_openai.script(Reply(status=503), Reply(status=400), match="gerenukfail")

    transient = await failure_of(brain, question(tenant_id, "gerenukfail"))
    rejected = await failure_of(brain, question(tenant_id, "gerenukfail"))

    assert transient.type == "AiTransientError" and not transient.non_retryable
    assert rejected.type == "AiRequestRejected" and rejected.non_retryable
    assert [row.outcome for row in interactions(engine, tenant_id)] == ["failed", "failed"]

"""AI credits through the API: each tenant reads its own daily and monthly credits against its plan's caps, and
an AI operation for a tenant out of credits answers 429 `ai_credits_exhausted` with the fallback, asking no AI."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from core.ai_credits import add_ai_credits, day_of
from core.toggles import forget_toggles
from domain.ai_allowance import ai_unavailable
from schemas.tables import AiCreditDay, AiInteraction, Tenant
from tests.api.tenancy import new_tenant
from tests.api.test_data_requests import exported
from tests.api.toggling import set_toggles, toggles_restored  # noqa: F401  (the fixture)
from tests.conftest import founder_headers
from tests.fakes.openai import FakeOpenAI


def use_credits(engine: Engine, tenant_id: str, credits: int) -> None:
    with engine.begin() as connection:
        add_ai_credits(connection, tenant_id, credits)


def test_a_tenant_reads_its_credits_used_today_and_this_month_against_its_plan(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="starter", name="Counting")
    use_credits(engine, tenant.id, 7)

    answer = api.get("/api/ai/credits", headers=tenant.member)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["plan"], body["daily_used"], body["daily_cap"]) == ("starter", 7, 200)
    assert (body["monthly_used"], body["monthly_cap"]) == (7, 2_000)
    assert body["day"] == day_of(datetime.now(UTC)) and body["exhausted"] is False and body["paused"] is False


def test_an_unlimited_plan_has_no_caps(api: TestClient) -> None:
    tenant = new_tenant(api, plan="enterprise", name="Unlimited")

    body = api.get("/api/ai/credits", headers=tenant.admin).json()

    assert (body["daily_cap"], body["monthly_cap"], body["exhausted"]) == (None, None, False)


def test_tenants_see_only_their_own_credits(api: TestClient, engine: Engine) -> None:
    spender, other = new_tenant(api, plan="pro", name="Spender"), new_tenant(api, plan="pro", name="Other")
    use_credits(engine, spender.id, 40)

    body = api.get("/api/ai/credits", headers=other.admin).json()

    assert body["tenant_id"] == other.id and body["daily_used"] == 0


def test_the_founder_names_no_tenant_of_its_own(api: TestClient) -> None:
    answer = api.get("/api/ai/credits", headers=founder_headers())

    assert answer.status_code == 403
    assert answer.json()["code"] == "tenant_key_required"


def test_a_tenant_out_of_daily_credits_is_exhausted(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free", name="Spent")
    use_credits(engine, tenant.id, 10)

    body = api.get("/api/ai/credits", headers=tenant.admin).json()

    assert body["exhausted"] is True
    assert ai_unavailable(engine, tenant.id, "free", configured=True) == "credits_exhausted"


def test_a_tenant_the_autopilot_paused_is_exhausted(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="pro", name="Paused")
    with Session(engine) as session:
        row = session.get_one(Tenant, tenant.id)
        row.ai_paused = True
        session.add(row)
        session.commit()

    body = api.get("/api/ai/credits", headers=tenant.admin).json()

    assert (body["paused"], body["exhausted"]) == (True, True)


@pytest.mark.usefixtures("toggles_restored")
def test_the_reason_ai_cannot_answer_follows_toggle_key_and_credits(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="pro", name="Reasons")

    assert ai_unavailable(engine, tenant.id, "pro", configured=True) is None
    assert ai_unavailable(engine, tenant.id, "pro", configured=False) == "not_configured"
    set_toggles(api, ai_features=False)
    forget_toggles(engine)  # the tests' engine caches the toggles it read
    assert ai_unavailable(engine, tenant.id, "pro", configured=True) == "ai_off"


def test_a_draft_for_a_tenant_out_of_credits_answers_429_with_the_fallback_and_asks_no_ai(
    api: TestClient, engine: Engine, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(api, plan="free", name="Broke")
    with Session(engine) as session:
        session.add(AiCreditDay(tenant_id=tenant.id, day=day_of(datetime.now(UTC)), credits=10))
        session.commit()

    answer = api.post(
        "/api/ai/workflows/draft",
        json={"prompt": "every morning fetch bisoncap orders and e-mail a summary"},
        headers=tenant.admin,
    )

    assert answer.status_code == 429, answer.text
    body = answer.json()
    assert body["code"] == "ai_credits_exhausted"
    assert body["fallback"]["source"] == "fallback" and body["fallback"]["fallback_reason"] == "credits_exhausted"
    assert fake_openai.requests_matching("bisoncap") == []


def test_a_tenant_lists_its_own_ai_calls_newest_first(api: TestClient, engine: Engine) -> None:
    tenant, other = new_tenant(api, plan="pro", name="Audited"), new_tenant(api, plan="pro", name="Elsewhere")
    with Session(engine) as session:
        session.add_all(
            [
                AiInteraction(tenant_id=tenant.id, purpose="draft", model="gpt-4o-mini", outcome="answered", credits=2,
                              created_at=datetime(2026, 12, 1, 9, tzinfo=UTC)),
                AiInteraction(tenant_id=tenant.id, purpose="chat", model="gpt-4o-mini", outcome="credits_exhausted",
                              created_at=datetime(2026, 12, 1, 10, tzinfo=UTC)),
                AiInteraction(tenant_id=other.id, purpose="chat", model="gpt-4o", outcome="answered", credits=9),
            ]
        )  # fmt: skip
        session.commit()

    answer = api.get("/api/ai/interactions", headers=tenant.member)
    too_many = api.get("/api/ai/interactions?limit=5000", headers=tenant.member)

    assert answer.status_code == 200, answer.text
    listed = [(i["purpose"], i["source"], i["outcome"], i["credits"]) for i in answer.json()]
    assert listed == [("chat", "fallback", "credits_exhausted", 0), ("draft", "ai", "answered", 2)]
    assert too_many.status_code == 422 and too_many.json()["field"] == "query.limit"


def test_the_data_export_carries_the_tenants_ai_calls(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="pro", name="Exports AI")
    with Session(engine) as session:
        session.add(AiInteraction(tenant_id=tenant.id, purpose="chat", model="gpt-4o-mini", outcome="answered",
                                  prompt_excerpt="user: how do retries work?", credits=1))  # fmt: skip
        session.commit()

    archive = exported(api, tenant)["archive"]

    [call] = archive["ai_interactions"]
    assert (call["purpose"], call["prompt_excerpt"], call["credits"]) == ("chat", "user: how do retries work?", 1)

"""POST /api/ai/onboarding through the real app: the AI's plan and a first draft from its sentence (the WorkflowDraft
child), and without the AI a plan picked by the goals' keywords and the template draft; never a 500."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.main import create_app
from core.ai_credits import add_ai_credits
from core.settings import Settings
from tests.api.tenancy import new_tenant
from tests.api.toggling import set_toggles, toggles_restored  # noqa: F401  (the fixture)
from tests.fakes.openai import FakeOpenAI, Reply

ONBOARDING = "/api/ai/onboarding"
FIRST = {"name": "Greet new orders", "steps": [{"id": "greet", "type": "log", "message": "a new order arrived"}]}


@pytest.fixture(scope="module")
def keyless_api(api: TestClient, settings: Settings) -> Iterator[TestClient]:
    keyless = settings.model_copy(update={"openai_api_key": None, "api_embedded_worker": False})
    with TestClient(create_app(keyless)) as client:
        yield client


def test_the_ais_plan_comes_with_a_draft_of_its_first_workflow(api: TestClient, fake_openai: FakeOpenAI) -> None:
    tenant = new_tenant(api, plan="pro", name="Newcomer")
    plan = ["Conecta tu tienda.", "Crea el primer flujo.", "Prográmalo cada día."]
    fake_openai.script(
        Reply(content={"plan": plan, "first_workflow": "Log each new order wombatdraft"}), match="wombatgoals"
    )
    fake_openai.script(
        Reply(content={"definition": FIRST, "explanation": "Registra cada pedido."}), match="wombatdraft"
    )

    answer = api.post(
        ONBOARDING, json={"goals": "Follow up on my shop's orders wombatgoals", "language": "es"}, headers=tenant.admin
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"], body["plan"]) == ("ai", None, plan)
    draft = body["draft"]
    assert (draft["source"], draft["definition"], draft["report"]["valid"]) == ("ai", FIRST, True)
    assert body["credits"] >= draft["credits"] >= 1
    assert "`es`" in fake_openai.requests_matching("wombatgoals")[0]["messages"][0]["content"]
    assert api.get("/api/workflows", headers=tenant.admin).json() == []


def test_a_plan_out_of_bounds_falls_back_to_the_keyword_plan(api: TestClient, fake_openai: FakeOpenAI) -> None:
    tenant = new_tenant(api, plan="pro", name="Terse")
    fake_openai.script(Reply(content={"plan": ["Only one step"], "first_workflow": "x"}), match="wombatshort")

    answer = api.post(ONBOARDING, json={"goals": "Send a weekly report wombatshort"}, headers=tenant.admin)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"]) == ("fallback", "invalid_answer")
    assert 3 <= len(body["plan"]) <= 6


@pytest.mark.usefixtures("toggles_restored")
def test_with_ai_off_the_plan_follows_the_goals_keywords_and_the_draft_is_a_template(
    api: TestClient, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(api, plan="pro", name="Planner")
    set_toggles(api, "test: AI off", ai_features=False)
    goals = "Sync new Shopify orders to our CRM every morning, and let the team approve refunds wombatoff"

    answer = api.post(ONBOARDING, json={"goals": goals}, headers=tenant.admin)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"], body["credits"]) == ("fallback", "ai_off", 0)
    assert [step.split(" ")[0] for step in body["plan"]] == ["Store", "Create", "Add", "Schedule", "Invite", "Watch"]
    draft = body["draft"]
    assert (draft["source"], draft["fallback_reason"]) == ("fallback", "ai_off")
    assert draft["report"]["valid"] is True and draft["template"]
    assert fake_openai.requests_matching("wombatoff") == []


def test_without_a_key_a_short_goal_still_gets_three_steps_in_the_readers_language(
    keyless_api: TestClient, fake_openai: FakeOpenAI
) -> None:
    tenant = new_tenant(keyless_api, plan="pro", name="Sparse")

    answer = keyless_api.post(
        ONBOARDING, json={"goals": "Log things wombatkeyless"}, headers={**tenant.admin, "Accept-Language": "de"}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"]) == ("fallback", "not_configured")
    assert len(body["plan"]) == 3 and body["plan"][0].startswith("Erstellen Sie Ihren ersten Workflow")
    assert fake_openai.requests_matching("wombatkeyless") == []


def test_a_failing_provider_still_answers_with_a_plan_and_a_draft(api: TestClient, fake_openai: FakeOpenAI) -> None:
    tenant = new_tenant(api, plan="pro", name="Stormy")
    fake_openai.script(Reply(status=500), Reply(status=500), Reply(status=500), match="wombatdown")

    answer = api.post(ONBOARDING, json={"goals": "E-mail invoices to customers wombatdown"}, headers=tenant.admin)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["source"], body["fallback_reason"]) == ("fallback", "provider_failed")
    assert body["draft"]["fallback_reason"] == "provider_failed" and body["draft"]["definition"]["steps"]


def test_out_of_credits_answers_429_with_the_fallback_plan(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free", name="Spent onboarding")
    with engine.begin() as connection:
        add_ai_credits(connection, tenant.id, 1_000)

    answer = api.post(ONBOARDING, json={"goals": "Remind customers of unpaid invoices"}, headers=tenant.admin)

    assert answer.status_code == 429, answer.text
    assert answer.json()["code"] == "ai_credits_exhausted"
    assert answer.json()["fallback"]["plan"] and answer.json()["fallback"]["draft"]["definition"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"goals": "g" * 2_001}, "body.goals"),
        ({"goals": ""}, "body.goals"),
        ({"goals": "  \n "}, "body.goals"),
        ({"goals": "ok", "language": "l" * 36}, "body.language"),
        ({"goals": "ok", "language": "klingon"}, "body.language"),
    ],
)
def test_bad_goals_are_refused_with_their_field(api: TestClient, body: dict[str, object], field: str) -> None:
    tenant = new_tenant(api, name="Bounded goals")

    answer = api.post(ONBOARDING, json=body, headers=tenant.admin)

    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field

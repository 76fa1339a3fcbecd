"""The Brain in the web app through TestClient (real Temporal, PostgreSQL and the fake OpenAI): the help panel on
every tenant page with the page's context, its answers with citations and its fallback, the knowledge browser and
its escaped passages, "describe it", "why did this fail?" with the fix applied, the welcome wizard, the workflow
page's suggestions, the AI credits, and the walls (another tenant's run or workflow answers 404)."""

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from schemas.tables import KnowledgePassageRow
from tests.conftest import founder_headers
from tests.fakes.openai import FakeOpenAI, Reply
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.conftest import FOUNDER_EMAIL, invite_by_founder, make_tenant, signed_in_as, unique_email, use_cookies
from tests.web.test_workspace_pages import Team, new_team

EMAIL = {"id": "tell", "type": "email", "to": ["ops@example.test"], "subject": "Hi", "body": "Hello"}


@pytest.fixture(scope="module")
def team(web: TestClient, smtp_sink: SmtpSink) -> Team:
    """A tenant with a signed-in admin and member."""
    return new_team(web, smtp_sink, "Brainy Co")


@pytest.fixture(scope="module")
def stranger(web: TestClient, smtp_sink: SmtpSink) -> dict[str, str]:
    """An admin of another tenant."""
    tenant_id, email = make_tenant(web, "Other Co"), unique_email("other")
    invite_by_founder(web, tenant_id, email, "admin")
    return signed_in_as(web, smtp_sink, email)


@pytest.fixture
def ai_off(web: TestClient) -> Iterator[None]:
    """The founder switches AI features off for the test (and on again after it)."""
    toggle = {"ai_features": False, "reason": "test: AI off"}
    assert web.put("/api/admin/toggles", json=toggle, headers=founder_headers()).status_code == 200
    yield
    back = {"ai_features": True, "reason": "test: AI on again"}
    assert web.put("/api/admin/toggles", json=back, headers=founder_headers()).status_code == 200


def as_user(web: TestClient, user: dict[str, str]) -> dict[str, str]:
    return {"X-CSRF-Token": use_cookies(web, user)}


def form(user: dict[str, str], **fields: str) -> dict[str, str]:
    return {"csrf_token": user["csrf"], **fields}


def new_workflow(web: TestClient, user: dict[str, str], *steps: dict[str, Any], name: str = "Brainy") -> str:
    created = web.post("/api/workflows", json={"name": name, "steps": list(steps)}, headers=as_user(web, user))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def until_run(web: TestClient, run_id: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        body = web.get(f"/api/runs/{run_id}").json()
        if check(body) or time.monotonic() > deadline:
            assert check(body), body
            return body
        time.sleep(0.05)


def failed_run(web: TestClient, team: Team, target_server: TargetServer) -> tuple[str, str]:
    """A run whose HTTP step failed for good on a 503 (workflow id, run id)."""
    fetch = {"id": "fetch", "type": "http_request", "url": f"{target_server.url}/status/503", "timeout_s": 2,
             "retry": {"max_attempts": 1}}  # fmt: skip
    workflow_id = new_workflow(web, team.admin, fetch, name="Fragile")
    started = web.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=as_user(web, team.admin))
    assert started.status_code == 202, started.text
    run_id = str(started.json()["run_id"])
    until_run(web, run_id, lambda body: body["status"] == "failed" and body["closed_at"] is not None)
    return workflow_id, run_id


def seed_passage(engine: Engine, title: str, body: str, source: str = "readme") -> str:
    passage_id = f"{source}-test-{uuid.uuid4().hex[:10]}"
    with Session(engine) as session:
        session.add(KnowledgePassageRow(id=passage_id, source=source, title=title, url=f"/app/help/knowledge/{passage_id}",
                                        body=body, digest="test", position=10_000))  # fmt: skip
        session.commit()
    return passage_id


# ---- The help panel and the knowledge browser -------------------------------------------------------------------


def test_every_tenant_page_carries_the_help_panel_with_its_context(
    web: TestClient, team: Team, target_server: TargetServer
) -> None:
    workflow_id, run_id = failed_run(web, team, target_server)
    as_user(web, team.member)

    home = web.get("/app").text
    workflow_page = web.get(f"/app/workflows/{workflow_id}").text
    run_page = web.get(f"/app/runs/{run_id}").text

    for page in (home, workflow_page, run_page):
        assert 'data-help-toggle aria-controls="help-panel"' in page and 'id="help-panel"' in page
        assert 'hx-post="/app/help/ask"' in page and "/static/js/help-panel.js" in page
    assert f'name="workflow_id" value="{workflow_id}"' in workflow_page
    assert f'name="run_id" value="{run_id}"' in run_page and 'name="run_id" value=""' in home


def test_the_founder_without_a_tenant_gets_no_help_panel_and_no_ai_pages(web: TestClient, smtp_sink: SmtpSink) -> None:
    signed_in_as(web, smtp_sink, FOUNDER_EMAIL)

    home = web.get("/app")
    welcome = web.get("/app/welcome")

    assert home.status_code == 200 and 'id="help-panel"' not in home.text
    assert welcome.status_code == 404


def test_the_knowledge_browser_finds_passages_and_shows_one_escaped(
    web: TestClient, team: Team, engine: Engine
) -> None:
    word = f"zephyrine{uuid.uuid4().hex[:6]}"
    body = (f"# Using {word}\n\nPlain text with <script>alert(1)</script> and `code <b>`.\n\n"
            "- first item\n- second item\n\n```\n{\"steps\": [\"<img src=x>\"]}\n```\n")  # fmt: skip
    passage_id = seed_passage(engine, f"About {word}", body)
    as_user(web, team.member)

    found = web.get("/app/help", params={"q": word})
    by_source = web.get("/app/help", params={"source": "readme"})
    other_source = web.get("/app/help", params={"q": word, "source": "template"})
    passage = web.get(f"/app/help/knowledge/{passage_id}")
    missing = web.get("/app/help/knowledge/readme-no-such-passage")

    assert found.status_code == 200 and f'href="/app/help/knowledge/{passage_id}"' in found.text
    assert f"About {word}" in by_source.text and f"About {word}" not in other_source.text
    assert passage.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in passage.text and "<script>alert(1)" not in passage.text
    assert f"<h3>Using {word}</h3>" in passage.text and "<li>first item</li>" in passage.text
    assert "<code>code &lt;b&gt;</code>" in passage.text and "&lt;img src=x&gt;" in passage.text
    assert missing.status_code == 404


def test_the_help_panel_answers_from_the_knowledge_base_when_ai_is_off(
    web: TestClient, team: Team, engine: Engine, ai_off: None
) -> None:
    word = f"quillwort{uuid.uuid4().hex[:6]}"
    passage_id = seed_passage(engine, f"All about {word}", f"The {word} setting decides everything about {word}.")
    headers = as_user(web, team.member)

    answer = web.post("/app/help/ask", data={"question": f"What is {word}?", "page": "home"}, headers=headers)

    assert answer.status_code == 200
    assert 'data-source="fallback"' in answer.text and 'data-fallback="ai_off"' in answer.text
    assert "AI is not available: AI features are switched off for now." in answer.text
    assert f'href="/app/help/knowledge/{passage_id}"' in answer.text


def test_the_help_panel_refuses_an_empty_question_and_a_missing_csrf_token(web: TestClient, team: Team) -> None:
    headers = as_user(web, team.member)

    blank = web.post("/app/help/ask", data={"question": "   "}, headers=headers)
    forged = web.post("/app/help/ask", data={"question": "Hello?"})

    assert blank.status_code == 422 and "Write a question first." in blank.text
    assert forged.status_code == 403


def test_the_help_panel_shows_the_tenants_ai_credits(web: TestClient, team: Team) -> None:
    as_user(web, team.member)

    credits = web.get("/app/help/credits")

    assert credits.status_code == 200 and "data-credits" in credits.text
    assert "AI credits today" in credits.text and "This month" in credits.text
    assert re.search(r"\d+ of [\d,]+|\d+ \(no cap\)", credits.text), credits.text


# ---- Describe it -------------------------------------------------------------------------------------------------


def test_the_editor_carries_describe_it(web: TestClient, team: Team) -> None:
    as_user(web, team.admin)

    editor = web.get("/app/workflows/new").text

    assert 'id="wf-describe-form"' in editor and "/static/js/describe-it.js" in editor


def test_describe_it_drafts_from_the_closest_template_with_its_notice_when_ai_is_off(
    web: TestClient, team: Team, ai_off: None
) -> None:
    headers = as_user(web, team.admin)

    drafted = web.post("/app/workflows/draft", json={"prompt": "E-mail the team every morning"}, headers=headers)
    forged = web.post("/app/workflows/draft", json={"prompt": "E-mail the team every morning"})

    body = drafted.json()
    assert drafted.status_code == 200 and body["source"] == "fallback" and body["fallback_reason"] == "ai_off"
    assert body["notice"] == "AI is not available: AI features are switched off for now."
    assert body["report"]["valid"] is True and body["definition"]["steps"]
    assert forged.status_code == 403


def test_the_fallback_notice_reads_in_the_pages_language(web: TestClient, team: Team, ai_off: None) -> None:
    headers = as_user(web, team.admin)

    drafted = web.post("/ja/app/workflows/draft", json={"prompt": "毎朝チームにメールする"}, headers=headers)
    help_page = web.get("/ja/app/help")

    assert drafted.json()["notice"] == "AI は利用できません：AI 機能は現在オフになっています。"
    assert help_page.status_code == 200 and "ナレッジベースを検索" in help_page.text


def test_describe_it_answers_the_ai_draft_in_the_pages_language(
    web: TestClient, team: Team, fake_openai: FakeOpenAI
) -> None:
    marker = f"pelican{uuid.uuid4().hex[:6]}"
    definition = {"name": "Pelican report", "steps": [{"id": "note", "type": "log", "message": "pelicans counted"}]}
    fake_openai.script(
        Reply(content={"definition": definition, "explanation": "Registra los pelícanos."}), match=marker
    )
    headers = as_user(web, team.admin)

    drafted = web.post("/es/app/workflows/draft", json={"prompt": f"Count the {marker} birds"}, headers=headers)

    body = drafted.json()
    assert drafted.status_code == 200, drafted.text
    assert body["source"] == "ai" and body["definition"] == definition and body["notice"] is None
    assert body["explanation"] == "Registra los pelícanos." and body["report"]["valid"] is True


# ---- Why did this fail? ------------------------------------------------------------------------------------------


def test_a_failed_runs_page_offers_why_did_this_fail(web: TestClient, team: Team, target_server: TargetServer) -> None:
    _workflow_id, run_id = failed_run(web, team, target_server)
    as_user(web, team.member)

    page = web.get(f"/app/runs/{run_id}").text

    assert "Why did this fail?" in page and f'hx-post="/app/runs/{run_id}/diagnose"' in page


def test_the_diagnosis_falls_back_to_the_rules_when_ai_is_off_and_a_member_may_not_apply(
    web: TestClient, team: Team, target_server: TargetServer, ai_off: None
) -> None:
    _workflow_id, run_id = failed_run(web, team, target_server)
    headers = as_user(web, team.member) | {"HX-Request": "true"}

    diagnosis = web.post(f"/app/runs/{run_id}/diagnose", headers=headers)

    assert diagnosis.status_code == 200, diagnosis.text
    assert 'data-source="fallback"' in diagnosis.text and 'data-fallback="ai_off"' in diagnosis.text
    assert "AI is not available: AI features are switched off for now." in diagnosis.text
    assert "<html" not in diagnosis.text and "Apply fix" not in diagnosis.text


def test_a_completed_run_is_not_diagnosed_and_the_run_page_says_why(web: TestClient, team: Team) -> None:
    workflow_id = new_workflow(web, team.admin, {"id": "note", "type": "log", "message": "fine"})
    started = web.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=as_user(web, team.admin))
    run_id = str(started.json()["run_id"])
    until_run(web, run_id, lambda body: body["closed_at"] is not None)

    refused = web.post(f"/app/runs/{run_id}/diagnose", headers=as_user(web, team.admin) | {"HX-Request": "true"})
    page = web.get(f"/app/runs/{run_id}").text

    assert refused.status_code == 409 and "<html" not in refused.text
    assert 'role="alert"' in refused.text and "Only a failed or rejected run can be diagnosed" in refused.text
    assert "Why did this fail?" not in page


def test_another_tenants_run_cannot_be_diagnosed_or_fixed(
    web: TestClient, team: Team, stranger: dict[str, str], target_server: TargetServer
) -> None:
    _workflow_id, run_id = failed_run(web, team, target_server)
    headers = as_user(web, stranger)

    diagnosis = web.post(f"/app/runs/{run_id}/diagnose", headers=headers)
    applied = web.post(f"/app/runs/{run_id}/fixes/any/apply", data=form(stranger, redrive="true"))

    assert diagnosis.status_code == 404 and applied.status_code == 404


def test_an_admin_applies_the_proposed_fix_and_re_drives_the_run(
    web: TestClient, team: Team, target_server: TargetServer, ai_off: None
) -> None:
    workflow_id, run_id = failed_run(web, team, target_server)
    headers = as_user(web, team.admin)
    diagnosis = web.post(f"/app/runs/{run_id}/diagnose", headers=headers | {"HX-Request": "true"})
    found = re.search(rf'action="/app/runs/{run_id}/fixes/([^/"]+)/apply"', diagnosis.text)
    assert found, diagnosis.text
    assert "diff-add" in diagnosis.text and "added:" in diagnosis.text

    as_user(web, team.member)
    refused = web.post(f"/app/runs/{run_id}/fixes/{found.group(1)}/apply", data=form(team.member, redrive="true"))
    as_user(web, team.admin)
    applied = web.post(f"/app/runs/{run_id}/fixes/{found.group(1)}/apply", data=form(team.admin, redrive="true"))

    assert refused.status_code == 403
    assert applied.status_code == 200 and 'data-testid="fix-applied"' in applied.text
    assert web.get(f"/api/workflows/{workflow_id}").json()["version"] == 2
    redriven = re.search(r'href="/app/runs/([^"]+)" data-testid="redriven-run"', applied.text)
    assert redriven and redriven.group(1) != run_id


# ---- The welcome wizard ------------------------------------------------------------------------------------------


def test_a_new_tenant_is_offered_the_wizard_until_it_has_a_workflow(web: TestClient, smtp_sink: SmtpSink) -> None:
    tenant_id, email = make_tenant(web, "Fresh Co"), unique_email("fresh")
    invite_by_founder(web, tenant_id, email, "admin")
    fresh = signed_in_as(web, smtp_sink, email)

    home = web.get("/app").text
    offered = web.get("/app/welcome/offer")
    new_workflow(web, fresh, {"id": "note", "type": "log", "message": "hi"})
    as_user(web, fresh)
    later = web.get("/app/welcome/offer")

    assert 'hx-get="/app/welcome/offer"' in home
    assert offered.status_code == 200 and 'href="/app/welcome"' in offered.text
    assert later.status_code == 204


def test_the_wizard_plans_a_first_draft_and_saves_it_or_opens_it_in_the_editor(
    web: TestClient, smtp_sink: SmtpSink, ai_off: None
) -> None:
    tenant_id, email = make_tenant(web, "Wizard Co"), unique_email("wizard")
    invite_by_founder(web, tenant_id, email, "admin")
    user = signed_in_as(web, smtp_sink, email)

    empty = web.post("/app/welcome", data=form(user, goals="  "))
    planned = web.post("/app/welcome", data=form(user, goals="Send a welcome e-mail to each new customer"))
    definition = re.search(r'name="definition" value="([^"]+)"', planned.text)
    assert definition, planned.text
    draft = definition.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
    editor = web.post("/app/welcome/editor", data=form(user, definition=draft))
    saved = web.post("/app/welcome/save", data=form(user, definition=draft), follow_redirects=False)

    assert empty.status_code == 422 and "Say in a sentence or two" in empty.text
    assert planned.status_code == 200 and 'data-fallback="ai_off"' in planned.text
    assert '<ol class="welcome-plan"><li>' in planned.text
    assert editor.status_code == 200 and 'id="wf-initial"' in editor.text and '"steps"' in editor.text
    assert saved.status_code == 303 and saved.headers["location"].startswith("/app/workflows/")


# ---- Suggestions -------------------------------------------------------------------------------------------------


def test_a_workflow_page_suggests_an_approval_before_its_email_with_a_link_to_the_step(
    web: TestClient, team: Team, stranger: dict[str, str]
) -> None:
    workflow_id = new_workflow(web, team.admin, {"id": "note", "type": "log", "message": "hi"}, EMAIL)
    as_user(web, team.member)

    page = web.get(f"/app/workflows/{workflow_id}").text
    suggestions = web.get(f"/app/workflows/{workflow_id}/suggestions")
    as_user(web, stranger)
    foreign = web.get(f"/app/workflows/{workflow_id}/suggestions")

    assert f'hx-get="/app/workflows/{workflow_id}/suggestions"' in page
    assert suggestions.status_code == 200 and "Guard this with an approval" in suggestions.text
    assert f'href="/app/workflows/{workflow_id}/edit?step=tell&amp;field=type"' in suggestions.text
    assert foreign.status_code == 404

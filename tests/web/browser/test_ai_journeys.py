"""The Brain in Chromium, with the fake OpenAI scripted per journey: a workflow drafted from a sentence in the editor
and saved; a failed run diagnosed and its fix applied (the new version exists and the re-driven run completes); the
contextual help answering with a citation that opens the passage. Each page is checked with axe-core and shot."""

import json
import re
import time
import uuid
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session

from schemas.tables import KnowledgePassageRow
from tests.fakes.openai import FakeOpenAI, Reply
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.browser.conftest import check_page, shot
from tests.web.browser.test_journeys import sign_in_by_link, tenant_with_admin


def signed_in(page: Page, live_url: str, sink: SmtpSink) -> list[str]:
    """A new tenant's admin signed in; the page's errors as they come (console, uncaught, answers of 500 and above)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 500 else None)
    _tenant, email = tenant_with_admin(live_url, sink)
    sign_in_by_link(page, sink, email)
    return errors


def csrf(page: Page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or ""
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', headers)
    assert found, headers
    return found.group(1)


def until_closed(page: Page, run_id: str) -> dict[str, Any]:
    """The run as the JSON API reads it, once its execution has closed (polled with the page's session)."""
    deadline = time.monotonic() + 20
    while True:
        run = page.request.get(f"/api/runs/{run_id}").json()
        if run.get("closed_at") or time.monotonic() > deadline:
            assert run.get("closed_at"), run
            return dict(run)
        time.sleep(0.05)


def test_a_workflow_drafted_from_a_sentence_in_the_editor_is_saved(
    page: Page, live_url: str, smtp_sink: SmtpSink, fake_openai: FakeOpenAI
) -> None:
    marker = f"heron{uuid.uuid4().hex[:6]}"
    definition = {
        "name": "Heron count",
        "steps": [
            {"id": "count", "type": "log", "message": "Counting the herons"},
            {"id": "pause", "type": "delay", "seconds": 5},
            {"id": "done", "type": "log", "message": "Herons counted"},
        ],
    }
    explanation = "Logs the count, waits five seconds, then logs that it is done."
    fake_openai.script(Reply(content={"definition": definition, "explanation": explanation}), match=marker)
    errors = signed_in(page, live_url, smtp_sink)
    page.goto("/app/workflows/new")
    expect(page.locator("#wf-editor.is-ready")).to_be_visible()

    page.get_by_text("Describe it", exact=True).click()
    page.get_by_label("Describe the workflow in a sentence").fill(f"Count the {marker} birds, wait, then say so")
    page.get_by_role("button", name="Draft it").click()

    expect(page.locator(".wf-node-item .wf-node-type")).to_have_text(["Log", "Delay", "Log"])
    expect(page.locator("#wf-describe-result")).to_contain_text(explanation)
    expect(page.locator("#wf-describe-result")).to_contain_text("The draft passes the validator.")
    expect(page.locator("#wf-check")).to_have_text("No problems")
    check_page(page, "ai-01-describe-it-drafted")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#wf-save-note")).to_contain_text("Saved version 1.")
    page.get_by_role("link", name="Open the workflow's page").click()
    expect(page.get_by_role("heading", name="Heron count")).to_be_visible()
    assert len(fake_openai.requests_matching(marker)) == 1
    assert errors == []


def test_a_failed_run_is_diagnosed_and_its_fix_applied_and_re_driven(
    page: Page, live_url: str, smtp_sink: SmtpSink, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    marker = f"Brittle{uuid.uuid4().hex[:6]}"
    errors = signed_in(page, live_url, smtp_sink)
    fetch = {"id": "fetch", "type": "http_request", "url": f"{target_server.url}/status/404", "timeout_s": 2}
    created = page.request.post(
        "/api/workflows", data={"name": marker, "steps": [fetch]}, headers={"X-CSRF-Token": csrf(page)}
    )
    assert created.status == 201, created.text()
    workflow_id = created.json()["id"]
    patch = [{"op": "replace", "path": "/steps/0/url", "value": f"{target_server.url}/json"}]
    diagnosis: dict[str, Any] = {
        "category": "validation",
        "cause": "The step calls an address that does not exist (404).",
        "explanation": "The target answers 404 for /status/404; the orders live at /json.",
        "summary": "Call /json instead of /status/404.",
        "patch": patch,
    }
    fake_openai.script(Reply(content=diagnosis), match=marker)

    page.goto(f"/app/workflows/{workflow_id}")
    page.get_by_role("button", name="Start a run of v1").click()
    expect(page).to_have_url(re.compile(r"/app/runs/[0-9a-f-]+$"))
    until_closed(page, page.url.rsplit("/", 1)[1])  # its execution has closed: it can be diagnosed
    page.reload()
    expect(page.get_by_role("heading", name="What went wrong")).to_be_visible()
    page.get_by_role("button", name="Diagnose this run").click()
    result = page.locator("#diagnosis-result")
    expect(result).to_contain_text("The step calls an address that does not exist (404).")
    expect(result.locator(".diff-add", has_text=f'"url": "{target_server.url}/json"')).to_have_count(1)
    expect(result.locator(".diff-del", has_text="/status/404")).to_have_count(1)
    check_page(page, "ai-02-why-did-this-fail")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "ai-02b-why-did-this-fail-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Apply fix").click()

    expect(page.get_by_test_id("fix-applied")).to_have_text("The fix is stored as version 2 of the workflow.")
    check_page(page, "ai-03-fix-applied")
    redriven = page.get_by_test_id("redriven-run")
    until_closed(page, (redriven.get_attribute("href") or "").rsplit("/", 1)[1])
    redriven.click()
    expect(page.get_by_role("status")).to_contain_text("completed")
    page.goto(f"/app/workflows/{workflow_id}")
    expect(page.get_by_role("heading", name="Changes from v1 to v2")).to_be_visible()
    assert len(fake_openai.requests_matching(marker)) == 1
    assert errors == []


def test_the_contextual_help_answers_with_a_citation_that_opens_the_passage(
    page: Page, live_url: str, smtp_sink: SmtpSink, fake_openai: FakeOpenAI, engine: Engine
) -> None:
    word = f"kestrel{uuid.uuid4().hex[:6]}"
    passage_id = f"readme-{word}"
    with Session(engine) as session:
        session.add(KnowledgePassageRow(
            id=passage_id, source="readme", title=f"Retries for {word} steps", url=f"/app/help/knowledge/{passage_id}",
            body=f"## Retries\n\nA {word} step retries with `retry.max_attempts`.\n\n- at most 10 attempts\n- <b>never</b> forever",
            digest="test", position=10_000,
        ))  # fmt: skip
        session.commit()
    answer = {"answer": f"Give the {word} step a retry policy with more attempts.", "cited": [passage_id]}
    fake_openai.script(Reply(content=answer), match=word)
    errors = signed_in(page, live_url, smtp_sink)

    page.get_by_role("button", name="Help").click()
    question = page.get_by_label("Ask about Levqor or this page")
    expect(question).to_be_focused()
    question.fill(f"How do {word} steps retry?")
    question.press("Enter")

    reply = page.locator("#help-answer .help-reply")
    expect(reply).to_contain_text("Give the")
    expect(page.locator("[data-credits] dd").first).to_have_text(re.compile(r"^[1-9]\d* of "))  # read again
    check_page(page, "ai-04-help-answer")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "ai-04b-help-answer-phone", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.keyboard.press("Escape")
    expect(page.locator("#help-panel")).to_be_hidden()
    expect(page.get_by_role("button", name="Help")).to_be_focused()
    page.keyboard.press("Enter")  # the keyboard opens it again, on the question with the answer kept
    expect(page.get_by_label("Ask about Levqor or this page")).to_be_focused()
    page.get_by_role("link", name=f"Retries for {word} steps").click()
    expect(page.get_by_role("heading", name=f"Retries for {word} steps", level=1)).to_be_visible()
    expect(page.locator(".passage-body li").nth(1)).to_have_text("<b>never</b> forever")
    check_page(page, "ai-05-knowledge-passage")
    page.get_by_role("link", name="Help", exact=True).first.click()
    page.get_by_role("searchbox", name="Search the knowledge base").fill(word)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".passage-hit h3")).to_have_text([f"Retries for {word} steps"])
    check_page(page, "ai-05b-knowledge-search")
    asked = json.dumps(fake_openai.requests_matching(word)[0])
    assert "The user asks from the page home" in asked
    assert errors == []


def test_a_new_tenant_plans_its_first_workflow_in_the_wizard_and_follows_a_suggestion(
    page: Page, live_url: str, smtp_sink: SmtpSink, fake_openai: FakeOpenAI
) -> None:
    goals, sentence = f"osprey{uuid.uuid4().hex[:6]}", f"merlin{uuid.uuid4().hex[:6]}"
    plan = ["Store the CRM's address as a secret", "Draft the workflow", "Run it once by hand"]
    fake_openai.script(Reply(content={"plan": plan, "first_workflow": f"Tell the team ({sentence})"}), match=goals)
    mail = {"id": "tell", "type": "email", "to": ["team@example.test"], "subject": "New lead", "body": "A new lead"}
    definition = {"name": "Lead alert", "steps": [{"id": "note", "type": "log", "message": "lead"}, mail]}
    fake_openai.script(Reply(content={"definition": definition, "explanation": "Logs, then e-mails the team."}),
                       match=sentence)  # fmt: skip
    errors = signed_in(page, live_url, smtp_sink)

    page.get_by_role("link", name="Open the welcome wizard").click()
    page.get_by_label("Your goals, in a sentence or two").fill(f"Tell my team about new leads ({goals})")
    page.get_by_role("button", name="Plan my first workflow").click()
    expect(page.locator(".welcome-plan li")).to_have_text(plan)
    expect(page.get_by_role("heading", name="First draft: Lead alert")).to_be_visible()
    check_page(page, "ai-06-welcome-plan")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "ai-06b-welcome-plan-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Open in the editor").click()
    expect(page.locator("#wf-editor.is-ready")).to_be_visible()
    expect(page.locator(".wf-node-item .wf-node-type")).to_have_text(["Log", "E-mail"])
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#wf-save-note")).to_contain_text("Saved version 1.")
    page.get_by_role("link", name="Open the workflow's page").click()

    suggestion = page.locator('.suggestion-item[data-kind="guard_with_approval"]')
    expect(suggestion).to_contain_text("Guard this with an approval")
    check_page(page, "ai-07-suggestions")
    suggestion.get_by_role("link", name="Edit step tell").click()
    expect(page.locator("#wf-editor.is-ready")).to_be_visible()
    expect(page.locator("#wf-panel-title")).to_have_text("E-mail · step 2")
    assert errors == []

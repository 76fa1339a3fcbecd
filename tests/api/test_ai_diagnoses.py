"""The AI debugger through the API, against the real dev server, the local target and the fake OpenAI: a failed run
diagnosed with a scripted AI patch, the fix validated and shown as a diff, applied as a new version (audited) and
the run re-driven on it; the rules' fallback; who may see and apply what."""

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from schemas.tables import AuditEntry, Tenant
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.toggling import set_toggles, toggles_restored  # noqa: F401 (a fixture the test uses)
from tests.api.waiting import finished, poll_run, waiting
from tests.conftest import founder_headers
from tests.fakes.openai import FakeOpenAI, Reply
from tests.fakes.target import TargetServer

SECRET_VALUE = "crm-secret-value-0123456789"
CUSTOMER = "ada.lovelace@example.com"


def marker() -> str:
    """A word only this test's prompts carry (in the workflow's name), for the fake's scripts."""
    return f"mend{uuid.uuid4().hex[:10]}"


def failed_run(
    api: TestClient, target: TargetServer, word: str, tenant: ApiTenant | None = None
) -> tuple[ApiTenant, str, str]:
    """A run whose HTTP step (naming a secret) keeps answering 500 until its 4th call: it fails after its 3 attempts.
    Its input holds an e-mail address."""
    tenant = tenant or new_tenant(api)
    stored = api.put("/api/secrets/CRM_TOKEN", json={"value": SECRET_VALUE}, headers=tenant.admin)
    assert stored.status_code in (200, 201), stored.text
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "hello", "type": "log", "message": "for {{ input.customer }}"},
        {
            "id": "push",
            "type": "http_request",
            "method": "POST",
            "url": f"{target.url}/flaky/{word}?fail=3&code=500",
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
            "json": {"customer": "{{ input.customer }}"},
        },
        name=f"sync {word}",
    )
    run_id = api.post(
        f"/api/workflows/{workflow_id}/runs", json={"input": {"customer": CUSTOMER}}, headers=tenant.member
    ).json()["run_id"]
    assert poll_run(api, run_id, tenant.member, finished, timeout_s=30)["status"] == "failed"
    return tenant, workflow_id, run_id


def ai_answer(patch: list[dict[str, Any]], category: str = "target_5xx") -> dict[str, Any]:
    return {
        "category": category,
        "cause": "The CRM kept answering 500",
        "explanation": "Its server failed three times in a row; it recovers after a while.",
        "summary": "Retry the push up to 8 times",
        "patch": patch,
    }


MORE_ATTEMPTS = [
    {
        "op": "add",
        "path": "/steps/1/retry",
        "value": {"max_attempts": 8, "initial_interval_s": 0.1, "max_interval_s": 1},
    }
]


def diagnose(api: TestClient, run_id: str, headers: dict[str, str], **body: Any) -> Any:
    return api.post(f"/api/ai/runs/{run_id}/diagnose", json=body or None, headers=headers)


def test_an_ai_fix_is_validated_applied_as_a_new_version_and_the_run_redriven_on_it(
    api: TestClient, engine: Engine, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, workflow_id, run_id = failed_run(api, target_server, word)
    fake_openai.script(Reply(content=ai_answer(MORE_ATTEMPTS)), match=word)

    diagnosed = diagnose(api, run_id, tenant.member, language="en")

    assert diagnosed.status_code == 200, diagnosed.text
    diagnosis = diagnosed.json()
    assert (diagnosis["source"], diagnosis["category"], diagnosis["step_id"]) == ("ai", "target_5xx", "push")
    assert diagnosis["cause"] == "The CRM kept answering 500" and diagnosis["credits"] > 0
    fix = diagnosis["fix"]
    assert fix["report"]["valid"] and fix["base_version"] == 1 and fix["definition_id"] == workflow_id
    assert '+      "retry": {' in fix["diff"] and '+        "max_attempts": 8,' in fix["diff"]
    listed = api.get(f"/api/ai/runs/{run_id}/fixes", headers=tenant.member).json()
    assert [f["fix_id"] for f in listed] == [fix["fix_id"]] and listed[0]["applied_version"] is None

    by_member = api.post(f"/api/ai/runs/{run_id}/fixes/{fix['fix_id']}/apply", json={}, headers=tenant.member)
    applied = api.post(
        f"/api/ai/runs/{run_id}/fixes/{fix['fix_id']}/apply", json={"redrive": True}, headers=tenant.admin
    )

    assert (by_member.status_code, by_member.json()["code"]) == (403, "admin_only")
    assert applied.status_code == 200, applied.text
    assert applied.json()["version"] == 2
    version = api.get(f"/api/workflows/{workflow_id}", headers=tenant.member).json()
    assert version["version"] == 2 and version["definition"]["steps"][1]["retry"]["max_attempts"] == 8
    redriven = poll_run(api, applied.json()["redriven_run_id"], tenant.member, finished, timeout_s=30)
    assert (redriven["status"], redriven["version"], redriven["resumed_from"]) == ("completed", 2, run_id)
    assert [(s["step_id"], s["reused_from"]) for s in redriven["steps"]] == [("hello", run_id), ("push", None)]
    with Session(engine) as session:
        [audit] = session.exec(
            select(AuditEntry).where(AuditEntry.tenant_id == tenant.id, AuditEntry.action == "ai_fix_applied")
        ).all()
    assert audit.detail["fix_id"] == fix["fix_id"] and audit.detail["version"] == 2
    again = api.post(f"/api/ai/runs/{run_id}/fixes/{fix['fix_id']}/apply", json={}, headers=tenant.admin)
    assert (again.status_code, again.json()["code"]) == (409, "fix_already_applied")
    listed = api.get(f"/api/ai/runs/{run_id}/fixes", headers=tenant.member).json()
    assert listed[0]["applied_version"] == 2 and listed[0]["redriven_run_id"] == redriven["run_id"]


def test_secrets_and_email_addresses_never_reach_the_ai(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    fake_openai.script(Reply(content=ai_answer(MORE_ATTEMPTS)), match=word)

    assert diagnose(api, run_id, tenant.member).status_code == 200

    [request] = fake_openai.requests_matching(word)
    sent = json.dumps(request, ensure_ascii=False)
    assert SECRET_VALUE not in sent and CUSTOMER not in sent
    assert "{{ secrets.CRM_TOKEN }}" in sent and "500" in sent


def test_when_the_ai_fails_the_category_rules_diagnose_with_a_valid_patch(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    fake_openai.script(Reply(status=500), Reply(status=500), Reply(status=500), match=word)

    answer = diagnose(api, run_id, tenant.member, language="es")

    assert answer.status_code == 200, answer.text
    diagnosis = answer.json()
    assert (diagnosis["source"], diagnosis["fallback_reason"], diagnosis["category"]) == (
        "fallback",
        "provider_failed",
        "target_5xx",
    )
    assert diagnosis["credits"] == 0 and "500" in diagnosis["cause"]
    assert diagnosis["fix"]["report"]["valid"] and diagnosis["fix"]["source"] == "fallback"
    assert diagnosis["fix"]["patch"][0]["path"] == "/steps/1/retry"


def test_an_ai_patch_that_breaks_the_definition_is_repaired_once_then_dropped(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    breaking = [{"op": "replace", "path": "/steps/1/url", "value": "not a url"}]
    still_breaking = [{"op": "add", "path": "/steps/1/next", "value": "nowhere"}]
    fake_openai.script(Reply(content=ai_answer(breaking)), Reply(content=ai_answer(still_breaking)), match=word)

    answer = diagnose(api, run_id, tenant.member)

    assert answer.status_code == 200, answer.text
    assert answer.json()["source"] == "ai" and answer.json()["fix"] is None
    [_, repair] = fake_openai.requests_matching(word)
    assert "cannot be applied" in repair["messages"][-1]["content"]
    assert api.get(f"/api/ai/runs/{run_id}/fixes", headers=tenant.member).json() == []


def test_a_repaired_patch_is_offered(api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    not_applying = [{"op": "replace", "path": "/steps/7/timeout_s", "value": 30}]
    fake_openai.script(Reply(content=ai_answer(not_applying)), Reply(content=ai_answer(MORE_ATTEMPTS)), match=word)

    fix = diagnose(api, run_id, tenant.member).json()["fix"]

    assert fix is not None and fix["patch"] == MORE_ATTEMPTS


def test_a_patch_writing_a_masked_value_back_is_not_offered(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    masked = [{"op": "replace", "path": "/steps/1/headers/Authorization", "value": "***"}]
    fake_openai.script(Reply(content=ai_answer(masked)), Reply(content=ai_answer(masked)), match=word)

    assert diagnose(api, run_id, tenant.member).json()["fix"] is None


def test_another_tenants_run_and_fixes_answer_404(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    fake_openai.script(Reply(content=ai_answer(MORE_ATTEMPTS)), match=word)
    fix_id = diagnose(api, run_id, tenant.member).json()["fix"]["fix_id"]
    stranger = new_tenant(api, name="Stranger")

    answers = [
        diagnose(api, run_id, stranger.admin),
        api.get(f"/api/ai/runs/{run_id}/fixes", headers=stranger.admin),
        api.post(f"/api/ai/runs/{run_id}/fixes/{fix_id}/apply", json={}, headers=stranger.admin),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "run_not_found")] * 3


def test_a_fix_of_another_run_answers_404(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word, other = marker(), marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    _, _, other_run = failed_run(api, target_server, other, tenant)
    fake_openai.script(Reply(content=ai_answer(MORE_ATTEMPTS)), match=word)
    fix_id = diagnose(api, run_id, tenant.member).json()["fix"]["fix_id"]

    answer = api.post(f"/api/ai/runs/{other_run}/fixes/{fix_id}/apply", json={}, headers=tenant.admin)

    assert (answer.status_code, answer.json()["code"]) == (404, "fix_not_found")


def test_a_running_run_cannot_be_diagnosed(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, {"id": "gate", "type": "approval", "class": "B", "message": "ok?"})
    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()["run_id"]
    poll_run(api, run_id, tenant.member, waiting)

    answer = diagnose(api, run_id, tenant.member)

    assert (answer.status_code, answer.json()["code"]) == (409, "run_not_failed")
    api.post(f"/api/runs/{run_id}/cancel", headers=tenant.admin)


def test_a_rejected_run_is_diagnosed_without_a_fix(api: TestClient, fake_openai: FakeOpenAI) -> None:
    word = marker()
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api, tenant, {"id": "gate", "type": "approval", "class": "B", "message": "ok?"}, name=f"gated {word}"
    )
    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()["run_id"]
    poll_run(api, run_id, tenant.member, waiting)
    decided = api.post(f"/api/runs/{run_id}/approvals/gate", json={"decision": "reject"}, headers=tenant.admin)
    assert decided.status_code in (200, 204), decided.text
    assert poll_run(api, run_id, tenant.member, finished)["status"] == "rejected"
    fake_openai.script(Reply(refusal="I cannot help with that"), match=word)

    diagnosis = diagnose(api, run_id, tenant.member).json()

    assert (diagnosis["source"], diagnosis["fallback_reason"]) == ("fallback", "refused")
    assert (diagnosis["category"], diagnosis["step_id"], diagnosis["fix"]) == ("rejected", "gate", None)


def test_a_fix_whose_workflow_changed_since_is_not_applied(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, workflow_id, run_id = failed_run(api, target_server, word)
    fake_openai.script(Reply(content=ai_answer(MORE_ATTEMPTS)), match=word)
    fix_id = diagnose(api, run_id, tenant.member).json()["fix"]["fix_id"]
    edit = {"name": "edited", "steps": [{"id": "hello", "type": "log", "message": "someone else's edit"}]}
    assert api.put(f"/api/workflows/{workflow_id}", json=edit, headers=tenant.admin).status_code == 200

    answer = api.post(f"/api/ai/runs/{run_id}/fixes/{fix_id}/apply", json={"redrive": True}, headers=tenant.admin)

    assert (answer.status_code, answer.json()["code"]) == (409, "definition_changed")
    assert api.get(f"/api/workflows/{workflow_id}", headers=tenant.member).json()["version"] == 2


@pytest.mark.usefixtures("toggles_restored")
def test_with_ai_switched_off_the_rules_answer_without_asking(
    api: TestClient, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    set_toggles(api, ai_features=False)

    diagnosis = diagnose(api, run_id, tenant.member).json()

    assert (diagnosis["source"], diagnosis["fallback_reason"]) == ("fallback", "ai_off")
    assert diagnosis["fix"]["report"]["valid"] and fake_openai.requests_matching(word) == []


def test_the_founder_who_acts_for_no_tenant_is_refused(api: TestClient, target_server: TargetServer) -> None:
    _, _, run_id = failed_run(api, target_server, marker())

    answer = diagnose(api, run_id, founder_headers())

    assert (answer.status_code, answer.json()["code"]) == (403, "tenant_key_required")


def test_a_tenant_out_of_ai_credits_gets_429_with_the_rules_diagnosis(
    api: TestClient, engine: Engine, fake_openai: FakeOpenAI, target_server: TargetServer
) -> None:
    word = marker()
    tenant, _, run_id = failed_run(api, target_server, word)
    with Session(engine) as session:
        row = session.get_one(Tenant, tenant.id)
        row.ai_paused = True  # as the cost autopilot pauses a tenant's AI: no AI call is made for it
        session.add(row)
        session.commit()

    answer = diagnose(api, run_id, tenant.member)

    assert (answer.status_code, answer.json()["code"]) == (429, "ai_credits_exhausted")
    fallback = answer.json()["fallback"]
    assert (fallback["source"], fallback["fallback_reason"]) == ("fallback", "credits_exhausted")
    assert fallback["fix"]["report"]["valid"] and fake_openai.requests_matching(word) == []


@pytest.mark.usefixtures("toggles_restored")
def test_a_step_that_timed_out_gets_the_rules_longer_timeout_and_its_redrive_completes(
    api: TestClient, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "slow", "type": "http_request", "url": f"{target_server.url}/slow?seconds=1.5", "timeout_s": 1},
    )
    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()["run_id"]
    assert poll_run(api, run_id, tenant.member, finished, timeout_s=30)["status"] == "failed"
    set_toggles(api, ai_features=False)

    diagnosis = diagnose(api, run_id, tenant.member).json()
    applied = api.post(
        f"/api/ai/runs/{run_id}/fixes/{diagnosis['fix']['fix_id']}/apply", json={"redrive": True}, headers=tenant.admin
    )

    assert (diagnosis["category"], diagnosis["fix"]["patch"]) == (
        "timeout",
        [{"op": "add", "path": "/steps/0/timeout_s", "value": 30}],
    )
    assert applied.status_code == 200, applied.text
    redriven = poll_run(api, applied.json()["redriven_run_id"], tenant.member, finished, timeout_s=30)
    assert (redriven["status"], redriven["version"]) == ("completed", 2)

"""Workflow pages: the list with search, a workflow's versions and their diff, its webhook shown once, schedules
and runs sections, the editor's page, and the wall between tenants."""

import time

from fastapi.testclient import TestClient

from tests.conftest import FOUNDER_TOKEN
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import (
    csrf_of,
    invite_by_founder,
    make_tenant,
    signed_in_as,
    unique_email,
    use_cookies,
    wait_for_link,
)

LOG = {"id": "hello", "type": "log", "message": "hi"}


def signed_in_admin(web: TestClient, sink: SmtpSink) -> dict[str, str]:
    tenant_id, email = make_tenant(web, "Pages"), unique_email("admin")
    invite_by_founder(web, tenant_id, email)
    wait_for_link(sink, email)
    return signed_in_as(web, sink, email)


def create(web: TestClient, csrf: str, name: str, message: str = "hi") -> str:
    body = {"name": name, "steps": [{**LOG, "message": message}]}
    created = web.post("/api/workflows", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_the_list_finds_workflows_by_name(web: TestClient, smtp_sink: SmtpSink) -> None:
    csrf = signed_in_admin(web, smtp_sink)["csrf"]
    create(web, csrf, "Nightly invoices")
    create(web, csrf, "Welcome mail")

    everything = web.get("/app/workflows")
    found = web.get("/app/workflows", params={"q": "INVOICE"})
    nothing = web.get("/app/workflows", params={"q": "100%_"})

    assert everything.status_code == 200 and "Nightly invoices" in everything.text and "Welcome mail" in everything.text
    assert "Nightly invoices" in found.text and "Welcome mail" not in found.text
    assert nothing.status_code == 200 and "No workflow’s name contains" in nothing.text


def test_a_workflow_page_diffs_two_versions_with_tenant_text_escaped(web: TestClient, smtp_sink: SmtpSink) -> None:
    csrf = signed_in_admin(web, smtp_sink)["csrf"]
    workflow_id = create(web, csrf, "Greeter", "hi")
    second = {"name": "Greeter", "steps": [{**LOG, "message": "<script>alert(1)</script>"}]}
    assert web.put(f"/api/workflows/{workflow_id}", json=second, headers={"X-CSRF-Token": csrf}).status_code == 200

    page = web.get(f"/app/workflows/{workflow_id}")
    chosen = web.get(f"/app/workflows/{workflow_id}", params={"old": 2, "new": 2})
    missing = web.get(f"/app/workflows/{workflow_id}", params={"old": 9})

    assert page.status_code == 200
    assert "Changes from v1 to v2" in page.text
    assert (
        '<span class="diff-del"><span class="visually-hidden">removed: </span>-      &#34;message&#34;: &#34;hi&#34;'
        in page.text
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert "The two versions are the same." in chosen.text
    assert missing.status_code == 404
    assert "Schedules" in page.text and "No schedules." in page.text and "No runs yet." in page.text


def test_the_webhook_url_and_signing_secret_are_shown_once(web: TestClient, smtp_sink: SmtpSink) -> None:
    csrf = signed_in_admin(web, smtp_sink)["csrf"]
    workflow_id = create(web, csrf, "Hooked")

    created = web.post(f"/app/workflows/{workflow_id}/webhook", data={"signed": "true", "csrf_token": csrf})
    again = web.get(f"/app/workflows/{workflow_id}")
    forged = web.post(f"/app/workflows/{workflow_id}/webhook", data={"signed": "true"})

    assert created.status_code == 200
    assert 'data-testid="hook-url">http://testserver/api/hooks/whk_' in created.text
    assert 'data-testid="hook-secret">whsec_' in created.text
    assert again.status_code == 200 and "whsec_" not in again.text and "whk_" not in again.text
    assert "Rotate URL and secret" in again.text
    assert forged.status_code == 403


def test_the_editor_pages_carry_the_definition_and_another_tenant_sees_404(
    web: TestClient, smtp_sink: SmtpSink
) -> None:
    owner = signed_in_admin(web, smtp_sink)
    workflow_id = create(web, owner["csrf"], "</script><b>x")
    stranger = signed_in_admin(web, smtp_sink)

    use_cookies(web, owner)
    editor = web.get(f"/app/workflows/{workflow_id}/edit")
    new = web.get("/app/workflows/new")
    use_cookies(web, stranger)
    foreign = [web.get(f"/app/workflows/{workflow_id}{tail}") for tail in ("", "/edit")]
    foreign_hook = web.post(f"/app/workflows/{workflow_id}/webhook", data={"csrf_token": stranger["csrf"]})

    assert editor.status_code == 200 and '<script type="module" src="/static/js/editor.js">' in editor.text
    assert "\\u003c/script\\u003e\\u003cb\\u003ex" in editor.text and "</script><b>" not in editor.text
    assert new.status_code == 200 and 'id="wf-initial">null</script>' in new.text
    assert [page.status_code for page in foreign] == [404, 404] and foreign_hook.status_code == 404


def test_a_workflow_page_shows_its_schedules_in_words_with_next_times_and_its_runs(
    web: TestClient, smtp_sink: SmtpSink
) -> None:
    csrf = signed_in_admin(web, smtp_sink)["csrf"]
    workflow_id = create(web, csrf, "Scheduled")
    headers = {"X-CSRF-Token": csrf}
    timing = {"cron": "0 9 * * 1-5", "timezone": "America/New_York"}
    assert web.post(f"/api/workflows/{workflow_id}/schedules", json=timing, headers=headers).status_code == 201
    started = web.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=headers)
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]

    deadline = time.monotonic() + 15
    page = web.get(f"/app/workflows/{workflow_id}")
    while run_id[:8] not in page.text and time.monotonic() < deadline:  # visibility lists a new run a moment later
        time.sleep(0.2)
        page = web.get(f"/app/workflows/{workflow_id}")

    assert page.status_code == 200
    assert "At 09:00, Monday through Friday" in page.text and "(America/New_York)" in page.text
    assert page.text.count('<li><time datetime="') == 3  # the next three fire times
    assert "<code>0 9 * * 1-5</code>" in page.text
    assert f"/{run_id}" in page.text and run_id[:8] in page.text


def test_the_founder_without_a_tenant_is_told_workflows_belong_to_tenants(web: TestClient) -> None:
    web.cookies.clear()
    form = web.get("/auth/token")
    signed = web.post("/auth/token", data={"token": FOUNDER_TOKEN, "csrf_token": csrf_of(form)}, follow_redirects=False)

    listed = web.get("/app/workflows")
    editor = web.get("/app/workflows/new")

    assert signed.status_code == 303
    assert listed.status_code == 200 and "Workflows belong to tenants" in listed.text
    assert editor.status_code == 404


def test_a_run_started_from_the_workflow_page_passes_admission_and_opens_its_page(
    web: TestClient, smtp_sink: SmtpSink
) -> None:
    admin = signed_in_admin(web, smtp_sink)
    csrf = use_cookies(web, admin)
    workflow_id = create(web, csrf, "Greeter", message="hello {{ input.who }}")
    form = {"csrf_token": csrf, "input": '{"who": "Ada"}'}

    started = web.post(f"/app/workflows/{workflow_id}/runs", data=form, follow_redirects=False)
    not_an_object = web.post(f"/app/workflows/{workflow_id}/runs", data={**form, "input": "[1]"})
    forged = web.post(f"/app/workflows/{workflow_id}/runs", data={"input": "{}"}, follow_redirects=False)

    assert started.status_code == 303 and started.headers["location"].startswith("/app/runs/")
    run_id = started.headers["location"].removeprefix("/app/runs/")
    deadline = time.monotonic() + 15
    while (run := web.get(f"/api/runs/{run_id}").json())["status"] != "completed":
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    assert run["steps"][0]["result"]["message"] == "hello Ada" and run["trigger"] == "api"
    assert not_an_object.status_code == 422 and "must be a JSON object" in not_an_object.text
    assert forged.status_code == 403

"""A marketing workflow's page says so with a badge (in the reader's language); an operations workflow's has none."""

from fastapi.testclient import TestClient

from tests.fakes.smtp import SmtpSink
from tests.web.conftest import invite_by_founder, make_tenant, signed_in_as, unique_email, wait_for_link

LOG = {"id": "hello", "type": "log", "message": "hi"}
BADGE = '<span class="badge badge-marketing"'


def create(web: TestClient, csrf: str, **extra: str) -> str:
    created = web.post(
        "/api/workflows", json={"name": "Teaser", "steps": [LOG], **extra}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_marketing_workflow_page_shows_the_badge_and_an_operations_one_does_not(
    web: TestClient, smtp_sink: SmtpSink
) -> None:
    tenant_id, email = make_tenant(web, "Badges"), unique_email("admin")
    invite_by_founder(web, tenant_id, email)
    wait_for_link(smtp_sink, email)
    csrf = signed_in_as(web, smtp_sink, email)["csrf"]
    marketing, operations = create(web, csrf, purpose="marketing"), create(web, csrf)

    english = web.get(f"/app/workflows/{marketing}")
    japanese = web.get(f"/ja/app/workflows/{marketing}")
    plain = web.get(f"/app/workflows/{operations}")

    assert english.status_code == 200 and BADGE in english.text and ">Marketing</span>" in english.text
    assert "before launch its runs send nothing without the founder&#39;s approval" in english.text
    assert japanese.status_code == 200 and ">マーケティング</span>" in japanese.text
    assert plain.status_code == 200 and BADGE not in plain.text

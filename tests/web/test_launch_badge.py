"""A marketing workflow's page says so with a badge (in the reader's language); an operations workflow's has none.
A run's page lists the campaign review where the run added it."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.web.runs_view import step_views
from language.purpose import CAMPAIGN_REVIEW_ID
from schemas.runs import RunPublic, StepOutcome
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


def test_the_campaign_review_is_listed_where_the_run_added_it() -> None:
    now = datetime.now(UTC)
    steps = [
        StepOutcome(step_id=step_id, type=kind, status=status)
        for step_id, kind, status in [
            ("fetch", "http_request", "succeeded"),
            (CAMPAIGN_REVIEW_ID, "approval", "rejected"),
            ("announce", "email", "dry_run"),
        ]
    ]
    run = RunPublic(
        run_id="r", definition_id="d", version=1, status="running", current_step="announce", waiting=None,
        steps=steps, vars={}, error=None, trigger="api", resumed_from=None, input={}, started_at=now, closed_at=None,
    )  # fmt: skip
    planned = [
        {"id": "fetch", "type": "http_request"},
        {"id": "announce", "type": "email"},
        {"id": "tell", "type": "log"},
    ]

    views = step_views(run, planned)

    assert [view.step_id for view in views] == ["fetch", CAMPAIGN_REVIEW_ID, "announce", "tell"]

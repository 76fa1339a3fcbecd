"""Before launch, the founder finds a marketing run's campaign review in the approval queue with what it would send,
rejects it, and the run finishes as a dry run; the tenant's workflow page wears the Marketing badge (axe-checked)."""

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from language.purpose import CAMPAIGN_REVIEW_ID
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page
from tests.web.browser.test_admin_panel_journeys import FOUNDER, wait_for_notice
from tests.web.browser.test_journeys import sign_in_by_link

RECIPIENT = "leads@example.com"
TEASER = {"id": "teaser", "type": "email", "to": [RECIPIENT], "subject": "Meet {{ input.product }}", "body": "Soon."}


def set_stage(live_url: str, stage: str) -> None:
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        answer = api.put("/api/admin/toggles", json={"launch_stage": stage, "reason": "browser journey"})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def pre_launch(live_url: str) -> Iterator[None]:
    set_stage(live_url, "pre-launch")
    yield
    set_stage(live_url, "post-launch")


def held_campaign(live_url: str) -> tuple[str, str, dict[str, str]]:
    """A tenant's marketing run waiting at its campaign review: the run's and the workflow's ids, the tenant's key."""
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        created = api.post("/api/tenants", json={"name": f"Growth {uuid.uuid4().hex[:6]}", "plan": "pro"}).json()
    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    with httpx.Client(base_url=live_url, headers=key) as api:
        body = {"name": "Launch teaser", "purpose": "marketing", "steps": [TEASER]}
        workflow_id = api.post("/api/workflows", json=body).json()["id"]
        run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {"product": "Levqor"}}).json()["run_id"]
        deadline = time.monotonic() + 20
        while api.get(f"/api/runs/{run_id}").json().get("waiting") is None:
            assert time.monotonic() < deadline, "the campaign review never waited"
            time.sleep(0.1)
    return str(run_id), str(workflow_id), key


def run_of(live_url: str, key: dict[str, str], run_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=live_url, headers=key) as api:
        return dict(api.get(f"/api/runs/{run_id}").json())


def test_the_founder_rejects_a_campaign_review_and_the_run_finishes_dry(
    page: Page, live_url: str, smtp_sink: SmtpSink, pre_launch: None
) -> None:
    run_id, _workflow_id, key = held_campaign(live_url)
    wait_for_notice(smtp_sink, run_id)
    sign_in_by_link(page, smtp_sink, FOUNDER)

    page.goto("/admin/power/approvals")
    card = page.locator(f'.queue-gate[data-run="{run_id}"]')
    expect(card).to_contain_text("Campaign review before launch")
    expect(card).to_contain_text('E-mail "Meet Levqor" to l***@example.com (step teaser)')  # the queue masks addresses
    check_page(page, "launch-01-campaign-review-queue")
    card.get_by_label("Comment (optional, kept with the decision)").fill("Not before launch")
    card.get_by_role("button", name="Reject").click()

    expect(page.locator(f'.queue-gate[data-run="{run_id}"]')).to_have_count(0)
    deadline = time.monotonic() + 20
    while (run := run_of(live_url, key, run_id))["status"] != "completed":
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    assert [(s["step_id"], s["status"]) for s in run["steps"]] == [
        (CAMPAIGN_REVIEW_ID, "rejected"),
        ("teaser", "dry_run"),
    ]
    assert run["steps"][1]["result"]["preview"]["to"] == [RECIPIENT]
    assert not [mail for mail in smtp_sink.messages if RECIPIENT in mail.rcpt_tos]
    page.goto(f"/app/runs/{run_id}")
    expect(page.locator(".step-status-dry_run")).to_have_text("◌ dry run: nothing sent")
    expect(page.get_by_role("img", name=re.compile("Timeline of run"))).to_be_visible()
    check_page(page, "launch-02-dry-run")


def test_a_marketing_workflow_page_wears_the_badge_in_light_and_dark(
    page: Page, live_url: str, smtp_sink: SmtpSink
) -> None:
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        tenant = api.post("/api/tenants", json={"name": f"Badge {uuid.uuid4().hex[:6]}", "plan": "pro"}).json()
        admin = f"admin-{uuid.uuid4().hex[:8]}@example.com"
        assert api.post(
            f"/api/tenants/{tenant['tenant']['id']}/users", json={"email": admin, "role": "admin"}
        ).is_success
    key = {"Authorization": f"Bearer {tenant['api_key']['key']}"}
    with httpx.Client(base_url=live_url, headers=key) as api:
        body = {"name": "Launch teaser", "purpose": "marketing", "steps": [TEASER]}
        workflow_id = api.post("/api/workflows", json=body).json()["id"]
    sign_in_by_link(page, smtp_sink, admin)

    page.goto(f"/app/workflows/{workflow_id}")

    badge = page.locator(".badge-marketing")
    expect(badge).to_have_text("Marketing")
    expect(badge).to_have_attribute("title", re.compile("before launch its runs send nothing"))
    check_page(page, "launch-03-marketing-badge")
    page.emulate_media(color_scheme="dark")
    check_page(page, "launch-04-marketing-badge-dark")

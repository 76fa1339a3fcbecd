"""Browser journeys through the workspace's sections in Chromium: home with the usage picture and its limit line for a
tenant with runs, the failure queue, a secret set and deleted, usage & billing, an export requested and downloaded
when ready, a member without admin controls whose forged posts are refused; axe-core on every page, light, dark
and phone, screenshots in .artifacts/screenshots (workspace-*)."""

import json
import re
import time
from datetime import UTC, datetime

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from rules.usage import period_of
from schemas.tables import UsageCounter
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.browser.conftest import check_page
from tests.web.browser.test_journeys import sign_in_by_link
from tests.web.browser.test_runs_journeys import FORGE, Tenant, suggest

LOG = {"id": "hello", "type": "log", "message": "hello"}


class FreeTenant(Tenant):
    """A tenant on the free plan (small limits, so the usage picture has something to show)."""

    def __init__(self, live_url: str, sink: SmtpSink, name: str) -> None:
        self.live_url, self.sink = live_url, sink
        with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
            created = api.post("/api/tenants", json={"name": name, "plan": "free"}).json()
        self.id, self.key = created["tenant"]["id"], created["api_key"]["key"]


def set_usage(engine: Engine, tenant_id: str, **values: int) -> None:
    """This month's counters as a busier month would have left them (the runs themselves count the first few)."""
    period = period_of(datetime.now(UTC))
    with Session(engine) as session:
        for metric, value in values.items():
            row = session.exec(
                select(UsageCounter).where(
                    UsageCounter.tenant_id == tenant_id, UsageCounter.period == period, UsageCounter.metric == metric
                )
            ).first() or UsageCounter(tenant_id=tenant_id, period=period, metric=metric)
            row.value = value
            session.add(row)
        session.commit()


def test_home_shows_the_usage_picture_with_the_limit_line_and_the_failure_queue_its_suggestion(
    page: Page, live_url: str, smtp_sink: SmtpSink, target_server: TargetServer, engine: Engine
) -> None:
    tenant = FreeTenant(live_url, smtp_sink, "Blue Yonder")
    admin = tenant.user("admin")
    runs = [tenant.run("Nightly sync", LOG) for _ in range(3)]
    failed = tenant.run(
        "Charge card", LOG, {"id": "charge", "type": "http_request", "url": target_server.url + "/status/404"}
    )
    for run_id in [*runs, failed]:
        tenant.until(run_id, "closed_at")
    suggest(engine, failed)
    set_usage(engine, tenant.id, runs=82, steps=430, ai_credits=100)
    sign_in_by_link(page, smtp_sink, admin)

    chart = page.get_by_role("img", name=re.compile("Usage in .* against the free plan"))
    expect(chart).to_be_visible()
    expect(page.locator("svg.usage-chart line.uc-limit")).to_have_count(3)  # one through each bar
    expect(page.locator("svg.usage-chart")).to_contain_text("82 of 100 · 82% · near the limit")
    expect(page.locator("svg.usage-chart")).to_contain_text("100 of 100 · 100% · limit reached")
    today = int(page.locator(".stat").filter(has_text="Runs today").locator(".stat-value").inner_text())
    assert today >= 4
    expect(page.locator(".stat").filter(has_text="Failures open").locator(".stat-value")).to_have_text("1")
    check_page(page, "workspace-01-home")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(200)  # buttons ease their colours (120 ms); shoot the settled theme
    check_page(page, "workspace-02-home-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "workspace-03-home-phone-dark")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(color_scheme="light")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Failures").click()
    expect(page.get_by_text("Check the endpoint's URL")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Retry from charge"))).to_be_visible()
    check_page(page, "workspace-04-failures")
    page.get_by_role("link", name=re.compile("Open run of Charge card")).click()
    expect(page).to_have_url(re.compile(f"/app/runs/{failed}$"))

    page.goto("/app/usage")
    expect(page.get_by_role("img", name=re.compile("Usage in"))).to_be_visible()
    expect(page.get_by_role("button", name="Continue to payment")).to_be_visible()
    check_page(page, "workspace-05-usage-billing")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(200)  # buttons ease their colours (120 ms); shoot the settled theme
    check_page(page, "workspace-06-usage-billing-dark")


def test_an_admin_sets_and_deletes_a_secret(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    tenant = Tenant(live_url, smtp_sink, "Tailspin Toys")
    admin = tenant.user("admin")
    sign_in_by_link(page, smtp_sink, admin)

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Secrets").click()
    page.get_by_label("Name").fill("CRM_TOKEN")
    page.get_by_label("Value").fill("very-secret-value")
    page.get_by_role("button", name="Save secret").click()

    expect(page.get_by_role("status")).to_contain_text("Secret CRM_TOKEN saved")
    expect(page.get_by_role("cell", name="CRM_TOKEN", exact=True)).to_be_visible()
    assert "very-secret-value" not in page.content()
    assert page.get_by_label("Value").input_value() == ""
    check_page(page, "workspace-07-secrets")
    page.get_by_role("link", name="Delete CRM_TOKEN").click()
    expect(page.get_by_role("heading", name="Delete CRM_TOKEN?")).to_be_visible()
    check_page(page, "workspace-08-secret-delete-confirm")
    page.get_by_role("button", name="Delete CRM_TOKEN").click()
    expect(page.get_by_role("status")).to_contain_text("Secret CRM_TOKEN deleted")
    expect(page.get_by_role("cell", name="CRM_TOKEN", exact=True)).to_have_count(0)
    assert tenant.api("GET", "/api/secrets") == []


def test_a_member_sees_no_admin_controls_and_forged_posts_are_refused(
    page: Page, live_url: str, smtp_sink: SmtpSink
) -> None:
    tenant = Tenant(live_url, smtp_sink, "Wingtip")
    tenant.api("PUT", "/api/secrets/SHARED_KEY", {"value": "v"})
    member = tenant.user("member")
    sign_in_by_link(page, smtp_sink, member)

    page.goto("/app/secrets")
    expect(page.get_by_role("cell", name="SHARED_KEY", exact=True)).to_be_visible()
    secret_controls = (
        page.get_by_role("button", name="Save secret").count()
        + page.get_by_role("link", name=re.compile("Delete")).count()
    )
    check_page(page, "workspace-09-secrets-member")
    forged_set = page.evaluate(FORGE, ["/app/secrets", "name=SHARED_KEY&value=evil"])
    forged_delete = page.evaluate(FORGE, ["/app/secrets/SHARED_KEY/delete", ""])
    page.goto("/app/usage")
    billing_controls = page.get_by_role("button", name=re.compile("payment|portal")).count()
    forged_checkout = page.evaluate(FORGE, ["/app/usage/checkout", "item=pro&billing_email=a%40b.example"])
    page.goto("/app/data")
    data_controls = page.get_by_role("button", name=re.compile("export|Delete")).count()
    check_page(page, "workspace-10-data-member")
    forged_export = page.evaluate(FORGE, ["/app/data/export", ""])
    forged_delete_account = page.evaluate(FORGE, ["/app/data/delete", "confirm_name=Wingtip"])

    assert (secret_controls, billing_controls, data_controls) == (0, 0, 0)
    assert [forged_set, forged_delete, forged_checkout, forged_export, forged_delete_account] == [403] * 5
    assert [s["name"] for s in tenant.api("GET", "/api/secrets")] == ["SHARED_KEY"]
    assert tenant.api("GET", "/api/me/data-requests") == []


def test_an_admin_requests_an_export_and_downloads_it_when_ready(
    page: Page, live_url: str, smtp_sink: SmtpSink
) -> None:
    tenant = Tenant(live_url, smtp_sink, "Proseware")
    admin = tenant.user("admin")
    sign_in_by_link(page, smtp_sink, admin)

    page.goto("/app/data")
    page.get_by_role("button", name="Request an export").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("Export requested|export is ready"))
    download_link = page.get_by_role("link", name=re.compile("^Download"))
    deadline = time.monotonic() + 20
    while download_link.count() == 0:
        assert time.monotonic() < deadline, "the export was not ready within 20 s"
        time.sleep(0.3)
        page.reload()
    check_page(page, "workspace-11-data-export-ready")
    with page.expect_download() as pending:
        download_link.click()
    download = pending.value

    assert download.suggested_filename.startswith("levqor-export-") and download.suggested_filename.endswith(".json")
    archive = json.loads(open(download.path(), encoding="utf-8").read())
    assert archive["status"] == "completed" and archive["archive"]
    page.get_by_role("link", name=re.compile("Delete the account")).click()
    expect(page.get_by_label(re.compile("Type Proseware to confirm"))).to_be_visible()
    check_page(page, "workspace-12-delete-account-confirm")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(200)  # buttons ease their colours (120 ms); shoot the settled theme
    page.goto("/app/data")
    check_page(page, "workspace-13-data-dark")

"""Browser journeys through the web app in Chromium: sign in by magic link, status, inviting a member who sees no
admin controls, a forged request refused, sign-out, theme and phone layouts; every page checked with axe-core."""

import re

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page
from tests.web.conftest import mails_to, unique_email, wait_for_link

LINK = re.compile(r"(https?://\S+/auth/link\?token=\S+)")


def section(page: Page, name: str) -> Locator:
    """A link of the navigation header."""
    return page.get_by_role("navigation", name="Sections").get_by_role("link", name=name)


def tenant_with_admin(live_url: str, sink: SmtpSink) -> tuple[str, str]:
    """A tenant and an invited admin (through the JSON API with the founder token): (tenant id, admin e-mail)."""
    email = unique_email("admin")
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        tenant = api.post("/api/tenants", json={"name": "Northwind Traders", "plan": "pro"}).json()["tenant"]["id"]
        assert api.post(f"/api/tenants/{tenant}/users", json={"email": email, "role": "admin"}).status_code == 201
    wait_for_link(sink, email)
    return tenant, email


def sign_in_by_link(page: Page, sink: SmtpSink, email: str, name: str = "") -> None:
    """Asks for a link on the sign-in page, opens it from the e-mail and confirms."""
    before = len(mails_to(sink, email))
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to Levqor")).to_be_visible()
    if name:
        check_page(page, f"{name}-sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    if name:
        check_page(page, f"{name}-check-email")
    wait_for_link(sink, email, before + 1)
    # The first sign-in e-mail after those before (a founder's support notice may arrive in between).
    link = next(found for mail in mails_to(sink, email)[before:] if (found := LINK.search(mail.get_content())))
    page.goto(link.group(1))
    expect(page.get_by_text(f"You are signing in as {email}")).to_be_visible()
    if name:
        check_page(page, f"{name}-confirm-link")
    page.get_by_role("button", name="Continue to Levqor").click()
    expect(page).to_have_url(re.compile(r"/app$"))


def test_an_admin_signs_in_invites_a_member_and_issues_a_key(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    tenant_id, email = tenant_with_admin(live_url, smtp_sink)

    sign_in_by_link(page, smtp_sink, email, name="01-admin")
    check_page(page, "02-admin-home")
    page.get_by_role("link", name=email).click()
    expect(page.get_by_test_id("status-email")).to_have_text(email)
    expect(page.get_by_test_id("status-role")).to_have_text("admin")
    expect(page.get_by_test_id("status-tenant")).to_contain_text("Northwind Traders")
    check_page(page, "03-auth-status")
    section(page, "Users & keys").click()
    member = unique_email("member")
    page.get_by_label("E-mail address").fill(member)
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {member}")
    page.get_by_label("Label (optional)").fill("deploy bot")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-key")).to_contain_text("lvq_")
    check_page(page, "04-users-and-keys")

    assert wait_for_link(smtp_sink, member)
    assert page.get_by_role("cell", name=member, exact=True).count() == 1
    assert page.url.endswith("/app/users")  # htmx swapped the section in place


def test_a_member_sees_no_admin_controls_and_a_forged_request_is_refused(
    page: Page, live_url: str, smtp_sink: SmtpSink
) -> None:
    tenant_id, admin = tenant_with_admin(live_url, smtp_sink)
    member = unique_email("member")
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        api.post(f"/api/tenants/{tenant_id}/users", json={"email": member, "role": "member"})
    wait_for_link(smtp_sink, member)

    sign_in_by_link(page, smtp_sink, member)
    section(page, "Users & keys").click()
    expect(page.get_by_role("heading", name="Managed by your admins")).to_be_visible()
    check_page(page, "05-member-users")
    forged = page.evaluate(
        """async () => (await fetch('/app/users/invite', {method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'},
             body: 'email=intruder%40example.com&role=admin'})).status"""
    )
    with_token_but_member = page.evaluate(
        """async (tenant) => (await fetch(`/api/tenants/${tenant}/users`, {method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json',
                       'X-CSRF-Token': JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']},
             body: JSON.stringify({email: 'intruder@example.com', role: 'admin'})})).status""",
        tenant_id,
    )

    assert page.get_by_role("button", name="Invite").count() == 0
    assert page.get_by_role("button", name="Create key").count() == 0
    assert forged == 403 and with_token_but_member == 403
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        emails = [u["email"] for u in api.get(f"/api/tenants/{tenant_id}/users").json()]
    assert "intruder@example.com" not in emails and admin in emails


def test_sign_out_ends_the_session_and_back_shows_sign_in(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    _tenant_id, email = tenant_with_admin(live_url, smtp_sink)
    sign_in_by_link(page, smtp_sink, email)
    section(page, "Home").click()
    expect(page).to_have_url(re.compile(r"/app$"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.go_back()

    expect(page.get_by_role("heading", name="Sign in to Levqor")).to_be_visible()
    page.goto("/auth/status")
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def test_the_founder_signs_in_with_the_token_and_sees_the_founders_view(page: Page) -> None:
    page.goto("/auth/token")
    check_page(page, "10-founder-token")
    page.get_by_label("Founder token").fill(founder_headers()["Authorization"].removeprefix("Bearer "))
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/app$"))
    section(page, "Admin Power Panel").click()
    expect(page).to_have_url(re.compile(r"/admin/power$"))
    expect(page.get_by_role("navigation", name="Admin Power Panel")).to_be_visible()
    section(page, "Users & keys").click()
    expect(page.get_by_role("heading", name="Choose a tenant")).to_be_visible()
    check_page(page, "11-founder-users")
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check_page(page, "12-not-found")

"""The web app under test: its own app (own task queue and worker) with a founder e-mail, and helpers that sign in
through the magic link read from the SMTP sink."""

import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from api.main import create_app
from core.settings import Settings
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink

FOUNDER_EMAIL = "founder@levqor.test"
LINK = re.compile(r"(https?://\S+/auth/link\?token=([A-Za-z0-9_\-]+))")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "founder_email": FOUNDER_EMAIL,
            "task_queue": f"web-{uuid.uuid4()}",
            "sign_in_links_per_ip": 10_000,
            # The founder signs in many times in one run: at most 20 links a minute (test_sign_in reaches the limit).
            "sign_in_links_per_email": 20,
            "sign_in_rate_window_s": 60,
            "support_contact_per_ip": 10_000,  # every contact form of the run comes from the test client
            "web_base_url": "http://testserver",
        }
    )


@pytest.fixture(scope="session")
def web(web_settings: Settings) -> Iterator[TestClient]:
    """The app with its embedded worker (which sends the sign-in mail), for the whole session."""
    with TestClient(create_app(web_settings)) as client:
        yield client


def unique_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


def mails_to(sink: SmtpSink, email: str) -> list[EmailMessage]:
    return [mail.message for mail in list(sink.messages) if email in mail.rcpt_tos]


def wait_for_link(sink: SmtpSink, email: str, count: int = 1, timeout_s: float = 15) -> str:
    """The token of the `count`-th e-mail to `email` (waits for the SignInMail workflow to send it), or of the first
    sign-in e-mail after it: a founder's support-ticket notice may arrive in between."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        mails = mails_to(sink, email)
        for mail in mails[count - 1 :]:
            found = LINK.search(mail.get_content())
            if found:
                return found.group(2)
        time.sleep(0.05)
    raise AssertionError(f"no e-mail #{count} to {email} within {timeout_s} s")


def csrf_of(page: Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def ask_for_link(client: TestClient, email: str) -> Response:
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"email": email, "csrf_token": csrf_of(page)}, follow_redirects=False)


def redeem(client: TestClient, token: str) -> Response:
    """Posts the landing page's form for `token` (with the anonymous CSRF token of the sign-in page, so a link the
    landing page no longer offers can be tried too)."""
    form = client.get("/sign-in") if "levqor_session" not in client.cookies else client.get("/auth/token")
    return client.post("/auth/link", data={"token": token, "csrf_token": csrf_of(form)}, follow_redirects=False)


def fresh_link(client: TestClient, sink: SmtpSink, email: str) -> str:
    """Asks for a link for `email` and returns its token from the e-mail."""
    before = len(mails_to(sink, email))
    assert ask_for_link(client, email).status_code == 303
    return wait_for_link(sink, email, before + 1)


def sign_in(client: TestClient, sink: SmtpSink, email: str) -> str:
    """Signs `client` in as `email` through a magic link; returns the session's CSRF token."""
    before = len(mails_to(sink, email))
    assert ask_for_link(client, email).status_code == 303
    token = wait_for_link(sink, email, before + 1)
    assert redeem(client, token).status_code == 303
    return csrf_of(client.get("/auth/status"))


def make_tenant(client: TestClient, name: str = "Acme") -> str:
    created = client.post("/api/tenants", json={"name": name, "plan": "pro"}, headers=founder_headers())
    assert created.status_code == 201, created.text
    return str(created.json()["tenant"]["id"])


def invite_by_founder(client: TestClient, tenant_id: str, email: str, role: str = "admin") -> str:
    """Invites `email` to the tenant with the founder token (JSON API); returns the user id."""
    invited = client.post(
        f"/api/tenants/{tenant_id}/users", json={"email": email, "role": role}, headers=founder_headers()
    )
    assert invited.status_code == 201, invited.text
    return str(invited.json()["id"])


def signed_in_as(client: TestClient, sink: SmtpSink, email: str) -> dict[str, str]:
    """Signs in from a clean cookie jar; returns the cookies (`use_cookies` switches back to this user) with the
    session's CSRF token under `csrf`."""
    client.cookies.clear()
    csrf = sign_in(client, sink, email)
    return {**dict(client.cookies), "csrf": csrf}


def use_cookies(client: TestClient, user: dict[str, str]) -> str:
    """Makes `client` act as `user` (from `signed_in_as`); returns its CSRF token."""
    client.cookies.clear()
    for name, value in user.items():
        if name != "csrf":
            client.cookies.set(name, value)
    return user["csrf"]

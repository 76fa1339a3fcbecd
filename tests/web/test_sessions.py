"""Sessions: the founder token as a first sign-in, /auth/status, the cookie's flags, sign-out, signed-out visitors."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from core.security import hash_api_key
from schemas.tables import WebSession
from tests.conftest import FOUNDER_TOKEN
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import (
    FOUNDER_EMAIL,
    csrf_of,
    fresh_link,
    invite_by_founder,
    make_tenant,
    sign_in,
    unique_email,
    wait_for_link,
)


def test_the_founder_token_signs_in_the_founder(web: TestClient) -> None:
    web.cookies.clear()
    form = web.get("/auth/token")

    wrong = web.post("/auth/token", data={"token": "not-the-token-at-all", "csrf_token": csrf_of(form)})
    right = web.post("/auth/token", data={"token": FOUNDER_TOKEN, "csrf_token": csrf_of(form)}, follow_redirects=False)
    status = web.get("/auth/status")

    assert wrong.status_code == 401 and "levqor_session" not in wrong.headers.get("set-cookie", "")
    assert right.status_code == 303
    assert FOUNDER_EMAIL in status.text and ">founder<" in status.text


def test_status_shows_user_tenant_role_and_expiry(web: TestClient, smtp_sink: SmtpSink) -> None:
    web.cookies.clear()
    tenant_id, email = make_tenant(web, "Status Co"), unique_email("status")
    invite_by_founder(web, tenant_id, email, role="member")
    wait_for_link(smtp_sink, email)

    sign_in(web, smtp_sink, email)
    page = web.get("/auth/status")

    assert page.status_code == 200
    for shown in (email, "Status Co", tenant_id, ">member<", "Session ends"):
        assert shown in page.text


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(web: TestClient, smtp_sink: SmtpSink) -> None:
    web.cookies.clear()
    token = fresh_link(web, smtp_sink, FOUNDER_EMAIL)
    landing = web.get("https://testserver/auth/link", params={"token": token})

    answer = web.post(
        "https://testserver/auth/link", data={"token": token, "csrf_token": csrf_of(landing)}, follow_redirects=False
    )
    cookie = answer.headers["set-cookie"].lower()

    assert cookie.startswith("levqor_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie and "path=/" in cookie
    assert "max-age=604800" in cookie  # no longer than the session's absolute lifetime (7 days)


def test_over_http_the_cookie_is_not_marked_secure(web: TestClient) -> None:
    web.cookies.clear()
    form = web.get("/auth/token")

    answer = web.post("/auth/token", data={"token": FOUNDER_TOKEN, "csrf_token": csrf_of(form)}, follow_redirects=False)

    assert "httponly" in answer.headers["set-cookie"].lower() and "secure" not in answer.headers["set-cookie"].lower()


def test_sign_out_ends_the_session_on_the_server(web: TestClient, smtp_sink: SmtpSink, engine: Engine) -> None:
    web.cookies.clear()
    csrf = sign_in(web, smtp_sink, FOUNDER_EMAIL)
    secret = web.cookies["levqor_session"]

    signed_out = web.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    web.cookies.set("levqor_session", secret)  # a copy of the old cookie is worth nothing now
    after = web.get("/auth/status", follow_redirects=False)

    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/sign-in"
    assert after.status_code == 303 and after.headers["location"] == "/sign-in"
    with Session(engine) as session:
        assert session.get(WebSession, hash_api_key(secret)).revoked_at is not None  # type: ignore[union-attr]


def test_signed_out_visitors_are_sent_to_sign_in_and_unknown_pages_answer_404(web: TestClient) -> None:
    web.cookies.clear()

    app, missing = web.get("/app/users", follow_redirects=False), web.get("/no/such/page")

    assert app.status_code == 303 and app.headers["location"] == "/sign-in"
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert web.get("/api/no/such/route").json()["code"] == "not_found"

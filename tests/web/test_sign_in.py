"""Signing in by magic link, the founder token, sessions, sign-out and the cookie's flags."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from core.security import hash_api_key
from core.settings import Settings
from schemas.tables import SignInLink, User, WebSession
from tests.conftest import FOUNDER_TOKEN
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import (
    FOUNDER_EMAIL,
    ask_for_link,
    csrf_of,
    fresh_link,
    invite_by_founder,
    mails_to,
    make_tenant,
    redeem,
    sign_in,
    unique_email,
    wait_for_link,
)


def test_a_link_signs_in_once_and_a_get_of_it_changes_nothing(web: TestClient, smtp_sink: SmtpSink) -> None:
    web.cookies.clear()
    token = fresh_link(web, smtp_sink, FOUNDER_EMAIL)

    first_look, second_look = (
        web.get("/auth/link", params={"token": token}),
        web.get("/auth/link", params={"token": token}),
    )
    signed_in = redeem(web, token)
    web.cookies.clear()
    replayed = redeem(web, token)

    assert (first_look.status_code, second_look.status_code) == (200, 200)
    assert "levqor_session" not in first_look.headers.get("set-cookie", "")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/app"
    assert replayed.status_code == 410 and "levqor_session" not in replayed.headers.get("set-cookie", "")


def test_an_expired_link_signs_nobody_in(web: TestClient, smtp_sink: SmtpSink, engine: Engine) -> None:
    web.cookies.clear()
    token = fresh_link(web, smtp_sink, FOUNDER_EMAIL)
    with Session(engine) as session:
        link = session.exec(select(SignInLink).where(SignInLink.token_hash == hash_api_key(token))).one()
        assert link.expires_at - link.created_at == timedelta(minutes=15)
        link.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(link)
        session.commit()

    answer = redeem(web, token)

    assert answer.status_code == 410
    assert web.get("/app", follow_redirects=False).headers["location"] == "/sign-in"


def test_a_link_is_bound_to_the_address_it_was_sent_to(web: TestClient, smtp_sink: SmtpSink, engine: Engine) -> None:
    web.cookies.clear()
    tenant_id, email = make_tenant(web), unique_email("bound")
    invite_by_founder(web, tenant_id, email)
    token = wait_for_link(smtp_sink, email)
    with Session(engine) as session:  # the account's address changed after the link was sent
        session.execute(update(User).where(col(User.email) == email).values(email=unique_email("moved")))
        session.commit()

    answer = redeem(web, token)

    assert answer.status_code == 410
    assert "levqor_session" not in answer.headers.get("set-cookie", "")


def test_unknown_and_known_addresses_get_the_same_answer(web: TestClient, smtp_sink: SmtpSink) -> None:
    web.cookies.clear()
    stranger = unique_email("stranger")

    before = len(mails_to(smtp_sink, FOUNDER_EMAIL))
    known, unknown = ask_for_link(web, FOUNDER_EMAIL), ask_for_link(web, stranger)

    assert (known.status_code, known.headers["location"]) == (unknown.status_code, unknown.headers["location"])
    assert unknown.headers["location"] == "/sign-in/sent"
    wait_for_link(smtp_sink, FOUNDER_EMAIL, before + 1)
    assert mails_to(smtp_sink, stranger) == []


def test_link_requests_are_rate_limited_per_address(web: TestClient, web_settings: Settings) -> None:
    web.cookies.clear()
    stranger = unique_email("flood")

    answers = [ask_for_link(web, stranger).status_code for _ in range(web_settings.sign_in_links_per_email + 1)]

    assert answers == [303] * web_settings.sign_in_links_per_email + [429]


def test_the_sign_in_form_refuses_a_missing_csrf_token(web: TestClient) -> None:
    web.cookies.clear()
    web.get("/sign-in")

    answer = web.post("/sign-in", data={"email": FOUNDER_EMAIL}, follow_redirects=False)

    assert answer.status_code == 403 and "csrf" in answer.text.lower()


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


def test_a_link_whose_mail_was_deferred_arrives_on_retry_and_works(web: TestClient, smtp_sink: SmtpSink) -> None:
    web.cookies.clear()
    smtp_sink.reject_next(451)  # a transient refusal: the SignInMail activity retries and mints a fresh token

    token = fresh_link(web, smtp_sink, FOUNDER_EMAIL)
    answer = redeem(web, token)

    assert answer.status_code == 303 and answer.headers["location"] == "/app"

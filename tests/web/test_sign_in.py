"""Signing in by magic link: single use, 15 minutes, bound to the address, rate-limited, the same answer for all."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from core.security import hash_api_key
from core.settings import Settings
from schemas.tables import SignInLink, User
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import (
    FOUNDER_EMAIL,
    ask_for_link,
    fresh_link,
    invite_by_founder,
    mails_to,
    make_tenant,
    redeem,
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


def test_a_link_whose_mail_was_deferred_arrives_on_retry_and_works(web: TestClient, smtp_sink: SmtpSink) -> None:
    web.cookies.clear()
    smtp_sink.reject_next(451)  # a transient refusal: the SignInMail activity retries and mints a fresh token

    token = fresh_link(web, smtp_sink, FOUNDER_EMAIL)
    answer = redeem(web, token)

    assert answer.status_code == 303 and answer.headers["location"] == "/app"


def test_signing_in_returns_to_the_app_page_that_asked_for_it_and_nowhere_else(
    web: TestClient, smtp_sink: SmtpSink
) -> None:
    email = unique_email("returning")
    invite_by_founder(web, make_tenant(web), email)
    web.cookies.clear()
    asked = web.get("/app/approvals?from=mail", follow_redirects=False)
    token = fresh_link(web, smtp_sink, email)

    landed = redeem(web, token)

    assert asked.status_code == 303 and asked.headers["location"] == "/sign-in"
    assert landed.headers["location"] == "/app/approvals?from=mail"
    assert "levqor_next" not in web.cookies
    web.cookies.clear()
    web.cookies.set("levqor_next", "//evil.example/app")
    assert redeem(web, fresh_link(web, smtp_sink, email)).headers["location"] == "/app"

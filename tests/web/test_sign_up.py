"""Self-service sign-up: the page and POST /api/signup make a team on the free plan whose first admin signs in from
the e-mailed link; a known address gets the same answer (and a sign-in link); closed while the founder says so."""

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.main import create_app
from core.settings import Settings
from core.toggles import forget_toggles
from schemas.tables import ApiKey, Tenant, User
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import csrf_of, mails_to, redeem, unique_email, wait_for_link


@pytest.fixture(autouse=True)
def signups_open_again(web: TestClient, engine: Engine) -> Iterator[None]:
    yield
    body = {"new_signups": True, "reason": "the test is over"}
    assert web.put("/api/admin/toggles", json=body, headers=founder_headers()).status_code == 200
    forget_toggles(engine)


def sign_up(client: TestClient, team: str, email: str) -> tuple[int, str]:
    client.cookies.clear()
    form = client.get("/sign-up")
    answer = client.post(
        "/sign-up", data={"team": team, "email": email, "csrf_token": csrf_of(form)}, follow_redirects=False
    )
    return answer.status_code, answer.headers.get("location", answer.text)


def user_of(engine: Engine, email: str) -> tuple[User, Tenant] | None:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).first()
        return None if user is None else (user, session.get_one(Tenant, user.tenant_id))


def test_the_sign_in_page_links_to_sign_up(web: TestClient) -> None:
    web.cookies.clear()
    assert 'href="/sign-up"' in web.get("/sign-in").text


def test_signing_up_makes_a_free_team_whose_admin_signs_in_from_the_mail(
    web: TestClient, engine: Engine, smtp_sink: SmtpSink
) -> None:
    email = unique_email("Founder.Of.Acme").replace("founder.of.acme", "Founder.Of.Acme")

    status, location = sign_up(web, "  Acme Robotics  ", email)

    assert (status, location) == (303, "/sign-up/sent")
    assert "Check your e-mail" in web.get(location).text
    found = user_of(engine, email.lower())
    assert found is not None
    user, tenant = found
    assert (user.role, tenant.name, tenant.plan, tenant.status) == ("admin", "Acme Robotics", "free", "active")
    with Session(engine) as session:  # no API key nobody would ever see: the admin makes keys when wanted
        assert session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant.id)).all() == []
    token = wait_for_link(smtp_sink, email.lower())
    assert redeem(web, token).status_code == 303
    status_page = web.get("/auth/status").text
    assert "Acme Robotics" in status_page and email.lower() in status_page


def test_an_address_with_an_account_gets_the_same_answer_and_a_sign_in_link(
    web: TestClient, engine: Engine, smtp_sink: SmtpSink
) -> None:
    email = unique_email("twice")
    assert sign_up(web, "First", email) == (303, "/sign-up/sent")
    wait_for_link(smtp_sink, email)
    with Session(engine) as session:
        teams_before = len(session.exec(select(Tenant)).all())

    again = sign_up(web, "Second", email)

    assert again == (303, "/sign-up/sent")
    wait_for_link(smtp_sink, email, count=2)
    assert [m["Subject"] for m in mails_to(smtp_sink, email)][0] == [m["Subject"] for m in mails_to(smtp_sink, email)][
        1
    ]
    with Session(engine) as session:
        assert len(session.exec(select(Tenant)).all()) == teams_before
    found = user_of(engine, email)
    assert found is not None and found[1].name == "First"


def test_bad_input_is_refused_and_makes_nothing(web: TestClient, engine: Engine) -> None:
    long_team = sign_up(web, "x" * 201, unique_email())
    no_team = sign_up(web, "   ", unique_email())
    email = "not-an-address"
    bad_email = sign_up(web, "Team", email)
    web.cookies.clear()
    forged = web.post("/sign-up", data={"team": "Team", "email": unique_email()}, follow_redirects=False)

    assert long_team[0] == 422 and no_team[0] == 422 and "Give your team a name." in no_team[1]
    assert bad_email[0] == 422 and "Enter a valid e-mail address." in bad_email[1]
    assert forged.status_code == 403
    assert user_of(engine, email) is None


def test_when_sign_ups_are_closed_the_page_says_so_and_the_api_answers_403(web: TestClient, engine: Engine) -> None:
    closed = {"new_signups": False, "reason": "Invite-only for now"}
    assert web.put("/api/admin/toggles", json=closed, headers=founder_headers()).status_code == 200
    email = unique_email("closed")

    web.cookies.clear()
    page = web.get("/sign-up")
    posted = web.post("/sign-up", data={"team": "Team", "email": email, "csrf_token": csrf_of(web.get("/sign-in"))})
    api = web.post("/api/signup", json={"team": "Team", "email": email})

    assert page.status_code == 200 and "data-signups-closed" in page.text and 'name="team"' not in page.text
    assert posted.status_code == 403 and "data-signups-closed" in posted.text
    assert (api.status_code, api.json()["code"]) == (403, "signups_closed")
    assert user_of(engine, email) is None


def test_the_json_route_answers_the_same_for_new_and_known_addresses(web: TestClient, engine: Engine) -> None:
    email = unique_email("api")

    first = web.post("/api/signup", json={"team": "Api Team", "email": email})
    second = web.post("/api/signup", json={"team": "Other Team", "email": email})
    invalid = web.post("/api/signup", json={"team": "T", "email": "nope"})
    extra = web.post("/api/signup", json={"team": "T", "email": unique_email(), "plan": "enterprise"})

    assert (first.status_code, first.json()) == (202, {"status": "check_your_email"})
    assert (second.status_code, second.json()) == (202, {"status": "check_your_email"})
    assert (invalid.status_code, invalid.json()["field"]) == (422, "body.email")
    assert (extra.status_code, extra.json()["field"]) == (422, "body.plan")
    found = user_of(engine, email)
    assert found is not None and (found[1].name, found[1].plan) == ("Api Team", "free")


@pytest.fixture(scope="module")
def strict(settings: Settings) -> Iterator[TestClient]:
    """An app whose rate limits are low: two requests per client within the window."""
    limited = settings.model_copy(update={"task_queue": f"signup-{uuid.uuid4()}", "sign_in_links_per_ip": 2})
    with TestClient(create_app(limited)) as client:
        yield client


def test_sign_ups_are_rate_limited_with_a_neutral_answer(strict: TestClient) -> None:
    answers = [strict.post("/api/signup", json={"team": "Spam", "email": unique_email("spam")}) for _ in range(3)]
    form = strict.get("/sign-up")
    page = strict.post("/sign-up", data={"team": "Spam", "email": unique_email(), "csrf_token": csrf_of(form)})

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["code"] == "too_many_requests"
    assert page.status_code == 429 and "Too many requests" in page.text

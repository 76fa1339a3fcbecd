"""The public legal pages in the reader's language, and the cookie banner's choice recorded with the configuration's
version, on an app with a database of its own (so "nothing published yet" is true when the module starts)."""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.main import create_app
from core.db import create_db_engine, migrate
from core.settings import Settings
from schemas.legal import CONSENT_COOKIE
from schemas.tables import AuditEntry, ConsentRecord
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import csrf_of, invite_by_founder, make_tenant, sign_in, unique_email

BANNER = "data-consent-banner"


@pytest.fixture(scope="module")
def own_database(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Engine]]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('legal')) / 'legal.db'}"
    migrate(url)
    engine = create_db_engine(url)
    update = {"database_url": url, "task_queue": f"legal-{uuid.uuid4()}", "web_base_url": "http://testserver"}
    yield settings.model_copy(update=update), engine
    engine.dispose()


@pytest.fixture(scope="module")
def site(own_database: tuple[Settings, Engine]) -> Iterator[TestClient]:
    with TestClient(create_app(own_database[0])) as client:
        yield client


@pytest.fixture(scope="module")
def engine_of_site(own_database: tuple[Settings, Engine]) -> Engine:
    return own_database[1]


def publish(site: TestClient, kind: str, **body: Any) -> Any:
    defaults = {
        "version": f"v{uuid.uuid4().hex[:6]}",
        "effective_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    answer = site.put(f"/api/compliance/legal/{kind}", json={**defaults, **body}, headers=founder_headers())
    assert answer.status_code == 200, answer.text
    return answer.json()


def consent_config(*optional: str) -> dict[str, Any]:
    categories = [
        {"id": "necessary", "description": "Signing in and security", "required": True, "default_enabled": True}
    ]
    categories += [{"id": name, "description": f"{name} cookies"} for name in optional]
    return {"categories": categories}


def records(engine: Engine, visitor_id: str | None = None) -> list[ConsentRecord]:
    with Session(engine) as session:
        query = select(ConsentRecord).order_by(col(ConsentRecord.at))
        if visitor_id is not None:
            query = query.where(ConsentRecord.visitor_id == visitor_id)
        return list(session.exec(query).all())


def test_pages_say_so_when_nothing_is_published(site: TestClient) -> None:
    site.cookies.clear()

    terms = site.get("/legal/terms")
    cookies = site.get("/legal/cookies")
    settings_page = site.get("/legal/cookie-settings")
    sign_in = site.get("/sign-in")

    assert terms.status_code == 200 and "The terms of service have not been published yet." in terms.text
    assert cookies.status_code == 200 and "levqor_session" in cookies.text
    assert "there is nothing to choose" in settings_page.text
    assert BANNER not in sign_in.text
    for path in ("/legal/terms", "/legal/privacy", "/legal/cookies", "/legal/cookie-settings"):
        assert f'href="{path}"' in sign_in.text


def test_a_document_reads_in_english_in_japanese_and_in_english_with_a_notice(site: TestClient) -> None:
    site.cookies.clear()
    english = "# Using Levqor\nYou may automate **your own** work.\n\n- Be kind\n- <script>alert(1)</script>"
    published = publish(
        site,
        "terms",
        version="2026.1",
        effective_at="2026-03-05T00:00:00Z",
        text=english,
        translations={"ja": {"text": "# Levqorの利用\nご自身の業務を自動化できます。"}},
    )
    publish(site, "terms", version="2099.1", effective_at="2099-01-02T00:00:00Z", text="Later terms.")  # fmt: skip

    en = site.get("/legal/terms")
    ja = site.get("/ja/legal/terms")
    de = site.get("/de/legal/terms")
    ko = site.get("/ko/legal/terms")

    assert published["translations"]["ja"]["text"].startswith("# Levqor")
    assert "<h2>Using Levqor</h2>" in en.text and "<li>Be kind</li>" in en.text
    assert "You may automate your own work." in en.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in en.text and "<script>alert(1)" not in en.text
    assert "Version 2026.1, in effect since March 5, 2026" in en.text and "data-legal-fallback" not in en.text
    assert '<html lang="ja">' in ja.text and "<h2>Levqorの利用</h2>" in ja.text and "2026年3月5日" in ja.text
    assert "data-legal-fallback" not in ja.text and "Using Levqor" not in ja.text
    assert "data-legal-fallback" in de.text and "<h2>Using Levqor</h2>" in de.text and 'lang="en"' in de.text
    assert "This document is not available in your language yet" not in de.text  # the notice is in German
    assert "data-legal-fallback" in ko.text and "<h2>Using Levqor</h2>" in ko.text
    assert "A new version (2099.1) takes effect on January 2, 2099." in en.text and "Later terms." not in en.text


def test_a_translation_published_later_through_the_founder_api(site: TestClient, engine_of_site: Engine) -> None:
    site.cookies.clear()
    version = publish(site, "privacy", text="We keep little.")["version"]
    path = f"/api/compliance/legal/privacy/{version}/translations"

    added = site.put(f"{path}/fr", json={"text": "Nous gardons peu."}, headers=founder_headers())
    again = site.put(f"{path}/fr", json={"text": "Encore."}, headers=founder_headers())
    english = site.put(f"{path}/en", json={"text": "Again"}, headers=founder_headers())
    unknown_version = site.put(
        "/api/compliance/legal/privacy/nope/translations/fr", json={"text": "x"}, headers=founder_headers()
    )
    descriptions = site.put(f"{path}/de", json={"descriptions": {"analytics": "x"}}, headers=founder_headers())
    anonymous = site.put(f"{path}/it", json={"text": "Poco."})
    bad_language = site.put(
        "/api/compliance/legal/cookie_policy",
        json={
            "version": "1",
            "effective_at": "2026-01-01T00:00:00Z",
            "text": "x",
            "translations": {"xx": {"text": "y"}},
        },
        headers=founder_headers(),
    )

    assert added.status_code == 200 and added.json()["translations"]["fr"]["text"] == "Nous gardons peu."
    assert (again.status_code, again.json()["code"], again.json()["field"]) == (409, "translation_exists", "language")
    assert (english.status_code, english.json()["code"]) == (422, "unknown_language")
    assert (unknown_version.status_code, unknown_version.json()["code"]) == (404, "version_not_found")
    assert (descriptions.status_code, descriptions.json()["code"]) == (422, "descriptions_not_allowed")
    assert anonymous.status_code == 401
    assert (bad_language.status_code, bad_language.json()["field"]) == (422, "body.translations.xx")
    assert site.get("/api/compliance/legal/cookie_policy").json() == []
    assert "Nous gardons peu." in site.get("/fr/legal/privacy").text
    with Session(engine_of_site) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).where(col(AuditEntry.action).like("legal%")))]
    assert "legal_translation_published" in actions and "legal_published" in actions


def test_the_banner_asks_until_a_choice_is_recorded_with_its_version(site: TestClient, engine_of_site: Engine) -> None:
    site.cookies.clear()
    first = publish(site, "cookie_consent", config=consent_config("analytics", "marketing"))["version"]

    asked = site.get("/sign-in")
    chose = site.post(
        "/legal/consent",
        data={"csrf_token": csrf_of(asked), "version": first, "choice": "reject_all", "return_to": "/sign-in"},
        follow_redirects=False,
    )
    visitor_id = site.cookies[CONSENT_COOKIE].split(":")[0]
    after = site.get("/sign-in")
    changed = site.post(
        "/legal/consent",
        data={"csrf_token": csrf_of(after), "version": first, "choice": "save", "categories": ["analytics"]},
        follow_redirects=False,
    )
    settings_page = site.get(changed.headers["location"])
    second = publish(site, "cookie_consent", config=consent_config("analytics"))["version"]
    asked_again = site.get("/sign-in")

    assert BANNER in asked.text and f'value="{first}"' in asked.text
    assert CONSENT_COOKIE not in asked.cookies
    assert (chose.status_code, chose.headers["location"]) == (303, "/sign-in")
    assert BANNER not in after.text
    assert changed.headers["location"] == "/legal/cookie-settings?saved=1"
    assert "Your cookie choice is saved." in settings_page.text
    assert re.search(r'id="settings-analytics"[^>]*\schecked', settings_page.text)
    assert not re.search(r'id="settings-marketing"[^>]*\schecked', settings_page.text)
    assert [(r.categories, r.config_version, r.user_id) for r in records(engine_of_site, visitor_id)] == [
        ([], first, None),
        (["analytics"], first, None),
    ]
    assert BANNER in asked_again.text and f'value="{second}"' in asked_again.text


def test_bad_choices_get_a_json_error_and_record_nothing(site: TestClient, engine_of_site: Engine) -> None:
    site.cookies.clear()
    version = publish(site, "cookie_consent", config=consent_config("analytics"))["version"]
    csrf = csrf_of(site.get("/sign-in"))
    before = len(records(engine_of_site))

    def choose(body: Any, token: str = csrf, **kwargs: Any) -> Any:
        return site.post("/api/compliance/legal/consent", json=body, headers={"X-CSRF-Token": token}, **kwargs)

    unknown = choose({"categories": ["tracking"], "version": version})
    outdated = choose({"categories": [], "version": "v0"})
    extra = choose({"categories": [], "version": version, "visitor_id": "me"})
    huge = choose({"categories": ["a" * 30] * 400, "version": version})
    too_many = choose({"categories": ["analytics"] * 21, "version": version})
    wrong_csrf = choose({"categories": ["analytics"], "version": version}, token="x" * 43)
    no_csrf = site.post("/api/compliance/legal/consent", json={"categories": [], "version": version})
    answers = [unknown, outdated, extra, huge, too_many, wrong_csrf, no_csrf]
    after_errors = len(records(engine_of_site))
    good = choose({"categories": ["analytics", "necessary"], "version": version})

    assert [(a.status_code, a.json()["code"], a.json()["field"]) for a in answers] == [
        (422, "unknown_category", "body.categories"),
        (409, "consent_outdated", "body.version"),
        (422, "invalid_request", "body.visitor_id"),
        (413, "body_too_large", "body"),
        (422, "invalid_request", "body.categories"),
        (403, "csrf_failed", "csrf_token"),
        (403, "csrf_failed", "csrf_token"),
    ]
    assert after_errors == before
    assert CONSENT_COOKIE not in {c for a in answers for c in a.cookies}
    assert good.status_code == 200 and (good.json()["categories"], good.json()["version"]) == (["analytics"], version)
    assert site.cookies[CONSENT_COOKIE].endswith(f":{version}:analytics")
    assert len(records(engine_of_site)) == before + 1


def test_the_banner_describes_categories_in_the_readers_language(site: TestClient) -> None:
    site.cookies.clear()
    config = consent_config("analytics")
    wrong = site.put(
        "/api/compliance/legal/cookie_consent",
        json={"version": "w1", "effective_at": datetime.now(UTC).isoformat(), "config": config,
              "translations": {"ja": {"descriptions": {"tracking": "x"}}}},
        headers=founder_headers(),
    )  # fmt: skip
    publish(
        site, "cookie_consent", effective_at=datetime.now(UTC).isoformat(), config=config,
        translations={"ja": {"descriptions": {"analytics": "アクセス数を数えてページを改善します"}}},
    )  # fmt: skip

    ja = site.get("/ja/sign-in")
    en = site.get("/sign-in")

    assert (wrong.status_code, wrong.json()["code"], wrong.json()["field"]) == (
        422, "unknown_category", "body.translations.ja.descriptions",
    )  # fmt: skip
    assert (
        BANNER in ja.text
        and "アクセス数を数えてページを改善します" in ja.text
        and ">分析<" in re.sub(r"\s+", "", ja.text)
    )
    assert "analytics cookies" in en.text and "アクセス数" not in en.text


def test_a_signed_in_users_choice_names_the_user(site: TestClient, engine_of_site: Engine, smtp_sink: SmtpSink) -> None:
    site.cookies.clear()
    version = publish(
        site, "cookie_consent", effective_at=datetime.now(UTC).isoformat(), config=consent_config("analytics")
    )["version"]
    email = unique_email("consent")
    user_id = invite_by_founder(site, make_tenant(site, "Consent Co"), email)
    csrf = sign_in(site, smtp_sink, email)

    anonymous_token = site.post(
        "/api/compliance/legal/consent", json={"categories": [], "version": version}, headers={"X-CSRF-Token": "y" * 43}
    )
    chose = site.post(
        "/api/compliance/legal/consent", json={"categories": ["analytics"], "version": version},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    visitor_id = site.cookies[CONSENT_COOKIE].split(":")[0]

    assert (anonymous_token.status_code, anonymous_token.json()["code"]) == (403, "csrf_failed")
    assert chose.status_code == 200
    assert [(r.user_id, r.categories) for r in records(engine_of_site, visitor_id)] == [(user_id, ["analytics"])]

"""The web app in the reader's language: the URL prefix (English has none), Accept-Language on a first visit, the
switcher's cookie and the account's stored language, the 31 locales that read English, formats, and Japanese
pages without English left in them."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.web.js_catalog import script_messages
from api.web.locale import localized, split_prefix
from api.web.pages import TEMPLATES
from core.i18n import OTHERS, money, when
from rules.pricing import price_list
from schemas.tables import User
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import (
    csrf_of,
    invite_by_founder,
    make_tenant,
    redeem,
    signed_in_as,
    unique_email,
    use_cookies,
    wait_for_link,
)

LANG = re.compile(r'<html lang="([^"]+)">')


@pytest.fixture
def web_i18n(web: TestClient) -> Iterator[TestClient]:
    """The shared client, left without a language cookie for the tests after this one."""
    web.cookies.clear()
    yield web
    web.cookies.clear()


def lang_of(html: str) -> str:
    found = LANG.search(html)
    assert found, html[:300]
    return found.group(1)


def test_a_prefix_is_stripped_and_names_the_language_and_english_has_none(web_i18n: TestClient) -> None:
    english = web_i18n.get("/sign-in")
    spanish = web_i18n.get("/es/sign-in")
    from_en = web_i18n.get("/en/sign-in?x=1", follow_redirects=False)

    assert english.status_code == 200 and lang_of(english.text) == "en"
    assert "Sign in to Levqor" in english.text
    assert spanish.status_code == 200 and lang_of(spanish.text) == "es"
    assert "Iniciar sesión en Levqor" in spanish.text and 'action="/es/sign-in"' in spanish.text
    assert (from_en.status_code, from_en.headers["location"]) == (307, "/sign-in?x=1")
    assert split_prefix("/pt-br/app") == ("pt-BR", "/app") and localized("/app", "en") == "/app"


def test_a_first_visit_follows_accept_language_and_the_api_is_never_prefixed(web_i18n: TestClient) -> None:
    first = web_i18n.get("/auth/link?token=abc", headers={"Accept-Language": "ja,en;q=0.5"}, follow_redirects=False)
    weighted = web_i18n.get("/sign-in", headers={"Accept-Language": "de;q=0.4, pt;q=0.9"}, follow_redirects=False)
    english = web_i18n.get("/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"}, follow_redirects=False)
    api = web_i18n.get("/api/pricing", headers={"Accept-Language": "ja"}, follow_redirects=False)

    assert (first.status_code, first.headers["location"]) == (307, "/ja/auth/link?token=abc")
    assert weighted.headers["location"] == "/pt-BR/sign-in"
    assert english.status_code == 200 and lang_of(english.text) == "en"
    assert api.status_code == 200 and api.json()["plans"]


def test_the_switchers_cookie_wins_over_accept_language(web_i18n: TestClient) -> None:
    web_i18n.cookies.set("levqor_lang", "de")
    german = web_i18n.get("/sign-in", headers={"Accept-Language": "ja"}, follow_redirects=False)
    web_i18n.cookies.set("levqor_lang", "en")
    english = web_i18n.get("/sign-in", headers={"Accept-Language": "ja"}, follow_redirects=False)

    assert german.headers["location"] == "/de/sign-in"
    assert english.status_code == 200 and lang_of(english.text) == "en"


def test_the_switcher_without_script_sets_the_cookie_and_returns_to_the_same_page(web_i18n: TestClient) -> None:
    csrf = csrf_of(web_i18n.get("/sign-in"))

    switched = web_i18n.post(
        "/language", data={"language": "fr", "next": "/sign-in?email=a", "csrf_token": csrf}, follow_redirects=False
    )
    page = web_i18n.get(switched.headers["location"])
    back_home = web_i18n.post(
        "/language", data={"language": "it", "next": "//evil.example/x", "csrf_token": csrf}, follow_redirects=False
    )
    forged = web_i18n.post("/language", data={"language": "de", "next": "/sign-in", "csrf_token": "x" * 40})
    unknown = web_i18n.post("/language", data={"language": "xx", "next": "/sign-in", "csrf_token": csrf})

    assert (switched.status_code, switched.headers["location"]) == (303, "/fr/sign-in?email=a")
    assert "levqor_lang=fr" in switched.headers["set-cookie"]
    assert lang_of(page.text) == "fr" and "Se connecter à Levqor" in page.text
    assert back_home.headers["location"] == "/it/"
    assert forged.status_code == 403 and unknown.status_code == 422
    assert web_i18n.cookies.get("levqor_lang") == "it"


def test_the_switcher_lists_the_tier1_languages_first_each_in_its_own_name(web_i18n: TestClient) -> None:
    page = web_i18n.get("/sign-in").text

    options = re.findall(r'<option value="([^"]+)" lang="[^"]+"\s*(?:selected)?>([^<]+)</option>', page)
    tags = [tag for tag, _name in options]
    names = dict(options)
    assert len(tags) == 40 and tags[:9] == ["en", "es", "pt-BR", "fr", "de", "it", "ja", "zh-CN", "hi"]
    assert (names["ja"], names["zh-CN"], names["hi"], names["de"]) == ("日本語", "简体中文", "हिन्दी", "Deutsch")


@pytest.mark.parametrize("tag", OTHERS)
def test_the_other_locales_read_english_with_their_own_lang(web_i18n: TestClient, tag: str) -> None:
    page = web_i18n.get(f"/{tag}/sign-in")

    assert page.status_code == 200 and lang_of(page.text) == tag
    assert "Sign in to Levqor" in page.text and f'action="/{tag}/sign-in"' in page.text


def test_a_signed_in_users_choice_is_stored_and_followed_on_another_device(
    web_i18n: TestClient, smtp_sink: SmtpSink, engine: Engine
) -> None:
    tenant_id = make_tenant(web_i18n, "Sprachen GmbH")
    email = unique_email("lang")
    user_id = invite_by_founder(web_i18n, tenant_id, email, "admin")
    user = signed_in_as(web_i18n, smtp_sink, email)

    switched = web_i18n.post(
        "/language", data={"language": "hi", "next": "/app/runs", "csrf_token": user["csrf"]}, follow_redirects=False
    )
    use_cookies(web_i18n, user)  # the session alone: another browser, no language cookie
    elsewhere = web_i18n.get("/app", follow_redirects=False)
    hindi = web_i18n.get("/hi/app")

    assert switched.headers["location"] == "/hi/app/runs"
    with Session(engine) as session:
        assert session.exec(select(User.language).where(User.id == user_id)).one() == "hi"
    assert elsewhere.headers["location"] == "/hi/app"
    assert lang_of(hindi.text) == "hi" and 'href="/hi/app/runs"' in hindi.text


def test_signing_in_under_a_prefix_returns_to_the_page_asked_for_in_that_language(
    web_i18n: TestClient, smtp_sink: SmtpSink
) -> None:
    tenant_id = make_tenant(web_i18n, "Retour SARL")
    email = unique_email("retour")
    invite_by_founder(web_i18n, tenant_id, email, "member")

    asked = web_i18n.get("/fr/app/runs", follow_redirects=False)
    form = web_i18n.get(asked.headers["location"])
    sent = web_i18n.post("/fr/sign-in", data={"email": email, "csrf_token": csrf_of(form)}, follow_redirects=False)
    signed_in = redeem(web_i18n, wait_for_link(smtp_sink, email))

    assert asked.headers["location"] == "/fr/sign-in"
    assert sent.headers["location"] == "/fr/sign-in/sent"
    assert signed_in.headers["location"] == "/app/runs" or signed_in.headers["location"].endswith("/app/runs")
    assert web_i18n.get("/fr/app/runs").status_code == 200


def test_dates_numbers_and_prices_are_written_as_the_reader_writes_them(
    web_i18n: TestClient, smtp_sink: SmtpSink
) -> None:
    tenant_id = make_tenant(web_i18n, "Preise AG")
    email = unique_email("preise")
    invite_by_founder(web_i18n, tenant_id, email, "admin")
    signed_in_as(web_i18n, smtp_sink, email)
    pro = next(item for item in price_list("DE").plans if item.id == "pro")
    pro_in = next(item for item in price_list("IN").plans if item.id == "pro")

    german = web_i18n.get("/de/app/usage").text
    hindi = web_i18n.get("/hi/app/usage").text
    status = web_i18n.get("/ja/auth/status").text

    assert money(pro.amount, "EUR", "de") in german and "€" in german  # Germany's prices for a German page
    assert money(pro_in.amount, "INR", "hi") in hindi  # India's for a Hindi one
    assert re.search(r"\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}:\d{2}", status)  # ja: 2026/12/02 12:00:00
    assert when(date(2026, 12, 2), "de") == "02.12.2026"


def test_a_japanese_page_has_no_english_left(web_i18n: TestClient, smtp_sink: SmtpSink) -> None:
    tenant_id = make_tenant(web_i18n, "Nihon KK")
    email = unique_email("nihon")
    invite_by_founder(web_i18n, tenant_id, email, "admin")
    signed_in_as(web_i18n, smtp_sink, email)

    home = web_i18n.get("/ja/app").text
    secrets = web_i18n.get("/ja/app/secrets").text

    for english in ("Runs today", "Sign out", "Recent activity", "All sections", "Skip to content", "Secrets"):
        assert f">{english}<" not in home, english
    for english in ("Set a secret", "Save secret", "Stored secrets"):
        assert english not in secrets, english
    assert "今日の実行" in home and "サインアウト" in home and "シークレットを保存" in secrets
    assert script_messages("ja")["Undone."] == "元に戻しました。"


def test_the_template_filters_write_dates_numbers_and_amounts_per_locale() -> None:
    template = TEMPLATES.env.from_string(
        '{{ at | when }} | {{ at | when("short") }} | {{ at | day }} | {{ 1234.5 | money("EUR") }} | {{ 0.85 | percent }}'
        " | {{ 1234567 | number }}"
    )
    at = datetime(2027, 1, 1, 9, 30, tzinfo=UTC)

    assert template.render(at=at, locale="de").replace("\xa0", " ") == (
        "01.01.2027, 09:30:00 | 01.01.27, 09:30 | 1. Januar 2027 | 1.234,50 € | 85 % | 1.234.567"
    )
    assert template.render(at=at, locale="ja").startswith("2027/01/01 9:30:00 | 2027/01/01 9:30 | 2027年1月1日")
    assert template.render(at=at, locale="hi").endswith("12,34,567")
    assert template.render(at=at, locale="en").startswith(
        "Jan 1, 2027, 9:30:00\u202fAM | 1/1/27, 9:30\u202fAM | January 1"
    )

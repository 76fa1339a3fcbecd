"""The system toggles page of the Admin Power Panel: values and last changes, a change needs a reason, maintenance
mode and the launch stage ask first, the history, the maintenance banner, and 404 for anyone but the founder."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.toggles import forget_toggles
from schemas.toggles import SystemToggles
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import FOUNDER_EMAIL, invite_by_founder, make_tenant, signed_in_as, unique_email, use_cookies

PAGE = "/admin/power/toggles"


@pytest.fixture(autouse=True)
def toggles_back(web: TestClient, engine: Engine) -> Iterator[None]:
    yield
    body = {**SystemToggles().model_dump(), "reason": "the test is over"}
    assert web.put("/api/admin/toggles", json=body, headers=founder_headers()).status_code == 200
    forget_toggles(engine)


@pytest.fixture(scope="module")
def people(web: TestClient, smtp_sink: SmtpSink) -> dict[str, dict[str, str]]:
    tenant_id = make_tenant(web, "Toggles Co")
    admin = unique_email("admin")
    invite_by_founder(web, tenant_id, admin)
    return {"founder": signed_in_as(web, smtp_sink, FOUNDER_EMAIL), "admin": signed_in_as(web, smtp_sink, admin)}


def card(page: str, name: str) -> str:
    start = page.rindex("<li", 0, page.index(f'data-toggle="{name}"'))
    return page[start : page.index("</li>", start)]


def test_the_founder_sees_every_toggle_with_its_value_and_changes_one_with_a_reason(
    web: TestClient, people: dict[str, dict[str, str]]
) -> None:
    csrf = use_cookies(web, people["founder"])
    page = web.get(PAGE)
    assert page.status_code == 200
    for name in ("maintenance", "launch_stage", "new_signups", "ai_features", "auto_recovery_apply"):
        assert f'data-toggle="{name}"' in page.text

    changed = web.post(
        f"{PAGE}/new_signups",
        data={"value": "off", "reason": "Closing the beta", "csrf_token": csrf},
        follow_redirects=False,
    )

    assert changed.status_code == 303
    after = web.get(changed.headers["location"]).text
    assert "Saved" in after
    signups = card(after, "new_signups")
    assert "toggle-off" in signups and FOUNDER_EMAIL in signups and "Closing the beta" in signups
    history = after[after.index("toggle-history-title") :]
    assert "Closing the beta" in history and FOUNDER_EMAIL in history
    assert web.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]["new_signups"] is False


def test_a_change_without_a_reason_or_with_a_bad_value_changes_nothing(
    web: TestClient, people: dict[str, dict[str, str]]
) -> None:
    csrf = use_cookies(web, people["founder"])

    no_reason = web.post(f"{PAGE}/ai_features", data={"value": "off", "reason": " ", "csrf_token": csrf})
    bad_value = web.post(
        f"{PAGE}/auto_recovery_max_redrives", data={"value": "5000", "reason": "more", "csrf_token": csrf}
    )
    unknown = web.post(f"{PAGE}/debug_mode", data={"value": "on", "reason": "x", "csrf_token": csrf})

    assert no_reason.status_code == 422 and "Give a reason for the change." in no_reason.text
    assert bad_value.status_code == 422 and "This value is not allowed." in bad_value.text
    assert unknown.status_code in (404, 422)
    toggles = web.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]
    assert (toggles["ai_features"], toggles["auto_recovery_max_redrives"]) == (True, 10)


def test_maintenance_mode_asks_first_then_shows_a_banner_to_signed_in_users(
    web: TestClient, people: dict[str, dict[str, str]]
) -> None:
    csrf = use_cookies(web, people["founder"])
    form = {"value": "on", "reason": "Database upgrade", "message": "Back at 10:00 UTC", "csrf_token": csrf}

    asked = web.post(f"{PAGE}/maintenance", data=form, follow_redirects=False)

    assert asked.status_code == 200 and "Turn maintenance mode on?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and "Back at 10:00 UTC" in asked.text
    assert web.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]["maintenance"] is False
    assert "maintenance-banner" not in web.get("/app").text

    confirmed = web.post(f"{PAGE}/maintenance", data={**form, "confirmed": "yes"}, follow_redirects=False)

    assert confirmed.status_code == 303
    assert "toggle-alert" in card(web.get(PAGE).text, "maintenance")
    use_cookies(web, people["admin"])
    home = web.get("/app").text
    assert "maintenance-banner" in home and "Back at 10:00 UTC" in home
    web.cookies.clear()
    assert "maintenance-banner" not in web.get("/sign-in").text


def test_the_launch_stage_asks_first(web: TestClient, people: dict[str, dict[str, str]]) -> None:
    csrf = use_cookies(web, people["founder"])
    form = {"value": "pre-launch", "reason": "Not ready", "csrf_token": csrf}

    asked = web.post(f"{PAGE}/launch_stage", data=form)
    confirmed = web.post(f"{PAGE}/launch_stage", data={**form, "confirmed": "yes"}, follow_redirects=False)

    assert asked.status_code == 200 and "Go back to pre-launch?" in asked.text
    assert confirmed.status_code == 303
    assert web.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]["launch_stage"] == "pre-launch"


def test_the_page_does_not_exist_for_a_tenant_admin(web: TestClient, people: dict[str, dict[str, str]]) -> None:
    csrf = use_cookies(web, people["admin"])

    seen = web.get(PAGE)
    changed = web.post(
        f"{PAGE}/maintenance", data={"value": "on", "reason": "x", "confirmed": "yes", "csrf_token": csrf}
    )

    assert seen.status_code == 404 and changed.status_code == 404
    assert web.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]["maintenance"] is False


def test_a_forged_change_is_refused(web: TestClient, people: dict[str, dict[str, str]]) -> None:
    use_cookies(web, people["founder"])

    forged = web.post(f"{PAGE}/maintenance", data={"value": "on", "reason": "x", "confirmed": "yes"})

    assert forged.status_code == 403
    assert web.get("/api/admin/toggles", headers=founder_headers()).json()["toggles"]["maintenance"] is False


def test_the_page_speaks_the_founders_language(web: TestClient, people: dict[str, dict[str, str]]) -> None:
    use_cookies(web, people["founder"])

    page = web.get(f"/ja{PAGE}")

    assert page.status_code == 200
    assert "メンテナンスモード" in page.text and "変更履歴" in page.text and "Maintenance mode" not in page.text

"""Users & keys through the app and the JSON API: admins manage, members cannot, CSRF guards every change,
and another tenant's anything answers 404."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from schemas.tables import User
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import invite_by_founder, make_tenant, signed_in_as, unique_email, use_cookies, wait_for_link


def admin_and_member(web: TestClient, sink: SmtpSink) -> tuple[str, dict[str, str], dict[str, str], str]:
    """A tenant with a signed-in admin and a member the admin invited through the app: (tenant id, admin's
    cookies, member's cookies, member's user id)."""
    tenant_id, admin_email, member_email = make_tenant(web, "Team"), unique_email("admin"), unique_email("member")
    invite_by_founder(web, tenant_id, admin_email)
    wait_for_link(sink, admin_email)
    admin = signed_in_as(web, sink, admin_email)
    invited = web.post("/app/users/invite", data={"email": member_email, "role": "member", "csrf_token": admin["csrf"]})
    assert invited.status_code == 200 and f"Invitation sent to {member_email}" in invited.text
    wait_for_link(sink, member_email)
    member = signed_in_as(web, sink, member_email)
    member_id = next(u["id"] for u in _users(web, tenant_id, admin) if u["email"] == member_email)
    return tenant_id, admin, member, member_id


def _users(web: TestClient, tenant_id: str, who: dict[str, str]) -> list[dict[str, str]]:
    use_cookies(web, who)
    answer = web.get(f"/api/tenants/{tenant_id}/users")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_an_admin_invites_changes_a_role_and_removes_a_user(web: TestClient, smtp_sink: SmtpSink) -> None:
    tenant_id, admin, member, member_id = admin_and_member(web, smtp_sink)
    csrf = use_cookies(web, admin)

    promoted = web.post(f"/app/users/{member_id}/role", data={"role": "admin", "csrf_token": csrf})
    roles = {u["id"]: u["role"] for u in _users(web, tenant_id, admin)}
    use_cookies(web, admin)
    removed = web.post(f"/app/users/{member_id}/remove", data={"csrf_token": csrf})
    use_cookies(web, member)
    after = web.get("/app", follow_redirects=False)

    assert promoted.status_code == 200 and roles[member_id] == "admin"
    assert removed.status_code == 200 and member_id not in {u["id"] for u in _users(web, tenant_id, admin)}
    assert after.status_code == 303 and after.headers["location"] == "/sign-in"  # removal ended their session


def test_a_member_sees_no_admin_controls_and_cannot_manage_users(web: TestClient, smtp_sink: SmtpSink) -> None:
    tenant_id, _admin, member, member_id = admin_and_member(web, smtp_sink)
    csrf = use_cookies(web, member)

    page = web.get("/app/users")
    invite = web.post("/app/users/invite", data={"email": unique_email(), "role": "admin", "csrf_token": csrf})
    promote = web.post(f"/app/users/{member_id}/role", data={"role": "admin", "csrf_token": csrf})
    api = web.patch(
        f"/api/tenants/{tenant_id}/users/{member_id}", json={"role": "admin"}, headers={"X-CSRF-Token": csrf}
    )

    assert page.status_code == 200 and "Managed by your admins" in page.text and "/app/users/invite" not in page.text
    assert invite.status_code == 403 and promote.status_code == 403
    assert api.status_code == 403 and api.json()["code"] == "admin_only"


def test_a_forged_request_is_refused_and_changes_nothing(web: TestClient, smtp_sink: SmtpSink, engine: Engine) -> None:
    tenant_id, admin, _member, member_id = admin_and_member(web, smtp_sink)
    use_cookies(web, admin)
    target = unique_email("forged")

    no_token = web.post("/app/users/invite", data={"email": target, "role": "admin"})
    wrong_token = web.post("/app/users/invite", data={"email": target, "role": "admin", "csrf_token": "x" * 43})
    api_no_header = web.patch(f"/api/tenants/{tenant_id}/users/{member_id}", json={"role": "admin"})
    api_with_header = web.get(f"/api/tenants/{tenant_id}/users")  # safe methods need no token

    assert no_token.status_code == 403 and wrong_token.status_code == 403
    assert api_no_header.status_code == 403 and api_no_header.json()["code"] == "csrf_failed"
    assert api_with_header.status_code == 200
    with Session(engine) as session:
        assert session.exec(select(User).where(User.email == target)).first() is None
        assert session.get(User, member_id).role == "member"  # type: ignore[union-attr]


def test_another_tenants_users_and_keys_answer_404(web: TestClient, smtp_sink: SmtpSink) -> None:
    _tenant_id, admin, _member, _member_id = admin_and_member(web, smtp_sink)
    other_tenant, other_admin = make_tenant(web, "Other"), unique_email("other")
    other_id = invite_by_founder(web, other_tenant, other_admin)
    csrf = use_cookies(web, admin)

    page = web.get("/app/users", params={"tenant_id": other_tenant})
    change = web.post(f"/app/users/{other_id}/role", data={"role": "member", "csrf_token": csrf})
    api = web.get(f"/api/tenants/{other_tenant}/users")
    keys = web.get(f"/api/tenants/{other_tenant}/api-keys")

    assert page.status_code == 404 and change.status_code == 404
    assert api.status_code == 404 and keys.status_code == 404


def test_an_admin_creates_a_key_shown_once_and_revokes_it(web: TestClient, smtp_sink: SmtpSink) -> None:
    tenant_id, admin, _member, _member_id = admin_and_member(web, smtp_sink)
    csrf = use_cookies(web, admin)

    created = web.post("/app/keys", data={"role": "member", "label": "ci", "csrf_token": csrf})
    key = created.text.split('data-testid="new-key">')[1].split("<")[0]
    listed = web.get("/app/users")
    key_id = next(k["id"] for k in web.get(f"/api/tenants/{tenant_id}/api-keys").json() if k["label"] == "ci")
    works = web.get(f"/api/tenants/{tenant_id}", headers={"Authorization": f"Bearer {key}"})
    revoked = web.post(f"/app/keys/{key_id}/revoke", data={"csrf_token": csrf})
    refused = web.get(f"/api/tenants/{tenant_id}", headers={"Authorization": f"Bearer {key}"})

    assert created.status_code == 200 and key.startswith("lvq_")
    assert key not in listed.text and key[:12] in listed.text
    assert works.status_code == 200 and revoked.status_code == 200 and "Key revoked." in revoked.text
    assert refused.status_code == 401


def test_the_tenants_last_admin_cannot_be_demoted(web: TestClient, smtp_sink: SmtpSink) -> None:
    tenant_id, admin, _member, _member_id = admin_and_member(web, smtp_sink)
    csrf = use_cookies(web, admin)
    admin_id = next(u["id"] for u in _users(web, tenant_id, admin) if u["role"] == "admin")

    answer = web.post(f"/app/users/{admin_id}/role", data={"role": "member", "csrf_token": csrf})

    assert answer.status_code == 409 and "last admin" in answer.text


def test_a_suspended_tenants_admin_may_look_but_change_nothing(web: TestClient, smtp_sink: SmtpSink) -> None:
    tenant_id, admin, _member, _member_id = admin_and_member(web, smtp_sink)
    web.cookies.clear()
    suspended = web.post(f"/api/tenants/{tenant_id}/suspend", json={"reason": "test"}, headers=founder_headers())
    assert suspended.status_code == 200, suspended.text
    csrf = use_cookies(web, admin)

    page = web.get("/app/users")
    create = web.post("/app/keys", data={"role": "member", "csrf_token": csrf})
    signed_out = web.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)

    assert page.status_code == 200
    assert create.status_code == 403 and "suspended" in create.text
    assert signed_out.status_code == 303


def test_a_signed_in_users_404_page_leads_back_into_the_app(web: TestClient, smtp_sink: SmtpSink) -> None:
    _tenant_id, admin, _member, _member_id = admin_and_member(web, smtp_sink)
    use_cookies(web, admin)

    missing = web.get("/app/no-such-section")
    unknown = web.get("/nothing/here")

    assert missing.status_code == 404 and unknown.status_code == 404
    assert 'href="/app">Back to Home' in unknown.text

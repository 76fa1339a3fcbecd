"""The compliance API: founder-only reports, running an audit on demand, publishing legal documents,
and API keys' last use recorded off the request's path."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from schemas.tables import ApiKey, ComplianceReport
from tests.api.tenancy import new_tenant
from tests.conftest import founder_headers


def poll_report(api: TestClient, report_id: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = api.get(f"/api/compliance/reports/{report_id}", headers=founder_headers()).json()
        if body.get("status") == "completed":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"report {report_id} never completed; last: {body}")
        time.sleep(0.1)


def report_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(ComplianceReport)).one()


def consent(analytics_on: bool) -> dict[str, Any]:
    return {
        "categories": [
            {"id": "necessary", "description": "Sign-in and security", "required": True, "default_enabled": True},
            {"id": "analytics", "description": "Usage statistics", "default_enabled": analytics_on},
        ]
    }


def publish(api: TestClient, kind: str, **body: Any) -> Any:
    defaults = {
        "version": f"v{uuid.uuid4().hex[:8]}",
        "effective_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    return api.put(f"/api/compliance/legal/{kind}", json={**defaults, **body}, headers=founder_headers())


def test_reports_are_for_the_founder_only(api: TestClient) -> None:
    tenant = new_tenant(api)

    as_tenant = api.get("/api/compliance/reports", headers=tenant.admin)
    anonymous = api.post("/api/compliance/reports/run")
    publish_as_tenant = api.put(
        "/api/compliance/legal/terms",
        headers=tenant.admin,
        json={"version": "1", "effective_at": "2026-01-01T00:00:00Z", "url": "https://x.test/t"},
    )

    assert (as_tenant.status_code, as_tenant.json()["code"]) == (403, "founder_only")
    assert (anonymous.status_code, anonymous.json()["field"]) == (401, "authorization")
    assert publish_as_tenant.status_code == 403


def test_founder_runs_an_audit_and_reads_its_findings_about_a_tenant(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)
    created = api.post(
        "/api/workflows",
        headers=tenant.admin,
        json={"name": "plain", "steps": [{"id": "call", "type": "http_request", "url": "http://example.com/hook"}]},
    )
    assert created.status_code == 201, created.text

    started = api.post("/api/compliance/reports/run", json={"tenant_id": tenant.id}, headers=founder_headers())

    assert started.status_code == 202, started.text
    report_id = started.json()["report_id"]
    first = api.get(f"/api/compliance/reports/{report_id}", headers=founder_headers())
    assert first.status_code == 200 and first.json()["trigger"] == "founder"
    report = poll_report(api, report_id)
    mine = [f for f in report["findings"] if f["tenant_id"] == tenant.id]
    assert [(f["check"], f["severity"], f["detail"]["definition_id"]) for f in mine] == [
        ("plain_http_target", "medium", created.json()["id"])
    ]
    assert report["tenant_id"] == tenant.id and 0 <= report["score"] <= 100
    assert sum(report["counts"].values()) == len(report["findings"])
    filtered = api.get(
        f"/api/compliance/reports/{report_id}?tenant_id={tenant.id}&severity=medium", headers=founder_headers()
    ).json()
    assert [f["id"] for f in filtered["findings"]] == [mine[0]["id"]]
    listed = api.get(
        "/api/compliance/reports?status=completed&with_severity=medium&limit=1", headers=founder_headers()
    ).json()
    assert len(listed["reports"]) == 1 and listed["total"] >= 1 and listed["limit"] == 1
    assert listed["reports"][0]["counts"]["medium"] >= 1


def test_bad_audit_requests_change_nothing(api: TestClient, engine: Engine) -> None:
    before = report_count(engine)

    unknown_tenant = api.post(
        "/api/compliance/reports/run", json={"tenant_id": str(uuid.uuid4())}, headers=founder_headers()
    )
    extra_field = api.post("/api/compliance/reports/run", json={"tenant": "x"}, headers=founder_headers())
    unknown_report = api.get(f"/api/compliance/reports/{uuid.uuid4()}", headers=founder_headers())
    bad_filter = api.get("/api/compliance/reports?limit=0", headers=founder_headers())

    assert (unknown_tenant.status_code, unknown_tenant.json()["code"], unknown_tenant.json()["field"]) == (
        404,
        "tenant_not_found",
        "tenant_id",
    )
    assert (extra_field.status_code, extra_field.json()["field"]) == (422, "body.tenant")
    assert (unknown_report.status_code, unknown_report.json()["code"]) == (404, "report_not_found")
    assert (bad_filter.status_code, bad_filter.json()["field"]) == (422, "query.limit")
    assert report_count(engine) == before


def test_published_legal_documents_are_public_and_versions_immutable(api: TestClient) -> None:
    terms = publish(api, "terms", url="https://levqor.test/terms")
    later = publish(
        api, "privacy", text="We keep little.", effective_at=(datetime.now(UTC) + timedelta(days=30)).isoformat()
    )

    again = publish(api, "terms", version=terms.json()["version"], url="https://levqor.test/terms-2")
    no_content = publish(api, "privacy")
    plain_http = publish(api, "cookie_policy", url="http://levqor.test/cookies")
    consent_without_config = publish(api, "cookie_consent", text="banner")
    read = api.get("/api/compliance/legal")

    assert terms.status_code == 200 and later.status_code == 200
    assert (again.status_code, again.json()["code"], again.json()["field"]) == (409, "version_exists", "body.version")
    assert (no_content.status_code, no_content.json()["code"]) == (422, "invalid_request")
    assert (plain_http.status_code, plain_http.json()["field"]) == (422, "body.url")
    assert (consent_without_config.status_code, consent_without_config.json()["code"]) == (422, "config_required")
    assert read.status_code == 200
    assert read.json()["current"]["terms"]["version"] == terms.json()["version"]
    assert later.json()["version"] in [d["version"] for d in read.json()["upcoming"]]
    versions = api.get("/api/compliance/legal/terms").json()
    assert versions[0]["version"] == terms.json()["version"]


def test_audit_flags_cookies_on_before_consent_and_passes_once_fixed(api: TestClient) -> None:
    for kind in ("terms", "privacy", "cookie_policy"):
        assert publish(api, kind, url=f"https://levqor.test/{kind}").status_code == 200
    # effective now: later than any version an earlier test run published into the shared database
    assert (
        publish(
            api, "cookie_consent", config=consent(analytics_on=True), effective_at=datetime.now(UTC).isoformat()
        ).status_code
        == 200
    )

    flagged = poll_report(api, api.post("/api/compliance/reports/run", headers=founder_headers()).json()["report_id"])
    assert (
        publish(
            api, "cookie_consent", config=consent(analytics_on=False), effective_at=datetime.now(UTC).isoformat()
        ).status_code
        == 200
    )
    fixed = poll_report(api, api.post("/api/compliance/reports/run", headers=founder_headers()).json()["report_id"])

    legal = {"legal_missing", "legal_unversioned", "cookie_consent_invalid", "cookie_consent_default_on"}
    assert [(f["check"], f["detail"]["categories"]) for f in flagged["findings"] if f["check"] in legal] == [
        ("cookie_consent_default_on", ["analytics"])
    ]
    assert [f for f in fixed["findings"] if f["check"] in legal] == []


def test_a_keys_use_is_recorded_after_the_response_at_most_hourly(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)
    with Session(engine) as session:
        key = session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.role == "admin")).one()

    assert api.get("/api/secrets", headers=tenant.admin).status_code == 200
    with Session(engine) as session:
        stamped = session.get(ApiKey, key.id)
        assert stamped is not None and stamped.last_used_at is not None
        stamped.last_used_at = datetime.now(UTC) - timedelta(days=100)
        session.add(stamped)
        session.commit()
    assert api.get("/api/secrets", headers=tenant.admin).status_code == 200

    with Session(engine) as session:
        again = session.get(ApiKey, key.id)
    assert again is not None and again.last_used_at is not None
    assert datetime.now(UTC) - again.last_used_at > timedelta(days=99)  # this process recorded it within the hour

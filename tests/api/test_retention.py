"""Retention through the API: a tenant reads its policies and oldest records kept; the founder sets them
within the plan's bounds (audited), never outside; other tenants and tenant keys cannot."""

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from rules.retention import PLAN_RETENTION
from schemas.tables import AuditEntry, RetentionReport, RetentionReportEntry, RunArchiveEntry
from tests.api.tenancy import new_tenant
from tests.conftest import founder_headers


def by_class(answer: dict) -> dict[str, dict]:
    return {policy["data_class"]: policy for policy in answer["policies"]}


def archive_run(engine: Engine, tenant_id: str, closed_at: datetime) -> None:
    with Session(engine) as session:
        session.add(
            RunArchiveEntry(
                run_id=f"run-{uuid.uuid4()}",
                tenant_id=tenant_id,
                definition_id=str(uuid.uuid4()),
                version=1,
                status="completed",
                trigger="api",
                started_at=closed_at,
                closed_at=closed_at,
            )
        )
        session.commit()


def test_a_tenant_reads_its_plans_policies_and_the_oldest_record_kept(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="starter")
    closed = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    archive_run(engine, tenant.id, closed)

    answer = api.get("/api/retention", headers=tenant.member)

    assert answer.status_code == 200, answer.text
    policies = by_class(answer.json())
    assert answer.json()["plan"] == "starter" and answer.json()["tenant_id"] == tenant.id
    assert policies["run_history"] == {
        "data_class": "run_history",
        "days": 30,
        "source": "plan",
        "default_days": 30,
        "min_days": 7,
        "max_days": 90,
        "collected": True,
        "oldest_kept_at": closed.isoformat().replace("+00:00", "Z"),
    }
    assert policies["audit_log"]["oldest_kept_at"] is not None  # the tenant's creation is audited
    assert policies["telemetry"]["oldest_kept_at"] is None
    assert policies["ai_transcripts"]["collected"] is True and policies["ai_transcripts"]["days"] == 30
    assert set(policies) == set(PLAN_RETENTION["starter"])


def test_the_founder_sets_a_policy_within_the_bounds_and_it_is_audited(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="pro")

    answer = api.put(
        f"/api/tenants/{tenant.id}/retention",
        json={"policies": {"run_history": 365, "telemetry": 1}},
        headers=founder_headers(),
    )

    assert answer.status_code == 200, answer.text
    policies = by_class(answer.json())
    assert (policies["run_history"]["days"], policies["run_history"]["source"]) == (365, "override")
    assert (policies["telemetry"]["days"], policies["telemetry"]["source"]) == (1, "override")
    assert by_class(api.get("/api/retention", headers=tenant.admin).json())["run_history"]["days"] == 365
    with Session(engine) as session:
        audits = session.exec(
            select(AuditEntry).where(AuditEntry.tenant_id == tenant.id, AuditEntry.action == "retention_policy_set")
        ).all()
    assert [(a.actor, a.detail["policies"], a.detail["before"]) for a in audits] == [
        ("founder", {"run_history": 365, "telemetry": 1}, {"run_history": None, "telemetry": None})
    ]

    reset = api.put(
        f"/api/tenants/{tenant.id}/retention", json={"policies": {"run_history": None}}, headers=founder_headers()
    )

    assert reset.status_code == 200, reset.text
    assert by_class(reset.json())["run_history"]["source"] == "plan"
    assert by_class(reset.json())["telemetry"]["days"] == 1


def test_a_policy_outside_the_plans_bounds_is_refused_and_changes_nothing(api: TestClient) -> None:
    tenant = new_tenant(api, plan="free")

    for policies, field in (
        ({"telemetry": 7, "run_history": 31}, "body.policies.run_history"),
        ({"audit_log": 30}, "body.policies.audit_log"),
    ):
        answer = api.put(f"/api/tenants/{tenant.id}/retention", json={"policies": policies}, headers=founder_headers())

        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "retention_out_of_bounds" and answer.json()["field"] == field
    unknown = api.put(
        f"/api/tenants/{tenant.id}/retention", json={"policies": {"backups": 3}}, headers=founder_headers()
    )
    assert unknown.status_code == 422 and unknown.json()["field"].startswith("body.policies")
    assert all(p["source"] == "plan" for p in api.get("/api/retention", headers=tenant.admin).json()["policies"])


def test_another_tenant_gets_404_and_tenant_keys_cannot_set_policies(api: TestClient) -> None:
    tenant, other = new_tenant(api, plan="pro"), new_tenant(api, plan="pro", name="Other")

    foreign = api.get(f"/api/tenants/{tenant.id}/retention", headers=other.admin)
    own = api.get(f"/api/tenants/{tenant.id}/retention", headers=tenant.member)
    missing = api.put(
        f"/api/tenants/{uuid.uuid4()}/retention", json={"policies": {"telemetry": 5}}, headers=founder_headers()
    )
    by_member = api.put(
        f"/api/tenants/{tenant.id}/retention", json={"policies": {"telemetry": 5}}, headers=tenant.member
    )
    by_admin = api.put(f"/api/tenants/{tenant.id}/retention", json={"policies": {"telemetry": 5}}, headers=tenant.admin)

    assert foreign.status_code == 404 and foreign.json()["code"] == "tenant_not_found"
    assert own.status_code == 200
    assert missing.status_code == 404 and missing.json()["code"] == "tenant_not_found"
    assert by_member.status_code == 403 and by_admin.status_code == 403
    assert by_class(api.get("/api/retention", headers=tenant.admin).json())["telemetry"]["source"] == "plan"


def test_the_founder_reads_the_latest_enforcer_report(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free")
    report = RetentionReport(as_of=datetime.now(UTC), status="completed", totals={"telemetry": 4})
    with Session(engine) as session:
        session.add(report)
        session.flush()
        session.add(
            RetentionReportEntry(
                report_id=report.id, data_class="telemetry", tenant_id=tenant.id, deleted=4, cutoff=report.as_of
            )
        )
        session.commit()
        report_id = report.id

    answer = api.get("/api/retention/reports/latest", headers=founder_headers())
    as_tenant = api.get("/api/retention/reports/latest", headers=tenant.admin)

    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == report_id and answer.json()["totals"] == {"telemetry": 4}
    assert [(e["data_class"], e["tenant_id"], e["deleted"]) for e in answer.json()["entries"]] == [
        ("telemetry", tenant.id, 4)
    ]
    assert as_tenant.status_code == 403
    assert api.get("/api/retention", headers=tenant.admin).json()["last_enforced_at"] is not None

"""The UpgradePlanner: plans from planted signals, rebuilt without duplicates, stale ones archived."""

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from core.metering import add_usage
from orchestrator.upgrade_planner import UpgradePlanner
from rules.usage import period_of
from schemas.tables import (
    ComplianceFinding,
    ComplianceReport,
    FailureEntry,
    HealthRecord,
    TelemetryEvent,
    UpgradePlan,
)
from schemas.upgrades import UpgradePlannerInput
from tests.api.tenancy import new_tenant
from tests.conftest import founder_headers


def plant_failures(engine: Engine, tenant_id: str, count: int = 3, category: str = "timeout") -> str:
    """`count` open failures of one step of one (made-up) definition, assessed by AutoRecovery; answers the
    definition id."""
    definition_id, now = str(uuid.uuid4()), datetime.now(UTC)
    with Session(engine) as session:
        session.add_all(
            [
                FailureEntry(
                    tenant_id=tenant_id,
                    run_id=str(uuid.uuid4()),
                    definition_id=definition_id,
                    version=1,
                    step_id="fetch",
                    error_type="Timeout",
                    message="step timed out",
                    attempts=5,
                    first_failed_at=now,
                    last_failed_at=now,
                    category=category,
                    suggestion="as AutoRecovery assessed it",
                    assessed_at=now,
                )
                for _ in range(count)
            ]
        )
        session.commit()
    return definition_id


def rebuild(api: TestClient) -> dict:
    answer = api.post("/api/guardian/upgrade/plans/rebuild", headers=founder_headers())
    assert answer.status_code == 200, answer.text
    return answer.json()


def plans_for(api: TestClient, fingerprint: str) -> list[dict]:
    listed = api.get("/api/guardian/upgrade/plans", params={"limit": 200}, headers=founder_headers()).json()
    return [plan for plan in listed if plan["fingerprint"] == fingerprint]


def test_planted_signals_become_design_only_plans_and_a_rebuild_adds_no_duplicates(
    api: TestClient, engine: Engine
) -> None:
    failing, throttled, busy = new_tenant(api), new_tenant(api), new_tenant(api, plan="free")
    definition_id = plant_failures(engine, failing.id)
    api.post(f"/api/admin/cost/{throttled.id}/throttle", json={"reason": "spike"}, headers=founder_headers())
    with engine.begin() as connection:
        add_usage(connection, busy.id, period_of(datetime.now(UTC)), "runs", 85)  # of 100
    fingerprints = (
        f"failures:{definition_id}:fetch:timeout",
        f"cost:throttled:{throttled.id}",
        f"usage:near-limit:{busy.id}",
    )

    first = rebuild(api)
    second = rebuild(api)

    plans = [plans_for(api, fingerprint) for fingerprint in fingerprints]
    assert [len(found) for found in plans] == [1, 1, 1]
    timeout_plan, throttle_plan, limit_plan = (found[0] for found in plans)
    assert (timeout_plan["category"], timeout_plan["priority"], timeout_plan["source"]) == (
        "performance",
        3,
        "failure_queue",
    )
    assert timeout_plan["metadata"]["count"] == 3
    assert (throttle_plan["category"], limit_plan["category"]) == ("pricing", "pricing")
    assert limit_plan["metadata"]["detail"] == {"runs": 0.85}
    assert all(
        p["auto_applicable"] is False and p["safe_mode"] is True and p["status"] == "open"
        for p in (timeout_plan, throttle_plan, limit_plan)
    )
    assert first["created"] >= 3 and second["refreshed"] >= 3
    assert second["proposed"] == second["created"] + second["refreshed"]


async def test_a_plan_nothing_proposes_any_more_is_archived(
    client: Client, worker_queue: str, api: TestClient, engine: Engine
) -> None:
    tenant = new_tenant(api)
    definition_id = plant_failures(engine, tenant.id, count=5, category="target_5xx")
    fingerprint = f"failures:{definition_id}:fetch:target_5xx"
    await client.execute_workflow(
        UpgradePlanner.run, UpgradePlannerInput(), id=f"planner-{uuid.uuid4()}", task_queue=worker_queue
    )
    with Session(engine) as session:
        for failure in session.exec(select(FailureEntry).where(FailureEntry.definition_id == definition_id)):
            failure.status = "resolved"
            session.add(failure)
        session.commit()

    result = await client.execute_workflow(
        UpgradePlanner.run, UpgradePlannerInput(stale_after_s=0), id=f"planner-{uuid.uuid4()}", task_queue=worker_queue
    )

    with Session(engine) as session:
        plans = session.exec(select(UpgradePlan).where(UpgradePlan.fingerprint == fingerprint)).all()
    assert [(plan.status, plan.priority, plan.category) for plan in plans] == [("archived", 2, "reliability")]
    assert plans[0].archived_at is not None and result.archived >= 1


def test_plans_are_filtered_moved_and_summarised_by_the_founder_only(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)
    definition_id = plant_failures(engine, tenant.id, count=10, category="auth_4xx")
    rebuild(api)
    plan = plans_for(api, f"failures:{definition_id}:fetch:auth_4xx")[0]

    security = api.get(
        "/api/guardian/upgrade/plans", params={"category": "security", "status": "open"}, headers=founder_headers()
    ).json()
    moved = api.patch(
        f"/api/guardian/upgrade/plans/{plan['id']}", json={"status": "in_progress"}, headers=founder_headers()
    )
    read = api.get(f"/api/guardian/upgrade/plans/{plan['id']}", headers=founder_headers()).json()
    summary = api.get("/api/guardian/upgrade/summary", headers=founder_headers()).json()

    assert plan["id"] in [p["id"] for p in security] and all(p["category"] == "security" for p in security)
    assert (plan["priority"], plan["risk_level"]) == (1, "high")
    assert (moved.status_code, read["status"]) == (200, "in_progress")
    assert summary["by_status"]["in_progress"] >= 1 and summary["by_category"]["security"] >= 1
    assert api.get("/api/guardian/upgrade/plans", headers=tenant.admin).status_code == 403
    assert api.get("/api/guardian/upgrade/plans/nope", headers=founder_headers()).json()["code"] == "plan_not_found"
    assert api.get("/api/guardian/upgrade/plans", params={"limit": 0}, headers=founder_headers()).status_code == 422
    bad = api.patch(f"/api/guardian/upgrade/plans/{plan['id']}", json={"status": "done"}, headers=founder_headers())
    assert (bad.status_code, bad.json()["field"]) == (422, "body.status")
    api.patch(f"/api/guardian/upgrade/plans/{plan['id']}", json={"status": "archived"}, headers=founder_headers())
    again = api.patch(
        f"/api/guardian/upgrade/plans/{plan['id']}", json={"status": "applied"}, headers=founder_headers()
    )
    assert (again.status_code, again.json()["code"]) == (409, "plan_archived")


def test_serious_findings_of_the_latest_platform_audit_become_security_plans(api: TestClient, engine: Engine) -> None:
    tenant, now = new_tenant(api), datetime.now(UTC)
    with Session(engine) as session:
        report = ComplianceReport(status="completed", trigger="schedule", started_at=now, finished_at=now, score=60)
        session.add(report)
        session.flush()
        session.add_all(
            [
                ComplianceFinding(
                    report_id=report.id,
                    check="dsar_overdue",
                    severity="critical",
                    penalty=25,
                    title="An erasure request is past its deadline",
                    remediation="Complete it today",
                    tenant_id=tenant.id,
                ),
                ComplianceFinding(
                    report_id=report.id,
                    check="key_unused",
                    severity="low",
                    penalty=2,
                    title="An API key is unused",
                    remediation="Revoke it",
                    tenant_id=tenant.id,
                ),
            ]
        )
        session.commit()

    rebuild(api)

    serious = plans_for(api, f"compliance:dsar_overdue:{tenant.id}")
    assert [(p["category"], p["priority"], p["risk_level"], p["source"]) for p in serious] == [
        ("security", 1, "high", "compliance_audit")
    ]
    assert serious[0]["description"] == "Complete it today"
    assert plans_for(api, f"compliance:key_unused:{tenant.id}") == []


def test_failing_heartbeat_checks_and_telemetry_anomalies_become_plans(api: TestClient, engine: Engine) -> None:
    now, endpoint = datetime.now(UTC), f"/api/checkout-{uuid.uuid4().hex[:8]}"
    with Session(engine) as session:
        session.add_all(
            [
                HealthRecord(
                    at=now - timedelta(minutes=minutes),
                    status="degraded",
                    db_ok=True,
                    temporal_ok=True,
                    stripe_status="failed",
                    ai_status="ok",
                    error_count_recent=0,
                    checks={"stripe": {"name": "stripe", "status": "failed"}},
                )
                for minutes in (1, 2, 3)
            ]
        )
        session.add_all(
            [
                TelemetryEvent(
                    source="web",
                    kind="performance",
                    message="request",
                    endpoint=endpoint,
                    duration_ms=4_500,
                    at=now - timedelta(seconds=seconds),
                )
                for seconds in range(5)
            ]
        )
        session.commit()

    rebuild(api)

    listed = api.get("/api/guardian/upgrade/plans", params={"limit": 200}, headers=founder_headers()).json()
    stripe = [p for p in listed if p["fingerprint"] == "heartbeat:stripe"]
    slow = [p for p in listed if p["source"] == "telemetry" and p["metadata"]["subject"] == endpoint]
    assert [(p["category"], p["priority"]) for p in stripe] == [("reliability", 2)]
    assert stripe[0]["metadata"]["failed"] >= 3
    assert [(p["category"], p["metadata"]["rule"]) for p in slow] == [("performance", "slow_endpoint")]

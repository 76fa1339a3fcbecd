"""ComplianceAudit on the real dev server: it finds each kind of finding planted for a tenant, nothing
about a clean one, archived runs kept past the history retention, and e-mails the founder about critical findings."""

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from core.security import SecretBox
from core.settings import Settings
from orchestrator.compliance_audit import ComplianceAudit
from orchestrator.worker import build_worker
from schemas.compliance import ComplianceAuditInput, ComplianceAuditResult
from schemas.tables import (
    ApiKey,
    AuditEntry,
    ComplianceFinding,
    ComplianceReport,
    DataRequest,
    FailureEntry,
    RunArchiveEntry,
    Tenant,
    TenantSecret,
    WebhookTrigger,
    WorkflowDefinitionRow,
    WorkflowVersionRow,
)
from starters.platform_schedules import COMPLIANCE_AUDIT_SCHEDULE, ensure_platform_schedules
from tests.conftest import until
from tests.fakes.smtp import SmtpSink

FOUNDER_EMAIL = "founder@levqor.test"


def plant_everything(engine: Engine, settings: Settings, secret_value: str) -> str:
    """A tenant with one instance of every tenant-level problem the audit knows."""
    now, tenant = datetime.now(UTC), Tenant(name="careless")
    assert settings.levqor_secrets_key is not None
    box = SecretBox(settings.levqor_secrets_key.get_secret_value())
    long_ago = now - timedelta(days=400)
    with Session(engine, expire_on_commit=False) as session:
        session.add(tenant)
        session.flush()
        definition = WorkflowDefinitionRow(tenant_id=tenant.id, name="billing sync")
        session.add(definition)
        session.flush()
        step = {
            "id": "push",
            "type": "http_request",
            "url": "http://billing.example.com/hook",
            "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
        }
        session.add_all(
            [
                DataRequest(
                    tenant_id=tenant.id,
                    kind="export",
                    requested_at=now - timedelta(days=40),
                    deadline_at=now - timedelta(days=10),
                ),
                DataRequest(
                    tenant_id=tenant.id,
                    kind="erasure",
                    requested_at=now - timedelta(days=28),
                    deadline_at=now + timedelta(days=2),
                ),
                ApiKey(
                    tenant_id=tenant.id,
                    role="admin",
                    prefix="lvq_idleadmn",
                    key_hash=uuid.uuid4().hex,
                    created_at=long_ago,
                    last_used_at=now - timedelta(days=100),
                ),
                ApiKey(
                    tenant_id=tenant.id,
                    role="member",
                    prefix="lvq_nevrused",
                    key_hash=uuid.uuid4().hex,
                    created_at=now - timedelta(days=120),
                ),
                WorkflowVersionRow(
                    definition_id=definition.id, version=1, body={"name": "billing sync", "steps": [step]}
                ),
                WebhookTrigger(tenant_id=tenant.id, definition_id=definition.id, token_hash=uuid.uuid4().hex),
                TenantSecret(tenant_id=tenant.id, name="API_TOKEN", ciphertext=box.seal(secret_value)),
                FailureEntry(
                    tenant_id=tenant.id,
                    run_id=f"planted-{uuid.uuid4()}",
                    definition_id=definition.id,
                    version=1,
                    step_id="push",
                    error_type="HttpClientError",
                    attempts=1,
                    message=f"POST answered 401 for token {secret_value}",
                    first_failed_at=now,
                    last_failed_at=now,
                ),
                AuditEntry(tenant_id=tenant.id, actor="founder", action="debug", detail={"sent": f"x-{secret_value}"}),
                FailureEntry(
                    tenant_id=tenant.id,
                    run_id=f"planted-{uuid.uuid4()}",
                    definition_id=definition.id,
                    version=1,
                    step_id="push",
                    error_type="HttpTimeout",
                    message="old",
                    attempts=1,
                    first_failed_at=long_ago,
                    last_failed_at=long_ago,
                    created_at=long_ago,
                ),
                AuditEntry(tenant_id=tenant.id, actor="founder", action="suspend", detail={}, at=long_ago),
            ]
        )
        session.commit()
    return tenant.id


def findings_of(engine: Engine, report_id: str) -> list[ComplianceFinding]:
    with Session(engine) as session:
        return list(session.exec(select(ComplianceFinding).where(ComplianceFinding.report_id == report_id)).all())


def mail_for(sink: SmtpSink, report_id: str) -> list:
    return [
        m
        for m in sink.messages
        if str(m.message["X-Levqor-Idempotency-Key"]).strip() == f"compliance-report-{report_id}"
    ]


async def test_audit_finds_every_planted_finding_and_mails_the_founder(
    client: Client, settings: Settings, engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    secret_value = f"sk_live_{uuid.uuid4().hex}"
    log_file = tmp_path / "levqor.log"
    log_file.write_text(
        '{"event": "boot"}\n' + f'{{"event": "http step", "url": "https://x.test/?key={secret_value}"}}\n'
    )
    tenant_id = plant_everything(engine, settings, secret_value)
    careless = settings.model_copy(
        update={
            "levqor_founder_token": SecretStr("weak-token-12345"),
            "founder_email": FOUNDER_EMAIL,
            "log_file": str(log_file),
        }
    )
    queue = f"audit-{uuid.uuid4()}"

    async with build_worker(client, careless, engine, task_queue=queue):
        handle = await client.start_workflow(
            ComplianceAudit.run, ComplianceAuditInput(tenant_id=tenant_id), id=f"audit-{uuid.uuid4()}", task_queue=queue
        )
        result: ComplianceAuditResult = await handle.result()

    findings = findings_of(engine, result.report_id)
    mine = Counter(f.check for f in findings if f.tenant_id == tenant_id)
    assert mine == {
        "dsar_overdue": 1,
        "dsar_deadline": 1,
        "api_key_unused": 2,
        "plain_http_target": 1,
        "webhook_unsigned": 1,
        "secret_in_logs": 1,
        "retention_rows": 2,
    }
    by_check = {f.check: f for f in findings}
    assert by_check["dsar_overdue"].severity == "critical" and by_check["secret_in_logs"].severity == "critical"
    assert by_check["plain_http_target"].severity == "high" and by_check["plain_http_target"].detail["carries_secret"]
    assert {p["source"] for p in by_check["secret_in_logs"].detail["places"]} == {
        "failure_entry",
        "audit_entry",
        "log_file",
    }
    assert by_check["founder_credential_weak"].tenant_id is None
    assert by_check["founder_credential_weak"].detail == {"length": 16, "character_classes": 3}
    with Session(engine) as session:
        report = session.get(ComplianceReport, result.report_id)
    assert report is not None and report.status == "completed" and report.founder_notified
    per_check: Counter[str] = Counter()
    for f in findings:
        per_check[f.check] += f.penalty
    assert report.score == result.score == max(0, 100 - sum(min(25, p) for p in per_check.values()))
    assert report.counts["critical"] == sum(f.severity == "critical" for f in findings) >= 2
    mails = mail_for(smtp_sink, result.report_id)
    assert len(mails) == 1 and mails[0].rcpt_tos == [FOUNDER_EMAIL]
    assert "API_TOKEN" in mails[0].message.get_content()
    history = (await handle.fetch_history()).to_json()
    assert secret_value not in history and FOUNDER_EMAIL not in history
    assert all(secret_value not in str(f.detail) + f.title for f in findings)


async def test_audit_of_a_clean_tenant_finds_nothing_about_it(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    tenant = Tenant(name="tidy")
    with Session(engine, expire_on_commit=False) as session:
        session.add(tenant)
        session.flush()
        definition = WorkflowDefinitionRow(tenant_id=tenant.id, name="tidy flow")
        session.add(definition)
        session.flush()
        session.add_all(
            [
                ApiKey(tenant_id=tenant.id, role="admin", prefix="lvq_fresh123", key_hash=uuid.uuid4().hex),
                WorkflowVersionRow(
                    definition_id=definition.id,
                    version=1,
                    body={
                        "name": "tidy flow",
                        "steps": [{"id": "push", "type": "http_request", "url": "https://billing.example.com/hook"}],
                    },
                ),
                WebhookTrigger(
                    tenant_id=tenant.id,
                    definition_id=definition.id,
                    token_hash=uuid.uuid4().hex,
                    signing_secret="sealed",
                ),
                DataRequest(tenant_id=tenant.id, kind="export", deadline_at=datetime.now(UTC) + timedelta(days=30)),
            ]
        )
        session.commit()

    result = await client.execute_workflow(
        ComplianceAudit.run,
        ComplianceAuditInput(tenant_id=tenant.id),
        id=f"audit-{uuid.uuid4()}",
        task_queue=worker_queue,
    )

    assert [f.title for f in findings_of(engine, result.report_id) if f.tenant_id == tenant.id] == []


async def test_archived_runs_older_than_the_tenants_history_retention_are_a_finding(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    now, tenant = datetime.now(UTC), Tenant(name="hoarder", plan="starter")
    with Session(engine) as session:
        session.add(tenant)
        session.flush()
        for days in (29, 31, 40):
            closed_at = now - timedelta(days=days)
            session.add(
                RunArchiveEntry(
                    run_id=f"run-{uuid.uuid4()}",
                    tenant_id=tenant.id,
                    definition_id=str(uuid.uuid4()),
                    version=1,
                    status="completed",
                    trigger="api",
                    started_at=closed_at,
                    closed_at=closed_at,
                )
            )
        session.commit()
        tenant_id = tenant.id

    result = await client.execute_workflow(
        ComplianceAudit.run,
        ComplianceAuditInput(tenant_id=tenant_id),
        id=f"audit-{uuid.uuid4()}",
        task_queue=worker_queue,
    )

    found = [f for f in findings_of(engine, result.report_id) if f.check == "retention_rows"]
    assert [(f.tenant_id, f.severity, f.detail["data_class"], f.detail["count"], f.detail["days"]) for f in found] == [
        (tenant_id, "medium", "run_history", 2, 30)  # the starter plan keeps run history 30 days
    ]


async def test_the_daily_schedule_exists_and_its_trigger_writes_a_report(
    client: Client, settings: Settings, engine: Engine, api: TestClient
) -> None:
    await ensure_platform_schedules(client, settings)
    schedule = client.get_schedule_handle(COMPLIANCE_AUDIT_SCHEDULE)
    with Session(engine) as session:
        before = {r.id for r in session.exec(select(ComplianceReport).where(ComplianceReport.trigger == "schedule"))}

    await schedule.trigger()

    def scheduled_reports() -> list[ComplianceReport]:
        with Session(engine) as session:
            return [
                r
                for r in session.exec(select(ComplianceReport).where(ComplianceReport.trigger == "schedule"))
                if r.id not in before
            ]

    async def probe() -> list[ComplianceReport]:
        return await asyncio.to_thread(scheduled_reports)

    reports = await until(probe, lambda rs: any(r.status == "completed" for r in rs), timeout_s=60)
    description = await schedule.describe()
    assert description.schedule.spec.intervals[0].every == timedelta(days=1)
    assert description.schedule.spec.intervals[0].offset == timedelta(hours=settings.compliance_audit_hour_utc)
    assert reports[0].tenant_id is None and reports[0].score is not None


async def test_a_check_family_that_keeps_failing_becomes_a_finding_and_the_rest_still_report(
    client: Client, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    tenant = Tenant(name="unreadable logs")
    assert settings.levqor_secrets_key is not None
    box = SecretBox(settings.levqor_secrets_key.get_secret_value())
    with Session(engine, expire_on_commit=False) as session:
        session.add(tenant)
        session.flush()
        session.add_all(
            [
                TenantSecret(tenant_id=tenant.id, name="TOKEN", ciphertext=box.seal("long-enough-value")),
                DataRequest(tenant_id=tenant.id, kind="export", deadline_at=datetime.now(UTC) - timedelta(days=1)),
            ]
        )
        session.commit()
    broken = settings.model_copy(update={"log_file": str(tmp_path)})  # a directory: reading it fails every time
    queue = f"audit-{uuid.uuid4()}"

    async with build_worker(client, broken, engine, task_queue=queue):
        result = await client.execute_workflow(
            ComplianceAudit.run, ComplianceAuditInput(tenant_id=tenant.id), id=f"audit-{uuid.uuid4()}", task_queue=queue
        )

    found = {f.check: f for f in findings_of(engine, result.report_id)}
    assert found["audit_incomplete"].severity == "high"
    assert found["audit_incomplete"].detail == {"family": "secret_exposure", "error_type": "IsADirectoryError"}
    assert found["dsar_overdue"].tenant_id == tenant.id

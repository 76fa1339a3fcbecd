"""The platform-wide compliance checks on a database of their own (the shared one already has legal documents)."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.compliance import MAX_FINDINGS_PER_FAMILY, ComplianceActivities, capped
from activities.email import EmailActivities
from core.db import create_db_engine, migrate
from rules.retention import default_platform_retention
from schemas.compliance import AuditScope, Finding
from schemas.tables import HealthRecord, LegalDocument, RetentionOverride, RetentionReport, RunArchiveEntry, Tenant

NOW = datetime.now(UTC)


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'compliance.db'}"
    migrate(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


def audit(engine: Engine, founder_token: str = "Str0ng-Founder-Token-0123456789-abcdef") -> ComplianceActivities:
    email = EmailActivities("127.0.0.1", 1, sender="levqor@levqor.test")
    return ComplianceActivities(engine, None, founder_token, None, email, None)


def scope() -> AuditScope:
    return AuditScope(
        report_id=str(uuid.uuid4()),
        tenant_id=None,
        as_of=NOW,
        platform_retention=default_platform_retention(),
        dsar_warning_days=7,
        api_key_unused_days=90,
    )


def checks(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.check, f.severity, f.detail.get("kind", "")) for f in findings)


def test_every_missing_legal_document_is_a_high_finding(own_engine: Engine) -> None:
    found = ActivityEnvironment().run(audit(own_engine).check_legal_documents, scope())

    assert checks(found.items) == [
        ("legal_missing", "high", kind) for kind in ("cookie_consent", "cookie_policy", "privacy", "terms")
    ]
    assert all(f.tenant_id is None and f.penalty == 10 for f in found.items)


def test_stale_unversioned_and_not_yet_effective_documents_are_flagged(own_engine: Engine) -> None:
    with Session(own_engine) as session:
        session.add_all(
            [
                LegalDocument(
                    kind="terms", version="2024-01", url="https://x.test/t", effective_at=NOW - timedelta(days=500)
                ),
                LegalDocument(
                    kind="privacy", version=" ", url="https://x.test/p", effective_at=NOW - timedelta(days=3)
                ),
                LegalDocument(
                    kind="cookie_policy", version="2", url="https://x.test/c", effective_at=NOW + timedelta(days=3)
                ),
                LegalDocument(kind="cookie_consent", version="1", config={"categories": "all"}, effective_at=NOW),
            ]
        )
        session.commit()

    found = ActivityEnvironment().run(audit(own_engine).check_legal_documents, scope())

    assert checks(found.items) == [
        ("cookie_consent_invalid", "high", "cookie_consent"),
        ("legal_missing", "high", "cookie_policy"),
        ("legal_stale", "low", "terms"),
        ("legal_unversioned", "medium", "privacy"),
    ]


@pytest.mark.parametrize(
    ("token", "severity"),
    [
        ("Str0ng-Founder-Token-0123456789-abcdef", None),
        ("abcdefghijklmnopqrstuvwxyz012345", "medium"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "high"),
        ("Short-1234567890", "high"),
    ],
)
def test_founder_credential_strength_is_reported_without_the_token(
    own_engine: Engine, token: str, severity: str | None
) -> None:
    found = ActivityEnvironment().run(audit(own_engine, token).check_access, scope())

    weak = [f for f in found.items if f.check == "founder_credential_weak"]
    assert [f.severity for f in weak] == ([severity] if severity else [])
    assert all(token not in f.model_dump_json() for f in found.items)


def test_without_the_secrets_key_the_log_search_says_it_was_skipped(own_engine: Engine) -> None:
    found = ActivityEnvironment().run(audit(own_engine).check_secret_exposure, scope())

    assert checks(found.items) == [("secret_scan_skipped", "info", "")]


def test_a_family_with_too_many_findings_keeps_the_worst_and_sums_up_the_rest() -> None:
    many = [Finding.of("api_key_unused", "low", f"key {i}", "revoke") for i in range(MAX_FINDINGS_PER_FAMILY + 50)]
    many.append(Finding.of("dsar_overdue", "critical", "late", "answer"))

    kept = capped(many).items

    assert len(kept) == MAX_FINDINGS_PER_FAMILY and kept[0].check == "dsar_overdue"
    assert kept[-1].check == "findings_truncated" and kept[-1].detail == {"checks": {"api_key_unused": 52}}
    assert sum(f.penalty for f in kept) == sum(f.penalty for f in many)


def test_an_enforcer_that_never_ran_or_ran_too_long_ago_is_a_high_finding(own_engine: Engine) -> None:
    never = ActivityEnvironment().run(audit(own_engine).check_retention, scope())
    with Session(own_engine) as session:
        session.add(RetentionReport(as_of=NOW - timedelta(days=3), status="completed"))
        session.add(RetentionReport(as_of=NOW - timedelta(hours=1), status="completed", tenant_ids=["just-one"]))
        session.commit()
    stale = ActivityEnvironment().run(audit(own_engine).check_retention, scope())
    with Session(own_engine) as session:
        session.add(RetentionReport(as_of=NOW - timedelta(hours=20), status="completed"))
        session.commit()
    fresh = ActivityEnvironment().run(audit(own_engine).check_retention, scope())

    assert [(f.check, f.severity, f.title) for f in never.items] == [
        ("retention_enforcer_stale", "high", "The RetentionEnforcer has never completed a pass")
    ]
    assert [f.title for f in stale.items] == ["The RetentionEnforcer last completed a pass 3 days ago"]
    assert fresh.items == []


def test_records_kept_past_their_tenants_policy_or_the_platforms_are_findings(own_engine: Engine) -> None:
    with Session(own_engine) as session:
        free, longer = Tenant(name="free"), Tenant(name="longer")
        session.add_all([free, longer])
        session.flush()
        session.add(RetentionOverride(tenant_id=longer.id, data_class="run_history", days=20, set_by="founder"))
        for tenant_id in (free.id, longer.id):
            session.add_all(archived(tenant_id, NOW - timedelta(days=d)) for d in (3, 10, 12))
        session.add(RetentionReport(as_of=NOW, status="completed"))
        session.add(HealthRecord(at=NOW - timedelta(days=20), status="ok", db_ok=True, temporal_ok=True,
                                 stripe_status="ok", ai_status="ok", error_count_recent=0))  # fmt: skip
        session.commit()
        free_id = free.id

    found = ActivityEnvironment().run(audit(own_engine).check_retention, scope())

    assert {(f.check, f.tenant_id, f.detail["data_class"], f.detail["count"]) for f in found.items} == {
        ("retention_rows", free_id, "run_history", 2),  # the free plan keeps run history 7 days
        ("retention_rows", None, "health_records", 1),  # HEALTH_RETENTION_DAYS: 14
    }


def archived(tenant_id: str, closed_at: datetime) -> RunArchiveEntry:
    return RunArchiveEntry(
        run_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        definition_id=str(uuid.uuid4()),
        version=1,
        status="completed",
        trigger="api",
        started_at=closed_at,
        closed_at=closed_at,
    )

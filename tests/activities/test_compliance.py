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
from schemas.compliance import AuditScope, Finding
from schemas.tables import LegalDocument

NOW = datetime.now(UTC)


class NoRuns:
    async def count_closed_runs(
        self, closed_before: datetime, tenant_id: str | None, limit: int
    ) -> dict[str | None, int]:
        return {}


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'compliance.db'}"
    migrate(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


def audit(engine: Engine, founder_token: str = "Str0ng-Founder-Token-0123456789-abcdef") -> ComplianceActivities:
    email = EmailActivities("127.0.0.1", 1, sender="levqor@levqor.test")
    return ComplianceActivities(engine, NoRuns(), None, founder_token, None, email, None)


def scope() -> AuditScope:
    return AuditScope(
        report_id=str(uuid.uuid4()),
        tenant_id=None,
        as_of=NOW,
        retention_days=365,
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

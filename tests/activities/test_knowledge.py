"""The help chat's activities on the real database: search results with their citations, and the tenant's context,
which is read only when the question is about the tenant's own things and never holds another tenant's."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.knowledge import KnowledgeActivities
from domain.knowledge import sync_knowledge
from schemas.brain import ChatContext, KnowledgeQuery, TenantContextAsk
from schemas.tables import FailureEntry, Tenant

README = Path(__file__).resolve().parents[2] / "README.md"


def tenant_with_failure(engine: Engine, name: str, error_type: str) -> tuple[str, str]:
    now, run_id = datetime.now(UTC), f"run-{uuid.uuid4()}"
    with Session(engine) as session:
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
        session.add(
            FailureEntry(tenant_id=tenant.id, run_id=run_id, definition_id=str(uuid.uuid4()), version=1,
                         step_id="charge", error_type=error_type, message="card of ada@example.com declined",
                         attempts=5, first_failed_at=now, last_failed_at=now)
        )  # fmt: skip
        session.commit()
        return tenant.id, run_id


def test_the_search_answers_passages_with_their_citations(engine: Engine) -> None:
    sync_knowledge(engine, README)

    found = ActivityEnvironment().run(
        KnowledgeActivities(engine).search_knowledge, KnowledgeQuery(query="approval gate class founder", limit=3)
    )

    assert 1 <= len(found.passages) <= 3
    first = found.passages[0]
    assert first.citation.url == f"/app/help/knowledge/{first.citation.passage_id}"
    assert len(first.citation.excerpt) <= 301 and first.body.startswith(first.citation.excerpt.rstrip("…")[:50])


def test_a_question_about_my_runs_reads_only_the_tenants_own_failures_without_their_messages(
    engine: Engine,
) -> None:
    mine, my_run = tenant_with_failure(engine, "Mine", "ZqMineError")
    _, their_run = tenant_with_failure(engine, "Theirs", "ZqTheirError")
    read = KnowledgeActivities(engine).read_tenant_context

    about_mine = ActivityEnvironment().run(read, TenantContextAsk(tenant_id=mine, question="Why did my runs fail?"))
    foreign_run = ActivityEnvironment().run(
        read, TenantContextAsk(tenant_id=mine, question="Why?", context=ChatContext(run_id=their_run))
    )
    general = ActivityEnvironment().run(read, TenantContextAsk(tenant_id=mine, question="What is a delay step?"))

    text = "\n".join(about_mine.facts)
    assert my_run in text and "ZqMineError" in text and "charge" in text
    assert "ZqTheirError" not in text and their_run not in text
    assert "ada@example.com" not in text and "declined" not in text
    assert foreign_run.facts == []
    assert general.facts == []

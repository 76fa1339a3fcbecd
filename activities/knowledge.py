"""The knowledge base's search and the tenant's own context for the help chat."""

import re
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from core.knowledge_search import search_passages
from schemas.brain import (
    Citation,
    KnowledgeFound,
    KnowledgePassage,
    KnowledgeQuery,
    RetrievedPassage,
    TenantContext,
    TenantContextAsk,
)
from schemas.tables import FailureEntry, RunArchiveEntry, WorkflowDefinitionRow, WorkflowVersionRow

EXCERPT_CHARS = 300
MAX_WORKFLOWS = 20
MAX_RUNS = 10
# A question about the tenant's own things ("my workflows", "why did my run fail", "mis flujos"...).
ABOUT_MINE = re.compile(
    r"\b(my|mine|our|ours|mi|mis|mes|mon|ma|meu|meus|minha|minhas|mein|meine|il mio|i miei)\b.{0,40}"
    r"\b(workflows?|runs?|flujos?|ejecuci\w+|flux|ex[ée]cutions?|fluxos?|execu\w+|abl[äa]ufe?|l[äa]ufe?|"
    r"esecuzion\w+|automations?|steps?|failures?)\b",
    re.IGNORECASE,
)


class KnowledgeActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def search_knowledge(self, query: KnowledgeQuery) -> KnowledgeFound:
        """The best passages for the query, each with its citation and an excerpt."""
        passages = search_passages(self._engine, query.query, query.limit)
        return KnowledgeFound(passages=[RetrievedPassage(citation=_citation(p), body=p.body) for p in passages])

    @activity.defn
    def read_tenant_context(self, ask: TenantContextAsk) -> TenantContext:
        """What the AI may know of the tenant's own workflows and runs, when the chat's context names one or the
        question is about them; nothing otherwise. Scoped to the tenant; names, step types, statuses and error
        kinds only (no input values, URLs' paths and queries, addresses or secrets)."""
        context = ask.context
        named = context is not None and (context.workflow_id or context.run_id)
        if not named and not ABOUT_MINE.search(ask.question):
            return TenantContext()
        with Session(self._engine) as session:
            facts = _workflow_facts(session, ask.tenant_id, context.workflow_id if context else None)
            facts += _run_facts(session, ask.tenant_id, context.run_id if context else None)
        return TenantContext(facts=facts)


def _citation(passage: KnowledgePassage) -> Citation:
    return Citation(
        passage_id=passage.id,
        source=passage.source,
        title=passage.title,
        url=passage.url,
        excerpt=excerpt(passage.body),
    )


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of `body` on one line, cut at a word within `limit` characters."""
    flat = " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"


def _workflow_facts(session: Session, tenant_id: str, workflow_id: str | None) -> list[str]:
    query = select(WorkflowDefinitionRow).where(WorkflowDefinitionRow.tenant_id == tenant_id)
    if workflow_id is not None:
        query = query.where(WorkflowDefinitionRow.id == workflow_id)
    rows = session.exec(query.order_by(col(WorkflowDefinitionRow.updated_at).desc()).limit(MAX_WORKFLOWS)).all()
    facts = []
    for row in rows:
        version = session.exec(
            select(WorkflowVersionRow).where(
                WorkflowVersionRow.definition_id == row.id, WorkflowVersionRow.version == row.latest_version
            )
        ).first()
        steps = version.body.get("steps", []) if version is not None else []
        shown = "; ".join(_step_fact(step) for step in steps if isinstance(step, dict))
        facts.append(f'Workflow "{row.name}" (id {row.id}, version {row.latest_version}): steps {shown}')
    return facts


def _step_fact(step: dict[str, object]) -> str:
    kind = step.get("type")
    fact = f"{step.get('id')} ({kind}"
    url, recipients = step.get("url"), step.get("to")
    if kind == "http_request" and isinstance(url, str):
        fact += f" {step.get('method', 'GET')} {_host(url)}"
    elif kind == "approval":
        fact += f" class {step.get('class')}"
    elif kind == "email" and isinstance(recipients, list):
        fact += f" to {len(recipients)} recipient(s)"
    return fact + ")"


def _host(url: str) -> str:
    """Only the host of a step's URL: its path and query may carry values, a templated host a secret's name."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return host if host and "{" not in host else "a templated host"


def _run_facts(session: Session, tenant_id: str, run_id: str | None) -> list[str]:
    failures = select(FailureEntry).where(FailureEntry.tenant_id == tenant_id)
    runs = select(RunArchiveEntry).where(RunArchiveEntry.tenant_id == tenant_id)
    if run_id is not None:
        failures, runs = failures.where(FailureEntry.run_id == run_id), runs.where(RunArchiveEntry.run_id == run_id)
    facts = [
        f"Run {f.run_id} of workflow {f.definition_id} v{f.version} failed at step {f.step_id}: {f.error_type}"
        f" ({f.category or 'uncategorised'}) after {f.attempts} attempt(s); failure {f.status}"
        for f in session.exec(failures.order_by(col(FailureEntry.last_failed_at).desc()).limit(MAX_RUNS))
    ]
    facts += [
        f"Run {r.run_id} of workflow {r.definition_id} v{r.version}: {r.status}, started {r.started_at:%Y-%m-%d %H:%M}"
        f" UTC by {r.trigger}"
        for r in session.exec(runs.order_by(col(RunArchiveEntry.closed_at).desc()).limit(MAX_RUNS))
    ]
    return facts

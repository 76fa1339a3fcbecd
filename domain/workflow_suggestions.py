"""The suggestions for a workflow's latest version (rules/workflow_suggestions.py), with what the rules read beside
the definition: whether a webhook starts it, and which of its steps failed for good lately (the failure queue)."""

from collections import Counter

from sqlmodel import Session, col, select

from domain.definition_views import version_bodies
from domain.definitions import tenant_definition
from rules.workflow_suggestions import suggest
from schemas.brain import WorkflowSuggestion
from schemas.tables import FailureEntry, WebhookTrigger

RECENT_FAILURES = 200


def workflow_suggestions(session: Session, workflow_id: str, tenant_id: str) -> list[WorkflowSuggestion]:
    """What the tenant's workflow `workflow_id` could do better (404 for another tenant's)."""
    row = tenant_definition(session, workflow_id, tenant_id)
    latest = version_bodies(session, row.id)[0]
    has_webhook = session.exec(select(WebhookTrigger.id).where(WebhookTrigger.definition_id == row.id)).first()
    failed = session.exec(
        select(FailureEntry.step_id)
        .where(FailureEntry.tenant_id == tenant_id, FailureEntry.definition_id == row.id)
        .order_by(col(FailureEntry.last_failed_at).desc())
        .limit(RECENT_FAILURES)
    ).all()
    return suggest(latest.body, has_webhook=has_webhook is not None, failures=Counter(failed))

"""Reading a tenant's audit log: what happened to it lately, newest first (entries are written where things
happen: accounts, billing, data requests, lifecycle)."""

from sqlmodel import Session, col, select

from schemas.audit import AuditEntryPublic
from schemas.tables import AuditEntry

MAX_RECENT = 50


def recent_activity(session: Session, tenant_id: str, limit: int) -> list[AuditEntryPublic]:
    """The tenant's latest audit entries (at most MAX_RECENT), newest first; one indexed query."""
    rows = session.exec(
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id)
        .order_by(col(AuditEntry.at).desc())
        .limit(min(limit, MAX_RECENT))
    ).all()
    return [AuditEntryPublic.model_validate(row, from_attributes=True) for row in rows]

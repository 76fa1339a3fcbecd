"""A tenant's audit of its AI calls, newest first: what each was for, which model, what it cost and how it ended
(without the prompt and answer excerpts, which only the tenant's data export carries)."""

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from schemas.brain import AiInteractionPublic
from schemas.tables import AiInteraction


def recent_interactions(engine: Engine, tenant_id: str, limit: int) -> list[AiInteractionPublic]:
    with Session(engine) as session:
        rows = session.exec(
            select(AiInteraction)
            .where(AiInteraction.tenant_id == tenant_id)
            .order_by(col(AiInteraction.created_at).desc())
            .limit(limit)
        ).all()
    return [
        AiInteractionPublic(
            id=row.id,
            purpose=row.purpose,
            source="ai" if row.outcome == "answered" else "fallback",
            model=row.model,
            credits=row.credits,
            created_at=row.created_at,
            outcome=row.outcome,
        )
        for row in rows
    ]

"""Whether the AI may answer for a tenant now, asked before a Brain workflow starts: the founder's AI toggle, the
platform's API key, the tenant's daily and monthly AI credits and the cost autopilot's pause. A reason found here
goes into the workflow's input, so the workflow answers with its fallback and no AI call is attempted."""

from sqlalchemy import Engine
from sqlmodel import Session

from core.ai_credits import credit_status
from core.toggles import read_toggles
from schemas.brain import AiCreditStatus, FallbackReason


def ai_unavailable(engine: Engine, tenant_id: str, plan: str, *, configured: bool) -> FallbackReason | None:
    """Why the AI cannot answer for the tenant (AI off, no key, credits used up or paused); None when it can."""
    if not read_toggles(engine).ai_features:
        return "ai_off"
    if not configured:
        return "not_configured"
    if ai_credit_status(engine, tenant_id, plan).exhausted:
        return "credits_exhausted"
    return None


def ai_credit_status(engine: Engine, tenant_id: str, plan: str) -> AiCreditStatus:
    """The tenant's AI credits used today and this month against its plan's caps."""
    with Session(engine) as session:
        return credit_status(session, tenant_id, plan)

"""Who asks the Brain and with what: the one bundle every AI operation (drafts, diagnoses, chat, onboarding)
takes from the API or the web app."""

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from core.settings import Settings
from schemas.tables import Tenant


@dataclass(frozen=True)
class BrainContext:
    client: Client
    engine: Engine
    task_queue: str
    tenant_id: str
    plan: str
    actor: str
    """Who asks, as the audit log names them."""
    ai_configured: bool
    """Whether OPENAI_API_KEY is set (the worker's client exists)."""
    is_admin: bool = False
    """A tenant admin or the founder: may apply fixes."""
    settings: Settings | None = None
    """The platform's settings, for what starts a run as every start does (a fix's re-drive); None: none may."""


def tenant_plan(engine: Engine, tenant_id: str) -> str:
    """The tenant's plan (the free plan's rules for a tenant that is gone)."""
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id)
        return tenant.plan if tenant is not None else "free"

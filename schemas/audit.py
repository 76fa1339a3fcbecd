"""What the audit log answers to a tenant's own pages: who did what, when (the detail stays in the log)."""

from datetime import datetime

from pydantic import BaseModel


class AuditEntryPublic(BaseModel):
    id: str
    actor: str
    action: str
    at: datetime

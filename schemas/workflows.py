"""The API's bodies for workflow definitions."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class WorkflowPublic(BaseModel):
    id: str
    name: str
    version: int
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class WorkflowSummary(BaseModel):
    id: str
    name: str
    version: int
    updated_at: datetime

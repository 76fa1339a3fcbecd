"""The API's bodies for tenant secrets (the value is never answered)."""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.api import StrictBody


class SecretUpdate(StrictBody):
    value: str = Field(min_length=1, max_length=8192)


class SecretPublic(BaseModel):
    """A secret's name and dates; its value is never answered."""

    name: str
    created_at: datetime
    updated_at: datetime

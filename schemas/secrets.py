"""The API's bodies for tenant secrets (the value is never answered)."""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.api import StrictBody

# A secret's name, as steps write it in `{{ secrets.NAME }}`: UPPER_SNAKE_CASE.
SECRET_NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,63}$"


class SecretUpdate(StrictBody):
    value: str = Field(min_length=1, max_length=8192)


class SecretPublic(BaseModel):
    """A secret's name and dates; its value is never answered."""

    name: str
    created_at: datetime
    updated_at: datetime

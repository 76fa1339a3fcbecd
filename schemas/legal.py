"""Versioned legal documents and the cookie-consent banner configuration, as the founder publishes them."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LegalKind = Literal["terms", "privacy", "cookie_policy", "cookie_consent"]
LEGAL_KINDS: tuple[LegalKind, ...] = ("terms", "privacy", "cookie_policy", "cookie_consent")
LEGAL_LABELS: dict[str, str] = {
    "terms": "terms of service",
    "privacy": "privacy policy",
    "cookie_policy": "cookie policy",
    "cookie_consent": "cookie-consent banner configuration",
}


class CookieCategory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    description: str = Field(min_length=1, max_length=500)
    required: bool = False
    """Strictly necessary cookies: always on, no consent needed."""
    default_enabled: bool = False
    """Whether the banner pre-selects the category; GDPR wants non-essential ones off until the visitor opts in."""


class CookieConsentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[CookieCategory] = Field(min_length=1, max_length=20)
    policy_url: str | None = Field(default=None, max_length=2048)
    reconsent_days: int = Field(default=365, ge=1, le=3650)


class LegalDocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$", description="e.g. `2026-11-25` or `3.1`")
    effective_at: datetime
    url: str | None = Field(default=None, pattern=r"^https://", max_length=2048)
    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    config: CookieConsentConfig | None = None

    @model_validator(mode="after")
    def _has_content(self) -> "LegalDocumentCreate":
        if self.effective_at.tzinfo is None:
            raise ValueError("effective_at needs a time zone, e.g. 2026-12-01T00:00:00Z")
        if self.url is None and self.text is None and self.config is None:
            raise ValueError("give the document's url or text (or, for cookie_consent, its config)")
        return self


class LegalDocumentPublic(BaseModel):
    kind: LegalKind
    version: str
    url: str | None
    text: str | None
    config: dict[str, Any] | None
    effective_at: datetime
    published_at: datetime


class LegalDocuments(BaseModel):
    """The version of each kind in effect now (null when none is), and versions scheduled to take effect."""

    current: dict[str, LegalDocumentPublic | None]
    upcoming: list[LegalDocumentPublic]

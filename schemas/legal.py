"""Versioned legal documents and the cookie-consent banner configuration, as the founder publishes them."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.i18n import Text, tr

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


CategoryId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"


class LegalTranslationCreate(BaseModel):
    """A version in one tier-1 language: its text or url, and for cookie_consent the categories' descriptions."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, pattern=r"^https://", max_length=2048)
    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    descriptions: dict[CategoryId, Annotated[str, StringConstraints(min_length=1, max_length=500)]] | None = Field(
        default=None, max_length=20
    )

    @model_validator(mode="after")
    def _has_content(self) -> "LegalTranslationCreate":
        if self.url is None and self.text is None and not self.descriptions:
            raise ValueError("give the translation's url or text (or, for cookie_consent, its descriptions)")
        return self


class LegalDocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=VERSION_PATTERN, description="e.g. `2026-11-25` or `3.1`")
    effective_at: datetime
    url: str | None = Field(default=None, pattern=r"^https://", max_length=2048)
    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    config: CookieConsentConfig | None = None
    translations: dict[str, LegalTranslationCreate] = Field(
        default_factory=dict, max_length=8, description="by tier-1 language tag other than English, e.g. `ja`, `pt-BR`"
    )

    @model_validator(mode="after")
    def _has_content(self) -> "LegalDocumentCreate":
        if self.effective_at.tzinfo is None:
            raise ValueError("effective_at needs a time zone, e.g. 2026-12-01T00:00:00Z")
        if self.url is None and self.text is None and self.config is None:
            raise ValueError("give the document's url or text (or, for cookie_consent, its config)")
        return self


class LegalTranslationPublic(BaseModel):
    language: str
    url: str | None
    text: str | None
    descriptions: dict[str, str] | None
    published_at: datetime


class LegalDocumentPublic(BaseModel):
    kind: LegalKind
    version: str
    url: str | None
    text: str | None
    config: dict[str, Any] | None
    effective_at: datetime
    published_at: datetime
    translations: dict[str, LegalTranslationPublic] = Field(default_factory=dict)


class LegalDocuments(BaseModel):
    """The version of each kind in effect now (null when none is), and versions scheduled to take effect."""

    current: dict[str, LegalDocumentPublic | None]
    upcoming: list[LegalDocumentPublic]


class ConsentCreate(BaseModel):
    """A visitor's cookie choice: the optional categories allowed (none: essential only), under the version of the
    cookie-consent configuration they were shown."""

    model_config = ConfigDict(extra="forbid")

    categories: list[CategoryId] = Field(default_factory=list, max_length=20)
    version: str = Field(pattern=VERSION_PATTERN)


class ConsentPublic(BaseModel):
    categories: list[str]
    version: str
    at: datetime


class EssentialCookie(BaseModel):
    name: str
    purpose: Text
    lifetime: Text


CONSENT_COOKIE = "levqor_consent"
# Every cookie the platform sets, each strictly necessary (so set without asking); nothing else is set before the
# visitor allows a category. tests/web/browser/test_consent.py compares a browser's cookies with these names.
ESSENTIAL_COOKIES: tuple[EssentialCookie, ...] = (
    EssentialCookie(
        name="levqor_session",
        purpose=tr("Keeps you signed in after you follow a sign-in link; without it no page knows who you are."),
        lifetime=tr("Until you sign out or the session expires"),
    ),
    EssentialCookie(
        name="levqor_csrf",
        purpose=tr("Protects the forms of signed-out visitors against cross-site request forgery."),
        lifetime=tr("Until you close the browser"),
    ),
    EssentialCookie(
        name="levqor_next",
        purpose=tr("Remembers the page you asked for before signing in, to take you back there."),
        lifetime=tr("30 minutes"),
    ),
    EssentialCookie(
        name="levqor_lang",
        purpose=tr("Remembers the language you chose in the language switcher (set only when you choose one)."),
        lifetime=tr("One year"),
    ),
    EssentialCookie(
        name=CONSENT_COOKIE,
        purpose=tr(
            "Remembers your cookie choice and the random visitor id it is recorded under (set when you choose)."
        ),
        lifetime=tr("As long as the cookie settings say, at most until they change"),
    ),
)


# The banner's names of the usual categories; another id is shown as it is written (`ad_tracking` → Ad tracking).
CATEGORY_LABELS: dict[str, Text] = {
    "necessary": tr("Essential"),
    "essential": tr("Essential"),
    "functional": tr("Functional"),
    "preferences": tr("Preferences"),
    "analytics": tr("Analytics"),
    "statistics": tr("Statistics"),
    "marketing": tr("Marketing"),
    "advertising": tr("Advertising"),
}


class ConsentCategoryView(BaseModel):
    id: str
    label: Text | str
    description: str
    required: bool


class ConsentOffer(BaseModel):
    """What the banner offers: the configuration in effect (its version), its categories in the reader's language
    where the founder translated them."""

    version: str
    categories: list[ConsentCategoryView]
    reconsent_days: int

    @property
    def optional(self) -> list[str]:
        return [category.id for category in self.categories if not category.required]


class ConsentChoice(BaseModel):
    """What the consent cookie holds: the visitor's random id, the configuration version and the categories allowed."""

    visitor_id: str
    version: str
    categories: list[str]

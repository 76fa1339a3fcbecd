"""Cookie consent: the configuration in effect as the banner offers it, a visitor's choice recorded with that
configuration's version, and the value of the essential consent cookie that remembers it."""

import re
import secrets
from datetime import datetime

from pydantic import ValidationError
from sqlmodel import Session

from core.errors import ApiError
from domain.legal_translations import in_effect
from schemas.i18n import tr
from schemas.legal import (
    CATEGORY_LABELS,
    ConsentCategoryView,
    ConsentChoice,
    ConsentCreate,
    ConsentOffer,
    ConsentPublic,
    CookieConsentConfig,
)
from schemas.tables import ConsentRecord

# visitor id : configuration version : allowed categories joined by "+" (all cookie-safe characters, no quoting).
COOKIE_VALUE = re.compile(
    r"(?P<visitor>[A-Za-z0-9_-]{16,64}):(?P<version>[A-Za-z0-9][A-Za-z0-9._-]{0,31}):"
    r"(?P<categories>[a-z][a-z0-9_]{0,31}(?:\+[a-z][a-z0-9_]{0,31}){0,19})?"
)


def consent_offer(session: Session, tag: str, now: datetime) -> ConsentOffer | None:
    """The cookie-consent configuration in effect, described in language `tag` where translated; None before one
    is published (or when the stored one is not valid: the audit flags it)."""
    document = in_effect(session, "cookie_consent", now)
    if document is None:
        return None
    try:
        config = CookieConsentConfig.model_validate(document.config or {})
    except ValidationError:
        return None
    translation = document.translations.get(tag)
    translated = (translation.descriptions if translation else None) or {}
    categories = [
        ConsentCategoryView(
            id=category.id,
            label=CATEGORY_LABELS.get(category.id, category.id.replace("_", " ").capitalize()),
            description=translated.get(category.id, category.description),
            required=category.required,
        )
        for category in config.categories
    ]
    return ConsentOffer(version=document.version, categories=categories, reconsent_days=config.reconsent_days)


def record_consent(
    session: Session, offer: ConsentOffer | None, body: ConsentCreate, visitor_id: str, user_id: str | None
) -> ConsentPublic:
    """Records the choice under the version in effect: 409 when there is none or the visitor saw another version,
    422 for a category the configuration does not offer. Essential categories are always on and not recorded."""
    if offer is None:
        raise ApiError(409, "no_consent_config", tr("There is no cookie-consent configuration to answer"))
    if body.version != offer.version:
        raise ApiError(
            409, "consent_outdated", tr("The cookie settings changed; reload the page and choose again"),
            field="body.version",
        )  # fmt: skip
    offered = {category.id for category in offer.categories}
    if unknown := [category for category in body.categories if category not in offered]:
        raise ApiError(
            422, "unknown_category", tr("No category %(id)s in the cookie settings", id=unknown[0]),
            field="body.categories",
        )  # fmt: skip
    allowed = [category for category in offer.optional if category in body.categories]
    row = ConsentRecord(visitor_id=visitor_id, user_id=user_id, categories=allowed, config_version=offer.version)
    session.add(row)
    session.commit()
    return ConsentPublic(categories=allowed, version=offer.version, at=row.at)


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)


def cookie_value(choice: ConsentChoice) -> str:
    return f"{choice.visitor_id}:{choice.version}:{'+'.join(choice.categories)}"


def read_cookie(value: str | None) -> ConsentChoice | None:
    """The choice a consent cookie holds, or None when it holds none (missing or not of our making)."""
    found = COOKIE_VALUE.fullmatch(value or "")
    if found is None:
        return None
    categories = found["categories"].split("+") if found["categories"] else []
    return ConsentChoice(visitor_id=found["visitor"], version=found["version"], categories=categories)


def allows(choice: ConsentChoice | None, offer: ConsentOffer | None, category: str) -> bool:
    """Whether `category` may set its cookies: an essential one always, another once chosen under the configuration
    in effect (a new version asks again, and allows nothing until answered)."""
    if offer is None:
        return False
    if any(c.id == category and c.required for c in offer.categories):
        return True
    if choice is None or choice.version != offer.version:
        return False
    return category in choice.categories and category in offer.optional

"""The web app's cookie-consent hook: the visitor's choice (the essential consent cookie), whether a category may set
cookies (`consent_allows("analytics")` in templates, `levqorConsent.allows("analytics")` in scripts, both from the
state read here) and the banner's state for a page. Recording a choice is api/web/consent_choice.py."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from core.i18n import DEFAULT
from domain.cookie_consent import allows, consent_offer, read_cookie
from schemas.legal import CONSENT_COOKIE, ConsentChoice, ConsentOffer

log = structlog.get_logger()


@dataclass
class ConsentState:
    """The configuration in effect (None: nothing to ask) and the visitor's choice (None: not made)."""

    offer: ConsentOffer | None = None
    choice: ConsentChoice | None = None
    allowed: list[str] = field(default_factory=list)

    @property
    def chosen_optional(self) -> list[str]:
        """The optional categories the visitor allowed under the configuration in effect."""
        return [category for category in self.allowed if self.offer and category in self.offer.optional]

    @property
    def ask(self) -> bool:
        """Show the banner: there are optional categories and no answer to this version of the settings."""
        if self.offer is None or not self.offer.optional:
            return False
        return self.choice is None or self.choice.version != self.offer.version


def consent_state(request: Request) -> ConsentState:
    """This request's consent state, read once. A database that does not answer means no banner (the error page
    must still render), and no category allowed."""
    if hasattr(request.state, "consent"):
        return request.state.consent
    state = ConsentState(choice=read_cookie(request.cookies.get(CONSENT_COOKIE)))
    engine = getattr(request.state, "engine", None)
    if engine is not None:
        try:
            with Session(engine) as session:
                state.offer = consent_offer(session, getattr(request.state, "locale", DEFAULT), datetime.now(UTC))
        except SQLAlchemyError as err:
            log.warning("consent configuration unreadable", error=type(err).__name__)
    if state.offer is not None:
        state.allowed = [c.id for c in state.offer.categories if allows(state.choice, state.offer, c.id)]
    request.state.consent = state
    return state


@pass_context
def consent_banner(context: Context) -> ConsentState:
    """`{% set consent = consent_banner() %}`: the page's consent state (an empty one outside a request)."""
    request = context.get("request")
    return consent_state(request) if isinstance(request, Request) else ConsentState()


@pass_context
def consent_allows(context: Context, category: str) -> bool:
    """The hook a template asks before it includes anything that sets a cookie of `category`."""
    return category in consent_banner(context).allowed

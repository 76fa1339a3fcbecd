"""The sign-in link's e-mail: mints the link's token, stores only its hash, and sends the link through the
platform's `EmailActivities.send_email` (called inside this activity, so its retries are this one's).

A retry mints a fresh token and replaces the hash, so only the last e-mail's link works; a link already used or
expired is not sent again."""

import secrets
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from activities.email import EmailActivities, mask_address
from activities.recipients import mail_time, user_language
from core.i18n import DEFAULT, render
from core.security import hash_api_key
from schemas.accounts import SignInMailInput, SignInMailSent
from schemas.i18n import tr
from schemas.runs import EmailMessage
from schemas.tables import SignInLink

SUBJECTS = {"sign_in": tr("Your Levqor sign-in link"), "invite": tr("You are invited to Levqor")}
INTRO = {
    "sign_in": tr("Someone (we hope you) asked to sign in to Levqor with this address."),
    "invite": tr("You have been invited to a team on Levqor."),
}


class SignInMailActivities:
    def __init__(self, engine: Engine, email: EmailActivities) -> None:
        self._engine, self._email = engine, email

    @activity.defn(name="send_sign_in_link")
    def send_sign_in_link(self, params: SignInMailInput) -> SignInMailSent:
        """Mints and e-mails the link `params.link_id`; sends nothing for a link that is used, expired or gone."""
        token = secrets.token_urlsafe(32)
        with Session(self._engine) as session:
            link = session.get(SignInLink, params.link_id)
            if link is None or link.used_at is not None or link.expires_at <= datetime.now(UTC):
                return SignInMailSent(sent=False)
            link.token_hash = hash_api_key(token)
            session.add(link)
            session.commit()
            address, expires_at = link.email, link.expires_at
            language = user_language(session, address)
        # The link opens the landing page in the reader's language (English has no prefix).
        prefix = "" if language == DEFAULT else f"/{language}"
        url = f"{params.base_url.rstrip('/')}{prefix}/auth/link?{urlencode({'token': token})}"
        message = EmailMessage(
            to=[address],
            subject=render(SUBJECTS[params.kind], language),
            body=compose_link_mail(params.kind, url, expires_at, language),
            idempotency_key=f"sign-in:{params.link_id}",
        )
        receipt = self._email.send_email(message)
        activity.logger.info("sign-in link sent", extra={"to": mask_address(address), "kind": params.kind})
        return SignInMailSent(sent=True, message_id=receipt.message_id)


def compose_link_mail(kind: str, url: str, expires_at: datetime, language: str) -> str:
    """The link's e-mail body in `language` (a core/i18n.py tag)."""
    paragraphs = (
        render(INTRO[kind], language),
        render(
            tr("Open this link to sign in (it works once, until %(until)s):", until=mail_time(expires_at, language)),
            language,
        ),
        url,
        render(tr("If you did not ask for it, ignore this e-mail."), language),
    )
    return "\n\n".join(paragraphs) + "\n"

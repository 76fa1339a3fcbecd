"""What the launch stage does to a run, decided from what the run carries (pure; the workflow calls it).

Before launch (`pre-launch`) a marketing run's outbound steps (language/purpose.py) send nothing unless a founder
approved its campaign at the review gate the run adds before its first one; each step held back records a preview of
exactly what it would have sent, with tenant secrets masked (they are never resolved in a run's history). After launch,
and for operations runs at any stage, runs behave as they always did."""

import re
from typing import Any

from language.steps import Purpose
from schemas.i18n import Text, tr, trn
from schemas.runs import SECRET_PLACEHOLDER, EmailMessage, HttpCall
from schemas.toggles import LaunchStage

MASKED_SECRET = "***"
# The review's message lists at most this many steps, and is cut to what a gate's message may hold.
MAX_REVIEW_LINES = 20
MAX_REVIEW_CHARS = 2000
_NAMED_SECRET = re.compile(r"\{\{\s*secrets\.[A-Z][A-Z0-9_]*\s*\}\}")


def governed(purpose: Purpose, stage: LaunchStage | None) -> bool:
    """Whether the launch stage holds this run's outbound steps back: marketing runs admitted before launch."""
    return purpose == "marketing" and stage == "pre-launch"


def masked(value: Any) -> Any:
    """`value` with every secret placeholder (and every `{{ secrets.NAME }}` template) replaced by a mask, at any depth."""
    if isinstance(value, str):
        return _NAMED_SECRET.sub(MASKED_SECRET, SECRET_PLACEHOLDER.sub(MASKED_SECRET, value))
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def http_preview(call: HttpCall) -> dict[str, Any]:
    """What an HTTP step would have sent: method, URL, headers (the idempotency key the call carries included) and
    body, secrets masked."""
    preview: dict[str, Any] = {
        "method": call.method,
        "url": call.url,
        "headers": {**call.headers, "Idempotency-Key": call.idempotency_key},
    }
    if call.json_body is not None:
        preview["json"] = call.json_body
    if call.body is not None:
        preview["body"] = call.body
    return masked(preview)


def email_preview(message: EmailMessage) -> dict[str, Any]:
    """What an e-mail step would have sent: recipients, subject and body."""
    return masked({"to": message.to, "subject": message.subject, "body": message.body})


def held_back(preview: dict[str, Any]) -> dict[str, Any]:
    """The result of an outbound step that ran dry: what it would have sent, and that nothing left."""
    return {"dry_run": True, "preview": preview}


def email_line(step_id: str, message: EmailMessage) -> Text:
    recipients = ", ".join(message.to)
    return tr(
        'E-mail "%(subject)s" to %(recipients)s (step %(step)s)',
        subject=message.subject,
        recipients=recipients,
        step=step_id,
    )


def http_line(step_id: str, call: HttpCall) -> Text:
    return tr("%(method)s %(url)s (step %(step)s)", method=call.method, url=call.url, step=step_id)


def review_message(lines: list[Text]) -> str:
    """The campaign review gate's message: what the run may send, one line per outbound step, and what each decision
    does. In English: a gate's message travels in the run's history and its notice, read by founders."""
    shown = [str(line) for line in lines[:MAX_REVIEW_LINES]]
    if len(lines) > MAX_REVIEW_LINES:
        more = len(lines) - MAX_REVIEW_LINES
        shown.append(str(trn("… and %(num)s more outbound step", "… and %(num)s more outbound steps", more)))
    head = tr("Campaign review before launch: this marketing run may send the following.")
    tail = tr(
        "Approve to send it for real. Reject, or let the review expire, and the run finishes as a dry run: "
        "it sends nothing and records what it would have sent."
    )
    text = "\n".join([str(head), *(f"• {line}" for line in shown), str(tail)])
    return masked(text)[:MAX_REVIEW_CHARS]

"""Outbound e-mail for workflow steps, over SMTP."""

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, parseaddr

from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas.runs import EmailMessage, EmailReceipt

# Server replies often quote the address they refuse; failures are logged, so addresses get masked.
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>@,;:\"']+@[^\s<>,;:\"']+")


class EmailActivities:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = 30,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout_s = timeout_s

    @activity.defn(name="send_email")
    def send_email(self, message: EmailMessage) -> EmailReceipt:
        """Sends `message` from the configured sender in one SMTP session. Its Message-ID is derived from
        the idempotency key, so every attempt of one step sends the same Message-ID.

        Raises ApplicationError, details[0] = {"attempt"}. Non-retryable: EmailInvalidRecipient, SmtpRejected
        (a 5xx answer, or the server lacks STARTTLS/AUTH). Retryable: SmtpTransientError (4xx, connection)."""
        if not message.to:
            raise _failure("the message has no recipients", "EmailInvalidRecipient", final=True)
        for address in message.to:
            if not is_plain_address(address):
                raise _failure(
                    f"{mask_address(address)!r} is not an e-mail address", "EmailInvalidRecipient", final=True
                )
        mime = self._compose(message)
        refused = self._deliver(mime, message.to)
        accepted = len(message.to) - len(refused)
        activity.logger.info(
            "email sent",
            extra={
                "message_id": mime["Message-ID"],
                "accepted": accepted,
                "refused": [mask_address(address) for address in refused],
            },
        )
        return EmailReceipt(message_id=mime["Message-ID"], recipients=accepted, attempt=activity.info().attempt)

    def _compose(self, message: EmailMessage) -> MimeMessage:
        mime = MimeMessage()
        mime["From"] = self._sender
        mime["To"] = ", ".join(message.to)
        # A line break in a header would end it; a templated subject should not fail the step for one.
        mime["Subject"] = " ".join(message.subject.split())
        mime["Date"] = formatdate(usegmt=True)
        mime["Message-ID"] = message_id_for(message.idempotency_key, self._sender)
        mime["X-Levqor-Idempotency-Key"] = message.idempotency_key
        if message.reply_to and is_plain_address(message.reply_to):
            mime["Reply-To"] = message.reply_to
        mime.set_content(message.body)
        return mime

    def _deliver(self, mime: MimeMessage, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
        """One SMTP session; returns the recipients the server refused while accepting others."""
        try:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
        except (OSError, smtplib.SMTPException) as err:
            raise _failure(
                f"could not reach SMTP server {self._host}:{self._port}: {err}", "SmtpTransientError"
            ) from None
        try:
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username:
                smtp.login(self._username, self._password or "")
            return smtp.send_message(mime, from_addr=self._sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _text in err.recipients.values()]
            raise _smtp_failure(min(codes, default=550), "every recipient was refused") from None
        except smtplib.SMTPResponseException as err:
            raise _smtp_failure(err.smtp_code, _text(err.smtp_error)) from None
        except smtplib.SMTPNotSupportedError as err:
            raise _failure(f"SMTP server cannot do what is configured: {err}", "SmtpRejected", final=True) from None
        except Exception as err:
            raise _failure(f"SMTP session failed: {type(err).__name__}: {err}", "SmtpTransientError") from err
        finally:
            _close(smtp)


def is_plain_address(address: str) -> bool:
    """A bare `local@domain` address: no display name, spaces or line breaks."""
    _name, parsed = parseaddr(address)
    local, at, domain = parsed.rpartition("@")
    return bool(at and local and domain) and parsed == address and not any(c.isspace() for c in address)


def mask_address(address: str) -> str:
    """`alice@example.com` → `a***@example.com`: enough to tell recipients apart in logs, no more."""
    local, at, domain = address.rpartition("@")
    if not at:
        return f"{address[:1]}***"
    return f"{local[:1]}***@{domain}"


def message_id_for(idempotency_key: str, sender: str) -> str:
    """The same Message-ID for every attempt of one step, in the sender's domain."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "levqor.invalid"
    return f"<{digest}@{domain}>"


def _close(smtp: smtplib.SMTP) -> None:
    # The message is handed over once DATA is accepted: a failing QUIT must not turn into a retry and a
    # second copy.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _smtp_failure(code: int, reason: str) -> ApplicationError:
    if code >= 500:
        return _failure(f"SMTP server rejected the message ({code}): {reason}", "SmtpRejected", final=True)
    return _failure(f"SMTP server deferred the message ({code}): {reason}", "SmtpTransientError")


def _text(error: bytes | str) -> str:
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return _ADDRESS_IN_TEXT.sub(lambda match: mask_address(match.group()), text)


def _failure(message: str, type: str, *, final: bool = False) -> ApplicationError:
    """The error every failure becomes; `final` marks it non-retryable."""
    return ApplicationError(message, {"attempt": activity.info().attempt}, type=type, non_retryable=final)

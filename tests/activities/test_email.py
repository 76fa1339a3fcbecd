from dataclasses import replace

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.email import EmailActivities, mask_address
from schemas.runs import EmailMessage, EmailReceipt
from tests.fakes import plugin, unused_port
from tests.fakes.smtp import SmtpSink

# Until tests/conftest.py registers tests.fakes.plugin, the fixture is brought in here.
smtp_sink = plugin.smtp_sink


def make_message(*to: str, key: str = "run-1/notify") -> EmailMessage:
    return EmailMessage(to=list(to), subject="Invoice ready", body="Your invoice is attached.", idempotency_key=key)


def send(sink: SmtpSink, message: EmailMessage, attempt: int = 1, port: int | None = None) -> EmailReceipt:
    email = EmailActivities(sink.host, port or sink.port, sender="levqor@levqor.test", timeout_s=5)
    env = ActivityEnvironment()
    env.info = replace(env.info, attempt=attempt)
    return env.run(email.send_email, message)


def failure_of(sink: SmtpSink, message: EmailMessage, attempt: int = 1, port: int | None = None) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        send(sink, message, attempt, port)
    return caught.value


def test_message_reaches_the_server_with_idempotency_headers(smtp_sink: SmtpSink) -> None:
    smtp_sink.reset()

    receipt = send(smtp_sink, make_message("ann@example.com", "bob@example.org"), attempt=2)

    [mail] = smtp_sink.messages
    assert mail.mail_from == "levqor@levqor.test"
    assert mail.rcpt_tos == ["ann@example.com", "bob@example.org"]
    assert mail.message["Subject"] == "Invoice ready"
    assert mail.message.get_content().strip() == "Your invoice is attached."
    assert mail.message["X-Levqor-Idempotency-Key"] == "run-1/notify"
    assert mail.message["Message-ID"] == receipt.message_id
    assert receipt.recipients == 2
    assert receipt.attempt == 2


def test_a_retried_send_carries_the_same_message_id(smtp_sink: SmtpSink) -> None:
    first = send(smtp_sink, make_message("ann@example.com", key="run-2/notify"))

    second = send(smtp_sink, make_message("ann@example.com", key="run-2/notify"), attempt=2)
    other = send(smtp_sink, make_message("ann@example.com", key="run-3/notify"))

    assert first.message_id == second.message_id
    assert first.message_id != other.message_id
    assert first.message_id.endswith("@levqor.test>")


def test_line_breaks_in_the_subject_do_not_fail_the_step(smtp_sink: SmtpSink) -> None:
    smtp_sink.reset()
    message = make_message("ann@example.com").model_copy(update={"subject": "Hello\r\nBcc: eve@example.com"})

    send(smtp_sink, message)

    [mail] = smtp_sink.messages
    assert mail.message["Subject"] == "Hello Bcc: eve@example.com"
    assert mail.rcpt_tos == ["ann@example.com"]


@pytest.mark.parametrize(
    "recipients",
    [
        ["not-an-address"],
        ["Ann <ann@example.com>"],
        ["ann@example.com\r\nBcc: eve@example.com"],
        ["@example.com"],
        [],
    ],
)
def test_invalid_recipient_is_not_retried(smtp_sink: SmtpSink, recipients: list[str]) -> None:
    smtp_sink.reset()

    err = failure_of(smtp_sink, make_message(*recipients), attempt=3)

    assert err.type == "EmailInvalidRecipient"
    assert err.non_retryable
    assert err.details[0] == {"attempt": 3}
    assert smtp_sink.messages == []


def test_permanent_rejection_is_not_retried(smtp_sink: SmtpSink) -> None:
    smtp_sink.reset()
    smtp_sink.reject_next(550)

    err = failure_of(smtp_sink, make_message("ann@example.com"), attempt=2)

    assert err.type == "SmtpRejected"
    assert err.non_retryable
    assert err.details[0] == {"attempt": 2}
    assert smtp_sink.messages == []


def test_temporary_rejection_is_retried(smtp_sink: SmtpSink) -> None:
    smtp_sink.reset()
    smtp_sink.reject_next(451)

    err = failure_of(smtp_sink, make_message("ann@example.com"))

    assert err.type == "SmtpTransientError"
    assert not err.non_retryable


def test_unreachable_server_is_retried(smtp_sink: SmtpSink) -> None:
    err = failure_of(smtp_sink, make_message("ann@example.com"), attempt=4, port=unused_port())

    assert err.type == "SmtpTransientError"
    assert not err.non_retryable
    assert err.details[0] == {"attempt": 4}


@pytest.mark.parametrize(
    ("address", "masked"),
    [("alice@example.com", "a***@example.com"), ("x@y.z", "x***@y.z"), ("nobody", "n***")],
)
def test_addresses_are_masked_to_first_letter_and_domain(address: str, masked: str) -> None:
    assert mask_address(address) == masked

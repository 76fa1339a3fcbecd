"""E-mails one magic sign-in link (or an invitation): a workflow so the SMTP delivery is an activity with its
retry policy, like the platform's other mail. Its input names the link's row only; the activity reads the address
and mints the token, so neither enters the history."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.sign_in_mail import SignInMailActivities
    from schemas.accounts import SignInMailInput, SignInMailSent

SIGN_IN_MAIL_TIMEOUT = timedelta(seconds=30)
# A link lives 15 minutes: retrying longer than a few minutes would deliver a dead one.
SIGN_IN_MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
    non_retryable_error_types=["EmailInvalidRecipient", "SmtpRejected"],
)


def sign_in_mail_workflow_id(link_id: str) -> str:
    return f"sign-in-mail-{link_id}"


@workflow.defn
class SignInMail:
    @workflow.run
    async def run(self, params: SignInMailInput) -> SignInMailSent:
        return await workflow.execute_activity_method(
            SignInMailActivities.send_sign_in_link,
            params,
            start_to_close_timeout=SIGN_IN_MAIL_TIMEOUT,
            retry_policy=SIGN_IN_MAIL_RETRY,
        )

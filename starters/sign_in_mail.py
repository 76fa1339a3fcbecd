"""Starting the `SignInMail` workflow that e-mails one magic link."""

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from orchestrator.sign_in_mail import SignInMail, sign_in_mail_workflow_id
from schemas.accounts import SignInMailInput


async def send_sign_in_mail(client: Client, params: SignInMailInput, task_queue: str) -> None:
    """Starts the mail of link `params.link_id` and returns at once (the page never waits for SMTP); starting it
    twice sends one e-mail."""
    await client.start_workflow(
        SignInMail.run,
        params,
        id=sign_in_mail_workflow_id(params.link_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )

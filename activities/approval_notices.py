"""The e-mail telling a gate's approvers that it waits for them: a class B gate's tenant admins, a class C gate's
founders (and FOUNDER_EMAIL). Recipients are looked up here, when the notice is sent, so their addresses never
enter the run's history; the message is sent through `EmailActivities.send_email` (called inside this activity,
so its retries are this one's), with one Message-ID per run and gate for every attempt."""

from urllib.parse import quote

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from activities.email import EmailActivities, is_plain_address, mask_address
from schemas.runs import ApprovalNotice, ApprovalNoticeSent, EmailMessage
from schemas.tables import User, WorkflowDefinitionRow

# The address the founder's user gets without FOUNDER_EMAIL (domain/accounts.py): nobody reads it.
PLACEHOLDER_DOMAIN = "@levqor.localhost"
WHO_DECIDES = {"B": "an admin of your team", "C": "a Levqor founder"}


class ApprovalNoticeActivities:
    def __init__(self, engine: Engine, email: EmailActivities, base_url: str, founder_email: str | None) -> None:
        self._engine, self._email = engine, email
        self._base_url, self._founder_email = base_url.rstrip("/"), founder_email

    @activity.defn(name="notify_approvers")
    def notify_approvers(self, notice: ApprovalNotice) -> ApprovalNoticeSent:
        """E-mails the gate's approvers a link to the run's page; sends nothing when there are none."""
        with Session(self._engine) as session:
            recipients = self._approvers(session, notice)
            definition = session.get(WorkflowDefinitionRow, notice.definition_id)
        if not recipients:
            activity.logger.info("no approvers to notify", extra={"run_id": notice.run_id, "step_id": notice.step_id})
            return ApprovalNoticeSent(recipients=0)
        name = definition.name if definition is not None and definition.tenant_id == notice.tenant_id else None
        subject, body = compose_notice(notice, name, self._base_url)
        message = EmailMessage(
            to=recipients,
            subject=subject,
            body=body,
            idempotency_key=f"approval-notice:{notice.run_id}:{notice.step_id}",
        )
        receipt = self._email.send_email(message)
        activity.logger.info(
            "approvers notified",
            extra={"run_id": notice.run_id, "step_id": notice.step_id, "to": [mask_address(a) for a in recipients]},
        )
        return ApprovalNoticeSent(recipients=receipt.recipients, message_id=receipt.message_id)

    def _approvers(self, session: Session, notice: ApprovalNotice) -> list[str]:
        """The current users who decide the gate's class: the tenant's admins (B) or the founders (C)."""
        query = select(User.email).where(col(User.removed_at).is_(None))
        if notice.approval_class == "B":
            query = query.where(User.tenant_id == notice.tenant_id, User.role == "admin")
        else:
            query = query.where(User.role == "founder")
        addresses = list(session.exec(query.order_by(col(User.created_at))).all())
        if notice.approval_class == "C" and self._founder_email:
            addresses.append(self._founder_email.strip().lower())
        unique = dict.fromkeys(a for a in addresses if is_plain_address(a) and not a.endswith(PLACEHOLDER_DOMAIN))
        return list(unique)


def run_page_url(base_url: str, run_id: str) -> str:
    """The run's page in the web app (it asks for sign-in first; deciding there is a signed-in POST)."""
    return f"{base_url.rstrip('/')}/app/runs/{quote(run_id, safe='')}"


def compose_notice(notice: ApprovalNotice, definition_name: str | None, base_url: str) -> tuple[str, str]:
    """The notice's subject and body (English for now: the one place its wording lives)."""
    workflow = definition_name or notice.definition_id
    subject = f"Approval needed: {workflow} — step {notice.step_id}"
    body = (
        f"A run of the workflow “{workflow}” (version {notice.version}) is waiting at its approval step "
        f"“{notice.step_id}”, which {WHO_DECIDES[notice.approval_class]} decides.\n\n"
        f"{notice.message}\n\n"
        f"Open the run to approve or reject it (you will be asked to sign in first):\n\n"
        f"{run_page_url(base_url, notice.run_id)}\n\n"
        f"Every gate waiting for you: {base_url.rstrip('/')}/app/approvals\n\n"
        f"Run: {notice.run_id}\n"
        f"The gate waits until {notice.expires_at:%Y-%m-%d %H:%M} UTC.\n"
    )
    return subject, body

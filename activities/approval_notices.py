"""The e-mail telling a gate's approvers that it waits for them: a class B gate's tenant admins, a class C gate's
founders (and FOUNDER_EMAIL). Recipients are looked up here, when the notice is sent, so their addresses never
enter the run's history; the message is sent through `EmailActivities.send_email` (called inside this activity,
so its retries are this one's), with one Message-ID per run and gate for every attempt."""

from urllib.parse import quote

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from activities.email import EmailActivities, is_plain_address, mask_address
from activities.recipients import founder_language, mail_time, users_languages
from core.i18n import DEFAULT, render
from schemas.i18n import Text, tr
from schemas.runs import ApprovalNotice, ApprovalNoticeSent, EmailMessage
from schemas.tables import User, WorkflowDefinitionRow

# The address the founder's user gets without FOUNDER_EMAIL (domain/accounts.py): nobody reads it.
PLACEHOLDER_DOMAIN = "@levqor.localhost"
# The notice's first sentence for each class: who decides the gate.
WAITING: dict[str, Text] = {
    "B": tr(
        "A run of the workflow “%(workflow)s” (version %(version)s) is waiting at its approval step “%(step)s”, "
        "which an admin of your team decides."
    ),
    "C": tr(
        "A run of the workflow “%(workflow)s” (version %(version)s) is waiting at its approval step “%(step)s”, "
        "which a Levqor founder decides."
    ),
}
# Where the approvers see every gate waiting for them: a team's inbox, or the Admin Power Panel's queue.
QUEUES = {"B": "/app/approvals", "C": "/admin/power/approvals"}


class ApprovalNoticeActivities:
    def __init__(self, engine: Engine, email: EmailActivities, base_url: str, founder_email: str | None) -> None:
        self._engine, self._email = engine, email
        self._base_url, self._founder_email = base_url.rstrip("/"), founder_email

    @activity.defn(name="notify_approvers")
    def notify_approvers(self, notice: ApprovalNotice) -> ApprovalNoticeSent:
        """E-mails the gate's approvers a link to the run's page, one message per language they read; sends
        nothing when there are none."""
        with Session(self._engine) as session:
            recipients = self._approvers(session, notice)
            languages = self._languages(session, notice, recipients)
            definition = session.get(WorkflowDefinitionRow, notice.definition_id)
        if not recipients:
            activity.logger.info("no approvers to notify", extra={"run_id": notice.run_id, "step_id": notice.step_id})
            return ApprovalNoticeSent(recipients=0)
        name = definition.name if definition is not None and definition.tenant_id == notice.tenant_id else None
        by_language: dict[str, list[str]] = {}
        for address in recipients:
            by_language.setdefault(languages[address], []).append(address)
        sent, message_id = 0, None
        for language, addresses in by_language.items():
            subject, body = compose_notice(notice, name, self._base_url, language)
            key = f"approval-notice:{notice.run_id}:{notice.step_id}"
            message = EmailMessage(
                to=addresses,
                subject=subject,
                body=body,
                # English keeps the key it always had: a retry across this change sends the same Message-ID.
                idempotency_key=key if language == DEFAULT else f"{key}:{language}",
            )
            receipt = self._email.send_email(message)
            sent, message_id = sent + receipt.recipients, message_id or receipt.message_id
        activity.logger.info(
            "approvers notified",
            extra={"run_id": notice.run_id, "step_id": notice.step_id, "to": [mask_address(a) for a in recipients]},
        )
        return ApprovalNoticeSent(recipients=sent, message_id=message_id)

    def _languages(self, session: Session, notice: ApprovalNotice, recipients: list[str]) -> dict[str, str]:
        """Each approver's language; FOUNDER_EMAIL, when no user has it, reads the founder's."""
        languages = users_languages(session, recipients)
        if notice.approval_class == "C" and self._founder_email:
            address = self._founder_email.strip().lower()
            known = session.exec(select(User.id).where(User.email == address)).first()
            if address in languages and known is None:
                languages[address] = founder_language(session)
        return languages

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


def run_page_url(base_url: str, run_id: str, language: str = DEFAULT) -> str:
    """The run's page in the web app, in the reader's language (`/ja/app/runs/...`; English has no prefix). It
    asks for sign-in first; deciding there is a signed-in POST."""
    return f"{base_url.rstrip('/')}{_prefix(language)}/app/runs/{quote(run_id, safe='')}"


def _prefix(language: str) -> str:
    return "" if language == DEFAULT else f"/{language}"


def compose_notice(
    notice: ApprovalNotice, definition_name: str | None, base_url: str, language: str = DEFAULT
) -> tuple[str, str]:
    """The notice's subject and body in `language` (a core/i18n.py tag): the one place its wording lives."""
    workflow = definition_name or notice.definition_id
    subject = tr("Approval needed: %(workflow)s — step %(step)s", workflow=workflow, step=notice.step_id)
    waiting = WAITING[notice.approval_class].model_copy(
        update={"params": {"workflow": workflow, "version": notice.version, "step": notice.step_id}}
    )
    queue = f"{base_url.rstrip('/')}{_prefix(language)}{QUEUES[notice.approval_class]}"
    until = mail_time(notice.expires_at, language)
    paragraphs = (
        render(waiting, language),
        notice.message,
        render(tr("Open the run to approve or reject it (you will be asked to sign in first):"), language),
        run_page_url(base_url, notice.run_id, language),
        render(tr("Every gate waiting for you: %(url)s", url=queue), language),
        render(tr("Run: %(run)s", run=notice.run_id), language)
        + "\n"
        + render(tr("The gate waits until %(until)s.", until=until), language),
    )
    return render(subject, language), "\n\n".join(paragraphs) + "\n"

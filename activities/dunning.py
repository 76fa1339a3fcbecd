"""Dunning's side effects: e-mails to the tenant's billing contact and suspending or resuming the tenant.

The address is read here, so it never enters a workflow's history; the message goes out through the
platform's `EmailActivities.send_email` (called inside this activity, so its retries are this one's).
"""

from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from activities.email import EmailActivities, mask_address
from activities.recipients import mail_time, tenant_contact_language
from core.i18n import render
from schemas.billing import DunningNotice, NoticeSent, TenantStatusChange, TenantStatusChanged
from schemas.i18n import Text, tr
from schemas.runs import EmailMessage
from schemas.tables import BillingAccount, Tenant
from schemas.tenants import TenantChange

SUBJECTS = {
    "payment_failed": tr("Your payment failed: please update your payment method"),
    "reminder": tr("Reminder: your payment is overdue"),
    "suspended": tr("Your account is suspended for non-payment"),
    "settled": tr("Payment received: thank you"),
}
# Each notice's message, by whether the invoice has an id (its deadline and amount are filled in when sent).
LINES: dict[str, tuple[Text, Text]] = {
    "payment_failed": (
        tr(
            "We could not collect %(amount)s for invoice %(invoice)s. Please update your payment method in the "
            "billing portal (Levqor → Billing) by %(deadline)s; after that your workflows will be suspended."
        ),
        tr(
            "We could not collect %(amount)s for your invoice. Please update your payment method in the billing "
            "portal (Levqor → Billing) by %(deadline)s; after that your workflows will be suspended."
        ),
    ),
    "reminder": (
        tr(
            "Invoice %(invoice)s (%(amount)s) is still unpaid. Please pay by %(deadline)s to keep your workflows running."
        ),
        tr("Your invoice (%(amount)s) is still unpaid. Please pay by %(deadline)s to keep your workflows running."),
    ),
    "suspended": (
        tr(
            "Invoice %(invoice)s (%(amount)s) was not paid in time, so your account is suspended: runs and schedules "
            "are paused. Paying the invoice restores it at once."
        ),
        tr(
            "Your invoice (%(amount)s) was not paid in time, so your account is suspended: runs and schedules are "
            "paused. Paying the invoice restores it at once."
        ),
    ),
    "settled": (
        tr("Your payment has been received and your account is in good standing. Thank you."),
        tr("Your payment has been received and your account is in good standing. Thank you."),
    ),
}
# Stripe amounts are in the currency's smallest unit; these have no minor unit.
ZERO_DECIMAL = frozenset({"jpy", "krw", "vnd", "clp", "pyg", "ugx", "xaf", "xof"})


class TenantControl(Protocol):
    """Sends the tenant's lifecycle a change; `starters.runs.TemporalRunControl` is the real one.
    Returns whether it was applied and the tenant's status afterwards (None when unknown)."""

    async def change_tenant(
        self, tenant_id: str, change: TenantChange, grace_period_s: float
    ) -> tuple[bool, str | None]: ...


class DunningActivities:
    def __init__(
        self, engine: Engine, email: EmailActivities, tenants: TenantControl, tenant_grace_period_s: float
    ) -> None:
        self._engine, self._email, self._tenants = engine, email, tenants
        self._tenant_grace_period_s = tenant_grace_period_s

    @activity.defn(name="send_dunning_notice")
    def send_notice(self, notice: DunningNotice) -> NoticeSent:
        """E-mails the billing contact; without one nothing is sent (and the notice says so)."""
        with Session(self._engine) as session:
            account = session.get(BillingAccount, notice.tenant_id)
            tenant = session.get(Tenant, notice.tenant_id)
            address = account.billing_email if account else None
            language = tenant_contact_language(session, notice.tenant_id, address) if address else "en"
        if not address or tenant is None:
            activity.logger.warning(
                "no billing contact for dunning notice",
                extra={"tenant_id": notice.tenant_id, "kind": notice.kind},
            )
            return NoticeSent(sent=False)
        message = EmailMessage(
            to=[address],
            subject=render(SUBJECTS[notice.kind], language),
            body=compose_dunning(notice, tenant.name, language),
            idempotency_key=notice.idempotency_key,
        )
        receipt = self._email.send_email(message)
        activity.logger.info(
            "dunning notice sent",
            extra={"tenant_id": notice.tenant_id, "kind": notice.kind, "to": mask_address(address)},
        )
        return NoticeSent(sent=True, message_id=receipt.message_id)

    @activity.defn(name="change_tenant_for_billing")
    async def change_tenant(self, request: TenantStatusChange) -> TenantStatusChanged:
        """Suspends or resumes the tenant through its lifecycle workflow; an illegal change is not an error
        (a founder may have suspended or deleted it already) but reported as not applied."""
        change = TenantChange(name=request.name, by="billing", reason=request.reason)
        applied, status = await self._tenants.change_tenant(request.tenant_id, change, self._tenant_grace_period_s)
        activity.logger.info(
            "tenant change for billing",
            extra={
                "tenant_id": request.tenant_id,
                "change": request.name,
                "applied": applied,
                "status": status,
            },
        )
        return TenantStatusChanged(applied=applied, status=status)


def compose_dunning(notice: DunningNotice, tenant_name: str, language: str) -> str:
    """The notice's body in `language` (a core/i18n.py tag)."""
    with_invoice, without = LINES[notice.kind]
    line = with_invoice if notice.invoice_id else without
    params = {
        "amount": _money(notice.amount, notice.currency, language),
        "invoice": notice.invoice_id or "",
        "deadline": mail_time(notice.grace_ends_at, language)
        if notice.grace_ends_at
        else render(tr("the due date"), language),
    }
    paragraphs = (
        render(tr("Hello %(name)s,", name=tenant_name), language),
        render(line.model_copy(update={"params": params}), language),
        render(tr("— Levqor billing"), language),
    )
    return "\n\n".join(paragraphs) + "\n"


def _money(amount: int | None, currency: str | None, language: str) -> str:
    if amount is None or not currency:
        return render(tr("the amount due"), language)
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"

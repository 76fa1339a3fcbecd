"""Every e-mail a person gets is written in their language (`app_user.language`), read when it is sent: the sign-in
link, an approval request, a dunning notice and the data-export-ready mail to a tenant's contact, all through the
real SMTP sink; a founder alert in the language of the user with its address."""

import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.compliance import ComplianceActivities
from activities.dunning import DunningActivities
from activities.email import EmailActivities
from core.i18n import render
from schemas.billing import DunningNotice
from schemas.compliance import CriticalAlert
from schemas.i18n import Text, tr, trn
from schemas.tables import BillingAccount, User
from schemas.tenants import TenantChange
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import poll_run, waiting
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import ask_for_link, mails_to, unique_email


def invite(web: TestClient, tenant: ApiTenant, role: str, language: str, engine: Engine) -> str:
    """A user of the tenant whose stored language is `language`."""
    address = unique_email(language.lower())
    invited = web.post(
        f"/api/tenants/{tenant.id}/users", json={"email": address, "role": role}, headers=founder_headers()
    )
    assert invited.status_code == 201, invited.text
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == address)).one()
        user.language = language
        session.add(user)
        session.commit()
    return address


def wait_for_mail(sink: SmtpSink, address: str, subject: str, timeout_s: float = 20) -> EmailMessage:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [mail for mail in mails_to(sink, address) if str(mail["Subject"]) == subject]
        if found:
            return found[-1]
        time.sleep(0.05)
    got = [str(mail["Subject"]) for mail in mails_to(sink, address)]
    raise AssertionError(f"no {subject!r} to {address} within {timeout_s} s; got {got}")


def translated(text: Text, language: str) -> str:
    """`text` in `language`, which the catalogs must translate (not fall back to English)."""
    rendered = render(text, language)
    assert rendered != text.english(), f"{text.msgid!r} is not translated into {language}"
    return rendered


def test_a_sign_in_link_arrives_in_the_users_language(web: TestClient, smtp_sink: SmtpSink, engine: Engine) -> None:
    tenant = new_tenant(web)
    address = invite(web, tenant, "member", "ja", engine)

    with TestClient(web.app) as visitor:
        assert ask_for_link(visitor, address).status_code == 303

    mail = wait_for_mail(smtp_sink, address, translated(tr("Your Levqor sign-in link"), "ja"))
    body = mail.get_content()
    assert translated(tr("Someone (we hope you) asked to sign in to Levqor with this address."), "ja") in body
    assert "/auth/link?token=" in body


def test_an_approval_request_arrives_in_each_approvers_language(
    web: TestClient, smtp_sink: SmtpSink, engine: Engine
) -> None:
    tenant = new_tenant(web)
    approvers = {language: invite(web, tenant, "admin", language, engine) for language in ("en", "ja", "hi")}
    workflow_id = new_workflow(
        web,
        tenant,
        {"id": "gate", "type": "approval", "class": "B", "message": "Refund 42 EUR?"},
        {"id": "done", "type": "log", "message": "ok"},
    )

    started = web.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    assert started.status_code == 202, started.text
    run_id = str(started.json()["run_id"])
    poll_run(web, run_id, tenant.member, waiting)

    subject = tr("Approval needed: %(workflow)s — step %(step)s", workflow="flow", step="gate")
    english = wait_for_mail(smtp_sink, approvers["en"], subject.english())
    assert f"http://testserver/app/runs/{run_id}" in english.get_content()
    for language in ("ja", "hi"):
        mail = wait_for_mail(smtp_sink, approvers[language], translated(subject, language))
        body = mail.get_content()
        assert f"http://testserver/{language}/app/runs/{run_id}" in body and "Refund 42 EUR?" in body
        opening = tr("Open the run to approve or reject it (you will be asked to sign in first):")
        assert translated(opening, language) in body
        assert [approvers[language]] == [to for to in mail["To"].split(", ")]


class _NoTenantChanges:
    async def change_tenant(
        self, tenant_id: str, change: TenantChange, grace_period_s: float
    ) -> tuple[bool, str | None]:
        raise AssertionError("a notice changes no tenant")


def test_a_dunning_notice_reaches_the_billing_contact_in_their_language(
    web: TestClient, smtp_sink: SmtpSink, engine: Engine
) -> None:
    tenant = new_tenant(web, name="Globex")
    contact = invite(web, tenant, "member", "de", engine)
    with Session(engine) as session:
        session.add(BillingAccount(tenant_id=tenant.id, billing_email=contact))
        session.commit()
    email = EmailActivities(smtp_sink.host, smtp_sink.port, sender="billing@levqor.test", timeout_s=5)
    dunning = DunningActivities(engine, email, _NoTenantChanges(), tenant_grace_period_s=60)
    due = datetime(2026, 12, 24, 18, 30, tzinfo=UTC)
    notice = DunningNotice(
        tenant_id=tenant.id,
        kind="reminder",
        invoice_id="in_42",
        amount=9900,
        currency="eur",
        grace_ends_at=due,
        idempotency_key=f"dunning-{uuid.uuid4()}",
    )

    sent = ActivityEnvironment().run(dunning.send_notice, notice)

    assert sent.sent
    mail = wait_for_mail(smtp_sink, contact, translated(tr("Reminder: your payment is overdue"), "de"))
    body = mail.get_content()
    assert translated(tr("Hello %(name)s,", name="Globex"), "de") in body
    assert "in_42" in body and "99.00 EUR" in body and "24.12.26, 18:30 UTC" in body


def test_a_data_export_ready_mail_reaches_the_tenants_admin_in_their_language(
    web: TestClient, smtp_sink: SmtpSink, engine: Engine
) -> None:
    tenant = new_tenant(web)
    admin = invite(web, tenant, "admin", "zh-CN", engine)
    invite(web, tenant, "admin", "fr", engine)  # a later admin: the first one is told

    started = web.post("/api/me/export-data", headers=tenant.admin)

    assert started.status_code == 202, started.text
    mail = wait_for_mail(smtp_sink, admin, translated(tr("Your Levqor data export is ready"), "zh-CN"))
    assert "http://testserver/zh-CN/app/data" in mail.get_content()
    assert len(mail["To"].split(",")) == 1


def test_an_address_no_user_has_reads_english(web: TestClient, smtp_sink: SmtpSink, engine: Engine) -> None:
    tenant = new_tenant(web, name="Initech")
    outsider = unique_email("billing")
    with Session(engine) as session:
        session.add(BillingAccount(tenant_id=tenant.id, billing_email=outsider))
        session.commit()
    email = EmailActivities(smtp_sink.host, smtp_sink.port, sender="billing@levqor.test", timeout_s=5)
    dunning = DunningActivities(engine, email, _NoTenantChanges(), tenant_grace_period_s=60)
    notice = DunningNotice(
        tenant_id=tenant.id, kind="settled", idempotency_key=f"dunning-{uuid.uuid4()}", grace_ends_at=None
    )

    ActivityEnvironment().run(dunning.send_notice, notice)

    mail = wait_for_mail(smtp_sink, outsider, "Payment received: thank you", timeout_s=5)
    assert mail.get_content().splitlines()[0] == "Hello Initech,"


def test_a_founder_alert_reads_the_language_of_the_user_with_its_address(
    web: TestClient, smtp_sink: SmtpSink, engine: Engine
) -> None:
    tenant = new_tenant(web, name="Umbrella")
    founder_address = invite(web, tenant, "admin", "it", engine)
    email = EmailActivities(smtp_sink.host, smtp_sink.port, sender="alerts@levqor.test", timeout_s=5)
    audit = ComplianceActivities(engine, None, "founder-token", None, email, founder_address)
    alert = CriticalAlert(report_id=f"report-{uuid.uuid4()}", score=41, titles=["API_TOKEN appears in a failure"])

    ActivityEnvironment().run(audit.notify_founder, alert)

    subject = trn(
        "Levqor compliance: %(num)s critical finding, score %(score)s/100",
        "Levqor compliance: %(num)s critical findings, score %(score)s/100",
        1,
        score=41,
    )
    mail = wait_for_mail(smtp_sink, founder_address, translated(subject, "it"))
    body = mail.get_content()
    assert translated(tr("The compliance audit found critical issues:"), "it") in body
    assert "- API_TOKEN appears in a failure" in body and alert.report_id in body

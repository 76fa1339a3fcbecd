"""Data-subject requests' side effects: gathering a tenant's data into an archive on its request row, and telling
the tenant's billing contact (else its first admin), in their language, that the export is ready."""

import asyncio
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic_core import to_jsonable_python
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.email import EmailActivities, mask_address
from activities.recipients import tenant_contact_language
from core.i18n import DEFAULT, render
from schemas.data_requests import DataExportInput, DataExportResult, RunRecord
from schemas.i18n import tr
from schemas.runs import EmailMessage
from schemas.tables import (
    AiInteraction,
    ApiKey,
    AuditEntry,
    BillingAccount,
    DataRequest,
    FailureEntry,
    RunArchiveEntry,
    Tenant,
    TenantSecret,
    UsageCounter,
    User,
    WebhookTrigger,
    WorkflowDefinitionRow,
    WorkflowVersionRow,
)

# What each table contributes; hashes, ciphertexts and signing secrets are left out on purpose.
TENANT_FIELDS = ("id", "name", "plan", "status", "created_at")
KEY_FIELDS = ("id", "role", "prefix", "label", "created_at", "revoked_at")
SECRET_FIELDS = ("name", "created_at", "updated_at")
WEBHOOK_FIELDS = ("id", "definition_id", "wait_for_result", "wait_timeout_s", "created_at")
DEFINITION_FIELDS = ("id", "name", "latest_version", "created_at", "updated_at")
VERSION_FIELDS = ("version", "body", "created_at")
USAGE_FIELDS = ("period", "metric", "value", "updated_at")
FAILURE_FIELDS = (
    "id",
    "run_id",
    "definition_id",
    "version",
    "step_id",
    "error_type",
    "message",
    "attempts",
    "first_failed_at",
    "last_failed_at",
    "status",
    "redriven_run_id",
    "created_at",
)
AUDIT_FIELDS = ("id", "actor", "action", "detail", "at")
AI_FIELDS = ("id", "purpose", "model", "outcome", "prompt_excerpt", "answer_excerpt", "credits", "created_at")
BILLING_FIELDS = ("billing_email", "stripe_customer_id", "stripe_subscription_id", "subscription_status", "updated_at")


class RunLister(Protocol):
    """Lists a tenant's runs from Temporal visibility; `starters.runs.TemporalRunControl` is the real one."""

    async def list_tenant_runs(self, tenant_id: str, limit: int) -> list[RunRecord]: ...


class DataRequestActivities:
    def __init__(
        self, engine: Engine, runs: RunLister, email: EmailActivities | None = None, base_url: str = ""
    ) -> None:
        self._engine, self._runs = engine, runs
        self._email, self._base_url = email, base_url.rstrip("/")

    @activity.defn(name="write_data_export")
    async def write_export(self, params: DataExportInput) -> DataExportResult:
        """Gathers the tenant's data and stores it as the request's archive; repeating it rewrites the same."""
        runs = await self._runs.list_tenant_runs(params.tenant_id, params.run_limit)
        return await asyncio.to_thread(self._store_archive, params, runs)

    @activity.defn(name="mark_data_request_failed")
    def mark_failed(self, params: DataExportInput) -> None:
        with Session(self._engine) as session:
            row = session.get(DataRequest, params.request_id)
            if row is not None and row.status == "pending":
                row.status = "failed"
                session.add(row)
                session.commit()

    def _store_archive(self, params: DataExportInput, runs: list[RunRecord]) -> DataExportResult:
        with Session(self._engine) as session:
            row = session.get(DataRequest, params.request_id)
            if row is None or row.tenant_id != params.tenant_id:
                raise ApplicationError(
                    f"no data request {params.request_id}", type="RequestNotFound", non_retryable=True
                )
            archive = _archive(session, params.tenant_id)
            runs = _with_archived(session, params.tenant_id, runs, params.run_limit)
            archive["runs"] = [run.model_dump(mode="json") for run in runs]
            row.archive, row.status, row.completed_at = archive, "completed", datetime.now(UTC)
            session.add(row)
            session.commit()
        counts = {name: len(part) for name, part in archive.items() if isinstance(part, list)}
        activity.logger.info("data export written", extra={"request_id": params.request_id, **counts})
        self._announce(params)
        return DataExportResult(request_id=params.request_id, counts=counts)

    def _announce(self, params: DataExportInput) -> None:
        """E-mails the tenant's contact that the export is ready (one Message-ID per request, whatever the
        attempt). The export stands without it: a mail that cannot go out is logged, not retried."""
        if self._email is None:
            return
        with Session(self._engine) as session:
            address = _contact(session, params.tenant_id)
            language = tenant_contact_language(session, params.tenant_id, address) if address else DEFAULT
        if address is None:
            activity.logger.info("no contact for the export's e-mail", extra={"request_id": params.request_id})
            return
        prefix = "" if language == DEFAULT else f"/{language}"
        message = EmailMessage(
            tenant_id=params.tenant_id,
            to=[address],
            subject=render(tr("Your Levqor data export is ready"), language),
            body=compose_export_ready(f"{self._base_url}{prefix}/app/data", language),
            idempotency_key=f"data-export-ready:{params.request_id}",
        )
        try:
            self._email.send_email(message)
        except ApplicationError as err:
            activity.logger.warning(
                "export e-mail not sent", extra={"request_id": params.request_id, "error": err.type}
            )
            return
        activity.logger.info("export e-mail sent", extra={"request_id": params.request_id, "to": mask_address(address)})


def compose_export_ready(url: str, language: str) -> str:
    """The export-ready e-mail's body in `language` (a core/i18n.py tag)."""
    paragraphs = (
        render(tr("The export of your team's data that you asked for is ready."), language),
        render(tr("Download it from the Data page (you will be asked to sign in first):"), language),
        url,
        render(tr("It holds your workflows, runs, usage and audit log; keep it somewhere safe."), language),
    )
    return "\n\n".join(paragraphs) + "\n"


def _contact(session: Session, tenant_id: str) -> str | None:
    """The tenant's billing e-mail, else its first current admin's address."""
    account = session.get(BillingAccount, tenant_id)
    if account is not None and account.billing_email:
        return account.billing_email
    admins = select(User.email).where(User.tenant_id == tenant_id, User.role == "admin", col(User.removed_at).is_(None))
    return session.exec(admins.order_by(col(User.created_at))).first()


def _with_archived(session: Session, tenant_id: str, listed: list[RunRecord], limit: int) -> list[RunRecord]:
    """The runs Temporal listed and the closed ones only the run archive still holds, newest first."""
    known = {run.run_id for run in listed}
    rows = session.exec(
        select(RunArchiveEntry)
        .where(RunArchiveEntry.tenant_id == tenant_id)
        .order_by(col(RunArchiveEntry.closed_at).desc())
        .limit(limit)
    ).all()
    archived = [
        RunRecord(
            run_id=row.run_id,
            definition_id=row.definition_id,
            status=row.status,
            started_at=row.started_at,
            closed_at=row.closed_at,
        )
        for row in rows
        if row.run_id not in known
    ]
    return sorted([*listed, *archived], key=_newest_first)[:limit]


def _newest_first(run: RunRecord) -> tuple[bool, float]:
    moment = run.closed_at or run.started_at
    return run.closed_at is not None, -(moment.timestamp() if moment else 0.0)


def _archive(session: Session, tenant_id: str) -> dict[str, Any]:
    tenant = session.get(Tenant, tenant_id)
    definitions = _owned(session, WorkflowDefinitionRow, tenant_id, WorkflowDefinitionRow.created_at)
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "tenant": _pick(tenant, TENANT_FIELDS) if tenant else None,
        "api_keys": [_pick(r, KEY_FIELDS) for r in _owned(session, ApiKey, tenant_id, ApiKey.created_at)],
        "definitions": [
            {
                **_pick(d, DEFINITION_FIELDS),
                "versions": [
                    _pick(v, VERSION_FIELDS)
                    for v in session.exec(
                        select(WorkflowVersionRow)
                        .where(WorkflowVersionRow.definition_id == d.id)
                        .order_by(col(WorkflowVersionRow.version))
                    ).all()
                ],
            }
            for d in definitions
        ],
        "secrets": [_pick(r, SECRET_FIELDS) for r in _owned(session, TenantSecret, tenant_id, TenantSecret.name)],
        "webhooks": [
            {**_pick(r, WEBHOOK_FIELDS), "signed": r.signing_secret is not None}
            for r in _owned(session, WebhookTrigger, tenant_id, WebhookTrigger.created_at)
        ],
        "usage": [_pick(r, USAGE_FIELDS) for r in _owned(session, UsageCounter, tenant_id, UsageCounter.period)],
        "failures": [
            _pick(r, FAILURE_FIELDS) for r in _owned(session, FailureEntry, tenant_id, FailureEntry.created_at)
        ],
        "audit_log": [_pick(r, AUDIT_FIELDS) for r in _owned(session, AuditEntry, tenant_id, AuditEntry.at)],
        "ai_interactions": [
            _pick(r, AI_FIELDS) for r in _owned(session, AiInteraction, tenant_id, AiInteraction.created_at)
        ],
        "billing": _pick(billing, BILLING_FIELDS) if (billing := session.get(BillingAccount, tenant_id)) else None,
    }


class TenantRows(Protocol):
    """A table whose rows belong to a tenant."""

    @property
    def tenant_id(self) -> str | None: ...


def _owned(session: Session, table: type[TenantRows], tenant_id: str, order: Any) -> list[Any]:
    query = select(table).where(col(table.tenant_id) == tenant_id)
    return list(session.exec(query.order_by(col(order))).all())


def _pick(row: SQLModel, fields: tuple[str, ...]) -> dict[str, Any]:
    return to_jsonable_python({name: getattr(row, name) for name in fields})

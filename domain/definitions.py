"""Workflow definitions: a tenant's own definitions and their immutable versions, checked against the plan.

A definition row holds the name and the latest version number; each version's body is a row of its own
and never changes once stored, so a run or a schedule can hold on to the version it was given."""

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client

from core.errors import ApiError
from domain.store import commit_or_conflict
from language.purpose import stored_purpose
from language.steps import WorkflowDefinition
from language.validation import ValidationReport, validate_definition
from schemas.i18n import tr
from schemas.tables import Tenant, WorkflowDefinitionRow, WorkflowVersionRow
from schemas.workflows import DefinitionWarning, WorkflowPublic, WorkflowSaved, WorkflowSummary
from starters.schedules import follow_new_version


def tenant_definition(session: Session, workflow_id: str, tenant_id: str) -> WorkflowDefinitionRow:
    """The tenant's definition; another tenant's id is as unknown as a made-up one (404)."""
    row = session.get(WorkflowDefinitionRow, workflow_id)
    if row is None or row.tenant_id != tenant_id:
        raise ApiError(404, "workflow_not_found", tr("No workflow with this id"), field="workflow_id")
    return row


def definition_version(session: Session, row: WorkflowDefinitionRow, version: int | None) -> WorkflowVersionRow:
    """The definition at `version` (its latest when None); 404 for a version it never had."""
    number = row.latest_version if version is None else version
    found = session.exec(
        select(WorkflowVersionRow).where(
            WorkflowVersionRow.definition_id == row.id, WorkflowVersionRow.version == number
        )
    ).first()
    if found is None:
        raise ApiError(
            404, "version_not_found", tr("Workflow has no version %(version)s", version=number), field="version"
        )
    return found


@lru_cache(maxsize=1024)
def parsed_version(engine: Engine, definition_id: str, version: int) -> WorkflowDefinition:
    """Versions are immutable, so each is read and parsed once per process."""
    with Session(engine) as session:
        row = session.get_one(WorkflowDefinitionRow, definition_id)
        return WorkflowDefinition.model_validate(definition_version(session, row, version).body)


def validation_report(session: Session, raw: Any, tenant_id: str) -> ValidationReport:
    """Every error and warning of a definition against the tenant's plan; stores nothing."""
    report, _ = validate_definition(raw, _plan(session, tenant_id))
    return report


def create_definition(session: Session, raw: Any, tenant_id: str) -> WorkflowSaved:
    """Stores a valid definition as version 1 and answers it with the validator's warnings; an invalid one
    answers 422 with the full report."""
    definition, report = _checked_report(raw, _plan(session, tenant_id))
    row = WorkflowDefinitionRow(tenant_id=tenant_id, name=definition.name)
    session.add(row)
    session.flush()
    version = _add_version(session, row.id, 1, definition)
    session.commit()
    return saved_definition(row, version, report)


def checked_definition(session: Session, raw: Any, tenant_id: str) -> WorkflowDefinition:
    """`raw` parsed, when it is valid against the tenant's plan; 422 `invalid_definition` with the full report."""
    return _checked_report(raw, _plan(session, tenant_id))[0]


def add_definition(session: Session, tenant_id: str, versions: Sequence[WorkflowDefinition]) -> WorkflowDefinitionRow:
    """Adds a definition whose versions 1..N are `versions` (checked, oldest first), named as the last one;
    commits nothing, so the caller commits it together with the rest of its change."""
    row = WorkflowDefinitionRow(tenant_id=tenant_id, name=versions[-1].name, latest_version=len(versions))
    session.add(row)
    session.flush()
    for number, definition in enumerate(versions, start=1):
        _add_version(session, row.id, number, definition)
    return row


def definitions_with_versions(
    session: Session, tenant_id: str
) -> list[tuple[WorkflowDefinitionRow, list[WorkflowVersionRow]]]:
    """Every definition of the tenant, oldest first, each with all its versions in order, as stored."""
    rows = session.exec(
        select(WorkflowDefinitionRow, WorkflowVersionRow)
        .join(WorkflowVersionRow, col(WorkflowVersionRow.definition_id) == col(WorkflowDefinitionRow.id))
        .where(WorkflowDefinitionRow.tenant_id == tenant_id)
        .order_by(col(WorkflowDefinitionRow.created_at), col(WorkflowDefinitionRow.id), col(WorkflowVersionRow.version))
    ).all()
    found: dict[str, tuple[WorkflowDefinitionRow, list[WorkflowVersionRow]]] = {}
    for row, version in rows:
        found.setdefault(row.id, (row, []))[1].append(version)
    return list(found.values())


def list_definitions(session: Session, tenant_id: str) -> list[WorkflowSummary]:
    """The tenant's definitions, newest change first."""
    rows = session.exec(
        select(WorkflowDefinitionRow)
        .where(WorkflowDefinitionRow.tenant_id == tenant_id)
        .order_by(col(WorkflowDefinitionRow.updated_at).desc())
    ).all()
    return [WorkflowSummary(id=r.id, name=r.name, version=r.latest_version, updated_at=r.updated_at) for r in rows]


async def update_definition(
    engine: Engine, temporal: Client, workflow_id: str, raw: Any, tenant_id: str
) -> WorkflowSaved:
    """Stores the next version (answered with the validator's warnings); runs in flight keep the version they
    started with, schedules move to it."""
    public, definition = await to_thread.run_sync(store_version, engine, workflow_id, raw, tenant_id)
    await follow_new_version(temporal, tenant_id, public.id, public.version, definition)
    return public


def store_version(
    engine: Engine, workflow_id: str, raw: Any, tenant_id: str
) -> tuple[WorkflowSaved, WorkflowDefinition]:
    """Stores a valid definition as the next version; 409 `version_conflict` when a concurrent change
    stored that number first."""
    with Session(engine, expire_on_commit=False) as session:
        row = tenant_definition(session, workflow_id, tenant_id)
        definition, report = _checked_report(raw, _plan(session, tenant_id))
        row.latest_version += 1
        row.name, row.updated_at = definition.name, datetime.now(UTC)
        version = _add_version(session, row.id, row.latest_version, definition)
        session.add(row)
        commit_or_conflict(
            session, "version_conflict", "Another change saved this version first; retry", field="workflow_id"
        )
        return saved_definition(row, version, report), definition


def read_definition(session: Session, row: WorkflowDefinitionRow, version: int | None) -> WorkflowPublic:
    """The definition at `version` (its latest when None); 404 for a version it never had."""
    return public_definition(row, definition_version(session, row, version))


def public_definition(row: WorkflowDefinitionRow, version: WorkflowVersionRow) -> WorkflowPublic:
    return WorkflowPublic(
        id=row.id,
        name=row.name,
        version=version.version,
        definition=version.body,
        created_at=row.created_at,
        updated_at=row.updated_at,
        purpose=stored_purpose(version.body),
    )


def saved_definition(
    row: WorkflowDefinitionRow, version: WorkflowVersionRow, report: ValidationReport
) -> WorkflowSaved:
    """The stored version as its answer, with the report's warnings."""
    warnings = [DefinitionWarning(path=w.path, code=w.code, message=w.message, text=w.text) for w in report.warnings]
    return WorkflowSaved(**public_definition(row, version).model_dump(), warnings=warnings)


def _checked_report(raw: Any, plan: str) -> tuple[WorkflowDefinition, ValidationReport]:
    """`raw` parsed with its report (warnings only) when valid against `plan`; 422 `invalid_definition` with the
    full report otherwise."""
    report, definition = validate_definition(raw, plan)
    if definition is None or not report.valid:
        first = report.errors[0] if report.errors else None
        count = len(report.errors)
        message = tr("The definition has %(count)s error(s)", count=count)
        if first:
            message = tr(
                "The definition has %(count)s error(s); first: %(first)s",
                count=count,
                first=first.text or first.message,
            )
        raise ApiError(
            422,
            "invalid_definition",
            message,
            field=first.path if first else None,
            valid=report.valid,
            errors=report.errors,
            warnings=report.warnings,
        )
    return definition, report


def _plan(session: Session, tenant_id: str) -> str:
    tenant = session.get(Tenant, tenant_id)
    return tenant.plan if tenant else "free"


def _add_version(
    session: Session, definition_id: str, number: int, definition: WorkflowDefinition
) -> WorkflowVersionRow:
    version = WorkflowVersionRow(
        definition_id=definition_id, version=number, body=definition.model_dump(mode="json", by_alias=True)
    )
    session.add(version)
    return version

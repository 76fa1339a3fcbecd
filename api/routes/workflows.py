"""Workflow definitions: validate, create, list, read, and new versions. Versions are immutable."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentTenant, EngineDep, SessionDep, TemporalDep
from core.errors import ApiError
from language.steps import WorkflowDefinition
from language.validation import ValidationReport, validate_definition
from schemas.api import WorkflowPublic, WorkflowSummary
from schemas.tables import Tenant, WorkflowDefinitionRow, WorkflowVersionRow
from starters.schedules import follow_new_version

router = APIRouter(prefix="/api/workflows", tags=["workflows"])
RawDefinition = Annotated[Any, Body(description="A workflow definition (see the README for the language)")]


@router.post("/validate")
def validate_workflow(raw: RawDefinition, tenant: CurrentTenant, session: SessionDep) -> ValidationReport:
    """Every error and warning of a definition, with JSON paths; stores nothing."""
    report, _ = validate_definition(raw, _plan(session, tenant.tenant_id))
    return report


@router.post("", status_code=status.HTTP_201_CREATED)
def create_workflow(raw: RawDefinition, tenant: CurrentTenant, session: SessionDep) -> WorkflowPublic:
    """Store a valid definition as version 1; an invalid one answers 422 with the full report."""
    definition = _checked(raw, _plan(session, tenant.tenant_id))
    row = WorkflowDefinitionRow(tenant_id=tenant.tenant_id, name=definition.name)  # type: ignore[arg-type]
    session.add(row)
    session.flush()
    version = _add_version(session, row.id, 1, definition)
    session.commit()
    return _public(row, version)


@router.get("")
def list_workflows(tenant: CurrentTenant, session: SessionDep) -> list[WorkflowSummary]:
    """The caller's definitions, newest change first."""
    rows = session.exec(
        select(WorkflowDefinitionRow)
        .where(WorkflowDefinitionRow.tenant_id == tenant.tenant_id)
        .order_by(WorkflowDefinitionRow.updated_at.desc())  # type: ignore[attr-defined]
    ).all()
    return [WorkflowSummary(id=r.id, name=r.name, version=r.latest_version, updated_at=r.updated_at) for r in rows]


@router.get("/{workflow_id}")
def get_workflow(workflow_id: str, tenant: CurrentTenant, session: SessionDep, version: int | None = None) -> WorkflowPublic:
    """A definition at its latest version, or at `?version=N`."""
    row = owned_definition(session, workflow_id, tenant.tenant_id)  # type: ignore[arg-type]
    return _public(row, definition_version(session, row, version))


@router.put("/{workflow_id}")
async def update_workflow(
    workflow_id: str, raw: RawDefinition, tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep
) -> WorkflowPublic:
    """Store a new version; runs in flight keep the version they started with, schedules move to it."""
    public, definition = await run_in_threadpool(_store_version, engine, workflow_id, raw, tenant.tenant_id)
    await follow_new_version(temporal, tenant.tenant_id, public.id, public.version, definition)
    return public


def _store_version(engine: EngineDep, workflow_id: str, raw: Any, tenant_id: str) -> tuple[WorkflowPublic, WorkflowDefinition]:
    with Session(engine, expire_on_commit=False) as session:
        row = owned_definition(session, workflow_id, tenant_id)
        definition = _checked(raw, _plan(session, tenant_id))
        row.latest_version += 1
        row.name, row.updated_at = definition.name, datetime.now(UTC)
        version = _add_version(session, row.id, row.latest_version, definition)
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            raise ApiError(409, "version_conflict", "Another change saved this version first; retry",
                           field="workflow_id") from None
        return _public(row, version), definition


def owned_definition(session: Session, workflow_id: str, tenant_id: str) -> WorkflowDefinitionRow:
    """The tenant's definition; another tenant's id is as unknown as a made-up one."""
    row = session.get(WorkflowDefinitionRow, workflow_id)
    if row is None or row.tenant_id != tenant_id:
        raise ApiError(404, "workflow_not_found", "No workflow with this id", field="workflow_id")
    return row


def definition_version(session: Session, row: WorkflowDefinitionRow, version: int | None) -> WorkflowVersionRow:
    number = row.latest_version if version is None else version
    found = session.exec(
        select(WorkflowVersionRow).where(
            WorkflowVersionRow.definition_id == row.id, WorkflowVersionRow.version == number
        )
    ).first()
    if found is None:
        raise ApiError(404, "version_not_found", f"Workflow has no version {number}", field="version")
    return found


def _checked(raw: Any, plan: str) -> WorkflowDefinition:
    report, definition = validate_definition(raw, plan)
    if definition is None or not report.valid:
        first = report.errors[0] if report.errors else None
        raise ApiError(
            422, "invalid_definition",
            f"The definition has {len(report.errors)} error(s)" + (f"; first: {first.message}" if first else ""),
            field=first.path if first else None,
            **report.model_dump(mode="json"),
        )
    return definition


def _plan(session: Session, tenant_id: str | None) -> str:
    tenant = session.get(Tenant, tenant_id)
    return tenant.plan if tenant else "free"


def _add_version(session: Session, definition_id: str, number: int, definition: WorkflowDefinition) -> WorkflowVersionRow:
    version = WorkflowVersionRow(
        definition_id=definition_id, version=number, body=definition.model_dump(mode="json", by_alias=True)
    )
    session.add(version)
    return version


def _public(row: WorkflowDefinitionRow, version: WorkflowVersionRow) -> WorkflowPublic:
    return WorkflowPublic(
        id=row.id, name=row.name, version=version.version, definition=version.body,
        created_at=row.created_at, updated_at=row.updated_at,
    )

"""Workflow definitions: validate, create, list, read, and new versions. Versions are immutable."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, status

from api.deps import CallerDep, CurrentTenant, EngineDep, OwnedDefinition, SessionDep, TemporalDep, require_admin
from api.errors import in_reader_language, saved_in_reader_language
from domain import definition_views, definitions
from language.validation import ValidationReport
from schemas.i18n import tr
from schemas.workflows import DefinitionSchema, WorkflowPublic, WorkflowSaved, WorkflowSummary

router = APIRouter(prefix="/api/workflows", tags=["workflows"])
RawDefinition = Annotated[Any, Body(description="A workflow definition (see the README for the language)")]


@router.post("/validate")
def validate_workflow(
    raw: RawDefinition, tenant: CurrentTenant, session: SessionDep, request: Request
) -> ValidationReport:
    """Every error and warning of a definition, with JSON paths, in the reader's language; stores nothing."""
    return in_reader_language(definitions.validation_report(session, raw, tenant.tenant_id), request)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_workflow(raw: RawDefinition, tenant: CurrentTenant, session: SessionDep, request: Request) -> WorkflowSaved:
    """Store a valid definition as version 1, answered with the validator's `warnings`; an invalid one answers
    422 with the full report."""
    return saved_in_reader_language(definitions.create_definition(session, raw, tenant.tenant_id), request)


@router.get("")
def list_workflows(tenant: CurrentTenant, session: SessionDep) -> list[WorkflowSummary]:
    """The caller's definitions, newest change first."""
    return definitions.list_definitions(session, tenant.tenant_id)


@router.get("/schema")
def definition_schema(_caller: CallerDep) -> DefinitionSchema:
    """The JSON Schema of a definition and of each step type, generated from the models the validator uses."""
    return definition_views.definition_schema()


@router.get("/{workflow_id}")
def get_workflow(definition: OwnedDefinition, session: SessionDep, version: int | None = None) -> WorkflowPublic:
    """A definition at its latest version, or at `?version=N`."""
    return definitions.read_definition(session, definition, version)


@router.put("/{workflow_id}")
async def update_workflow(
    workflow_id: str,
    raw: RawDefinition,
    tenant: CurrentTenant,
    engine: EngineDep,
    temporal: TemporalDep,
    request: Request,
) -> WorkflowSaved:
    """Store a new version, answered with the validator's `warnings` (admin keys only: a version may change its
    approval gates); runs in flight keep the version they started with, schedules move to it."""
    require_admin(tenant, tr("workflow definitions"))
    saved = await definitions.update_definition(engine, temporal, workflow_id, raw, tenant.tenant_id)
    return saved_in_reader_language(saved, request)

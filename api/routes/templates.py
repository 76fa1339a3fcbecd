"""The template library: ready workflows for common use cases."""

from fastapi import APIRouter

from api.deps import CallerDep
from core.errors import ApiError
from language.templates import workflow_template, workflow_templates
from schemas.brain import WorkflowTemplate
from schemas.i18n import tr

router = APIRouter(prefix="/api/templates", tags=["workflows"])


@router.get("")
def list_templates(_caller: CallerDep) -> list[WorkflowTemplate]:
    """Every template: id, title, description, use case, keywords and a definition that passes the validator on
    every plan (secrets referenced by name, example.com URLs to change)."""
    return workflow_templates()


@router.get("/{template_id}")
def get_template(template_id: str, _caller: CallerDep) -> WorkflowTemplate:
    """One template by its id."""
    template = workflow_template(template_id)
    if template is None:
        raise ApiError(404, "template_not_found", tr("No template with this id"), field="template_id")
    return template

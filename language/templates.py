"""The template library: ready workflows for common use cases of a done-for-you automation business, one JSON file
each in language/templates/. The fallback drafter starts from them, the knowledge base cites them, the editor offers
them. Every template passes the validator on every plan and names its secrets only (`{{ secrets.NAME }}`)."""

from functools import cache
from pathlib import Path

from schemas.brain import WorkflowTemplate

TEMPLATES_DIR = Path(__file__).with_name("templates")


@cache
def workflow_templates() -> list[WorkflowTemplate]:
    """Every template, ordered by id (read once per process)."""
    paths = sorted(TEMPLATES_DIR.glob("*.json"))
    return [WorkflowTemplate.model_validate_json(path.read_text(encoding="utf-8")) for path in paths]


def workflow_template(template_id: str) -> WorkflowTemplate | None:
    """The template with this id, or None."""
    return next((template for template in workflow_templates() if template.id == template_id), None)

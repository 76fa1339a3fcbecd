"""The template library: every template is valid on every plan, names secrets only, and points at example hosts."""

import json
import re

import pytest

from language.templates import TEMPLATES_DIR, workflow_template, workflow_templates
from language.validation import validate_definition
from rules.draft_checks import literal_secret_issues
from schemas.api import PLANS
from schemas.brain import WorkflowTemplate

TEMPLATES = workflow_templates()
URL = re.compile(r"https?://([^/\s\"'{}?]+)")


def test_the_library_covers_fifteen_to_twenty_use_cases_with_unique_ids() -> None:
    ids = [template.id for template in TEMPLATES]

    assert 15 <= len(ids) <= 20
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert {path.stem for path in TEMPLATES_DIR.glob("*.json")} == set(ids)


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_every_template_passes_the_validator_on_every_plan(template: WorkflowTemplate, plan: str) -> None:
    report, definition = validate_definition(template.definition, plan)

    assert report.errors == []
    assert report.warnings == []
    assert definition is not None


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_templates_name_their_secrets_and_call_only_example_hosts(template: WorkflowTemplate) -> None:
    text = json.dumps(template.definition)

    assert literal_secret_issues(template.definition) == []
    assert all(host.endswith(("example.com", "example.org")) for host in URL.findall(text))
    assert "@" not in text  # addresses come from the input, never written in


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_templates_describe_themselves_for_the_drafter_and_the_knowledge_base(template: WorkflowTemplate) -> None:
    assert template.title and template.description and template.use_case
    assert len(template.keywords) >= 5
    assert template.definition["name"] and template.definition.get("description")


def test_the_library_covers_the_step_types_and_both_purposes() -> None:
    types = {step["type"] for template in TEMPLATES for step in template.definition["steps"]}
    purposes = {template.definition.get("purpose", "operations") for template in TEMPLATES}

    assert types == {"http_request", "delay", "log", "email", "condition", "approval", "transform", "ai"}
    assert purposes == {"operations", "marketing"}


def test_a_template_is_found_by_its_id_and_an_unknown_id_is_none() -> None:
    found = workflow_template("refund-approval")

    assert found is not None and found.title == "Refund with an approval gate"
    assert workflow_template("no-such-template") is None

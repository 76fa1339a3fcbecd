"""`secrets.NAME` in an HTTP step renders to a placeholder carrying the call's marker, and only for the
names the step's templates name literally."""

import pytest

from language.expressions import ExpressionError, SecretPlaceholders, render, render_value, secret_references
from schemas.runs import SECRET_PLACEHOLDER

MARKER = "0123456789abcdef0123456789abcdef"


def scope(*names: str, **input_: object) -> dict[str, object]:
    return {"input": input_, "steps": {}, "vars": {}, "secrets": SecretPlaceholders(MARKER, frozenset(names))}


def test_a_named_secret_renders_as_a_placeholder_with_the_marker() -> None:
    rendered = render("Bearer {{ secrets.CRM_TOKEN }}", scope("CRM_TOKEN"))

    assert SECRET_PLACEHOLDER.findall(rendered) == [(MARKER, "CRM_TOKEN")]
    assert render_value({"t": "{{ secrets['CRM_TOKEN'] }}"}, scope("CRM_TOKEN")) == {"t": rendered[len("Bearer ") :]}


def test_placeholder_text_in_data_is_rendered_as_it_is_and_carries_no_marker() -> None:
    rendered = render("{{ input.msg }}", scope("CRM_TOKEN", msg="⟪secret:CRM_TOKEN⟫"))

    assert rendered == "⟪secret:CRM_TOKEN⟫" and SECRET_PLACEHOLDER.findall(rendered) == []


def test_a_secret_chosen_by_data_fails_the_template() -> None:
    with pytest.raises(ExpressionError, match="secrets.NAME"):
        render("{{ secrets.CRM_TOKEN }}{{ secrets[input.name] }}", scope("CRM_TOKEN", name="OTHER_TOKEN"))


@pytest.mark.parametrize("template", ["{{ secrets|attr(input.name) }}", "{{ secrets.get(input.name) }}"])
def test_other_ways_for_data_to_name_a_secret_render_no_placeholder(template: str) -> None:
    rendered = render(template, scope("CRM_TOKEN", name="CRM_TOKEN"))

    assert SECRET_PLACEHOLDER.findall(rendered) == []


def test_secret_references_are_the_names_templates_name_literally() -> None:
    value = [
        "https://api.example.com/{{ secrets.PATH_KEY }}",
        {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}", "X-Data": "{{ input.secrets }}"},
        {"nested": ["{{ secrets['BODY_KEY'] }}", "{{ secrets[input.name] }}"], "n": 1},
        None,
    ]

    assert secret_references(value) == {"PATH_KEY", "CRM_TOKEN", "BODY_KEY"}

from typing import Any

import pytest

from language.plans import risky_step
from language.steps import HttpStep
from language.validation import ValidationReport, validate_definition


def make_definition(*steps: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "Order follow-up", "steps": list(steps), **fields}


def log(step_id: str, message: str = "hello", **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "log", "message": message, **fields}


def http(step_id: str, method: str = "GET", **fields: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "http_request",
        "method": method,
        "url": "https://api.example.com",
        **fields,
    }


def founder_gate(step_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "approval", "class": "C", "message": "Go ahead?", **fields}


def errors_of(report: ValidationReport) -> list[tuple[str, str]]:
    return [(issue.code, issue.path) for issue in report.errors]


def assert_rejected(raw: Any, code: str, path: str, plan: str = "free") -> ValidationReport:
    report, definition = validate_definition(raw, plan)

    assert errors_of(report) == [(code, path)]
    assert report.valid is False
    assert definition is None
    return report


def test_definition_using_every_step_type_is_valid() -> None:
    raw = make_definition(
        log("start", "Order {{ input.order_id }}"),
        http(
            "fetch",
            url="https://api.example.com/orders/{{ input.order_id }}",
            headers={"X-Trace": "{{ input.order_id }}"},
        ),
        {"id": "compute", "type": "transform", "set": {"total": "steps.fetch.body.total * 2"}},
        {"id": "big", "type": "condition", "expression": "vars.total > 100", "then": "gate", "else": "wait"},
        founder_gate("gate", message="Approve {{ vars.total }}?"),
        {"id": "summary", "type": "ai", "prompt": "Summarise {{ steps.fetch.body }}"},
        {
            "id": "notify",
            "type": "email",
            "to": ["ops@example.com"],
            "subject": "Order",
            "body": "{{ steps.summary.text }}",
            "next": "end",
        },
        {"id": "wait", "type": "delay", "seconds": 60},
        input_schema={"type": "object", "properties": {"order_id": {"type": "string"}}},
    )

    report, definition = validate_definition(raw)

    assert report == ValidationReport(valid=True, errors=[], warnings=[])
    assert definition is not None and len({step.type for step in definition.steps}) == 8


def test_missing_field_is_reported_at_its_path() -> None:
    raw = make_definition({"id": "fetch", "type": "http_request"})

    assert_rejected(raw, "missing_field", "$.steps[0].url")


def test_unknown_step_type_lists_the_valid_types() -> None:
    raw = make_definition({"id": "fetch", "type": "ftp"})

    report = assert_rejected(raw, "unknown_step_type", "$.steps[0].type")

    assert "http_request" in report.errors[0].message and "transform" in report.errors[0].message


def test_unknown_field_is_reported() -> None:
    raw = make_definition(log("start", colour="red"))

    assert_rejected(raw, "unknown_field", "$.steps[0].colour")


def test_step_id_that_is_not_snake_case_is_rejected() -> None:
    raw = make_definition(log("Start"))

    report = assert_rejected(raw, "invalid_step_id", "$.steps[0].id")

    assert "snake_case" in report.errors[0].message


def test_step_id_end_is_reserved() -> None:
    raw = make_definition(log("end"))

    assert_rejected(raw, "invalid_step_id", "$.steps[0].id")


def test_duplicate_step_id_is_reported_at_the_second_occurrence() -> None:
    raw = make_definition(log("start"), log("start"))

    assert_rejected(raw, "duplicate_step_id", "$.steps[1].id")


def test_jump_to_an_unknown_step_is_reported() -> None:
    raw = make_definition(log("start", next="finish"), log("finnish"))

    assert_rejected(raw, "unknown_target", "$.steps[0].next")


def test_cycle_is_reported_with_its_steps() -> None:
    raw = make_definition(log("first"), log("second", next="first"))

    report = assert_rejected(raw, "cycle", "$.steps[1].next")

    assert "`first`" in report.errors[0].message and "`second`" in report.errors[0].message


def test_step_no_path_reaches_is_unreachable() -> None:
    raw = make_definition(log("start", next="end"), log("orphan"))

    assert_rejected(raw, "unreachable_step", "$.steps[1]")


def test_condition_with_next_is_rejected() -> None:
    condition = {
        "id": "check",
        "type": "condition",
        "expression": "true",
        "then": "a",
        "else": "b",
        "next": "a",
    }
    raw = make_definition(condition, log("a", next="end"), log("b"))

    assert_rejected(raw, "invalid_value", "$.steps[0].next")


def test_expression_that_does_not_parse_is_reported() -> None:
    condition = {
        "id": "check",
        "type": "condition",
        "expression": "input.total >",
        "then": "end",
        "else": "end",
    }

    report = assert_rejected(make_definition(condition), "expression_syntax", "$.steps[0].expression")

    assert "does not parse" in report.errors[0].message


def test_name_other_than_input_steps_and_vars_is_unknown() -> None:
    raw = make_definition(log("start", "home is {{ env.HOME }}"))

    assert_rejected(raw, "unknown_reference", "$.steps[0].message")


def test_reference_to_a_later_step_is_a_forward_reference() -> None:
    raw = make_definition(log("start", "{{ steps.fetch.status }}"), http("fetch"))

    assert_rejected(raw, "forward_reference", "$.steps[0].message")


def test_reference_to_a_step_on_only_some_paths_is_a_warning() -> None:
    condition = {
        "id": "check",
        "type": "condition",
        "expression": "input.fetch",
        "then": "fetch",
        "else": "report",
    }
    raw = make_definition(condition, http("fetch"), log("report", "{{ steps.fetch.status }}"))

    report, definition = validate_definition(raw)

    assert report.valid is True and definition is not None
    assert [(w.code, w.path) for w in report.warnings] == [("maybe_unset_reference", "$.steps[2].message")]


def test_variable_no_earlier_transform_sets_is_a_warning() -> None:
    raw = make_definition(log("start", "{{ vars.total }}"))

    report, _ = validate_definition(raw)

    assert [(w.code, w.path) for w in report.warnings] == [("unset_variable", "$.steps[0].message")]


def test_more_than_100_steps_is_rejected() -> None:
    raw = make_definition(*(log(f"step_{n}") for n in range(101)))

    assert_rejected(raw, "too_many_steps", "$.steps")


def test_delay_over_30_days_is_rejected() -> None:
    raw = make_definition({"id": "wait", "type": "delay", "seconds": 31 * 24 * 3600})

    report = assert_rejected(raw, "out_of_range", "$.steps[0].seconds")

    assert "30 days" in report.errors[0].message


def test_http_timeout_over_its_bound_is_rejected() -> None:
    raw = make_definition(http("fetch", timeout_s=301))

    assert_rejected(raw, "out_of_range", "$.steps[0].timeout_s")


def test_email_to_51_recipients_is_rejected() -> None:
    email = {"id": "mail", "type": "email", "subject": "Hi", "body": "Hello"}
    raw = make_definition({**email, "to": [f"user{n}@example.com" for n in range(51)]})

    assert_rejected(raw, "too_many_recipients", "$.steps[0].to", plan="enterprise")


def test_risky_step_without_a_founder_gate_is_rejected() -> None:
    raw = make_definition(log("start"), http("cancel", "DELETE"))

    report = assert_rejected(raw, "risky_step_needs_approval", "$.steps[1]")

    assert "free" in report.errors[0].message


def test_risky_step_after_a_founder_gate_is_valid() -> None:
    raw = make_definition(founder_gate("gate"), http("cancel", "DELETE"))

    report, _ = validate_definition(raw)

    assert report.valid is True


def test_risky_step_is_allowed_on_the_enterprise_plan() -> None:
    raw = make_definition(http("cancel", "DELETE"))

    report, _ = validate_definition(raw, plan="enterprise")

    assert report.valid is True


def test_founder_gate_on_one_branch_only_does_not_guard_a_risky_step() -> None:
    condition = {
        "id": "check",
        "type": "condition",
        "expression": "input.safe",
        "then": "cancel",
        "else": "gate",
    }
    raw = make_definition(condition, founder_gate("gate"), http("cancel", "DELETE"))

    assert_rejected(raw, "risky_step_needs_approval", "$.steps[2]", plan="pro")


@pytest.mark.parametrize(
    ("plan", "method", "risky"),
    [("free", "POST", True), ("free", "GET", False), ("starter", "POST", False), ("pro", "DELETE", True)],
)
def test_plan_decides_which_http_calls_are_risky(plan: str, method: str, risky: bool) -> None:
    step = HttpStep.model_validate(http("call", method))

    assert risky_step(plan, step) is risky


def test_invalid_input_schema_is_rejected() -> None:
    raw = make_definition(log("start"), input_schema={"type": "text"})

    assert_rejected(raw, "invalid_input_schema", "$.input_schema")


@pytest.mark.parametrize("raw", [[], "workflow", None, 3])
def test_definition_that_is_not_an_object_is_rejected(raw: Any) -> None:
    assert_rejected(raw, "not_an_object", "$")


def test_several_errors_are_reported_at_once() -> None:
    raw = make_definition({"id": "fetch", "type": "http_request", "next": "nowhere"}, log("fetch"))

    report, definition = validate_definition(raw)

    assert set(errors_of(report)) == {
        ("missing_field", "$.steps[0].url"),
        ("duplicate_step_id", "$.steps[1].id"),
        ("unknown_target", "$.steps[0].next"),
    }
    assert definition is None


def test_secrets_are_allowed_in_http_steps() -> None:
    raw = make_definition(http("call", headers={"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"}))

    report, definition = validate_definition(raw, "enterprise")

    assert report.errors == [] and definition is not None


def test_secrets_outside_http_steps_are_refused() -> None:
    raw = make_definition(log("start", "token {{ secrets.CRM_TOKEN }}"))

    assert_rejected(raw, "secret_not_allowed", "$.steps[0].message")


def test_secret_names_are_upper_snake_case() -> None:
    raw = make_definition(http("call", url="https://api.example.com/?k={{ secrets.crm_token }}"))

    assert_rejected(raw, "invalid_secret_name", "$.steps[0].url", plan="enterprise")


def test_definition_larger_than_the_cap_is_refused() -> None:
    raw = make_definition(*(log(f"step_{i}", "x" * 3000) for i in range(90)))

    assert_rejected(raw, "definition_too_large", "$")

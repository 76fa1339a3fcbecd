"""The debugger's fallback rules: each error category's cause and proposed patch, and that every patch they propose
applies and validates against the definition that failed."""

from typing import Any

from core.i18n import render
from language.json_patch import apply_patch
from language.validation import validate_definition
from rules.diagnosis import rule_diagnosis
from rules.failure_categories import category_of
from schemas.brain import FailureFacts


def facts(step: dict[str, Any], error_type: str | None, **extra: Any) -> FailureFacts:
    definition = {"name": "flow", "steps": [{"id": "hello", "type": "log", "message": "hi"}, step]}
    return FailureFacts(
        run_id="run-1",
        status=extra.pop("status", "failed"),
        definition_id="wf-1",
        version=1,
        step_id=step["id"],
        step_type=step["type"],
        error_type=error_type,
        error_message=extra.pop("message", "it failed"),
        attempts=extra.pop("attempts", 3),
        definition=definition,
        **extra,
    )


def patched(fact: FailureFacts, patch: list[dict[str, Any]]) -> dict[str, Any]:
    result = apply_patch(fact.definition, patch)
    report, _ = validate_definition(result, "pro")
    assert report.valid, report.errors
    return result


def test_a_timeout_raises_the_http_steps_timeout() -> None:
    fact = facts({"id": "call", "type": "http_request", "url": "https://example.com", "timeout_s": 1}, "Timeout")

    ruling = rule_diagnosis(fact)

    assert ruling.category == "timeout"
    assert patched(fact, ruling.patch)["steps"][1]["timeout_s"] == 30


def test_a_timeout_already_at_the_maximum_proposes_no_patch() -> None:
    fact = facts({"id": "call", "type": "http_request", "url": "https://example.com", "timeout_s": 300}, "HttpTimeout")

    assert rule_diagnosis(fact).patch == []


def test_a_target_failing_on_its_side_gets_more_attempts() -> None:
    step = {"id": "call", "type": "http_request", "url": "https://example.com"}
    fact = facts(step, "HttpServerError", http_status=500)

    ruling = rule_diagnosis(fact)

    assert ruling.category == "target_5xx" and "500" in str(ruling.cause)
    assert patched(fact, ruling.patch)["steps"][1]["retry"]["max_attempts"] == 8


def test_an_unreachable_target_gets_more_attempts_too() -> None:
    fact = facts({"id": "mail", "type": "email", "to": ["a@b.co"], "subject": "s", "body": "b"}, "SmtpTransientError")

    ruling = rule_diagnosis(fact)

    assert ruling.category == "transient_network" and patched(fact, ruling.patch)["steps"][1]["retry"]


def test_an_expired_approval_gets_a_longer_timeout() -> None:
    step = {"id": "gate", "type": "approval", "class": "B", "message": "ok?", "timeout_s": 3600, "on_timeout": "fail"}
    fact = facts(step, "ApprovalExpired")

    ruling = rule_diagnosis(fact)

    assert ruling.category == "approval_timed_out"
    assert patched(fact, ruling.patch)["steps"][1]["timeout_s"] == 7200


def test_a_gate_rejected_by_its_timeout_reads_as_expired_and_one_rejected_by_a_person_gets_no_patch() -> None:
    step = {"id": "gate", "type": "approval", "class": "B", "message": "ok?", "timeout_s": 60}

    by_timeout = rule_diagnosis(facts(step, None, status="rejected", decided_by="timeout"))
    by_person = rule_diagnosis(facts(step, None, status="rejected", decided_by="Ada (key lvq_ab)"))

    assert by_timeout.category == "approval_timed_out" and by_timeout.patch
    assert by_person.category == "rejected" and by_person.patch == []


def test_a_refusal_names_the_secrets_to_check_and_proposes_no_patch() -> None:
    step = {
        "id": "call",
        "type": "http_request",
        "url": "https://example.com",
        "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
    }

    ruling = rule_diagnosis(facts(step, "HttpClientError", http_status=401))

    assert ruling.category == "auth_4xx" and ruling.patch == []
    assert "CRM_TOKEN" in str(ruling.explanation) and "401" in str(ruling.cause)


def test_a_validation_failure_is_explained_without_a_patch() -> None:
    ruling = rule_diagnosis(
        facts({"id": "t", "type": "transform", "set": {"x": "1 +"}}, "ExpressionError", message="bad expression")
    )

    assert ruling.category == "validation" and ruling.patch == [] and "bad expression" in str(ruling.explanation)


def test_the_rules_texts_read_in_the_requested_language() -> None:
    ruling = rule_diagnosis(facts({"id": "call", "type": "http_request", "url": "https://e.co"}, "HttpServerError"))

    assert render(ruling.summary, "es") != str(ruling.summary)


def test_the_classification_is_autorecoverys() -> None:
    assert (category_of("HttpServerError"), category_of("Timeout"), category_of("Nope")) == (
        "target_5xx",
        "timeout",
        "unknown",
    )

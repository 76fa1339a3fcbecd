"""The workflow page's suggestions, from definitions as tenants write them: which steps each rule names, and
which well-built steps it leaves alone."""

from typing import Any

from rules.workflow_suggestions import suggest


def definition(*steps: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "Suggested", "steps": list(steps), **fields}


def kinds(found: list[Any]) -> list[tuple[str, str | None]]:
    return [(s.kind, s.step_id) for s in found]


def test_an_http_step_that_failed_lately_without_a_retry_override_is_told_to_retry() -> None:
    fetch = {"id": "fetch", "type": "http_request", "url": "https://flaky.test/orders"}

    found = suggest(definition(fetch), has_webhook=False, failures={"fetch": 3})

    assert kinds(found) == [("retry_step", "fetch")]
    assert found[0].failures == 3
    assert found[0].field == "retry"


def test_an_http_step_with_its_own_retry_or_no_failures_gets_no_retry_suggestion() -> None:
    tuned = {"id": "tuned", "type": "http_request", "url": "https://a.test", "retry": {"max_attempts": 8}}
    steady = {"id": "steady", "type": "http_request", "url": "https://b.test"}

    found = suggest(definition(tuned, steady), has_webhook=False, failures={"tuned": 4})

    assert found == []


def test_an_email_without_a_person_deciding_before_it_is_told_to_get_an_approval() -> None:
    mail = {"id": "tell", "type": "email", "to": ["ops@example.test"], "subject": "Hi", "body": "..."}
    post = {"id": "push", "type": "http_request", "method": "post", "url": "https://crm.test/leads"}

    found = suggest(definition(mail, post), has_webhook=False)

    assert kinds(found) == [("guard_with_approval", "tell"), ("guard_with_approval", "push")]


def test_a_class_b_or_c_gate_before_a_change_guards_it_and_a_class_a_gate_does_not() -> None:
    auto_gate = {"id": "auto", "type": "approval", "class": "A", "message": "runs by itself"}
    mail = {"id": "early", "type": "email", "to": ["a@example.test"], "subject": "s", "body": "b"}
    admin_gate = {"id": "admin", "type": "approval", "class": "B", "message": "check it"}
    late = {"id": "late", "type": "http_request", "method": "DELETE", "url": "https://crm.test/1"}

    found = suggest(definition(auto_gate, mail, admin_gate, late), has_webhook=False)

    assert kinds(found) == [("guard_with_approval", "early")]


def test_reading_http_calls_need_no_approval() -> None:
    read = {"id": "read", "type": "http_request", "method": "GET", "url": "https://a.test"}
    head = {"id": "head", "type": "http_request", "method": "HEAD", "url": "https://a.test"}

    assert suggest(definition(read, head), has_webhook=False) == []


def test_an_ai_step_without_a_fallback_is_told_to_name_one() -> None:
    bare = {"id": "summarise", "type": "ai", "prompt": "Summarise"}
    covered = {"id": "classify", "type": "ai", "prompt": "Classify", "fallback": {"text": "unknown"}}

    found = suggest(definition(bare, covered), has_webhook=False)

    assert kinds(found) == [("name_a_fallback", "summarise")]
    assert found[0].field == "fallback"


def test_a_webhook_started_workflow_without_an_input_schema_is_told_to_describe_its_input() -> None:
    log = {"id": "note", "type": "log", "message": "hello"}

    with_hook = suggest(definition(log), has_webhook=True)
    described = suggest(definition(log, input_schema={"type": "object"}), has_webhook=True)
    no_hook = suggest(definition(log), has_webhook=False)

    assert kinds(with_hook) == [("describe_the_input", None)]
    assert described == [] and no_hook == []


def test_a_definition_that_is_not_well_formed_gives_what_it_can_without_failing() -> None:
    broken: dict[str, Any] = {"name": "x", "steps": ["not a step", {"type": "email"}, None]}

    found = suggest(broken, has_webhook=True)

    assert kinds(found) == [("guard_with_approval", ""), ("describe_the_input", None)]
    assert suggest({"steps": "nope"}, has_webhook=False) == []

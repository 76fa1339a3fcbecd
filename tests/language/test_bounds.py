"""Untrusted definitions stay bounded: the validator's own cost, and what the validator refuses up front."""

import time
import tracemalloc
from typing import Any

from language.validation import validate_definition


def errors_of(raw: dict[str, Any]) -> list[tuple[str, str]]:
    report, _ = validate_definition(raw)
    return [(issue.code, issue.path) for issue in report.errors]


def test_thousands_of_steps_are_refused_by_count_in_little_time_and_memory() -> None:
    steps = [{"id": f"s{i}", "type": "log", "message": "m"} for i in range(4000)]

    tracemalloc.start()
    started = time.monotonic()
    errors = errors_of({"name": "many", "steps": steps})
    elapsed, (_, peak) = time.monotonic() - started, tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert errors == [("too_many_steps", "$.steps")]
    assert elapsed < 5  # a safety timeout: 8.7 s before the count came first
    assert peak < 64 * 1024 * 1024  # 881 MiB before


def test_a_deeply_nested_body_is_refused() -> None:
    body: Any = "x"
    for _ in range(200):
        body = [body]
    step = {"id": "h", "type": "http_request", "method": "POST", "url": "https://a.test", "json": body}

    assert errors_of({"name": "deep", "steps": [step]}) == [("definition_too_deep", "$")]


def test_a_deeply_nested_input_schema_is_refused() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        schema = {"type": "array", "items": schema}

    errors = errors_of({"name": "deep", "steps": [{"id": "a", "type": "log", "message": "m"}], "input_schema": schema})

    assert errors == [("invalid_input_schema", "$.input_schema")]

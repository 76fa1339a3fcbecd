"""Untrusted definitions stay bounded: the validator's own cost, and what the validator refuses up front."""

import time
import tracemalloc
from typing import Any

import pytest

from language.expressions import ExpressionError, ExpressionTooExpensive, evaluate, render
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


SCOPE: dict[str, Any] = {
    "input": {"n": 10**9, "word": "a" * 1000, "text": "x" * 200_000, "lines": "a\n" * 10_000},
    "steps": {},
    "vars": {},
}
EXPENSIVE = [
    "'a' * 10**10",
    "(10**10) ** (10**9)",
    "input.n ** input.n",
    "'{:>999999999}'.format(1)",
    "'{:>{}}'.format(1, input.n)",
    "'%999999999d' % 1",
    "'%*d' % (input.n, 1)",
    "'%d'|format(1) ~ ('%999999999d'|format(1))",
    "'x'|center(input.n)",
    "input.lines|indent(100)",
    "input.text|wordwrap(1)",
    "input.word.ljust(input.n)",
    "input.text.replace('', 'aaaa')",
    "[input.text] * 100000",
    "input.text ~ input.text ~ input.text",
    "(range(100000)|list) + (range(100000)|list) + (range(100000)|list) + (range(100000)|list)"
    " + (range(100000)|list) + (range(100000)|list)",
    "range(100000)|map('center', 1000)|join",
]


@pytest.mark.parametrize("expression", EXPENSIVE)
def test_an_expensive_expression_is_refused_at_once(expression: str) -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionTooExpensive):
        evaluate(expression, SCOPE)

    assert time.monotonic() - started < 10  # a safety timeout: each ran for minutes or ran out of memory


def test_a_template_whose_text_outgrows_the_cap_is_refused() -> None:
    with pytest.raises(ExpressionTooExpensive):
        render("{{ input.text }}" * 4, SCOPE)


def test_statements_are_refused_at_render() -> None:
    loops = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"

    with pytest.raises(ExpressionError, match="statements are not allowed"):
        render(loops, SCOPE)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("input.word|length * 2", 2000),
        ("2 ** 100 + 1", 2**100 + 1),
        ("'ab' * 3 ~ '{:>4}'.format('x')", "ababab   x"),
        ("'%05.1f'|format(3.14159)", "003.1"),
        ("(range(3)|map('string')|join(', '))|center(9)", " 0, 1, 2 "),
        ("input.text|length", 200_000),
    ],
)
def test_ordinary_expressions_keep_their_values(expression: str, value: Any) -> None:
    assert evaluate(expression, SCOPE) == value


def step_errors(*steps: dict[str, Any]) -> list[tuple[str, str]]:
    return errors_of({"name": "bounded", "steps": list(steps)})


def test_the_validator_refuses_statements_and_literal_overruns() -> None:
    errors = step_errors(
        {"id": "loop", "type": "log", "message": "{% for i in range(9) %}{{ i }}{% endfor %}"},
        {"id": "big", "type": "transform", "set": {"a": "'a' * 10**10", "b": "'{:>999999999}'.format(1)"}},
        {"id": "wide", "type": "log", "message": "{{ 'x'|center(999999999) }} {{ 10 ** 100000 }}"},
    )

    assert errors == [
        ("statement_not_allowed", "$.steps[0].message"),
        ("expression_too_expensive", "$.steps[1].set.a"),
        ("expression_too_expensive", "$.steps[1].set.b"),
        ("expression_too_expensive", "$.steps[2].message"),
        ("expression_too_expensive", "$.steps[2].message"),
    ]


def schema_errors(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return errors_of({"name": "s", "steps": [{"id": "a", "type": "log", "message": "m"}], "input_schema": schema})


def test_a_ref_that_loops_without_reading_input_is_refused() -> None:
    looping = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}
    recursive = {
        "$defs": {"node": {"type": "object", "properties": {"children": {"items": {"$ref": "#/$defs/node"}}}}},
        "$ref": "#/$defs/node",
    }

    assert schema_errors({"$ref": "#"}) == [("ref_loop", "$.input_schema['$ref']")]
    assert ("ref_loop", "$.input_schema['$defs'].a['$ref']") in schema_errors(looping)
    assert schema_errors(recursive) == []


def test_a_pattern_nested_too_deeply_for_python_is_refused_not_crashed() -> None:
    schema = {"properties": {"code": {"type": "string", "pattern": "(" * 2000 + ")" * 2000}}}

    assert schema_errors(schema) == [("invalid_input_schema", "$.input_schema")]

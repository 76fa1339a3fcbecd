"""Pydantic's messages as catalog texts: each template's English is pydantic_core's own message, so an answer
without Accept-Language reads exactly as before; a type without a template keeps pydantic's English."""

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import PydanticKnownError

from core.i18n import render
from schemas.i18n import Text
from schemas.validation_messages import MESSAGES, PLURALS, validation_message

SAMPLE_CONTEXT = {
    "attribute": "name", "error": "input is too short", "class_name": "Step", "gt": 3, "ge": 3, "lt": 3, "le": 3,
    "multiple_of": 5, "pattern": "^[a-z]+$", "expected": "'a' or 'b'", "encoding": "base64",
    "encoding_error": "Incorrect padding", "class": "Path", "tag": "htp", "discriminator": "'type'",
    "expected_tags": "'http_request', 'log'", "expected_schemes": "'http' or 'https'", "expected_version": 4,
    "field_type": "List", "actual_length": 7,
}  # fmt: skip


def known_error(kind: str, count: int | None = None) -> dict[str, object]:
    """pydantic_core's own error of `kind` with the context its message needs, as `err.errors()` lists it."""
    context: dict[str, object] = dict(SAMPLE_CONTEXT)
    if count is not None:
        context[PLURALS[kind][0]] = count
    error = PydanticKnownError(kind, context)  # type: ignore[arg-type]
    return {"type": kind, "msg": error.message(), "ctx": context}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_each_template_reads_as_pydantics_own_message(kind: str) -> None:
    error = known_error(kind)

    text = validation_message(error)

    assert isinstance(text, Text) and text.english() == error["msg"]


@pytest.mark.parametrize("kind", sorted(PLURALS))
@pytest.mark.parametrize("count", [1, 2])
def test_each_counted_template_chooses_pydantics_singular_or_plural(kind: str, count: int) -> None:
    error = known_error(kind, count)

    text = validation_message(error)

    assert isinstance(text, Text) and text.english() == error["msg"]


def test_an_error_type_without_a_template_keeps_pydantics_english() -> None:
    error = {"type": "complex_type", "msg": "Input should be a valid python complex object", "ctx": {}}

    assert validation_message(error) == "Input should be a valid python complex object"


def test_a_model_error_reads_in_japanese_with_its_context_filled_in() -> None:
    class Limits(BaseModel):
        runs: int = Field(gt=3)

    with pytest.raises(ValidationError) as caught:
        Limits(runs=1)
    text = validation_message(caught.value.errors()[0])

    assert isinstance(text, Text) and text.english() == "Input should be greater than 3"
    assert render(text, "ja") == "入力は 3 より大きい必要があります"

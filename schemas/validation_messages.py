"""Pydantic's validation messages as catalog texts: one template per pydantic_core error `type` (its English
written out once, `{x}` → `%(x)s`), filled from the error's `ctx`. A type not listed keeps pydantic's English.
Here, below every layer, so the definition validator's field errors read the same sentences as the API's."""

from collections.abc import Mapping
from typing import Any

from schemas.i18n import Param, Text, tr, trn

# The English of each template is pydantic_core's own (2.x), so an English answer reads as it always did.
MESSAGES: dict[str, Text] = {
    "no_such_attribute": tr("Object has no attribute '%(attribute)s'"),
    "json_invalid": tr("Invalid JSON: %(error)s"),
    "json_type": tr("JSON input should be string, bytes or bytearray"),
    "recursion_loop": tr("Recursion error - cyclic reference detected"),
    "recursion_depth_exceeded": tr("Recursion error - maximum validation depth exceeded"),
    "missing": tr("Field required"),
    "frozen_field": tr("Field is frozen"),
    "frozen_instance": tr("Instance is frozen"),
    "extra_forbidden": tr("Extra inputs are not permitted"),
    "invalid_key": tr("Keys should be strings"),
    "get_attribute_error": tr("Error extracting attribute: %(error)s"),
    "model_type": tr("Input should be a valid dictionary or instance of %(class_name)s"),
    "model_attributes_type": tr("Input should be a valid dictionary or object to extract fields from"),
    "dataclass_type": tr("Input should be a dictionary or an instance of %(class_name)s"),
    "dataclass_exact_type": tr("Input should be an instance of %(class_name)s"),
    "none_required": tr("Input should be None"),
    "greater_than": tr("Input should be greater than %(gt)s"),
    "greater_than_equal": tr("Input should be greater than or equal to %(ge)s"),
    "less_than": tr("Input should be less than %(lt)s"),
    "less_than_equal": tr("Input should be less than or equal to %(le)s"),
    "multiple_of": tr("Input should be a multiple of %(multiple_of)s"),
    "finite_number": tr("Input should be a finite number"),
    "iterable_type": tr("Input should be iterable"),
    "iteration_error": tr("Error iterating over object, error: %(error)s"),
    "string_type": tr("Input should be a valid string"),
    "string_unicode": tr("Input should be a valid string, unable to parse raw data as a unicode string"),
    "string_pattern_mismatch": tr("String should match pattern '%(pattern)s'"),
    "string_not_ascii": tr("String should contain only ASCII characters"),
    "enum": tr("Input should be %(expected)s"),
    "literal_error": tr("Input should be %(expected)s"),
    "dict_type": tr("Input should be a valid dictionary"),
    "mapping_type": tr("Input should be a valid mapping, error: %(error)s"),
    "list_type": tr("Input should be a valid list"),
    "tuple_type": tr("Input should be a valid tuple"),
    "set_type": tr("Input should be a valid set"),
    "set_item_not_hashable": tr("Set items should be hashable"),
    "frozen_set_type": tr("Input should be a valid frozenset"),
    "bool_type": tr("Input should be a valid boolean"),
    "bool_parsing": tr("Input should be a valid boolean, unable to interpret input"),
    "int_type": tr("Input should be a valid integer"),
    "int_parsing": tr("Input should be a valid integer, unable to parse string as an integer"),
    "int_parsing_size": tr("Unable to parse input string as an integer, exceeded maximum size"),
    "int_from_float": tr("Input should be a valid integer, got a number with a fractional part"),
    "float_type": tr("Input should be a valid number"),
    "float_parsing": tr("Input should be a valid number, unable to parse string as a number"),
    "bytes_type": tr("Input should be a valid bytes"),
    "bytes_invalid_encoding": tr("Data should be valid %(encoding)s: %(encoding_error)s"),
    "value_error": tr("Value error, %(error)s"),
    "assertion_error": tr("Assertion failed, %(error)s"),
    "date_type": tr("Input should be a valid date"),
    "date_parsing": tr("Input should be a valid date in the format YYYY-MM-DD, %(error)s"),
    "date_from_datetime_parsing": tr("Input should be a valid date or datetime, %(error)s"),
    "date_from_datetime_inexact": tr("Datetimes provided to dates should have zero time - e.g. be exact dates"),
    "date_past": tr("Date should be in the past"),
    "date_future": tr("Date should be in the future"),
    "time_type": tr("Input should be a valid time"),
    "time_parsing": tr("Input should be in a valid time format, %(error)s"),
    "datetime_type": tr("Input should be a valid datetime"),
    "datetime_parsing": tr("Input should be a valid datetime, %(error)s"),
    "datetime_object_invalid": tr("Invalid datetime object, got %(error)s"),
    "datetime_from_date_parsing": tr("Input should be a valid datetime or date, %(error)s"),
    "datetime_past": tr("Input should be in the past"),
    "datetime_future": tr("Input should be in the future"),
    "timezone_naive": tr("Input should not have timezone info"),
    "timezone_aware": tr("Input should have timezone info"),
    "time_delta_type": tr("Input should be a valid timedelta"),
    "time_delta_parsing": tr("Input should be a valid timedelta, %(error)s"),
    "is_instance_of": tr("Input should be an instance of %(class)s"),
    "callable_type": tr("Input should be callable"),
    "union_tag_invalid": tr(
        "Input tag '%(tag)s' found using %(discriminator)s does not match any of the expected tags: %(expected_tags)s"
    ),
    "union_tag_not_found": tr("Unable to extract tag using discriminator %(discriminator)s"),
    "url_type": tr("URL input should be a string or URL"),
    "url_parsing": tr("Input should be a valid URL, %(error)s"),
    "url_syntax_violation": tr("Input violated strict URL syntax rules, %(error)s"),
    "url_scheme": tr("URL scheme should be %(expected_schemes)s"),
    "uuid_type": tr("UUID input should be a string, bytes or UUID object"),
    "uuid_parsing": tr("Input should be a valid UUID, %(error)s"),
    "uuid_version": tr("UUID version %(expected_version)s expected"),
    "decimal_type": tr("Decimal input should be an integer, float, string or Decimal object"),
    "decimal_parsing": tr("Input should be a valid decimal"),
}
# Templates whose noun follows a count (`{expected_plural}` in pydantic's): the count names the ctx key.
PLURALS: dict[str, tuple[str, Text]] = {
    "too_short": (
        "min_length",
        trn(
            "%(field_type)s should have at least %(min_length)s item after validation, not %(actual_length)s",
            "%(field_type)s should have at least %(min_length)s items after validation, not %(actual_length)s",
            0,
        ),
    ),
    "too_long": (
        "max_length",
        trn(
            "%(field_type)s should have at most %(max_length)s item after validation, not %(actual_length)s",
            "%(field_type)s should have at most %(max_length)s items after validation, not %(actual_length)s",
            0,
        ),
    ),
    "string_too_short": (
        "min_length",
        trn(
            "String should have at least %(min_length)s character",
            "String should have at least %(min_length)s characters",
            0,
        ),
    ),
    "string_too_long": (
        "max_length",
        trn(
            "String should have at most %(max_length)s character",
            "String should have at most %(max_length)s characters",
            0,
        ),
    ),
    "bytes_too_short": (
        "min_length",
        trn("Data should have at least %(min_length)s byte", "Data should have at least %(min_length)s bytes", 0),
    ),
    "bytes_too_long": (
        "max_length",
        trn("Data should have at most %(max_length)s byte", "Data should have at most %(max_length)s bytes", 0),
    ),
    "url_too_long": (
        "max_length",
        trn(
            "URL should have at most %(max_length)s character",
            "URL should have at most %(max_length)s characters",
            0,
        ),
    ),
    "decimal_max_digits": (
        "max_digits",
        trn(
            "Decimal input should have no more than %(max_digits)s digit in total",
            "Decimal input should have no more than %(max_digits)s digits in total",
            0,
        ),
    ),
    "decimal_max_places": (
        "decimal_places",
        trn(
            "Decimal input should have no more than %(decimal_places)s decimal place",
            "Decimal input should have no more than %(decimal_places)s decimal places",
            0,
        ),
    ),
}


def validation_message(error: Mapping[str, Any]) -> Text | str:
    """One pydantic error (`{type, msg, ctx}`) as a catalog text; pydantic's own English `msg` for a type
    without a template or with a context the template does not fit."""
    kind, english = str(error.get("type", "")), str(error.get("msg", ""))
    params = {str(key): _param(value) for key, value in (error.get("ctx") or {}).items()}
    if kind in PLURALS:
        key, template = PLURALS[kind]
        count = params.get(key)
        if not isinstance(count, int):
            return english
        text = template.model_copy(update={"n": count, "params": params})
    elif kind in MESSAGES:
        text = MESSAGES[kind].model_copy(update={"params": params})
    else:
        return english
    return text if text.english() == english else english


def _param(value: Any) -> Param:
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) else str(value)

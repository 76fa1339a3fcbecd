"""JSON Patch (RFC 6902) as the debugger applies a proposed fix: each operation, pointer escapes, bounds and the
errors a bad patch gets."""

from typing import Any

import pytest

from language.json_patch import MAX_DEPTH, MAX_OPS, JsonPatchError, apply_patch, parse_pointer

DOC: dict[str, Any] = {"name": "flow", "steps": [{"id": "a", "timeout_s": 10}, {"id": "b"}]}


def refusal(document: Any, patch: Any) -> JsonPatchError:
    with pytest.raises(JsonPatchError) as caught:
        apply_patch(document, patch)
    return caught.value


def test_add_sets_a_member_and_inserts_into_a_list_or_appends_with_a_dash() -> None:
    patched = apply_patch(
        DOC,
        [
            {"op": "add", "path": "/steps/0/retry", "value": {"max_attempts": 8}},
            {"op": "add", "path": "/steps/1", "value": {"id": "between"}},
            {"op": "add", "path": "/steps/-", "value": {"id": "last"}},
        ],
    )

    assert patched["steps"][0]["retry"] == {"max_attempts": 8}
    assert [s["id"] for s in patched["steps"]] == ["a", "between", "b", "last"]


def test_the_document_given_is_never_changed() -> None:
    before = repr(DOC)

    apply_patch(DOC, [{"op": "replace", "path": "/steps/0/timeout_s", "value": 60}, {"op": "remove", "path": "/name"}])

    assert repr(DOC) == before


def test_remove_drops_a_member_or_a_list_item() -> None:
    patched = apply_patch(DOC, [{"op": "remove", "path": "/steps/0"}, {"op": "remove", "path": "/name"}])

    assert patched == {"steps": [{"id": "b"}]}


def test_replace_changes_an_existing_value_and_refuses_a_missing_one() -> None:
    patched = apply_patch(DOC, [{"op": "replace", "path": "/steps/0/timeout_s", "value": 60}])

    assert patched["steps"][0]["timeout_s"] == 60
    assert refusal(DOC, [{"op": "replace", "path": "/steps/1/timeout_s", "value": 60}]).code == "path_not_found"


def test_replace_of_the_root_replaces_the_whole_document() -> None:
    assert apply_patch(DOC, [{"op": "replace", "path": "", "value": {"x": 1}}]) == {"x": 1}


def test_move_takes_a_value_from_one_place_to_another() -> None:
    patched = apply_patch(DOC, [{"op": "move", "from": "/steps/0/timeout_s", "path": "/steps/1/timeout_s"}])

    assert patched["steps"] == [{"id": "a"}, {"id": "b", "timeout_s": 10}]


def test_move_into_its_own_member_is_refused() -> None:
    error = refusal(DOC, [{"op": "move", "from": "/steps", "path": "/steps/0/inner"}])

    assert error.code == "move_into_itself"


def test_copy_duplicates_a_value_independently() -> None:
    patched = apply_patch(
        DOC,
        [
            {"op": "copy", "from": "/steps/0", "path": "/steps/-"},
            {"op": "replace", "path": "/steps/2/id", "value": "c"},
        ],
    )

    assert [s["id"] for s in patched["steps"]] == ["a", "b", "c"]


def test_test_passes_on_an_equal_value_and_fails_the_whole_patch_otherwise() -> None:
    passing = [{"op": "test", "path": "/steps/0/timeout_s", "value": 10.0}, {"op": "remove", "path": "/name"}]
    failing = [{"op": "remove", "path": "/name"}, {"op": "test", "path": "/steps/0/timeout_s", "value": 11}]

    assert "name" not in apply_patch(DOC, passing)
    error = refusal(DOC, failing)
    assert (error.code, error.index) == ("test_failed", 1)


def test_a_boolean_never_equals_a_number_in_test() -> None:
    assert refusal({"x": 1}, [{"op": "test", "path": "/x", "value": True}]).code == "test_failed"


def test_pointer_escapes_read_tilde_one_as_slash_and_tilde_zero_as_tilde() -> None:
    document = {"headers": {"a/b": 1, "m~n": 2, "~1": 3}}

    patched = apply_patch(
        document,
        [
            {"op": "replace", "path": "/headers/a~1b", "value": 10},
            {"op": "replace", "path": "/headers/m~0n", "value": 20},
            {"op": "replace", "path": "/headers/~01", "value": 30},
        ],
    )

    assert patched == {"headers": {"a/b": 10, "m~n": 20, "~1": 30}}
    assert parse_pointer("") == [] and parse_pointer("/") == [""]


@pytest.mark.parametrize(
    ("patch", "code"),
    [
        ({"op": "add"}, "patch_not_a_list"),
        (["add"], "invalid_operation"),
        ([{"op": "merge", "path": "/x"}], "unknown_operation"),
        ([{"op": "add", "path": "/x"}], "missing_member"),
        ([{"op": "move", "path": "/x"}], "missing_member"),
        ([{"op": "add", "path": "x", "value": 1}], "invalid_pointer"),
        ([{"op": "add", "path": "/a~2", "value": 1}], "invalid_pointer"),
        ([{"op": "add", "path": 3, "value": 1}], "invalid_pointer"),
        ([{"op": "add", "path": "/steps/01", "value": 1}], "invalid_index"),
        ([{"op": "add", "path": "/steps/x", "value": 1}], "invalid_index"),
        ([{"op": "add", "path": "/steps/3", "value": 1}], "index_out_of_range"),
        ([{"op": "remove", "path": "/steps/2"}], "index_out_of_range"),
        ([{"op": "remove", "path": "/steps/-"}], "invalid_index"),
        ([{"op": "add", "path": "/nowhere/x", "value": 1}], "path_not_found"),
        ([{"op": "add", "path": "/name/x", "value": 1}], "path_not_found"),
        ([{"op": "remove", "path": ""}], "cannot_remove_root"),
    ],
)
def test_a_malformed_or_inapplicable_patch_is_refused_with_a_stable_code(patch: Any, code: str) -> None:
    assert refusal(DOC, patch).code == code


def test_a_patch_and_a_pointer_are_bounded() -> None:
    too_many = [{"op": "test", "path": "/name", "value": "flow"}] * (MAX_OPS + 1)
    too_deep = [{"op": "add", "path": "/a" * (MAX_DEPTH + 1), "value": 1}]

    assert refusal(DOC, too_many).code == "patch_too_long"
    assert refusal(DOC, too_deep).code == "pointer_too_deep"
    assert refusal(DOC, [{"op": "add", "path": "/" + "a" * 2_000, "value": 1}]).code == "pointer_too_long"


def test_the_error_names_the_operation_that_failed() -> None:
    error = refusal(DOC, [{"op": "remove", "path": "/name"}, {"op": "remove", "path": "/name"}])

    assert error.index == 1 and str(error).startswith("operation 1:")


def test_replace_keeps_the_member_in_its_place() -> None:
    document = {"id": "call", "timeout_s": 10, "url": "https://example.com"}

    patched = apply_patch(document, [{"op": "replace", "path": "/timeout_s", "value": 30}])

    assert list(patched) == ["id", "timeout_s", "url"]
    assert patched["timeout_s"] == 30

"""JSON Patch (RFC 6902) over JSON Pointers (RFC 6901): add, remove, replace, move, copy and test, applied to a
copy of a document. Pure and bounded: a patch holds at most MAX_OPS operations, a pointer at most MAX_DEPTH
tokens, so a patch from a stranger (or a model) costs little before it is refused. Every refusal is a
`JsonPatchError` with a stable code and the operation's position."""

import copy
from typing import Any

MAX_OPS = 50
MAX_DEPTH = 32
MAX_POINTER_CHARS = 1_000
OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


class JsonPatchError(ValueError):
    """Why a patch does not apply: `code` is stable (clients branch on it), `index` is the operation's position."""

    def __init__(self, code: str, message: str, index: int | None = None) -> None:
        super().__init__(message if index is None else f"operation {index}: {message}")
        self.code, self.index = code, index


def apply_patch(document: Any, patch: Any) -> Any:
    """`document` with every operation of `patch` applied in order, as a new value (the input is never changed);
    JsonPatchError when the patch is malformed, too large, or an operation does not apply."""
    if not isinstance(patch, list):
        raise JsonPatchError("patch_not_a_list", "a JSON Patch is a list of operations")
    if len(patch) > MAX_OPS:
        raise JsonPatchError("patch_too_long", f"a patch holds at most {MAX_OPS} operations")
    result = copy.deepcopy(document)
    for index, operation in enumerate(patch):
        try:
            result = _apply(result, operation)
        except JsonPatchError as err:
            raise JsonPatchError(err.code, str(err), index) from None
    return result


def parse_pointer(pointer: Any) -> list[str]:
    """The reference tokens of a JSON Pointer (`~1` reads `/`, `~0` reads `~`); `""` is the whole document."""
    if not isinstance(pointer, str):
        raise JsonPatchError("invalid_pointer", "a JSON Pointer is a string")
    if len(pointer) > MAX_POINTER_CHARS:
        raise JsonPatchError("pointer_too_long", f"a JSON Pointer has at most {MAX_POINTER_CHARS} characters")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError("invalid_pointer", f"{pointer!r} does not start with '/'")
    tokens = pointer[1:].split("/")
    if len(tokens) > MAX_DEPTH:
        raise JsonPatchError("pointer_too_deep", f"a JSON Pointer has at most {MAX_DEPTH} tokens")
    for token in tokens:
        if "~" in token.replace("~0", "").replace("~1", ""):
            raise JsonPatchError("invalid_pointer", f"{pointer!r} has a '~' not followed by 0 or 1")
    return [token.replace("~1", "/").replace("~0", "~") for token in tokens]


def _apply(document: Any, operation: Any) -> Any:
    if not isinstance(operation, dict):
        raise JsonPatchError("invalid_operation", "an operation is a JSON object")
    op = operation.get("op")
    if op not in OPS:
        raise JsonPatchError("unknown_operation", f"unknown op {op!r}; expected one of {', '.join(sorted(OPS))}")
    path = parse_pointer(_member(operation, "path"))
    match op:
        case "add":
            return _add(document, path, copy.deepcopy(_member(operation, "value")))
        case "remove":
            return _remove(document, path)[0]
        case "replace":
            value = copy.deepcopy(_member(operation, "value"))
            _get(document, path)
            return _replace(document, path, value) if path else value
        case "move":
            source = parse_pointer(_member(operation, "from"))
            if path[: len(source)] == source and path != source:
                raise JsonPatchError("move_into_itself", "a value cannot be moved into one of its own members")
            document, value = _remove(document, source)
            return _add(document, path, value)
        case "copy":
            value = copy.deepcopy(_get(document, parse_pointer(_member(operation, "from"))))
            return _add(document, path, value)
        case _:  # test
            if not _equal(_get(document, path), _member(operation, "value")):
                raise JsonPatchError("test_failed", f"the value at {operation['path']!r} is not the expected one")
            return document


def _member(operation: dict[str, Any], name: str) -> Any:
    if name not in operation:
        raise JsonPatchError("missing_member", f"a {operation['op']!r} operation needs {name!r}")
    return operation[name]


def _get(document: Any, path: list[str]) -> Any:
    value = document
    for token in path:
        if isinstance(value, dict):
            if token not in value:
                raise JsonPatchError("path_not_found", f"no member {token!r}")
            value = value[token]
        elif isinstance(value, list):
            value = value[_index(value, token, allow_end=False)]
        else:
            raise JsonPatchError("path_not_found", f"cannot look up {token!r} in a scalar")
    return value


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(document, path[:-1])
    token = path[-1]
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, allow_end=True), value)
    else:
        raise JsonPatchError("path_not_found", f"cannot add {token!r} to a scalar")
    return document


def _replace(document: Any, path: list[str], value: Any) -> Any:
    """The document with the existing value at `path` replaced where it stands (a member keeps its place)."""
    parent = _get(document, path[:-1])
    if isinstance(parent, list):
        parent[_index(parent, path[-1], allow_end=False)] = value
    else:
        parent[path[-1]] = value
    return document


def _remove(document: Any, path: list[str]) -> tuple[Any, Any]:
    """The document without the value at `path`, and that value."""
    if not path:
        raise JsonPatchError("cannot_remove_root", "the whole document cannot be removed")
    parent = _get(document, path[:-1])
    token = path[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise JsonPatchError("path_not_found", f"no member {token!r}")
        return document, parent.pop(token)
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, token, allow_end=False))
    raise JsonPatchError("path_not_found", f"cannot remove {token!r} from a scalar")


def _index(array: list[Any], token: str, *, allow_end: bool) -> int:
    """A list position: digits without leading zeros, or `-` (just past the end) where adding allows it."""
    if token == "-" and allow_end:
        return len(array)
    if not token.isdigit() or not token.isascii() or (len(token) > 1 and token[0] == "0"):
        raise JsonPatchError("invalid_index", f"{token!r} is not a list index")
    position = int(token)
    if position > len(array) or (position == len(array) and not allow_end):
        raise JsonPatchError("index_out_of_range", f"index {position} is past the end of a list of {len(array)}")
    return position


def _equal(left: Any, right: Any) -> bool:
    """JSON equality: 1 equals 1.0, but a boolean is never a number."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and bool(left == right)

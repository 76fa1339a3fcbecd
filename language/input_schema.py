"""A definition's `input_schema`: what a stored one must be, and the validator every start checks input with.

Tenants write these schemas and strangers send the input, so both stay bounded: every `pattern` (and
`patternProperties` key) is matched by RE2, in linear time, never by Python's backtracking `re`; `$ref`s
must resolve inside the schema or to a JSON Schema meta-schema (nothing is fetched); the nesting is capped.
"""

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import re2
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from language.issues import ValidationIssue, error, json_path
from schemas.i18n import tr

MAX_SCHEMA_DEPTH = 32
_REF_KEYWORDS = ("$ref", "$dynamicRef")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to its author, not to stderr


class InputSchemaError(ValueError):
    """A stored input_schema that cannot check input (stored before a rule, or broken)."""


def input_schema_issues(schema: Any) -> list[ValidationIssue]:
    """Every reason `schema` cannot check input: not a draft 2020-12 schema, nested too deep, a pattern
    RE2 does not run, a `$ref` that resolves nowhere here."""
    if _depth(schema) > MAX_SCHEMA_DEPTH:
        message = tr("`input_schema` may nest at most %(limit)s levels deep.", limit=MAX_SCHEMA_DEPTH)
        return [error("$.input_schema", "invalid_input_schema", message)]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = err.json_path.replace("$", "input_schema", 1)
        message = tr(
            "`input_schema` is not a valid JSON Schema (draft 2020-12) at %(where)s: %(problem)s.",
            where=where,
            problem=err.message,
        )
        return [error("$.input_schema", "invalid_input_schema", message)]
    except RecursionError:  # the meta-schema compiles each pattern with Python's re, which recurses per group
        message = tr("`input_schema` holds a pattern nested too deeply to check.")
        return [error("$.input_schema", "invalid_input_schema", message)]
    return _pattern_issues(schema) + _ref_issues(schema)


def input_validator(schema: dict[str, Any]) -> Validator:
    """The validator of a checked schema; InputSchemaError when the schema breaks a rule above."""
    issues = input_schema_issues(schema)
    if issues:
        raise InputSchemaError(issues[0].message)
    return _LinearValidator(schema, registry=Registry())  # no retrieval: remote refs never fetch


def cached_input_validator(schema: dict[str, Any]) -> Validator:
    """`input_validator`, built once per schema object: a stored version's definition is parsed once per
    process (domain.definitions.parsed_version), so each version's schema is compiled once."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        try:
            cached = (schema, input_validator(schema))
        except InputSchemaError as err:
            cached = (schema, err)
        if len(_VALIDATORS) >= _MAX_CACHED:
            _VALIDATORS.clear()
        _VALIDATORS[id(schema)] = cached  # holds the schema, so its id is not reused while cached
    if isinstance(cached[1], InputSchemaError):
        raise cached[1]
    return cached[1]


_MAX_CACHED = 1024
_VALIDATORS: dict[int, tuple[dict[str, Any], Validator | InputSchemaError]] = {}


def _pattern(
    validator: Validator, pattern: str, instance: Any, _schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and _compiled(pattern).search(instance) is None:
        yield ValidationError(f"does not match the pattern {pattern!r}")


def _pattern_properties(
    validator: Validator, patterns: Mapping[str, Any], instance: Any, _schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        regex = _compiled(pattern)
        for name, value in instance.items():
            if regex.search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(
    validator: Validator, additional: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    properties, patterns = schema.get("properties", {}), [_compiled(p) for p in schema.get("patternProperties", {})]
    extras = [name for name in instance if name not in properties and not any(regex.search(name) for regex in patterns)]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif additional is False and extras:
        listing = ", ".join(repr(name) for name in sorted(extras)[:10])
        yield ValidationError(f"Additional properties are not allowed ({listing} unexpected)")


_LinearValidator = validators.extend(
    Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _RE2_OPTIONS)


def _depth(value: Any, level: int = 0) -> int:
    """How deep `value` nests, counted no further than just past the cap."""
    if level > MAX_SCHEMA_DEPTH or not isinstance(value, dict | list):
        return level
    items = value.values() if isinstance(value, dict) else value
    return max((_depth(item, level + 1) for item in items), default=level + 1)


def _subschemas(schema: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Resource[Any]]]:
    """Every subschema with its path, as JSON Schema (draft 2020-12) defines them (not `const` or `default`
    values that merely look like schemas)."""
    paths = dict(_paths(schema, path))
    pending = [DRAFT202012.create_resource(schema)]
    while pending:
        resource = pending.pop()
        yield paths.get(id(resource.contents), path), resource
        pending.extend(resource.subresources())


def _paths(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[int, tuple[str | int, ...]]]:
    yield id(value), path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _pattern_issues(schema: Any) -> list[ValidationIssue]:
    issues = []
    for path, resource in _subschemas(schema, ("input_schema",)):
        contents = resource.contents
        if not isinstance(contents, dict):
            continue
        found = [(path + ("pattern",), contents["pattern"])] if isinstance(contents.get("pattern"), str) else []
        properties = contents.get("patternProperties")
        found += (
            [(path + ("patternProperties", key), key) for key in properties] if isinstance(properties, dict) else []
        )
        for where, pattern in found:
            try:
                _compiled(pattern)
            except re2.error as err:
                message = tr(
                    "Pattern %(pattern)s is not supported: patterns are matched in linear time (RE2 syntax: no "
                    "lookaround or backreferences) and this one fails with: %(problem)s.",
                    pattern=repr(pattern),
                    problem=str(err),
                )
                issues.append(error(json_path(*where), "unsupported_pattern", message))
        if isinstance(properties, dict) and "unevaluatedProperties" in contents:
            message = tr(
                "`unevaluatedProperties` beside `patternProperties` is not supported; use `additionalProperties`."
            )
            issues.append(error(json_path(*path, "unevaluatedProperties"), "unsupported_keyword", message))
    return issues


def _ref_issues(schema: Any) -> list[ValidationIssue]:
    """A `$ref` must resolve within the schema or to a meta-schema: remote documents are never fetched."""
    issues = []
    root = DRAFT202012.create_resource(schema)
    # Each subschema resolves relative to the `$id`s around it: its parent's scope, entered.
    resolvers = {id(schema): SPECIFICATIONS.resolver_with_root(root)}
    # Subschemas applied to the same value (in place): a loop of them never ends.
    in_place: dict[int, list[int]] = {}
    refs: dict[int, tuple[tuple[str | int, ...], str]] = {}
    for path, resource in _subschemas(schema, ("input_schema",)):
        contents = resource.contents
        resolver = resolvers[id(contents)]
        for child in resource.subresources():
            resolvers[id(child.contents)] = resolver.in_subresource(child)
        if not isinstance(contents, dict):
            continue
        in_place[id(contents)] = _in_place_children(contents)
        for keyword in _REF_KEYWORDS:
            ref = contents.get(keyword)
            if not isinstance(ref, str):
                continue
            try:
                target = resolver.lookup(ref).contents
            except (Unresolvable, ValueError):  # ValueError: a reference that is no URI at all
                message = tr(
                    "`%(keyword)s` %(ref)s does not resolve: it must point inside this schema (remote references "
                    "are not fetched).",
                    keyword=keyword,
                    ref=repr(ref),
                )
                issues.append(error(json_path(*path, keyword), "unresolvable_ref", message))
            else:
                in_place[id(contents)].append(id(target))
                refs[id(contents)] = ((*path, keyword), ref)
    looping = _on_loops(in_place)
    for key, (where, ref) in refs.items():
        if key in looping:
            message = tr(
                "`$ref` %(ref)s leads back to itself without reading into the input, so a check would never end.",
                ref=repr(ref),
            )
            issues.append(error(json_path(*where), "ref_loop", message))
    return issues


def _in_place_children(contents: dict[str, Any]) -> list[int]:
    children = [contents.get(key) for key in ("not", "if", "then", "else")]
    for key in ("allOf", "anyOf", "oneOf"):
        children += contents.get(key) or []
    children += (contents.get("dependentSchemas") or {}).values()
    return [id(child) for child in children if isinstance(child, dict)]


def _on_loops(edges: dict[int, list[int]]) -> set[int]:
    """The nodes on a cycle of `edges` (iteratively: Tarjan's strongly connected components)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    looping: set[int] = set()
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges.get(start, [])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, []):
                    looping.update(component)
    return looping

"""The expression language of definitions: Jinja2's sandbox, never `eval`.

Templates are strings with `{{ ... }}`; expressions are bare Jinja2 expressions. Both see
`input`, `steps` and `vars`; HTTP steps also see `secrets`, which renders to placeholders that only
the activity resolves, so a secret's value never enters workflow history. Evaluation is pure and
deterministic, so workflows call it inline; the validator uses `*_references` to check names before
a definition is stored.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes

from language.sandbox import BoundedEnvironment, OverBudget, budgeted, checked_value, cost_issues, statement_free

ROOT_NAMES = frozenset({"input", "steps", "vars", "secrets"})
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)


class _DataEnvironment(BoundedEnvironment):
    """`steps.fetch.body.items` means the JSON key `items`, not the dict method of that name."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_ENV = _DataEnvironment(undefined=ChainableUndefined, autoescape=False)


class ExpressionError(ValueError):
    """An expression or template that does not parse or cannot be evaluated."""


class ExpressionTooExpensive(ExpressionError):
    """An evaluation over the sandbox's bounds (language/sandbox.py): a step error that no retry heals."""


STATEMENTS_REFUSED = "`{% ... %}` statements are not allowed in step templates; use `{{ ... }}` expressions"


@dataclass(frozen=True)
class References:
    """The root names a text reads, and the members it reads of `steps`, `vars` and `secrets`."""

    roots: frozenset[str] = frozenset()
    steps: frozenset[str] = frozenset()
    unknown: frozenset[str] = field(default_factory=frozenset)
    vars: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()

    def __or__(self, other: "References") -> "References":
        return References(
            *(getattr(self, f) | getattr(other, f) for f in ("roots", "steps", "unknown", "vars", "secrets"))
        )


class SecretPlaceholders(dict[str, str]):
    """The `secrets` of a template scope: `secrets.API_KEY` renders as a placeholder carrying `marker`, not
    the value. Only `names` (those the step's templates name literally) render; reading any other name,
    such as `secrets[input.name]`, fails the template, so data cannot choose which secret is sent."""

    def __init__(self, marker: str, names: frozenset[str]) -> None:
        super().__init__()
        self._marker, self._names = marker, names

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __missing__(self, name: str) -> str:
        if name not in self:
            raise ExpressionError(f"secrets may only be named as `secrets.NAME`; {name!r} is not named so")
        return secret_placeholder(name, self._marker)


def secret_placeholder(name: str, marker: str) -> str:
    """The text the HTTP activity replaces by secret `name` when `marker` is the call's (schemas.runs)."""
    return f"\u27easecret:{marker}:{name}\u27eb"


def secret_references(value: Any) -> frozenset[str]:
    """The secret names the templates inside a JSON value name literally (`secrets.NAME`)."""
    if isinstance(value, str):
        return _template_secrets(value) if "secrets" in value else frozenset()
    items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else []
    return frozenset().union(*(secret_references(item) for item in items))


@lru_cache(maxsize=4096)
def _template_secrets(template: str) -> frozenset[str]:
    return template_references(template).secrets


@lru_cache(maxsize=4096)
def _compiled_expression(source: str) -> Any:
    try:
        return _ENV.compile_expression(source, undefined_to_none=True)
    except TemplateSyntaxError as err:
        raise ExpressionError(f"expression does not parse: {err.message}") from None


@lru_cache(maxsize=4096)
def _compiled_template(source: str) -> Any:
    try:
        tree = _ENV.parse(source)
        if not statement_free(tree):
            raise ExpressionError(STATEMENTS_REFUSED)
        return _ENV.template_class.from_code(_ENV, _ENV.compile(tree), _ENV.make_globals(None), None)
    except TemplateSyntaxError as err:
        raise ExpressionError(f"template does not parse: {err.message}") from None


def evaluate(expression: str, scope: dict[str, Any]) -> Any:
    """The value of a bare expression such as `steps.fetch.status == 200`."""
    try:
        with budgeted():
            return _plain(checked_value(_compiled_expression(expression)(**scope)))
    except OverBudget as err:
        raise ExpressionTooExpensive(f"expression refused: {err}") from None
    except ExpressionError:
        raise
    except Exception as err:  # the sandbox raises SecurityError, TypeError, ZeroDivisionError...
        raise ExpressionError(f"expression failed: {err}") from None


def render(template: str, scope: dict[str, Any]) -> str:
    """A template rendered to text."""
    if "{" not in template:
        return template
    try:
        with budgeted():
            return _compiled_template(template).render(**scope)
    except OverBudget as err:
        raise ExpressionTooExpensive(f"template refused: {err}") from None
    except ExpressionError:
        raise
    except Exception as err:
        raise ExpressionError(f"template failed: {err}") from None


def render_value(value: Any, scope: dict[str, Any]) -> Any:
    """JSON with every string rendered; a string that is one `{{ expr }}` keeps the value's type."""
    if isinstance(value, str):
        single = _SINGLE_EXPRESSION.match(value)
        if single and "{{" not in single.group(1):
            return evaluate(single.group(1), scope)
        return render(value, scope)
    if isinstance(value, list):
        return [render_value(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: render_value(item, scope) for key, item in value.items()}
    return value


def expression_references(expression: str) -> References:
    try:
        tree = _ENV.parse("{{ " + expression + " }}")
    except TemplateSyntaxError as err:
        raise ExpressionError(f"expression does not parse: {err.message}") from None
    return _references(tree)


def template_references(template: str) -> References:
    try:
        tree = _ENV.parse(template)
    except TemplateSyntaxError as err:
        raise ExpressionError(f"template does not parse: {err.message}") from None
    return _references(tree)


def bound_issues(text: str, kind: str) -> list[tuple[str, str]]:
    """(code, message) of what a run would refuse and the validator sees before: statements in a template,
    literal exponents, repetitions and widths over the sandbox's bounds. Unparsable text has none here."""
    try:
        tree = _ENV.parse("{{ " + text + " }}" if kind == "expression" else text)
    except TemplateSyntaxError:
        return []
    found = [] if statement_free(tree) else [("statement_not_allowed", STATEMENTS_REFUSED)]
    return found + [("expression_too_expensive", message) for message in cost_issues(tree)]


def value_references(value: Any) -> References:
    """References of every template inside a JSON value."""
    found = References()
    if isinstance(value, str):
        return template_references(value)
    items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else []
    for item in items:
        found = found | value_references(item)
    return found


def _references(tree: nodes.Template) -> References:
    declared = {target.name for target in tree.find_all(nodes.Name) if target.ctx in ("store", "param")}
    loaded = {name.name for name in tree.find_all(nodes.Name) if name.ctx == "load"} - declared
    members: dict[str, set[str]] = {"steps": set(), "vars": set(), "secrets": set()}
    # find_all types the nodes of a tuple of node types as their common base, Expr.
    accesses = cast(Iterator[nodes.Getattr | nodes.Getitem], tree.find_all((nodes.Getattr, nodes.Getitem)))
    for access in accesses:
        root = access.node
        if isinstance(root, nodes.Name) and root.name in members and root.name not in declared:
            if isinstance(access, nodes.Getattr):
                members[root.name].add(access.attr)
            elif isinstance(access.arg, nodes.Const) and isinstance(access.arg.value, str):
                members[root.name].add(access.arg.value)
    return References(
        roots=frozenset(loaded & ROOT_NAMES),
        steps=frozenset(members["steps"]),
        unknown=frozenset(loaded - ROOT_NAMES - set(_ENV.globals)),
        vars=frozenset(members["vars"]),
        secrets=frozenset(members["secrets"]),
    )


def _plain(value: Any) -> Any:
    """Jinja's undefined becomes None; everything else is kept as it is."""
    if isinstance(value, ChainableUndefined):
        return None
    return value

"""The bounds of the expression sandbox: what one evaluation may cost in time and memory.

Definitions come from tenants and their data from strangers, and expressions run inside the worker (in
the API process by default), so every evaluation is bounded: no statements (so no loops), operators,
method calls, filters and tests are intercepted, each value they make is capped (text, list length,
integer size), and each evaluation has a budget of work units charged by the size of what every
operation reads and makes. The count is of operations, never of time, so a replay decides the same.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from string import Formatter
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Texts, lists and dicts an expression makes: at most this many characters or items (a rendered template too).
MAX_VALUE_SIZE = 512 * 1024
MAX_INT_BITS = 14_000  # about 4,200 digits: Python turns at most 4,300 into text
# Work units of one evaluation: each operation costs 1 plus the sizes of what it reads and makes.
EVALUATION_BUDGET = 10_000_000
# Filters whose integer arguments are widths or counts of what they make.
_SIZED_FILTERS = frozenset({"center", "indent", "batch", "slice", "truncate", "wordwrap"})
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})
# Matched at one position each, so a scan stays linear in the text (which may be a stranger's).
_PERCENT_SPEC = re.compile(r"[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_NUMBER = re.compile(r"\d+")
_budget: ContextVar[list[int] | None] = ContextVar("expression_budget", default=None)


class OverBudget(ValueError):
    """An evaluation that would exceed a bound; `language.expressions` raises it as ExpressionTooExpensive."""


@contextmanager
def budgeted() -> Iterator[None]:
    """One evaluation's budget, for whatever the sandbox runs inside the block."""
    token = _budget.set([EVALUATION_BUDGET])
    try:
        yield
    finally:
        _budget.reset(token)


def charge(units: int) -> None:
    remaining = _budget.get()
    if remaining is None:
        return  # compile-time constant folding: the caps apply, the budget starts with the evaluation
    remaining[0] -= units
    if remaining[0] < 0:
        raise OverBudget(f"the expression does too much work (over {EVALUATION_BUDGET:,} units)")


def size(value: Any) -> int:
    """A value's shallow size: characters of text, items of a collection; 0 otherwise."""
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set | frozenset) else 0


def weight(value: Any, limit: int = MAX_VALUE_SIZE) -> int:
    """About how much text `value` becomes (its nested texts and items), counted no further than `limit`."""
    total, pending = 0, [value]
    while pending and total <= limit:
        item = pending.pop()
        if isinstance(item, str | bytes):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + 2 * len(item)
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            pending.extend(item)
        else:
            total += 8
    return total


def checked(value: Any) -> Any:
    """`value` when within the caps; charged to the budget."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise OverBudget(f"a number in the expression has more than {MAX_INT_BITS} bits")
    made = size(value)
    if made > MAX_VALUE_SIZE:
        raise OverBudget(f"a value in the expression is larger than {MAX_VALUE_SIZE:,} characters or items")
    charge(1 + made)
    return value


def _text_weight(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes) else weight(value)


def checked_value(value: Any) -> Any:
    """An expression's value, which a run keeps in its history: within the cap as a whole."""
    _refuse_large("the value", weight(value))
    return value


def _refuse_large(what: str, amount: int) -> None:
    if amount > MAX_VALUE_SIZE:
        raise OverBudget(f"{what} would make more than {MAX_VALUE_SIZE:,} characters or items")


def check_percent_format(template: Any) -> None:
    """`'%999999999d' % 1` and `|format` would pad far past the cap."""
    if not isinstance(template, str):
        return
    position = template.find("%")
    while position != -1:
        position += 1
        if template.startswith("%", position):
            position = template.find("%", position + 1)
            continue
        if template.startswith("(", position):
            position = _key_end(template, position)
            if position == -1:
                return  # an unclosed key: Python refuses the format before anything after it
        spec = _PERCENT_SPEC.match(template, position)
        assert spec is not None  # every part of the pattern is optional
        for number in spec.groups():
            if number == "*":
                raise OverBudget("`*` widths are not allowed in % formats")
            if number is not None:
                _refuse_width("a % format width", number)
        position = template.find("%", spec.end())


def _key_end(template: str, opening: int) -> int:
    """Just past the `)` closing the mapping key opened at `opening` (keys may nest parentheses); -1 if none."""
    depth = 0
    for position in range(opening, len(template)):
        depth += {"(": 1, ")": -1}.get(template[position], 0)
        if depth == 0:
            return position + 1
    return -1


def _refuse_width(what: str, digits: str) -> None:
    if len(digits) > 7:
        raise OverBudget(f"{what} would make more than {MAX_VALUE_SIZE:,} characters or items")
    _refuse_large(what, int(digits))


def check_brace_format(template: str) -> None:
    """`'{:>999999999}'.format(1)`: literal widths are capped; widths taken from arguments are refused."""
    try:
        fields = list(Formatter().parse(template))  # Python's own parser of the format, linear
    except ValueError:
        return  # Python refuses the format itself
    for _text, _name, spec, _conversion in fields:
        if spec and "{" in spec:
            raise OverBudget("format widths taken from arguments (`{:>{}}`) are not allowed")
        for number in _FORMAT_NUMBER.findall(spec or ""):
            _refuse_width("a format width", number)


def _binop_precheck(operator: str, left: Any, right: Any) -> None:
    if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
        _refuse_bits(left.bit_length() * right)
    elif operator == "*":
        if isinstance(left, int) and isinstance(right, int):
            _refuse_bits(left.bit_length() + right.bit_length())
        elif isinstance(right, int) and size(left):
            _refuse_large("a repetition", _text_weight(left) * right)
        elif isinstance(left, int) and size(right):
            _refuse_large("a repetition", _text_weight(right) * left)
    elif operator == "+" and size(left) and size(right):
        _refuse_large("a concatenation", weight(left) + weight(right))
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left)
        _refuse_large("a % format", weight(right) + len(left))


def _refuse_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise OverBudget(f"a number in the expression would have more than {MAX_INT_BITS} bits")


def _call_precheck(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Checks of str methods whose arguments say how much they make."""
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    if not isinstance(owner, str):
        return
    numbers = [value for value in (*args, *kwargs.values()) if isinstance(value, int)]
    if name in _WIDTH_METHODS:
        _refuse_large(f"`{name}`", max(numbers, default=0))
    elif name == "expandtabs":
        _refuse_large("`expandtabs`", len(owner) + owner.count("\t") * max(numbers, default=8))
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        _refuse_large("`replace`", _replaced_size(owner, args[0], args[1]))
    elif name == "join" and args:
        _refuse_large("`join`", len(owner) * max(size(args[0]) - 1, 0) + weight(args[0]))


def _replaced_size(text: str, old: str, new: str) -> int:
    if len(new) <= len(old):
        return len(text)
    count = text.count(old) if old else len(text) + 1
    return len(text) + count * (len(new) - len(old))


def _filter_precheck(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    value, rest = (args[0] if args else None), (*args[1:], *kwargs.values())
    numbers = [item for item in rest if isinstance(item, int)]
    if name in _SIZED_FILTERS and name != "truncate":
        _refuse_large(f"`{name}`", max(numbers, default=0))
    if name == "indent" and isinstance(value, str):
        width = max([*numbers, *(len(item) for item in rest if isinstance(item, str))], default=4)
        _refuse_large("`indent`", len(value) + width * (value.count("\n") + 1))
    elif name == "wordwrap" and isinstance(value, str):
        width = max(numbers[0] if numbers else 79, 1)
        longest = max(map(len, value.split()), default=0)
        charge(len(value) + longest * (longest // width))  # a long word is re-sliced per line: quadratic
    elif name == "format":
        check_percent_format(value)
        _refuse_large("`format`", weight(rest) + size(value))
    elif name == "join" and value is not None:
        separator = next((item for item in rest if isinstance(item, str)), "")
        _refuse_large("`join`", weight(value) + len(separator) * size(value))
    elif name == "replace" and len(rest) >= 2 and isinstance(value, str):
        old, new = rest[0], rest[1]
        if isinstance(old, str) and isinstance(new, str):
            _refuse_large("`replace`", _replaced_size(value, old, new))
    elif name in ("string", "tojson", "pprint", "urlize", "xmlattr"):
        _refuse_large(f"`{name}`", weight(value))


def bounded(name: str, function: Callable[..., Any], passes_arg: bool, is_filter: bool) -> Callable[..., Any]:
    """A filter or test with its arguments checked first and what it makes charged after."""

    @wraps(function)  # keeps `jinja_pass_arg`, so Jinja still passes the context or environment
    def call(*args: Any, **kwargs: Any) -> Any:
        operands = args[1:] if passes_arg else args
        if is_filter:
            _filter_precheck(name, operands, kwargs)
        charge(1 + sum(size(item) for item in operands))
        return checked(function(*args, **kwargs))

    return call


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles `~` to the environment's bounded `concat` instead of an unbounded join."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with every operator, call, filter and test bounded (module docstring); immutable, so an
    expression cannot grow the run's data in place (`x.extend(x)`)."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, finalize=_finalize, **kwargs)
        self.globals.pop("lipsum", None)  # its size and its randomness are the caller's
        self.filters.pop("random", None)  # not deterministic: a replay would choose differently
        for table, is_filter in ((self.filters, True), (self.tests, False)):
            for name, function in list(table.items()):
                table[name] = bounded(name, function, hasattr(function, "jinja_pass_arg"), is_filter)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _binop_precheck(operator, left, right)
        charge(1 + size(left) + size(right))
        return checked(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _call_precheck(__obj, args, kwargs)
        charge(1 + sum(size(item) for item in args))
        return checked(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        charge(1)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        charge(1)
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        template: str = value.__self__

        @wraps(formatter)
        def format_bounded(*args: Any, **kwargs: Any) -> str:
            check_brace_format(template)
            _refuse_large("a format", len(template) + weight(args) + weight(kwargs))
            return checked(formatter(*args, **kwargs))

        return format_bounded

    def concat(self, values: Iterable[Any]) -> str:
        """A template's output, and `a ~ b`: text within the cap, counted as it grows."""
        parts, total = [], 0
        for value in values:
            text = value if isinstance(value, str) else _text(value)
            total += len(text)
            _refuse_large("the text", total)
            parts.append(text)
        charge(1 + total)
        return "".join(parts)


def _text(value: Any) -> str:
    _refuse_large("a value turned into text", weight(value))
    return str(value)


def _finalize(value: Any) -> Any:
    """Each `{{ ... }}` of a template, before it turns into text."""
    _refuse_large("a value turned into text", weight(value))
    return value


def statement_free(tree: nodes.Template) -> bool:
    """Whether a parsed template is only text and `{{ ... }}` (no `{% ... %}` statements)."""
    return all(isinstance(node, nodes.Output) for node in tree.body)


def cost_issues(tree: nodes.Node) -> list[str]:
    """What the validator can see is over a bound before anything runs: constant exponents, repetitions,
    widths and counts."""
    found = []
    for node in tree.find_all((nodes.Pow, nodes.Mul, nodes.Filter, nodes.Call, nodes.Mod)):
        try:
            _static_check(node)
        except OverBudget as err:
            found.append(str(err))
    return found


def _static_check(node: nodes.Node) -> None:
    if isinstance(node, nodes.Pow | nodes.Mul | nodes.Mod):
        left, right = _constant(node.left), _constant(node.right)
        operator = {nodes.Pow: "**", nodes.Mul: "*", nodes.Mod: "%"}[type(node)]
        if operator == "%" and isinstance(left, str):
            check_percent_format(left)
        elif left is not None and right is not None:
            _binop_precheck(operator, left, right)
    elif isinstance(node, nodes.Filter) and node.name in _SIZED_FILTERS:
        numbers = [value for value in map(_constant, node.args) if isinstance(value, int)]
        _refuse_large(f"`{node.name}`", max(numbers, default=0))
    elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        owner, name = _constant(node.node.node), node.node.attr
        numbers = [value for value in map(_constant, node.args) if isinstance(value, int)]
        if name in _WIDTH_METHODS or name == "expandtabs":
            _refuse_large(f"`{name}`", max(numbers, default=0))
        elif name in ("format", "format_map") and isinstance(owner, str):
            check_brace_format(owner)


def _constant(node: nodes.Node) -> Any:
    """The value of a literal (numbers, text, `10 ** 9` of literals); None when not a literal."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg):
        inner = _constant(node.node)
        return -inner if isinstance(inner, int) else None
    if isinstance(node, nodes.Pow):
        base, exponent = _constant(node.left), _constant(node.right)
        if isinstance(base, int) and isinstance(exponent, int) and 0 <= exponent:
            if abs(base) <= 1 or base.bit_length() * exponent <= MAX_INT_BITS:
                return base**exponent
            raise OverBudget(f"a number in the expression would have more than {MAX_INT_BITS} bits")
    return None

"""UserWorkflowRun runs outside the workflow sandbox (for speed), so nothing checks at run time that its code
stays deterministic. This test does it statically: every module of ours that the workflow module imports,
directly or through others, may import only an allowed set of modules, and none calls a clock, randomness,
the environment or a file. Activities are imported by the workflow only to name their methods: they run in
the worker, outside the workflow, and are left out. The replay tests guard the command sequence itself."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_MODULE = "orchestrator.user_run"
OURS = ("language", "rules", "schemas", "orchestrator", "core", "domain", "starters", "api")
REFERENCED_ONLY = ("activities",)  # imported for their method names, run outside the workflow
ALLOWED = {
    "__future__",
    "asyncio",  # CancelledError, and Temporal's own event loop underneath
    "collections",
    "contextlib",
    "contextvars",
    "dataclasses",
    "datetime",  # the types; calls to now/today are refused below
    "functools",
    "jinja2",  # sandboxed templates, without the random filter (language/sandbox.py)
    "math",
    "pydantic",
    "re",
    "string",
    "temporalio",
    "typing",
}
# Attribute calls that read a clock, randomness or the environment; `workflow.now()` and `workflow.uuid4()`
# are Temporal's deterministic ones and allowed.
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "perf_counter", "monotonic", "uuid1", "uuid4", "getenv"}
FORBIDDEN_NAMES = {"open", "input", "print", "breakpoint"}


def module_path(module: str) -> Path | None:
    for path in (ROOT / f"{module.replace('.', '/')}.py", ROOT / module.replace(".", "/") / "__init__.py"):
        if path.exists():
            return path
    return None


def imported(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def workflow_closure() -> dict[str, ast.Module]:
    """Every module of ours the workflow module reaches through imports, parsed."""
    found: dict[str, ast.Module] = {}
    todo = [WORKFLOW_MODULE]
    while todo:
        module = todo.pop()
        path = module_path(module)
        if module in found or path is None:
            continue
        found[module] = tree = ast.parse(path.read_text(), filename=str(path))
        todo += [name for name in imported(tree) if name.split(".")[0] in OURS]
    return found


def problems(module: str, tree: ast.Module) -> list[str]:
    """What in `tree` could make a replay differ: a module outside the allowed set, or a nondeterministic call."""
    found = []
    for name in imported(tree):
        top = name.split(".")[0]
        if top not in OURS and top not in REFERENCED_ONLY and top not in ALLOWED:
            found.append(f"{module} imports {name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in FORBIDDEN_CALLS:
            receiver = function.value
            if not (isinstance(receiver, ast.Name) and receiver.id == "workflow"):
                found.append(f"{module}:{node.lineno} calls .{function.attr}()")
        if isinstance(function, ast.Name) and function.id in FORBIDDEN_NAMES:
            found.append(f"{module}:{node.lineno} calls {function.id}()")
    return found


def test_the_unsandboxed_workflow_reaches_only_deterministic_code() -> None:
    closure = workflow_closure()
    assert {"language.steps", "language.expressions", "schemas.runs"} <= set(closure)  # the walk found the language
    assert not any(module.startswith(REFERENCED_ONLY) for module in closure)
    assert [problem for module, tree in closure.items() for problem in problems(module, tree)] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from datetime import datetime\nx = datetime.now()", "m:2 calls .now()"),
        ("import time\n", "m imports time"),
        ("import uuid\nx = uuid.uuid4()", "m imports uuid"),
        ("data = open('f').read()", "m:1 calls open()"),
        ("import os\nx = os.getenv('X')", "m imports os"),
    ],
)
def test_the_check_catches_what_would_break_a_replay(source: str, expected: str) -> None:
    assert expected in problems("m", ast.parse(source))


def test_the_check_allows_temporal_deterministic_calls() -> None:
    source = "from temporalio import workflow\nx = workflow.now()\ny = workflow.uuid4()"
    assert problems("m", ast.parse(source)) == []

"""Prints the layout's figures: files, file and function lengths, and how deep imports stack inside api/.

    .venv/bin/python scripts/layout.py [CHECKOUT]      (default: this checkout)

Counts the application's Python files (tests, benchmarks and migrations left out), their lines, the
lines of every function and method, the `# type: ignore` comments, and the longest chain of imports
from one module of `api/` to another.
"""

import ast
import statistics
import sys
from functools import cache
from pathlib import Path

PACKAGES = (
    "api",
    "activities",
    "core",
    "domain",
    "language",
    "orchestrator",
    "rules",
    "schemas",
    "starters",
    "temporal",
)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def api_imports(root: Path, path: Path, known: set[str]) -> set[str]:
    """The modules of api/ that `path` imports (a `from api.routes import x` names the module x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in known)
    return found - {module_name(root, path)}


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files = sorted(
        p
        for package in PACKAGES
        if (root / package).is_dir()
        for p in (root / package).rglob("*.py")
        if "__pycache__" not in p.parts
    )
    lines = [len(p.read_text().splitlines()) for p in files]
    functions = [
        node.end_lineno - node.lineno + 1
        for p in files
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
    ]
    ignores = sum(p.read_text().count("# type: ignore") for p in files)
    api_files = {module_name(root, p): p for p in files if p.relative_to(root).parts[0] == "api"}
    graph = {name: api_imports(root, path, set(api_files)) for name, path in api_files.items()}

    @cache
    def depth(name: str) -> int:
        return 1 + max((depth(child) for child in graph[name]), default=0)

    print(f"checkout: {root}")
    print(f"files: {len(files)} ({sum(lines)} lines)")
    print(f"file lines: median {statistics.median(lines):.0f}, p90 {percentile(lines, 0.9)}, max {max(lines)}")
    print(
        f"function lines: median {statistics.median(functions):.0f}, p90 {percentile(functions, 0.9)}, "
        f"max {max(functions)} ({len(functions)} functions)"
    )
    print(f"api/ files: {len(api_files)}, import depth inside api/: {max(map(depth, graph), default=0)}")
    print(f"'# type: ignore' comments: {ignores}")


if __name__ == "__main__":
    main()

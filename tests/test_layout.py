"""The layout's import rules, read from the code: each room imports only the rooms below it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("api", "activities", "core", "domain", "language", "orchestrator", "rules", "schemas", "starters", "temporal")
# Which of our packages each package may import (besides itself). See the README's "Where things live".
MAY_IMPORT: dict[str, set[str]] = {
    "schemas": set(),
    "language": {"schemas"},
    "rules": {"schemas", "language"},
    "core": {"schemas", "rules"},
    "activities": {"schemas", "core", "rules"},
    "orchestrator": {"schemas", "core", "language", "rules", "activities"},
    "starters": {"schemas", "core", "language", "orchestrator"},
    "domain": {"schemas", "core", "language", "rules", "starters", "orchestrator"},
    "api": {"schemas", "core", "language", "rules", "starters", "orchestrator", "domain"},
    "temporal": set(),
}
# The worker process wires everything together: it connects and creates the platform schedules.
WIRING = {"orchestrator/worker.py": {"starters"}}
QUERY_LIBRARIES = ("sqlmodel", "sqlalchemy")


def imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, at any depth (function bodies and sandbox pass-through blocks too)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend([node.module] + [f"{node.module}.{alias.name}" for alias in node.names])
    return found


def sources(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_each_package_imports_only_the_packages_below_it(package: str) -> None:
    wrong = []
    for path in sources(package):
        relative = str(path.relative_to(ROOT))
        allowed = MAY_IMPORT[package] | {package} | WIRING.get(relative, set())
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in OURS and top not in allowed:
                wrong.append(f"{relative} imports {module}")
    assert sorted(set(wrong)) == []


def test_routes_run_no_queries_and_import_no_other_route() -> None:
    wrong = []
    for path in sources("api/routes"):
        for module in imported_modules(path):
            if module.split(".")[0] in QUERY_LIBRARIES:
                wrong.append(f"{path.name} imports {module}")
            if module.startswith("api.routes.") and module.count(".") == 2:
                wrong.append(f"{path.name} imports the route module {module}")
    assert sorted(set(wrong)) == []


def test_domain_code_knows_nothing_of_http_frameworks() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources("domain")
        for module in imported_modules(path)
        if module.split(".")[0] in ("fastapi", "starlette")
    ]
    assert wrong == []


def test_the_walk_sees_imports_inside_functions_and_pass_through_blocks(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("with x():\n    from api.routes.runs import a\n\ndef f():\n    import sqlmodel\n")
    assert {"api.routes.runs", "api.routes.runs.a", "sqlmodel"} <= set(imported_modules(sample))

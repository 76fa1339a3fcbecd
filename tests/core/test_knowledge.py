"""The knowledge base: built from the README, the language reference and the templates, kept in step by a sync that
changes only what changed, and searched with PostgreSQL's tsvector and SQLite's FTS5 alike."""

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, make_url, pool, text

from core.db import create_db_engine, migrate
from core.errors import ApiError
from domain.knowledge import build_passages, knowledge_passage, list_knowledge, search_knowledge, sync_knowledge
from domain.knowledge_sources import MAX_PASSAGE_CHARS, readme_passages

README = Path(__file__).resolve().parents[2] / "README.md"
SMALL_README = """# Levqor

Intro text that no heading owns.

## Approval gates

A gate of class B waits for a tenant admin; class C waits for the founder. Rejected runs end as rejected.

## Zebra crossings

Striped crossings where pedestrians have the right of way, a passage about zebras and nothing else.

### Only code

```bash
curl http://localhost:8000/api/health
```
"""


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A newly migrated database of this test's own: a scratch one on the PostgreSQL server, or a SQLite file."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'knowledge.db'}"
        migrate(url)
        engine = create_db_engine(url)
        yield engine
        engine.dispose()
        return
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith("postgresql"):
        pytest.skip("DATABASE_URL names no PostgreSQL server")
    name = f"levqor_knowledge_{uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        engine = create_db_engine(url)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_readme(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "README.md"
    path.write_text(content, encoding="utf-8")
    return path


def test_the_readme_splits_at_its_headings_into_bounded_passages_without_code_only_sections() -> None:
    passages = readme_passages(README.read_text(encoding="utf-8"))

    anchors = [p.anchor for p in passages]
    assert "the-definition-language" in anchors
    assert all(len(p.body) <= MAX_PASSAGE_CHARS for p in passages)
    assert [p.anchor for p in readme_passages(SMALL_README)] == ["approval-gates", "zebra-crossings"]


def test_the_knowledge_base_holds_the_reference_of_every_step_type_with_its_limits() -> None:
    passages = {p.id: p for p in build_passages("")}

    http = passages["reference-step-http_request"]
    assert "`timeout_s`" in http.body and "≤ 300" in http.body
    assert {f"reference-step-{kind}" for kind in ("delay", "log", "email", "condition", "approval", "ai")} <= set(
        passages
    )
    assert http.url == "/app/help/knowledge/reference-step-http_request"


def test_search_finds_the_readme_passage_for_a_question(fresh_engine: Engine, tmp_path: Path) -> None:
    sync_knowledge(fresh_engine, README)

    hits = search_knowledge(fresh_engine, "How do I store a secret and use it in an HTTP request?", limit=5)

    assert hits, "no passage found"
    assert any(hit.source == "readme" and "secrets" in hit.body.lower() for hit in hits)
    assert len(hits) <= 5


def test_search_ranks_the_passage_whose_words_match_first(fresh_engine: Engine, tmp_path: Path) -> None:
    sync_knowledge(fresh_engine, write_readme(tmp_path, SMALL_README))

    hits = search_knowledge(fresh_engine, "zebra crossing pedestrians")

    assert hits[0].id == "readme-zebra-crossings"
    assert hits[0].title == "Zebra crossings"


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "NEAR(approval gate, 2)",
        "title: approval",
        "approval*",
        "a AND OR NOT",
        "'; DROP TABLE knowledge_passage; --",
        "(((gate",
        "-approval +gate ^2",
        "!!!???",
        "",
        "approval " * 300,
        " ".join(f"word{n}" for n in range(40)),
        "承認 ゲート",
    ],
)
def test_search_syntax_in_a_query_never_errors(fresh_engine: Engine, tmp_path: Path, query: str) -> None:
    sync_knowledge(fresh_engine, write_readme(tmp_path, SMALL_README))

    hits = search_knowledge(fresh_engine, query, limit=50)

    assert isinstance(hits, list) and len(hits) <= 20


def test_syncing_twice_changes_nothing_and_a_changed_section_is_rewritten(fresh_engine: Engine, tmp_path: Path) -> None:
    readme = write_readme(tmp_path, SMALL_README)
    first = sync_knowledge(fresh_engine, readme)
    before = {p.id: p for p in list_knowledge(fresh_engine)}

    second = sync_knowledge(fresh_engine, readme)
    readme.write_text(SMALL_README.replace("nothing else", "giraffes too"), encoding="utf-8")
    third = sync_knowledge(fresh_engine, readme)

    assert first.added == len(before) and first.updated == 0
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, len(before))
    assert (third.added, third.updated, third.removed) == (0, 1, 0)
    assert "giraffes" in knowledge_passage(fresh_engine, "readme-zebra-crossings").body
    assert [hit.id for hit in search_knowledge(fresh_engine, "giraffes")] == ["readme-zebra-crossings"]


def test_a_section_removed_from_the_readme_leaves_the_knowledge_base(fresh_engine: Engine, tmp_path: Path) -> None:
    readme = write_readme(tmp_path, SMALL_README)
    sync_knowledge(fresh_engine, readme)

    readme.write_text(SMALL_README.split("## Zebra crossings")[0], encoding="utf-8")
    result = sync_knowledge(fresh_engine, readme)

    assert result.removed == 1
    assert search_knowledge(fresh_engine, "zebra") == []
    with pytest.raises(ApiError) as missing:
        knowledge_passage(fresh_engine, "readme-zebra-crossings")
    assert missing.value.code == "passage_not_found"

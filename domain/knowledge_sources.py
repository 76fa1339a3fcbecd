"""Where the knowledge base's passages come from: the README split at its `##`/`###` headings (long sections in
parts of at most MAX_PASSAGE_CHARS), the definition language's reference and the workflow templates."""

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from language.reference import language_reference
from schemas.brain import WorkflowTemplate

MAX_PASSAGE_CHARS = 2_000
MIN_PROSE_CHARS = 40
"""A section with less text than this outside its code blocks is noise (a heading over a code sample)."""
HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_BLOCK = re.compile(r"^\s*(```|~~~).*?^\s*\1\s*$", re.MULTILINE | re.DOTALL)

Source = Literal["readme", "reference", "template"]


@dataclass(frozen=True)
class SourcePassage:
    source: Source
    anchor: str
    title: str
    body: str


def readme_passages(readme: str) -> list[SourcePassage]:
    """The README's sections under `##` and `###` headings (a `###` section is a passage of its own); the text before
    the first heading and sections that are nearly all code are left out."""
    passages: list[SourcePassage] = []
    seen: dict[str, int] = {}
    for title, body in _sections(readme):
        if len(CODE_BLOCK.sub("", body).strip()) < MIN_PROSE_CHARS:
            continue
        anchor = slug(title) or "section"
        seen[anchor] = seen.get(anchor, 0) + 1
        if seen[anchor] > 1:
            anchor = f"{anchor}-{seen[anchor]}"
        parts = split_long(body)
        for number, part in enumerate(parts, start=1):
            suffix = "" if number == 1 else f"-part-{number}"
            shown = title if len(parts) == 1 else f"{title} ({number}/{len(parts)})"
            passages.append(SourcePassage("readme", anchor + suffix, shown, part))
    return passages


def _sections(readme: str) -> list[tuple[str, str]]:
    sections: list[tuple[str, list[str]]] = []
    in_code = False
    for line in readme.splitlines():
        if FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else HEADING.match(line)
        if heading:
            sections.append((heading.group(2).strip("` "), []))
        elif sections:
            sections[-1][1].append(line)
    return [(title, "\n".join(lines).strip()) for title, lines in sections]


def split_long(body: str, limit: int = MAX_PASSAGE_CHARS) -> list[str]:
    """`body` in parts of at most `limit` characters, cut between paragraphs (a paragraph longer than `limit`, such
    as a long code block, is cut between lines, and a line longer than that at `limit`)."""
    parts: list[str] = []
    current = ""
    for block in _blocks(body, limit):
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = block
    if current:
        parts.append(current)
    return parts


def _blocks(body: str, limit: int) -> list[str]:
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", body):
        if len(paragraph) <= limit:
            blocks.append(paragraph)
            continue
        piece = ""
        for line in paragraph.splitlines():
            while len(line) > limit:
                blocks.extend([piece] if piece else [])
                piece = ""
                blocks.append(line[:limit])
                line = line[limit:]
            if piece and len(piece) + 1 + len(line) > limit:
                blocks.append(piece)
                piece = line
            else:
                piece = f"{piece}\n{line}" if piece else line
        if piece:
            blocks.append(piece)
    return [block for block in blocks if block.strip()]


def slug(title: str) -> str:
    """A heading's anchor as GitHub writes it, ASCII only: `The definition language` → `the-definition-language`."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9 _-]", "", ascii_title.lower()).split()
    return "-".join(words)[:100]


def reference_passages() -> list[SourcePassage]:
    return [SourcePassage("reference", entry.anchor, entry.title, entry.body) for entry in language_reference()]


def template_passages() -> list[SourcePassage]:
    """One passage per workflow template: what it is for and its definition."""
    return [_template_passage(template) for template in _templates()]


def _templates() -> list[WorkflowTemplate]:
    # TODO(H2): language/templates.py (workflow_templates) is being written beside this; until it exists the
    # knowledge base has no template passages.
    try:
        from language.templates import workflow_templates  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return []
    templates: list[WorkflowTemplate] = workflow_templates()
    return templates


def _template_passage(template: WorkflowTemplate) -> SourcePassage:
    steps = template.definition.get("steps", [])
    kinds = ", ".join(f"{step.get('id')} ({step.get('type')})" for step in steps if isinstance(step, dict))
    head = (
        f"{template.description}\n\nUse case: {template.use_case}\nKeywords: {', '.join(template.keywords)}\n"
        f"Steps: {kinds}\n\n"
    )
    definition = json.dumps(template.definition, indent=1, ensure_ascii=False)
    body = head + (definition if len(head) + len(definition) <= MAX_PASSAGE_CHARS else "")
    return SourcePassage("template", slug(template.id) or template.id, f"Template: {template.title}", body.strip())

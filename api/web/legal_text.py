"""A legal document's stored text as blocks a template shows escaped: a minimal Markdown (`#` headings, `-`, `*`
and `1.` lists, paragraphs between blank lines, `**` emphasis dropped) and plain text alike. No HTML from the text
reaches the page: every block is a string Jinja escapes."""

import re
from dataclasses import dataclass, field

HEADING = re.compile(r"(#{1,6})\s+(.*)")
BULLET = re.compile(r"[-*+]\s+(.*)")
NUMBERED = re.compile(r"\d{1,3}[.)]\s+(.*)")
EMPHASIS = re.compile(r"\*\*|__")


@dataclass
class Block:
    """`kind` is h2, h3, h4, p, ul or ol; `lines` the heading's or paragraph's text, or the list's items."""

    kind: str
    lines: list[str] = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    current: Block | None = None
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = EMPHASIS.sub("", raw.strip())
        if not line:
            current = None
            continue
        if heading := HEADING.fullmatch(line):
            # the page's title is the h1: a document's `#` is a section
            found.append(Block(f"h{min(len(heading[1]) + 1, 4)}", [heading[2]]))
            current = None
            continue
        item, kind = _list_item(line)
        if item is not None:
            if current is None or current.kind != kind:
                current = Block(kind)
                found.append(current)
            current.lines.append(item)
        elif current is not None and current.kind in ("ul", "ol"):
            current.lines[-1] += " " + line  # a list item's continuation line
        elif current is not None:
            current.lines.append(line)
        else:
            current = Block("p", [line])
            found.append(current)
    return found


def _list_item(line: str) -> tuple[str | None, str]:
    if bullet := BULLET.fullmatch(line):
        return bullet[1], "ul"
    if numbered := NUMBERED.fullmatch(line):
        return numbered[1], "ol"
    return None, "p"

"""A knowledge passage as safe HTML: the text is escaped first, then the little Markdown a passage uses (headings,
fenced code, bullet lists, `code`) becomes tags. Nothing in a passage's text is ever taken as HTML."""

import re

from markupsafe import Markup, escape

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
INLINE_CODE = re.compile(r"`([^`\n]+)`")


def passage_html(text: str) -> Markup:
    """Headings (h3 and below: the page has its own h1), paragraphs, lists and code, all escaped."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        if line.strip().startswith("```"):
            if code is None:
                flush()
                code = []
            else:
                out.append(f'<pre class="passage-code" tabindex="0"><code>{escape(chr(10).join(code))}</code></pre>')
                code = None
            continue
        if code is not None:
            code.append(line)
        elif heading := HEADING.match(line):
            flush()
            level = min(6, len(heading.group(1)) + 2)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet := BULLET.match(line):
            if paragraph:
                flush()
            items.append(bullet.group(1))
        elif not line.strip():
            flush()
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    if code is not None:
        out.append(f'<pre class="passage-code" tabindex="0"><code>{escape(chr(10).join(code))}</code></pre>')
    flush()
    return Markup("\n".join(out))


def _inline(text: str) -> str:
    return INLINE_CODE.sub(lambda found: f"<code>{found.group(1)}</code>", str(escape(text)))


EXCERPT_CHARS = 240


def excerpt(body: str) -> str:
    """The body's start, cut at a word, for a list of results."""
    flat = " ".join(body.split())
    if len(flat) <= EXCERPT_CHARS:
        return flat
    return flat[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"


MARKUP = re.compile(r"^\s*(?:#{1,6}|[-*])\s+|`+|^```.*$", re.MULTILINE)


def plain_excerpt(text: str) -> str:
    """A passage's start as plain words: its Markdown's heading and bullet marks and backticks left out."""
    return excerpt(MARKUP.sub("", text))

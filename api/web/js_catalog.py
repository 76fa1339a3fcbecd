"""What the page's scripts say, in the page's language: the `t("...")` strings of api/web/static/js/*.js with
their translations, embedded in every page as a JSON block (`#levqor-i18n`) that static/js/i18n.js reads."""

import re
from functools import cache
from pathlib import Path

from core.i18n import DEFAULT, translations

SCRIPTS = Path(__file__).parent / "static" / "js"
# `t("...")` with a plain double-quoted string, as scripts/i18n.py extracts them.
MARKED = re.compile(r'(?<![\w.$])t\(\s*"((?:[^"\\\n]|\\.)*)"')


@cache
def script_msgids() -> tuple[str, ...]:
    found: dict[str, None] = {}
    for path in sorted(SCRIPTS.glob("*.js")):
        for literal in MARKED.findall(path.read_text(encoding="utf-8")):
            found[literal.encode("latin-1", "backslashreplace").decode("unicode_escape")] = None
    return tuple(found)


@cache
def script_messages(tag: str) -> dict[str, str]:
    """msgid → translation for every script string `tag` translates (English needs none)."""
    if tag == DEFAULT:
        return {}
    catalog = translations(tag)
    return {msgid: text for msgid in script_msgids() if (text := catalog.gettext(msgid)) != msgid}

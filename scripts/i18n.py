"""The gettext catalogs' tool: what the code marks for translation, and what the catalogs still lack.

    python scripts/i18n.py extract [--out FILE]          every marked string (a .pot), to stdout or FILE
    python scripts/i18n.py missing [--area A] [--paths P ...]
                                                          strings in P (default: the whole product) that a
                                                          tier-1 language does not translate
    python scripts/i18n.py add --area A [--paths P ...]   appends those, untranslated, to core/locales/*/A.po
    python scripts/i18n.py check                          exit 1 when any tier-1 language misses a string or
                                                          a placeholder (what tests/test_i18n_catalogs.py runs)

Marked strings: `tr("...")` / `trn("...", "...", n)` in Python, `_("...")` / `gettext` / `ngettext` in templates,
`t("...")` in the web app's own JavaScript."""

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.i18n import DEFAULT, LOCALES_DIR, TIER1, locale_id  # noqa: E402

PACKAGES = ("api", "activities", "core", "domain", "language", "orchestrator", "rules", "schemas", "starters")
TEMPLATES = ROOT / "api" / "web" / "templates"
SCRIPTS = ROOT / "api" / "web" / "static" / "js"
Keywords = Mapping[str, tuple[int, int] | None]
PY_KEYWORDS: Keywords = {"tr": None, "trn": (1, 2)}
TEMPLATE_KEYWORDS: Keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
JS_KEYWORDS: Keywords = {"t": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]")
LOCALES = tuple(locale_id(tag) for tag in TIER1 if tag != DEFAULT)

MessageId = str | tuple[str, str]


@dataclass(frozen=True)
class Found:
    id: MessageId
    where: str


def _sources(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.suffix in (".py", ".html", ".js") and "__pycache__" not in child.parts:
                    if "vendor" not in child.relative_to(ROOT).parts:
                        yield child
        elif path.suffix in (".py", ".html", ".js"):
            yield path


def _method(path: Path) -> tuple[str, Keywords] | None:
    if path.suffix == ".py":
        return "python", PY_KEYWORDS
    if path.suffix == ".html" and TEMPLATES in path.parents:
        return "jinja2.ext:babel_extract", TEMPLATE_KEYWORDS
    if path.suffix == ".js" and path.parent == SCRIPTS:
        return "javascript", JS_KEYWORDS
    return None


def extracted(paths: Iterable[Path] | None = None) -> list[Found]:
    """Every marked string under `paths` (default: the product's packages, templates and scripts)."""
    roots = list(paths) if paths else [ROOT / package for package in PACKAGES]
    found: list[Found] = []
    for path in _sources(roots):
        method = _method(path)
        if method is None:
            continue
        with path.open("rb") as handle:
            for lineno, message, _comments, _context in extract(method[0], handle, method[1]):
                if isinstance(message, tuple):
                    parts = tuple(part for part in message if part)
                    if len(parts) == 2:
                        found.append(Found((parts[0], parts[1]), f"{path.relative_to(ROOT)}:{lineno}"))
                    elif len(parts) == 1:
                        found.append(Found(parts[0], f"{path.relative_to(ROOT)}:{lineno}"))
                elif message:
                    found.append(Found(message, f"{path.relative_to(ROOT)}:{lineno}"))
    return found


def catalogs(locale: str) -> dict[str, Message]:
    """Every message of `locale`'s .po files by singular msgid (a later file's translation does not replace one)."""
    merged: dict[str, Message] = {}
    folder = LOCALES_DIR / locale
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                key = _key(message.id)
                if key and (key not in merged or not _translated(merged[key])):
                    merged[key] = message
    return merged


def _key(message_id: object) -> str:
    return str(message_id[0] if isinstance(message_id, (tuple, list)) else message_id or "")


def _strings(message: Message) -> tuple[str, ...]:
    value = message.string
    return tuple(str(part or "") for part in value) if isinstance(value, (tuple, list)) else (str(value or ""),)


def _translated(message: Message) -> bool:
    strings = _strings(message)
    return not message.fuzzy and bool(strings) and all(strings)


def problems(found: Found, message: Message | None) -> list[str]:
    """What is wrong with `message` as the translation of `found`: missing, fuzzy, empty or placeholders."""
    if message is None:
        return ["missing"]
    if message.fuzzy:
        return ["fuzzy"]
    if not _translated(message):
        return ["untranslated"]
    wrong: list[str] = []
    sources = found.id if isinstance(found.id, tuple) else (found.id,)
    wanted = set().union(*(PLACEHOLDER.findall(source) for source in sources))
    named = set(PLACEHOLDER.findall(sources[0])) - {"num"}
    for string in _strings(message):
        have = set(PLACEHOLDER.findall(string))
        if isinstance(found.id, tuple):
            if not have <= wanted or not named <= have:
                wrong.append(f"placeholders {sorted(have)} != {sorted(wanted)}")
        elif have != wanted:
            wrong.append(f"placeholders {sorted(have)} != {sorted(wanted)}")
        try:
            string % {name: 1 for name in wanted | {"num"}}
        except (ValueError, TypeError, KeyError) as err:
            wrong.append(f"does not format ({err}); write a literal % as %%")
    return wrong


def report(found: list[Found]) -> dict[str, list[tuple[Found, list[str]]]]:
    """Per tier-1 locale: each extracted string its catalogs get wrong, and what is wrong."""
    unique = {item.id: item for item in found}
    out: dict[str, list[tuple[Found, list[str]]]] = {}
    for locale in LOCALES:
        merged = catalogs(locale)
        out[locale] = []
        for item in unique.values():
            wrong = problems(item, merged.get(_key(item.id)))
            if wrong:
                out[locale].append((item, wrong))
    return out


def _pot(found: list[Found]) -> Catalog:
    pot = Catalog(project="Levqor", charset="utf-8")
    for item in found:
        path, _, line = item.where.rpartition(":")
        pot.add(item.id, locations=[(path, int(line))])
    return pot


def _add(area: str, found: list[Found]) -> int:
    added = 0
    for locale, wrong in report(found).items():
        path = LOCALES_DIR / locale / f"{area}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="Levqor", charset="utf-8")
        for item, _problems in wrong:
            if _key(item.id) not in catalog:
                catalog.add(item.id, string=("", "") if isinstance(item.id, tuple) else "")
                added += 1
        buffer = BytesIO()
        write_po(buffer, catalog, width=0, omit_header=False, sort_output=False)
        path.write_bytes(buffer.getvalue())
    return added


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("extract", "missing", "add", "check"))
    parser.add_argument("--area")
    parser.add_argument("--paths", nargs="*", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    paths = [path.resolve() for path in args.paths] if args.paths else None
    found = extracted(paths)
    if args.command == "extract":
        buffer = BytesIO()
        write_po(buffer, _pot(found), width=0)
        (args.out.write_bytes(buffer.getvalue()) if args.out else sys.stdout.write(buffer.getvalue().decode()))
        return 0
    if args.command == "add":
        if not args.area or not re.fullmatch(r"[a-z_]+", args.area):
            parser.error("add needs --area (lower-case letters and _)")
        print(f"added {_add(args.area, found)} entries to core/locales/*/{args.area}.po")
        return 0
    bad = 0
    for locale, wrong in report(found).items():
        for item, what in wrong:
            bad += 1
            print(f"{locale}\t{item.where}\t{'; '.join(what)}\t{item.id!r}")
    total = len({item.id for item in found})
    print(f"{total} strings, {len(LOCALES)} languages, {bad} problems", file=sys.stderr)
    return 1 if bad and args.command == "check" else 0


if __name__ == "__main__":
    sys.exit(main())

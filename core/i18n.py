"""Languages: which ones Levqor speaks, reading the gettext catalogs in core/locales/, and rendering a `Text`
(schemas/i18n.py) or a date, number or amount for one reader.

Catalogs are `core/locales/<locale>/<area>.po`; every file of a locale is one catalog (an area is a part of
the product: web, errors, emails, panel...). A string missing from a language, or marked fuzzy, reads in
English. Tier-1 languages are fully translated (tests/test_i18n_catalogs.py checks it); the others are listed
in the switcher and read in English string by string until they are."""

import gettext
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from schemas.i18n import Text

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT = "en"
# URL tag (BCP 47, as in /pt-BR/app) → the catalog's locale id.
TIER1: dict[str, str] = {
    "en": "en",
    "es": "es",
    "pt-BR": "pt_BR",
    "fr": "fr",
    "de": "de",
    "it": "it",
    "ja": "ja",
    "zh-CN": "zh_Hans_CN",
    "hi": "hi",
}
# The rest of the 40: offered in the switcher, English string by string until translated.
OTHERS: tuple[str, ...] = (
    "ar", "bg", "bn", "ca", "cs", "da", "el", "fa", "fi", "fil", "he", "hu", "id", "ko", "mr", "ms",
    "nb", "nl", "pl", "ro", "ru", "sk", "sv", "sw", "ta", "te", "th", "tr", "uk", "ur", "vi",
)  # fmt: skip
TAGS: tuple[str, ...] = (*TIER1, *OTHERS)


def locale_id(tag: str) -> str:
    """The catalog and Babel locale id of a URL tag: `pt-BR` → `pt_BR`."""
    return TIER1.get(tag, tag.replace("-", "_"))


def native_name(tag: str) -> str:
    """The language's name in itself, as the switcher lists it: `ja` → 日本語."""
    name = Locale.parse(locale_id(tag)).get_display_name(locale_id(tag)) or tag
    return name[:1].upper() + name[1:]


def canonical_tag(value: str | None) -> str | None:
    """The supported tag `value` names (case and `_`/`-` forgiven), or None."""
    if not value:
        return None
    wanted = value.strip().replace("_", "-").lower()
    for tag in TAGS:
        if tag.lower() == wanted:
            return tag
    return None


def negotiate(accept_language: str | None) -> str:
    """The best supported tag for an Accept-Language header (q-values honoured, `pt` → `pt-BR`, `zh` →
    `zh-CN`); English when none fits."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "")[:1000].split(",")[:30]):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if lang and weight > 0:
            ranked.append((-weight, index, lang.strip()))
    for _weight, _index, lang in sorted(ranked):
        tag = canonical_tag(lang) or _by_language(lang.split("-")[0])
        if tag:
            return tag
    return DEFAULT


def _by_language(language: str) -> str | None:
    return next((tag for tag in TAGS if tag.split("-")[0].lower() == language.lower()), None)


@cache
def translations(tag: str) -> gettext.NullTranslations:
    """The merged catalog of `tag` (every .po of its locale); English (the msgids) when it has none."""
    folder = LOCALES_DIR / locale_id(tag)
    files = sorted(folder.glob("*.po")) if folder.is_dir() else []
    if not files:
        return gettext.NullTranslations()
    merged = Catalog(locale=locale_id(tag))
    for path in files:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale_id(tag)):
                if message.id and message.string and not message.fuzzy:
                    merged.add(message.id, message.string)
    buffer = BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def render(text: Text | str, tag: str) -> str:
    """`text` in the language `tag`; a plain string is shown as it is."""
    if isinstance(text, str):
        return text
    text = text.with_texts_rendered(lambda part: render(part, tag))
    catalog = translations(tag)
    if text.plural is not None and text.n is not None:
        return text.formatted(catalog.ngettext(text.msgid, text.plural, text.n))
    return text.formatted(catalog.gettext(text.msgid))


def _babel_locale(tag: str) -> Locale:
    try:
        return Locale.parse(locale_id(tag))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


def when(value: datetime | date, tag: str, style: str = "medium") -> str:
    """A date or timestamp as readers of `tag` write it."""
    if isinstance(value, datetime):
        return format_datetime(value, style, locale=_babel_locale(tag))
    return format_date(value, style, locale=_babel_locale(tag))


def number(value: int | float | Decimal, tag: str) -> str:
    return format_decimal(value, locale=_babel_locale(tag))


def percent(value: float, tag: str) -> str:
    return format_percent(value, locale=_babel_locale(tag))


def money(amount: float | Decimal, currency: str, tag: str) -> str:
    """`amount` (in major units) of `currency` (ISO 4217) as readers of `tag` write it."""
    return format_currency(amount, currency.upper(), locale=_babel_locale(tag))

"""The catalog check: every string the product marks for translation is translated in each tier-1 language, with
the same placeholders (extract + compare, as `python scripts/i18n.py check` does)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from babel.messages.catalog import Message

from core.i18n import OTHERS, TIER1, native_name, negotiate, render
from schemas.i18n import tr, trn

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "i18n.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("levqor_i18n_tool", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


I18N = _tool()


def test_every_marked_string_is_translated_in_every_tier1_language() -> None:
    found = I18N.extracted()

    wrong = [
        f"{locale} {item.where} {'; '.join(what)}: {item.id!r}"
        for locale, items in I18N.report(found).items()
        for item, what in items
    ]

    assert len({item.id for item in found}) > 0
    assert wrong[:40] == [], f"{len(wrong)} catalog problems; `python scripts/i18n.py missing` lists them all"


def test_the_check_finds_a_missing_string_a_lost_placeholder_and_a_stray_percent() -> None:
    found = I18N.Found("Run %(run)s failed at %(step)s", "x.py:1")

    missing = I18N.problems(found, None)
    lost = I18N.problems(found, Message(found.id, "Lauf %(run)s fehlgeschlagen"))
    stray = I18N.problems(found, Message(found.id, "%(run)s %(step)s à 100 %"))
    fuzzy = I18N.problems(found, Message(found.id, "%(run)s %(step)s", flags=["fuzzy"]))
    good = I18N.problems(found, Message(found.id, "Lauf %(run)s ist bei %(step)s fehlgeschlagen"))

    assert missing == ["missing"]
    assert lost and "placeholders" in lost[0]
    assert stray and "does not format" in stray[-1]
    assert fuzzy == ["fuzzy"]
    assert good == []


def test_a_plural_may_drop_the_count_but_not_a_named_placeholder() -> None:
    found = I18N.Found(("%(num)s run of %(name)s", "%(num)s runs of %(name)s"), "x.py:2")

    japanese = I18N.problems(found, Message(found.id, ("%(name)s の %(num)s 件の実行",)))
    lost_name = I18N.problems(found, Message(found.id, ("%(num)s Lauf", "%(num)s Läufe")))

    assert japanese == []
    assert lost_name and "placeholders" in lost_name[0]


def test_a_text_reads_in_the_language_and_falls_back_to_english_string_by_string() -> None:
    label = tr("Live logs")
    unknown = tr("A sentence no catalog has, %(n)s", n=3)

    assert render(label, "ja") == "ライブログ"
    assert render(label, "ko") == "Live logs"
    assert render(unknown, "de") == "A sentence no catalog has, 3"
    assert str(trn("%(num)s run", "%(num)s runs", 1)) == "1 run"
    assert str(trn("%(num)s run", "%(num)s runs", 2)) == "2 runs"


def test_forty_languages_are_offered_by_their_own_names_and_negotiated() -> None:
    names = [native_name(tag) for tag in (*TIER1, *OTHERS)]

    assert len(names) == 40 and len(set(names)) == 40
    assert native_name("ja") == "日本語" and native_name("hi") == "हिन्दी"
    assert negotiate("ja-JP,ja;q=0.9,en;q=0.8") == "ja"
    assert negotiate("pt;q=0.9, fr;q=0.8") == "pt-BR"
    assert negotiate("zh-Hans-CN") == "zh-CN"
    assert negotiate("de;q=0, it") == "it"
    assert negotiate("tlh, ;q=bad") == "en"

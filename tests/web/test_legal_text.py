"""The legal pages' pure parts: a document's text as escaped blocks, the consent cookie's value and the hook that
says whether a category may set cookies."""

import re
from pathlib import Path

from api.deps import SESSION_COOKIE
from api.web.legal_text import Block, blocks
from api.web.locale import LANGUAGE_COOKIE
from api.web.pages import ANONYMOUS_CSRF_COOKIE, NEXT_COOKIE
from domain.cookie_consent import allows, cookie_value, read_cookie
from schemas.legal import CONSENT_COOKIE, ESSENTIAL_COOKIES, ConsentCategoryView, ConsentChoice, ConsentOffer

API = Path(__file__).resolve().parents[2] / "api"


def offer(version: str = "3") -> ConsentOffer:
    categories = [
        ConsentCategoryView(id="necessary", label="Essential", description="x", required=True),
        ConsentCategoryView(id="analytics", label="Analytics", description="y", required=False),
    ]
    return ConsentOffer(version=version, categories=categories, reconsent_days=365)


def test_markdown_and_plain_text_become_blocks_of_plain_strings() -> None:
    text = (
        "# Terms\r\nFirst line\nsame paragraph with **bold**.\n\n1. one\n2. two\n  more of two\n\n## <b>Part</b>\nPlain"
    )

    found = blocks(text)

    assert found == [
        Block("h2", ["Terms"]),
        Block("p", ["First line", "same paragraph with bold."]),
        Block("ol", ["one", "two more of two"]),
        Block("h3", ["<b>Part</b>"]),  # a string the template escapes, never markup
        Block("p", ["Plain"]),
    ]


def test_the_consent_cookie_holds_a_choice_and_nothing_else() -> None:
    choice = ConsentChoice(visitor_id="A" * 24, version="2026.1-b", categories=["analytics", "marketing"])

    value = cookie_value(choice)

    assert read_cookie(value) == choice
    assert read_cookie(f"{'B' * 24}:3:") == ConsentChoice(visitor_id="B" * 24, version="3", categories=[])
    assert [read_cookie(v) for v in (None, "", "short:3:", f"{'A' * 24}:3:Analytics", f"{'A' * 24}:3:a;b")] == [
        None
    ] * 5


def test_a_category_is_allowed_only_when_chosen_under_the_version_in_effect() -> None:
    chosen = ConsentChoice(visitor_id="A" * 24, version="3", categories=["analytics"])
    rejected = chosen.model_copy(update={"categories": []})

    assert allows(chosen, offer(), "analytics") and allows(None, offer(), "necessary")
    assert not allows(rejected, offer(), "analytics") and not allows(None, offer(), "analytics")
    assert not allows(chosen, offer(version="4"), "analytics")  # a new configuration asks again
    assert not allows(chosen, None, "analytics") and not allows(chosen, offer(), "marketing")


def test_every_cookie_the_code_sets_is_in_the_essential_list() -> None:
    constants = {
        "SESSION_COOKIE": SESSION_COOKIE, "ANONYMOUS_CSRF_COOKIE": ANONYMOUS_CSRF_COOKIE, "NEXT_COOKIE": NEXT_COOKIE,
        "LANGUAGE_COOKIE": LANGUAGE_COOKIE, "CONSENT_COOKIE": CONSENT_COOKIE,
    }  # fmt: skip
    python = "\n".join(path.read_text() for path in API.rglob("*.py"))
    scripts = "\n".join(path.read_text() for path in (API / "web" / "static" / "js").glob("*.js"))

    set_by_python = set(re.findall(r"set_cookie\(\s*(\w+)", python))

    assert set(constants.values()) == {cookie.name for cookie in ESSENTIAL_COOKIES}
    assert set_by_python and set_by_python <= set(constants)
    assert not re.search(r"document\.cookie\s*=", scripts)  # scripts read cookies, never write one

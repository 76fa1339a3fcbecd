"""A text a person reads, kept untranslated until it is shown: the English message id and its parameters.

Every layer marks user-facing text with `tr(...)` (or `trn(...)` for plurals); the catalogs in core/locales/
translate it where the reader's language is known (core/i18n.py). Placeholders are `%(name)s`; a literal
percent sign is written `%%`. `str()` of a text is its English rendering."""

from typing import Any

from pydantic import BaseModel, Field

Param = str | int | float


class Text(BaseModel):
    msgid: str
    plural: str | None = None
    n: int | None = None
    params: dict[str, Param] = Field(default_factory=dict)

    def english(self) -> str:
        source = self.plural if self.plural is not None and self.n != 1 else self.msgid
        return source % self._values()

    def _values(self) -> dict[str, Any]:
        return {**self.params, "num": self.n} if self.n is not None else dict(self.params)

    def formatted(self, template: str) -> str:
        """`template` (this text's translation) with the parameters filled in; English when it does not fit."""
        try:
            return template % self._values()
        except (KeyError, ValueError, TypeError):
            return self.english()

    def __str__(self) -> str:
        return self.english()


def tr(msgid: str, **params: Param) -> Text:
    """Marks `msgid` for translation (extracted by scripts/i18n.py); `params` fill its `%(name)s` placeholders."""
    return Text(msgid=msgid, params=params)


def trn(singular: str, plural: str, n: int, **params: Param) -> Text:
    """A text with a plural form chosen by `n`, available to both forms as `%(num)s`."""
    return Text(msgid=singular, plural=plural, n=n, params=params)

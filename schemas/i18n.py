"""A text a person reads, kept untranslated until it is shown: the English message id and its parameters.

Every layer marks user-facing text with `tr(...)` (or `trn(...)` for plurals); the catalogs in core/locales/
translate it where the reader's language is known (core/i18n.py). Placeholders are `%(name)s`; a literal
percent sign is written `%%`. `str()` of a text is its English rendering."""

from collections.abc import Callable
from typing import Any, Union

from pydantic import BaseModel, Field

# A parameter may itself be a text (a field's name, an act), rendered in the same language as the sentence.
Param = Union[str, int, float, "Text"]


class Text(BaseModel):
    msgid: str
    plural: str | None = None
    n: int | None = None
    params: dict[str, Param] = Field(default_factory=dict)

    def english(self) -> str:
        source = self.plural if self.plural is not None and self.n != 1 else self.msgid
        return source % self._values()

    def _values(self) -> dict[str, Any]:
        values = {key: str(value) if isinstance(value, Text) else value for key, value in self.params.items()}
        return {**values, "num": self.n} if self.n is not None else values

    def with_texts_rendered(self, render: Callable[["Text"], str]) -> "Text":
        """This text with its text parameters rendered by `render` (core/i18n.py does it for a language)."""
        if not any(isinstance(value, Text) for value in self.params.values()):
            return self
        params = {key: render(value) if isinstance(value, Text) else value for key, value in self.params.items()}
        return self.model_copy(update={"params": params})

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
